"""The destination contract: STATE echoed only after commit, in order, with destinationStats."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from toy_connector.toy import ToyDestination

from ducto.protocol import json
from ducto.protocol.sdk import run

from .conftest import catalog, run_in_process, run_subprocess

CATALOG = catalog(("numbers", "incremental", "append"), ("letters", "full_refresh", "append"))


def rec(stream: str, i: int) -> bytes:
    return json.dump_line({"type": "RECORD", "record": {"stream": stream, "data": {"id": i}, "emitted_at": 1}})


def state(stream: str, value: int, extra: dict[str, Any] | None = None) -> bytes:
    body = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"id": value}}}
    return json.dump_line({"type": "STATE", "state": {**body, **(extra or {})}})


def committed(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


@pytest.mark.parametrize("runner", [run_in_process, run_subprocess])
def test_states_echoed_in_order_with_destination_stats(runner, files, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    config = files("c.json", {"count": 0, "api_key": "dest-secret-key", "out_path": str(out)})
    stdin = (
        rec("numbers", 1)
        + rec("letters", 1)
        + rec("numbers", 2)
        + state("numbers", 2, {"sourceStats": {"recordCount": 2}, "x-unknown": True})
        + rec("letters", 2)
        + state("letters", 2)
        + state("numbers", 2)
        + rec("numbers", 3)
    )
    argv = ["write", "--config", config, "--catalog", files("cat.json", CATALOG)]
    result = runner(argv, stdin) if runner is run_subprocess else runner(argv, stdin, destination=True)
    assert result.exit_code == 0, result.stdout
    echoed = [m["state"] for m in result.of_type("STATE")]
    assert [(s["stream"]["stream_descriptor"]["name"], s["destinationStats"]["recordCount"]) for s in echoed] == [
        ("numbers", 2),
        ("letters", 2),
        ("numbers", 0),
    ]
    assert echoed[0]["x-unknown"] is True and echoed[0]["sourceStats"] == {"recordCount": 2}
    assert len(committed(out)) == 5  # the trailing record is committed at end of input


class FailingCommit(ToyDestination):
    def commit(self) -> None:
        raise OSError("disk full")


def test_no_state_is_echoed_when_commit_fails(files, tmp_path: Path) -> None:
    config = files("c.json", {"count": 0, "api_key": "dest-secret-key", "out_path": str(tmp_path / "o")})
    out = io.BytesIO()
    code = run(
        FailingCommit(),
        ["write", "--config", config, "--catalog", files("cat.json", CATALOG)],
        stdin=io.BytesIO(rec("numbers", 1) + state("numbers", 1)),
        stdout=out,
    )
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert [m["type"] for m in messages] == ["TRACE"]
    assert "disk full" in messages[0]["trace"]["error"]["message"]


def test_malformed_line_stops_with_line_number_and_keeps_committed_data(files, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    config = files("c.json", {"count": 0, "api_key": "dest-secret-key", "out_path": str(out)})
    stdin = (
        rec("numbers", 1) + state("numbers", 1) + rec("numbers", 2) + b'{"type": "RECORD", "rec\n' + rec("numbers", 3)
    )
    result = run_subprocess(["write", "--config", config, "--catalog", files("cat.json", CATALOG)], stdin)
    assert result.exit_code == 1
    assert len(result.of_type("STATE")) == 1
    (trace,) = result.of_type("TRACE")
    assert "line 4: not valid JSON" in trace["trace"]["error"]["message"]
    assert [r["data"]["id"] for r in committed(out)] == [1]


def test_record_for_a_stream_not_in_catalog_is_rejected(files, tmp_path: Path) -> None:
    config = files("c.json", {"count": 0, "api_key": "dest-secret-key", "out_path": str(tmp_path / "o")})
    result = run_in_process(
        ["write", "--config", config, "--catalog", files("cat.json", CATALOG)], rec("other", 1), destination=True
    )
    assert result.exit_code == 1
    assert "line 1: record for stream 'other', which is not in the catalog" in json.dumps(result.messages).decode()


def test_unsupported_destination_sync_mode_is_a_config_error(files, tmp_path: Path) -> None:
    config = files("c.json", {"count": 0, "api_key": "dest-secret-key", "out_path": str(tmp_path / "o")})
    bad = catalog(("numbers", "incremental", "soft_delete"))
    result = run_in_process(["write", "--config", config, "--catalog", files("cat.json", bad)], b"", destination=True)
    assert result.exit_code == 1
    assert result.of_type("TRACE")[0]["trace"]["error"]["failure_type"] == "config_error"
