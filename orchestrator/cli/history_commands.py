"""`ducto runs [CONNECTION]` and `ducto logs RUN_ID`: what ran, how much, what failed."""

from __future__ import annotations

import datetime as dt

import click

from ducto.orchestrator import jsonutil
from ducto.orchestrator.cli.common import handle_errors, open_connection, open_store
from ducto.orchestrator.errors import LockedError, UsageError
from ducto.orchestrator.lock import ConnectionLock
from ducto.orchestrator.progress import human_bytes
from ducto.orchestrator.store import Store


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _duration(start: float, end: float | None) -> str:
    if end is None:
        return "-"
    seconds = end - start
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


@click.command()
@click.argument("connection", required=False, metavar="[CONNECTION]")
@click.option("--home", help="The .ducto directory to read (default: beside CONNECTION, $DUCTO_HOME or ./.ducto).")
@click.option("-n", "--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per run) instead of text.")
@handle_errors
def runs(connection: str | None, home: str | None, limit: int, as_json: bool) -> None:
    """Run history: status, start, duration, records and bytes per stream, the error if any."""
    name = open_connection(connection, resolve_secrets=False).name if connection else None
    store = open_store(connection, home)
    try:
        rows = store.list_runs(name, limit)
        if _close_abandoned(store, {run.connection for run in rows if run.status == "running"}):
            rows = store.list_runs(name, limit)
        for run in rows:
            streams = store.run_streams(run.id)
            if as_json:
                click.echo(
                    jsonutil.dumps(
                        {
                            "id": run.id,
                            "connection": run.connection,
                            "status": run.status,
                            "started_at": run.started_at,
                            "ended_at": run.ended_at,
                            "error": run.error,
                            "streams": {
                                s.stream: {
                                    "records": s.records,
                                    "bytes": s.bytes,
                                    "committed_records": s.committed_records,
                                    "status": s.status,
                                }
                                for s in streams
                            },
                        }
                    ).decode()
                )
                continue
            records = sum(s.records for s in streams)
            size = sum(s.bytes for s in streams)
            click.echo(
                f"run {run.id}  {run.connection}  {run.status}  {_when(run.started_at)}"
                f"  {_duration(run.started_at, run.ended_at)}  {records:,} records  {human_bytes(size)}"
            )
            for s in streams:
                click.echo(
                    f"    {s.stream}: {s.records:,} records, {human_bytes(s.bytes)},"
                    f" {s.committed_records:,} committed{', ' + s.status.lower() if s.status else ''}"
                )
            if run.error:
                click.echo(f"    error: {run.error}")
        if not rows and not as_json:
            click.echo("no runs yet")
    finally:
        store.close()


def _close_abandoned(store: Store, connections: set[str]) -> bool:
    """Mark as failed the 'running' runs whose orchestrator is gone (their lock is free)."""
    changed = False
    for connection in connections:
        lock = ConnectionLock(store.path.parent, connection)
        try:
            lock.acquire()
        except LockedError:
            continue  # a sync is running right now
        try:
            changed = store.mark_abandoned_runs(connection) > 0 or changed
        finally:
            lock.release()
    return changed


@click.command()
@click.argument("run_id", type=int)
@click.option("--connection", "connection", help="A connection file whose .ducto directory holds the run.")
@click.option("--home", help="The .ducto directory to read (default: $DUCTO_HOME or ./.ducto).")
@click.option(
    "--level",
    type=click.Choice(["DEBUG", "INFO", "WARN", "ERROR"], case_sensitive=False),
    default="DEBUG",
    help="Only lines at or above this level.",
)
@handle_errors
def logs(run_id: int, connection: str | None, home: str | None, level: str) -> None:
    """The log of run RUN_ID: connector LOG/TRACE messages, stderr and Ducto's own events."""
    order = {"DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3}
    floor = order[level.upper()]
    store = open_store(connection, home)
    try:
        run = store.get_run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id} in {store.path}")
        for ts, origin, line_level, message in store.run_logs(run_id):
            if order.get(line_level, 1) >= floor:
                click.echo(f"{_when(ts)} {origin:<11} {line_level:<5} {message}")
        click.echo(f"run {run.id} {run.status}" + (f": {run.error}" if run.error else ""))
    finally:
        store.close()
