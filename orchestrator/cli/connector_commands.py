"""`ducto spec|check|discover IMAGE [--config F]`: run one connector command and print its answer."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ducto.orchestrator import jsonutil
from ducto.orchestrator.cli.common import handle_errors
from ducto.orchestrator.connection import ConnectorDef, load_config_file
from ducto.orchestrator.connector_ops import check as run_check
from ducto.orchestrator.connector_ops import discover as run_discover
from ducto.orchestrator.connector_ops import get_spec
from ducto.orchestrator.errors import DuctoError, UsageError
from ducto.orchestrator.masking import Masker, secrets_in_config


def connector_from_args(image: str | None, command: str | None, role: str = "connector") -> ConnectorDef:
    """A ConnectorDef from `IMAGE` or `--command`."""
    if (image is None) == (command is None):
        raise UsageError("give an IMAGE (docker runner) or --command CMD (process runner), not both")
    if command is not None:
        argv = shlex.split(command)
        if not argv:
            raise UsageError("--command is empty")
        return ConnectorDef(role=role, command=argv, workdir=Path.cwd())
    return ConnectorDef(role=role, image=image)


def _with_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--command", help="Run this local command (process runner) instead of an image.")(func)
    return click.argument("image", required=False)(func)


def _config(path: str | None, masker: Masker) -> dict[str, Any]:
    if path is None:
        raise UsageError("--config is required (a YAML or JSON file)")
    config, secrets = load_config_file(Path(path))
    masker.add(secrets)
    masker.add(secrets_in_config(config))
    return config


class ConnectorCommandError(DuctoError):
    """A connector answered, but with a failure (check FAILED)."""


@click.command()
@_with_options
@handle_errors
def spec(image: str | None, command: str | None) -> None:
    """Print the connector's SPEC (its config's JSON Schema and capabilities)."""
    connector = connector_from_args(image, command)
    click.echo(jsonutil.dumps_pretty(get_spec(connector)))


@click.command()
@_with_options
@click.option("--config", "config_path", help="The connector config (YAML or JSON; ${env:...} allowed).")
@handle_errors
def check(image: str | None, command: str | None, config_path: str | None) -> None:
    """Check that the connector can connect with a config (exit 1 if it cannot)."""
    connector = connector_from_args(image, command)
    masker = Masker()
    config = _config(config_path, masker)
    ok, message = run_check(connector, config, masker=masker)
    if not ok:
        raise ConnectorCommandError(f"check failed: {message or 'no reason given'}")
    click.echo("check succeeded" + (f": {message}" if message else ""))


@click.command()
@_with_options
@click.option("--config", "config_path", help="The connector config (YAML or JSON; ${env:...} allowed).")
@handle_errors
def discover(image: str | None, command: str | None, config_path: str | None) -> None:
    """Print the source's catalog: its streams, schemas, sync modes, cursors and keys."""
    connector = connector_from_args(image, command, role="source")
    masker = Masker()
    config = _config(config_path, masker)
    click.echo(jsonutil.dumps_pretty(run_discover(connector, config, masker=masker)))
