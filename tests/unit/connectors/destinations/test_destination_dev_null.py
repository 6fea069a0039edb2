"""destination-dev-null: discards records, echoes every state with its count."""

from __future__ import annotations

from pathlib import Path

from destination_dev_null import DestinationDevNull
from destination_harness import configured, echoed_states, errors, record, state, write


def test_discards_and_echoes_states_with_counts(tmp_path: Path) -> None:
    messages = [record("a", {"i": i}) for i in range(5)] + [state("a", 1), record("a", {"i": 9}), state("a", 2)]
    code, out = write(DestinationDevNull(), tmp_path, {}, [configured("a", {"i": {"type": "integer"}})], messages)
    assert code == 0
    assert echoed_states(out) == [1, 2]
    assert [m["state"]["destinationStats"]["recordCount"] for m in out if m["type"] == "STATE"] == [5, 1]
    assert any(m["type"] == "LOG" and "6 records discarded" in m["log"]["message"] for m in out)


def test_validate_records_rejects_a_malformed_record(tmp_path: Path) -> None:
    bad = b'{"type":"RECORD","record":{"stream":"a","data":"not an object"}}\n'
    messages = [record("a", {"i": 1}), state("a", 1), bad]
    streams = [configured("a", {"i": {"type": "integer"}})]
    code, out = write(DestinationDevNull(), tmp_path, {"validate_records": True}, streams, messages)
    assert code == 1
    assert echoed_states(out) == [1]
    assert any("line 3" in e for e in errors(out))
    # Without validation the line is only routed, and discarded.
    assert write(DestinationDevNull(), tmp_path, {}, streams, messages)[0] == 0
