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
from ducto.orchestrator.runners import runner_for
from ducto.orchestrator.runners.base import Runner


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
    func = click.option(
        "--local-dir",
        help="Host directory mounted at /local in the container (default: ./.ducto/local if it exists).",
    )(func)
    func = click.option("--command", help="Run this local command (process runner) instead of an image.")(func)
    return click.argument("image", required=False)(func)


def _runner(connector: ConnectorDef, local_dir: str | None) -> Runner:
    default = Path(".ducto/local")
    directory = (
        Path(local_dir).expanduser().resolve() if local_dir else (default.resolve() if default.is_dir() else None)
    )
    return runner_for(connector, directory)


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
def spec(image: str | None, command: str | None, local_dir: str | None) -> None:
    """Print the connector's SPEC (its config's JSON Schema and capabilities)."""
    connector = connector_from_args(image, command)
    click.echo(jsonutil.dumps_pretty(get_spec(connector, _runner(connector, local_dir))))


@click.command()
@_with_options
@click.option("--config", "config_path", help="The connector config (YAML or JSON; ${env:...} allowed).")
@handle_errors
def check(image: str | None, command: str | None, local_dir: str | None, config_path: str | None) -> None:
    """Check that the connector can connect with a config (exit 1 if it cannot)."""
    connector = connector_from_args(image, command)
    masker = Masker()
    config = _config(config_path, masker)
    ok, message = run_check(connector, config, _runner(connector, local_dir), masker=masker)
    if not ok:
        raise ConnectorCommandError(f"check failed: {message or 'no reason given'}")
    click.echo("check succeeded" + (f": {message}" if message else ""))


@click.command()
@_with_options
@click.option("--config", "config_path", help="The connector config (YAML or JSON; ${env:...} allowed).")
@handle_errors
def discover(image: str | None, command: str | None, local_dir: str | None, config_path: str | None) -> None:
    """Print the source's catalog: its streams, schemas, sync modes, cursors and keys."""
    connector = connector_from_args(image, command, role="source")
    masker = Masker()
    config = _config(config_path, masker)
    click.echo(jsonutil.dumps_pretty(run_discover(connector, config, _runner(connector, local_dir), masker=masker)))
