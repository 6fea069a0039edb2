"""source-seatgeek end to end: the connector as a real process against a local SeatGeek imitation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from .seatgeek_imitation import CLIENT_ID, CLIENT_SECRET, SeatGeekImitation

ROOT = Path(__file__).resolve().parents[3]
CONNECTOR = ROOT / "connectors" / "source-seatgeek"
STREAMS = ["events", "event_details", "performers", "venues", "taxonomies"]


def oracle_check(lines: list[bytes]) -> None:
    """Every line parses as an Airbyte message with the reference models (airbyte-protocol-models)."""
    from airbyte_protocol.models import AirbyteMessage

    for line in lines:
        if line.strip():
            AirbyteMessage.parse_raw(line)


def run_connector(
    args: list[str], tmp: Path, config: dict[str, Any] | None = None, catalog: Any = None, state: Any = None
) -> tuple[int, list[dict[str, Any]], str]:
    argv = [sys.executable, "-m", "source_seatgeek", *args]
    for name, value in (("config", config), ("catalog", catalog), ("state", state)):
        if value is not None:
            path = tmp / f"{name}.json"
            path.write_text(json.dumps(value))
            argv += [f"--{name}", str(path)]
    env = {**os.environ, "PYTHONPATH": str(CONNECTOR), "DUCTO_LOWCODE_MAX_BACKOFF_SECONDS": "0.01"}
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
    oracle_check(proc.stdout.splitlines())
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, messages, proc.stderr.decode()


def configured(streams: list[str], mode: str = "incremental") -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": mode if s == "events" else "full_refresh",
                "destination_sync_mode": "append",
            }
            for s in streams
        ]
    }


@pytest.fixture
def api(httpserver: HTTPServer) -> SeatGeekImitation:
    return SeatGeekImitation(httpserver)


def config_for(api: SeatGeekImitation, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "url_base": api.url_base,
        "start_date": "2024-01-01T00:00:00",
        "end_date": "2024-01-31T23:59:59",
        "window_days": 10,
        "per_page": 2,
        **extra,
    }


def test_spec_check_discover(api: SeatGeekImitation, tmp_path: Path) -> None:
    code, msgs, _ = run_connector(["spec"], tmp_path)
    spec = msgs[0]["spec"]["connectionSpecification"]
    assert code == 0 and spec["required"] == ["client_id"]
    assert spec["properties"]["client_secret"]["airbyte_secret"] is True

    code, msgs, _ = run_connector(["check"], tmp_path, config_for(api))
    assert code == 0 and msgs[-1]["connectionStatus"] == {"status": "SUCCEEDED"}
    code, msgs, _ = run_connector(["check"], tmp_path, config_for(api, client_secret="wrong"))
    status = msgs[-1]["connectionStatus"]
    assert code == 0 and status["status"] == "FAILED" and "HTTP 403" in status["message"]
    assert "wrong" not in json.dumps(msgs)

    code, msgs, _ = run_connector(["discover"], tmp_path, config_for(api))
    catalog = msgs[-1]["catalog"]["streams"]
    assert [s["name"] for s in catalog] == STREAMS
    events = catalog[0]
    assert events["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert events["default_cursor_field"] == ["datetime_utc"] and events["source_defined_primary_key"] == [["id"]]
    assert events["json_schema"]["properties"]["datetime_utc"]["format"] == "date-time"


def test_read_all_streams_then_incremental(api: SeatGeekImitation, tmp_path: Path) -> None:
    code, msgs, stderr = run_connector(["read"], tmp_path, config_for(api), configured(STREAMS))
    assert code == 0, stderr
    by_stream: dict[str, list[dict[str, Any]]] = {}
    for m in msgs:
        if m["type"] == "RECORD":
            by_stream.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
    expected_events = [e["id"] for e in api.data["events"] if e["datetime_utc"] <= "2024-01-31T23:59:59"]
    assert [e["id"] for e in by_stream["events"]] == expected_events
    assert [d["event_id"] for d in by_stream["event_details"]] == expected_events
    assert all(d["description"].startswith("Details of") for d in by_stream["event_details"])
    assert len(by_stream["performers"]) == 4 and len(by_stream["venues"]) == 3 and len(by_stream["taxonomies"]) == 2
    # paging by per_page=2 with meta.total: performers need pages 1 and 2 only
    performer_pages = [r.args.get("page") for r in api.requests if r.path == "/2/performers"]
    assert performer_pages == [None, "2"]
    # windows of 10 days, filters sent as datetime_utc.gte/.lte
    event_windows = sorted(
        {(r.args["datetime_utc.gte"], r.args["datetime_utc.lte"]) for r in api.requests if r.path == "/2/events"}
    )
    assert event_windows[0] == ("2024-01-01T00:00:00", "2024-01-10T23:59:59")
    assert event_windows[-1][1] == "2024-01-31T23:59:59"
    states = [
        m["state"]
        for m in msgs
        if m["type"] == "STATE" and m["state"]["stream"]["stream_descriptor"]["name"] == "events"
    ]
    last_event = api.data["events"][len(expected_events) - 1]["datetime_utc"]
    assert states[-1]["stream"]["stream_state"] == {"datetime_utc": last_event}
    assert CLIENT_SECRET not in json.dumps([m for m in msgs if m["type"] != "RECORD"])
    statuses = [
        (m["trace"]["stream_status"]["stream_descriptor"]["name"], m["trace"]["stream_status"]["status"])
        for m in msgs
        if m["type"] == "TRACE" and m["trace"]["type"] == "STREAM_STATUS"
    ]
    assert statuses.count(("events", "COMPLETE")) == 1 and ("event_details", "COMPLETE") in statuses

    # second run from the saved state: only events at or after the cursor
    api.requests.clear()
    code, msgs, stderr = run_connector(["read"], tmp_path, config_for(api), configured(["events"]), state=[states[-1]])
    assert code == 0, stderr
    again = [m["record"]["data"]["id"] for m in msgs if m["type"] == "RECORD"]
    assert again == [expected_events[-1]]
    assert api.requests[0].args["datetime_utc.gte"] == last_event


def test_bad_credentials_fail_the_read_as_config_error(api: SeatGeekImitation, tmp_path: Path) -> None:
    code, msgs, _ = run_connector(["read"], tmp_path, config_for(api, client_id="nope-nope"), configured(["venues"]))
    assert code == 1
    error = next(m["trace"]["error"] for m in msgs if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR")
    assert error["failure_type"] == "config_error" and "refused the client_id" in error["message"]
    assert "nope-nope" not in json.dumps(msgs)
