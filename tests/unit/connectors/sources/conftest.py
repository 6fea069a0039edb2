"""Run the source connectors in-process (through the SDK's real `run`) and collect their messages."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ducto.protocol import json
from ducto.protocol.sdk import run

ROOT = Path(__file__).resolve().parents[4]
for _name in ("source-faker", "source-file"):
    _path = str(ROOT / "connectors" / _name)
    if _path not in sys.path:
        sys.path.insert(0, _path)


@dataclass
class Result:
    exit_code: int
    stdout: bytes

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]["data"] for m in self.of_type("RECORD") if stream is None or m["record"]["stream"] == stream
        ]

    def states(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["state"]
            for m in self.of_type("STATE")
            if stream is None or m["state"]["stream"]["stream_descriptor"]["name"] == stream
        ]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    def statuses(self, stream: str) -> list[str]:
        return [
            m["trace"]["stream_status"]["status"]
            for m in self.of_type("TRACE")
            if m["trace"]["type"] == "STREAM_STATUS"
            and m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
        ]


class Runner:
    """Writes config/catalog/state files into a folder and runs a connector command in-process."""

    def __init__(self, connector_factory: Any, folder: Path) -> None:
        self.factory = connector_factory
        self.folder = folder
        self.n = 0

    def _file(self, name: str, doc: Any) -> str:
        self.n += 1
        path = self.folder / f"{self.n:03d}-{name}.json"
        path.write_bytes(json.dumps(doc))
        return str(path)

    def __call__(self, command: str, config: Any = None, catalog: Any = None, state: Any = None) -> Result:
        argv = [command]
        if config is not None:
            argv += ["--config", self._file("config", config)]
        if catalog is not None:
            argv += ["--catalog", self._file("catalog", catalog)]
        if state is not None:
            argv += ["--state", self._file("state", state)]
        out = io.BytesIO()
        code = run(self.factory(), argv, stdout=out)
        return Result(code, out.getvalue())


def configured_catalog(*streams: str | tuple[str, str], cursor: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Streams as `name` (full_refresh) or `(name, sync_mode)`; `cursor` gives a catalog-chosen cursor."""
    out = []
    for item in streams:
        name, mode = (item, "full_refresh") if isinstance(item, str) else item
        entry: dict[str, Any] = {
            "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": mode,
            "destination_sync_mode": "append" if mode == "incremental" else "overwrite",
        }
        if cursor and name in cursor:
            entry["cursor_field"] = cursor[name]
        out.append(entry)
    return {"streams": out}


def last_state_file(result: Result) -> list[dict[str, Any]]:
    """The state file an orchestrator would save after `result`: the last state of each stream."""
    latest: dict[str, dict[str, Any]] = {}
    for state in result.states():
        latest[state["stream"]["stream_descriptor"]["name"]] = {"type": "STREAM", "stream": state["stream"]}
    return list(latest.values())
