"""The RECORD scanner: byte-exact forwarding and per-stream counts, whatever the mix of lines."""

from __future__ import annotations

import json
import random
import re

import pytest

from ducto.orchestrator.scanner import MalformedLine, RecordScanner


def record(stream: str, i: int, *, spaced: bool = False, namespace: str | None = None, reorder: bool = False) -> bytes:
    body: dict = {"stream": stream, "data": {"id": i, "s": f"v{i}"}, "emitted_at": 1}
    if namespace:
        body = {"namespace": namespace, **body}
    message = {"record": body, "type": "RECORD"} if reorder else {"type": "RECORD", "record": body}
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(message, separators=separators).encode() + b"\n"


STATE = b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{}}}}\n'
LOG = b'{"type":"LOG","log":{"level":"INFO","message":"hello"}}\n'
STATUS = (
    b'{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":0,"stream_status":'
    b'{"stream_descriptor":{"name":"a"},"status":"COMPLETE"}}}\n'
)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def __call__(self, message: dict, line: bytes, line_no: int) -> bool:
        self.seen.append((message["type"], line_no))
        return message["type"] in ("STATE", "TRACE")


def scan(lines: list[bytes]) -> tuple[bytes, RecordScanner, Recorder]:
    recorder = Recorder()
    scanner = RecordScanner(recorder)
    out = b"".join(bytes(part) for part in scanner.scan(b"".join(lines)))
    return out, scanner, recorder


def test_one_stream_of_records_is_forwarded_whole() -> None:
    lines = [record("a", i) for i in range(100)]
    region = b"".join(lines)
    scanner = RecordScanner(Recorder())
    parts = scanner.scan(region)
    assert parts == [region] and parts[0] is region  # not even copied
    assert scanner.stats["a"].records == 100 and scanner.stats["a"].bytes == len(region)
    assert scanner.lines == 100


def test_logs_are_dropped_states_and_statuses_forwarded_in_order() -> None:
    lines = [STATUS, record("a", 1), LOG, record("a", 2), STATE, record("a", 3), LOG]
    out, scanner, recorder = scan(lines)
    assert out == STATUS + record("a", 1) + record("a", 2) + STATE + record("a", 3)
    assert recorder.seen == [("TRACE", 1), ("LOG", 3), ("STATE", 5), ("LOG", 7)]
    assert scanner.stats["a"].records == 3
    assert scanner.stats["a"].bytes == sum(len(record("a", i)) for i in (1, 2, 3))


def test_random_mixes_match_a_line_by_line_reference() -> None:
    rng = random.Random(7)
    for _ in range(200):
        lines: list[bytes] = []
        for i in range(rng.randint(1, 60)):
            kind = rng.random()
            if kind < 0.5:
                lines.append(record(rng.choice(["a", "b", "c"]), i))
            elif kind < 0.6:
                lines.append(record("b", i, spaced=True))
            elif kind < 0.65:
                lines.append(record("c", i, reorder=True))
            elif kind < 0.7:
                lines.append(record("a", i, namespace="ns"))
            elif kind < 0.8:
                lines.append(STATE)
            elif kind < 0.9:
                lines.append(LOG)
            elif kind < 0.95:
                lines.append(STATUS)
            else:
                lines.append(b"\n")
        out, scanner, _ = scan(lines)
        expected = b"".join(line for line in lines if line not in (LOG, b"\n"))
        assert out == expected
        counts: dict[str, list[int]] = {}
        for line in lines:
            if b'"RECORD"' in line:
                body = json.loads(line)["record"]
                key = f"{body['namespace']}.{body['stream']}" if body.get("namespace") else body["stream"]
                entry = counts.setdefault(key, [0, 0])
                entry[0] += 1
                entry[1] += len(line)
        assert {k: [s.records, s.bytes] for k, s in scanner.stats.items() if s.records} == counts
        assert scanner.lines == len(lines)


def test_line_numbers_continue_across_regions_and_malformed_lines_are_named() -> None:
    scanner = RecordScanner(Recorder())
    scanner.scan(record("a", 1) + record("a", 2))
    with pytest.raises(MalformedLine) as caught:
        scanner.scan(record("a", 3) + STATE + b"oops, not json\n" + record("a", 4))
    assert str(caught.value) == "line 5: not JSON: 'oops, not json'"
    assert b"".join(bytes(p) for p in caught.value.forward) == record("a", 3) + STATE


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[1, 2]\n", "not a protocol message (no type)"),
        (b'{"type": "RECORD", "record": {"data": {}}}\n', "RECORD without record.stream"),
    ],
)
def test_messages_that_are_not_protocol_messages(line: bytes, reason: str) -> None:
    with pytest.raises(MalformedLine, match=re.escape(reason)):
        RecordScanner(Recorder()).scan(line)


def test_a_partly_filled_bytearray_gives_the_same_result_as_bytes() -> None:
    rng = random.Random(11)
    for _ in range(100):
        lines = [
            rng.choice([record("a", 1), record("b", 2), STATE, LOG, record("a", 3, spaced=True)])
            for _ in range(rng.randint(1, 30))
        ]
        region = b"".join(lines)
        buffer = bytearray(region + b'{"type":"RECORD","record":{"stream":"a"')  # an unfinished line after size
        expected, reference, _ = scan(lines)
        scanner = RecordScanner(Recorder())
        out = b"".join(bytes(part) for part in scanner.scan(buffer, len(region)))
        assert out == expected
        assert {k: (s.records, s.bytes) for k, s in scanner.stats.items()} == {
            k: (s.records, s.bytes) for k, s in reference.stats.items()
        }


def test_echoed_state_identity_ignores_key_order_stats_and_number_spelling() -> None:
    from ducto.orchestrator.pipe import _state_identity

    sent = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"n": 1.0, "c": "x"}},
        "sourceStats": {"recordCount": 5.0},
    }
    echoed = {
        "stream": {"stream_state": {"c": "x", "n": 1}, "stream_descriptor": {"name": "a"}},
        "type": "STREAM",
        "destinationStats": {"recordCount": 5},
    }
    assert _state_identity(sent) == _state_identity(echoed)
    echoed["stream"]["stream_state"]["n"] = 2
    assert _state_identity(sent) != _state_identity(echoed)
