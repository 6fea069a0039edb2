"""`basic_read` group: one read of the configured catalog, checked stream by stream."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

import jsonschema

from ducto.orchestrator.acceptance.compare import canonical, drop_fields, project
from ducto.orchestrator.acceptance.config import TestEntry, load_jsonl_file
from ducto.orchestrator.acceptance.framework import Context, TestCase, fail, short, skip, summarize
from ducto.orchestrator.acceptance.inputs import (
    configured_catalog,
    connector_config,
    describe_failure,
    get_path,
    primary_key_of,
    record_key,
    state_stream_name,
    stream_name,
)
from ducto.orchestrator.acceptance.runner import RunResult

UNKNOWN_STREAM = "__ducto_acceptance_stream_that_does_not_exist"


def read_run(ctx: Context, entry: TestEntry) -> RunResult:
    """The entry's read of its configured catalog (run once)."""
    catalog = configured_catalog(ctx, entry)
    if not catalog["streams"]:
        skip("the configured catalog selects no stream")
    return ctx.run("read", {"config": connector_config(ctx, entry.config_path), "catalog": catalog}, tag="basic")


def records_by_stream(result: RunResult) -> dict[str, list[dict[str, Any]]]:
    """RECORD payloads grouped by stream name."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in result.records():
        out[str(r.get("stream"))].append(r)
    return out


def _configured(ctx: Context, entry: TestEntry, stream: str) -> dict[str, Any]:
    found: dict[str, Any] | None = next(
        (cs for cs in configured_catalog(ctx, entry)["streams"] if stream_name(cs) == stream), None
    )
    if found is None:
        fail(f"stream {stream} is not in the configured catalog")
    return found


def test_read(ctx: Context, entry: TestEntry) -> None:
    """The read exits 0 without TRACE ERROR and emits well-formed records of configured streams."""
    result = read_run(ctx, entry)
    if result.exit_code != 0 or result.traces("ERROR"):
        fail(f"the read failed\n{describe_failure(result)}")
    problems = []
    configured = {stream_name(cs) for cs in configured_catalog(ctx, entry)["streams"]}
    for i, r in enumerate(result.records()):
        if not isinstance(r.get("data"), dict):
            problems.append(f"record {i}: `data` is not an object")
        if not isinstance(r.get("emitted_at"), int | float) or isinstance(r.get("emitted_at"), bool):
            problems.append(f"record {i}: `emitted_at` is not a number")
        if r.get("stream") not in configured:
            problems.append(f"record {i}: stream {r.get('stream')!r} is not in the configured catalog")
        if len(problems) >= 10:
            break
    if problems:
        fail("malformed RECORD messages:" + summarize(problems))
    if not result.records():
        fail("the read emitted no records at all")
    if entry.expect_records is not None and entry.expect_records.path is not None:
        unknown = sorted(s for s in _expected_records(ctx, entry) if s not in configured and ctx.wants_stream(s))
        if unknown:
            fail(f"{entry.expect_records.path.name} lists records of streams the read does not select: {unknown}")


def test_stdout_only_messages(ctx: Context, entry: TestEntry) -> None:
    """Every stdout line of the read is a protocol message (logs go to stderr or LOG messages)."""
    result = read_run(ctx, entry)
    if result.invalid_lines:
        lines = [f"line {n}: {text}" for n, text in result.invalid_lines]
        fail(
            f"{len(lines)} stdout line(s) are not protocol messages; the platform drops them (logs belong on "
            "stderr or in LOG messages):" + summarize(lines, 5)
        )


def test_stream_has_records(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Every stream not declared in `empty_streams` emits at least one record."""
    declared = {e.name: e for e in entry.empty_streams}
    records = records_by_stream(read_run(ctx, entry)).get(stream, [])
    if stream in declared:
        reason = declared[stream].bypass_reason or "no reason given"
        skip(f"declared in empty_streams ({reason}); {len(records)} record(s) read")
    if not records:
        fail(f"stream {stream} emitted no records (declare it in empty_streams if that is expected)")


