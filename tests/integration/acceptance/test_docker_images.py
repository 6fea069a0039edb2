"""The suite against real images: Airbyte's source-faker from PyPI, and images breaking the image rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from acceptance_faker_image import BASE_IMAGE, HERE, ensure_faker_image, image_exists
from click.testing import CliRunner

from ducto.orchestrator.acceptance.cli import test as ducto_test

pytestmark = pytest.mark.docker

RULEBREAKER = Path(__file__).parents[2] / "unit" / "acceptance" / "rulebreaker.py"
IMAGE_PREFIX = "ducto-acc/rulebreaker"


def test_airbyte_source_faker_passes_unchanged(tmp_path: Path) -> None:
    image = ensure_faker_image()
    junit = tmp_path / "faker.xml"
    result = CliRunner().invoke(
        ducto_test, ["--config", str(HERE / "acceptance-test-config.yml"), "--junitxml", str(junit)]
    )
    assert result.exit_code == 0, result.output
    assert f"docker: {image}" in result.output
    assert "backward_compatibility_tests_config: not supported by ducto test" in result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    names = {(tc.get("classname"), tc.get("name")) for tc in suite.iter("testcase")}
    for expected in [
        ("ducto.acceptance.spec", "test_image_entrypoint"),
        ("ducto.acceptance.spec", "test_image_labels"),
        ("ducto.acceptance.connection[1]", "test_check_failed"),
        ("ducto.acceptance.basic_read", "test_expected_records[users]"),
        ("ducto.acceptance.basic_read", "test_stream_statuses[purchases]"),
        ("ducto.acceptance.full_refresh", "test_sequential_reads[users]"),
        ("ducto.acceptance.incremental", "test_read_from_checkpoints[users]"),
    ]:
        assert expected in names
    passed = [tc for tc in suite.iter("testcase") if not list(tc)]
    assert len(passed) >= 40


@pytest.fixture(scope="module")
def rulebreaker_images() -> Iterator[dict[str, str]]:
    """Two tiny images running the rulebreaker: one following the image conventions, one breaking them."""
    if not image_exists(BASE_IMAGE):
        pytest.fail(f"{BASE_IMAGE} is missing: run scripts/build-images first")
    images = {"good": f"{IMAGE_PREFIX}:good", "bad": f"{IMAGE_PREFIX}:bad"}
    dockerfile = """\
