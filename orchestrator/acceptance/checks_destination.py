"""`destination` group (a Ducto extension of the CAT format): golden streams through `write`.

    acceptance_tests:
      destination:
        tests:
          - config_path: destination_config.json     # "{local_dir}" inside is the shared folder
            reader: {type: duckdb, path: "{local_dir}/acceptance.duckdb", schema: main}
            sync_modes: [overwrite, append, append_dedup]   # default: the spec's supported modes
            echo_wait_seconds: 30   # how long to wait for a STATE echo while the input stays open

For each destination sync mode the golden messages are written twice into a fresh folder (the second
sync's catalog adds a column to one stream): every
STATE must come back in order with the right `destinationStats.recordCount`, and the rows read back
must be what was sent (overwrite: the second write only; append: both; append_dedup: one row per
key, the latest). A stream with a malformed line in the middle must fail loudly or skip the line,
and never echo a STATE whose records cannot be read back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from ducto.orchestrator.acceptance import golden
from ducto.orchestrator.acceptance.compare import canonical
from ducto.orchestrator.acceptance.config import ConfigFileError, TestEntry
from ducto.orchestrator.acceptance.framework import Context, TestCase, fail, short, skip, summarize
from ducto.orchestrator.acceptance.inputs import (
    actual_spec,
    describe_failure,
    local_path_for,
    raw_connector_config,
    state_stream_name,
    with_local_dir,
)
from ducto.orchestrator.acceptance.readers import ReaderError, read_stream, row_matches
from ducto.orchestrator.acceptance.runner import RunResult

MODES = ("overwrite", "append", "append_dedup")
BAD_LINE = b'{"type": "RECORD", "record": {"stream": "ducto_second", "data": {"key": "broken"\n'


def _local_dir(ctx: Context, key: str) -> Path:
    value: Path = ctx.memo(f"localdir:{key}", ctx.new_local_dir)
    return value


def _write(
    ctx: Context, entry: TestEntry, mode: str, *, tag: str, stdin: bytes, local: Path, run: int = 1
) -> RunResult:
    config = with_local_dir(raw_connector_config(ctx, entry.config_path), local_path_for(ctx, local))
    sync_mode = "full_refresh" if mode == "overwrite" else "incremental"
    catalog = golden.configured_catalog(sync_mode, mode, run)
    return ctx.run("write", {"config": config, "catalog": catalog}, stdin=stdin, tag=tag, local_dir=local)


def _reader(entry: TestEntry) -> dict[str, Any]:
    reader = entry.destination.get("reader")
    if not isinstance(reader, dict) or "type" not in reader:
        raise ConfigFileError(f"acceptance_tests.destination.tests[{entry.index}].reader: required ({{type: ...}})")
    return reader


def _modes(ctx: Context, entry: TestEntry) -> list[str]:
    configured = entry.destination.get("sync_modes")
    if configured is not None:
        if not isinstance(configured, list) or any(m not in MODES for m in configured):
            raise ConfigFileError(f"acceptance_tests.destination.tests[{entry.index}].sync_modes: a list of {MODES}")
        return [str(m) for m in configured]
    declared = actual_spec(ctx).get("supported_destination_sync_modes")
    if not isinstance(declared, list) or not declared:
        fail("the SPEC of a destination must list supported_destination_sync_modes (overwrite, append, append_dedup)")
    return [m for m in MODES if m in declared]


def expected_echoes(msgs: list[dict[str, Any]]) -> list[tuple[str | None, Any, int]]:
    """(stream, stream_state, records of that stream since its previous STATE) for each input STATE."""
    counts: Counter[str] = Counter()
    out = []
    for m in msgs:
        if m["type"] == "RECORD":
            counts[m["record"]["stream"]] += 1
        elif m["type"] == "STATE":
            name = state_stream_name(m["state"])
            out.append((name, m["state"]["stream"]["stream_state"], counts[name or ""]))
            counts[name or ""] = 0
    return out


def _check_echoes(result: RunResult, msgs: list[dict[str, Any]], what: str) -> None:
    if result.exit_code != 0 or result.traces("ERROR"):
        fail(f"{what} failed\n{describe_failure(result)}")
    expected = expected_echoes(msgs)
    echoed = result.payloads("STATE", "state")
    got = [(state_stream_name(s), (s.get("stream") or {}).get("stream_state")) for s in echoed]
    want = [(name, blob) for name, blob, _ in expected]
    if got != want:
        fail(
            f"{what}: the STATEs echoed differ from the STATEs sent (all of them, in the order received)\n"
            f"  sent:   {short(want, 600)}\n  echoed: {short(got, 600)}"
        )
    problems = []
    for i, (s, (name, _, count)) in enumerate(zip(echoed, expected, strict=True)):
        stats = s.get("destinationStats")
        actual = stats.get("recordCount") if isinstance(stats, dict) else None
        if not isinstance(actual, int | float) or isinstance(actual, bool) or float(actual) != float(count):
            problems.append(
                f"state {i} ({name}): destinationStats.recordCount is {actual!r}, {count} records came before it"
            )
    if problems:
        fail(f"{what}: wrong destinationStats:" + summarize(problems))


def _sync_twice(ctx: Context, entry: TestEntry, mode: str) -> tuple[RunResult, RunResult, Path]:
    local = _local_dir(ctx, f"{entry.index}:{mode}")
    offset = 7 if mode == "append_dedup" else 0
    first = _write(ctx, entry, mode, tag=f"dest-{mode}-1", stdin=golden.encode(golden.messages(1)), local=local)
    if first.exit_code != 0 or first.traces("ERROR"):
        fail(f"the first write ({mode}) failed\n{describe_failure(first)}")
    second = _write(
        ctx,
        entry,
        mode,
        tag=f"dest-{mode}-2",
        stdin=golden.encode(golden.messages(2, second_value_offset=offset)),
        local=local,
        run=2,
    )
    return first, second, local


def test_states_echoed(ctx: Context, entry: TestEntry, mode: str) -> None:
    """Every STATE is echoed, in order, with `destinationStats.recordCount` = records before it."""
    if mode not in _modes(ctx, entry):
        skip(f"the destination does not support {mode}")
    first, second, _ = _sync_twice(ctx, entry, mode)
    _check_echoes(first, golden.messages(1), f"the first write ({mode})")
    _check_echoes(second, golden.messages(2), f"the second write ({mode})")


def _expected_after_two_writes(mode: str) -> dict[str, list[dict[str, Any]]]:
    offset = 7 if mode == "append_dedup" else 0
    one, two = golden.expected_rows(1), golden.expected_rows(2, second_value_offset=offset)
    if mode == "append":
        return {s: one[s] + two[s] for s in one}
    return two  # overwrite keeps the last write; dedup keeps the latest row per key (run 2)


def _compare(stream: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    remaining = list(actual)
    missing = []
    for row in expected:
        match = next((i for i, got in enumerate(remaining) if row_matches(row, got)), None)
        if match is None:
            missing.append(row)
        else:
            remaining.pop(match)
    problems = [f"{stream}: sent but not read back as sent: {short(r, 250)}" for r in missing]
    problems += [f"{stream}: read back but not expected: {short(_plain(r), 250)}" for r in remaining]
    return problems


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | type(None)) else str(v)) for k, v in row.items()}


def test_read_back(ctx: Context, entry: TestEntry, mode: str) -> None:
    """What was written reads back as sent: types, nulls, unicode, nesting; per the sync mode's rules."""
    if mode not in _modes(ctx, entry):
        skip(f"the destination does not support {mode}")
    _, second, local = _sync_twice(ctx, entry, mode)
    if second.exit_code != 0 or second.traces("ERROR"):
        fail(f"the second write ({mode}) failed\n{describe_failure(second)}")
    problems = []
    for stream, rows in _expected_after_two_writes(mode).items():
        schema = golden.edge_schema(2) if stream == golden.EDGE else golden.SECOND_SCHEMA
        try:
            actual = read_stream(_reader(entry), stream, local, list(schema["properties"]))
        except ReaderError as exc:
            fail(f"cannot read back {stream}: {exc}")
        problems += _compare(stream, rows, actual)
    if problems:
        fail(f"after two {mode} writes the tables do not hold what was sent:" + summarize(problems, 8))


