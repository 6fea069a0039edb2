"""destination-duckdb in-process: every sync mode, typing, evolution, bad values, commit ordering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from destination_duckdb import DestinationDuckDB
from destination_harness import configured, echoed_states, errors, record, state, status, write

PROPS = {
    "id": {"type": "integer"},
    "name": {"type": ["null", "string"]},
    "score": {"type": "number"},
    "active": {"type": "boolean"},
    "updated_at": {"type": "string", "format": "date-time"},
    "born": {"type": "string", "format": "date"},
    "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    "tags": {"type": "array", "items": {"type": "string"}},
}


class SmallBatches(DestinationDuckDB):
    """Forces many batches (and jobs) so merges across batches are exercised."""

    batch_records = 2


@pytest.fixture
def db(tmp_path: Path) -> dict[str, Any]:
    # Commit at every state, so each test sees exactly which states a commit covered.
    return {"path": str(tmp_path / "warehouse.duckdb"), "commit_interval_seconds": 0}


def query(config: dict[str, Any], sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(config["path"], read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def user(i: int, **over: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "name": f"user {i}",
        "score": i / 2,
        "active": i % 2 == 0,
        "updated_at": f"2024-01-0{i}T10:00:00Z",
        "born": "1990-05-17",
        "address": {"city": "Paris"},
        "tags": ["a", "b"],
    }
    row.update(over)
    return row


def test_append_types_and_airbyte_columns(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "append", generation_id=3)]
    code, out = write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(1)), state("users", 1)])
    assert code == 0, out
    assert echoed_states(out) == [1]
    code, out = write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(2)), state("users", 2)])
    assert code == 0, out
    types = dict(query(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'users'"))
    assert types == {
        "_airbyte_raw_id": "UUID",
        "_airbyte_extracted_at": "TIMESTAMP WITH TIME ZONE",
        "_airbyte_meta": "JSON",
        "_airbyte_generation_id": "BIGINT",
        "id": "BIGINT",
        "name": "VARCHAR",
        "score": "DOUBLE",
        "active": "BOOLEAN",
        "updated_at": "TIMESTAMP WITH TIME ZONE",
        "born": "DATE",
        "address": "JSON",
        "tags": "JSON",
    }
    rows = query(
        db,
        "SELECT id, name, score, active, updated_at::VARCHAR, born::VARCHAR, address->>'$.city', tags->>'$[1]', "
        "_airbyte_extracted_at::VARCHAR, _airbyte_meta::VARCHAR, _airbyte_generation_id FROM users ORDER BY id",
    )
    assert rows == [
        (1, "user 1", 0.5, False, "2024-01-01 10:00:00+00", "1990-05-17", "Paris", "b", "2023-11-14 22:13:20+00",
         '{"sync_id":7,"changes":[]}', 3),
        (2, "user 2", 1.0, True, "2024-01-02 10:00:00+00", "1990-05-17", "Paris", "b", "2023-11-14 22:13:20+00",
         '{"sync_id":7,"changes":[]}', 3),
    ]  # fmt: skip
    ids = query(db, "SELECT count(DISTINCT _airbyte_raw_id) FROM users")
    assert ids == [(2,)]


def test_overwrite_replaces_table_and_leaves_no_stage(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "overwrite")]
    first = [record("users", user(i)) for i in (1, 2, 3)] + [state("users", 1)]
    assert write(SmallBatches(), tmp_path, db, streams, first)[0] == 0
    second = [record("users", user(i)) for i in (4, 5)] + [state("users", 2), status("users")]
    assert write(SmallBatches(), tmp_path, db, streams, second)[0] == 0
    assert query(db, "SELECT id FROM users ORDER BY id") == [(4,), (5,)]
    assert query(db, "SELECT table_name FROM duckdb_tables() ORDER BY 1") == [("users",)]


def test_failed_overwrite_keeps_the_old_table(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "overwrite")]
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(1)), state("users", 1)])[0] == 0
    # The second sync commits records to its stage, then breaks on a malformed line.
    broken = [
        record("users", user(2)),
        record("users", user(3)),
        state("users", 2),
        b'{"type":"RECORD","record":{"stream":"users","data":{"id":4}\n',
    ]
    code, out = write(SmallBatches(), tmp_path, db, streams, broken)
    assert code == 1
    assert echoed_states(out) == [2]
    assert any("line 4" in e for e in errors(out)), out
    assert query(db, "SELECT id FROM users") == [(1,)]
    # The stage still holds what was committed; a later successful sync replaces both.
    assert query(db, "SELECT count(*) FROM users_airbyte_tmp") == [(2,)]
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(9)), state("users", 3)])[0] == 0
    assert query(db, "SELECT id FROM users") == [(9,)]


def test_overwrite_swaps_on_complete_before_input_ends(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "overwrite"), configured("other", PROPS, "append")]
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(1)), state("users", 1)])[0] == 0
    messages = [
        record("users", user(2)),
        status("users"),
        state("users", 2),
        record("other", user(5)),
        b"not json\n",
    ]
    code, _ = write(DestinationDuckDB(), tmp_path, db, streams, messages)
    assert code == 1
    assert query(db, "SELECT id FROM users") == [(2,)]  # swapped at COMPLETE, kept although the sync failed later


def test_overwrite_resumes_the_stage_of_the_same_generation(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "overwrite", generation_id=5)]
    failing = [record("users", user(1)), state("users", 1), b"{oops\n"]
    assert write(DestinationDuckDB(), tmp_path, db, streams, failing)[0] == 1
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(2)), state("users", 2)])[0] == 0
    assert query(db, "SELECT id FROM users ORDER BY id") == [(1,), (2,)]
    # A new generation starts from an empty stage.
    streams = [configured("users", PROPS, "overwrite", generation_id=6)]
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(1)), b"{oops\n"])[0] == 1
    assert write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(3)), state("users", 3)])[0] == 0
    assert query(db, "SELECT id, _airbyte_generation_id FROM users ORDER BY id") == [(3, 6)]


@pytest.mark.parametrize("destination", [DestinationDuckDB, SmallBatches])
def test_dedup_late_and_equal_cursors(tmp_path: Path, db: dict[str, Any], destination: type[DestinationDuckDB]) -> None:
    streams = [configured("users", PROPS, "append_dedup", pk=["id"], cursor=["updated_at"])]
    t = "2024-03-0{}T00:00:00Z"
    messages = [
        record("users", user(1, updated_at=t.format(5), name="v5")),
        record("users", user(1, updated_at=t.format(3), name="late")),  # late: lower cursor, arrives later
        record("users", user(2, updated_at=t.format(4), name="first"), emitted_at=1000),
        record("users", user(2, updated_at=t.format(4), name="equal-newer-extract"), emitted_at=2000),
        record("users", user(2, updated_at=t.format(4), name="equal-older-extract"), emitted_at=1500),
        record("users", user(3, updated_at=None, name="null cursor")),
        record("users", user(3, updated_at=t.format(1), name="real cursor")),
        record("users", user(3, updated_at=None, name="null again")),
        record("users", user(4, name="tie a")),
        record("users", user(4, name="tie b")),  # same cursor, same extraction: the later record wins
        state("users", 1),
    ]
    code, out = write(destination(), tmp_path, db, streams, messages)
    assert code == 0, out
    expected = [(1, "v5"), (2, "equal-newer-extract"), (3, "real cursor"), (4, "tie b")]
    assert query(db, "SELECT id, name FROM users ORDER BY id") == expected
    # A later sync: a stale row loses to the stored one, an equal cursor with a later extraction wins.
    later = [
        record("users", user(1, updated_at=t.format(4), name="stale"), emitted_at=1_800_000_000_000),
        record("users", user(2, updated_at=t.format(4), name="equal-later-sync"), emitted_at=1_800_000_000_000),
        record("users", user(3, updated_at=None, name="null cursor later")),
        record("users", user(5, name="new")),
        state("users", 2),
    ]
    assert write(destination(), tmp_path, db, streams, later)[0] == 0
    expected = [(1, "v5"), (2, "equal-later-sync"), (3, "real cursor"), (4, "tie b"), (5, "new")]
    assert query(db, "SELECT id, name FROM users ORDER BY id") == expected


def test_dedup_without_cursor_keeps_latest_and_composite_keys(tmp_path: Path, db: dict[str, Any]) -> None:
    props = {"a": {"type": "integer"}, "b": {"type": "string"}, "v": {"type": "string"}}
    streams = [configured("pairs", props, "append_dedup", pk=["a", "b"])]
    messages = [
        record("pairs", {"a": 1, "b": "x", "v": "1x-old"}),
        record("pairs", {"a": 1, "b": "y", "v": "1y"}),
        record("pairs", {"a": 1, "b": "x", "v": "1x-new"}),
        record("pairs", {"a": None, "b": "x", "v": "null-a old"}),
        record("pairs", {"a": None, "b": "x", "v": "null-a new"}),
    ]
    assert write(SmallBatches(), tmp_path, db, streams, messages)[0] == 0
    rows = query(db, "SELECT a, b, v FROM pairs ORDER BY a NULLS FIRST, b")
    assert rows == [(None, "x", "null-a new"), (1, "x", "1x-new"), (1, "y", "1y")]


def test_cdc_deletes_remove_rows(tmp_path: Path, db: dict[str, Any]) -> None:
    props = {**PROPS, "_ab_cdc_deleted_at": {"type": ["null", "string"], "format": "date-time"}}
    streams = [configured("users", props, "append_dedup", pk=["id"], cursor=["updated_at"])]
    first = [record("users", user(i)) for i in (1, 2, 3)] + [state("users", 1)]
    assert write(DestinationDuckDB(), tmp_path, db, streams, first)[0] == 0
    deletes = [
        record("users", user(2, updated_at="2024-02-01T00:00:00Z", _ab_cdc_deleted_at="2024-02-01T00:00:00Z")),
        record("users", user(4, _ab_cdc_deleted_at=None)),
        record("users", user(4, updated_at="2024-02-01T00:00:00Z", _ab_cdc_deleted_at="2024-02-01T00:00:00Z")),
        # A stale delete (older cursor than the stored row) does not remove it.
        record("users", user(3, updated_at="2023-01-01T00:00:00Z", _ab_cdc_deleted_at="2023-01-01T00:00:00Z")),
        state("users", 2),
    ]
    assert write(DestinationDuckDB(), tmp_path, db, streams, deletes)[0] == 0
    assert query(db, "SELECT id FROM users ORDER BY id") == [(1,), (3,)]


def test_new_column_is_added(tmp_path: Path, db: dict[str, Any]) -> None:
    props = {"id": {"type": "integer"}}
    assert write(DestinationDuckDB(), tmp_path, db, [configured("users", props)], [record("users", {"id": 1})])[0] == 0
    wider = {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "Signup Date": {"type": "string", "format": "date"},
    }
    messages = [record("users", {"id": 2, "email": "b@x.org", "Signup Date": "2024-02-29"})]
    code, out = write(DestinationDuckDB(), tmp_path, db, [configured("users", wider)], messages)
    assert code == 0, out
    rows = query(db, "SELECT id, email, signup_date::VARCHAR FROM users ORDER BY id")
    assert rows == [(1, None, None), (2, "b@x.org", "2024-02-29")]


def test_changed_type_keeps_existing_column(tmp_path: Path, db: dict[str, Any]) -> None:
    assert (
        write(
            DestinationDuckDB(), tmp_path, db, [configured("t", {"v": {"type": "integer"}})], [record("t", {"v": 1})]
        )[0]
        == 0
    )
    code, _ = write(
        DestinationDuckDB(),
        tmp_path,
        db,
        [configured("t", {"v": {"type": "string"}})],
        [record("t", {"v": "7"}), record("t", {"v": "x"})],
    )
    assert code == 0
    rows = query(
        db, "SELECT v, _airbyte_meta->>'$.changes[0].field' FROM t ORDER BY _airbyte_extracted_at, v NULLS LAST"
    )
    assert sorted(rows, key=str) == sorted([(1, None), (7, None), (None, "v")], key=str)


def test_bad_values_become_null_with_a_change(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS)]
    bad = user(1, id="one", score="high", active="maybe", updated_at="yesterday", born=17, address=[1], tags={"x": 1})
    source_change = {"changes": [{"field": "name", "change": "TRUNCATED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]}
    messages = [record("users", user(2)), record("users", bad, meta=source_change), state("users", 1)]
    code, out = write(DestinationDuckDB(), tmp_path, db, streams, messages)
    assert code == 0, out
    assert echoed_states(out) == [1]
    rows = query(
        db,
        "SELECT id, score, active, updated_at::VARCHAR, born::VARCHAR, address, tags, name, _airbyte_meta "
        "FROM users ORDER BY id NULLS LAST",
    )
    assert rows[0][0] == 2 and json.loads(rows[0][-1]) == {"sync_id": 7, "changes": []}
    assert rows[1][:-1] == (None, None, None, None, None, None, None, "user 1")
    meta = json.loads(rows[1][-1])
    assert meta["sync_id"] == 7
    assert meta["changes"][0] == source_change["changes"][0]
    nulled = {c["field"] for c in meta["changes"][1:]}
    assert nulled == {"id", "score", "active", "updated_at", "born", "address", "tags"}
    assert {(c["change"], c["reason"]) for c in meta["changes"][1:]} == {("NULLED", "DESTINATION_TYPECAST_ERROR")}


def test_nested_values_unicode_and_naming(tmp_path: Path, db: dict[str, Any]) -> None:
    props = {
        "Ünit Price": {"type": "number"},
        "Name": {"type": "string"},
        "name": {"type": "string"},
        "2nd": {"type": "integer"},
        "_airbyte_meta": {"type": "string"},
        "payload": {"type": "object"},
        "any": {},
    }
    nested = {"deep": {"list": [1, {"x": "ü"}], "empty": {}}, "emoji": "🦆"}
    data = {
        "Ünit Price": 9.5,
        "Name": "Ærø",
        "name": "名前",
        "2nd": 2,
        "_airbyte_meta": "mine",
        "payload": nested,
        "any": [1, "two"],
    }
    code, out = write(
        DestinationDuckDB(), tmp_path, db, [configured("Café Orders!", props)], [record("Café Orders!", data)]
    )
    assert code == 0, out
    cols = [
        r[0]
        for r in query(
            db, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'cafe_orders_' ORDER BY column_index"
        )
    ]
    assert cols[4:] == ["unit_price", "name", "name_1", "_2nd", "_airbyte_meta_1", "payload", "any"]
    rows = query(
        db,
        "SELECT unit_price, name, name_1, _2nd, _airbyte_meta_1, payload, payload->>'$.deep.list[1].x', \"any\" "
        "FROM cafe_orders_",
    )
    assert rows[0][:5] == (9.5, "Ærø", "名前", 2, "mine")
    assert json.loads(rows[0][5]) == nested
    assert rows[0][6] == "ü"
    assert json.loads(rows[0][7]) == [1, "two"]


def test_schemaless_stream_keeps_whole_records(tmp_path: Path, db: dict[str, Any]) -> None:
    code, out = write(
        DestinationDuckDB(), tmp_path, db, [configured("blobs", None)], [record("blobs", {"a": {"b": 1}})]
    )
    assert code == 0, out
    assert [json.loads(r[0]) for r in query(db, "SELECT _airbyte_data FROM blobs")] == [{"a": {"b": 1}}]


def test_namespace_becomes_schema(tmp_path: Path, db: dict[str, Any]) -> None:
    stream = configured("users", PROPS)
    stream["stream"]["namespace"] = "CRM"
    msg = record("users", user(1), namespace="CRM")
    code, out = write(DestinationDuckDB(), tmp_path, db, [stream], [msg, {**state("users", 1)}])
    assert code == 0, out
    assert query(db, "SELECT id FROM crm.users") == [(1,)]


def test_state_is_not_echoed_when_commit_fails(tmp_path: Path, db: dict[str, Any]) -> None:
    class FailingCommit(DestinationDuckDB):
        def commit(self) -> None:
            super().commit()
            raise OSError("disk full")

    code, out = write(
        FailingCommit(), tmp_path, db, [configured("users", PROPS)], [record("users", user(1)), state("users", 1)]
    )
    assert code == 1
    assert echoed_states(out) == []
    assert any("disk full" in e for e in errors(out))


def test_state_echoed_after_the_records_before_it_are_queryable(tmp_path: Path, db: dict[str, Any]) -> None:
    """At the moment the SDK echoes a state, another connection already sees every record before it."""
    seen: list[int] = []

    class Probe(DestinationDuckDB):
        def commit(self) -> None:
            super().commit()
            seen.append(self.con.cursor().execute("SELECT count(*) FROM users").fetchone()[0])

    messages = [record("users", user(i)) for i in range(1, 6)] + [state("users", 1)]
    messages += [record("users", user(i)) for i in range(6, 8)] + [state("users", 2)]
    code, out = write(Probe(), tmp_path, db, [configured("users", PROPS)], messages)
    assert code == 0
    assert seen[:2] == [5, 7]
    counts = [m["state"]["destinationStats"]["recordCount"] for m in out if m["type"] == "STATE"]
    assert counts == [5, 2]


def test_malformed_input_names_the_line(tmp_path: Path, db: dict[str, Any]) -> None:
    messages = [
        record("users", user(1)),
        state("users", 1),
        b'{"type":"RECORD","record":{"stream":"users","data":[1]}}\n',
    ]
    code, out = write(DestinationDuckDB(), tmp_path, db, [configured("users", PROPS)], messages)
    assert code == 1
    assert echoed_states(out) == [1]
    assert any("line 3" in e and "record.data" in e for e in errors(out)), out
    assert query(db, "SELECT id FROM users") == [(1,)]


def test_unknown_stream_and_missing_primary_key_are_clear_errors(tmp_path: Path, db: dict[str, Any]) -> None:
    code, out = write(DestinationDuckDB(), tmp_path, db, [configured("users", PROPS)], [record("nope", {"id": 1})])
    assert code == 1 and any("'nope'" in e for e in errors(out))
    code, out = write(DestinationDuckDB(), tmp_path, db, [configured("users", PROPS, "append_dedup")], [])
    assert code == 1 and any("needs a primary key" in e for e in errors(out))
    streams = [configured("users", PROPS, "append_dedup", pk=["nope"])]
    code, out = write(DestinationDuckDB(), tmp_path, db, streams, [])
    assert code == 1 and any("primary key field nope" in e for e in errors(out))


def test_check_reports_a_missing_folder(tmp_path: Path) -> None:
    import io

    from ducto.protocol.sdk import run

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"path": str(tmp_path / "missing" / "w.duckdb")}))
    out = io.BytesIO()
    assert run(DestinationDuckDB(), ["check", "--config", str(config)], stdout=out) == 0
    status_msg = json.loads(out.getvalue().splitlines()[-1])
    assert status_msg["connectionStatus"]["status"] == "FAILED"
    assert "does not exist" in status_msg["connectionStatus"]["message"]
    config.write_text(json.dumps({"path": str(tmp_path / "w.duckdb")}))
    out = io.BytesIO()
    assert run(DestinationDuckDB(), ["check", "--config", str(config)], stdout=out) == 0
    assert json.loads(out.getvalue().splitlines()[-1])["connectionStatus"]["status"] == "SUCCEEDED"


def test_grouped_commits_echo_every_state_in_order(tmp_path: Path, db: dict[str, Any]) -> None:
    """With a commit interval, states wait for the next commit and are then echoed in order."""
    commits: list[int] = []

    class Counting(SmallBatches):
        def commit(self) -> None:
            super().commit()
            commits.append(1)

    config = {**db, "commit_interval_seconds": 60}
    messages: list[Any] = []
    for i in range(1, 7):
        messages += [record("users", user(i)), record("users", user(i)), state("users", i)]
    code, out = write(Counting(), tmp_path, config, [configured("users", PROPS)], messages)
    assert code == 0
    assert echoed_states(out) == [1, 2, 3, 4, 5, 6]
    assert [m["state"]["destinationStats"]["recordCount"] for m in out if m["type"] == "STATE"] == [2] * 6
    assert len(commits) == 1  # one commit at the end covered all six states
    assert query(db, "SELECT count(*) FROM users") == [(12,)]
    # A failure before the commit: no state echoed.
    code, out = write(Counting(), tmp_path, config, [configured("users", PROPS)], [*messages, b"{broken\n"])
    assert code == 1 and echoed_states(out) == []


def test_truncate_refresh_of_a_dedup_stream(tmp_path: Path, db: dict[str, Any]) -> None:
    """minimum_generation_id == generation_id: a dedup stream is rebuilt in a stage and swapped in."""
    stream = configured("users", PROPS, "append_dedup", pk=["id"], cursor=["updated_at"])
    assert (
        write(DestinationDuckDB(), tmp_path, db, [stream], [record("users", user(1)), record("users", user(2))])[0] == 0
    )
    refresh = {**stream, "generation_id": 4, "minimum_generation_id": 4}
    messages = [record("users", user(3, name="a")), record("users", user(3, name="b")), state("users", 1)]
    code, out = write(SmallBatches(), tmp_path, db, [refresh], messages)
    assert code == 0, out
    assert query(db, "SELECT id, name, _airbyte_generation_id FROM users") == [(3, "b", 4)]


def test_object_and_array_mismatch_on_the_typed_plan(tmp_path: Path, db: dict[str, Any]) -> None:
    """Only nested columns are off: the typed read succeeds and still NULLs them with a change each."""
    messages = [record("users", user(1, address=[1], tags="x")), record("users", user(2, address={}, tags=[]))]
    code, out = write(DestinationDuckDB(), tmp_path, db, [configured("users", PROPS)], messages)
    assert code == 0, out
    rows = query(db, "SELECT id, address, tags, _airbyte_meta FROM users ORDER BY id")
    assert rows[0][:3] == (1, None, None)
    assert {c["field"] for c in json.loads(rows[0][3])["changes"]} == {"address", "tags"}
    assert rows[1][:3] == (2, "{}", "[]") and json.loads(rows[1][3])["changes"] == []


def test_incomplete_overwrite_stream_is_not_swapped_in(tmp_path: Path, db: dict[str, Any]) -> None:
    streams = [configured("users", PROPS, "overwrite")]
    assert (
        write(DestinationDuckDB(), tmp_path, db, streams, [record("users", user(1)), record("users", user(2))])[0] == 0
    )
    partial = [record("users", user(3)), status("users", "INCOMPLETE"), state("users", 1)]
    code, out = write(DestinationDuckDB(), tmp_path, db, streams, partial)
    assert code == 0, out
    assert query(db, "SELECT id FROM users ORDER BY id") == [(1,), (2,)]
    assert any(m["type"] == "LOG" and "INCOMPLETE" in m["log"]["message"] for m in out)
