"""CI runs the acceptance suite against the image of every connector in connectors/ that has a config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ducto.orchestrator.acceptance.cli import test as ducto_test

REPO = Path(__file__).resolve().parents[3]
CONFIGS = sorted(REPO.glob("connectors/*/acceptance-test-config.yml"))

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    "config",
    CONFIGS or [pytest.param(None, marks=pytest.mark.skip(reason="no connector in connectors/ has a config yet"))],
    ids=[c.parent.name for c in CONFIGS] or ["none"],
)
def test_connector_image_passes_its_acceptance_config(config: Path, tmp_path: Path) -> None:
    image = (yaml.safe_load(config.read_text()) or {}).get("connector_image")
    assert image, f"{config}: no connector_image"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
        pytest.fail(f"{image} is missing: run scripts/build-images first")
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(ducto_test, ["--config", str(config), "--junitxml", str(junit)])
    assert result.exit_code == 0, result.output
