"""`ducto sync CONNECTION`: run one sync and print its summary."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from ducto.orchestrator.cli.common import handle_errors, open_connection
from ducto.orchestrator.errors import SyncFailed
from ducto.orchestrator.progress import human_bytes, make_progress
from ducto.orchestrator.sync import SyncOutcome, SyncRun


@click.command()
@click.argument("connection", metavar="CONNECTION")
@click.option("--refresh-catalog", is_flag=True, help="Run discover again instead of reusing the cached catalog.")
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "rich", "plain"]),
    default="auto",
    show_default=True,
    help="Live table on a terminal, plain lines otherwise.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every connector log line, not only warnings and errors.")
@handle_errors
def sync(connection: str, refresh_catalog: bool, progress_mode: str, verbose: bool) -> None:
    """Sync CONNECTION (a connection YAML file): source read -> destination write, with resume."""
    conn = open_connection(connection)
    progress = make_progress(progress_mode, "INFO" if verbose else "WARN")
    try:
        outcome = SyncRun(conn, progress=progress, refresh_catalog=refresh_catalog).run()
    except SyncFailed as exc:
        if exc.outcome is not None:
            print_summary(exc.outcome)
        if exc.run_id is not None:
            here = conn.path.parent == Path.cwd().resolve() and not os.environ.get("DUCTO_HOME")
            hint = f"ducto logs {exc.run_id}" + ("" if here else f" --connection {connection}")
            raise SyncFailed(f"sync failed (run {exc.run_id}): {exc}; see `{hint}`") from None
        raise
    print_summary(outcome)


def print_summary(outcome: SyncOutcome) -> None:
    """The end-of-sync table: a rich table on a terminal, aligned text otherwise."""
    rows = [
        (name, f"{s.records:,}", human_bytes(s.bytes), f"{s.committed_records:,}", (s.status or "").lower())
        for name, s in sorted(outcome.streams.items())
    ]
    records = sum(s.records for s in outcome.streams.values())
    total = sum(s.bytes for s in outcome.streams.values())
    title = (
        f"run {outcome.run_id} {outcome.status}: {records:,} records, {human_bytes(total)}"
        f" in {outcome.seconds:.1f}s, {outcome.states_committed} states committed"
    )
    header = ("stream", "records", "size", "committed", "status")
    if sys.stdout.isatty() and importlib.util.find_spec("rich") is not None:
        from rich.console import Console
        from rich.table import Table

        table = Table()
        for column in header:
            table.add_column(column, justify="left" if column in ("stream", "status") else "right")
        for row in rows:
            table.add_row(*row)
        console = Console()
        console.print(title, markup=False, highlight=False)
        console.print(table)
        return
    click.echo(title)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                cell.ljust(w) if i in (0, 4) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