def test_bad_line_keeps_committed(ctx: Context, entry: TestEntry) -> None:
    """A malformed line mid-stream: fail loudly or skip it, never echo a STATE whose records are lost."""
    modes = _modes(ctx, entry)
    if not modes:
        skip("the destination declares no supported sync mode")
    mode = "append" if "append" in modes else modes[0]
    msgs = golden.messages(1)
    cut = next(i for i, m in enumerate(msgs) if m["type"] == "STATE") + 1
    stdin = golden.encode(msgs[:cut]) + BAD_LINE + golden.encode(msgs[cut:])
    local = _local_dir(ctx, f"{entry.index}:bad-line")
    result = _write(ctx, entry, mode, tag="dest-bad-line", stdin=stdin, local=local)
    failed_loudly = result.exit_code != 0 or bool(result.traces("ERROR"))
    echoed = result.payloads("STATE", "state")
    if not failed_loudly and len(echoed) != len(expected_echoes(msgs)):
        fail(
            f"the write exited 0 without a TRACE ERROR but echoed {len(echoed)} of {len(expected_echoes(msgs))} STATEs"
        )
    # every record sent before the last echoed STATE of its stream must be readable
    needed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    echoed_keys = [canonical((s.get("stream") or {}).get("stream_state")) + str(state_stream_name(s)) for s in echoed]
    for m in msgs:
        if m["type"] == "RECORD":
            pending[m["record"]["stream"]].append(m["record"]["data"])
        elif m["type"] == "STATE":
            name = state_stream_name(m["state"]) or ""
            key = canonical(m["state"]["stream"]["stream_state"]) + name
            if key in echoed_keys:
                needed[name] += pending.pop(name, [])
    problems = []
    for stream, rows in needed.items():
        schema = golden.EDGE_SCHEMA if stream == golden.EDGE else golden.SECOND_SCHEMA
        try:
            actual = read_stream(_reader(entry), stream, local, list(schema["properties"]))
        except ReaderError as exc:
            fail(f"a STATE of {stream} was echoed but its records cannot be read back: {exc}")
        problems += [p for p in _compare(stream, rows, actual) if "sent but not read back" in p]
    if problems:
        fail("STATEs were echoed before their records were durably written (data lost):" + summarize(problems))


