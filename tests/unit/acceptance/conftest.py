"""Fixtures: an acceptance config around the rulebreaker source, and a way to run the suite on it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ducto.orchestrator.acceptance.config import load_config
from ducto.orchestrator.acceptance.framework import Context, Outcome
from ducto.orchestrator.acceptance.runner import ProcessConnector
from ducto.orchestrator.acceptance.suite import run_suite

RULEBREAKER = Path(__file__).with_name("rulebreaker.py")

CONFIG_YAML = """\
connector_image: ducto-acc/rulebreaker:dev
acceptance_tests:
  spec:
    tests:
      - config_path: secrets/config.json
  connection:
    tests:
      - config_path: secrets/config.json
        status: succeed
      - config_path: bad_config.json
        status: failed
      - config_path: crash_config.json
        status: exception
  discovery:
    tests:
      - config_path: secrets/config.json
  basic_read:
    tests:
      - config_path: secrets/config.json
        expect_records:
          path: expected_records.jsonl
  full_refresh:
    tests:
      - config_path: secrets/config.json
  incremental:
    tests:
      - config_path: secrets/config.json
        future_state:
          future_state_path: abnormal_state.json
"""


def write_project(root: Path, config_yaml: str = CONFIG_YAML) -> Path:
    """Write an acceptance config and its inputs under `root`; returns the config path."""
    (root / "secrets").mkdir(parents=True, exist_ok=True)
    (root / "secrets" / "config.json").write_text(json.dumps({"api_key": "k-123", "users": 10}))
    (root / "bad_config.json").write_text(json.dumps({"api_key": "k-123", "mode": "bad"}))
    (root / "crash_config.json").write_text(json.dumps({"api_key": "k-123", "mode": "crash"}))
    expected = [
        {"stream": "users", "data": {"id": 1, "name": "user 1", "updated_at": 10}, "emitted_at": 0},
        {"stream": "users", "data": {"id": 2, "name": "user 2", "updated_at": 20}, "emitted_at": 0},
        {"stream": "events", "data": {"kind": "view", "n": 0}, "emitted_at": 0},
    ]
    (root / "expected_records.jsonl").write_text("".join(json.dumps(e) + "\n" for e in expected))
    future = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": 10**12}}}
    ]
    (root / "abnormal_state.json").write_text(json.dumps(future))
    path = root / "acceptance-test-config.yml"
    path.write_text(config_yaml)
    return path


RunSuite = Callable[..., dict[str, Outcome]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The config path of a rulebreaker project."""
    return write_project(tmp_path)


@pytest.fixture
def run_rulebreaker(project: Path) -> RunSuite:
    """Run the suite on the rulebreaker with a DEFECT; returns outcomes by test id."""

    def run(defect: str = "", keyword: str | None = None, timeout: float | None = None) -> dict[str, Outcome]:
        cfg = load_config(project)
        connector = ProcessConnector([sys.executable, str(RULEBREAKER)], env={"DEFECT": defect})
        ctx = Context(connector, cfg, timeout_override=timeout)
        result = run_suite(ctx, keyword)
        return {o.case.id: o for o in result.outcomes}

    return run
