"""The SDK entrypoint contract as a Docker image: the toy connector (tests/fixtures) built FROM the base.

`spec`, `check`, `discover`, `read` and `write` run through `docker run -i` with files mounted read-only
at /data, exactly as an orchestrator runs any Airbyte connector; every stdout line must parse with
airbyte-protocol-models.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airbyte_protocol.models import AirbyteMessage, Type

from ducto.protocol import json

from .docker_helpers import airbyte_messages, docker_run, input_dir
from .throwaway_connector import metadata

pytestmark = pytest.mark.docker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "d0cker-s3cret-K3Y"
CONFIG = {"count": 7, "api_key": SECRET}
REPOSITORY = "ducto-basetest/toy"
REF = f"{REPOSITORY}:dev"


def catalog(*streams: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": sync,
                "destination_sync_mode": dest,
            }
            for name, sync, dest in streams
        ]
    }


BOTH = catalog(("numbers", "incremental", "append"), ("letters", "full_refresh", "overwrite"))


@pytest.fixture(scope="module")
def toy_image(tmp_path_factory: pytest.TempPathFactory, build_image) -> Iterator[str]:
    """The toy connector packaged by the image convention, built through scripts/build-images."""
    directory = tmp_path_factory.mktemp("toy-image") / "toy"
    shutil.copytree(
        FIXTURES / "toy_connector", directory / "toy_connector", ignore=shutil.ignore_patterns("__pycache__")
    )
    (directory / "metadata.yaml").write_text(metadata("toy", REPOSITORY))
    (directory / "Dockerfile").write_text(
        "FROM ducto/base:dev\n"
        "COPY toy_connector ./toy_connector\n"
        'ENV AIRBYTE_ENTRYPOINT="python -m toy_connector"\n'
        'ENTRYPOINT ["python", "-m", "toy_connector"]\n'
    )
    ref = build_image(directory)
    assert ref == REF
    yield ref
    subprocess.run(["docker", "rmi", "-f", ref], capture_output=True, check=False)


def run_toy(image: str, tmp_path: Path, *args: str, stdin: bytes = b"", **documents: Any):
    inputs = input_dir(tmp_path, **documents)
    return docker_run(image, *args, stdin=stdin, mounts=[(str(inputs), "/data")])


def of_type(messages: list[AirbyteMessage], kind: Type) -> list[AirbyteMessage]:
    return [m for m in messages if m.type == kind]


def test_spec(toy_image: str) -> None:
    result = docker_run(toy_image, "spec")
    assert result.returncode == 0, result.stderr
    (spec,) = airbyte_messages(result.stdout)
    assert spec.spec.connectionSpecification["properties"]["api_key"]["airbyte_secret"] is True


def test_check_succeeds_and_a_bad_config_fails_with_exit_zero_and_masked_secret(toy_image: str, tmp_path: Path) -> None:
    good = run_toy(toy_image, tmp_path, "check", "--config", "/data/config.json", config=CONFIG)
    assert good.returncode == 0, good.stderr
    assert airbyte_messages(good.stdout)[-1].connectionStatus.status.value == "SUCCEEDED"

    bad = run_toy(
        toy_image, tmp_path, "check", "--config", "/data/config.json", config={**CONFIG, "fail_check": "config"}
    )
    assert bad.returncode == 0, bad.stderr
    status = airbyte_messages(bad.stdout)[-1].connectionStatus
    assert status.status.value == "FAILED"
    assert status.message == "api key **** was refused"
    assert SECRET.encode() not in bad.stdout + bad.stderr


def test_discover(toy_image: str, tmp_path: Path) -> None:
    result = run_toy(toy_image, tmp_path, "discover", "--config", "/data/config.json", config=CONFIG)
    assert result.returncode == 0, result.stderr
    (message,) = airbyte_messages(result.stdout)
    streams = {s.name: s for s in message.catalog.streams}
    assert set(streams) == {"numbers", "letters"}
    assert streams["numbers"].default_cursor_field == ["id"]


def test_read_then_resume_from_state(toy_image: str, tmp_path: Path) -> None:
    args = ("read", "--config", "/data/config.json", "--catalog", "/data/catalog.json")
    result = run_toy(toy_image, tmp_path, *args, config=CONFIG, catalog=BOTH)
    assert result.returncode == 0, result.stderr
    messages = airbyte_messages(result.stdout)
    records = of_type(messages, Type.RECORD)
    assert len(records) == 14
    statuses = [
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.value)
        for m in of_type(messages, Type.TRACE)
    ]
    for stream in ("numbers", "letters"):
        assert [s for name, s in statuses if name == stream] == ["STARTED", "RUNNING", "COMPLETE"]
    states = [m.state for m in of_type(messages, Type.STATE)]
    assert all(s.sourceStats.recordCount >= 0 for s in states)
    last_numbers = [s for s in states if s.stream.stream_descriptor.name == "numbers"][-1]
    assert last_numbers.stream.stream_state.dict() == {"id": 7}

    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"id": 5}}}]
    incremental = catalog(("numbers", "incremental", "append"))
    resumed = run_toy(
        toy_image, tmp_path, *args, "--state", "/data/state.json", config=CONFIG, catalog=incremental, state=state
    )
    assert resumed.returncode == 0, resumed.stderr
    assert [m.record.data["id"] for m in of_type(airbyte_messages(resumed.stdout), Type.RECORD)] == [6, 7]


def test_failing_stream_is_a_trace_error_with_secrets_masked_and_exit_one(toy_image: str, tmp_path: Path) -> None:
    args = ("read", "--config", "/data/config.json", "--catalog", "/data/catalog.json")
    result = run_toy(toy_image, tmp_path, *args, config={**CONFIG, "fail_stream": "numbers"}, catalog=BOTH)
    assert result.returncode == 1
    messages = airbyte_messages(result.stdout)
    errors = [m.trace.error for m in of_type(messages, Type.TRACE) if m.trace.error is not None]
    assert errors and "boom with ****" in errors[0].message
    assert any("key is ****" in m.log.message for m in of_type(messages, Type.LOG))
    assert SECRET.encode() not in result.stdout + result.stderr
    assert b"Traceback" not in result.stderr


def test_write_reads_messages_on_stdin_and_echoes_committed_states(toy_image: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir(mode=0o777)
    out_dir.chmod(0o777)  # written by the container's uid 1000
    config = {"count": 0, "api_key": SECRET, "out_path": "/out/committed.jsonl"}

    def line(doc: dict[str, Any]) -> bytes:
        return json.dump_line(doc)

    stdin = b"".join(
        [
            *(
                line({"type": "RECORD", "record": {"stream": "numbers", "data": {"id": i}, "emitted_at": 1}})
                for i in (1, 2, 3)
            ),
            line(
                {
                    "type": "STATE",
                    "state": {
                        "type": "STREAM",
                        "stream": {"stream_descriptor": {"name": "numbers"}, "stream_state": {"id": 3}},
                    },
                }
            ),
        ]
    )
    inputs = input_dir(tmp_path, config=config, catalog=catalog(("numbers", "incremental", "append")))
    cmd = [
        "docker",
        "run",
        "--rm",
        "-i",
        "--network",
        "none",
        "-v",
        f"{inputs}:/data:ro",
        "-v",
        f"{out_dir}:/out",
        toy_image,
    ]
    result = subprocess.run(  # noqa: PLW1510
        [*cmd, "write", "--config", "/data/config.json", "--catalog", "/data/catalog.json"],
        input=stdin,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (echoed,) = of_type(airbyte_messages(result.stdout), Type.STATE)
    assert echoed.state.destinationStats.recordCount == 3
    committed = [json.loads(x) for x in (out_dir / "committed.jsonl").read_bytes().splitlines()]
    assert [r["data"]["id"] for r in committed] == [1, 2, 3]
