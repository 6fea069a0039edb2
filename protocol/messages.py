"""Models for every Airbyte Protocol message, the catalogs, and the envelope codec.

`parse_message(line)` turns one line into an `AirbyteMessage` whose `payload` is one of the models
below; `serialize(msg)` turns a model (or an envelope) back into one line. RECORD, the hot path,
has a hand-written codec; everything else goes through `ducto.protocol.models`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from ducto.protocol import json
from ducto.protocol.errors import ProtocolError
from ducto.protocol.models import extra_field, from_dict, to_dict, wire

SyncMode = Literal["full_refresh", "incremental"]
DestinationSyncMode = Literal["append", "overwrite", "append_dedup", "update", "soft_delete"]
StreamStatusValue = Literal["STARTED", "RUNNING", "COMPLETE", "INCOMPLETE"]
FailureTypeValue = Literal["system_error", "config_error", "transient_error"]
LogLevel = Literal["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"]


def now_ms() -> int:
    """The current time as integer epoch milliseconds (the protocol's `emitted_at`)."""
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class StreamDescriptor:
    """Names a stream: `name` plus an optional `namespace`."""

    name: str
    namespace: str | None = None
    extra: dict[str, Any] = extra_field()


# --- RECORD ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """One row of a stream. `emitted_at` is epoch milliseconds."""

    stream: str
    data: dict[str, Any]
    emitted_at: int
    namespace: str | None = None
    meta: dict[str, Any] | None = None
    extra: dict[str, Any] = extra_field()


def record_from_dict(d: Any, path: str = "record") -> Record:
    """Decode a RECORD payload (hand-written: this runs once per row in destinations)."""
    if not isinstance(d, dict):
        raise ProtocolError(f"{path}: expected an object")
    try:
        stream, data, emitted_at = d["stream"], d["data"], d["emitted_at"]
    except KeyError as missing:
        raise ProtocolError(f"{path}.{missing.args[0]}: required field is missing") from None
    if not isinstance(stream, str):
        raise ProtocolError(f"{path}.stream: expected a string")
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}.data: expected an object")
    if not isinstance(emitted_at, int | float) or isinstance(emitted_at, bool):
        raise ProtocolError(f"{path}.emitted_at: expected a number")
    if len(d) == 3:
        return Record(stream, data, int(emitted_at))
    extra = {k: v for k, v in d.items() if k not in _RECORD_KEYS}
    return Record(stream, data, int(emitted_at), d.get("namespace"), d.get("meta"), extra)


_RECORD_KEYS = frozenset(("stream", "data", "emitted_at", "namespace", "meta"))


def record_to_dict(r: Record) -> dict[str, Any]:
    """Encode a RECORD payload."""
    out: dict[str, Any] = {"stream": r.stream, "data": r.data, "emitted_at": r.emitted_at}
    if r.namespace is not None:
        out["namespace"] = r.namespace
    if r.meta is not None:
        out["meta"] = r.meta
    if r.extra:
        for k, v in r.extra.items():
            out.setdefault(k, v)
    return out


# --- STATE ----------------------------------------------------------------------------------


@dataclass(slots=True)
class StateStats:
    """`sourceStats` / `destinationStats`: records since the previous state of that stream."""

    record_count: float | None = wire("recordCount")
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class StreamState:
    """The state blob of one stream (opaque to everyone but the source)."""

    stream_descriptor: StreamDescriptor
    stream_state: dict[str, Any] | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class GlobalState:
    """State shared by all streams (CDC) plus per-stream states."""

    stream_states: list[StreamState]
    shared_state: dict[str, Any] | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class State:
    """A checkpoint: everything before it may be considered delivered once it is committed."""

    type: Literal["STREAM", "GLOBAL"] = "STREAM"
    stream: StreamState | None = None
    global_: GlobalState | None = wire("global")
    source_stats: StateStats | None = wire("sourceStats")
    destination_stats: StateStats | None = wire("destinationStats")
    extra: dict[str, Any] = extra_field()

    @property
    def key(self) -> str:
        """Identity used to store and order states: the stream's `namespace.name`, or `__global__`."""
        if self.type == "GLOBAL" or self.stream is None:
            return "__global__"
        d = self.stream.stream_descriptor
        return f"{d.namespace}.{d.name}" if d.namespace else d.name


def stream_state(
    name: str, blob: dict[str, Any] | None, *, namespace: str | None = None, record_count: int | None = None
) -> State:
    """Build a per-stream STATE, with `sourceStats.recordCount` when given."""
    return State(
        type="STREAM",
        stream=StreamState(StreamDescriptor(name, namespace), blob),
        source_stats=StateStats(record_count) if record_count is not None else None,
    )


