"""Low-level byte I/O on pipes and FIFOs: big reads, whole writes, non-blocking polls."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import threading
import time
from collections.abc import Callable, Sequence

PIPE_SIZE = 1 << 20  # ask the kernel for 1 MiB pipe buffers: fewer wake-ups and syscalls
READ_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def set_nonblocking(fd: int, enabled: bool = True) -> None:
    """Turn O_NONBLOCK on or off."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, (flags | os.O_NONBLOCK) if enabled else (flags & ~os.O_NONBLOCK))


def grow_pipe(fd: int, size: int = PIPE_SIZE) -> None:
    """Enlarge a pipe's kernel buffer where the platform allows it (best effort)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, size)


class PollReader:
    """Reads a non-blocking fd in big chunks, waiting at most `timeout` seconds per call.

    `read(timeout)` returns bytes, `b""` at end of file, or None when nothing arrived in time.
    For a FIFO opened before its writer, Linux reports neither data nor hang-up until a writer
    has come and gone, so opening early never looks like end of file.
    """

    def __init__(self, fd: int, size: int = READ_SIZE) -> None:
        self.fd = fd
        self.size = size
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def read(self, timeout: float | None) -> bytes | None:
        """One chunk, b'' at EOF, None on timeout."""
        try:
            data = os.read(self.fd, self.size)
        except BlockingIOError:
            data = None
        if data is not None and (data or self._hung_up()):
            return data
        events = self._poll.poll(None if timeout is None else max(0, int(timeout * 1000)))
        if not events:
            return None
        try:
            return os.read(self.fd, self.size)
        except BlockingIOError:
            return None

    def readinto(self, target: memoryview, timeout: float | None) -> int | None:
        """Read into `target` (no intermediate copy): bytes read, 0 at EOF, None on timeout."""
        try:
            got = os.readv(self.fd, [target])
        except BlockingIOError:
            got = -1
        if got > 0 or (got == 0 and self._hung_up()):
            return got
        events = self._poll.poll(None if timeout is None else max(0, int(timeout * 1000)))
        if not events:
            return None
        try:
            return os.readv(self.fd, [target])
        except BlockingIOError:
            return None

    def _hung_up(self) -> bool:
        # read() gave 0 bytes: for a FIFO that may mean "no writer yet"; poll tells the difference.
        events = self._poll.poll(0)
        return bool(events) and any(ev & (select.POLLHUP | select.POLLERR) for _, ev in events)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte (blocking fd); raises BrokenPipeError when the reader is gone."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_parts(fd: int, parts: Sequence[bytes | memoryview]) -> None:
    """Write several buffers in order with as few `writev` calls as the kernel allows."""
    if len(parts) == 1:
        write_all(fd, parts[0])
        return
    pending = [memoryview(part) for part in parts if len(part)]
    while pending:
        written = os.writev(fd, pending[:512])
        while pending and written >= len(pending[0]):
            written -= len(pending[0])
            pending.pop(0)
        if written:
            pending[0] = pending[0][written:]


def open_fifo_writer(path: str, alive: Callable[[], bool], timeout: float, interval: float = 0.01) -> int:
    """Open a FIFO for writing once its reader has opened it, without ever blocking.

    Polls with O_NONBLOCK (ENXIO means "no reader yet") while `alive()` holds; raises
    TimeoutError, or BrokenPipeError when the reader's process ended without opening it.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        else:
            set_nonblocking(fd, False)
            grow_pipe(fd)
            return fd
        if not alive():
            raise BrokenPipeError(f"the process that should read {path} ended")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody opened {path} for reading in {timeout:.0f}s")
        time.sleep(interval)
        interval = min(interval * 2, 0.2)


class LineThread(threading.Thread):
    """Reads a non-blocking fd line by line in the background, passing each line (str) to `on_line`."""

    def __init__(self, fd: int, on_line: Callable[[str], None], name: str, max_line: int = 1 << 16) -> None:
        super().__init__(name=name, daemon=True)
        self._reader = PollReader(fd, 1 << 16)
        self._on_line = on_line
        self._max_line = max_line
        self.stop_event = threading.Event()

    def run(self) -> None:
        pending = b""
        while not self.stop_event.is_set():
            try:
                chunk = self._reader.read(0.2)
            except OSError:
                break
            if chunk is None:
                continue
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._emit(line)
            if len(pending) > self._max_line:
                self._emit(pending)
                pending = b""
        if pending:
            self._emit(pending)

    def _emit(self, line: bytes) -> None:
        text = line.rstrip(b"\r").decode("utf-8", errors="replace")
        if text.strip():
            self._on_line(text)
