"""Helpers for orchestrator integration tests: raw-protocol test connectors run by `ducto`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

CONNECTORS = Path(__file__).parent / "connectors"
DUCTO = [sys.executable, "-c", "from ducto.orchestrator.cli.main import main; main()"]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_ducto(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DUCTO_HOME", None)
    proc = subprocess.run(
        [*DUCTO, *args], check=False, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def start_ducto(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DUCTO_HOME", None)
    return subprocess.Popen(
        [*DUCTO, *args], cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def write_connection(
    directory: Path, source: dict[str, Any], destination: dict[str, Any], name: str = "conn", **extra: Any
) -> Path:
    document = {"source": source, "destination": destination, **extra}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def process_source(config: dict[str, Any]) -> dict[str, Any]:
    return {"command": [sys.executable, str(CONNECTORS / "fake_source.py")], "config": config}


def process_destination(config: dict[str, Any]) -> dict[str, Any]:
    return {"command": [sys.executable, str(CONNECTORS / "fake_destination.py")], "config": config}


def committed_ids(db_path: Path) -> dict[str, set[int]]:
    """Stream -> ids committed in the test destination's SQLite file."""
    if not db_path.exists():
        return {}
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT stream, id FROM records").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    result: dict[str, set[int]] = {}
    for stream, record_id in rows:
        result.setdefault(stream, set()).add(record_id)
    return result


def stored_cursors(conn_dir: Path, conn_file: Path) -> dict[str, int]:
    """Stream -> the cursor (`id`) in Ducto's stored state."""
    result = run_ducto("state", "show", str(conn_file), cwd=conn_dir)
    assert result.code == 0, result.stderr
    return {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["id"] for s in json.loads(result.stdout)
    }


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
