"""Entry point of the `ducto` command: a click group whose subcommands load on first use."""

from __future__ import annotations

import importlib
import sys

import click

from ducto import __version__

# name -> "module:attribute"; each module owns one command (or group) and is imported only when used,
# so `ducto --help` stays fast and one broken extra cannot break the others.
COMMANDS: dict[str, str] = {
    "spec": "ducto.orchestrator.cli.connector_commands:spec",
    "check": "ducto.orchestrator.cli.connector_commands:check",
    "discover": "ducto.orchestrator.cli.connector_commands:discover",
    "init": "ducto.orchestrator.cli.init_command:init",
    "sync": "ducto.orchestrator.cli.sync_command:sync",
    "state": "ducto.orchestrator.cli.state_commands:state",
    "runs": "ducto.orchestrator.cli.history_commands:runs",
    "logs": "ducto.orchestrator.cli.history_commands:logs",
    "test": "ducto.orchestrator.acceptance.cli:test",
    "manifest": "ducto.orchestrator.cli.manifest_commands:manifest",
}


class LazyGroup(click.Group):
    """A group whose commands are imported from COMMANDS on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # command not built into this installation
            raise
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ducto")
def cli() -> None:
    """Ducto runs Airbyte-protocol connectors: sync, inspect state and history, test images."""


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(standalone_mode=True))
