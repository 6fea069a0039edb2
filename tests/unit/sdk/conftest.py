"""Helpers to run the toy connector in-process or as a subprocess and collect its messages."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from toy_connector.toy import ToyDestination, ToySource

from ducto.protocol import json
from ducto.protocol.sdk import run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@dataclass
class Result:
    exit_code: int
    stdout: bytes
    stderr: bytes = b""

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


def run_in_process(argv: list[str], stdin: bytes = b"", destination: bool = False) -> Result:
    out = io.BytesIO()
    code = run(ToyDestination() if destination else ToySource(), argv, stdin=io.BytesIO(stdin), stdout=out)
    return Result(code, out.getvalue())


def run_subprocess(argv: list[str], stdin: bytes = b"") -> Result:
    env = {**os.environ, "PYTHONPATH": f"{FIXTURES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run(  # noqa: PLW1510 - the exit code is the result
        [sys.executable, "-m", "toy_connector", *argv], input=stdin, capture_output=True, env=env, timeout=60
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def files(tmp_path: Path):
    """Write JSON documents to files and return their paths."""

    def write(name: str, doc: Any) -> str:
        path = tmp_path / name
        path.write_bytes(json.dumps(doc))
        return str(path)

    return write


def catalog(*streams: tuple[str, str, str]) -> dict[str, Any]:
    """A configured catalog for the toy source: (name, sync_mode, destination_sync_mode) per stream."""
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": sync,
                "destination_sync_mode": dest,
            }
            for name, sync, dest in streams
        ]
    }
