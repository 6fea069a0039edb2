"""Drive a destination's `write` in-process: build messages, run, read back the echoed messages."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from ducto.protocol.sdk import Destination, run


def record(stream: str, data: dict[str, Any], emitted_at: int = 1_700_000_000_000, **extra: Any) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": emitted_at, **extra}}


def state(stream: str, value: Any) -> dict[str, Any]:
    return {
        "type": "STATE",
        "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"v": value}}},
    }


def status(stream: str, value: str = "COMPLETE") -> dict[str, Any]:
    return {
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": 1,
            "stream_status": {"stream_descriptor": {"name": stream}, "status": value},
        },
    }


def configured(
    name: str,
    properties: dict[str, Any] | None,
    mode: str = "append",
    *,
    pk: list[str] | None = None,
    cursor: list[str] | None = None,
    generation_id: int | None = None,
    sync_id: int | None = 7,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if properties is not None:
        schema["properties"] = properties
    stream: dict[str, Any] = {
        "stream": {"name": name, "json_schema": schema, "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": "incremental" if mode == "append_dedup" else "full_refresh",
        "destination_sync_mode": mode,
    }
    if pk:
        stream["primary_key"] = [[k] for k in pk]
    if cursor:
        stream["cursor_field"] = cursor
    if generation_id is not None:
        stream["generation_id"] = generation_id
        stream["minimum_generation_id"] = generation_id if mode == "overwrite" else 0
    if sync_id is not None:
        stream["sync_id"] = sync_id
    return stream


def encode(messages: list[dict[str, Any] | bytes]) -> bytes:
    return b"".join(m if isinstance(m, bytes) else json.dumps(m, ensure_ascii=False).encode() + b"\n" for m in messages)


def write(
    destination: Destination,
    tmp: Path,
    config: dict[str, Any],
    streams: list[dict[str, Any]],
    messages: list[dict[str, Any] | bytes],
) -> tuple[int, list[dict[str, Any]]]:
    """Run `write`; return the exit code and the messages the destination wrote."""
    config_file, catalog_file = tmp / "config.json", tmp / "catalog.json"
    config_file.write_text(json.dumps(config))
    catalog_file.write_text(json.dumps({"streams": streams}))
    out = io.BytesIO()
    code = run(
        destination,
        ["write", "--config", str(config_file), "--catalog", str(catalog_file)],
        stdin=io.BytesIO(encode(messages)),
        stdout=out,
    )
    return code, [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def echoed_states(output: list[dict[str, Any]]) -> list[Any]:
    return [m["state"]["stream"]["stream_state"]["v"] for m in output if m["type"] == "STATE"]


def errors(output: list[dict[str, Any]]) -> list[str]:
    return [m["trace"]["error"]["message"] for m in output if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