def test_echoed_state_survives_a_kill(ctx: Context, entry: TestEntry) -> None:
    """Killed (SIGKILL) right after echoing a STATE, the destination still holds every record before it."""
    modes = _modes(ctx, entry)
    if not modes:
        skip("the destination declares no supported sync mode")
    mode = "append" if "append" in modes else modes[0]
    local = _local_dir(ctx, f"{entry.index}:kill")
    config = with_local_dir(raw_connector_config(ctx, entry.config_path), local_path_for(ctx, local))
    catalog = golden.configured_catalog("full_refresh" if mode == "overwrite" else "incremental", mode)
    msgs = golden.messages(1)
    first_state = next(i for i, m in enumerate(msgs) if m["type"] == "STATE")
    # everything up to the first STATE, then records that stay uncommitted; stdin stays open
    head = msgs[: first_state + 1] + [m for m in msgs[first_state + 1 :] if m["type"] == "RECORD"][:2]
    wait = min(float(entry.destination.get("echo_wait_seconds", 30)), ctx.remaining() or 30.0)
    running = ctx.connector.start("write", {"config": config, "catalog": catalog}, local_dir=local)
    try:
        running.send(golden.encode(head))
        echoed = None
        while (message := running.next_message(wait)) is not None:
            if message.get("type") == "STATE":
                echoed = message["state"]
                break
        running.kill()
        stderr = running.stderr()
    finally:
        running.close()
    if echoed is None:
        skip(
            f"no STATE echoed within {wait:.0f}s while the input was still open (the destination may batch "
            f"until the end of input){' - stderr: ' + stderr.strip()[-300:] if stderr.strip() else ''}"
        )
    name = state_stream_name(echoed)
    sent = msgs[first_state]["state"]
    if (
        name != state_stream_name(sent)
        or (echoed.get("stream") or {}).get("stream_state") != sent["stream"]["stream_state"]
    ):
        fail(f"the first STATE echoed is not the first STATE sent: {short(echoed)}")
    before = [
        m["record"]["data"] for m in msgs[:first_state] if m["type"] == "RECORD" and m["record"]["stream"] == name
    ]
    schema = golden.EDGE_SCHEMA if name == golden.EDGE else golden.SECOND_SCHEMA
    try:
        actual = read_stream(_reader(entry), str(name), local, list(schema["properties"]))
    except ReaderError as exc:
        fail(f"the STATE of {name} was echoed, but after a kill its records cannot be read back: {exc}")
    lost = [p for p in _compare(str(name), before, actual) if "sent but not read back" in p]
    if lost:
        fail("a STATE was echoed before its records were durable; after a kill they are gone:" + summarize(lost))


def cases(ctx: Context, entry: TestEntry, label: str | None) -> list[TestCase]:
    """Destination tests: per sync mode, then the malformed-line test."""
    t = entry.timeout
    out = []
    for mode in MODES:
        out.append(
            TestCase(
                "destination",
                "test_states_echoed",
                partial(test_states_echoed, entry=entry, mode=mode),
                t,
                entry,
                mode,
                label,
            )
        )
        out.append(
            TestCase(
                "destination", "test_read_back", partial(test_read_back, entry=entry, mode=mode), t, entry, mode, label
            )
        )
    out.append(
        TestCase(
            "destination",
            "test_echoed_state_survives_a_kill",
            partial(test_echoed_state_survives_a_kill, entry=entry),
            t,
            entry,
            None,
            label,
        )
    )
    out.append(
        TestCase(
            "destination",
            "test_bad_line_keeps_committed",
            partial(test_bad_line_keeps_committed, entry=entry),
            t,
            entry,
            None,
            label,
        )
    )
    return out
