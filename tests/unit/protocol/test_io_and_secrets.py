"""The writer never tears lines, batches records, and masks secrets in everything but records."""

from __future__ import annotations

import io
from typing import Any

from ducto.protocol import json
from ducto.protocol.io import FLUSH_BYTES, MessageWriter
from ducto.protocol.messages import Log, Record, error_trace
from ducto.protocol.secrets import MASK, SecretMasker, secret_paths, secret_values


class CountingStream(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> int:
        self.writes.append(bytes(data))
        return super().write(data)


def test_each_write_holds_whole_lines_and_records_are_batched() -> None:
    out = CountingStream()
    writer = MessageWriter(out)
    for i in range(5000):
        writer.write(Record("s", {"i": i, "pad": "x" * 50}, 1))
    writer.write(Log("INFO", "done"))
    assert all(w.endswith(b"\n") for w in out.writes)
    assert len(out.writes) < 5000 // 100
    assert max(len(w) for w in out.writes) < FLUSH_BYTES + 200
    lines = out.getvalue().splitlines()
    assert len(lines) == 5001 and json.loads(lines[-1])["type"] == "LOG"


def test_non_record_messages_flush_in_order_after_pending_records() -> None:
    out = CountingStream()
    writer = MessageWriter(out)
    writer.write(Record("s", {"i": 1}, 1))
    writer.write(Log("INFO", "after record"))
    kinds = [json.loads(line)["type"] for line in out.getvalue().splitlines()]
    assert kinds == ["RECORD", "LOG"]


SPEC = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "airbyte_secret": True},
        "auth": {
            "oneOf": [
                {"properties": {"password": {"type": "string", "airbyte_secret": True}}},
                {"properties": {"token": {"type": "string", "airbyte_secret": True}}},
            ]
        },
        "hosts": {"type": "array", "items": {"properties": {"secret": {"airbyte_secret": True}}}},
        "name": {"type": "string"},
    },
}


def test_secret_paths_follow_oneof_and_arrays() -> None:
    assert sorted(secret_paths(SPEC)) == [("api_key",), ("auth", "password"), ("auth", "token"), ("hosts", "secret")]


def test_secret_values_found_in_config() -> None:
    config = {"api_key": "K1", "auth": {"password": "P1"}, "hosts": [{"secret": "H1"}, {"secret": "H2"}], "name": "n"}
    assert secret_values(config, SPEC) == {"K1", "P1", "H1", "H2"}


def test_masker_masks_logs_and_traces_but_not_records() -> None:
    out = io.BytesIO()
    writer = MessageWriter(out, SecretMasker(["hunter2", "hunter2-long"]))
    writer.write(Log("INFO", "connecting with hunter2-long and hunter2"))
    writer.write(error_trace("failed: hunter2", internal_message="key=hunter2", stack_trace='x = "hunter2"'))
    writer.write(Record("s", {"value": "hunter2"}, 1))
    writer.flush()
    text = out.getvalue().decode()
    log, trace, record = (json.loads(line) for line in text.splitlines())
    assert log["log"]["message"] == f"connecting with {MASK} and {MASK}"
    assert "hunter2" not in json.dumps(trace).decode()
    assert record["record"]["data"]["value"] == "hunter2"
