"""Classifying a source's output by the byte: RECORD lines pass through, the rest is parsed.

A RECORD line is recognised by its prefix (`{"type":"RECORD","record":{"stream":"NAME"` with an
optional namespace first, as orjson and the Airbyte CDK write them); a chunk made only of such
lines is counted with two C-level scans and forwarded as one buffer, without splitting it.
Anything else (other key orders, spaces, other messages) is parsed with orjson, so a RECORD
written differently is still recognised and forwarded byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ducto.orchestrator import jsonutil

_PREFIX = rb'\{"type": ?"RECORD", ?"record": ?\{(?:"namespace": ?(?:null|"([^"\\]*)"), ?)?"stream": ?"([^"\\]*)"'
_FIRST_LINE = re.compile(_PREFIX)
_NEXT_LINES = re.compile(rb"\n" + _PREFIX)

OtherLineHandler = Callable[[dict[str, object], bytes, int], bool]


class MalformedLine(Exception):
    """A line from a connector that is not a protocol message; str() starts with `line N:`."""

    def __init__(self, line_no: int, reason: str) -> None:
        super().__init__(f"line {line_no}: {reason}")
        self.line_no = line_no
        self.reason = reason
        self.forward: list[bytes] = []  # the complete lines before this one, still to be forwarded


@dataclass
class StreamStats:
    """What went through the pipe for one stream."""

    records: int = 0
    bytes: int = 0
    committed_records: int = 0
    states_committed: int = 0
    status: str | None = None


def stream_key(name: str, namespace: str | None) -> str:
    """How the orchestrator names a stream: `namespace.name`, or `name` without a namespace."""
    return f"{namespace}.{name}" if namespace else name


class RecordScanner:
    """Splits complete lines into forwarded bytes, counting records per stream.

    `on_other(message, raw_line, line_no)` receives every non-RECORD message (parsed) and returns
    True when its raw line must be forwarded to the destination too (STATE, STREAM_STATUS).
    """

    def __init__(self, on_other: OtherLineHandler) -> None:
        self.on_other = on_other
        self.stats: dict[str, StreamStats] = {}
        self.lines = 0
        self._by_match: dict[tuple[bytes, bytes], StreamStats] = {}

    def stats_for(self, name: str, namespace: str | None) -> StreamStats:
        """The counters of a stream, created on first use."""
        key = stream_key(name, namespace)
        stats = self.stats.get(key)
        if stats is None:
            stats = self.stats[key] = StreamStats()
        return stats

    def _stats_for_match(self, match: tuple[bytes, bytes]) -> StreamStats:
        stats = self._by_match.get(match)
        if stats is None:
            namespace = match[0].decode() or None
            stats = self._by_match[match] = self.stats_for(match[1].decode(), namespace)
        return stats

    def scan(self, region: bytes) -> list[bytes]:
        """Process `region` (whole lines, ending with a newline); returns the bytes to forward."""
        count = region.count(b"\n")
        first = _FIRST_LINE.match(region)
        if first is not None:
            rest = _NEXT_LINES.findall(region)
            if len(rest) == count - 1:  # every line is a RECORD: the fast path
                key = (first.group(1) or b"", first.group(2))
                if rest.count(key) == count - 1:
                    stats = self._stats_for_match(key)
                    stats.records += count
                    stats.bytes += len(region)
                else:
                    lines = region.split(b"\n")
                    for line, match in zip(lines, [key, *rest], strict=False):
                        stats = self._stats_for_match(match)
                        stats.records += 1
                        stats.bytes += len(line) + 1
                self.lines += count
                return [region]
        return self._scan_lines(region)

    def _scan_lines(self, region: bytes) -> list[bytes]:
        out: list[bytes] = []
        run_start = -1  # start offset of the current run of forwarded RECORD lines
        position = 0
        line_no = self.lines
        end = len(region)
        while position < end:
            newline = region.index(b"\n", position)
            line_no += 1
            match = _FIRST_LINE.match(region, position, newline)
            if match is not None:
                stats = self._stats_for_match((match.group(1) or b"", match.group(2)))
                stats.records += 1
                stats.bytes += newline + 1 - position
                if run_start < 0:
                    run_start = position
            else:
                if run_start >= 0:
                    out.append(region[run_start:position])
                    run_start = -1
                line = region[position:newline]
                if line.strip():
                    self.lines = line_no
                    try:
                        forward = self._other(line, line_no)
                    except MalformedLine as exc:
                        exc.forward = out
                        raise
                    if forward:
                        out.append(region[position : newline + 1])
            position = newline + 1
        if run_start >= 0:
            out.append(region[run_start:end])
        self.lines = line_no
        return out

    def _other(self, line: bytes, line_no: int) -> bool:
        try:
            message = jsonutil.loads(line)
        except jsonutil.JSONDecodeError:
            raise MalformedLine(line_no, f"not JSON: {_excerpt(line)}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise MalformedLine(line_no, f"not a protocol message (no type): {_excerpt(line)}")
        if message["type"] == "RECORD":
            record = message.get("record")
            if not isinstance(record, dict) or not isinstance(record.get("stream"), str):
                raise MalformedLine(line_no, "RECORD without record.stream")
            namespace = record.get("namespace")
            stats = self.stats_for(record["stream"], namespace if isinstance(namespace, str) else None)
            stats.records += 1
            stats.bytes += len(line) + 1
            return True
        return self.on_other(message, line, line_no)


def _excerpt(line: bytes, limit: int = 80) -> str:
    text = line[:limit].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > limit else ""))
