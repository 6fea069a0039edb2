"""The base image: built from nothing by scripts/build-images, Airbyte conventions, non-root, SDK inside."""

from __future__ import annotations

import time

import pytest
from airbyte_protocol.models import Type

from ducto import __version__

from .docker_helpers import airbyte_messages, docker_run, inspect

pytestmark = pytest.mark.docker


def test_base_image_is_tagged_dev_and_version_with_airbyte_labels(base_image: str) -> None:
    assert base_image == "ducto/base:dev"
    dev, versioned = inspect(base_image), inspect(f"ducto/base:{__version__}")
    assert dev["Id"] == versioned["Id"]
    labels = dev["Config"]["Labels"]
    assert labels["io.airbyte.name"] == "ducto/base"
    assert labels["io.airbyte.version"] == __version__


def test_entrypoint_equals_airbyte_entrypoint(base_image: str) -> None:
    config = inspect(base_image)["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["Entrypoint"] == ["python", "-m", "ducto.protocol.sdk.selfcheck"]
    assert env["AIRBYTE_ENTRYPOINT"] == " ".join(config["Entrypoint"])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "PYTHONUNBUFFERED" not in env  # it would make stdout a raw FileIO that may write partially
    assert config["WorkingDir"] == "/app"


def test_runs_as_the_non_root_ducto_user(base_image: str) -> None:
    result = docker_run(base_image, "-c", "id -u; id -g; id -un; pwd; test -w /opt/ducto/venv", entrypoint="sh")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == ["1000", "1000", "ducto", "/app"]


def test_stdout_is_buffered_so_every_write_is_complete(base_image: str) -> None:
    code = "import sys; print(type(sys.stdout.buffer).__name__)"
    result = docker_run(base_image, "-c", code, entrypoint="python")
    assert result.stdout.decode().strip() == "BufferedWriter"


def test_python_is_the_venv_with_ducto_and_the_lowcode_extra(base_image: str) -> None:
    code = (
        "import sys, ducto, ducto.protocol, ducto.protocol.sdk, orjson, jsonschema, yaml, jinja2, requests, dateutil;"
        "print(sys.prefix, ducto.__version__, ducto.protocol.sdk.launch.__name__)"
    )
    result = docker_run(base_image, "-c", code, entrypoint="python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == ["/opt/ducto/venv", __version__, "launch"]


def test_self_check_emits_valid_airbyte_messages(base_image: str) -> None:
    result = docker_run(base_image)
    assert result.returncode == 0, result.stderr
    messages = airbyte_messages(result.stdout)
    assert [m.type for m in messages[:-1]] == [Type.LOG] * (len(messages) - 1)
    assert len(messages) >= 3
    status = messages[-1]
    assert status.type == Type.CONNECTION_STATUS
    assert status.connectionStatus.status.value == "SUCCEEDED"
    assert f"ducto {__version__}" in status.connectionStatus.message
    assert "uid 1000" in status.connectionStatus.message
    assert result.stderr == b""


def test_self_check_with_arguments_says_the_connector_lacks_an_entrypoint(base_image: str) -> None:
    result = docker_run(base_image, "spec")
    assert result.returncode == 2
    (trace,) = airbyte_messages(result.stdout)
    assert trace.type == Type.TRACE
    assert trace.trace.error.failure_type.value == "config_error"
    assert "sets its own ENTRYPOINT" in trace.trace.error.message


def test_rebuild_with_nothing_changed_is_all_cache(base_image: str, build_images_cli) -> None:
    assert build_images_cli("--base-only").returncode == 0  # another worktree may share the docker engine
    before = inspect(base_image)["Id"]
    started = time.monotonic()
    proc = build_images_cli("--base-only")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert "building the ducto wheel" not in proc.stderr
    assert inspect(base_image)["Id"] == before
    assert elapsed < 30, f"a cached rebuild took {elapsed:.1f} s"