# --- LOG, SPEC, CONNECTION_STATUS, CATALOG --------------------------------------------------


@dataclass(slots=True)
class Log:
    """A log line for humans."""

    level: LogLevel
    message: str
    stack_trace: str | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class Spec:
    """What a connector accepts as config (a JSON Schema) and which modes it supports."""

    connection_specification: dict[str, Any] = wire("connectionSpecification")
    documentation_url: str | None = wire("documentationUrl")
    changelog_url: str | None = wire("changelogUrl")
    supports_incremental: bool | None = wire("supportsIncremental")
    supported_destination_sync_modes: list[DestinationSyncMode] | None = None
    advanced_auth: dict[str, Any] | None = None
    protocol_version: str | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class ConnectionStatus:
    """The answer to `check`."""

    status: Literal["SUCCEEDED", "FAILED"]
    message: str | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class Stream:
    """A stream a source can emit, as discovered."""

    name: str
    json_schema: dict[str, Any]
    supported_sync_modes: list[SyncMode]
    source_defined_cursor: bool | None = None
    default_cursor_field: list[str] | None = None
    source_defined_primary_key: list[list[str]] | None = None
    namespace: str | None = None
    is_resumable: bool | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class Catalog:
    """The answer to `discover`: every stream a source offers."""

    streams: list[Stream]
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class ConfiguredStream:
    """A stream selected for a sync, with its modes, cursor and key."""

    stream: Stream
    sync_mode: SyncMode
    destination_sync_mode: DestinationSyncMode
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    generation_id: int | None = None
    minimum_generation_id: int | None = None
    sync_id: int | None = None
    extra: dict[str, Any] = extra_field()

    @property
    def name(self) -> str:
        """The stream's name."""
        return self.stream.name


@dataclass(slots=True)
class ConfiguredCatalog:
    """The streams of one sync."""

    streams: list[ConfiguredStream]
    extra: dict[str, Any] = extra_field()

    def get(self, name: str, namespace: str | None = None) -> ConfiguredStream | None:
        """The configured stream with that name (and namespace, when given)."""
        for s in self.streams:
            if s.stream.name == name and (namespace is None or s.stream.namespace == namespace):
                return s
        return None


# --- TRACE, CONTROL -------------------------------------------------------------------------


@dataclass(slots=True)
class TraceError:
    """A failure, with who should act on it."""

    message: str
    internal_message: str | None = None
    stack_trace: str | None = None
    failure_type: FailureTypeValue | None = None
    stream_descriptor: StreamDescriptor | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class TraceEstimate:
    """How many rows/bytes a stream or sync is expected to move."""

    name: str
    type: Literal["STREAM", "SYNC"]
    namespace: str | None = None
    row_estimate: int | None = None
    byte_estimate: int | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class TraceStreamStatus:
    """A stream's lifecycle: STARTED, RUNNING, COMPLETE or INCOMPLETE."""

    stream_descriptor: StreamDescriptor
    status: StreamStatusValue
    reasons: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class TraceAnalytics:
    """An analytics event (a type and an optional value)."""

    type: str
    value: str | None = None
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class Trace:
    """A TRACE message: exactly one of error, estimate, stream_status, analytics."""

    type: Literal["ERROR", "ESTIMATE", "STREAM_STATUS", "ANALYTICS"]
    emitted_at: float
    error: TraceError | None = None
    estimate: TraceEstimate | None = None
    stream_status: TraceStreamStatus | None = None
    analytics: TraceAnalytics | None = None
    extra: dict[str, Any] = extra_field()


def stream_status(name: str, status: StreamStatusValue, namespace: str | None = None) -> Trace:
    """Build a TRACE STREAM_STATUS."""
    return Trace(
        "STREAM_STATUS",
        now_ms(),
        stream_status=TraceStreamStatus(StreamDescriptor(name, namespace), status),
    )


def error_trace(
    message: str,
    failure_type: FailureTypeValue = "system_error",
    *,
    internal_message: str | None = None,
    stack_trace: str | None = None,
    stream: str | None = None,
) -> Trace:
    """Build a TRACE ERROR."""
    return Trace(
        "ERROR",
        now_ms(),
        error=TraceError(
            message,
            internal_message,
            stack_trace,
            failure_type,
            StreamDescriptor(stream) if stream else None,
        ),
    )


@dataclass(slots=True)
class ControlConnectorConfig:
    """A new config the connector asks the platform to persist (e.g. a rotated token)."""

    config: dict[str, Any]
    extra: dict[str, Any] = extra_field()


