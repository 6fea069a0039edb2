"""The source images as users run them: `docker run --rm -i -v DIR:/local IMAGE read --config ... --catalog ...`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

PREFIX = "ducto-sources-it-"


def docker_run(image: str, folder: Path, *args: str, network: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Run the image with `folder` mounted at /local; returns the exit code and the parsed messages."""
    cmd = ["docker", "run", "--rm", "-i", "--name", f"{PREFIX}{uuid.uuid4().hex[:10]}", "-v", f"{folder}:/local"]
    if network:
        cmd += ["--network", network]
    proc = subprocess.run([*cmd, image, *args], capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL)
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, messages


def records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"]["data"] for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]


def catalog(*streams: tuple[str, str]) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": mode,
                "destination_sync_mode": "append",
            }
            for name, mode in streams
        ]
    }


@pytest.fixture
def local(tmp_path: Path) -> Path:
    """A folder the container's user (uid 1000) can read and write, mounted at /local."""
    folder = tmp_path / "local"
    folder.mkdir()
    os.chmod(folder, 0o777)
    return folder


def write(folder: Path, name: str, doc: Any) -> str:
    (folder / name).write_text(json.dumps(doc))
    return f"/local/{name}"


@pytest.fixture(scope="module")
def faker_image(build_image: Callable[[str], str]) -> str:
    return build_image("source-faker")


@pytest.fixture(scope="module")
def file_image(build_image: Callable[[str], str]) -> str:
    return build_image("source-file")


def test_faker_image_spec_and_incremental_reads(faker_image: str, local: Path) -> None:
    code, messages = docker_run(faker_image, local, "spec")
    assert code == 0 and messages[0]["type"] == "SPEC"
    config = write(local, "config.json", {"count": 2000, "seed": 5, "records_per_slice": 500})
    cat = write(local, "catalog.json", catalog(("users", "incremental"), ("purchases", "incremental")))
    code, first = docker_run(faker_image, local, "read", "--config", config, "--catalog", cat)
    assert code == 0
    assert len(records(first, "users")) == 2000 and len(records(first, "purchases")) == 2000
    states = [m["state"] for m in first if m["type"] == "STATE"]
    assert len(states) == 8  # 4 checkpoints per stream
    saved = {s["stream"]["stream_descriptor"]["name"]: {"type": "STREAM", "stream": s["stream"]} for s in states}
    state = write(local, "state.json", list(saved.values()))
    grown = write(local, "config2.json", {"count": 2100, "seed": 5, "records_per_slice": 500})
    code, second = docker_run(faker_image, local, "read", "--config", grown, "--catalog", cat, "--state", state)
    assert code == 0
    assert [u["id"] for u in records(second, "users")] == list(range(2001, 2101))
    # Same seed, same data, in the image as in-process.
    code, again = docker_run(faker_image, local, "read", "--config", config, "--catalog", cat)
    assert records(again, "users") == records(first, "users")


def test_faker_image_bad_config_is_a_trace_error(faker_image: str, local: Path) -> None:
    config = write(local, "config.json", {"count": "lots"})
    cat = write(local, "catalog.json", catalog(("users", "full_refresh")))
    code, messages = docker_run(faker_image, local, "read", "--config", config, "--catalog", cat)
    assert code == 1
    [trace] = [m["trace"] for m in messages if m["type"] == "TRACE"]
    assert trace["error"]["failure_type"] == "config_error" and "count" in trace["error"]["message"]


def test_file_image_reads_mounted_csv_gzip_jsonl_and_parquet(file_image: str, local: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    (local / "users.csv").write_text("id,name,updated_at\n1,a,2024-01-01\n2,b,2024-01-02\n")
    (local / "events.jsonl.gz").write_bytes(gzip.compress(b'{"id": 1, "nested": {"k": [1, 2]}}\n{"id": 2}\n'))
    pq.write_table(pa.table({"id": list(range(1, 101)), "v": [i * 0.5 for i in range(100)]}), local / "t.parquet")
    config = write(
        local,
        "config.json",
        {
            "streams": [
                {"name": "users", "path_or_url": "/local/users.csv", "cursor_field": "updated_at"},
                {"name": "events", "path_or_url": "/local/*.jsonl.gz"},
                {"name": "numbers", "path_or_url": "/local/t.parquet"},
            ]
        },
    )
    code, discovered = docker_run(file_image, local, "discover", "--config", config)
    assert code == 0
    streams = {s["name"]: s for s in discovered[-1]["catalog"]["streams"]}
    assert streams["users"]["json_schema"]["properties"]["updated_at"]["format"] == "date"
    assert streams["numbers"]["json_schema"]["properties"]["v"] == {"type": ["null", "number"]}
    cat = write(
        local,
        "catalog.json",
        catalog(("users", "incremental"), ("events", "full_refresh"), ("numbers", "full_refresh")),
    )
    code, messages = docker_run(file_image, local, "read", "--config", config, "--catalog", cat)
    assert code == 0
    assert records(messages, "users") == [
        {"id": 1, "name": "a", "updated_at": "2024-01-01"},
        {"id": 2, "name": "b", "updated_at": "2024-01-02"},
    ]
    assert records(messages, "events") == [{"id": 1, "nested": {"k": [1, 2]}}, {"id": 2}]
    assert [r["id"] for r in records(messages, "numbers")] == list(range(1, 101))


def test_file_image_bad_csv_names_file_and_line(file_image: str, local: Path) -> None:
    (local / "bad.csv").write_text("a,b\n1,2\n3\n")
    config = write(local, "config.json", {"streams": [{"name": "bad", "path_or_url": "/local/bad.csv"}]})
    code, messages = docker_run(file_image, local, "check", "--config", config)
    assert code == 0
    status = messages[-1]["connectionStatus"]
    assert status == {"status": "FAILED", "message": "/local/bad.csv line 3: expected 2 fields, got 1"}


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A real HTTP server on the host's loopback (the container reaches it with --network host)."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_file_image_reads_an_http_url(file_image: str, local: Path, http_server: tuple[Path, int]) -> None:
    root, port = http_server
    (root / "data.csv.gz").write_bytes(
        gzip.compress(b"id,amount\n" + b"".join(f"{i},{i}.5\n".encode() for i in range(5000)))
    )
    config = write(
        local, "config.json", {"streams": [{"name": "remote", "path_or_url": f"http://127.0.0.1:{port}/data.csv.gz"}]}
    )
    cat = write(local, "catalog.json", catalog(("remote", "full_refresh")))
    code, messages = docker_run(file_image, local, "read", "--config", config, "--catalog", cat, network="host")
    assert code == 0
    rows = records(messages, "remote")
    assert len(rows) == 5000 and rows[-1] == {"id": 4999, "amount": 4999.5}
