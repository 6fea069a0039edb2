"""`full_refresh` and `incremental` groups: repeated reads and reads resumed from state."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from ducto.orchestrator.acceptance.compare import canonical, cursor_lt, cursor_max, drop_fields
from ducto.orchestrator.acceptance.config import ConfigFileError, TestEntry, load_json_file
from ducto.orchestrator.acceptance.framework import Context, TestCase, fail, short, skip, summarize
from ducto.orchestrator.acceptance.inputs import (
    configured_catalog,
    connector_config,
    cursor_of,
    describe_failure,
    get_path,
    only_stream,
    primary_key_of,
    record_key,
    state_input,
    state_stream_name,
    stream_name,
)
from ducto.orchestrator.acceptance.runner import RunResult

MAX_CHECKPOINTS = 3


def _stream_of(catalog: dict[str, Any], stream: str) -> dict[str, Any]:
    found: dict[str, Any] | None = next((cs for cs in catalog["streams"] if stream_name(cs) == stream), None)
    if found is None:
        fail(f"stream {stream} is not in the configured catalog")
    return found


def _ok(result: RunResult, what: str) -> RunResult:
    if result.exit_code != 0 or result.traces("ERROR"):
        fail(f"{what} failed\n{describe_failure(result)}")
    return result


# --- full_refresh ---------------------------------------------------------------------------


def _full_refresh_catalog(ctx: Context, entry: TestEntry) -> dict[str, Any]:
    catalog = configured_catalog(ctx, entry)
    streams = []
    for cs in catalog["streams"]:
        if "full_refresh" in ((cs.get("stream") or {}).get("supported_sync_modes") or ["full_refresh"]):
            streams.append({**cs, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"})
    return {**catalog, "streams": streams}


def _two_full_reads(ctx: Context, entry: TestEntry) -> tuple[RunResult, RunResult]:
    catalog = _full_refresh_catalog(ctx, entry)
    files = {"config": connector_config(ctx, entry.config_path), "catalog": catalog}
    first = _ok(ctx.run("read", files, tag="full_refresh-1"), "the first full refresh read")
    # emitted_at has millisecond precision: make sure the second read is visibly later
    ctx.memo(f"full_refresh-pause:{entry.index}", lambda: time.sleep(1.0))
    second = _ok(ctx.run("read", files, tag="full_refresh-2"), "the second full refresh read")
    return first, second


def test_sequential_reads(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Two full refresh reads give the same records (the second may add new ones), ignoring `ignored_fields`."""
    first, second = _two_full_reads(ctx, entry)
    r1 = [r for r in first.records() if r.get("stream") == stream]
    r2 = [r for r in second.records() if r.get("stream") == stream]
    if not r1:
        skip("the first read emitted no records for this stream")
    if not r2:
        fail(f"{stream}: the second read emitted no records, the first read emitted {len(r1)}")
    stamps1 = [r["emitted_at"] for r in r1 if isinstance(r.get("emitted_at"), int | float)]
    stamps2 = [r["emitted_at"] for r in r2 if isinstance(r.get("emitted_at"), int | float)]
    if len(stamps1) != len(r1) or len(stamps2) != len(r2):
        fail(f"{stream}: records without a numeric emitted_at")
    if max(stamps1) >= min(stamps2):
        fail(
            f"{stream}: emitted_at does not increase between reads (records of the second read are stamped no "
            "later than the first's)"
        )
    pk = primary_key_of(_stream_of(_full_refresh_catalog(ctx, entry), stream))
    ignored = [f.name for f in entry.ignored_fields.get(stream, [])]
    if pk:
        keys2 = {record_key(r["data"], pk) for r in r2}
        missing = [f"key {list(k)}" for k in dict.fromkeys(record_key(r["data"], pk) for r in r1) if k not in keys2]
        what = "records (by primary key)"
    else:
        set2 = {canonical(drop_fields(r["data"], ignored)) for r in r2}
        missing = [
            short(drop_fields(r["data"], ignored), 200)
            for r in r1
            if canonical(drop_fields(r["data"], ignored)) not in set2
        ]
        what = "records" + (f" (ignoring {ignored})" if ignored else "")
    if missing:
        fail(
            f"{stream}: {len(missing)} {what} of the first read are missing from the second; two full refresh "
            "reads must give the same records:" + summarize(missing)
        )


