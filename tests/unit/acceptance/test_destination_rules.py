"""Destination checks: a correct destination passes, each broken rule fails its check."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from ducto.orchestrator.acceptance.config import load_config
from ducto.orchestrator.acceptance.framework import Context, Outcome
from ducto.orchestrator.acceptance.runner import ProcessConnector
from ducto.orchestrator.acceptance.suite import run_suite

DEST = Path(__file__).with_name("dest_rulebreaker.py")
CONFIG = """\
connector_image: ducto-acc/dest-rulebreaker:dev
acceptance_tests:
  spec:
    tests:
      - {}
  destination:
    tests:
      - config_path: destination_config.json
        reader:
          type: jsonl
          path: "{local_dir}/{stream}.jsonl"
        echo_wait_seconds: 5
"""


def run(tmp_path: Path, defect: str = "") -> dict[str, Outcome]:
    (tmp_path / "destination_config.json").write_text(json.dumps({"dir": "{local_dir}"}))
    path = tmp_path / "acceptance-test-config.yml"
    path.write_text(CONFIG)
    ctx = Context(ProcessConnector([sys.executable, str(DEST)], env={"DEFECT": defect}), load_config(path))
    return {o.case.id: o for o in run_suite(ctx, "destination").outcomes}


def test_correct_destination_passes(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("ducto-acc-dest-*"))
    outcomes = run(tmp_path)
    assert {i: o.status for i, o in outcomes.items()} == {
        f"destination::{name}[{mode}]": "passed"
        for mode in ("overwrite", "append", "append_dedup")
        for name in ("test_states_echoed", "test_read_back")
    } | {
        "destination::test_bad_line_keeps_committed": "passed",
        "destination::test_echoed_state_survives_a_kill": "passed",
    }
    assert set(Path(tempfile.gettempdir()).glob("ducto-acc-dest-*")) <= before  # the suite removed its folders


CASES = {
    "wrong_count": (["destination::test_states_echoed[append]"], "destinationStats.recordCount is 3.0, 2 records"),
    "drop_state": (["destination::test_states_echoed[overwrite]"], "differ from the STATEs sent"),
    "reorder_states": (["destination::test_states_echoed[append_dedup]"], "differ from the STATEs sent"),
    "early_echo": (
        ["destination::test_echoed_state_survives_a_kill", "destination::test_bad_line_keeps_committed"],
        "after a kill they are gone",
    ),
    "no_dedup": (["destination::test_read_back[append_dedup]"], "read back but not expected"),
    "append_truncates": (["destination::test_read_back[append]"], "sent but not read back"),
    "lossy": (["destination::test_read_back[append]"], "12.5"),
    "drops_new_column": (["destination::test_read_back[overwrite]"], '"added_later":"v1"'),
}


@pytest.mark.parametrize("defect", sorted(CASES))
def test_each_broken_rule_fails(tmp_path: Path, defect: str) -> None:
    must_fail, phrase = CASES[defect]
    outcomes = run(tmp_path, defect)
    for test_id in must_fail:
        assert outcomes[test_id].status == "failed", (test_id, outcomes[test_id])
    assert phrase in outcomes[must_fail[0]].message, outcomes[must_fail[0]].message
