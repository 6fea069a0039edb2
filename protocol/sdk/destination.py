"""Destinations: receive record batches, commit, and echo each STATE only once it is durable."""

from __future__ import annotations

import logging
import os
import re
import select
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ducto.protocol import json
from ducto.protocol.errors import ConfigError, ProtocolError
from ducto.protocol.io import MessageWriter
from ducto.protocol.messages import (
    AirbyteMessage,
    ConfiguredCatalog,
    ConfiguredStream,
    State,
    StateStats,
    Trace,
    TraceStreamStatus,
    message_from_dict,
)
from ducto.protocol.sdk.source import Connector

logger = logging.getLogger("ducto.connector")


@dataclass(slots=True)
class RecordBatch:
    """Records of one stream, in arrival order.

    `records` holds the parsed RECORD payloads (`{"stream", "data", "emitted_at", ...}`); `lines`
    the same records as the raw protocol lines they arrived in, for destinations that bulk-load
    JSON lines directly; `line_numbers` the input line number of each of `lines`. When the
    destination sets `parse_records = False`, `records` stays empty: only `lines` are filled.
    With `record_blocks = True` as well, `lines` stays empty too and `blocks` holds the records:
    newline-terminated runs of consecutive input lines, `block_line_numbers` the input line number
    of each block's first line; `count` is the number of records either way.
    """

    stream: ConfiguredStream
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    size_bytes: int = 0
    line_numbers: list[int] = field(default_factory=list)
    blocks: list[bytes] = field(default_factory=list)
    block_line_numbers: list[int] = field(default_factory=list)
    count: int = 0

    def __len__(self) -> int:
        return self.count if self.blocks else len(self.lines)


# The head of a RECORD line as our SDK, orjson and the Airbyte CDK write it: envelope `type` first,
# then the record's `namespace` (optional) and `stream`. A line that does not start this way is
# parsed in full, so the match only ever decides the routing of lines it is sure about.
_RECORD_HEAD = re.compile(
    rb'\{"type":"RECORD","record":\{(?:"namespace":(?:null|"((?:[^"\\]|\\.)*)"),)?"stream":"((?:[^"\\]|\\.)*)"'
)


