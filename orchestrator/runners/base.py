"""What every runner provides: start a connector command and hand back its byte channels."""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from ducto.orchestrator.connection import ConnectorDef

StderrCallback = Callable[[str], None]


class ConnectorHandle(ABC):
    """A running connector.

    `stdout_fd` is non-blocking and carries the connector's protocol messages. `open_stdin()`
    returns a blocking fd feeding its stdin (only for commands started with `stdin=True`).
    Lines on stderr go to the callback given at start.
    """

    label: str
    stdout_fd: int

    @abstractmethod
    def open_stdin(self, timeout: float) -> int:
        """The writable stdin fd, opened without risk of hanging if the connector died."""

    @abstractmethod
    def close_stdin(self) -> None:
        """Signal end of input."""

    @abstractmethod
    def poll(self) -> int | None:
        """The exit code, or None while running."""

    @abstractmethod
    def wait(self, timeout: float | None) -> int | None:
        """Wait for the exit; None if still running after `timeout` seconds."""

    @abstractmethod
    def terminate(self) -> None:
        """Ask the connector to stop (SIGTERM)."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the connector now (SIGKILL)."""

    @abstractmethod
    def cleanup(self) -> None:
        """Release everything (processes, containers, files); safe to call twice."""

    def stop(self, grace: float = 5.0) -> int | None:
        """Terminate, then kill after `grace` seconds; returns the exit code."""
        if self.poll() is None:
            self.terminate()
            if self.wait(grace) is None:
                self.kill()
        return self.wait(grace)


class Runner(ABC):
    """Starts connector commands (`spec`, `check`, `discover`, `read`, `write`)."""

    @abstractmethod
    def start(
        self,
        connector: ConnectorDef,
        command: str,
        files: dict[str, bytes],
        *,
        stdin: bool = False,
        on_stderr: StderrCallback | None = None,
    ) -> ConnectorHandle:
        """Start `command` with each of `files` passed as `--NAME PATH` (config, catalog, state)."""

    def identity(self, connector: ConnectorDef) -> str:
        """A string that changes when the connector's code changes (for caching spec/catalog)."""
        return connector.label


class PrivateDir:
    """A temporary directory readable only by its owner, for config/catalog/state files."""

    def __init__(self, prefix: str = "ducto-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self.path.chmod(0o700)

    def write(self, name: str, data: bytes, subdir: str = "") -> Path:
        """Write a file with mode 0600."""
        directory = self.path / subdir if subdir else self.path
        directory.mkdir(mode=0o700, exist_ok=True)
        target = directory / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return target

    def remove(self) -> None:
        """Delete the directory and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)


def command_args(command: str, paths: dict[str, str]) -> list[str]:
    """`read --config P --catalog P --state P` from a name -> path mapping."""
    args = [command]
    for name in ("config", "catalog", "state"):
        if name in paths:
            args += [f"--{name}", paths[name]]
    return args
