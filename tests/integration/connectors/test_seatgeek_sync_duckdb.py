"""SeatGeek (manifest connector) → DuckDB through `ducto sync`, against the local SeatGeek imitation."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from pytest_httpserver import HTTPServer

from ..orchestrator.conftest import run_ducto, write_connection  # noqa: TID252 - shared test helpers
from .seatgeek_imitation import CLIENT_ID, CLIENT_SECRET, SeatGeekImitation, make_data

ROOT = Path(__file__).resolve().parents[3]


def connector(name: str) -> dict[str, object]:
    return {
        "command": [sys.executable, "-m", name.replace("-", "_")],
        "env": {"PYTHONPATH": str(ROOT / "connectors" / name)},
    }


def test_seatgeek_into_duckdb_then_incremental_resume(httpserver: HTTPServer, tmp_path: Path) -> None:
    data = make_data(n_events=7)
    api = SeatGeekImitation(httpserver, data)
    warehouse = tmp_path / "warehouse.duckdb"
    source = {
        **connector("source-seatgeek"),
        "config": {
            "client_id": CLIENT_ID,
            "client_secret": "${env:SEATGEEK_SECRET}",
            "url_base": api.url_base,
            "start_date": "2024-01-01T00:00:00",
            "end_date": "2024-01-31T23:59:59",
            "window_days": 10,
            "per_page": 2,
        },
    }
    destination = {**connector("destination-duckdb"), "config": {"path": str(warehouse)}}
    streams = [
        {
            "name": "events",
            "sync_mode": "incremental",
            "destination_sync_mode": "append_dedup",
            "primary_key": [["id"]],
        },
        {"name": "event_details", "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
        {"name": "venues", "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
    ]
    write_connection(tmp_path, source, destination, streams=streams)
    env = {"SEATGEEK_SECRET": CLIENT_SECRET, "DUCTO_LOWCODE_MAX_BACKOFF_SECONDS": "0.01"}

    first = run_ducto("sync", "conn.yaml", cwd=tmp_path, env=env)
    assert first.code == 0, first.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from events").fetchone() == (7,)
        assert con.execute("select count(*) from event_details").fetchone() == (7,)
        assert con.execute("select count(*) from venues").fetchone() == (3,)
        titles = con.execute("select title from events order by id").fetchall()
        assert titles[0] == ("Concert 0",)
    state = run_ducto("state", "show", "conn.yaml", "--stream", "events", cwd=tmp_path)
    assert state.code == 0 and "2024-01-19" in state.stdout  # the last event's datetime_utc

    # A new event appears: the second sync adds it once, without duplicating what was loaded.
    data["events"].append({**data["events"][-1], "id": 5999, "datetime_utc": "2024-01-25T19:00:00"})
    api.requests.clear()
    second = run_ducto("sync", "conn.yaml", cwd=tmp_path, env=env)
    assert second.code == 0, second.stderr
    event_requests = [r for r in api.requests if r.path == "/2/events"]
    # `events` is read first and starts at the saved cursor; `event_details` (full refresh) then
    # reads its parent from the start date, as Airbyte's substream partition router does.
    assert event_requests[0].args["datetime_utc.gte"] == "2024-01-19T19:00:00"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from events").fetchone() == (8, 8)
    history = run_ducto("runs", "conn.yaml", cwd=tmp_path)
    assert CLIENT_SECRET not in history.stdout + first.stdout + first.stderr + second.stderr
