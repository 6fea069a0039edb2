"""Python logging turned into protocol LOG messages (masked by the writer)."""

from __future__ import annotations

import logging

from ducto.protocol.io import MessageWriter
from ducto.protocol.messages import Log, LogLevel

_LEVELS: dict[int, LogLevel] = {
    logging.CRITICAL: "FATAL",
    logging.ERROR: "ERROR",
    logging.WARNING: "WARN",
    logging.INFO: "INFO",
    logging.DEBUG: "DEBUG",
}


class ProtocolLogHandler(logging.Handler):
    """Emits each log record as a LOG message on the connector's output."""

    def __init__(self, writer: MessageWriter) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            stack = self.formatter.formatException(record.exc_info) if record.exc_info and self.formatter else None
            self.writer.write(Log(_LEVELS.get(record.levelno, "INFO"), message, stack))
        except Exception:
            self.handleError(record)


def install(writer: MessageWriter, level: int = logging.INFO) -> ProtocolLogHandler:
    """Route the root logger to LOG messages (replacing other handlers)."""
    handler = ProtocolLogHandler(writer)
    handler.setFormatter(logging.Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return handler
