"""`ducto test IMAGE [--config acceptance-test-config.yml]`: the acceptance suite from the command line."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import click

from ducto.orchestrator.acceptance.config import AcceptanceConfig, ConfigFileError, default_config, load_config
from ducto.orchestrator.acceptance.framework import Context, Outcome
from ducto.orchestrator.acceptance.keyword import KeywordError, validate
from ducto.orchestrator.acceptance.report import outcome_line, write_junit, write_summary
from ducto.orchestrator.acceptance.runner import (
    ConnectorUnderTest,
    DockerConnector,
    DockerError,
    ProcessConnector,
    inspect_image,
)
from ducto.orchestrator.acceptance.suite import build_cases, run_suite, select


def make_connector(image: str | None, command: str | None, cfg: AcceptanceConfig) -> tuple[ConnectorUnderTest, str]:
    """The connector under test: a local command (`--command`) or an image (argument or config)."""
    env = cfg.custom_environment_variables
    if command and image:
        raise click.UsageError("give either an IMAGE or --command, not both")
    if command:
        argv = shlex.split(command)
        if not argv:
            raise click.UsageError("--command is empty")
        if shutil.which(argv[0]) is None:
            raise click.ClickException(f"--command: {argv[0]!r} is not an executable file or a command on PATH")
        return ProcessConnector(argv, env=env), "process"
    name = image or cfg.connector_image
    if not name:
        raise click.UsageError("give an IMAGE, a --config with connector_image, or --command")
    try:
        inspect_image(name)
    except DockerError as exc:
        raise click.ClickException(f"{exc} (build it first, e.g. scripts/build-images)") from None
    return DockerConnector(name, env=env), "docker"


@click.command("test")
@click.argument("image", required=False)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An Airbyte acceptance-test-config.yml (paths inside are relative to it).",
)
@click.option("--command", help="Test a local command instead of an image, e.g. 'python -m my_source'.")
@click.option("-k", "keyword", help="Only run tests whose id matches this expression (pytest -k syntax).")
@click.option("--stream", "streams", multiple=True, help="Only test these streams (repeatable).")
@click.option("--junitxml", type=click.Path(dir_okay=False, path_type=Path), help="Also write a JUnit XML report.")
@click.option("--timeout", type=click.FloatRange(min=1), help="Per-test timeout in seconds (overrides the config).")
@click.option("--collect-only", is_flag=True, help="List the test ids without running them.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
def test(  # noqa: PLR0917 (one parameter per click option)
    image: str | None,
    config_path: Path | None,
    command: str | None,
    keyword: str | None,
    streams: tuple[str, ...],
    junitxml: Path | None,
    timeout: float | None,
    collect_only: bool,
    quiet: bool,
) -> None:
    """Run the acceptance suite against a connector IMAGE (or --command).

    Without --config only the checks that need no connector config run (spec, image conventions).
    Exits 0 only when every selected test passed or was skipped.
    """
    try:
        cfg = load_config(config_path) if config_path else default_config(image)
    except ConfigFileError as exc:
        raise click.ClickException(str(exc)) from None
    if keyword:
        try:
            validate(keyword)
        except KeywordError as exc:
            raise click.UsageError(str(exc)) from None
    connector, kind = make_connector(image, command, cfg)
    ctx = Context(connector, cfg, streams_filter=set(streams) or None, timeout_override=timeout)
    header = f"{kind}: {connector.label}"
    click.echo(
        f"ducto test: {header}"
        + (f", config {cfg.path}" if cfg.path else ", no config (spec checks; reads with the spec's defaults if valid)")
    )
    if collect_only:
        try:
            for case in select(build_cases(ctx), keyword):
                click.echo(case.id)
        finally:
            ctx.close()
        return

    def show(o: Outcome) -> None:
        if not quiet or o.status in ("failed", "error"):
            click.echo(outcome_line(o))

    result = run_suite(ctx, keyword, on_outcome=show)
    write_summary(result, sys.stdout, header)
    if junitxml is not None:
        write_junit(result, junitxml, f"ducto-acceptance:{connector.label}")
        click.echo(f"JUnit XML written to {junitxml}")
    if not result.ok:
        sys.exit(1)
