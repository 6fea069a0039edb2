"""The connector image convention, through scripts/build-images, with throwaway connectors in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from airbyte_protocol.models import Type

from .docker_helpers import airbyte_messages, docker_run, input_dir, inspect
from .throwaway_connector import DOCKERFILE_PLAIN, make_connector

pytestmark = pytest.mark.docker

CATALOG = {
    "streams": [
        {
            "stream": {"name": "rows", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "incremental",
            "destination_sync_mode": "append",
        }
    ]
}


def last_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines, "no error output"
    return lines[-1]


def test_connector_with_requirements_builds_from_the_base_and_runs(
    tmp_path: Path, base_image: str, build_images_cli, remove_images_after: list[str]
) -> None:
    directory, ref = make_connector(tmp_path, "source-echo", requirements="tabulate==0.9.0\n")
    remove_images_after.append(ref)

    proc = build_images_cli(directory)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [base_image, ref]
    assert any(p.name.startswith("tabulate-0.9.0-") for p in (directory / ".wheels").glob("*.whl"))

    info = inspect(ref)
    config = info["Config"]
    assert config["Labels"]["io.airbyte.name"] == "ducto-basetest/source-echo"
    assert config["Labels"]["io.airbyte.version"] == "dev"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["AIRBYTE_ENTRYPOINT"] == " ".join(config["Entrypoint"]) == "python -m source_echo"
    assert config["User"] == "1000:1000"
    assert (
        inspect(base_image)["RootFS"]["Layers"]
        == info["RootFS"]["Layers"][: len(inspect(base_image)["RootFS"]["Layers"])]
    )

    spec = docker_run(ref, "spec")
    assert spec.returncode == 0, spec.stderr
    (message,) = airbyte_messages(spec.stdout)
    assert message.spec.connectionSpecification["required"] == ["count"]

    inputs = input_dir(tmp_path, config={"count": 3}, catalog=CATALOG)
    read = docker_run(
        ref, "read", "--config", "/data/config.json", "--catalog", "/data/catalog.json", mounts=[(str(inputs), "/data")]
    )
    assert read.returncode == 0, read.stderr
    records = [m.record.data for m in airbyte_messages(read.stdout) if m.type == Type.RECORD]
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[2]["table"] == "3  9"  # rendered by tabulate, installed from the host-built wheel

    again = build_images_cli(directory)
    assert again.returncode == 0, again.stderr
    assert f"{ref} up to date" in again.stderr
    assert "fetching" not in again.stderr
    assert inspect(ref)["Id"] == info["Id"]


def test_connector_without_requirements_gets_an_empty_wheels_folder(
    tmp_path: Path, build_images_cli, remove_images_after: list[str]
) -> None:
    directory, ref = make_connector(tmp_path, "source-plain", tag="0.0.1")
    remove_images_after.append(ref)
    proc = build_images_cli(directory)
    assert proc.returncode == 0, proc.stderr
    assert (directory / ".wheels").is_dir()
    assert list((directory / ".wheels").iterdir()) == []
    assert inspect(ref)["Config"]["Labels"]["io.airbyte.version"] == "0.0.1"
    check = docker_run(
        ref,
        "check",
        "--config",
        "/data/config.json",
        mounts=[(str(input_dir(tmp_path, config={"count": 5000})), "/data")],
    )
    assert check.returncode == 0
    (status,) = airbyte_messages(check.stdout)
    assert status.connectionStatus.status.value == "FAILED"
    assert "at most 1000" in status.connectionStatus.message


@pytest.mark.parametrize(
    ("dockerfile", "complaint"),
    [
        (
            DOCKERFILE_PLAIN.replace(
                'ENV AIRBYTE_ENTRYPOINT="python -m {package}"', 'ENV AIRBYTE_ENTRYPOINT="python main.py"'
            ),
            "must equal the ENTRYPOINT",
        ),
        (DOCKERFILE_PLAIN + "USER root\n", "runs as root"),
    ],
    ids=["entrypoint-mismatch", "root-user"],
)
def test_an_image_breaking_the_conventions_fails_the_build(
    tmp_path: Path, base_image: str, build_images_cli, remove_images_after: list[str], dockerfile: str, complaint: str
) -> None:
    directory, ref = make_connector(tmp_path, "source-broken", dockerfile=dockerfile)
    remove_images_after.append(ref)
    proc = build_images_cli(directory)
    assert proc.returncode == 1
    line = last_error_line(proc.stderr)
    assert line.startswith("build-images: error: ducto-basetest/source-broken:dev")
    assert complaint in line
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("missing", "metadata.yaml: missing"),
        ("data:\n  dockerRepository: [unclosed\n", "metadata.yaml: not valid YAML at line"),
        ("data:\n  dockerImageTag: dev\n", "data.dockerRepository must be an image name"),
        (
            "data:\n  dockerRepository: ducto-basetest/x\n  dockerImageTag: 1.10\n",
            "dockerImageTag must be a quoted tag",
        ),
        ("- just\n- a list\n", "expected a top-level 'data:' mapping"),
    ],
    ids=["missing", "bad-yaml", "no-repository", "numeric-tag", "not-a-mapping"],
)
def test_bad_metadata_is_one_clear_error_before_anything_is_built(
    tmp_path: Path, build_images_cli, breakage: str, expected: str
) -> None:
    directory, _ = make_connector(tmp_path, "source-badmeta")
    if breakage == "missing":
        (directory / "metadata.yaml").unlink()
    else:
        (directory / "metadata.yaml").write_text(breakage)
    proc = build_images_cli(directory)
    assert proc.returncode == 1
    line = last_error_line(proc.stderr)
    assert line.startswith(f"build-images: error: {directory}/metadata.yaml")
    assert expected in line
    assert "Traceback" not in proc.stderr
    assert "built" not in proc.stderr  # validation happens before the base image is even looked at
    assert not (directory / ".wheels").exists()


def test_unknown_connector_and_folder_without_dockerfile(tmp_path: Path, build_images_cli) -> None:
    proc = build_images_cli("no-such-connector-basetest")
    assert proc.returncode == 1
    assert "no connector 'no-such-connector-basetest'" in last_error_line(proc.stderr)
    proc = build_images_cli(tmp_path)
    assert proc.returncode == 1
    assert (
        last_error_line(proc.stderr)
        == f"build-images: error: {tmp_path}: no Dockerfile (a connector directory holds Dockerfile and metadata.yaml)"
    )
