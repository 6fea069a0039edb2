"""The suite's small test framework: named cases, outcomes, and a context that runs and caches.

A check is a function of a `Context`; it calls `fail(...)` or `skip(...)` (or simply returns to pass).
The context runs connector commands within the current case's deadline and caches their results,
so the many checks on one `read` cost one read.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, NoReturn

from ducto.orchestrator.acceptance.config import AcceptanceConfig, ConfigFileError, TestEntry
from ducto.orchestrator.acceptance.runner import ConnectorUnderTest, DockerError, RunResult
from ducto.protocol import json
from ducto.protocol.secrets import SecretMasker

Status = Literal["passed", "failed", "skipped", "error"]


class CheckFailed(AssertionError):
    """A check found the connector wrong; the message says what and where."""


class CheckSkipped(Exception):
    """A check does not apply (bypassed, not configured, nothing to test)."""


def fail(message: str) -> NoReturn:
    """Fail the current check with a readable message."""
    raise CheckFailed(message)


def skip(reason: str) -> NoReturn:
    """Skip the current check, saying why."""
    raise CheckSkipped(reason)


@dataclass(slots=True)
class TestCase:
    """One named test: `group[i]::name[stream]`."""

    group: str
    name: str
    func: Callable[[Context], None]
    timeout: float
    entry: TestEntry | None = None
    stream: str | None = None
    label: str | None = None
    description: str = ""

    @property
    def id(self) -> str:
        """The test id shown in reports and matched by `-k`."""
        group = self.group if self.label is None else f"{self.group}[{self.label}]"
        name = self.name if self.stream is None else f"{self.name}[{self.stream}]"
        return f"{group}::{name}"


@dataclass(slots=True)
class Outcome:
    """The result of one case."""

    case: TestCase
    status: Status
    message: str = ""
    duration: float = 0.0


@dataclass
class Context:
    """What checks share: the connector, the config, cached runs, and the current deadline."""

    connector: ConnectorUnderTest
    config: AcceptanceConfig
    streams_filter: set[str] | None = None
    timeout_override: float | None = None
    deadline: float | None = None
    cleanups: list[Callable[[], Any]] = field(default_factory=list)
    masker: SecretMasker = field(default_factory=SecretMasker)
    _runs: dict[str, RunResult] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Remove what the checks left behind (temporary folders)."""
        while self.cleanups:
            self.cleanups.pop()()

    def new_local_dir(self) -> Path:
        """A fresh folder to share with the connector (mounted at /local in Docker), removed at close."""
        path = Path(tempfile.mkdtemp(prefix="ducto-acc-local-"))
        path.chmod(0o777)  # the container's user writes here
        self.cleanups.append(partial(shutil.rmtree, path, ignore_errors=True))
        return path

    @property
    def local_dir(self) -> Path:
        """The suite-wide shared folder (what `{local_dir}` means in connector configs)."""
        value: Path = self.memo("local_dir", self.new_local_dir)
        return value

    def remaining(self) -> float | None:
        """Seconds left for the current case."""
        if self.deadline is None:
            return None
        return max(1.0, self.deadline - time.monotonic())

    def run(
        self,
        command: str,
        files: Mapping[str, Any] | None = None,
        *,
        stdin: bytes | None = None,
        tag: str = "",
        cache: bool = True,
        local_dir: Path | None = None,
    ) -> RunResult:
        """Run a connector command (cached by its inputs and `tag` unless `cache=False`)."""
        digest = hashlib.sha1(stdin or b"", usedforsecurity=False).hexdigest()
        key = "\0".join((tag, command, json.dumps(files or {}).decode(), str(local_dir), digest))
        if cache and key in self._runs:
            result = self._runs[key]
        else:
            try:
                shared = local_dir or self.local_dir
                result = self.connector.run(command, files, stdin=stdin, timeout=self.remaining(), local_dir=shared)
            except DockerError as exc:
                fail(str(exc))
            if cache:
                self._runs[key] = result
        if result.timed_out:
            fail(f"`{command}` {result.describe_exit()} (raise timeout_seconds in the config or --timeout)")
        return result

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a value once per suite run (discovered catalogs, loaded files...)."""
        if key not in self._memo:
            try:
                self._memo[key] = ("ok", compute())
            except (CheckFailed, CheckSkipped, ConfigFileError) as exc:
                self._memo[key] = ("raise", exc)
        kind, value = self._memo[key]
        if kind == "raise":
            raise value
        return value

    def wants_stream(self, name: str) -> bool:
        """Whether `--stream` filtering keeps this stream."""
        return self.streams_filter is None or name in self.streams_filter


def run_case(ctx: Context, case: TestCase) -> Outcome:
    """Run one case within its timeout and turn whatever happens into an Outcome."""
    timeout = ctx.timeout_override or case.timeout
    started = time.monotonic()
    ctx.deadline = started + timeout
    try:
        case.func(ctx)
        status: Status = "passed"
        message = ""
    except CheckFailed as exc:
        status, message = "failed", str(exc)
    except CheckSkipped as exc:
        status, message = "skipped", str(exc)
    except ConfigFileError as exc:
        status, message = "error", f"acceptance config: {exc}"
    except Exception as exc:  # a bug in a check must not stop the other checks
        status = "error"
        message = f"internal error in the check: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    finally:
        ctx.deadline = None
    duration = time.monotonic() - started
    if status == "passed" and duration > timeout:
        status, message = "failed", f"took {duration:.0f}s, over its {timeout:.0f}s timeout"
    return Outcome(case, status, ctx.masker.mask(message), duration)


def summarize(values: list[str], limit: int = 10) -> str:
    """Join items for a message, eliding beyond `limit`."""
    shown = values[:limit]
    more = f"\n  ... and {len(values) - limit} more" if len(values) > limit else ""
    return "\n  ".join(["", *shown]) + more


def short(value: Any, limit: int = 300) -> str:
    """A compact JSON rendering of a value for failure messages."""
    text = json.dumps(value).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 3] + "..."
