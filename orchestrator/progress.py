"""Progress while a sync runs: a live rich table on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from ducto.orchestrator.scanner import StreamStats

StatsSource = Callable[[], dict[str, StreamStats]]
_LEVEL_ORDER = {"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}


def human_bytes(count: float) -> str:
    """`276.1 MB` style sizes (decimal units, like rates people compare with disks and links)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


class Progress:
    """Base: shows connector log lines at or above `level`; subclasses show the counters."""

    def __init__(self, stream: IO[str] | None = None, level: str = "WARN") -> None:
        self.out = stream or sys.stderr
        self.level = _LEVEL_ORDER.get(level, 2)
        self._stats: StatsSource | None = None
        self._started = time.monotonic()
        self._anchors: dict[str, tuple[float, int]] = {}  # stream -> (time, records) of the last rate
        self._rates: dict[str, float] = {}

    def start(self, stats: StatsSource) -> None:
        """Begin showing the counters returned by `stats()`."""
        self._stats = stats
        self._started = time.monotonic()

    def stop(self) -> None:
        """Stop showing live counters."""

    def log(self, origin: str, level: str, message: str) -> None:
        """A run-log line; shown when at or above the chosen level (Ducto's errors end the run instead)."""
        if origin == "ducto" and level == "ERROR":
            return
        if _LEVEL_ORDER.get(level, 1) >= self.level:
            self.print_line(f"[{origin}] {level} {message}")

    def print_line(self, text: str) -> None:
        """Print one line to the progress stream."""
        print(text, file=self.out, flush=True)

    def elapsed(self) -> float:
        """Seconds since start()."""
        return time.monotonic() - self._started

    def rate(self, name: str, stats: StreamStats) -> float:
        """Records per second of a stream over the last second or more (0 once it stops moving)."""
        now = time.monotonic()
        anchor = self._anchors.get(name)
        if anchor is None:
            self._anchors[name] = (self._started, 0)
            anchor = self._anchors[name]
        since, records = anchor
        if now - since >= 1.0:
            self._rates[name] = (stats.records - records) / (now - since)
            self._anchors[name] = (now, stats.records)
        return self._rates.get(name, 0.0)


class PlainProgress(Progress):
    """Prints one line per stream that moved, every `interval` seconds (logs, CI, pipes)."""

    def __init__(self, stream: IO[str] | None = None, level: str = "WARN", interval: float = 10.0) -> None:
        super().__init__(stream, level)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, int] = {}

    def start(self, stats: StatsSource) -> None:
        super().start(stats)
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._report()

    def _report(self) -> None:
        if self._stats is None:
            return
        for name, stats in list(self._stats().items()):
            if self._last.get(name) != stats.records:
                self._last[name] = stats.records
                rate = self.rate(name, stats)
                self.print_line(f"{name}: {stats.records:,} records, {human_bytes(stats.bytes)}, {rate:,.0f} records/s")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)


class RichProgress(Progress):
    """A live table (stream, records, size, rate, status) redrawn a few times a second."""

    def __init__(self, level: str = "WARN") -> None:
        super().__init__(sys.stderr, level)
        from rich.console import Console

        self.console = Console(stderr=True)
        self._live: Any = None

    def start(self, stats: StatsSource) -> None:
        from rich.live import Live

        super().start(stats)
        self._live = Live(_LiveTable(self), console=self.console, refresh_per_second=4, transient=True)
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def print_line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def table(self) -> Any:
        """The live table."""
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for column in ("stream", "records", "size", "rate", "status"):
            table.add_column(column, justify="left" if column in ("stream", "status") else "right")
        for name, stats in sorted((self._stats() if self._stats else {}).items()):
            table.add_row(
                name,
                f"{stats.records:,}",
                human_bytes(stats.bytes),
                f"{self.rate(name, stats):,.0f}/s",
                (stats.status or "").lower(),
            )
        return table


class _LiveTable:
    def __init__(self, progress: RichProgress) -> None:
        self.progress = progress

    def __rich__(self) -> Any:
        return self.progress.table()


def make_progress(mode: str = "auto", level: str = "WARN") -> Progress:
    """`rich` on a terminal, `plain` otherwise (or as asked)."""
    if mode == "auto":
        mode = "rich" if sys.stderr.isatty() else "plain"
    if mode == "rich":
        try:
            return RichProgress(level)
        except ImportError:
            pass
    return PlainProgress(level=level)