def test_records_match_schema(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Every record validates against its stream's json_schema; no undeclared top-level columns."""
    if not entry.validate_schema:
        if ctx.config.high:
            fail("validate_schema: false is not allowed with test_strictness_level: high")
        skip("validate_schema is false")
    cs = _configured(ctx, entry, stream)
    schema = (cs.get("stream") or {}).get("json_schema") or {}
    records = records_by_stream(read_run(ctx, entry)).get(stream, [])
    if not records:
        skip("no records to validate")
    try:
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
    except Exception as exc:
        fail(f"the stream's json_schema cannot be used: {exc}")
    props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    errors: list[str] = []
    extra_columns: set[str] = set()
    for i, r in enumerate(records):
        data = r.get("data")
        for err in validator.iter_errors(data):
            where = "/".join(str(p) for p in err.path) or "(root)"
            errors.append(f"record {i}: {where}: {err.message[:200]}")
            break
        if entry.fail_on_extra_columns and isinstance(data, dict):
            extra_columns.update(k for k in data if k not in props)
        if len(errors) >= 10:
            break
    if errors:
        fail(f"{stream}: records do not match the stream's json_schema:" + summarize(errors))
    if extra_columns:
        fail(
            f"{stream}: records carry columns the schema does not declare (fail_on_extra_columns): "
            f"{sorted(extra_columns)}"
        )


def test_primary_keys_present(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Every record has each primary key part, not null and not an object/array."""
    cs = _configured(ctx, entry, stream)
    pk = primary_key_of(cs)
    if not pk:
        skip("the stream has no primary key")
    records = records_by_stream(read_run(ctx, entry)).get(stream, [])
    if not records:
        skip("no records")
    problems = []
    for i, r in enumerate(records):
        for part in pk:
            found, value = get_path(r.get("data"), part)
            if not found or value is None:
                problems.append(f"record {i}: primary key {'/'.join(part)} is {'null' if found else 'missing'}")
            elif entry.validate_primary_keys_data_type and isinstance(value, dict | list):
                problems.append(f"record {i}: primary key {'/'.join(part)} is an {type(value).__name__}")
        if len(problems) >= 10:
            break
    if problems:
        fail(f"{stream}: primary keys missing or null:" + summarize(problems))


def _expected_records(ctx: Context, entry: TestEntry) -> dict[str, list[dict[str, Any]]]:
    er = entry.expect_records
    assert er is not None and er.path is not None
    path = er.path

    def compute() -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in load_jsonl_file(path, "expect_records.path"):
            rec = line.get("record", line) if isinstance(line, dict) else None
            if isinstance(rec, dict) and isinstance(rec.get("data"), dict):
                out[str(rec.get("stream"))].append(rec["data"])
        return dict(out)

    value: dict[str, list[dict[str, Any]]] = ctx.memo(f"expected:{path}", compute)
    return value


def test_expected_records(ctx: Context, entry: TestEntry, stream: str) -> None:
    """The records listed in `expect_records` are read (matched by primary key when there is one)."""
    er = entry.expect_records
    if er is None:
        skip("no expect_records in the config")
    if er.path is None:
        skip(f"expect_records bypassed: {er.bypass_reason}")
    expected = _expected_records(ctx, entry).get(stream)
    if expected is None:
        skip(f"{er.path.name} lists no records for this stream")
    ignored = [f.name for f in entry.ignored_fields.get(stream, [])]
    actual = [
        r["data"] for r in records_by_stream(read_run(ctx, entry)).get(stream, []) if isinstance(r.get("data"), dict)
    ]
    pk = primary_key_of(_configured(ctx, entry, stream))

    def norm(rec: dict[str, Any], like: dict[str, Any] | None = None) -> str:
        rec = drop_fields(rec, ignored)
        if er.extra_fields and like is not None:
            rec = project(rec, drop_fields(like, ignored))
        return canonical(rec)

    if pk:
        by_key = {record_key(r, pk): r for r in actual}
        missing, differing = [], []
        for exp in expected:
            key = record_key(exp, pk)
            got = by_key.get(key)
            if got is None:
                missing.append(f"key {list(key)}")
            elif norm(got, exp) != norm(exp):
                differing.append(
                    f"key {list(key)}: expected {short(drop_fields(exp, ignored), 200)}\n"
                    f"    got      {short(drop_fields(got, ignored), 200)}"
                )
        if missing:
            fail(f"{stream}: {len(missing)} expected record(s) were not read:" + summarize(missing))
        if differing:
            fail(f"{stream}: {len(differing)} record(s) differ from the expected ones:" + summarize(differing, 5))
        if er.exact_order:
            keys_actual = [record_key(r, pk) for r in actual]
            keys_expected = [record_key(r, pk) for r in expected]
            if keys_actual[: len(keys_expected)] != keys_expected:
                fail(f"{stream}: records are not in the expected order (exact_order: true)")
        if not er.extra_records and len(by_key) > len(expected):
            fail(f"{stream}: {len(by_key) - len(expected)} record(s) more than expected (extra_records: false)")
        return
    if er.exact_order:
        for i, exp in enumerate(expected):
            if i >= len(actual):
                fail(f"{stream}: only {len(actual)} record(s) read, {len(expected)} expected")
            if norm(actual[i], exp) != norm(exp):
                fail(
                    f"{stream}: record {i} differs (exact_order: true)\n  expected {short(exp)}\n  got      "
                    f"{short(actual[i])}"
                )
    else:
        actual_set = {norm(a) for a in actual} if not er.extra_fields else None
        missing = []
        for exp in expected:
            found = (
                (norm(exp) in actual_set) if actual_set is not None else any(norm(a, exp) == norm(exp) for a in actual)
            )
            if not found:
                missing.append(short(exp, 200))
        if missing:
            fail(f"{stream}: {len(missing)} expected record(s) were not read:" + summarize(missing))
    if not er.extra_records and len(actual) > len(expected):
        fail(f"{stream}: {len(actual) - len(expected)} record(s) more than expected (extra_records: false)")


def test_stream_statuses(ctx: Context, entry: TestEntry, stream: str) -> None:
    """The stream reports STARTED, then RUNNING (before its first record), then COMPLETE, in order."""
    if entry.validate_stream_statuses is False:
        skip("validate_stream_statuses is false")
    result = read_run(ctx, entry)
    sequence: list[str] = []
    first_record_at = None
    for pos, m in enumerate(result.messages):
        kind = m.get("type")
        if kind == "RECORD" and (m.get("record") or {}).get("stream") == stream:
            if first_record_at is None:
                first_record_at = len(sequence)
                if not sequence:
                    fail(f"{stream}: a record (message {pos + 1}) came before the STARTED status")
            if sequence and sequence[-1] in ("COMPLETE", "INCOMPLETE"):
                fail(f"{stream}: a record (message {pos + 1}) came after the {sequence[-1]} status")
        elif kind == "TRACE":
            t = m.get("trace") or {}
            ss = t.get("stream_status") or {}
            if t.get("type") == "STREAM_STATUS" and (ss.get("stream_descriptor") or {}).get("name") == stream:
                sequence.append(str(ss.get("status")))
    if not sequence:
        fail(f"{stream}: no TRACE STREAM_STATUS messages (expected STARTED, RUNNING, COMPLETE)")
    if sequence[0] != "STARTED":
        fail(f"{stream}: the first status is {sequence[0]}, expected STARTED (statuses: {sequence})")
    if sequence[-1] != "COMPLETE":
        fail(f"{stream}: the last status is {sequence[-1]}, expected COMPLETE (statuses: {sequence})")
    middle = sequence[1:-1]
    if any(s != "RUNNING" for s in middle):
        fail(f"{stream}: statuses out of order: {sequence} (expected STARTED, RUNNING..., COMPLETE)")
    if first_record_at is not None and "RUNNING" not in sequence[:first_record_at]:
        fail(f"{stream}: records were emitted without a RUNNING status before them (statuses: {sequence})")


def test_state_messages(ctx: Context, entry: TestEntry, stream: str) -> None:
    """The stream checkpoints: at least one STREAM/GLOBAL STATE, never LEGACY, each with sourceStats."""
    if not entry.validate_state_messages:
        skip("validate_state_messages is false")
    states = read_run(ctx, entry).payloads("STATE", "state")
    legacy = [s for s in states if s.get("type") == "LEGACY" or (s.get("type") is None and "data" in s)]
    if legacy:
        fail(f"the source emits LEGACY state ({len(legacy)} message(s)); emit per-stream STREAM (or GLOBAL) state")
    mine = []
    for s in states:
        if s.get("type") == "GLOBAL":
            inner = (s.get("global") or {}).get("stream_states") or []
            if any(((i.get("stream_descriptor") or {}).get("name") == stream) for i in inner if isinstance(i, dict)):
                mine.append(s)
        elif state_stream_name(s) == stream:
            mine.append(s)
    if not mine:
        fail(f"{stream}: no STATE message for this stream (emit one even when the stream is empty)")
    for s in mine:
        count = (s.get("sourceStats") or {}).get("recordCount")
        if not isinstance(count, int | float) or isinstance(count, bool) or count < 0:
            fail(f"{stream}: a STATE lacks sourceStats.recordCount (got {short(s.get('sourceStats'))})")


def _unknown_stream_catalog(sync_mode: str, destination_sync_mode: str) -> dict[str, Any]:
    stream = {
        "name": UNKNOWN_STREAM,
        "json_schema": {"type": "object", "properties": {"f1": {"type": "string"}}},
        "supported_sync_modes": ["full_refresh"],
    }
    return {"streams": [{"stream": stream, "sync_mode": sync_mode, "destination_sync_mode": destination_sync_mode}]}


def test_trace_on_bad_catalog(ctx: Context, entry: TestEntry) -> None:
    """A malformed catalog (unknown stream, invalid sync modes) gives a TRACE ERROR (CAT's failure test)."""
    if not entry.expect_trace_message_on_failure:
        skip("expect_trace_message_on_failure is false")
    catalog = _unknown_stream_catalog("INVALID", "INVALID")
    result = ctx.run("read", {"config": connector_config(ctx, entry.config_path), "catalog": catalog})
    if not result.traces("ERROR"):
        fail(
            "reading a malformed catalog should emit a TRACE ERROR saying what is wrong, the source emitted none\n"
            + describe_failure(result)
        )
    if result.of_type("RECORD"):
        fail("reading a malformed catalog emitted records")


def test_unknown_stream_reported(ctx: Context, entry: TestEntry) -> None:
    """A catalog naming a stream the source does not have is reported: TRACE ERROR or INCOMPLETE status."""
    catalog = _unknown_stream_catalog("full_refresh", "overwrite")
    result = ctx.run("read", {"config": connector_config(ctx, entry.config_path), "catalog": catalog})
    if result.of_type("RECORD"):
        fail("reading an unknown stream emitted records")
    incomplete = [
        t
        for t in result.traces("STREAM_STATUS")
        if (t.get("stream_status") or {}).get("status") == "INCOMPLETE"
        and ((t.get("stream_status") or {}).get("stream_descriptor") or {}).get("name") == UNKNOWN_STREAM
    ]
    if not result.traces("ERROR") and not incomplete:
        fail(
            f"the catalog names a stream the source does not have ({UNKNOWN_STREAM}) and the source said nothing: "
            "emit a TRACE ERROR (or at least an INCOMPLETE stream status) so the user learns the stream is gone\n"
            + describe_failure(result)
        )


def test_strictness(ctx: Context, entry: TestEntry) -> None:
    """`test_strictness_level: high` forbids a custom configured catalog for basic_read."""
    if not ctx.config.high:
        skip("test_strictness_level is low")
    if entry.configured_catalog_path is not None:
        fail("test_strictness_level: high forbids configured_catalog_path in basic_read (all streams are read)")
    undeclared = [e.name for e in entry.empty_streams if not e.bypass_reason]
    if undeclared:
        fail(f"test_strictness_level: high needs a bypass_reason for each empty stream: {undeclared}")


STREAM_CHECKS = (
    ("test_stream_has_records", test_stream_has_records),
    ("test_records_match_schema", test_records_match_schema),
    ("test_primary_keys_present", test_primary_keys_present),
    ("test_expected_records", test_expected_records),
    ("test_stream_statuses", test_stream_statuses),
    ("test_state_messages", test_state_messages),
)


def cases(ctx: Context, entry: TestEntry, label: str | None, streams: list[str]) -> list[TestCase]:
    """The basic_read tests of one entry: read-wide ones, then per stream."""
    t = entry.timeout
    out = [
        TestCase("basic_read", "test_read", lambda c: test_read(c, entry), t, entry, None, label),
        TestCase(
            "basic_read",
            "test_stdout_only_messages",
            partial(test_stdout_only_messages, entry=entry),
            t,
            entry,
            None,
            label,
        ),
        TestCase(
            "basic_read",
            "test_trace_on_bad_catalog",
            partial(test_trace_on_bad_catalog, entry=entry),
            t,
            entry,
            None,
            label,
        ),
        TestCase(
            "basic_read",
            "test_unknown_stream_reported",
            partial(test_unknown_stream_reported, entry=entry),
            t,
            entry,
            None,
            label,
        ),
        TestCase("basic_read", "test_strictness", lambda c: test_strictness(c, entry), t, entry, None, label),
    ]
    for stream in streams:
        for name, func in STREAM_CHECKS:
            out.append(TestCase("basic_read", name, partial(func, entry=entry, stream=stream), t, entry, stream, label))
    return out
