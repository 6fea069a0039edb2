"""The pipe: a source's `read` output into a destination's `write` input.

RECORD lines travel as bytes (see scanner.py). STATE and TRACE STREAM_STATUS are forwarded in
order; LOG/TRACE go to the run log; CONTROL connectorConfig is handed to `on_control`. A state
is reported as committed (`on_state`) only when the destination echoes it. Failures (non-zero
exit, kill, hang, malformed output, Ctrl-C) stop both sides and name the reason.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ducto.orchestrator import jsonutil
from ducto.orchestrator.fdio import PollReader, write_parts
from ducto.orchestrator.runlog import RunLog
from ducto.orchestrator.runners.base import ConnectorHandle
from ducto.orchestrator.scanner import MalformedLine, RecordScanner, StreamStats, stream_key
from ducto.orchestrator.store import GLOBAL_STATE_KEY

MAX_LINE_BYTES = 64 << 20
READ_BUFFER = 2 << 20
_LOG_LEVELS = {
    "FATAL": "ERROR",
    "ERROR": "ERROR",
    "WARN": "WARN",
    "WARNING": "WARN",
    "INFO": "INFO",
    "DEBUG": "DEBUG",
    "TRACE": "DEBUG",
}

StateCallback = Callable[[str, dict[str, Any]], None]
ControlCallback = Callable[[str, dict[str, Any]], None]


@dataclass
class PipeResult:
    """How a sync's data movement ended."""

    status: str  # succeeded | failed | cancelled
    error: str | None
    source_exit: int | None
    destination_exit: int | None
    states_sent: int
    states_committed: int


def describe_exit(code: int | None) -> str:
    """`exited with code 3`, `was killed by SIGKILL`, ... for an exit status."""
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    if code == 137:
        return "was killed (exit 137: SIGKILL, or out of memory)"
    return f"exited with code {code}"


def _state_identity(state: dict[str, Any]) -> bytes:
    """What an echoed STATE must equal: key order, stats and 1 vs 1.0 do not matter."""
    body = {k: v for k, v in state.items() if k not in ("sourceStats", "destinationStats")}
    return jsonutil.canonical(_integral_floats_as_ints(body))


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


def state_key(state: dict[str, Any]) -> str | None:
    kind = state.get("type")
    if kind == "GLOBAL" and isinstance(state.get("global"), dict):
        return GLOBAL_STATE_KEY
    if kind == "STREAM":
        stream = state.get("stream")
        descriptor = stream.get("stream_descriptor") if isinstance(stream, dict) else None
        if isinstance(descriptor, dict) and isinstance(descriptor.get("name"), str):
            namespace = descriptor.get("namespace")
            return stream_key(descriptor["name"], namespace if isinstance(namespace, str) else None)
    return None


