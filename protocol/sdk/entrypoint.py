"""The connector entrypoint: `spec`, `check`, `discover`, `read`, `write`, following Airbyte's contract.

Errors flow into the protocol: a ConnectorError's `failure_type` decides the TRACE ERROR it becomes;
any other crash becomes a TRACE ERROR `system_error`. Exit code 0 on success, 1 on failure, 2 for
command-line usage. Every non-RECORD message is masked for the config's secrets.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, NoReturn

from ducto.protocol.errors import ConfigError, ConnectorError, FailureType, ProtocolError
from ducto.protocol.io import MessageWriter
from ducto.protocol.messages import (
    ConnectionStatus,
    Spec,
    error_trace,
    load_configured_catalog,
    load_state,
)
from ducto.protocol.sdk import logging_handler
from ducto.protocol.sdk.destination import Destination, check_catalog_supported, write
from ducto.protocol.sdk.reader import read
from ducto.protocol.sdk.source import Connector, Source
from ducto.protocol.sdk.spec import load_json_file, validate_config
from ducto.protocol.secrets import secret_values

logger = logging.getLogger("ducto.connector")


def _parser(connector: Connector) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=type(connector).__name__, description="An Airbyte-protocol connector.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("spec", help="print the connector's SPEC")
    for name in ("check", "discover"):
        commands.add_parser(name).add_argument("--config", required=True)
    if isinstance(connector, Source):
        read_cmd = commands.add_parser("read", help="read records")
        read_cmd.add_argument("--config", required=True)
        read_cmd.add_argument("--catalog", required=True)
        read_cmd.add_argument("--state")
    if isinstance(connector, Destination):
        write_cmd = commands.add_parser("write", help="write messages from stdin")
        write_cmd.add_argument("--config", required=True)
        write_cmd.add_argument("--catalog", required=True)
    return parser


def _load_config(path: str, spec: Spec, writer: MessageWriter) -> Mapping[str, Any]:
    config = load_json_file(path, "config")
    writer.masker.add(secret_values(config, spec.connection_specification))
    validate_config(config, spec)
    return config  # type: ignore[no-any-return]


def _check(connector: Connector, path: str, writer: MessageWriter) -> int:
    spec = connector.spec()
    try:
        config = _load_config(path, spec, writer)
        connector.check_connection(config)
    except ConnectorError as exc:
        if exc.failure_type != FailureType.CONFIG_ERROR:
            raise
        writer.write(ConnectionStatus("FAILED", exc.message))
        return 0
    writer.write(ConnectionStatus("SUCCEEDED"))
    return 0


def _catalog(path: str) -> Any:
    try:
        return load_configured_catalog(load_json_file(path, "catalog"))
    except ProtocolError as exc:
        raise ConfigError(f"catalog file {path}: {exc}") from None


def _dispatch(connector: Connector, args: argparse.Namespace, stdin: BinaryIO, writer: MessageWriter) -> int:
    if args.command == "spec":
        writer.write(connector.spec())
        return 0
    if args.command == "check":
        return _check(connector, args.config, writer)
    config = _load_config(args.config, connector.spec(), writer)
    if args.command == "discover":
        if not isinstance(connector, Source):
            raise ConfigError("discover is only available for sources")
        writer.write(connector.discover(config))
        return 0
    catalog = _catalog(args.catalog)
    if args.command == "read":
        assert isinstance(connector, Source)
        try:
            states = load_state(load_json_file(args.state, "state")) if args.state else []
        except ProtocolError as exc:
            raise ConfigError(f"state file {args.state}: {exc}") from None
        return 0 if read(connector, config, catalog, states, writer) else 1
    assert isinstance(connector, Destination)
    check_catalog_supported(connector, catalog)
    write(connector, config, catalog, stdin, writer)
    return 0


def run(
    connector: Connector,
    argv: Sequence[str] | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> int:
    """Run one connector command and return its exit code (messages go to `stdout`)."""
    writer = MessageWriter(stdout or sys.stdout.buffer)
    logging_handler.install(writer)
    args = _parser(connector).parse_args(argv)
    try:
        return _dispatch(connector, args, stdin or sys.stdin.buffer, writer)
    except ConnectorError as exc:
        internal = exc.internal_message
        stack = None if exc.failure_type == FailureType.CONFIG_ERROR else traceback.format_exc()
        writer.write(error_trace(exc.message, exc.failure_type.value, internal_message=internal, stack_trace=stack))
    except ProtocolError as exc:
        writer.write(error_trace(f"invalid input: {exc}", "system_error", stack_trace=traceback.format_exc()))
    except BrokenPipeError:
        sys.stderr.write("output closed by the reader; stopping\n")
        return 1
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        writer.write(
            error_trace(message, "system_error", internal_message=repr(exc), stack_trace=traceback.format_exc())
        )
    finally:
        with contextlib.suppress(BrokenPipeError):
            writer.flush()
    return 1


def launch(connector: Connector, argv: Sequence[str] | None = None) -> NoReturn:
    """Run the connector with the process's arguments and exit with its code (`__main__` uses this)."""
    sys.exit(run(connector, argv))
