"""Every check fails when its rule is broken, and a correct source passes them all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ducto.orchestrator.acceptance.framework import Outcome

RunSuite = Callable[..., dict[str, Outcome]]

# The checks that need a Docker image; the rulebreaker is a process, so they skip.
IMAGE_CHECKS = {"spec::test_image_entrypoint", "spec::test_image_labels"}


def test_correct_source_passes_everything(run_rulebreaker: RunSuite) -> None:
    outcomes = run_rulebreaker()
    bad = {i: o.message for i, o in outcomes.items() if o.status in ("failed", "error")}
    assert not bad
    skipped = {i for i, o in outcomes.items() if o.status == "skipped"}
    # Only checks that cannot apply are skipped: image checks, spec_path, strictness, the events stream's
    # incremental-only or expected-records-free checks.
    assert skipped <= IMAGE_CHECKS | {
        "spec::test_spec_matches_expected",
        "basic_read::test_strictness",
        "basic_read::test_primary_keys_present[events]",
    }
    assert outcomes["basic_read::test_expected_records[users]"].status == "passed"
    assert outcomes["incremental::test_read_from_checkpoints[users]"].status == "passed"
    assert outcomes["incremental::test_future_state[users]"].status == "passed"
    assert "incremental::test_two_sequential_reads[events]" not in outcomes  # events is full refresh only
    assert len(outcomes) == 37  # 7 spec, 3 connection, 5 discovery, 17 basic_read, 2 full_refresh, 3 incremental


# defect -> (the -k expression to run, the test ids that must fail, a phrase of the failure message)
CASES = {
    "no_spec": ("spec", ["spec::test_spec_message"], "exactly one SPEC message, got 0"),
    "two_specs": ("spec", ["spec::test_spec_message"], "got 2"),
    "invalid_spec_schema": ("spec", ["spec::test_spec_is_valid_json_schema"], "not a valid JSON Schema"),
    "secret_not_marked": ("spec", ["spec::test_secrets_are_marked"], "api_key"),
    "check_failed_nonzero": ("connection", ["connection[1]::test_check_failed"], "exited 1"),
    "check_always_succeeds": ("connection", ["connection[1]::test_check_failed"], "expected FAILED"),
    "check_exception_no_trace": ("connection", ["connection[2]::test_check_exception"], "TRACE ERROR"),
    "duplicate_streams": ("discovery", ["discovery::test_unique_stream_names"], "events (2 times)"),
    "cursor_not_in_schema": ("discovery", ["discovery::test_cursors_exist_in_schema"], "['modified']"),
    "pk_not_in_schema": ("discovery", ["discovery::test_primary_keys_exist_in_schema"], "['uuid']"),
    "invalid_stream_schema": ("discovery", ["discovery::test_stream_schemas_are_valid"], "users: invalid JSON Schema"),
    "record_not_matching_schema": (
        "basic_read",
        ["basic_read::test_records_match_schema[users]"],
        "record 1: id: 'two' is not of type 'integer'",
    ),
    "extra_column": ("basic_read", ["basic_read::test_records_match_schema[users]"], "['surprise']"),
    "null_pk": ("basic_read", ["basic_read::test_primary_keys_present[users]"], "record 2: primary key id is null"),
    "empty_stream": ("basic_read", ["basic_read::test_stream_has_records[events]"], "emitted no records"),
    "missing_stream_status": ("basic_read", ["basic_read::test_stream_statuses[users]"], "expected COMPLETE"),
    "running_after_records": ("basic_read", ["basic_read::test_stream_statuses[users]"], "without a RUNNING"),
    "legacy_state": ("basic_read", ["basic_read::test_state_messages[users]"], "LEGACY"),
    "no_source_stats": ("basic_read", ["basic_read::test_state_messages[events]"], "sourceStats.recordCount"),
    "no_state": ("basic_read", ["basic_read::test_state_messages[events]"], "no STATE message"),
    "unknown_stream_silent": (
        "basic_read",
        ["basic_read::test_unknown_stream_reported", "basic_read::test_trace_on_bad_catalog"],
        "said nothing",
    ),
    "read_crash": ("basic_read", ["basic_read::test_read"], "the API answered 500"),
    "stdout_garbage": ("basic_read", ["basic_read::test_stdout_only_messages"], "DEBUG: starting the read"),
    "label_changed": ("basic_read", ["basic_read::test_expected_records[users]"], "differ from the expected"),
    "full_refresh_random": ("full_refresh", ["full_refresh::test_sequential_reads[users]"], "missing from the second"),
    "incremental_reemits": (
        "incremental",
        ["incremental::test_two_sequential_reads[users]", "incremental::test_future_state[users]"],
        "older than the cursor",
    ),
    "checkpoint_skips": ("incremental", ["incremental::test_read_from_checkpoints[users]"], "emitted 0 record(s)"),
    "future_state_no_state": ("incremental", ["incremental::test_future_state[users]"], "no STATE"),
}


@pytest.mark.parametrize("defect", sorted(CASES))
def test_each_broken_rule_fails_its_check(run_rulebreaker: RunSuite, defect: str) -> None:
    keyword, must_fail, phrase = CASES[defect]
    outcomes = run_rulebreaker(defect, keyword=keyword)
    for test_id in must_fail:
        assert test_id in outcomes, sorted(outcomes)
        assert outcomes[test_id].status == "failed", (test_id, outcomes[test_id].status, outcomes[test_id].message)
    assert phrase in outcomes[must_fail[0]].message
    # The failure is specific: checks about other rules of the same group keep passing or skipping.
    collateral = {i for i, o in outcomes.items() if o.status in ("failed", "error")} - set(must_fail)
    assert not collateral or defect in ALLOWED_COLLATERAL, {i: outcomes[i].message for i in collateral}


# Defects that legitimately break more than one check.
ALLOWED_COLLATERAL = {
    "read_crash",  # every check of the read fails with it
    "no_spec",  # every spec check needs the SPEC
    "two_specs",
    "invalid_stream_schema",  # an invalid schema cannot validate records either
    "legacy_state",
    "no_state",
    "full_refresh_random",
    "missing_stream_status",
    "extra_column",  # the expected records have no such column either (extra_fields: false)
    "empty_stream",  # expected records of the empty stream are missing too
    "no_source_stats",  # both streams' states lack it
    "null_pk",  # a null id also breaks the schema
    "record_not_matching_schema",  # the expected record with id 2 is not found either
    "invalid_spec_schema",  # the config cannot be validated against it
}


def test_a_hanging_connector_times_out(run_rulebreaker: RunSuite) -> None:
    outcomes = run_rulebreaker("hang_discover", keyword="discovery", timeout=2)
    o = outcomes["discovery::test_discover"]
    assert o.status == "failed"
    assert "timed out" in o.message
    assert o.duration < 15


def test_secrets_are_masked_in_failure_messages(run_rulebreaker: RunSuite) -> None:
    outcomes = run_rulebreaker("check_leaks_secret", keyword="connection")
    message = outcomes["connection[0]::test_check_succeed"].message
    assert "k-123" not in message
    assert "the API refused key ****" in message
    assert "calling the API with key ****" in message  # stderr tail too


def test_expected_records_of_an_unselected_stream_fail(run_rulebreaker: RunSuite, project: Path) -> None:
    expected = project.parent / "expected_records.jsonl"
    expected.write_text(expected.read_text() + '{"stream": "ghosts", "data": {"id": 1}, "emitted_at": 0}\n')
    outcomes = run_rulebreaker(keyword="basic_read")
    assert outcomes["basic_read::test_read"].status == "failed"
    assert "lists records of streams the read does not select: ['ghosts']" in outcomes["basic_read::test_read"].message