@dataclass(slots=True)
class Control:
    """A CONTROL message."""

    type: Literal["CONNECTOR_CONFIG"]
    emitted_at: float
    connector_config: ControlConnectorConfig | None = wire("connectorConfig")
    extra: dict[str, Any] = extra_field()


# --- Envelope -------------------------------------------------------------------------------

Payload = Record | State | Log | Spec | ConnectionStatus | Catalog | Trace | Control

# wire type -> (payload key, model)
MESSAGE_TYPES: dict[str, tuple[str, type]] = {
    "RECORD": ("record", Record),
    "STATE": ("state", State),
    "LOG": ("log", Log),
    "SPEC": ("spec", Spec),
    "CONNECTION_STATUS": ("connectionStatus", ConnectionStatus),
    "CATALOG": ("catalog", Catalog),
    "TRACE": ("trace", Trace),
    "CONTROL": ("control", Control),
}
_TYPE_OF: dict[type, str] = {cls: t for t, (_, cls) in MESSAGE_TYPES.items()}


@dataclass(slots=True)
class AirbyteMessage:
    """The envelope: `type` plus one payload; unknown envelope keys survive in `extra`."""

    type: str
    payload: Payload
    extra: dict[str, Any] = extra_field()


def message_from_dict(obj: Any, line_no: int | None = None) -> AirbyteMessage:
    """Decode an envelope dict; errors name the line (when given) and the field."""
    if not isinstance(obj, dict):
        raise ProtocolError("expected a JSON object", line_no)
    kind = obj.get("type")
    if kind not in MESSAGE_TYPES:
        if kind is None:
            raise ProtocolError("message has no 'type'", line_no)
        raise ProtocolError(f"unknown message type {kind!r}", line_no)
    key, cls = MESSAGE_TYPES[kind]
    body = obj.get(key)
    if body is None:
        raise ProtocolError(f"{kind} message has no '{key}' payload", line_no)
    try:
        payload = record_from_dict(body) if cls is Record else from_dict(cls, body, key)
    except ProtocolError as exc:
        raise ProtocolError(exc.message, line_no) from None
    if len(obj) == 2:
        return AirbyteMessage(kind, payload)
    return AirbyteMessage(kind, payload, {k: v for k, v in obj.items() if k not in ("type", key)})


def parse_message(line: bytes | str, line_no: int | None = None) -> AirbyteMessage:
    """Parse one protocol line; raises ProtocolError saying which line and what is wrong."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        snippet = line[:80] if isinstance(line, str) else line[:80].decode("utf-8", "replace")
        raise ProtocolError(f"not valid JSON ({exc.args[0]}): {snippet!r}", line_no) from None
    return message_from_dict(obj, line_no)


def message_to_dict(msg: AirbyteMessage | Payload) -> dict[str, Any]:
    """Encode a payload model or an envelope to the envelope dict."""
    extra: dict[str, Any] = {}
    if isinstance(msg, AirbyteMessage):
        extra, msg = msg.extra, msg.payload
    kind = _TYPE_OF[type(msg)]
    key = MESSAGE_TYPES[kind][0]
    body = record_to_dict(msg) if isinstance(msg, Record) else to_dict(msg)
    out: dict[str, Any] = {"type": kind, key: body}
    for k, v in extra.items():
        out.setdefault(k, v)
    return out


def serialize(msg: AirbyteMessage | Payload) -> bytes:
    """One message as one JSON line (newline included)."""
    if isinstance(msg, Record) and not msg.extra and msg.namespace is None and msg.meta is None:
        return json.dump_line(
            {
                "type": "RECORD",
                "record": {"stream": msg.stream, "data": msg.data, "emitted_at": msg.emitted_at},
            }
        )
    return json.dump_line(message_to_dict(msg))


def load_configured_catalog(data: Any) -> ConfiguredCatalog:
    """Decode a configured catalog document (errors name the field)."""
    return from_dict(ConfiguredCatalog, data, "catalog")


def load_state(data: Any) -> list[State]:
    """Decode a state file: a JSON array of STATE payloads. LEGACY state is rejected."""
    if isinstance(data, dict):
        raise ProtocolError("state must be a JSON array of per-stream states; legacy state is not supported")
    if not isinstance(data, list):
        raise ProtocolError("state must be a JSON array")
    states = []
    for i, item in enumerate(data):
        if isinstance(item, dict) and item.get("type") == "LEGACY":
            raise ProtocolError(f"state[{i}]: LEGACY state is not supported")
        states.append(from_dict(State, item, f"state[{i}]"))
    return states