class Destination(Connector):
    """A destination. Subclasses implement `open`, `write_batch` and `commit`.

    The SDK calls `write_batch` whenever a stream's buffer fills, and before every STATE it calls
    `write_batch` for what is buffered and then `commit()`; only when `commit()` returns is the STATE
    echoed (with `max_state_delay_seconds` set, states are grouped: see there). At the end of input
    it writes and commits the rest, then calls `close(True)`.
    """

    batch_records: int = 50_000
    batch_bytes: int = 32 * 1024 * 1024
    parse_records: bool = True
    """False: RECORD lines are routed by their head without a JSON parse and `batch.records` stays
    empty; for bulk loaders that hand `batch.lines` to a native JSON reader. Such a destination
    validates the lines itself (a malformed line must still fail the write with its line number)."""
    record_blocks: bool = False
    """With `parse_records = False`: batches carry `blocks` of raw lines instead of `lines` (no
    per-line objects at all for runs of one stream's records; see RecordBatch)."""
    max_state_delay_seconds: float | None = None
    """None: commit and echo at every STATE. A number: a STATE waits (unechoed) for the next commit,
    which happens when a STATE arrives at least this many seconds after the last commit, or at the
    end of input; fewer, larger commits for destinations where a commit is costly, and batches keep
    flowing to `write_batch` meanwhile (a destination may load them in the background)."""

    def open(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        """Prepare for a write (connect, create tables)."""

    def write_batch(self, batch: RecordBatch) -> None:
        """Write one batch (it need not be durable until `commit`)."""
        raise NotImplementedError

    def commit(self) -> None:
        """Make everything written so far durable."""

    def on_stream_status(self, stream: ConfiguredStream, status: TraceStreamStatus) -> None:
        """A stream's status as forwarded by the platform (COMPLETE means the source finished it)."""

    def close(self, success: bool) -> None:
        """Finish the write; `success` is False when input ended with an error."""


def write(
    destination: Destination,
    config: Mapping[str, Any],
    catalog: ConfiguredCatalog,
    stdin: BinaryIO,
    writer: MessageWriter,
) -> None:
    """Run the `write` command: route records into batches, commit, then echo the STATEs it covers."""
    destination.open(config, catalog)
    success = False
    try:
        _WriteLoop(destination, catalog, writer).run(stdin)
        success = True
    finally:
        destination.close(success)


_RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
_PREFIX_LEN = len(_RECORD_PREFIX)
_CHUNK_BYTES = 1 << 18


class _WriteLoop:
    """The `write` command's state: stream buffers, per-state record counts, states awaiting a commit."""

    def __init__(self, destination: Destination, catalog: ConfiguredCatalog, writer: MessageWriter) -> None:
        self.destination = destination
        self.writer = writer
        self.streams: dict[tuple[Any, Any], ConfiguredStream] = {
            (s.stream.name, s.stream.namespace): s for s in catalog.streams
        }
        self.streams.update({(s.stream.name, None): s for s in catalog.streams})
        names = [s.stream.name for s in catalog.streams]
        self.ambiguous = {n for n in names if names.count(n) > 1}
        self.state_keys = {
            s.stream.name: f"{s.stream.namespace}.{s.stream.name}" if s.stream.namespace else s.stream.name
            for s in catalog.streams
        }
        self.buffers: dict[str, RecordBatch] = {}
        self.counts: dict[str, int] = {}  # records per state key since that key's previous state
        self.pending: list[AirbyteMessage] = []  # states received, not yet covered by a commit
        self.routes: dict[bytes, ConfiguredStream] = {}  # RECORD line head -> its stream
        self.last_commit = time.monotonic()

    def run(self, stdin: BinaryIO) -> None:
        """Consume every input line, then write and commit the rest and echo the last states."""
        line_no = 0
        for data, end in self._blocks(stdin):
            n = data.count(b"\n", 0, end)
            if self.destination.parse_records or not self._add_block(data, end, n, line_no):
                lines = data.split(b"\n")
                lines.pop()  # what follows the block's last newline
                self._add_lines(lines, line_no)
            line_no += n
        self._commit()

    def _add_block(self, data: bytes, end: int, n: int, line_no: int) -> bool:
        """Fast path: when every line of the block is a RECORD of one stream, add them all at once.

        A line starts with its stream's exact head (`{"type":"RECORD","record":{"stream":"NAME"`)
        only if it is such a record (inside a line, that text can only follow a `:`, `,` or `[`), so
        counting the heads that start lines tells whether the block is uniform, without a loop.
        """
        if not data.startswith(_RECORD_PREFIX):
            return False
        head = data[: data.find(b'"', _PREFIX_LEN) + 1]
        configured = self.routes.get(head)
        if configured is None or 1 + data.count(b"\n" + head, 0, end) != n:
            return False
        name = configured.stream.name
        key = self.state_keys[name]
        destination = self.destination
        if destination.record_blocks:
            batch = self.buffers.get(name)
            if batch is None:
                batch = self.buffers[name] = RecordBatch(configured)
            batch.blocks.append(data if end == len(data) else data[:end])
            batch.block_line_numbers.append(line_no + 1)
            batch.count += n
            batch.size_bytes += end - n
            self.counts[key] = self.counts.get(key, 0) + n
            if batch.count >= destination.batch_records or batch.size_bytes >= destination.batch_bytes:
                self._batch_full(name, batch)
            return True
        lines = data.split(b"\n")
        lines.pop()
        start = 0
        while start < n:
            batch = self.buffers.get(name)
            if batch is None:
                batch = self.buffers[name] = RecordBatch(configured)
            room = destination.batch_records - len(batch.lines)
            taken = lines if start == 0 and room >= n else lines[start : start + room]
            batch.lines.extend(taken)
            batch.line_numbers.extend(range(line_no + start + 1, line_no + start + len(taken) + 1))
            batch.size_bytes += (end - n) if taken is lines else sum(map(len, taken))
            self.counts[key] = self.counts.get(key, 0) + len(taken)
            start += len(taken)
            if len(batch.lines) >= destination.batch_records or batch.size_bytes >= destination.batch_bytes:
                self._batch_full(name, batch)
        return True

    def _add_lines(self, lines: list[bytes], line_no: int) -> None:
        destination = self.destination
        parse = destination.parse_records
        blocks = destination.record_blocks and not parse
        max_records, max_bytes = destination.batch_records, destination.batch_bytes
        prefix, prefix_len = _RECORD_PREFIX, _PREFIX_LEN
        routes, buffers, counts, state_keys = self.routes, self.buffers, self.counts, self.state_keys
        for raw in lines:
            line_no += 1
            if not parse:
                # Route a RECORD line by its head; the destination parses it in bulk.
                configured = routes.get(raw[: raw.find(b'"', prefix_len) + 1]) if raw.startswith(prefix) else None
                if configured is None and raw.startswith(b'{"type":"RECORD"'):
                    configured = self._route(raw)
                if configured is not None:
                    name = configured.stream.name
                    batch = buffers.get(name)
                    if batch is None:
                        batch = buffers[name] = RecordBatch(configured)
                    if blocks:
                        batch.blocks.append(raw + b"\n")
                        batch.block_line_numbers.append(line_no)
                        batch.count += 1
                    else:
                        batch.lines.append(raw)
                        batch.line_numbers.append(line_no)
                    batch.size_bytes += len(raw)
                    key = state_keys[name]
                    counts[key] = counts.get(key, 0) + 1
                    if len(batch) >= max_records or batch.size_bytes >= max_bytes:
                        self._batch_full(name, batch)
                    continue
            line = raw.rstrip(b"\r")
            if line.strip():
                self._message(line, line_no)

    def _blocks(self, stdin: BinaryIO) -> Iterator[tuple[bytes, int]]:
        """The input in blocks of whole lines: `(data, end)`, `data[:end]` being whole lines, each
        ended by a newline (the rest of `data` starts the next block).

        While states wait for a commit (`max_state_delay_seconds`), reading a pipe waits at most
        until that delay is over: a source gone quiet does not hold its last states back.
        """
        try:
            fd: int | None = stdin.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        rest = b""
        while True:
            delay = self.destination.max_state_delay_seconds
            if fd is not None and self.pending and delay is not None:
                timeout = max(0.0, delay - (time.monotonic() - self.last_commit))
                if not select.select([fd], [], [], timeout)[0]:
                    self._commit()
                    continue
            chunk = os.read(fd, _CHUNK_BYTES) if fd is not None else stdin.read(_CHUNK_BYTES)
            if not chunk:
                break
            data = rest + chunk if rest else chunk
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            if end:
                yield data, end
        if rest:  # a last line without a newline
            yield rest + b"\n", len(rest) + 1

    def _route(self, line: bytes) -> ConfiguredStream | None:
        """Route a RECORD line by its head (cached); None when only a full parse can tell."""
        head = _RECORD_HEAD.match(line)
        if head is None:
            return None
        namespace, name = (json.loads(b'"' + g + b'"') if g is not None else None for g in head.groups())
        if namespace is None and name in self.ambiguous:
            return None  # the namespace may follow `data`: parse the line in full
        configured = self.streams.get((name, namespace))
        if configured is not None:
            self.routes[head[0]] = configured
        return configured

    def _batch_full(self, name: str, batch: RecordBatch) -> None:
        self.destination.write_batch(batch)
        del self.buffers[name]

    def _flush_all(self) -> None:
        for name, batch in list(self.buffers.items()):
            if batch.lines or batch.blocks:
                self.destination.write_batch(batch)
            del self.buffers[name]

    def _commit(self) -> None:
        """Write every buffer, commit, then echo the states received so far, in order."""
        self._flush_all()
        self.destination.commit()
        self.last_commit = time.monotonic()
        for msg in self.pending:
            self.writer.write(msg)
        self.pending.clear()

    def _message(self, line: bytes, line_no: int) -> None:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"not valid JSON ({exc.args[0]})", line_no) from None
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "RECORD":
            self._parsed_record(obj, line, line_no)
        elif kind == "STATE":
            msg = message_from_dict(obj, line_no)
            state = msg.payload
            assert isinstance(state, State)
            key = state.key
            if key == "__global__":
                count = sum(self.counts.values())
                self.counts.clear()
            else:
                count = self.counts.pop(key, 0)
            state.destination_stats = StateStats(count)
            self.pending.append(msg)
            delay = self.destination.max_state_delay_seconds
            if delay is None or time.monotonic() - self.last_commit >= delay:
                self._commit()
        elif kind == "TRACE":
            trace = obj.get("trace") or {}
            if trace.get("type") == "STREAM_STATUS":
                trace_msg = message_from_dict(obj, line_no).payload
                assert isinstance(trace_msg, Trace) and trace_msg.stream_status is not None
                status = trace_msg.stream_status
                descriptor = status.stream_descriptor
                configured = self.streams.get((descriptor.name, descriptor.namespace))
                if configured is not None:
                    if status.status == "COMPLETE":
                        self._flush_all()
                    self.destination.on_stream_status(configured, status)
        elif kind is None:
            raise ProtocolError("expected a JSON object with a 'type'", line_no)

    def _parsed_record(self, obj: dict[str, Any], line: bytes, line_no: int) -> None:
        record = obj.get("record")
        if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
            raise ProtocolError("RECORD message without an object 'record.data'", line_no)
        configured = self.streams.get((record.get("stream"), record.get("namespace")))
        if configured is None:
            raise ProtocolError(f"record for stream {record.get('stream')!r}, which is not in the catalog", line_no)
        name = configured.stream.name
        batch = self.buffers.get(name)
        if batch is None:
            batch = self.buffers[name] = RecordBatch(configured)
        if self.destination.parse_records:
            batch.records.append(record)
        batch.lines.append(line)
        batch.line_numbers.append(line_no)
        batch.size_bytes += len(line)
        key = self.state_keys[name]
        self.counts[key] = self.counts.get(key, 0) + 1
        if len(batch.lines) >= self.destination.batch_records or batch.size_bytes >= self.destination.batch_bytes:
            self._batch_full(name, batch)


def check_catalog_supported(destination: Destination, catalog: ConfiguredCatalog) -> None:
    """Reject destination sync modes the destination's spec does not list."""
    supported = destination.spec().supported_destination_sync_modes
    if not supported:
        return
    for s in catalog.streams:
        if s.destination_sync_mode not in supported:
            raise ConfigError(
                f"stream '{s.stream.name}': destination_sync_mode '{s.destination_sync_mode}' is not "
                f"supported (supported: {', '.join(supported)})"
            )
