"""Building the list of test cases from a config, filtering them, and running them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ducto.orchestrator.acceptance import (
    checks_destination,
    checks_discovery,
    checks_read,
    checks_spec,
    checks_sync,
)
from ducto.orchestrator.acceptance.config import GROUPS, ConfigFileError, Group, TestEntry
from ducto.orchestrator.acceptance.framework import (
    CheckFailed,
    CheckSkipped,
    Context,
    Outcome,
    TestCase,
    fail,
    run_case,
    skip,
)
from ducto.orchestrator.acceptance.inputs import actual_spec, configured_catalog, stream_name
from ducto.orchestrator.acceptance.keyword import matches
from ducto.protocol import json


def _label(entries: list[TestEntry], entry: TestEntry) -> str | None:
    return str(entry.index) if len(entries) > 1 else None


def _streams_or_case(
    ctx: Context, entry: TestEntry, label: str | None, incremental: bool
) -> tuple[list[str], list[TestCase]]:
    """The streams an entry reads, or a single case reporting why they could not be listed."""
    ctx.deadline = time.monotonic() + (ctx.timeout_override or entry.timeout)
    try:
        catalog = configured_catalog(ctx, entry, incremental=incremental)
        return [stream_name(cs) for cs in catalog["streams"]], []
    except (CheckFailed, CheckSkipped, ConfigFileError) as exc:
        error = exc
    finally:
        ctx.deadline = None

    def report(_: Context) -> None:
        if isinstance(error, CheckSkipped):
            skip(str(error))
        if isinstance(error, ConfigFileError):
            raise error
        fail(f"cannot list the streams to test: {error}")

    return [], [TestCase(entry.group, "test_catalog", report, entry.timeout, entry, None, label)]


def _bypassed(group: str, reason: str) -> TestCase:
    def bypass(_: Context) -> None:
        skip(f"bypassed: {reason}")

    return TestCase(group, "bypassed", bypass, 1.0)


EMPTY_CONFIG_GROUPS = ("connection", "discovery", "basic_read")


def use_empty_config_when_valid(ctx: Context) -> None:
    """Without an acceptance config: when the spec's defaults alone make a valid config (no required
    field without a default), also run connection, discovery and basic_read with that config, as a user
    accepting every default would (everything that can run without a user's config)."""
    cfg = ctx.config
    if cfg.path is not None:
        return
    try:
        spec = actual_spec(ctx)
    except (CheckFailed, CheckSkipped):
        return  # the spec tests will say why
    schema = spec.get("connectionSpecification")
    if not isinstance(schema, dict):
        return
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        cls.check_schema(schema)
        props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        defaults = {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
        errors = [e.message for e in cls(schema).iter_errors(defaults)]
    except jsonschema.SchemaError:
        return
    if errors:
        reason = (
            f"no acceptance config given and the spec's defaults are not a valid config ({errors[0]}); "
            "pass --config FILE"
        )
        for name in EMPTY_CONFIG_GROUPS:
            cfg.groups[name] = Group(name, bypass_reason=reason)
        return
    folder = ctx.new_local_dir()
    empty = folder / "defaults_config.json"
    empty.write_text(json.dumps(defaults).decode())
    for name in EMPTY_CONFIG_GROUPS:
        cfg.groups[name] = Group(name, [TestEntry(name, 0, config_path=empty)])


def build_cases(ctx: Context) -> list[TestCase]:
    """Every test case the config asks for, in group order (discovery may run to list streams)."""
    use_empty_config_when_valid(ctx)
    cfg = ctx.config
    out: list[TestCase] = []
    for group_name in (*GROUPS, "destination"):
        group = cfg.groups.get(group_name)
        if group is None:
            if cfg.high and group_name in GROUPS:
                out.append(_missing_group(group_name))
            continue
        if group.bypass_reason:
            out.append(_bypassed(group_name, group.bypass_reason))
            continue
        for entry in group.tests:
            label = _label(group.tests, entry)
            if group_name == "spec":
                out += checks_spec.cases(ctx, entry, label)
            elif group_name == "connection":
                out += checks_discovery.connection_cases(ctx, entry, label)
            elif group_name == "discovery":
                out += checks_discovery.discovery_cases(ctx, entry, label)
            elif group_name in ("basic_read", "full_refresh", "incremental"):
                streams, problem = _streams_or_case(ctx, entry, label, group_name == "incremental")
                out += problem
                if group_name == "basic_read":
                    out += checks_read.cases(ctx, entry, label, streams)
                elif group_name == "full_refresh":
                    out += checks_sync.full_refresh_cases(ctx, entry, label, streams)
                else:
                    out += checks_sync.incremental_cases(ctx, entry, label, streams)
                    if not streams and not problem:
                        out.append(_no_incremental(entry, label))
            elif group_name == "destination":
                out += checks_destination.cases(ctx, entry, label)
    return out


def _missing_group(group: str) -> TestCase:
    def missing(_: Context) -> None:
        fail(f"test_strictness_level: high needs acceptance_tests.{group} (tests or a bypass_reason)")

    return TestCase(group, "configured", missing, 1.0)


def _no_incremental(entry: TestEntry, label: str | None) -> TestCase:
    def none(_: Context) -> None:
        skip("no stream is read incrementally (no stream supports incremental, or the catalog selects none)")

    return TestCase("incremental", "test_incremental_streams", none, 1.0, entry, None, label)


@dataclass
class SuiteResult:
    """Outcomes in order, plus the config warnings."""

    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored (skips are fine)."""
        return all(o.status in ("passed", "skipped") for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        """How many passed, failed, skipped, errored."""
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for o in self.outcomes:
            out[o.status] += 1
        return out


def select(cases: Iterable[TestCase], keyword: str | None) -> list[TestCase]:
    """Cases whose id matches a `-k` expression."""
    return [c for c in cases if keyword is None or matches(keyword, c.id)]


def run_suite(
    ctx: Context,
    keyword: str | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> SuiteResult:
    """Build, filter and run every case; `on_outcome` sees each result as it comes."""
    started = time.monotonic()
    result = SuiteResult(warnings=list(ctx.config.warnings))
    try:
        for case in select(build_cases(ctx), keyword):
            outcome = run_case(ctx, case)
            result.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    finally:
        ctx.close()
    result.duration = time.monotonic() - started
    return result
