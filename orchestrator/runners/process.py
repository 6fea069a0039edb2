"""The process runner: a local command speaking the protocol (development, tests, no Docker)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from ducto.orchestrator.connection import ConnectorDef
from ducto.orchestrator.errors import RunnerError
from ducto.orchestrator.fdio import LineThread, grow_pipe, set_nonblocking
from ducto.orchestrator.runners.base import (
    ConnectorHandle,
    PrivateDir,
    Runner,
    StderrCallback,
    command_args,
)


class ProcessHandle(ConnectorHandle):
    """A connector running as a child process in its own session (Ctrl-C reaches only Ducto)."""

    def __init__(
        self, label: str, popen: subprocess.Popen[bytes], workdir: PrivateDir, on_stderr: StderrCallback | None
    ) -> None:
        self.label = label
        self._popen = popen
        self._workdir = workdir
        assert popen.stdout is not None and popen.stderr is not None
        self.stdout_fd = popen.stdout.fileno()
        set_nonblocking(self.stdout_fd)
        grow_pipe(self.stdout_fd)
        stderr_fd = popen.stderr.fileno()
        set_nonblocking(stderr_fd)
        self._stderr_thread = LineThread(stderr_fd, on_stderr or (lambda _line: None), f"{label}-stderr")
        self._stderr_thread.start()
        if popen.stdin is not None:
            grow_pipe(popen.stdin.fileno())

    def open_stdin(self, timeout: float) -> int:
        if self._popen.stdin is None:
            raise RunnerError(f"{self.label} was started without stdin")
        return self._popen.stdin.fileno()

    def close_stdin(self) -> None:
        if self._popen.stdin is not None and not self._popen.stdin.closed:
            with contextlib.suppress(OSError):
                self._popen.stdin.close()

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float | None) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _signal(self, sig: int) -> None:
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, sig)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def cleanup(self) -> None:
        if self._popen.poll() is None:
            self.kill()
            self._popen.wait()
        else:
            # The connector is gone; stop its helpers (same session) that may still hold our pipes.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._popen.pid, signal.SIGKILL)
        self._stderr_thread.join(2)
        self._stderr_thread.stop_event.set()
        for stream in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        self._workdir.remove()


class ProcessRunner(Runner):
    """Runs `command:` connectors; files go to a private temp dir (mode 0700/0600)."""

    def start(
        self,
        connector: ConnectorDef,
        command: str,
        files: dict[str, bytes],
        *,
        stdin: bool = False,
        on_stderr: StderrCallback | None = None,
    ) -> ConnectorHandle:
        assert connector.command is not None
        workdir = PrivateDir()
        paths = {name: str(workdir.write(f"{name}.json", data)) for name, data in files.items()}
        argv = [*connector.command, *command_args(command, paths)]
        env = {**os.environ, **connector.env}
        cwd = str(connector.workdir) if connector.workdir else None
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,
                bufsize=0,
            )
        except OSError as exc:
            workdir.remove()
            program = Path(argv[0]).name
            raise RunnerError(f"{connector.role}: cannot start {program!r}: {exc.strerror}") from None
        return ProcessHandle(f"{connector.role}", popen, workdir, on_stderr)