def _obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for tolerant reading of payloads)."""
    return value if isinstance(value, dict) else {}


def _count(stats: Any, field: str) -> int:
    value = stats.get(field) if isinstance(stats, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0


class Pipe:
    """Moves one sync's messages; `run()` returns a PipeResult after both sides have ended."""

    def __init__(
        self,
        source: ConnectorHandle,
        destination: ConnectorHandle,
        *,
        log: RunLog,
        hang_timeout: float,
        on_state: StateCallback,
        on_control: ControlCallback,
        describe_source_exit: Callable[[int | None], str] = describe_exit,
        describe_destination_exit: Callable[[int | None], str] = describe_exit,
    ) -> None:
        self.source = source
        self.destination = destination
        self.log = log
        self.hang_timeout = hang_timeout
        self.on_state = on_state
        self.on_control = on_control
        self._describe = {"source": describe_source_exit, "destination": describe_destination_exit}
        self.scanner = RecordScanner(self._on_source_message)
        self.stats: dict[str, StreamStats] = self.scanner.stats
        self.states_sent = 0
        self.states_committed = 0
        self.estimates: dict[str, int] = {}
        self.started = time.monotonic()
        self._pending: deque[tuple[bytes, str, dict[str, Any]]] = deque()
        self._pending_lock = threading.Lock()
        self._failure: tuple[str, str] | None = None  # (side, reason)
        self._failure_lock = threading.Lock()
        self._errors: dict[str, str] = {}  # side -> first TRACE ERROR message
        self._phase = "pumping"
        self._phase_since = time.monotonic()
        self._last_source = time.monotonic()
        self._last_destination = time.monotonic()
        self._writing_since: float | None = None
        self._stop = threading.Event()
        self._dest_reader = threading.Thread(target=self._read_destination, name="destination-out", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)

    # ---- public --------------------------------------------------------------------------------
    @property
    def bytes_total(self) -> int:
        """Bytes of RECORD lines forwarded so far."""
        return sum(s.bytes for s in self.stats.values())

    @property
    def records_total(self) -> int:
        """RECORD lines forwarded so far."""
        return sum(s.records for s in self.stats.values())

    def run(self) -> PipeResult:
        """Pump until both sides end; Ctrl-C cancels (both sides are killed)."""
        self._dest_reader.start()
        self._watchdog.start()
        cancelled = False
        try:
            try:
                self._pump()
            except KeyboardInterrupt:
                cancelled = True
                self._fail("cancel", "cancelled (interrupted)")
                self.source.kill()
                self.destination.kill()
            source_exit, destination_exit = self._finish()
        except KeyboardInterrupt:
            cancelled = True
            self._fail("cancel", "cancelled (interrupted)")
            self.source.kill()
            self.destination.kill()
            source_exit, destination_exit = self.source.wait(5), self.destination.wait(5)
        finally:
            self._stop.set()
            self._dest_reader.join(5)
        error = self._error(source_exit, destination_exit)
        status = (
            "cancelled"
            if cancelled or (self._failure and self._failure[0] == "cancel")
            else ("failed" if error else "succeeded")
        )
        if status == "succeeded":
            with self._pending_lock:
                unacknowledged = len(self._pending)
            if unacknowledged:
                self.log.add("ducto", "WARN", f"the destination did not acknowledge the last {unacknowledged} states")
        return PipeResult(status, error, source_exit, destination_exit, self.states_sent, self.states_committed)

    # ---- the data path ---------------------------------------------------------------------------
    def _pump(self) -> None:
        try:
            dest_fd = self.destination.open_stdin(self.hang_timeout)
        except (OSError, TimeoutError) as exc:
            self._fail("destination", f"the destination never opened its input ({exc})")
            return
        reader = PollReader(self.source.stdout_fd)
        # One reusable buffer: reads land in it, complete lines are scanned and written from it
        # in place, and only the unfinished last line moves to the front for the next read.
        buffer = bytearray(READ_BUFFER)
        filled = 0
        while self._failure is None:
            if filled == len(buffer):  # a line longer than the buffer: grow (up to MAX_LINE_BYTES)
                if filled >= MAX_LINE_BYTES:
                    self._fail(
                        "source",
                        f"source output line {self.scanner.lines + 1}: longer than"
                        f" {MAX_LINE_BYTES >> 20} MiB without a newline",
                    )
                    return
                grown = bytearray(min(len(buffer) * 2, MAX_LINE_BYTES))
                grown[:filled] = buffer
                buffer = grown
            with memoryview(buffer) as view:
                got = reader.readinto(view[filled:], 0.5)
            if got is None:
                continue
            self._last_source = time.monotonic()
            if not got:
                break
            newline = buffer.rfind(b"\n", filled, filled + got)
            filled += got
            if newline < 0:
                continue
            cut = newline + 1
            if not self._forward(dest_fd, buffer, cut):
                return
            tail = filled - cut
            if tail:
                buffer[:tail] = buffer[cut:filled]
            filled = tail
        if self._failure is None:
            self._phase_change("source-exit")
            code = self.source.wait(None)
            if filled and code == 0:  # the last line had no newline: accept it from a clean exit
                self._forward(dest_fd, bytes(buffer[:filled]) + b"\n", filled + 1)
            elif filled:
                self.log.add("ducto", "WARN", "dropped an incomplete last line from the source")

    def _forward(self, dest_fd: int, buffer: bytes | bytearray, size: int) -> bool:
        """Scan `buffer[:size]` and write what the destination gets; False once the run failed."""
        try:
            out = self.scanner.scan(buffer, size)
        except MalformedLine as exc:
            if exc.forward:  # what came before the bad line still reaches the destination
                self._write(dest_fd, exc.forward)
            exc.forward = []
            self._fail("source", f"source output {exc}")
            return False
        if out and not self._write(dest_fd, out):
            return False
        for part in out:
            if isinstance(part, memoryview):
                part.release()
        return True

    def _write(self, fd: int, parts: Sequence[bytes | memoryview]) -> bool:
        self._writing_since = time.monotonic()
        try:
            write_parts(fd, parts)
        except OSError:
            self._fail("destination", "the destination stopped reading its input")
            return False
        finally:
            self._writing_since = None
        return True

    def _finish(self) -> tuple[int | None, int | None]:
        side = self._failure[0] if self._failure else None
        if side in ("destination", "cancel"):
            self.source.kill()
            self.destination.kill()
            return self.source.wait(10), self.destination.wait(10)
        if side == "source":
            self.source.kill()
        source_exit = self.source.wait(None if side is None else 10)
        # The destination commits what it received and echoes the states it covers, so even a
        # failed source leaves the state as far as the committed data goes.
        self._phase_change("destination-finish")
        self.destination.close_stdin()
        destination_exit = self.destination.wait(None)
        self._dest_reader.join(10)  # its EOF follows the exit; do not wait on a leftover grandchild
        return source_exit, destination_exit

    # ---- messages from the source ------------------------------------------------------------------
    def _on_source_message(self, message: dict[str, Any], line: bytes, line_no: int) -> bool:
        kind = message["type"]
        if kind == "STATE":
            state = message.get("state")
            if not isinstance(state, dict):
                raise MalformedLine(line_no, "STATE without a state object")
            key = state_key(state)
            if key is None:
                raise MalformedLine(
                    line_no, f"unsupported STATE (type {state.get('type', 'LEGACY')}); Ducto needs STREAM or GLOBAL"
                )
            with self._pending_lock:
                self._pending.append((_state_identity(state), key, state))
            self.states_sent += 1
            return True
        if kind == "TRACE":
            return self._on_trace("source", message.get("trace"))
        if kind == "LOG":
            self._on_log("source", message.get("log"))
            return False
        if kind == "CONTROL":
            self._on_control_message("source", message.get("control"))
            return False
        if kind in ("SPEC", "CATALOG", "CONNECTION_STATUS"):
            self.log.add("source", "DEBUG", f"ignored a {kind} message during read (line {line_no})")
            return False
        raise MalformedLine(line_no, f"unknown message type {kind!r}")

    def _on_trace(self, side: str, trace: Any) -> bool:
        if not isinstance(trace, dict):
            return False
        kind = trace.get("type")
        if kind == "ERROR":
            error = _obj(trace.get("error"))
            message = str(error.get("message") or error.get("internal_message") or "unknown error")
            failure_type = error.get("failure_type")
            self._errors.setdefault(side, message)
            detail = f" [{failure_type}]" if failure_type else ""
            self.log.add(side, "ERROR", f"{message}{detail}")
            internal = error.get("internal_message")
            if internal and internal != message:
                self.log.add(side, "ERROR", str(internal))
            if error.get("stack_trace"):
                self.log.add(side, "DEBUG", str(error["stack_trace"]))
            return False
        if kind == "STREAM_STATUS":
            status = _obj(trace.get("stream_status"))
            descriptor = _obj(status.get("stream_descriptor"))
            name = descriptor.get("name")
            if side == "source" and isinstance(name, str):
                namespace = descriptor.get("namespace")
                stats = self.scanner.stats_for(name, namespace if isinstance(namespace, str) else None)
                stats.status = str(status.get("status"))
            return side == "source"
        if kind == "ESTIMATE":
            estimate = _obj(trace.get("estimate"))
            name, rows = estimate.get("name"), estimate.get("row_estimate")
            if isinstance(name, str) and isinstance(rows, int):
                self.estimates[name] = rows
            return False
        return False

    def _on_log(self, side: str, log: Any) -> None:
        if isinstance(log, dict):
            level = _LOG_LEVELS.get(str(log.get("level", "INFO")).upper(), "INFO")
            self.log.add(side, level, str(log.get("message", "")))
            if log.get("stack_trace"):
                self.log.add(side, "DEBUG", str(log["stack_trace"]))

    def _on_control_message(self, side: str, control: Any) -> None:
        if not isinstance(control, dict):
            return
        connector_config = control.get("connectorConfig")
        config = connector_config.get("config") if isinstance(connector_config, dict) else None
        if isinstance(config, dict):
            self.on_control(side, config)
            self.log.add("ducto", "INFO", f"the {side} updated its config; the new config is stored for next runs")

    # ---- messages from the destination ------------------------------------------------------------
    def _read_destination(self) -> None:
        reader = PollReader(self.destination.stdout_fd, 1 << 16)
        pending = b""
        line_no = 0
        while True:
            try:
                chunk = reader.read(0.2)
            except OSError:
                return
            if chunk is None:
                if self._stop.is_set():
                    return
                continue
            self._last_destination = time.monotonic()
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                line_no += 1
                if line.strip() and not self._on_destination_line(line, line_no):
                    return
        if pending.strip():
            self._on_destination_line(pending, line_no + 1)

    def _on_destination_line(self, line: bytes, line_no: int) -> bool:
        try:
            message = jsonutil.loads(line)
        except jsonutil.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            text = line[:80].decode("utf-8", errors="replace")
            self._fail("destination", f"destination output line {line_no}: not a protocol message: {text!r}")
            self.destination.kill()
            self.source.kill()
            return False
        kind = message["type"]
        if kind == "STATE" and isinstance(message.get("state"), dict):
            self._on_echo(message["state"], line_no)
        elif kind == "LOG":
            self._on_log("destination", message.get("log"))
        elif kind == "TRACE":
            self._on_trace("destination", message.get("trace"))
        elif kind == "CONTROL":
            self._on_control_message("destination", message.get("control"))
        return True

    def _on_echo(self, state: dict[str, Any], line_no: int) -> None:
        identity = _state_identity(state)
        with self._pending_lock:
            index = next((i for i, entry in enumerate(self._pending) if entry[0] == identity), None)
            if index is None:
                entry = None
            else:
                for _ in range(index):
                    self._pending.popleft()
                entry = self._pending.popleft()
        if entry is None:
            self.log.add("ducto", "WARN", f"destination output line {line_no}: a STATE the source never sent; ignored")
            return
        _, key, source_state = entry
        stored = {k: v for k, v in source_state.items() if k != "sourceStats"}
        self.on_state(key, stored)
        self.states_committed += 1
        if key != GLOBAL_STATE_KEY:
            stats = self.stats.get(key)
            if stats is None:
                stats = self.stats[key] = StreamStats()
            committed = _count(state.get("destinationStats"), "recordCount") or _count(
                source_state.get("sourceStats"), "recordCount"
            )
            stats.committed_records += committed
            stats.states_committed += 1

    # ---- failure handling ---------------------------------------------------------------------------
    def _fail(self, side: str, reason: str) -> None:
        with self._failure_lock:
            if self._failure is None:
                self._failure = (side, reason)
                self.log.add("ducto", "ERROR", reason)

    def _phase_change(self, phase: str) -> None:
        self._phase = phase
        self._phase_since = time.monotonic()

    def _watch(self) -> None:
        limit = self.hang_timeout
        while not self._stop.wait(min(0.5, limit / 4)):
            now = time.monotonic()
            writing = self._writing_since
            if writing is not None and now - writing > limit:
                self._fail("destination", f"the destination stopped reading its input for {limit:g}s (hang)")
                self.destination.kill()
                self.source.kill()
            elif self._phase == "pumping" and now - self._last_source > limit:
                self._fail("source", f"the source sent nothing for {limit:g}s (hang)")
                self.source.kill()
            elif self._phase == "source-exit" and now - self._phase_since > limit:
                self._fail("source", f"the source closed its output but did not exit within {limit:g}s")
                self.source.kill()
            elif (
                self._phase == "destination-finish"
                and now - max(self._phase_since, self._last_destination) > limit
                and self.destination.poll() is None
            ):
                self._fail("destination", f"the destination sent nothing for {limit:g}s after its input ended (hang)")
                self.destination.kill()

    def _error(self, source_exit: int | None, destination_exit: int | None) -> str | None:
        failure = self._failure
        dest_error, source_error = self._errors.get("destination"), self._errors.get("source")
        if failure and failure[0] == "cancel":
            return failure[1]
        if failure and failure[0] == "source":
            return failure[1] + (f" (source error: {source_error})" if source_error else "")
        if failure or dest_error or destination_exit != 0:
            what = dest_error or (
                failure[1] if failure and destination_exit == 0 else self._describe["destination"](destination_exit)
            )
            if failure and "hang" in failure[1]:
                what = failure[1] + (f" ({dest_error})" if dest_error else "")
            elif failure and failure[1].startswith("destination output"):
                what = failure[1]
            return f"destination failed: {what}"
        if source_error or source_exit != 0:
            return f"source failed: {source_error or self._describe['source'](source_exit)}"
        return None
