"""`ducto state show|set|reset CONNECTION [--stream S]`: inspect and edit committed state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ducto.orchestrator import jsonutil
from ducto.orchestrator.cli.common import handle_errors, open_connection
from ducto.orchestrator.errors import UsageError
from ducto.orchestrator.lock import ConnectionLock
from ducto.orchestrator.pipe import state_key
from ducto.orchestrator.store import GLOBAL_STATE_KEY, Store, home_for


@click.group()
def state() -> None:
    """Show, set or reset the committed state of a connection."""


def _parse_json(text: str, what: str) -> Any:
    try:
        return jsonutil.loads(text)
    except jsonutil.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None


def _stream_state(stream: str, blob: Any) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": stream}
    return {"type": "STREAM", "stream": {"stream_descriptor": descriptor, "stream_state": blob}}


@state.command()
@click.argument("connection")
@click.option("--stream", help="Only this stream's state blob.")
@handle_errors
def show(connection: str, stream: str | None) -> None:
    """Print the state the next sync will pass (a JSON array), or one stream's state blob."""
    conn = open_connection(connection, resolve_secrets=False)
    store = Store.open_home(home_for(conn.path))
    try:
        states = store.get_states(conn.name)
    finally:
        store.close()
    if stream is None:
        click.echo(jsonutil.dumps_pretty(list(states.values())))
        return
    if stream not in states:
        raise UsageError(
            f"no state for stream {stream!r} of {conn.name} (streams with state: {', '.join(sorted(states)) or 'none'})"
        )
    payload = states[stream]
    blob = payload.get("stream", {}).get("stream_state") if payload.get("type") == "STREAM" else payload
    click.echo(jsonutil.dumps_pretty(blob))


@state.command(name="set")
@click.argument("connection")
@click.argument("value", required=False)
@click.option("--stream", help="Set this stream's state blob to VALUE (a JSON object).")
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False),
    help="A JSON file: a state array (all streams) or, with --stream, one stream's blob.",
)
@handle_errors
def set_state(connection: str, value: str | None, stream: str | None, file_path: str | None) -> None:
    """Replace state: one stream's blob (--stream S VALUE) or the whole array (--file F)."""
    conn = open_connection(connection, resolve_secrets=False)
    if (value is None) == (file_path is None):
        raise UsageError("give the new state as VALUE or with --file, not both")
    text = Path(file_path).read_text() if file_path else str(value)
    data = _parse_json(text, file_path or "VALUE")
    home = home_for(conn.path)
    entries: dict[str, dict[str, Any]] = {}
    if stream is not None:
        entries[stream] = _stream_state(stream, data)
    else:
        if not isinstance(data, list):
            raise UsageError("without --stream the state must be a JSON array of STREAM/GLOBAL states")
        for index, item in enumerate(data):
            key = state_key(item) if isinstance(item, dict) else None
            if key is None:
                raise UsageError(f"state[{index}]: expected a STREAM or GLOBAL state object")
            entries[key] = {k: v for k, v in item.items() if k not in ("sourceStats", "destinationStats")}
    with ConnectionLock(home, conn.name):
        store = Store.open_home(home)
        try:
            if stream is None:
                store.delete_states(conn.name)
            for key, payload in entries.items():
                store.save_state(conn.name, key, payload, None)
        finally:
            store.close()
    click.echo(f"state of {conn.name}: set {', '.join(sorted(entries)) or 'nothing'}")


@state.command()
@click.argument("connection")
@click.option("--stream", help="Only this stream (the next sync reads it from the start).")
@handle_errors
def reset(connection: str, stream: str | None) -> None:
    """Forget committed state: the next sync starts from scratch (for one stream or all)."""
    conn = open_connection(connection, resolve_secrets=False)
    home = home_for(conn.path)
    with ConnectionLock(home, conn.name):
        store = Store.open_home(home)
        try:
            removed = store.delete_states(conn.name, stream)
            if stream is not None and removed == 0 and GLOBAL_STATE_KEY in store.get_states(conn.name):
                raise UsageError(f"{conn.name} has a global state; reset the whole connection instead")
        finally:
            store.close()
    click.echo(f"state of {conn.name}{' stream ' + stream if stream else ''}: reset ({removed} removed)")
