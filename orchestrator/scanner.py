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
_LINE_STARTS = re.compile(rb"\n")

OtherLineHandler = Callable[[dict[str, object], bytes, int], bool]


class MalformedLine(Exception):
    """A line from a connector that is not a protocol message; str() starts with `line N:`."""

    def __init__(self, line_no: int, reason: str) -> None:
        super().__init__(f"line {line_no}: {reason}")
        self.line_no = line_no
        self.reason = reason
        self.forward: list[bytes | memoryview] = []  # the complete lines before this one, still to be forwarded


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
        self._finders: dict[bytes, re.Pattern[bytes]] = {}

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

    def scan(self, buffer: bytes | bytearray, size: int | None = None) -> list[bytes | memoryview]:
        """Process `buffer[:size]` (whole lines, ending with a newline); returns the pieces to forward.

        The pieces are `buffer` itself or memoryviews into it: write them before reusing it.
        The first RECORD line's prefix up to its stream name (its "head") is counted with one
        `count`; when every line starts with it, the region is one stream's records and goes out
        whole. Otherwise only the lines that do not start with the head are looked at: records
        of other streams by their prefix, anything else parsed.
        """
        end = len(buffer) if size is None else size
        count = buffer.count(b"\n", 0, end)
        match = _FIRST_LINE.match(buffer, 0, end)
        starts_with_head = match is not None
        if match is None:
            match = _NEXT_LINES.search(buffer, 0, end)
        if match is None:  # no RECORD written the usual way: look at every line
            return self._scan_positions(buffer, end, count=count, main=None, first=0, finder=_LINE_STARTS)
        head = bytes(buffer[match.start() + (0 if starts_with_head else 1) : match.end()])
        main = self._stats_for_match((match.group(1) or b"", match.group(2)))
        main_count = buffer.count(b"\n" + head, 0, end) + starts_with_head
        if main_count == count:  # the fast path: one stream's records, forwarded as one buffer
            main.records += count
            main.bytes += end
            self.lines += count
            return [buffer if end == len(buffer) and isinstance(buffer, bytes) else memoryview(buffer)[:end]]
        finder = self._finders.get(head)
        if finder is None:
            if len(self._finders) > 64:
                self._finders.clear()
            finder = self._finders[head] = re.compile(b"\n(?!" + re.escape(head) + b")")
        main.records += main_count
        return self._scan_positions(
            buffer, end, count=count, main=main, first=0 if starts_with_head else -1, finder=finder
        )

    def _scan_positions(
        self,
        buffer: bytes | bytearray,
        size: int,
        *,
        count: int,
        main: StreamStats | None,
        first: int,
        finder: re.Pattern[bytes],
    ) -> list[bytes | memoryview]:
        """Handle the lines that do not start with the main stream's head (`first` < 0: line 1 is one)."""
        view = memoryview(buffer)
        out: list[bytes | memoryview] = []
        segment = 0  # start of the bytes not yet added to `out`
        other_bytes = 0
        line_base, counted_to, counted = self.lines, 0, 0
        starts = [m.end() for m in finder.finditer(buffer, 0, size - 1)]
        if first < 0 or main is None:
            starts.insert(0, 0)
        for position in starts:
            end = buffer.index(b"\n", position, size) + 1
            other_bytes += end - position
            record = _FIRST_LINE.match(buffer, position, end)
            if record is not None:  # a record of another stream
                stats = self._stats_for_match((record.group(1) or b"", record.group(2)))
                stats.records += 1
                stats.bytes += end - position
                continue
            line = bytes(buffer[position : end - 1])
            forward = False
            if line.strip():
                counted += buffer.count(b"\n", counted_to, position)
                counted_to = position
                try:
                    forward = self._other(line, line_base + counted + 1)
                except MalformedLine as exc:
                    exc.forward = [*out, view[segment:position]] if position > segment else out
                    self.lines = line_base + counted
                    raise
            if not forward:
                if position > segment:
                    out.append(view[segment:position])
                segment = end
        if segment < size:
            out.append(view[segment:size])
        if main is not None:
            main.bytes += size - other_bytes
        self.lines = line_base + count
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