FROM ducto/base:dev
ARG AIRBYTE_ENTRYPOINT_VALUE
ARG VERSION
COPY rulebreaker.py /app/rulebreaker.py
ENV AIRBYTE_ENTRYPOINT=${AIRBYTE_ENTRYPOINT_VALUE}
ENTRYPOINT ["python", "/app/rulebreaker.py"]
LABEL io.airbyte.name="ducto-acc/rulebreaker" io.airbyte.version="${VERSION}"
"""
    variants = {
        "good": {"AIRBYTE_ENTRYPOINT_VALUE": "python /app/rulebreaker.py", "VERSION": "1.0.0"},
        "bad": {"AIRBYTE_ENTRYPOINT_VALUE": "python /app/main.py", "VERSION": "0.9.0"},
    }
    with_context = Path(tempfile.mkdtemp(prefix="ducto-acc-image-"))
    try:
        (with_context / "Dockerfile").write_text(dockerfile)
        shutil.copy(RULEBREAKER, with_context / "rulebreaker.py")
        for name, args in variants.items():
            build_args = [a for k, v in args.items() for a in ("--build-arg", f"{k}={v}")]
            subprocess.run(
                ["docker", "build", "-q", *build_args, "-t", images[name], str(with_context)],
                check=True,
                capture_output=True,
            )
        yield images
    finally:
        shutil.rmtree(with_context, ignore_errors=True)
        subprocess.run(["docker", "image", "rm", "-f", *images.values()], capture_output=True, check=False)


def _project(root: Path) -> Path:
    (root / "config.json").write_text(json.dumps({"api_key": "k", "users": 4}))
    (root / "metadata.yaml").write_text(
        "data:\n  dockerRepository: ducto-acc/rulebreaker\n  dockerImageTag: 1.0.0\n  connectorType: source\n"
    )
    config = root / "acceptance-test-config.yml"
    config.write_text(
        "connector_image: ducto-acc/rulebreaker:good\n"
        "acceptance_tests:\n"
        "  spec:\n    tests:\n      - config_path: config.json\n"
        "  basic_read:\n    tests:\n      - config_path: config.json\n"
    )
    return config


def test_image_following_the_conventions_passes(tmp_path: Path, rulebreaker_images: dict[str, str]) -> None:
    config = _project(tmp_path)
    result = CliRunner().invoke(ducto_test, [rulebreaker_images["good"], "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "spec::test_image_entrypoint PASSED" in result.output
    assert "spec::test_image_labels PASSED" in result.output
    assert "basic_read::test_stream_statuses[users] PASSED" in result.output


def test_image_breaking_the_conventions_fails(tmp_path: Path, rulebreaker_images: dict[str, str]) -> None:
    config = _project(tmp_path)
    result = CliRunner().invoke(ducto_test, [rulebreaker_images["bad"], "--config", str(config), "-k", "spec"])
    assert result.exit_code == 1, result.output
    assert "spec::test_image_entrypoint FAILED" in result.output
    assert "AIRBYTE_ENTRYPOINT='python /app/main.py' differs from ENTRYPOINT ['python', '/app/rulebreaker.py']" in (
        result.output
    )
    assert "spec::test_image_labels FAILED" in result.output
    assert "io.airbyte.version='0.9.0' but metadata.yaml dockerImageTag='1.0.0'" in result.output
    assert "spec::test_spec_message PASSED" in result.output
    assert "basic_read" not in result.output  # -k spec


def test_missing_image_is_one_clear_error() -> None:
    result = CliRunner().invoke(ducto_test, ["ducto-acc/no-such-image:nope"])
    assert result.exit_code == 1
    assert "Error: cannot inspect image 'ducto-acc/no-such-image:nope'" in result.output
    assert "Traceback" not in result.output


def test_destination_image_writes_through_the_local_mount(tmp_path: Path) -> None:
    """A destination image writes into the shared folder (/local in the container); the suite reads it back."""
    if not image_exists(BASE_IMAGE):
        pytest.fail(f"{BASE_IMAGE} is missing: run scripts/build-images first")
    image = f"{IMAGE_PREFIX}:destination"
    context = tmp_path / "context"
    context.mkdir()
    shutil.copy(RULEBREAKER.with_name("dest_rulebreaker.py"), context / "dest_rulebreaker.py")
    (context / "Dockerfile").write_text(
        "FROM ducto/base:dev\n"
        "COPY dest_rulebreaker.py /app/dest_rulebreaker.py\n"
        'ENV AIRBYTE_ENTRYPOINT="python /app/dest_rulebreaker.py"\n'
        'ENTRYPOINT ["python", "/app/dest_rulebreaker.py"]\n'
        'LABEL io.airbyte.name="ducto-acc/rulebreaker" io.airbyte.version="destination"\n'
    )
    subprocess.run(["docker", "build", "-q", "-t", image, str(context)], check=True, capture_output=True)
    try:
        (tmp_path / "destination_config.json").write_text(json.dumps({"dir": "{local_dir}"}))
        config = tmp_path / "acceptance-test-config.yml"
        config.write_text(
            f"connector_image: {image}\n"
            "acceptance_tests:\n"
            "  connection:\n"
            "    tests:\n"
            "      - config_path: destination_config.json\n"
            "  destination:\n"
            "    tests:\n"
            "      - config_path: destination_config.json\n"
            "        reader: {type: jsonl, path: '{local_dir}/{stream}.jsonl'}\n"
        )
        result = CliRunner().invoke(ducto_test, ["--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "connection::test_check_succeed PASSED" in result.output  # {local_dir} is /local, mounted
        assert "destination::test_read_back[append_dedup] PASSED" in result.output
        assert "destination::test_bad_line_keeps_committed PASSED" in result.output
        assert "destination::test_echoed_state_survives_a_kill PASSED" in result.output  # docker kill
    finally:
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True, check=False)


def test_faker_without_always_updated_loses_records_on_resume(tmp_path: Path) -> None:
    """A real finding on a real connector: with `always_updated: false`, faker 7.2.1 treats any state as
    "done", so resuming from one of its own intermediate checkpoints emits nothing (records are lost)."""
    ensure_faker_image()
    (tmp_path / "config.json").write_text(
        json.dumps({"count": 20, "seed": 42, "records_per_slice": 5, "parallelism": 1, "always_updated": False})
    )
    future = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "users"},
                "stream_state": {"seed": 42, "updated_at": "2099-01-01T00:00:00+00:00", "loop_offset": 10**6},
            },
        }
    ]
    (tmp_path / "abnormal_state.json").write_text(json.dumps(future))
    config = tmp_path / "acceptance-test-config.yml"
    config.write_text(
        "connector_image: ducto-acc/airbyte-source-faker:7.2.1\n"
        "acceptance_tests:\n"
        "  incremental:\n"
        "    tests:\n"
        "      - config_path: config.json\n"
        "        future_state: {future_state_path: abnormal_state.json}\n"
    )
    result = CliRunner().invoke(ducto_test, ["--config", str(config), "--stream", "users"])
    assert result.exit_code == 1, result.output
    assert "incremental::test_two_sequential_reads[users] PASSED" in result.output
    assert "incremental::test_future_state[users] PASSED" in result.output
    assert "incremental::test_read_from_checkpoints[users] FAILED" in result.output
    assert "users: resuming from checkpoint 1 of 2" in result.output
    assert "emitted 0 record(s), but 10 were emitted after that checkpoint" in result.output
