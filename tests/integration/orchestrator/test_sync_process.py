"""`ducto sync` end to end with the process runner and raw-protocol test connectors."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from .conftest import (
    committed_ids,
    process_destination,
    process_source,
    run_ducto,
    start_ducto,
    stored_cursors,
    write_connection,
)

STREAMS = {"users": 3000, "orders": 1200}


def _connection(workdir: Path, source_extra: dict | None = None, dest_extra: dict | None = None, **extra) -> Path:
    source = {"streams": STREAMS, "state_every": 250, **(source_extra or {})}
    dest = {"path": str(workdir / "dest.db"), **(dest_extra or {})}
    return write_connection(workdir, process_source(source), process_destination(dest), **extra)


def _assert_state_not_ahead(workdir: Path, conn: Path) -> None:
    committed = committed_ids(workdir / "dest.db")
    for stream, cursor in stored_cursors(workdir, conn).items():
        # every record up to the stored cursor is committed in the destination
        missing = set(range(1, cursor + 1)) - committed.get(stream, set())
        assert not missing, f"{stream}: state at {cursor} but {len(missing)} records not committed"


def _assert_everything_delivered(workdir: Path) -> None:
    committed = committed_ids(workdir / "dest.db")
    for stream, count in STREAMS.items():
        assert committed.get(stream) == set(range(1, count + 1)), stream


def _runs(workdir: Path, conn: Path) -> list[dict]:
    result = run_ducto("runs", str(conn), "--json", cwd=workdir)
    assert result.code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_sync_delivers_every_record_then_resumes_incrementally(workdir: Path) -> None:
    conn = _connection(workdir)
    first = run_ducto("sync", str(conn), cwd=workdir)
    assert first.code == 0, first.stderr
    assert "4,200 records" in first.stdout
    _assert_everything_delivered(workdir)
    assert stored_cursors(workdir, conn) == STREAMS

    db = sqlite3.connect(workdir / "dest.db")
    statuses = db.execute("SELECT stream, status FROM statuses").fetchall()
    assert ("users", "COMPLETE") in statuses and ("orders", "COMPLETE") in statuses  # forwarded

    second = run_ducto("sync", str(conn), cwd=workdir)
    assert second.code == 0, second.stderr
    assert "run 2 succeeded: 0 records" in second.stdout
    runs = _runs(workdir, conn)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert runs[1]["streams"]["users"] == {
        "records": 3000,
        "bytes": runs[1]["streams"]["users"]["bytes"],
        "committed_records": 3000,
        "status": "COMPLETE",
    }


@pytest.mark.parametrize("die_after", [1, 777, 2501, 3999])
def test_killed_destination_loses_nothing_and_state_never_runs_ahead(workdir: Path, die_after: int) -> None:
    conn = _connection(workdir, dest_extra={"die_after": die_after})
    failed = run_ducto("sync", str(conn), cwd=workdir)
    assert failed.code == 1
    assert "destination failed: " in failed.stderr and "SIGKILL" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.stderr
    _assert_state_not_ahead(workdir, conn)

    # a second crash at another point, then a clean run: everything arrives
    conn = _connection(workdir, dest_extra={"die_after": 300})
    assert run_ducto("sync", str(conn), cwd=workdir).code == 1
    _assert_state_not_ahead(workdir, conn)
    conn = _connection(workdir)
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    _assert_everything_delivered(workdir)
    assert stored_cursors(workdir, conn) == STREAMS
    assert [r["status"] for r in _runs(workdir, conn)] == ["succeeded", "failed", "failed"]


def test_malformed_source_line_fails_with_its_line_number(workdir: Path) -> None:
    conn = _connection(workdir, {"malformed_at": 50, "state_every": 10})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 1
    # line 1 STARTED, 2 RUNNING, then records with a STATE after every 10th: record 49 is line 2+49+4
    assert "source output line 56: not JSON: 'this is not json'" in result.stderr
    _assert_state_not_ahead(workdir, conn)
    assert stored_cursors(workdir, conn) == {"users": 40}  # the destination committed what came before


def test_hung_source_is_stopped_after_the_hang_timeout(workdir: Path) -> None:
    conn = _connection(workdir, {"hang_at": 600}, hang_timeout="2s")
    started = time.monotonic()
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 1
    assert "the source sent nothing for 2s (hang)" in result.stderr
    assert time.monotonic() - started < 30
    _assert_state_not_ahead(workdir, conn)
    assert stored_cursors(workdir, conn)["users"] == 500


def test_hung_destination_is_stopped(workdir: Path) -> None:
    conn = _connection(workdir, {"streams": {"users": 200_000, "orders": 1}}, {"hang": True}, hang_timeout="2s")
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 1
    assert "destination failed: the destination stopped reading its input for 2s (hang)" in result.stderr


def test_source_trace_error_becomes_the_run_error(workdir: Path) -> None:
    conn = _connection(workdir, {"fail_at": 1001})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 1
    assert "source failed: the API said no at record 1001" in result.stderr
    assert stored_cursors(workdir, conn) == {"users": 1000}
    _assert_state_not_ahead(workdir, conn)
    run = _runs(workdir, conn)[0]
    assert run["status"] == "failed" and run["error"] == "source failed: the API said no at record 1001"
    logs = run_ducto("logs", str(run["id"]), "--connection", str(conn), cwd=workdir)
    assert "the API said no at record 1001 [system_error]" in logs.stdout


def test_source_exit_code_without_trace(workdir: Path) -> None:
    result = run_ducto("sync", str(_connection(workdir, {"exit_at": 10})), cwd=workdir)
    assert result.code == 1
    assert "source failed: exited with code 3" in result.stderr


def test_destination_trace_error_and_malformed_output(workdir: Path) -> None:
    result = run_ducto("sync", str(_connection(workdir, dest_extra={"fail_with_trace": True})), cwd=workdir)
    assert result.code == 1
    assert "destination failed: disk full" in result.stderr
    result = run_ducto("sync", str(_connection(workdir, dest_extra={"malformed": True})), cwd=workdir)
    assert result.code == 1
    assert "destination output line 1: not a protocol message: 'garbage from the destination'" in result.stderr


def test_differently_written_records_are_forwarded_byte_for_byte(workdir: Path) -> None:
    conn = _connection(workdir, {"spaced": True})
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    _assert_everything_delivered(workdir)
    db = sqlite3.connect(workdir / "dest.db")
    line = db.execute("SELECT line FROM records WHERE stream = 'users' AND id = 7").fetchone()[0]
    assert line == (
        '{"type": "RECORD", "record": {"stream": "users", "data": {"id": 7, "name": "users-7",'
        ' "nested": {"x": 0}}, "emitted_at": 1700000000000}}'
    )


def test_ctrl_c_cancels_stops_connectors_and_keeps_state_safe(workdir: Path) -> None:
    conn = _connection(workdir, {"sleep": 0.002, "state_every": 50})
    proc = start_ducto("sync", str(conn), "--progress", "plain", cwd=workdir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not committed_ids(workdir / "dest.db").get("users"):
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "cancelled" in stderr and "Traceback" not in stderr
    assert _runs(workdir, conn)[0]["status"] == "cancelled"
    _assert_state_not_ahead(workdir, conn)
    assert not _running_connectors(workdir)
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    _assert_everything_delivered(workdir)


def _running_connectors(workdir: Path) -> list[str]:
    found = []
    for proc_dir in Path("/proc").iterdir():
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ("fake_source.py" in cmdline and str(workdir) in cmdline) or (
            "fake_destination.py" in cmdline and str(workdir) in cmdline
        ):
            found.append(cmdline)
    return found


def test_a_second_sync_of_the_same_connection_is_refused(workdir: Path) -> None:
    conn = _connection(workdir, {"sleep": 0.002})
    proc = start_ducto("sync", str(conn), cwd=workdir)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (workdir / ".ducto" / "locks" / "conn.lock").exists():
            time.sleep(0.1)
        time.sleep(0.5)
        second = run_ducto("sync", str(conn), cwd=workdir)
        assert second.code == 1
        assert "connection 'conn' is already syncing" in second.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_secrets_stay_out_of_logs_history_and_errors(workdir: Path) -> None:
    secret = "s3cr3t-value-from-env"
    conn = _connection(workdir, {"api_key": "${env:TEST_API_KEY}", "log_secret": True, "fail_at": 20})
    result = run_ducto("sync", str(conn), "-v", cwd=workdir, env={"TEST_API_KEY": secret})
    assert result.code == 1
    assert secret not in result.stdout + result.stderr
    logs = run_ducto("logs", "1", "--connection", str(conn), cwd=workdir)
    assert "using key ****" in logs.stdout and "stderr says the key is ****" in logs.stdout
    assert secret not in logs.stdout
    runs = run_ducto("runs", str(conn), cwd=workdir)
    assert secret not in runs.stdout
    for path in (workdir / ".ducto").iterdir():
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_control_message_updates_the_stored_config(workdir: Path) -> None:
    conn = _connection(workdir, {"control_at": 5, "api_key": "original-key-1"})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 0, result.stderr
    from ducto.orchestrator.store import Store

    store = Store.open_home(workdir / ".ducto")
    stored = store.get_connector_config("conn", "source")
    store.close()
    assert stored is not None and stored["api_key"] == "rotated-key-123"
    logs = run_ducto("logs", "1", "--connection", str(conn), cwd=workdir)
    assert "the source updated its config" in logs.stdout


@pytest.mark.parametrize(
    ("streams", "expected"),
    [
        ([{"name": "nope"}], "streams[nope]: the source has no such stream (it has: orders, users)"),
        ([{"name": "users", "sync_mode": "sometimes"}], "streams[users].sync_mode: 'sometimes' is not one of"),
        (
            [{"name": "users", "cursor_field": "missing"}],
            "streams[users].cursor_field: 'missing' is not in the stream's schema",
        ),
        (
            [{"name": "users", "cursor_field": ["nested", "y"]}],
            "streams[users].cursor_field: 'nested.y' is not in the stream's schema",
        ),
    ],
)
def test_bad_stream_selection_is_a_usage_error_before_anything_runs(
    workdir: Path, streams: list, expected: str
) -> None:
    conn = _connection(workdir, streams=streams)
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "dest.db").exists()


def test_missing_env_and_bad_config_are_usage_errors(workdir: Path) -> None:
    conn = _connection(workdir, {"api_key": "${env:DUCTO_TEST_UNSET_VAR}"})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 2
    assert result.stderr.strip() == (
        f"Error: {conn}: source.config.api_key: environment variable DUCTO_TEST_UNSET_VAR is not set"
    )
    conn = _connection(workdir, {"state_every": "often"})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 2
    assert "conn.yaml: source.config.state_every: 'often' is not of type 'integer'" in result.stderr


def test_overwrite_streams_get_a_new_generation_each_sync(workdir: Path) -> None:
    conn = _connection(workdir, streams=[{"name": "users"}, {"name": "orders", "sync_mode": "full_refresh"}])
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    db = sqlite3.connect(workdir / "dest.db")
    rows = db.execute(
        "SELECT stream, sync_id, generation, minimum, mode FROM catalogs ORDER BY sync_id, stream"
    ).fetchall()
    assert rows == [
        ("orders", 1, 1, 1, "overwrite"),
        ("users", 1, 0, 0, "append_dedup"),
        ("orders", 2, 2, 2, "overwrite"),
        ("users", 2, 0, 0, "append_dedup"),
    ]


def test_global_state_is_stored_whole_and_passed_back(workdir: Path) -> None:
    conn = _connection(workdir, {"global_state": True}, {"die_after": 2000})
    assert run_ducto("sync", str(conn), cwd=workdir).code == 1
    stored = json.loads(run_ducto("state", "show", str(conn), cwd=workdir).stdout)
    assert len(stored) == 1 and stored[0]["type"] == "GLOBAL"
    cursor = {s["stream_descriptor"]["name"]: s["stream_state"]["id"] for s in stored[0]["global"]["stream_states"]}
    assert 0 < cursor["users"] < 2000
    assert set(range(1, cursor["users"] + 1)) <= committed_ids(workdir / "dest.db")["users"]
    conn = _connection(workdir, {"global_state": True})
    assert run_ducto("sync", str(conn), cwd=workdir).code == 0
    _assert_everything_delivered(workdir)


def test_a_state_the_source_never_sent_is_not_stored(workdir: Path) -> None:
    conn = _connection(workdir, dest_extra={"echo_bogus": True})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 0, result.stderr
    assert "a STATE the source never sent; ignored" in result.stderr
    assert stored_cursors(workdir, conn) == STREAMS


def test_a_destination_dying_at_start_fails_the_run(workdir: Path) -> None:
    result = run_ducto("sync", str(_connection(workdir, dest_extra={"exit_on_start": 7})), cwd=workdir)
    assert result.code == 1
    assert "destination failed: exited with code 7" in result.stderr


def test_killed_source_fails_the_run_and_keeps_what_was_committed(workdir: Path) -> None:
    conn = _connection(workdir, {"kill_at": 1234})
    result = run_ducto("sync", str(conn), cwd=workdir)
    assert result.code == 1
    assert "source failed: was killed by SIGKILL" in result.stderr
    assert stored_cursors(workdir, conn) == {"users": 1000}  # the destination committed up to the last state
    _assert_state_not_ahead(workdir, conn)
    assert run_ducto("sync", str(_connection(workdir)), cwd=workdir).code == 0
    _assert_everything_delivered(workdir)
