"""The entrypoint contract, exercised with the toy connector in-process and as a subprocess."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_protocol.models import AirbyteMessage, Type

from ducto.protocol import json

from .conftest import Result, catalog, run_in_process, run_subprocess

SECRET = "s3cr3t-TOKEN-value"
CONFIG = {"count": 7, "api_key": SECRET}
BOTH = catalog(("numbers", "incremental", "append"), ("letters", "full_refresh", "overwrite"))


def assert_valid_airbyte_output(result: Result) -> None:
    """The external oracle: every line parses with airbyte-protocol-models, payload present."""
    for line in result.stdout.splitlines():
        msg = AirbyteMessage.parse_raw(line)
        payload = getattr(msg, {Type.CONNECTION_STATUS: "connectionStatus"}.get(msg.type, msg.type.value.lower()))
        assert payload is not None, line
        if msg.type in (Type.RECORD, Type.TRACE, Type.CONTROL):
            assert isinstance(json.loads(line)[msg.type.value.lower()]["emitted_at"], int), line


@pytest.fixture(params=["in_process", "subprocess"])
def runner(request: pytest.FixtureRequest):
    return run_in_process if request.param == "in_process" else run_subprocess


def test_spec(runner) -> None:
    result = runner(["spec"])
    assert result.exit_code == 0
    (spec,) = result.of_type("SPEC")
    assert spec["spec"]["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True
    assert_valid_airbyte_output(result)


def test_check_succeeds_with_a_good_config(runner, files) -> None:
    result = runner(["check", "--config", files("c.json", CONFIG)])
    assert result.exit_code == 0
    assert result.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    assert_valid_airbyte_output(result)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"count": "many", "api_key": SECRET}, "config.count: 'many' is not of type 'integer'"),
        ({"count": 1}, "'api_key' is a required property"),
        ({"count": 1, "api_key": SECRET, "fail_check": "config"}, "api key **** was refused"),
    ],
)
def test_check_with_a_bad_config_fails_with_exit_zero(runner, files, config: dict[str, Any], expected: str) -> None:
    result = runner(["check", "--config", files("c.json", config)])
    assert result.exit_code == 0
    (status,) = result.of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "FAILED"
    assert expected in status["connectionStatus"]["message"]
    assert SECRET.encode() not in result.stdout + result.stderr
    assert_valid_airbyte_output(result)


def test_check_crash_is_a_trace_error_and_exit_one(runner, files) -> None:
    result = runner(["check", "--config", files("c.json", {**CONFIG, "fail_check": "crash"})])
    assert result.exit_code == 1
    (trace,) = result.of_type("TRACE")
    assert trace["trace"]["error"]["failure_type"] == "system_error"
    assert "unexpected crash in check" in trace["trace"]["error"]["message"]
    assert_valid_airbyte_output(result)


def test_check_with_an_unreadable_config_file_fails_cleanly(runner, tmp_path) -> None:
    bad = tmp_path / "c.json"
    bad.write_text("{oops")
    result = runner(["check", "--config", str(bad)])
    assert result.exit_code == 0
    assert "is not valid JSON" in result.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["message"]


def test_bad_config_outside_check_is_a_config_error_trace(runner, files) -> None:
    result = runner(["discover", "--config", files("c.json", {"count": -1, "api_key": SECRET})])
    assert result.exit_code == 1
    (trace,) = result.of_type("TRACE")
    assert trace["trace"]["error"]["failure_type"] == "config_error"
    assert "config.count: -1 is less than the minimum of 0" in trace["trace"]["error"]["message"]
    assert b"Traceback" not in result.stdout + result.stderr
    assert_valid_airbyte_output(result)


def test_discover(runner, files) -> None:
    result = runner(["discover", "--config", files("c.json", CONFIG)])
    assert result.exit_code == 0
    streams = {s["name"]: s for s in result.of_type("CATALOG")[0]["catalog"]["streams"]}
    assert streams["numbers"]["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert streams["numbers"]["default_cursor_field"] == ["id"]
    assert streams["numbers"]["source_defined_primary_key"] == [["id"]]
    assert streams["letters"]["supported_sync_modes"] == ["full_refresh"]
    assert_valid_airbyte_output(result)


def test_read_emits_statuses_records_and_checkpoints(runner, files) -> None:
    result = runner(["read", "--config", files("c.json", CONFIG), "--catalog", files("cat.json", BOTH)])
    assert result.exit_code == 0
    assert_valid_airbyte_output(result)
    per_stream: dict[str, list[str]] = {}
    for m in result.messages:
        if m["type"] == "TRACE":
            s = m["trace"]["stream_status"]
            per_stream.setdefault(s["stream_descriptor"]["name"], []).append(s["status"])
        elif m["type"] == "RECORD":
            per_stream.setdefault(m["record"]["stream"], []).append("R")
        elif m["type"] == "STATE":
            per_stream.setdefault(m["state"]["stream"]["stream_descriptor"]["name"], []).append("S")
    assert per_stream["numbers"] == ["STARTED", "RUNNING", *"RRRSRRRSRS", "COMPLETE"]
    assert per_stream["letters"] == ["STARTED", "RUNNING", *"RRRRRRRS", "COMPLETE"]
    states = [m["state"] for m in result.of_type("STATE")]
    assert [s["sourceStats"]["recordCount"] for s in states] == [3, 3, 1, 7]
    assert states[2]["stream"]["stream_state"] == {"id": 7}


def test_incremental_read_resumes_from_state(runner, files) -> None:
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"id": 5}}}]
    cat = catalog(("numbers", "incremental", "append"))
    result = runner(
        ["read", "--config", files("c.json", CONFIG), "--catalog", files("cat.json", cat), "--state", files("s", state)]
    )
    assert [r["record"]["data"]["id"] for r in result.of_type("RECORD")] == [6, 7]
    assert result.of_type("STATE")[-1]["state"]["stream"]["stream_state"] == {"id": 7}


def test_empty_stream_still_emits_state(runner, files) -> None:
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"id": 99}}}]
    cat = catalog(("numbers", "incremental", "append"))
    result = runner(
        ["read", "--config", files("c.json", CONFIG), "--catalog", files("cat.json", cat), "--state", files("s", state)]
    )
    assert result.exit_code == 0
    assert result.of_type("RECORD") == []
    (only,) = result.of_type("STATE")
    assert only["state"]["stream"]["stream_state"] == {"id": 99}
    assert only["state"]["sourceStats"]["recordCount"] == 0


def test_failing_stream_is_incomplete_others_continue_exit_nonzero(runner, files) -> None:
    config = {**CONFIG, "fail_stream": "numbers"}
    result = runner(["read", "--config", files("c.json", config), "--catalog", files("cat.json", BOTH)])
    assert result.exit_code == 1
    statuses = [
        (m["trace"]["stream_status"]["stream_descriptor"]["name"], m["trace"]["stream_status"]["status"])
        for m in result.of_type("TRACE")
        if m["trace"]["type"] == "STREAM_STATUS"
    ]
    assert ("numbers", "INCOMPLETE") in statuses and ("letters", "COMPLETE") in statuses
    errors = [m["trace"]["error"] for m in result.of_type("TRACE") if m["trace"]["type"] == "ERROR"]
    assert errors[0]["stream_descriptor"] == {"name": "numbers"}
    assert "boom with ****" in errors[0]["message"]
    assert_valid_airbyte_output(result)


def test_secret_in_exception_and_log_never_reaches_stdout_or_stderr(runner, files) -> None:
    config = {**CONFIG, "fail_stream": "numbers"}
    result = runner(["read", "--config", files("c.json", config), "--catalog", files("cat.json", BOTH)])
    assert any("about to fail, key is ****" in m["log"]["message"] for m in result.of_type("LOG"))
    assert SECRET.encode() not in result.stdout
    assert SECRET.encode() not in result.stderr


def test_unknown_stream_in_catalog_is_a_trace_error(runner, files) -> None:
    cat = catalog(("nope", "full_refresh", "append"), ("letters", "full_refresh", "append"))
    result = runner(["read", "--config", files("c.json", CONFIG), "--catalog", files("cat.json", cat)])
    assert result.exit_code == 1
    errors = [m["trace"]["error"] for m in result.of_type("TRACE") if m["trace"]["type"] == "ERROR"]
    assert "stream 'nope' is in the catalog but this source does not offer it" in errors[0]["message"]
    assert len(result.of_type("RECORD")) == 7


def test_bad_catalog_file_is_a_config_error(runner, files) -> None:
    bad = {"streams": [{"stream": {"name": "numbers"}, "sync_mode": "full_refresh"}]}
    result = runner(["read", "--config", files("c.json", CONFIG), "--catalog", files("cat.json", bad)])
    assert result.exit_code == 1
    (trace,) = result.of_type("TRACE")
    assert trace["trace"]["error"]["failure_type"] == "config_error"
    assert "catalog.streams[0].stream.json_schema: required field is missing" in trace["trace"]["error"]["message"]


def test_usage_error_exits_two(runner) -> None:
    if runner is run_in_process:
        with pytest.raises(SystemExit) as exc:
            runner(["read"])
        assert exc.value.code == 2
    else:
        assert runner(["read"]).exit_code == 2
