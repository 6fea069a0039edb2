"""The orchestrator's error family: each error knows the exit code it maps to.

Exit codes are a contract: 0 success, 1 the sync (or connector command) failed, 2 usage or
configuration error. Every error prints as one line, without a traceback.
"""

from __future__ import annotations

from typing import Any


class DuctoError(Exception):
    """Base of every error the CLI reports as one line."""

    exit_code = 1


class UsageError(DuctoError):
    """Bad input from the user: a connection file, a config, a flag. Nothing ran."""

    exit_code = 2


class ConnectionFileError(UsageError):
    """A connection file that cannot be used; the message names the file and the key."""


class RunnerError(DuctoError):
    """A connector could not be started or talked to (missing image, Docker down, bad command)."""


class SyncFailed(DuctoError):
    """A sync ran and failed; the run is recorded with this reason."""

    def __init__(self, message: str, run_id: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.outcome: Any = None  # the SyncOutcome (counts so far) when the run got that far


class LockedError(DuctoError):
    """Another sync of the same connection holds the lock."""
