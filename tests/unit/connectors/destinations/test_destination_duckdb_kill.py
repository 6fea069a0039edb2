"""A destination-duckdb process killed with SIGKILL loses nothing it acknowledged with a STATE."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from destination_harness import configured, encode, record, state

CONNECTOR = Path(__file__).resolve().parents[4] / "connectors" / "destination-duckdb"


def test_kill_9_keeps_every_record_before_the_last_echoed_state(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "config.json").write_text(json.dumps({"path": str(db), "commit_interval_seconds": 0}))
    props = {"id": {"type": "integer"}, "pad": {"type": "string"}}
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": [configured("t", props)]}))
    env = {**os.environ, "PYTHONPATH": str(CONNECTOR), "TMPDIR": str(tmp_path)}  # batch files die with tmp_path
    cmd = [sys.executable, "-m", "destination_duckdb", "write", "--config", "config.json", "--catalog", "catalog.json"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    sent = 0
    acknowledged = 0
    try:
        for checkpoint in range(1, 4):
            batch = [record("t", {"id": sent + i, "pad": "x" * 100}) for i in range(2000)]
            proc.stdin.write(encode([*batch, state("t", checkpoint)]))
            proc.stdin.flush()
            sent += len(batch)
            echoed = json.loads(proc.stdout.readline())
            assert echoed["type"] == "STATE" and echoed["state"]["stream"]["stream_state"] == {"v": checkpoint}
            acknowledged = sent
        # Records after the last state, never acknowledged; then the process dies mid-stream.
        proc.stdin.write(encode([record("t", {"id": sent + i, "pad": "y"}) for i in range(1500)]))
        proc.stdin.flush()
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    con = duckdb.connect(str(db))
    count, distinct, low, high = con.execute("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM t").fetchone()
    con.close()
    assert acknowledged == 6000
    assert count >= acknowledged and count == distinct
    assert (low, high) == (0, count - 1)  # a prefix of what was sent, never a hole


def test_a_quiet_source_still_gets_its_states_echoed_after_the_commit_interval(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"path": str(tmp_path / "w.duckdb"), "commit_interval_seconds": 0.3})
    )
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": [configured("t", {"id": {"type": "integer"}})]}))
    env = {**os.environ, "PYTHONPATH": str(CONNECTOR), "TMPDIR": str(tmp_path)}  # batch files die with tmp_path
    cmd = [sys.executable, "-m", "destination_duckdb", "write", "--config", "config.json", "--catalog", "catalog.json"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        # No more input after these: the states must come back once the commit interval is over.
        proc.stdin.write(encode([record("t", {"id": 1}), state("t", 1), record("t", {"id": 2}), state("t", 2)]))
        proc.stdin.flush()
        started = time.monotonic()
        first = json.loads(proc.stdout.readline())
        second = json.loads(proc.stdout.readline())  # arrives although stdin stays open and silent
        waited = time.monotonic() - started
        assert [first["state"]["stream"]["stream_state"], second["state"]["stream"]["stream_state"]] == [
            {"v": 1},
            {"v": 2},
        ]
        assert waited < 5
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0
