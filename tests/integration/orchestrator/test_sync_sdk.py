"""The orchestrator with connectors written on the Ducto SDK (the toy fixture), via the process runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from .conftest import run_ducto

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_sdk_source_into_sdk_destination_resumes_from_echoed_state(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "toy_connector"]
    env = {"PYTHONPATH": str(FIXTURES)}
    (tmp_path / "conn.yaml").write_text(
        yaml.safe_dump(
            {
                "source": {"command": command, "env": env, "config": {"count": 10, "api_key": "${env:TOY_KEY}"}},
                "destination": {
                    "command": command,
                    "env": env,
                    "config": {"out_path": str(out), "count": 0, "api_key": "x"},
                },
            }
        )
    )
    first = run_ducto("sync", "conn.yaml", cwd=tmp_path, env={"TOY_KEY": "toy-secret-1"})
    assert first.code == 0, first.stderr
    assert first.stdout.startswith("run 1 succeeded: 20 records")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted((r["stream"], r["data"]["id"]) for r in records) == sorted(
        [("numbers", i) for i in range(1, 11)] + [("letters", i) for i in range(1, 11)]
    )
    state = json.loads(run_ducto("state", "show", "conn.yaml", "--stream", "numbers", cwd=tmp_path).stdout)
    assert state == {"id": 10}

    second = run_ducto("sync", "conn.yaml", cwd=tmp_path, env={"TOY_KEY": "toy-secret-1"})
    assert second.code == 0, second.stderr
    assert second.stdout.startswith("run 2 succeeded: 10 records")  # numbers resumed, letters is full refresh
    summary = second.stdout.splitlines()
    assert any(line.split()[:2] == ["numbers", "0"] for line in summary)


def test_sdk_source_failure_is_reported_with_its_trace_message_masked(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "toy_connector"]
    env = {"PYTHONPATH": str(FIXTURES)}
    (tmp_path / "conn.yaml").write_text(
        yaml.safe_dump(
            {
                "source": {
                    "command": command,
                    "env": env,
                    "config": {"count": 5, "api_key": "${env:TOY_KEY}", "fail_stream": "numbers"},
                },
                "destination": {
                    "command": command,
                    "env": env,
                    "config": {"out_path": str(tmp_path / "out.jsonl"), "count": 0, "api_key": "x"},
                },
            }
        )
    )
    result = run_ducto("sync", "conn.yaml", cwd=tmp_path, env={"TOY_KEY": "toy-secret-2"})
    assert result.code == 1
    assert "source failed:" in result.stderr
    assert "toy-secret-2" not in result.stderr
    logs = run_ducto("logs", "1", cwd=tmp_path)
    assert "toy-secret-2" not in logs.stdout