# --- incremental ----------------------------------------------------------------------------


def _incremental_catalog(ctx: Context, entry: TestEntry) -> dict[str, Any]:
    return configured_catalog(ctx, entry, incremental=True)


def _cursor_values(records: list[dict[str, Any]], cursor: list[str]) -> list[Any]:
    return [get_path(r.get("data"), cursor)[1] for r in records]


def test_two_sequential_reads(ctx: Context, entry: TestEntry, stream: str) -> None:
    """A read from the first read's final state emits only records at or after the cursor it reached."""
    catalog = _incremental_catalog(ctx, entry)
    cs = _stream_of(catalog, stream)
    cursor = cursor_of(cs)
    if not cursor:
        fail(f"{stream}: incremental without a cursor (no cursor_field and no default_cursor_field)")
    config = connector_config(ctx, entry.config_path)
    first = _ok(ctx.run("read", {"config": config, "catalog": catalog}, tag="incremental-1"), "the first read")
    records1 = [r for r in first.records() if r.get("stream") == stream]
    states1 = [
        s for s in first.payloads("STATE", "state") if state_stream_name(s) == stream or s.get("type") == "GLOBAL"
    ]
    if not states1:
        fail(f"{stream}: the first incremental read emitted no STATE for this stream")
    if not records1:
        skip("the first read emitted no records for this stream: nothing to compare")
    values1 = _cursor_values(records1, cursor)
    if all(v is None for v in values1):
        fail(f"{stream}: no record of the first read has a value at the cursor {'/'.join(cursor)}")
    reached = cursor_max(values1)
    state = state_input(first.payloads("STATE", "state"))
    second = _ok(
        ctx.run("read", {"config": config, "catalog": catalog, "state": state}, tag="incremental-2"),
        "the read from the final state",
    )
    records2 = [r for r in second.records() if r.get("stream") == stream]
    older = [
        f"record {i}: {'/'.join(cursor)}={short(v, 80)}"
        for i, v in enumerate(_cursor_values(records2, cursor))
        if v is not None and cursor_lt(v, reached)
    ]
    if older:
        fail(
            f"{stream}: the read from the final state re-emitted {len(older)} record(s) older than the cursor "
            f"reached by the first read ({short(reached, 80)}):" + summarize(older)
        )
    nulls = sum(1 for v in _cursor_values(records2, cursor) if v is None)
    if nulls:
        fail(f"{stream}: {nulls} record(s) of the read from state have no cursor value")


def _checkpoints(result: RunResult, stream: str) -> list[tuple[int, dict[str, Any]]]:
    """(records of the stream emitted after it, state) for each distinct checkpoint, in order."""
    positions: list[tuple[int, dict[str, Any]]] = []
    seen = 0
    last_blob = None
    for m in result.messages:
        if m.get("type") == "RECORD" and (m.get("record") or {}).get("stream") == stream:
            seen += 1
        elif m.get("type") == "STATE" and state_stream_name(m.get("state") or {}) == stream:
            blob = canonical((m["state"].get("stream") or {}).get("stream_state"))
            if blob != last_blob:
                positions.append((seen, m["state"]))
                last_blob = blob
    total = seen
    return [(total - at, st) for at, st in positions]


