"""`parse_records = False`: RECORD lines routed by their head, in blocks, must batch exactly as parsing does."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest

from ducto.protocol import json
from ducto.protocol.sdk import Destination, RecordBatch, run
from ducto.protocol.sdk import destination as destination_module

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NAMES = ["users", "users2", 'we"ird', "ns_stream"]


class Collecting(Destination):
    spec_path = str(FIXTURES / "toy_connector" / "spec.yaml")
    batch_records = 7
    parse_records = True

    def open(self, config: Any, catalog: Any) -> None:
        self.batches: list[tuple[str, list[bytes], list[int]]] = []
        self.commits = 0

    def write_batch(self, batch: RecordBatch) -> None:
        if self.parse_records:
            assert len(batch.records) == len(batch.lines)
        else:
            assert batch.records == []
        if self.record_blocks:
            assert batch.lines == [] and all(b.endswith(b"\n") for b in batch.blocks)
            lines, numbers = [], []
            for block, first in zip(batch.blocks, batch.block_line_numbers, strict=True):
                block_lines = block.split(b"\n")[:-1]
                lines += block_lines
                numbers += range(first, first + len(block_lines))
            assert len(batch) == batch.count == len(lines)
            self.batches.append((batch.stream.stream.name, lines, numbers))
        else:
            self.batches.append((batch.stream.stream.name, list(batch.lines), list(batch.line_numbers)))

    def commit(self) -> None:
        self.commits += 1


class Fast(Collecting):
    parse_records = False


class Blocks(Collecting):
    """Blocks may overshoot `batch_records` by a block: only the concatenation is compared."""

    parse_records = False
    record_blocks = True


def _input(seed: int) -> bytes:
    rnd = random.Random(seed)
    out = []
    for i in range(3000):
        roll = rnd.random()
        uniform = seed == 3 and i < 2500  # long single-stream runs: whole blocks take the bulk path
        name = NAMES[0] if roll < 0.7 or uniform else rnd.choice(NAMES)
        record: dict[str, Any] = {"stream": name, "data": {"i": i, "nested": {"type": "RECORD"}}, "emitted_at": 1}
        if name == "ns_stream":
            record = {"namespace": "ns", **record}  # namespace first: routed by the regex
        out.append(json.dump_line({"type": "RECORD", "record": record}))
        if rnd.random() < (0.001 if uniform else 0.01):
            out.append(
                json.dump_line(
                    {
                        "type": "STATE",
                        "state": {
                            "type": "STREAM",
                            "stream": {"stream_descriptor": {"name": name}, "stream_state": {"i": i}},
                        },
                    }
                )
            )
        if rnd.random() < 0.005 and not uniform:
            out.append(b"\n")
    out.append(b'{"type":"RECORD","record":{"stream":"users","data":{"last":true},"emitted_at":1}}')  # no newline
    return b"".join(out)


def _run(destination: Collecting, stdin: bytes, tmp_path: Path) -> tuple[int, bytes]:
    (tmp_path / "c.json").write_bytes(json.dumps({"count": 0, "api_key": "k"}))
    streams = [
        {
            "stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "append",
        }
        for n in NAMES
    ]
    streams[-1]["stream"]["namespace"] = "ns"
    (tmp_path / "cat.json").write_bytes(json.dumps({"streams": streams}))
    out = io.BytesIO()
    argv = ["write", "--config", str(tmp_path / "c.json"), "--catalog", str(tmp_path / "cat.json")]
    return run(destination, argv, stdin=io.BytesIO(stdin), stdout=out), out.getvalue()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_routing_batches_like_parsing(seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = _input(seed)
    bulk = []
    add_block = destination_module._WriteLoop._add_block

    def counting(self: Any, *args: Any) -> bool:
        taken = add_block(self, *args)
        bulk.append(taken)
        return taken

    monkeypatch.setattr(destination_module._WriteLoop, "_add_block", counting)
    monkeypatch.setattr(destination_module, "_CHUNK_BYTES", 4096)
    parsed, fast = Collecting(), Fast()
    code_parsed, out_parsed = _run(parsed, stdin, tmp_path)
    code_fast, out_fast = _run(fast, stdin, tmp_path)
    assert code_parsed == code_fast == 0
    assert out_fast == out_parsed  # same states, same destinationStats
    assert fast.batches == parsed.batches
    assert sum(len(b[1]) for b in fast.batches) == 3001
    assert fast.commits == parsed.commits
    blocks = Blocks()
    code_blocks, out_blocks = _run(blocks, stdin, tmp_path)
    assert code_blocks == 0 and out_blocks == out_parsed
    flat = [(name, line, no) for name, lines, nos in parsed.batches for line, no in zip(lines, nos, strict=True)]
    flat_blocks = [(name, line, no) for name, lines, nos in blocks.batches for line, no in zip(lines, nos, strict=True)]
    assert sorted(flat_blocks, key=lambda t: t[2]) == sorted(flat, key=lambda t: t[2])
    for name in NAMES:  # and each stream's records reach the destination in input order
        assert [t for t in flat_blocks if t[0] == name] == [t for t in flat if t[0] == name]
    if seed == 3:
        assert bulk.count(True) > 20 and bulk.count(False) > 5


def test_fast_routing_still_rejects_unknown_streams_and_bad_lines(tmp_path: Path) -> None:
    code, out = _run(Fast(), b'{"type":"RECORD","record":{"stream":"nope","data":{}}}\n', tmp_path)
    assert code == 1 and b"'nope'" in out
    code, out = _run(Fast(), b'{"type":"STATE",\n', tmp_path)
    assert code == 1 and b"line 1" in out
