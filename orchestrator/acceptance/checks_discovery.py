"""`connection` and `discovery` groups."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import jsonschema

from ducto.orchestrator.acceptance.config import TestEntry
from ducto.orchestrator.acceptance.framework import Context, TestCase, fail, summarize
from ducto.orchestrator.acceptance.inputs import (
    connector_config,
    describe_failure,
    discover_run,
    discovered_streams,
    schema_has_path,
)

# --- connection -----------------------------------------------------------------------------


def test_check(ctx: Context, entry: TestEntry) -> None:
    """`check` answers as the entry's `status` says: succeed, failed (exit 0) or exception (TRACE ERROR)."""
    result = ctx.run("check", {"config": connector_config(ctx, entry.config_path)})
    statuses = result.payloads("CONNECTION_STATUS", "connectionStatus")
    errors = result.traces("ERROR")
    if entry.status == "exception":
        if statuses and statuses[0].get("status") == "SUCCEEDED":
            fail("`check` SUCCEEDED but this config should raise an exception")
        if not errors:
            fail(f"`check` should emit a TRACE ERROR for this config, it emitted none\n{describe_failure(result)}")
        if result.exit_code == 0:
            fail("`check` emitted a TRACE ERROR but exited 0; an unexpected error must exit non-zero")
        return
    if len(statuses) != 1:
        fail(f"`check` must emit exactly one CONNECTION_STATUS, got {len(statuses)}\n{describe_failure(result)}")
    status, message = statuses[0].get("status"), statuses[0].get("message")
    expected = "SUCCEEDED" if entry.status == "succeed" else "FAILED"
    if status != expected:
        fail(f"`check` answered {status} ({message or 'no message'}), expected {expected}")
    if result.exit_code != 0:
        fail(f"`check` answered {status} but exited {result.exit_code}; a CONNECTION_STATUS answer exits 0")
    if expected == "FAILED" and not message:
        fail("`check` FAILED without a message telling the user what is wrong")


def connection_cases(ctx: Context, entry: TestEntry, label: str | None) -> list[TestCase]:
    """The connection test of one entry."""
    return [
        TestCase(
            "connection",
            f"test_check_{entry.status}",
            lambda c: test_check(c, entry),
            entry.timeout,
            entry,
            None,
            label,
        )
    ]


# --- discovery ------------------------------------------------------------------------------


def _streams(ctx: Context, entry: TestEntry) -> list[dict[str, Any]]:
    return [s for s in discovered_streams(ctx, entry.config_path) if ctx.wants_stream(str(s.get("name")))]


def test_discover(ctx: Context, entry: TestEntry) -> None:
    """`discover` exits 0 and emits one CATALOG with at least one stream."""
    result = discover_run(ctx, entry.config_path)
    streams = discovered_streams(ctx, entry.config_path)
    if result.exit_code != 0:
        fail(f"`discover` emitted a CATALOG but {describe_failure(result)}")
    if not streams:
        fail("the CATALOG has no streams")
    bad = [f"stream {i}: {', '.join(k)} missing" for i, s in enumerate(streams) if (k := _missing_keys(s))]
    if bad:
        fail("streams lack required fields:" + summarize(bad))


def _missing_keys(stream: dict[str, Any]) -> list[str]:
    return [k for k in ("name", "json_schema", "supported_sync_modes") if not stream.get(k)]


def test_unique_stream_names(ctx: Context, entry: TestEntry) -> None:
    """No two streams share a name (within a namespace)."""
    counts = Counter((s.get("namespace"), s.get("name")) for s in discovered_streams(ctx, entry.config_path))
    dupes = [f"{ns + '.' if ns else ''}{name} ({n} times)" for (ns, name), n in counts.items() if n > 1]
    if dupes:
        fail("duplicate stream names in the catalog:" + summarize(dupes))


def test_stream_schemas_are_valid(ctx: Context, entry: TestEntry) -> None:
    """Each stream's json_schema is a valid JSON Schema of an object, with no unresolved $ref."""
    problems = []
    for s in _streams(ctx, entry):
        name, schema = s.get("name"), s.get("json_schema")
        if not isinstance(schema, dict):
            problems.append(f"{name}: json_schema is not an object")
            continue
        try:
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            problems.append(f"{name}: invalid JSON Schema at {where}: {exc.message}")
            continue
        kind = schema.get("type")
        if kind != "object" and not (isinstance(kind, list) and "object" in kind):
            problems.append(f"{name}: the top level must be `type: object`, got {kind!r}")
        refs = list(_find_key(schema, "$ref"))
        if refs:
            problems.append(f"{name}: unresolved $ref {refs[0]!r} (inline definitions in discovered schemas)")
        modes = s.get("supported_sync_modes") or []
        if not modes or any(m not in ("full_refresh", "incremental") for m in modes):
            problems.append(f"{name}: supported_sync_modes must list full_refresh/incremental, got {modes!r}")
    if problems:
        fail("invalid stream schemas:" + summarize(problems))


def _find_key(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            else:
                yield from _find_key(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _find_key(item, key)


def test_cursors_exist_in_schema(ctx: Context, entry: TestEntry) -> None:
    """Each `default_cursor_field` is a property of its stream's schema."""
    problems = []
    for s in _streams(ctx, entry):
        cursor = s.get("default_cursor_field")
        if cursor and not schema_has_path(s.get("json_schema"), [str(p) for p in cursor]):
            problems.append(f"{s.get('name')}: default_cursor_field {cursor} is not in its json_schema properties")
        if s.get("source_defined_cursor") and not cursor and "incremental" in (s.get("supported_sync_modes") or []):
            problems.append(f"{s.get('name')}: source_defined_cursor is true but there is no default_cursor_field")
    if problems:
        fail("cursor fields missing from schemas:" + summarize(problems))


def test_primary_keys_exist_in_schema(ctx: Context, entry: TestEntry) -> None:
    """Each part of `source_defined_primary_key` is a property of the schema, and not an object/array."""
    problems = []
    for s in _streams(ctx, entry):
        for part in s.get("source_defined_primary_key") or []:
            path = [str(p) for p in part] if isinstance(part, list) else [str(part)]
            if not schema_has_path(s.get("json_schema"), path):
                problems.append(f"{s.get('name')}: primary key {path} is not in its json_schema properties")
                continue
            node: Any = s.get("json_schema")
            for p in path:
                node = node["properties"][p]
            kind = node.get("type") if isinstance(node, dict) else None
            kinds = set(kind) if isinstance(kind, list) else {kind}
            if entry.validate_primary_keys_data_type and kinds & {"object", "array"}:
                problems.append(f"{s.get('name')}: primary key {path} has type {kind!r} (object/array keys)")
    if problems:
        fail("primary keys missing from schemas:" + summarize(problems))


def discovery_cases(ctx: Context, entry: TestEntry, label: str | None) -> list[TestCase]:
    """The discovery tests of one entry."""
    t = entry.timeout
    checks = [
        ("test_discover", test_discover),
        ("test_unique_stream_names", test_unique_stream_names),
        ("test_stream_schemas_are_valid", test_stream_schemas_are_valid),
        ("test_cursors_exist_in_schema", test_cursors_exist_in_schema),
        ("test_primary_keys_exist_in_schema", test_primary_keys_exist_in_schema),
    ]
    return [TestCase("discovery", name, partial(func, entry=entry), t, entry, None, label) for name, func in checks]
