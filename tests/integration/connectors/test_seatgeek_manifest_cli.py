"""`ducto manifest test|validate` on the SeatGeek manifest against the local imitation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from ducto.orchestrator.cli.main import cli

from .seatgeek_imitation import CLIENT_ID, CLIENT_SECRET, SeatGeekImitation

MANIFEST = Path(__file__).resolve().parents[3] / "connectors/source-seatgeek/source_seatgeek/manifest.yaml"


@pytest.fixture
def setup(httpserver: HTTPServer, tmp_path: Path) -> tuple[SeatGeekImitation, Path]:
    api = SeatGeekImitation(httpserver)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "url_base": api.url_base,
                "start_date": "2024-01-01T00:00:00",
                "end_date": "2024-01-20T00:00:00",
                "per_page": 2,
            }
        )
    )
    return api, config


def test_manifest_test_text_output_masks_secrets(setup: tuple[SeatGeekImitation, Path]) -> None:
    api, config = setup
    result = CliRunner().invoke(
        cli, ["manifest", "test", str(MANIFEST), "--config", str(config), "--stream", "performers", "--max-pages", "5"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "stream performers" in out
    assert f"GET {api.url_base}/performers?" in out
    assert "client_id=****" in out and "client_secret=****" in out
    assert CLIENT_ID not in out and CLIENT_SECRET not in out
    assert "page 1: 2 extracted, 2 selected; next page token: 2" in out
    assert "page 2: 2 extracted, 2 selected; next page token: null" in out
    assert "4 records in 2 pages" in out


def test_manifest_test_json_incremental_and_child(setup: tuple[SeatGeekImitation, Path], tmp_path: Path) -> None:
    _, config = setup
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            [
                {
                    "type": "STREAM",
                    "stream": {
                        "stream_descriptor": {"name": "events"},
                        "stream_state": {"datetime_utc": "2024-01-07T19:00:00"},
                    },
                }
            ]
        )
    )
    result = CliRunner().invoke(
        cli,
        [
            "manifest",
            "test",
            str(MANIFEST),
            "--config",
            str(config),
            "--stream",
            "events",
            "--stream",
            "event_details",
            "--state",
            str(state),
            "--json",
            "--max-records",
            "6",
            "--max-slices",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    events, details = report["streams"]
    first_request = next(e for e in events["events"] if e["event"] == "request")["request"]
    assert first_request["params"]["datetime_utc.gte"] == "2024-01-07T19:00:00"
    assert first_request["params"]["client_id"] == "****"
    assert events["records"] == 5  # 2024-01-07, 10, 13, 16, 19 (one 30-day window)
    assert events["state"] == {"datetime_utc": "2024-01-19T19:00:00"} and events["state_advanced"]
    assert details["records"] == 6 and details["limit_reached"]  # 7 parent events, capped by --max-records
    labels = {e.get("label") for e in details["events"] if e["event"] == "request"}
    assert labels == {"parent events", "event_details"}
    assert CLIENT_SECRET not in result.output


def test_manifest_test_reports_http_errors(setup: tuple[SeatGeekImitation, Path], tmp_path: Path) -> None:
    _, config = setup
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(config.read_text()), "client_secret": "wrong-secret"}))
    result = CliRunner().invoke(cli, ["manifest", "test", str(MANIFEST), "--config", str(bad), "--stream", "venues"])
    assert result.exit_code == 1
    assert "error (config_error)" in result.output and "HTTP 403" in result.output
    assert "wrong-secret" not in result.output


def test_validate_and_bad_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["manifest", "validate", str(MANIFEST)])
    assert result.exit_code == 0 and "OK: 5 streams" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(MANIFEST.read_text().replace("type: CursorPagination", "type: Foo"))
    result = CliRunner().invoke(cli, ["manifest", "validate", str(broken)])
    assert result.exit_code == 1
    assert "Error: streams[0].retriever.paginator.pagination_strategy: unknown type 'Foo'" in result.output
    assert "Traceback" not in result.output
