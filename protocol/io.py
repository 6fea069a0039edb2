"""Reading and writing message streams.

Writes: every message is written whole in a single `write` call, so lines never tear even when
other threads or processes share the stream; RECORD lines are batched into large writes. LOG,
TRACE and CONNECTION_STATUS messages pass the secret masker before they are serialized.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ducto.protocol import json
from ducto.protocol.errors import ProtocolError
from ducto.protocol.messages import (
    AirbyteMessage,
    ConnectionStatus,
    Log,
    Payload,
    Record,
    Trace,
    message_to_dict,
    parse_message,
    serialize,
)
from ducto.protocol.secrets import SecretMasker

FLUSH_BYTES = 1 << 16
# Messages written for humans get masked. STATE and CONTROL carry data the platform must keep
# exactly (a CONTROL config holds the secrets on purpose), RECORDs are data.
MASKED_TYPES = (Log, Trace, ConnectionStatus)


class MessageWriter:
    """Writes protocol messages to a binary stream (stdout in a connector)."""

    def __init__(self, out: BinaryIO, masker: SecretMasker | None = None) -> None:
        self._out = out
        self.masker = masker or SecretMasker()
        self._buffer: list[bytes] = []
        self._buffered = 0

    def write(self, msg: AirbyteMessage | Payload) -> None:
        """Write one message; RECORDs are buffered, anything else flushes immediately."""
        if isinstance(msg, Record):
            self.write_line(serialize(msg))
            return
        payload = msg.payload if isinstance(msg, AirbyteMessage) else msg
        if self.masker and isinstance(payload, MASKED_TYPES):
            self._buffer.append(json.dump_line(self.masker.mask_value(message_to_dict(msg))))
        else:
            self._buffer.append(serialize(msg))
        self.flush()

    def write_line(self, line: bytes) -> None:
        """Queue one already-serialized RECORD line (newline included)."""
        self._buffer.append(line)
        self._buffered += len(line)
        if self._buffered >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write everything queued in one call."""
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._buffered = 0
            self._out.write(data)
        self._out.flush()


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines of a binary stream with their 1-based line numbers (newline stripped)."""
    for line_no, line in enumerate(stream, start=1):
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            yield line_no, stripped


def read_messages(stream: BinaryIO) -> Iterator[tuple[int, AirbyteMessage]]:
    """Parse every message of a stream; a malformed line raises ProtocolError naming its number."""
    for line_no, line in iter_lines(stream):
        yield line_no, parse_message(line, line_no)


__all__ = ["MessageWriter", "ProtocolError", "iter_lines", "read_messages"]
