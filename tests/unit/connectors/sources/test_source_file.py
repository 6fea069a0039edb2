"""source-file in-process: formats, gzip, globs, HTTP, schema discovery, incremental reads, bad files."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import json as std_json
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer
from source_file import SourceFile

from .conftest import Result, Runner, configured_catalog, last_state_file

USERS_CSV = (
    "id,name,zip,score,active,born,updated_at,notes\n"
    "1,Ann,01234,1.5,true,1990-01-02,2024-01-01T00:00:00Z,\n"
    '2,Bob,99999,2,false,,2024-01-02T00:00:00Z,"multi\nline, with comma"\n'
    "3,Cyd,12345,,TRUE,1985-12-31,2024-01-03T10:00:00+02:00,x\n"
)


@pytest.fixture
def source(tmp_path: Path) -> Runner:
    return Runner(SourceFile, tmp_path / "runs")


@pytest.fixture(autouse=True)
def _runs_folder(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()


def one_stream(**entry: Any) -> dict[str, Any]:
    return {"streams": [{"name": "s", **entry}]}


def schema_of(source: Runner, config: dict[str, Any], stream: str = "s") -> dict[str, Any]:
    result = source("discover", config)
    assert result.exit_code == 0, result.messages
    streams = {s["name"]: s for s in result.of_type("CATALOG")[0]["catalog"]["streams"]}
    return streams[stream]


def read_all(source: Runner, config: dict[str, Any], *streams: Any, state: Any = None, **kw: Any) -> Result:
    return source("read", config, configured_catalog(*(streams or ("s",)), **kw), state)


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_schema_is_typed_from_a_sample(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(USERS_CSV)
    stream = schema_of(source, one_stream(path_or_url=str(tmp_path / "users.csv"), primary_key="id"))
    props = stream["json_schema"]["properties"]
    assert list(props) == ["id", "name", "zip", "score", "active", "born", "updated_at", "notes"]
    assert props["id"] == {"type": ["null", "integer"]}
    assert props["zip"] == {"type": ["null", "string"]}, "leading zeros keep it text"
    assert props["score"] == {"type": ["null", "number"]}
    assert props["active"] == {"type": ["null", "boolean"]}
    assert props["born"] == {"type": ["null", "string"], "format": "date"}
    assert props["updated_at"] == {"type": ["null", "string"], "format": "date-time"}
    assert props["notes"] == {"type": ["null", "string"]}
    assert stream["source_defined_primary_key"] == [["id"]]
    assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
    jsonschema.Draft7Validator.check_schema(stream["json_schema"])


def test_csv_values_are_typed_per_schema(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(USERS_CSV)
    result = read_all(source, one_stream(path_or_url=str(tmp_path / "users.csv")))
    assert result.exit_code == 0
    assert result.records() == [
        {
            "id": 1,
            "name": "Ann",
            "zip": "01234",
            "score": 1.5,
            "active": True,
            "born": "1990-01-02",
            "updated_at": "2024-01-01T00:00:00Z",
            "notes": None,
        },
        {
            "id": 2,
            "name": "Bob",
            "zip": "99999",
            "score": 2.0,
            "active": False,
            "born": None,
            "updated_at": "2024-01-02T00:00:00Z",
            "notes": "multi\nline, with comma",
        },
        {
            "id": 3,
            "name": "Cyd",
            "zip": "12345",
            "score": None,
            "active": True,
            "born": "1985-12-31",
            "updated_at": "2024-01-03T10:00:00+02:00",
            "notes": "x",
        },
    ]
    assert result.statuses("s") == ["STARTED", "RUNNING", "COMPLETE"]


def test_csv_options_delimiter_no_header_nulls_and_tsv(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1;NA;x\n2;3.5;y\n")
    config = one_stream(
        path_or_url=str(tmp_path / "a.txt"),
        format="csv",
        csv={"delimiter": ";", "header": False, "null_values": ["NA", ""]},
    )
    assert read_all(source, config).records() == [
        {"column_1": 1, "column_2": None, "column_3": "x"},
        {"column_1": 2, "column_2": 3.5, "column_3": "y"},
    ]
    (tmp_path / "b.tsv").write_text("k\tv\n1\thello, world\n")
    named = one_stream(path_or_url=str(tmp_path / "b.tsv"), csv={"column_names": ["key", "value"]})
    assert read_all(source, named).records() == [{"key": 1, "value": "hello, world"}]


def test_csv_value_that_does_not_fit_the_sampled_type_is_kept_and_logged(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "n.csv").write_text("n\n1\n2\nthree\n")
    config = one_stream(path_or_url=str(tmp_path / "n.csv"), schema_sample_rows=2)
    result = read_all(source, config)
    assert result.exit_code == 0
    assert result.records() == [{"n": 1}, {"n": 2}, {"n": "three"}]
    assert any("line 4" in m["log"]["message"] and "'three'" in m["log"]["message"] for m in result.of_type("LOG"))


def test_csv_with_a_short_row_fails_naming_file_and_line(source: Runner, tmp_path: Path) -> None:
    lines = ["a,b,c,d"] + [f"{i},{i},{i},{i}" for i in range(15)] + ["1,2,3"]
    path = tmp_path / "users.csv"
    path.write_text("\n".join(lines) + "\n")
    result = read_all(source, one_stream(path_or_url=str(path)), "s")
    assert result.exit_code == 1
    [error] = result.errors()
    assert error["message"] == f"{path} line 17: expected 4 fields, got 3"
    assert error["failure_type"] == "config_error"
    assert "stack_trace" not in error or not error["stack_trace"]
    assert result.statuses("s")[-1] == "INCOMPLETE"
    assert result.records() == []  # the schema sample (1000 rows) met the bad row before any record
    small_sample = read_all(source, one_stream(path_or_url=str(path), schema_sample_rows=5))
    assert len(small_sample.records()) == 15  # records before the bad row were emitted
    assert small_sample.errors()[0]["message"] == f"{path} line 17: expected 4 fields, got 3"
    check = source("check", one_stream(path_or_url=str(path), schema_sample_rows=100))
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "line 17: expected 4 fields, got 3" in status["message"]


def test_csv_with_bad_encoding_names_the_file(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name\ncafé\n".encode("latin-1"))
    result = read_all(source, one_stream(path_or_url=str(path)))
    assert result.exit_code == 1
    assert result.errors()[0]["message"].startswith(f"{path} line 2: not valid utf-8")
    latin = one_stream(path_or_url=str(path), csv={"encoding": "latin-1"})
    assert read_all(source, latin).records() == [{"name": "café"}]


def test_header_only_csv_discovers_columns_and_reads_nothing(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("id,name\n")
    config = one_stream(path_or_url=str(tmp_path / "empty.csv"))
    assert schema_of(source, config)["json_schema"]["properties"] == {
        "id": {"type": ["null", "string"]},
        "name": {"type": ["null", "string"]},
    }
    result = read_all(source, config)
    assert result.exit_code == 0 and result.records() == [] and len(result.states("s")) == 1


# --- JSON Lines and JSON -----------------------------------------------------------------------


def test_jsonl_nested_schema_and_records(source: Runner, tmp_path: Path) -> None:
    rows = [
        {"id": 1, "user": {"name": "a", "age": 3}, "tags": ["x"], "at": "2024-05-01T10:00:00Z", "v": 1},
        {"id": 2, "user": {"name": "b", "age": None}, "tags": [], "at": "2024-05-02T10:00:00Z", "v": 2.5},
        {"id": 3, "user": None, "tags": ["y", "z"], "at": None, "extra": True, "mixed": 1},
        {"id": 4, "mixed": "text", "anything": [1], "day": "2024-05-02"},
        {"id": 5, "anything": {"a": 1}, "day": "2024-05-03"},
    ]
    path = tmp_path / "ev.jsonl"
    path.write_text("\n".join(std_json.dumps(r) for r in rows) + "\n\n")
    props = schema_of(source, one_stream(path_or_url=str(path)))["json_schema"]["properties"]
    assert props["id"] == {"type": ["null", "integer"]}
    assert props["user"] == {
        "type": ["null", "object"],
        "properties": {"name": {"type": ["null", "string"]}, "age": {"type": ["null", "integer"]}},
    }
    assert props["tags"] == {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    assert props["at"] == {"type": ["null", "string"], "format": "date-time"}
    assert props["v"] == {"type": ["null", "number"]}
    assert props["extra"] == {"type": ["null", "boolean"]}
    assert props["mixed"] == {"type": ["null", "string"]}
    assert props["anything"] == {}
    assert props["day"] == {"type": ["null", "string"], "format": "date"}
    result = read_all(source, one_stream(path_or_url=str(path)))
    assert result.records() == rows


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1}\n{"a": 2\n', "line 2: not valid JSON"),
        ('{"a": 1}\n\n[1, 2]\n', "line 3: expected a JSON object, got an array"),
    ],
)
def test_bad_jsonl_names_file_and_line(source: Runner, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    result = read_all(source, one_stream(path_or_url=str(path)))
    assert result.exit_code == 1
    assert result.errors()[0]["message"].startswith(f"{path} {message}")


def test_json_array_object_and_records_path(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "arr.json").write_text('[{"a": 1}, {"a": 2}]')
    (tmp_path / "obj.json").write_text('{"a": 1, "b": {"c": [1, 2]}}')
    (tmp_path / "wrapped.json").write_text('{"meta": {}, "data": {"items": [{"a": 1}, {"a": 3}]}}')
    config = {
        "streams": [
            {"name": "arr", "path_or_url": str(tmp_path / "arr.json")},
            {"name": "obj", "path_or_url": str(tmp_path / "obj.json")},
            {"name": "wrapped", "path_or_url": str(tmp_path / "wrapped.json"), "json_records_path": "data.items"},
        ]
    }
    result = read_all(source, config, "arr", "obj", "wrapped")
    assert result.records("arr") == [{"a": 1}, {"a": 2}]
    assert result.records("obj") == [{"a": 1, "b": {"c": [1, 2]}}]
    assert result.records("wrapped") == [{"a": 1}, {"a": 3}]
    bad = {"streams": [{"name": "w", "path_or_url": str(tmp_path / "wrapped.json"), "json_records_path": "data.rows"}]}
    failed = read_all(source, bad, "w")
    assert failed.errors()[0]["message"] == f"{tmp_path / 'wrapped.json'}: no value at records path 'data.rows'"


# --- Parquet -----------------------------------------------------------------------------------


def write_parquet(path: Path, rows: int = 2500, row_group_size: int = 1000) -> None:
    utc = dt.UTC
    table = pa.table(
        {
            "id": pa.array(range(1, rows + 1), pa.int64()),
            "name": pa.array([f"n{i}" for i in range(rows)], pa.string()),
            "price": pa.array([decimal.Decimal(f"{i}.25") for i in range(rows)], pa.decimal128(10, 2)),
            "ratio": pa.array([i / 4 for i in range(rows)], pa.float32()),
            "ok": pa.array([i % 2 == 0 for i in range(rows)]),
            "at": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=utc) + dt.timedelta(hours=i) for i in range(rows)],
                pa.timestamp("us", tz="UTC"),
            ),
            "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 30) for i in range(rows)], pa.date32()),
            "point": pa.array(
                [{"x": i, "y": "p"} for i in range(rows)], pa.struct([("x", pa.int32()), ("y", pa.string())])
            ),
            "tags": pa.array([["a"] * (i % 3) for i in range(rows)], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path, row_group_size=row_group_size)


def test_parquet_schema_and_records_by_row_group(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    write_parquet(path)
    props = schema_of(source, one_stream(path_or_url=str(path)))["json_schema"]["properties"]
    assert props["id"] == {"type": ["null", "integer"]}
    assert props["price"] == {"type": ["null", "number"]}
    assert props["ratio"] == {"type": ["null", "number"]}
    assert props["ok"] == {"type": ["null", "boolean"]}
    assert props["at"] == {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
    assert props["day"] == {"type": ["null", "string"], "format": "date"}
    assert props["point"]["properties"]["x"] == {"type": ["null", "integer"]}
    assert props["tags"] == {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    records = read_all(source, one_stream(path_or_url=str(path))).records()
    assert len(records) == 2500 and [r["id"] for r in records] == list(range(1, 2501))
    assert records[3] == {
        "id": 4,
        "name": "n3",
        "price": 3.25,
        "ratio": 0.75,
        "ok": False,
        "at": "2024-01-01T03:00:00+00:00",
        "day": "2024-01-04",
        "point": {"x": 3, "y": "p"},
        "tags": [],
    }


def test_parquet_incremental_on_a_timestamp(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    write_parquet(path, rows=100, row_group_size=30)
    config = one_stream(path_or_url=str(path), cursor_field="at", primary_key="id")
    first = read_all(source, config, ("s", "incremental"))
    assert len(first.records()) == 100
    assert first.states()[-1]["stream"]["stream_state"] == {"at": "2024-01-05T03:00:00+00:00"}
    second = read_all(source, config, ("s", "incremental"), state=last_state_file(first))
    assert [r["id"] for r in second.records()] == [100]  # >=: the row at the state's value again


def test_not_a_parquet_file(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("id,name\n1,a\n")
    result = read_all(source, one_stream(path_or_url=str(path)))
    assert result.exit_code == 1
    assert result.errors()[0]["message"].startswith(f"{path}: not a readable Parquet file")


# --- gzip, globs -------------------------------------------------------------------------------


def test_gzip_by_suffix_and_by_magic_bytes(source: Runner, tmp_path: Path) -> None:
    (tmp_path / "u.csv.gz").write_bytes(gzip.compress(USERS_CSV.encode()))
    (tmp_path / "blob").write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    config = {
        "streams": [
            {"name": "csv", "path_or_url": str(tmp_path / "u.csv.gz")},
            {"name": "magic", "path_or_url": str(tmp_path / "blob"), "format": "jsonl"},
        ]
    }
    result = read_all(source, config, "csv", "magic")
    assert [r["id"] for r in result.records("csv")] == [1, 2, 3]
    assert result.records("magic") == [{"a": 1}, {"a": 2}]


def test_glob_is_one_stream_of_all_files_in_order(source: Runner, tmp_path: Path) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()
    (folder / "2024-01-02.csv").write_text("id,v\n3,c\n")
    (folder / "2024-01-01.csv").write_text("id,v\n1,a\n2,b\n")
    (folder / "2024-01-03.csv.gz").write_bytes(gzip.compress(b"id,v,new\n4,d,x\n"))
    (folder / "notes.txt").write_text("not matched")
    config = one_stream(path_or_url=str(folder / "2024-*.csv*"))
    props = schema_of(source, config)["json_schema"]["properties"]
    assert list(props) == ["id", "v", "new"]
    assert read_all(source, config).records() == [
        {"id": 1, "v": "a"},
        {"id": 2, "v": "b"},
        {"id": 3, "v": "c"},
        {"id": 4, "v": "d", "new": "x"},
    ]
    nothing = source("check", one_stream(path_or_url=str(folder / "*.parquet")))
    status = nothing.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "no file matches" in status["message"]


def test_missing_file_unknown_format_and_duplicate_names(source: Runner, tmp_path: Path) -> None:
    missing = source("check", one_stream(path_or_url=str(tmp_path / "nope.csv")))
    assert "nope.csv: no such file" in missing.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["message"]
    (tmp_path / "data.bin").write_text("x")
    unknown = source("check", one_stream(path_or_url=str(tmp_path / "data.bin")))
    assert "set 'format'" in unknown.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["message"]
    (tmp_path / "a.csv").write_text("x\n1\n")
    twice = {"streams": [{"name": "a", "path_or_url": str(tmp_path / "a.csv")}] * 2}
    status = source("check", twice).of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "repeated: a" in status["message"]
    for entry, message in [
        ({"primary_key": ["x", "y"]}, "stream 's': primary key 'y' is not a column (columns: x)"),
        ({"cursor_field": "when"}, "stream 's': cursor field 'when' is not a column (columns: x)"),
    ]:
        result = source("check", one_stream(path_or_url=str(tmp_path / "a.csv"), **entry))
        assert result.of_type("CONNECTION_STATUS")[0]["connectionStatus"] == {"status": "FAILED", "message": message}


# --- HTTP --------------------------------------------------------------------------------------


def test_http_urls_stream_csv_gzip_and_parquet(source: Runner, tmp_path: Path, httpserver: HTTPServer) -> None:
    write_parquet(tmp_path / "t.parquet", rows=50, row_group_size=20)
    httpserver.expect_request("/data/users.csv").respond_with_data(USERS_CSV, content_type="text/csv")
    httpserver.expect_request("/data/export").respond_with_data(
        gzip.compress(b'{"a": 1}\n{"a": 2}\n'), content_type="application/octet-stream"
    )
    httpserver.expect_request("/data/t.parquet").respond_with_data((tmp_path / "t.parquet").read_bytes())
    httpserver.expect_request("/data/gone.csv").respond_with_data("no", status=404)
    config = {
        "streams": [
            {"name": "users", "path_or_url": httpserver.url_for("/data/users.csv")},
            {"name": "export", "path_or_url": httpserver.url_for("/data/export") + "?token=abc", "format": "jsonl"},
            {"name": "parquet", "path_or_url": httpserver.url_for("/data/t.parquet")},
        ]
    }
    assert source("check", config).of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    result = read_all(source, config, "users", "export", "parquet")
    assert result.exit_code == 0
    assert [r["zip"] for r in result.records("users")] == ["01234", "99999", "12345"]
    assert result.records("export") == [{"a": 1}, {"a": 2}]
    assert [r["id"] for r in result.records("parquet")] == list(range(1, 51))
    gone = source("check", one_stream(path_or_url=httpserver.url_for("/data/gone.csv") + "?token=secret"))
    message = gone.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["message"]
    assert "HTTP 404" in message and "/data/gone.csv" in message and "secret" not in message


def test_unreachable_url_is_a_clear_error(source: Runner) -> None:
    result = read_all(source, one_stream(path_or_url="http://127.0.0.1:9/x.csv"))
    assert result.exit_code == 1
    assert "cannot connect" in result.errors()[0]["message"]


# --- incremental -------------------------------------------------------------------------------


def test_incremental_emits_records_at_or_after_the_state(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,updated_at\n1,2024-01-01T00:00:00Z\n2,2024-01-03T00:00:00Z\n3,\n4,2024-01-02T00:00:00Z\n")
    config = one_stream(path_or_url=str(path), cursor_field="updated_at", primary_key="id")
    first = read_all(source, config, ("s", "incremental"))
    assert [r["id"] for r in first.records()] == [1, 2, 3, 4]
    state = last_state_file(first)
    assert state[0]["stream"]["stream_state"] == {"updated_at": "2024-01-03T00:00:00Z"}
    # New rows: one later, one at exactly the state's value, one earlier (and one in another time zone).
    path.write_text(
        path.read_text()
        + "5,2024-01-04T00:00:00Z\n6,2024-01-03T00:00:00Z\n7,2024-01-01T12:00:00Z\n8,2024-01-03T01:30:00+01:00\n"
    )
    second = read_all(source, config, ("s", "incremental"), state=state)
    assert [r["id"] for r in second.records()] == [2, 5, 6, 8]
    assert second.states()[-1]["stream"]["stream_state"] == {"updated_at": "2024-01-04T00:00:00Z"}
    full = read_all(source, config, "s", state=state)
    assert len(full.records()) == 8


def test_cursor_chosen_in_the_catalog(source: Runner, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"n": 1}\n{"n": 5}\n{"n": 3}\n')
    config = one_stream(path_or_url=str(path))
    stream = schema_of(source, config)
    assert stream["supported_sync_modes"] == ["full_refresh", "incremental"] and "default_cursor_field" not in stream
    first = read_all(source, config, ("s", "incremental"), cursor={"s": ["n"]})
    assert first.states()[-1]["stream"]["stream_state"] == {"n": 5}
    second = read_all(source, config, ("s", "incremental"), cursor={"s": ["n"]}, state=last_state_file(first))
    assert second.records() == [{"n": 5}]
    no_cursor = read_all(source, config, ("s", "incremental"))
    assert no_cursor.exit_code == 1 and "needs a cursor" in no_cursor.errors()[0]["message"]
    wrong = read_all(source, config, ("s", "incremental"), cursor={"s": ["missing"]})
    assert "cursor field 'missing' is not a column (columns: n)" in wrong.errors()[0]["message"]


# --- JSON documents are streamed -----------------------------------------------------------------


def test_json_stream_walks_the_path_across_tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import io as std_io

    from source_file import json_stream

    monkeypatch.setattr(json_stream, "CHUNK", 7)  # every value crosses chunk boundaries
    doc = {
        "meta": {"pages": [1, 2, {"deep": "x]}"}], "n": 12345},
        "data": [{"skip": True}, {"items": [{"a": 1, "f": 1.25e3}, {"a": 22, "s": 'q"uote'}, {"a": None}]}],
        "after": 99,
    }
    raw = std_json.dumps(doc, indent=2).encode()
    got = list(json_stream.stream_records(std_io.BytesIO(raw), "doc.json", "data.1.items"))
    assert got == doc["data"][1]["items"]
    assert list(json_stream.stream_records(std_io.BytesIO(b"  [ ]  "), "e.json", None)) == []
    assert list(json_stream.stream_records(std_io.BytesIO(b'{"x": 12}'), "o.json", None)) == [{"x": 12}]


@pytest.mark.parametrize(
    ("content", "path", "message"),
    [
        ('[{"a": 1},\n{"a": 2},\n{"a": ]', None, "f.json line 3: not valid JSON"),
        ('[{"a": 1}, 7]', None, "f.json element 1 (ending line 1): expected a JSON object, got a number"),
        ('{"data": {"items": 5}}', "data.items", "f.json: expected an array of objects or an object, got a number"),
        ('{"data": [1]}', "data.items", "f.json: no value at records path 'data.items'"),
        ("", None, "f.json line 1: the document is empty"),
        ('[{"a": 1} {"a": 2}]', None, "f.json line 1: expected ',' or ']', found '{'"),
    ],
)
def test_json_stream_errors_name_file_and_place(content: str, path: str | None, message: str) -> None:
    import io as std_io

    from source_file import json_stream
    from source_file.locations import FileError

    with pytest.raises(FileError) as caught:
        list(json_stream.stream_records(std_io.BytesIO(content.encode()), "f.json", path))
    assert caught.value.message.startswith(message)


def test_large_json_document_is_read_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    from ducto.protocol import json as ducto_json
    from ducto.protocol.sdk import run

    path = tmp_path / "big.json"
    row = '{"id": %d, "name": "name-%d", "payload": "' + "x" * 500 + '"}'
    with path.open("w") as f:
        f.write('{"meta": {"count": 40000}, "rows": [')
        f.write(",\n".join(row % (i, i) for i in range(40000)))
        f.write("]}")
    assert path.stat().st_size > 20_000_000
    config = tmp_path / "config.json"
    config.write_text(
        std_json.dumps(one_stream(path_or_url=str(path), json_records_path="rows", schema_sample_rows=10))
    )
    catalog = tmp_path / "catalog.json"
    catalog.write_text(std_json.dumps(configured_catalog("s")))
    out_path = tmp_path / "out.jsonl"
    tracemalloc.start()
    try:
        with out_path.open("wb") as out:
            code = run(SourceFile(), ["read", "--config", str(config), "--catalog", str(catalog)], stdout=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    with out_path.open("rb") as f:
        ids = [ducto_json.loads(line)["record"]["data"]["id"] for line in f if line.startswith(b'{"type":"RECORD"')]
    assert ids == list(range(40000))
    assert peak < 8_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte document"


def test_truncated_gzip_is_a_file_error(source: Runner, tmp_path: Path) -> None:
    body = gzip.compress(b"".join(b'{"n": %d}\n' % i for i in range(50000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(body[: len(body) // 2])
    result = read_all(source, one_stream(path_or_url=str(path), schema_sample_rows=10))
    assert result.exit_code == 1
    [error] = result.errors()
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith(f"{path}") and "cannot read" in error["message"]
    assert 0 < len(result.records()) < 50000


def test_connection_dropped_mid_body_is_a_transient_error(source: Runner) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    rows = b"".join(b'{"n": %d}\n' % i for i in range(1000))

    def serve() -> None:
        for _ in range(2):  # schema sample, then the read
            conn, _addr = listener.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(rows) * 10) + rows)
            conn.close()  # far less than announced

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        config = one_stream(path_or_url=f"http://127.0.0.1:{port}/big.jsonl", schema_sample_rows=5)
        result = read_all(source, config)
    finally:
        listener.close()
    assert result.exit_code == 1
    [error] = result.errors()
    assert error["failure_type"] == "transient_error"
    assert error["message"].startswith(f"http://127.0.0.1:{port}/big.jsonl: cannot read")
    assert len(result.records()) == 1000


@pytest.mark.parametrize(
    ("value", "bound", "expected"),
    [
        ("2024-01-02T00:00:00Z", "2024-01-01T23:59:59Z", True),
        ("2024-01-01T23:00:00+00:00", "2024-01-02T00:30:00+02:00", True),  # 23:00Z >= 22:30Z
        ("2024-01-01T22:00:00+00:00", "2024-01-02T00:30:00+02:00", False),
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00Z", True),  # naive is UTC
        ("2024-01-01T10:00:00.5Z", "2024-01-01T10:00:00.25Z", True),
        ("2024-03-01", "2024-02-29", True),
        (10, 9.5, True),
        (2, "10", True),  # different types: compared as text ("2" >= "10")
    ],
)
def test_cursor_comparison(value: Any, bound: Any, expected: bool) -> None:
    from source_file.source import at_or_after

    assert at_or_after(value, bound) is expected


def test_gzipped_parquet_and_file_urls(source: Runner, tmp_path: Path) -> None:
    write_parquet(tmp_path / "t.parquet", rows=40, row_group_size=15)
    (tmp_path / "t.parquet.gz").write_bytes(gzip.compress((tmp_path / "t.parquet").read_bytes()))
    (tmp_path / "plain.csv").write_text("a\n1\n")
    config = {
        "streams": [
            {"name": "gz", "path_or_url": str(tmp_path / "t.parquet.gz")},
            {"name": "url", "path_or_url": f"file://{tmp_path / 'plain.csv'}"},
        ]
    }
    result = read_all(source, config, "gz", "url")
    assert [r["id"] for r in result.records("gz")] == list(range(1, 41))
    assert result.records("url") == [{"a": 1}]
    raw = one_stream(path_or_url=str(tmp_path / "t.parquet.gz"), format="jsonl", compression="none")
    failed = read_all(source, raw)
    assert failed.exit_code == 1 and "line 1: not valid JSON" in failed.errors()[0]["message"]
