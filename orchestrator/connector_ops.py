"""One-shot connector commands: `spec`, `check`, `discover` (small outputs, parsed fully)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from ducto.orchestrator import jsonutil
from ducto.orchestrator.connection import ConnectorDef
from ducto.orchestrator.errors import DuctoError
from ducto.orchestrator.fdio import PollReader
from ducto.orchestrator.masking import Masker
from ducto.orchestrator.pipe import describe_exit
from ducto.orchestrator.runners import runner_for
from ducto.orchestrator.runners.base import Runner
from ducto.orchestrator.store import Store

DEFAULT_TIMEOUT = 600.0
MAX_OUTPUT = 256 << 20


class ConnectorCommandFailed(DuctoError):
    """A spec/check/discover command failed (TRACE ERROR, non-zero exit, no answer)."""


@dataclass
class CommandOutput:
    """Everything a one-shot command printed."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    stderr: list[str] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None

    def first(self, kind: str) -> dict[str, Any] | None:
        """The first message of `kind` (e.g. SPEC)."""
        return next((m for m in self.messages if m.get("type") == kind), None)


def run_command(
    connector: ConnectorDef,
    command: str,
    *,
    config: dict[str, Any] | None = None,
    runner: Runner | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    masker: Masker | None = None,
) -> CommandOutput:
    """Run `command` and collect its messages; raises ConnectorCommandFailed on failure."""
    runner = runner or runner_for(connector)
    masker = masker or Masker()
    files = {"config": jsonutil.dumps(config)} if config is not None else {}
    output = CommandOutput()
    handle = runner.start(connector, command, files, on_stderr=output.stderr.append)
    try:
        reader = PollReader(handle.stdout_fd)
        buffer = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            chunk = reader.read(0.5)
            if chunk is None:
                if time.monotonic() > deadline:
                    handle.kill()
                    raise ConnectorCommandFailed(f"{connector.role} {command}: no answer within {timeout:g}s")
                continue
            if not chunk:
                break
            buffer += chunk
            if len(buffer) > MAX_OUTPUT:
                raise ConnectorCommandFailed(f"{connector.role} {command}: output larger than 256 MiB")
        output.exit_code = handle.wait(max(1.0, deadline - time.monotonic()))
        if output.exit_code is None:
            handle.kill()
            output.exit_code = handle.wait(10)
    finally:
        handle.cleanup()
    for line_no, line in enumerate(bytes(buffer).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            message = jsonutil.loads(line)
        except jsonutil.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            text = masker.mask(line[:80].decode("utf-8", errors="replace"))
            raise ConnectorCommandFailed(
                f"{connector.role} {command}: output line {line_no} is not a protocol message: {text!r}"
            )
        output.messages.append(message)
        if message["type"] == "LOG" and isinstance(message.get("log"), dict):
            output.logs.append(
                (str(message["log"].get("level", "INFO")), masker.mask(str(message["log"].get("message", ""))))
            )
        if message["type"] == "TRACE" and isinstance(message.get("trace"), dict):
            error = message["trace"].get("error")
            if message["trace"].get("type") == "ERROR" and isinstance(error, dict) and output.error is None:
                output.error = masker.mask(str(error.get("message") or error.get("internal_message") or "error"))
    if output.error is not None:
        raise ConnectorCommandFailed(f"{connector.role} {command} failed: {output.error}")
    if output.exit_code != 0:
        tail = "; ".join(masker.mask(line) for line in output.stderr[-3:])
        detail = f": {tail}" if tail else ""
        raise ConnectorCommandFailed(f"{connector.role} {command} {describe_exit(output.exit_code)}{detail}")
    return output


def get_spec(connector: ConnectorDef, runner: Runner | None = None, store: Store | None = None) -> dict[str, Any]:
    """The connector's SPEC payload, cached per image/command in `store` when given."""
    runner = runner or runner_for(connector)
    key = f"spec:{runner.identity(connector)}"
    if store is not None and connector.runner == "docker":
        cached = store.cache_get(key)
        if isinstance(cached, dict):
            return cached
    output = run_command(connector, "spec", runner=runner)
    message = output.first("SPEC")
    if message is None or not isinstance(message.get("spec"), dict):
        raise ConnectorCommandFailed(f"{connector.role} spec: the connector printed no SPEC message")
    spec: dict[str, Any] = message["spec"]
    if store is not None and connector.runner == "docker":
        store.cache_put(key, spec)
    return spec


def check(
    connector: ConnectorDef, config: dict[str, Any], runner: Runner | None = None, masker: Masker | None = None
) -> tuple[bool, str | None]:
    """(succeeded, message) from the connector's CONNECTION_STATUS."""
    output = run_command(connector, "check", config=config, runner=runner, masker=masker)
    message = output.first("CONNECTION_STATUS")
    status = message.get("connectionStatus") if message else None
    if not isinstance(status, dict):
        raise ConnectorCommandFailed(f"{connector.role} check: the connector printed no CONNECTION_STATUS message")
    text = status.get("message")
    return status.get("status") == "SUCCEEDED", (masker or Masker()).mask(str(text)) if text else None


def discover(
    connector: ConnectorDef, config: dict[str, Any], runner: Runner | None = None, masker: Masker | None = None
) -> dict[str, Any]:
    """The source's CATALOG payload."""
    output = run_command(connector, "discover", config=config, runner=runner, masker=masker)
    message = output.first("CATALOG")
    if message is None or not isinstance(message.get("catalog"), dict):
        raise ConnectorCommandFailed(f"{connector.role} discover: the connector printed no CATALOG message")
    catalog: dict[str, Any] = message["catalog"]
    return catalog


def discover_cached(
    connector: ConnectorDef,
    config: dict[str, Any],
    *,
    runner: Runner,
    store: Store,
    connection: str,
    refresh: bool,
    masker: Masker | None = None,
) -> dict[str, Any]:
    """`discover`, reusing the last catalog of this connection while the source and its config are unchanged."""
    if connector.runner != "docker":  # a local command may change at any time: ask it every run
        return discover(connector, config, runner, masker)
    digest = hashlib.sha256(jsonutil.canonical(config) + runner.identity(connector).encode()).hexdigest()
    key = f"catalog:{connection}"
    cached = store.cache_get(key)
    if not refresh and isinstance(cached, dict) and cached.get("digest") == digest:
        catalog = cached.get("catalog")
        if isinstance(catalog, dict):
            return catalog
    catalog = discover(connector, config, runner, masker)
    store.cache_put(key, {"digest": digest, "catalog": catalog})
    return catalog
