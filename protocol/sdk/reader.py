"""The `read` command: run each configured stream, emitting records, statuses and checkpoints."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from ducto.protocol import json
from ducto.protocol.errors import ConfigError, ConnectorError, FailureType
from ducto.protocol.io import MessageWriter
from ducto.protocol.messages import (
    ConfiguredCatalog,
    ConfiguredStream,
    State,
    error_trace,
    stream_state,
    stream_status,
)
from ducto.protocol.sdk.source import ReadContext, Source, Stream

logger = logging.getLogger("ducto.connector")


def resolve_cursor(stream: Stream, configured: ConfiguredStream) -> list[str] | None:
    """Airbyte's rule: a source-defined cursor wins, then the configured one, then the default."""
    discovered = stream.as_catalog_stream()
    if discovered.source_defined_cursor and discovered.default_cursor_field:
        return discovered.default_cursor_field
    return configured.cursor_field or discovered.default_cursor_field


def read(
    source: Source,
    config: Mapping[str, Any],
    catalog: ConfiguredCatalog,
    states: list[State],
    writer: MessageWriter,
) -> bool:
    """Read every configured stream; returns False if any stream failed (the others still run)."""
    by_name = {s.name: s for s in source.streams(config)}
    state_by_stream = {s.stream.stream_descriptor.name: s.stream.stream_state for s in states if s.stream is not None}
    ok = True
    for configured in catalog.streams:
        name = configured.stream.name
        stream = by_name.get(name)
        if stream is None:
            ok = False
            message = f"stream '{name}' is in the catalog but this source does not offer it"
            writer.write(error_trace(message, FailureType.CONFIG_ERROR.value, stream=name))
            writer.write(stream_status(name, "INCOMPLETE", configured.stream.namespace))
            continue
        state = state_by_stream.get(name) if configured.sync_mode == "incremental" else None
        ok = _read_stream(stream, configured, state, writer) and ok
    writer.flush()
    return ok


def _read_stream(
    stream: Stream, configured: ConfiguredStream, state: dict[str, Any] | None, writer: MessageWriter
) -> bool:
    name, namespace = stream.name, configured.stream.namespace
    cursor = resolve_cursor(stream, configured) if configured.sync_mode == "incremental" else None
    ctx = ReadContext(configured.sync_mode, state, cursor, configured.primary_key)
    writer.write(stream_status(name, "STARTED", namespace))
    interval = stream.checkpoint_interval
    head = b'{"type":"RECORD","record":{"stream":' + json.dumps(name)
    if namespace:
        head += b',"namespace":' + json.dumps(namespace)
    head += b',"emitted_at":'
    total = since_checkpoint = 0
    last_emitted: dict[str, Any] | None = None
    emitted_any_state = False

    def checkpoint() -> None:
        nonlocal since_checkpoint, last_emitted, emitted_any_state
        if emitted_any_state and state == last_emitted and since_checkpoint == 0:
            return  # no two identical states in a row
        writer.write(stream_state(name, state or {}, namespace=namespace, record_count=since_checkpoint))
        last_emitted, emitted_any_state, since_checkpoint = state, True, 0

    try:
        stamp = b""
        for record in stream.read_records(ctx):
            if total % 1000 == 0:
                stamp = head + str(time.time_ns() // 1_000_000).encode() + b',"data":'
                if total == 0:
                    writer.write(stream_status(name, "RUNNING", namespace))
            writer.write_line(stamp + json.dumps(record) + b"}}\n")
            total += 1
            since_checkpoint += 1
            if cursor:
                state = stream.get_updated_state(state, record, cursor)
            if interval and since_checkpoint >= interval:
                checkpoint()
        checkpoint()
    except Exception as exc:
        _report_stream_failure(exc, name, writer)
        writer.write(stream_status(name, "INCOMPLETE", namespace))
        return False
    writer.write(stream_status(name, "COMPLETE", namespace))
    logger.info("stream %s: %d records", name, total)
    return True


def _report_stream_failure(exc: Exception, name: str, writer: MessageWriter) -> None:
    if isinstance(exc, ConnectorError):
        failure_type, message, internal = exc.failure_type, exc.message, exc.internal_message
    else:
        failure_type = FailureType.SYSTEM_ERROR
        message = f"stream '{name}' failed: {type(exc).__name__}: {exc}"
        internal = repr(exc)
    writer.write(
        error_trace(
            message,
            failure_type.value,
            internal_message=internal,
            stack_trace=None if isinstance(exc, ConfigError) else traceback.format_exc(),
            stream=name,
        )
    )
