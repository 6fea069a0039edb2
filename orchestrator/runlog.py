"""The log of one run: connector LOG/TRACE messages, stderr lines and Ducto's own events.

Every line is masked for secrets, kept in SQLite with the run (`ducto logs RUN_ID`) and, when a
console callback is set, shown to the user as it happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ducto.orchestrator.masking import Masker
from ducto.orchestrator.store import Store

ConsoleCallback = Callable[[str, str, str], None]
MAX_LOG_LINES = 200_000
MAX_MESSAGE_CHARS = 8_000
_FLUSH_EVERY = 500
_FLUSH_SECONDS = 1.0


class RunLog:
    """Collects log lines from several threads and writes them in batches."""

    def __init__(
        self, store: Store | None, run_id: int | None, masker: Masker, console: ConsoleCallback | None = None
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.masker = masker
        self.console = console
        self._buffer: list[tuple[float, str, str, str]] = []
        self._seq = 0
        self._dropped = 0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def add(self, origin: str, level: str, message: str) -> None:
        """Record one line (`origin` is source, destination or ducto)."""
        text = self.masker.mask(message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "...")
        level = level.upper()
        if self.console is not None:
            self.console(origin, level, text)
        with self._lock:
            if self._seq + len(self._buffer) >= MAX_LOG_LINES:
                self._dropped += 1
                return
            self._buffer.append((time.time(), origin, level, text))
            if len(self._buffer) >= _FLUSH_EVERY or time.monotonic() - self._last_flush > _FLUSH_SECONDS:
                self._flush_locked()

    def flush(self) -> None:
        """Write buffered lines now."""
        with self._lock:
            if self._dropped:
                self._buffer.append((time.time(), "ducto", "WARN", f"{self._dropped} more log lines were not kept"))
                self._dropped = 0
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self.store is not None and self.run_id is not None and self._buffer:
            self.store.append_logs(self.run_id, self._seq, self._buffer)
        self._seq += len(self._buffer)
        self._buffer = []
        self._last_flush = time.monotonic()
