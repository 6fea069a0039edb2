"""The destination images, run as users run them: `docker run -i -v folder:/local IMAGE write ...`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from destination_harness import configured, encode, record, state, status
from docker_harness import docker_write

pytestmark = pytest.mark.docker

PROPS = {
    "id": {"type": "integer"},
    "updated_at": {"type": "string", "format": "date-time"},
    "name": {"type": "string"},
    "address": {"type": "object"},
}


def run_image(image: str, *args: str) -> list[dict]:
    proc = subprocess.run(["docker", "run", "--rm", image, *args], capture_output=True, timeout=120, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["destination-duckdb", "destination-local", "destination-dev-null"])
def test_spec_and_image_conventions(destination_image: Callable[[str], str], name: str) -> None:
    image = destination_image(name)
    spec = run_image(image, "spec")[-1]
    assert spec["type"] == "SPEC" and spec["spec"]["supported_destination_sync_modes"]
    info = json.loads(subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True).stdout)[0]
    cfg = info["Config"]
    assert cfg["Labels"]["io.airbyte.name"] == f"ducto/{name}"
    assert f"AIRBYTE_ENTRYPOINT={' '.join(cfg['Entrypoint'])}" in cfg["Env"]
    assert cfg["User"] not in ("", "root", "0")


def test_duckdb_image_all_modes(destination_image: Callable[[str], str], tmp_path: Path) -> None:
    image = destination_image("destination-duckdb")
    config = {"path": "/local/warehouse.duckdb", "commit_interval_seconds": 0}
    streams = [
        configured("appended", PROPS, "append"),
        configured("deduped", PROPS, "append_dedup", pk=["id"], cursor=["updated_at"]),
        configured("replaced", PROPS, "overwrite"),
    ]
    t = "2024-05-0{}T00:00:00Z"
    first = [
        record("appended", {"id": 1, "name": "a"}),
        record("deduped", {"id": 1, "updated_at": t.format(2), "name": "new"}),
        record("deduped", {"id": 1, "updated_at": t.format(1), "name": "late"}),
        record("deduped", {"id": 2, "updated_at": "not a date", "name": "bad"}),
        record("replaced", {"id": 1, "name": "old", "address": {"city": "Zürich"}}),
        state("deduped", 1),
    ]
    code, out, err = docker_write(image, tmp_path, config, streams, encode(first))
    assert code == 0, (out, err)
    assert [m["state"]["destinationStats"]["recordCount"] for m in out if m["type"] == "STATE"] == [3]  # per stream
    second = [
        record("appended", {"id": 2, "name": "b"}),
        record("deduped", {"id": 1, "updated_at": t.format(3), "name": "newest"}),
        record("replaced", {"id": 2, "name": "fresh"}),
        status("replaced"),
        state("deduped", 2),
    ]
    code, out, err = docker_write(image, tmp_path, config, streams, encode(second))
    assert code == 0, (out, err)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT id, name FROM appended ORDER BY id").fetchall() == [(1, "a"), (2, "b")]
        assert con.execute("SELECT id, name FROM deduped ORDER BY id").fetchall() == [(1, "newest"), (2, "bad")]
        meta = con.execute("SELECT _airbyte_meta FROM deduped WHERE id = 2").fetchone()[0]
        assert json.loads(meta)["changes"] == [
            {"field": "updated_at", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}
        ]
        assert con.execute("SELECT id, name FROM replaced").fetchall() == [(2, "fresh")]
    finally:
        con.close()


def test_duckdb_image_bad_input_is_one_clear_error(destination_image: Callable[[str], str], tmp_path: Path) -> None:
    image = destination_image("destination-duckdb")
    config = {"path": "/local/w.duckdb", "commit_interval_seconds": 0}
    stdin = encode([record("s", {"id": 1}), state("s", 1), b"{not json\n"])
    code, out, err = docker_write(image, tmp_path, config, [configured("s", PROPS)], stdin)
    assert code == 1
    assert [m["type"] for m in out] == ["STATE", "TRACE"]
    assert "line 3" in out[-1]["trace"]["error"]["message"]
    assert "Traceback" not in err


def test_local_image_writes_parquet(destination_image: Callable[[str], str], tmp_path: Path) -> None:
    image = destination_image("destination-local")
    config = {"destination_path": "lake", "format": "parquet"}
    messages = [record("users", {"id": i, "name": f"n{i}"}) for i in range(100)] + [state("users", 1)]
    code, out, err = docker_write(image, tmp_path, config, [configured("users", PROPS, "overwrite")], encode(messages))
    assert code == 0, (out, err)
    files = list((tmp_path / "lake" / "users").glob("part-*.parquet"))
    assert len(files) == 1
    count = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{files[0]}')").fetchone()
    assert count == (100,)


def test_dev_null_image_echoes_states(destination_image: Callable[[str], str], tmp_path: Path) -> None:
    image = destination_image("destination-dev-null")
    messages = [record("s", {"id": i}) for i in range(1000)] + [state("s", 1)]
    code, out, err = docker_write(image, tmp_path, {}, [configured("s", PROPS)], encode(messages))
    assert code == 0, err
    assert [m["state"]["destinationStats"]["recordCount"] for m in out if m["type"] == "STATE"] == [1000]
