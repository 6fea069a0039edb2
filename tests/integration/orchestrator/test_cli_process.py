"""`ducto init`, `ducto state`, `ducto runs`, `ducto logs` and the connector commands (process runner)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from .conftest import CONNECTORS, committed_ids, run_ducto

SOURCE = f"{sys.executable} {CONNECTORS / 'fake_source.py'}"
DESTINATION = f"{sys.executable} {CONNECTORS / 'fake_destination.py'}"


def test_init_scaffolds_a_connection_that_syncs(tmp_path: Path) -> None:
    (tmp_path / "source.yaml").write_text("streams: {users: 30, orders: 20}\napi_key: ${env:INIT_KEY}\n")
    (tmp_path / "destination.yaml").write_text(f"path: {tmp_path / 'dest.db'}\n")
    env = {"INIT_KEY": "init-secret-99"}
    result = run_ducto(
        "init",
        "conn.yaml",
        "--source-command",
        SOURCE,
        "--source-config",
        "source.yaml",
        "--destination-command",
        DESTINATION,
        "--destination-config",
        "destination.yaml",
        cwd=tmp_path,
        env=env,
    )
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "wrote conn.yaml: 2 streams"
    text = (tmp_path / "conn.yaml").read_text()
    assert "init-secret-99" not in text
    document = yaml.safe_load(text)
    assert document["source"]["config"] == "source.yaml"
    assert document["streams"] == [
        {"name": "users", "sync_mode": "incremental", "destination_sync_mode": "append_dedup", "cursor_field": "id"},
        {"name": "orders", "sync_mode": "incremental", "destination_sync_mode": "append_dedup", "cursor_field": "id"},
    ]
    again = run_ducto(
        "init",
        "conn.yaml",
        "--source-command",
        SOURCE,
        "--source-config",
        "source.yaml",
        "--destination-command",
        DESTINATION,
        cwd=tmp_path,
    )
    assert again.code == 2 and "conn.yaml exists (use --force to overwrite it)" in again.stderr
    sync = run_ducto("sync", "conn.yaml", cwd=tmp_path, env=env)
    assert sync.code == 0, sync.stderr
    assert committed_ids(tmp_path / "dest.db") == {"users": set(range(1, 31)), "orders": set(range(1, 21))}


def test_state_show_set_reset_and_history(tmp_path: Path) -> None:
    (tmp_path / "conn.yaml").write_text(
        yaml.safe_dump(
            {
                "source": {"command": SOURCE, "config": {"streams": {"users": 50}, "state_every": 10}},
                "destination": {"command": DESTINATION, "config": {"path": str(tmp_path / "dest.db")}},
            }
        )
    )
    assert run_ducto("sync", "conn.yaml", cwd=tmp_path).code == 0
    assert json.loads(run_ducto("state", "show", "conn.yaml", "--stream", "users", cwd=tmp_path).stdout) == {"id": 50}

    assert run_ducto("state", "set", "conn.yaml", "--stream", "users", '{"id": 45}', cwd=tmp_path).code == 0
    assert run_ducto("sync", "conn.yaml", cwd=tmp_path).stdout.startswith("run 2 succeeded: 5 records")

    bad = run_ducto("state", "set", "conn.yaml", "--stream", "users", "{id: 1", cwd=tmp_path)
    assert bad.code == 2 and bad.stderr.startswith("Error: VALUE is not valid JSON")
    (tmp_path / "state.json").write_text(
        json.dumps([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"id": 48}}}])
    )
    assert run_ducto("state", "set", "conn.yaml", "--file", "state.json", cwd=tmp_path).code == 0
    assert json.loads(run_ducto("state", "show", "conn.yaml", cwd=tmp_path).stdout)[0]["stream"]["stream_state"] == {
        "id": 48
    }

    reset = run_ducto("state", "reset", "conn.yaml", cwd=tmp_path)
    assert reset.stdout.strip() == "state of conn: reset (1 removed)"
    assert json.loads(run_ducto("state", "show", "conn.yaml", cwd=tmp_path).stdout) == []
    assert run_ducto("sync", "conn.yaml", cwd=tmp_path).stdout.startswith("run 3 succeeded: 50 records")

    runs = run_ducto("runs", "conn.yaml", cwd=tmp_path)
    assert runs.code == 0
    lines = runs.stdout.splitlines()
    assert lines[0].startswith("run 3  conn  succeeded") and "50 records" in lines[0]
    assert lines[1].strip().startswith("users: 50 records") and "50 committed, complete" in lines[1]
    logs = run_ducto("logs", "3", cwd=tmp_path)  # ./.ducto is found from the current directory
    assert logs.code == 0 and logs.stdout.strip().endswith("run 3 succeeded")
    assert "destination INFO  wrote 50 records" in logs.stdout
    missing = run_ducto("logs", "99", cwd=tmp_path)
    assert missing.code == 2 and "no run 99" in missing.stderr


def test_connector_commands_with_a_local_command(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("streams: {users: 1}\napi_key: wrong\n")
    spec = run_ducto("spec", "--command", SOURCE, cwd=tmp_path)
    assert spec.code == 0 and "connectionSpecification" in json.loads(spec.stdout)
    check = run_ducto("check", "--command", SOURCE, "--config", "config.yaml", cwd=tmp_path)
    assert check.code == 1 and check.stderr.strip() == "Error: check failed: bad api_key"
    usage = run_ducto("discover", "--command", SOURCE, cwd=tmp_path)
    assert usage.code == 2 and "--config is required" in usage.stderr
    neither = run_ducto("spec", cwd=tmp_path)
    assert neither.code == 2 and "give an IMAGE" in neither.stderr
    crash = run_ducto("spec", "--command", f"{sys.executable} -c 'import sys; sys.exit(4)'", cwd=tmp_path)
    assert crash.code == 1 and crash.stderr.strip() == "Error: connector spec exited with code 4"
