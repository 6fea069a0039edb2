"""Ducto's DuckDB destination passes the destination checks (run as a local process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ducto.orchestrator.acceptance.cli import test as ducto_test

REPO = Path(__file__).resolve().parents[3]
CONNECTOR = REPO / "connectors" / "destination-duckdb"
CONFIG = Path(__file__).parent / "destination_duckdb" / "acceptance-test-config.yml"


@pytest.mark.skipif(not CONNECTOR.is_dir(), reason="connectors/destination-duckdb is not in this checkout yet")
def test_destination_duckdb_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(CONNECTOR))
    command = f"{sys.executable} -m destination_duckdb"
    result = CliRunner().invoke(ducto_test, ["--command", command, "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    for mode in ("overwrite", "append", "append_dedup"):
        assert f"destination::test_read_back[{mode}] PASSED" in result.output
    assert "connection::test_check_succeed PASSED" in result.output


@pytest.mark.docker
@pytest.mark.skipif(not CONNECTOR.is_dir(), reason="connectors/destination-duckdb is not in this checkout yet")
def test_destination_duckdb_image_passes() -> None:
    """The built image, writing into /local (a folder the suite shares and reads back)."""
    image = "ducto/destination-duckdb:dev"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
        pytest.fail(f"{image} is missing: run scripts/build-images first")
    result = CliRunner().invoke(ducto_test, ["--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    assert "spec::test_image_labels PASSED" in result.output
    assert "destination::test_echoed_state_survives_a_kill PASSED" in result.output
