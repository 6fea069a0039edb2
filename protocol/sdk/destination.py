"""Destinations: receive record batches, commit, and echo each STATE only once it is durable."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from ducto.protocol import json
from ducto.protocol.errors import ConfigError, ProtocolError
from ducto.protocol.io import MessageWriter, iter_lines
from ducto.protocol.messages import (
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
    JSON lines directly.
    """

    stream: ConfiguredStream
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    size_bytes: int = 0


class Destination(Connector):
    """A destination. Subclasses implement `open`, `write_batch` and `commit`.

    The SDK calls `write_batch` whenever a stream's buffer fills, and before every STATE it calls
    `write_batch` for what is buffered and then `commit()`; only when `commit()` returns is the STATE
    echoed. At the end of input it writes and commits the rest, then calls `close(True)`.
    """

    batch_records: ClassVar[int] = 50_000
    batch_bytes: ClassVar[int] = 32 * 1024 * 1024

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
    """Run the `write` command: route records into batches, commit at each STATE and echo it."""
    destination.open(config, catalog)
    streams: dict[tuple[Any, Any], ConfiguredStream] = {(s.stream.name, s.stream.namespace): s for s in catalog.streams}
    streams.update({(s.stream.name, None): s for s in catalog.streams})
    buffers: dict[str, RecordBatch] = {}
    counts: dict[str, int] = {}  # records per state key since that key's previous echo
    success = False

    def flush_all() -> None:
        for key, batch in list(buffers.items()):
            if batch.records:
                destination.write_batch(batch)
            del buffers[key]

    try:
        for line_no, line in iter_lines(stdin):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProtocolError(f"not valid JSON ({exc.args[0]})", line_no) from None
            kind = obj.get("type") if isinstance(obj, dict) else None
            if kind == "RECORD":
                record = obj.get("record")
                if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
                    raise ProtocolError("RECORD message without an object 'record.data'", line_no)
                name, namespace = record.get("stream"), record.get("namespace")
                configured = streams.get((name, namespace))
                if configured is None:
                    raise ProtocolError(f"record for stream {name!r}, which is not in the catalog", line_no)
                batch = buffers.get(configured.stream.name)
                if batch is None:
                    batch = buffers[configured.stream.name] = RecordBatch(configured)
                batch.records.append(record)
                batch.lines.append(line)
                batch.size_bytes += len(line)
                counts[configured.stream.name] = counts.get(configured.stream.name, 0) + 1
                if len(batch.records) >= destination.batch_records or batch.size_bytes >= destination.batch_bytes:
                    destination.write_batch(batch)
                    del buffers[configured.stream.name]
            elif kind == "STATE":
                msg = message_from_dict(obj, line_no)
                state = msg.payload
                assert isinstance(state, State)
                flush_all()
                destination.commit()
                key = state.key
                count = sum(counts.values()) if key == "__global__" else counts.get(key, 0)
                if key == "__global__":
                    counts.clear()
                else:
                    counts.pop(key, None)
                state.destination_stats = StateStats(count)
                writer.write(msg)
            elif kind == "TRACE":
                trace = obj.get("trace") or {}
                if trace.get("type") == "STREAM_STATUS":
                    trace_msg = message_from_dict(obj, line_no).payload
                    assert isinstance(trace_msg, Trace) and trace_msg.stream_status is not None
                    status = trace_msg.stream_status
                    descriptor = status.stream_descriptor
                    configured = streams.get((descriptor.name, descriptor.namespace))
                    if configured is not None:
                        if status.status == "COMPLETE":
                            flush_all()
                        destination.on_stream_status(configured, status)
            elif kind is None:
                raise ProtocolError("expected a JSON object with a 'type'", line_no)
        flush_all()
        destination.commit()
        success = True
    finally:
        destination.close(success)


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