def test_read_from_checkpoints(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Resuming from sampled intermediate checkpoints re-reads at least every record emitted after each."""
    if entry.skip_comprehensive_incremental_tests:
        skip("skip_comprehensive_incremental_tests is true")
    catalog = only_stream(_incremental_catalog(ctx, entry), stream)
    config = connector_config(ctx, entry.config_path)
    full = _ok(ctx.run("read", {"config": config, "catalog": catalog}, tag=f"checkpoints-{stream}"), "the first read")
    records = [r for r in full.records() if r.get("stream") == stream]
    if not records:
        skip("the stream emitted no records")
    intermediate = [(rest, st) for rest, st in _checkpoints(full, stream) if rest > 0]
    if not intermediate:
        skip("the stream emitted no intermediate checkpoint (all records came after its last STATE or none before)")
    step = max(1, len(intermediate) // MAX_CHECKPOINTS)
    sampled = intermediate[::step][:MAX_CHECKPOINTS]
    pk = primary_key_of(_stream_of(catalog, stream))
    for n, (rest, st) in enumerate(sampled, start=1):
        state = [{"type": "STREAM", "stream": st["stream"]}]
        resumed = _ok(
            ctx.run("read", {"config": config, "catalog": catalog, "state": state}, tag=f"checkpoint-{stream}-{n}"),
            f"the read from checkpoint {n}",
        )
        got = [r for r in resumed.records() if r.get("stream") == stream]
        if len(got) < rest:
            fail(
                f"{stream}: resuming from checkpoint {n} of {len(sampled)} ({short(st['stream'].get('stream_state'))}) "
                f"emitted {len(got)} record(s), but {rest} were emitted after that checkpoint in the full read"
            )
        if pk:
            after = records[len(records) - rest :]
            keys = {record_key(r["data"], pk) for r in got}
            lost = [f"key {list(record_key(r['data'], pk))}" for r in after if record_key(r["data"], pk) not in keys]
            if lost:
                fail(
                    f"{stream}: resuming from checkpoint {n} lost {len(lost)} record(s) emitted after it:"
                    + summarize(lost)
                )


def _future_state(ctx: Context, entry: TestEntry) -> list[dict[str, Any]]:
    if entry.future_state_bypass:
        skip(f"future_state bypassed: {entry.future_state_bypass}")
    if entry.future_state_path is None:
        if ctx.config.high:
            fail("test_strictness_level: high needs incremental.future_state.future_state_path (or a bypass_reason)")
        skip("no future_state in the config")
    path = entry.future_state_path

    def compute() -> list[dict[str, Any]]:
        data = load_json_file(path, "future_state_path")
        if isinstance(data, dict):
            raise ConfigFileError(f"future_state_path {path}: LEGACY (object) state; use a list of per-stream states")
        if not isinstance(data, list):
            raise ConfigFileError(f"future_state_path {path}: expected a JSON array of states")
        return data

    value: list[dict[str, Any]] = ctx.memo(f"future:{path}", compute)
    return value


def test_future_state(ctx: Context, entry: TestEntry, stream: str) -> None:
    """Reading from a far-future state emits no records for the stream, and still a STATE."""
    states = _future_state(ctx, entry)
    in_file = {state_stream_name(s) for s in states}
    if stream not in in_file and not any(s.get("type") == "GLOBAL" for s in states):
        missing = {m.name: m for m in entry.future_state_missing_streams}
        if stream in missing:
            skip(f"declared in future_state.missing_streams ({missing[stream].bypass_reason or 'no reason'})")
        fail(
            f"{stream}: the future_state file has no state for this stream; add one or declare it in "
            "future_state.missing_streams"
        )
    catalog = _incremental_catalog(ctx, entry)
    config = connector_config(ctx, entry.config_path)
    result = _ok(
        ctx.run("read", {"config": config, "catalog": catalog, "state": states}, tag="future"),
        "the read from the future state",
    )
    records = [r for r in result.records() if r.get("stream") == stream]
    if records:
        fail(
            f"{stream}: reading from a far-future state emitted {len(records)} record(s), e.g. "
            f"{short(records[0].get('data'), 200)}"
        )
    mine = [s for s in result.payloads("STATE", "state") if state_stream_name(s) == stream or s.get("type") == "GLOBAL"]
    if not mine:
        fail(
            f"{stream}: reading from a far-future state emitted no STATE for the stream (emit one even when "
            "there is nothing new)"
        )


def full_refresh_cases(ctx: Context, entry: TestEntry, label: str | None, streams: list[str]) -> list[TestCase]:
    """Per-stream full refresh tests."""
    return [
        TestCase(
            "full_refresh",
            "test_sequential_reads",
            partial(test_sequential_reads, entry=entry, stream=s),
            entry.timeout,
            entry,
            s,
            label,
        )
        for s in streams
    ]


def incremental_cases(ctx: Context, entry: TestEntry, label: str | None, streams: list[str]) -> list[TestCase]:
    """Per-stream incremental tests."""
    out = []
    for s in streams:
        for name, func in (
            ("test_two_sequential_reads", test_two_sequential_reads),
            ("test_read_from_checkpoints", test_read_from_checkpoints),
            ("test_future_state", test_future_state),
        ):
            out.append(
                TestCase("incremental", name, partial(func, entry=entry, stream=s), entry.timeout, entry, s, label)
            )
    return out
