"""destination-local in-process: formats, append adds files, overwrite swaps atomically, failures."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from destination_harness import configured, echoed_states, errors, record, state, status, write
from destination_local import DestinationLocal
from destination_local.files import exchange

PROPS = {"id": {"type": "integer"}, "name": {"type": "string"}, "nested": {"type": "object"}}


class SmallBatches(DestinationLocal):
    batch_records = 2


def rows(folder: Path, fmt: str = "jsonl") -> list[dict[str, Any]]:
    """Every record in the committed files of a stream folder, as dicts of their `_airbyte_data`."""
    out = []
    for path in sorted(folder.glob(f"part-*.{fmt}*")):
        if fmt == "jsonl":
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                out += [json.loads(line) for line in f if line.strip()]
        elif fmt == "csv":
            with open(path, newline="", encoding="utf-8") as f:
                out += list(csv.DictReader(f))
        else:
            con = duckdb.connect()
            cursor = con.execute(
                "SELECT * EXCLUDE (_airbyte_extracted_at), _airbyte_extracted_at::VARCHAR AS _airbyte_extracted_at "
                f"FROM read_parquet('{path}')"
            )
            names = [d[0] for d in cursor.description]
            out += [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for r in out:
        for key in ("_airbyte_data", "_airbyte_meta"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_append_adds_files_in_each_format(tmp_path: Path, fmt: str) -> None:
    config = {"destination_path": str(tmp_path / "out"), "format": fmt}
    streams = [configured("Users / EU", PROPS, "append", generation_id=2)]
    data = [{"id": i, "name": f"é{i}", "nested": {"a": [i, "ü"]}} for i in range(3)]
    code, out = write(
        SmallBatches(), tmp_path, config, streams, [*(record("Users / EU", d) for d in data), state("Users / EU", 1)]
    )
    assert code == 0, out
    folder = tmp_path / "out" / "Users_EU"
    first = sorted(p.name for p in folder.iterdir())
    assert len(first) == 2 and not any(name.startswith(".") for name in first)
    code, _ = write(
        SmallBatches(), tmp_path, config, streams, [record("Users / EU", {"id": 9}), state("Users / EU", 2)]
    )
    assert code == 0
    got = rows(folder, fmt)
    assert sorted(r["_airbyte_data"]["id"] for r in got) == [0, 1, 2, 9]
    assert got[0]["_airbyte_data"] == data[0]
    assert got[0]["_airbyte_meta"] == {"sync_id": 7, "changes": []}
    assert str(got[0]["_airbyte_generation_id"]) == "2"
    assert len({r["_airbyte_raw_id"] for r in got}) == 4
    assert str(got[0]["_airbyte_extracted_at"]).startswith("2023-11-14")


def test_gzip_jsonl(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out"), "format": "jsonl", "compression": "gzip"}
    assert write(DestinationLocal(), tmp_path, config, [configured("s", PROPS)], [record("s", {"id": 1})])[0] == 0
    files = list((tmp_path / "out" / "s").iterdir())
    assert [f.name.endswith(".jsonl.gz") for f in files] == [True]
    assert rows(tmp_path / "out" / "s")[0]["_airbyte_data"] == {"id": 1}


def test_overwrite_replaces_all_files_at_the_end(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out")}
    streams = [configured("s", PROPS, "overwrite")]
    assert write(SmallBatches(), tmp_path, config, streams, [record("s", {"id": i}) for i in range(5)])[0] == 0
    folder = tmp_path / "out" / "s"
    assert len(list(folder.iterdir())) == 3
    code, _ = write(SmallBatches(), tmp_path, config, streams, [record("s", {"id": 7}), state("s", 1), status("s")])
    assert code == 0
    assert [r["_airbyte_data"]["id"] for r in rows(folder)] == [7]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s"]  # no staging left behind


def test_failed_overwrite_keeps_old_files_and_failed_append_keeps_no_partial_file(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out")}
    over, app = configured("o", PROPS, "overwrite"), configured("a", PROPS, "append")
    assert (
        write(DestinationLocal(), tmp_path, config, [over, app], [record("o", {"id": 1}), record("a", {"id": 1})])[0]
        == 0
    )
    messages = [record("o", {"id": 2}), record("a", {"id": 2}), state("a", 1), record("a", {"id": 3}), b"{oops\n"]
    code, out = write(SmallBatches(), tmp_path, {**config}, [over, app], messages)
    assert code == 1
    assert echoed_states(out) == [1]
    assert any("line 5" in e for e in errors(out))
    assert [r["_airbyte_data"]["id"] for r in rows(tmp_path / "out" / "o")] == [1]
    # Append: what was committed before the state stays; nothing uncommitted is visible.
    assert sorted(r["_airbyte_data"]["id"] for r in rows(tmp_path / "out" / "a")) == [1, 2]
    assert not [p for p in (tmp_path / "out" / "a").iterdir() if p.name.startswith(".")]
    # The next write cleans the failed write's staging folder.
    assert write(DestinationLocal(), tmp_path, config, [over], [record("o", {"id": 5})])[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "o"]
    assert [r["_airbyte_data"]["id"] for r in rows(tmp_path / "out" / "o")] == [5]


def test_malformed_record_names_its_line(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out")}
    bad = b'{"type":"RECORD","record":{"stream":"s","data":[1,2]}}\n'
    code, out = write(DestinationLocal(), tmp_path, config, [configured("s", PROPS)], [record("s", {"id": 1}), bad])
    assert code == 1
    assert any("line 2" in e and "record.data" in e for e in errors(out)), out


def test_dedup_is_refused_and_bad_config_is_clear(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out")}
    code, out = write(DestinationLocal(), tmp_path, config, [configured("s", PROPS, "append_dedup", pk=["id"])], [])
    assert code == 1 and any("append_dedup" in e for e in errors(out))
    code, out = write(DestinationLocal(), tmp_path, {"destination_path": "../etc"}, [configured("s", PROPS)], [])
    assert code == 1 and any("'..'" in e for e in errors(out))


def test_exchange_swaps_directories(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "y").write_text("b")
    if not exchange(a, b):
        pytest.skip("this file system cannot exchange directories")
    assert [p.name for p in a.iterdir()] == ["y"] and [p.name for p in b.iterdir()] == ["x"]


def test_incomplete_overwrite_stream_keeps_its_files(tmp_path: Path) -> None:
    config = {"destination_path": str(tmp_path / "out")}
    streams = [configured("s", PROPS, "overwrite")]
    assert write(DestinationLocal(), tmp_path, config, streams, [record("s", {"id": 1})])[0] == 0
    code, _ = write(DestinationLocal(), tmp_path, config, streams, [record("s", {"id": 2}), status("s", "INCOMPLETE")])
    assert code == 0
    assert [r["_airbyte_data"]["id"] for r in rows(tmp_path / "out" / "s")] == [1]
