"""`ducto sync` with the docker runner: FIFOs, secrets out of `docker inspect`, cleanup, kills."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .conftest import CONNECTORS, committed_ids, run_ducto, start_ducto

pytestmark = pytest.mark.docker

SOURCE_IMAGE = "ducto-orch-test/fake-source:dev"
DESTINATION_IMAGE = "ducto-orch-test/fake-destination:dev"
STREAMS = {"users": 2000, "orders": 700}


def _docker() -> object:
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        pytest.skip(f"no Docker engine: {exc}")
    return client


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    client = _docker()
    if not client.images.list(name="ducto/base:dev"):
        pytest.fail("ducto/base:dev is missing: build it with scripts/build-images")
    for image, script in ((SOURCE_IMAGE, "fake_source.py"), (DESTINATION_IMAGE, "fake_destination.py")):
        with tempfile.TemporaryDirectory(prefix="ducto-orch-test-") as context:
            shutil.copy(CONNECTORS / script, Path(context) / script)
            (Path(context) / "Dockerfile").write_text(
                f'FROM ducto/base:dev\nCOPY {script} /app/{script}\nENTRYPOINT ["python", "/app/{script}"]\n'
            )
            subprocess.run(["docker", "build", "-q", "-t", image, context], check=True, capture_output=True)
    yield client
    subprocess.run(["docker", "rmi", "-f", SOURCE_IMAGE, DESTINATION_IMAGE], check=False, capture_output=True)


def _connection(workdir: Path, source_extra: dict | None = None, dest_extra: dict | None = None, **extra) -> Path:
    document = {
        "source": {"image": SOURCE_IMAGE, "config": {"streams": STREAMS, "state_every": 100, **(source_extra or {})}},
        "destination": {"image": DESTINATION_IMAGE, "config": {"path": "/local/dest.db", **(dest_extra or {})}},
        **extra,
    }
    path = workdir / "conn.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _our_containers(client: object, pid: int | None = None) -> list:
    """Containers started by the ducto process `pid` (sparse listing: immune to concurrent removal)."""
    listing = client.containers.list(all=True, filters={"label": "io.ducto.managed"}, sparse=True)  # type: ignore[attr-defined]
    return [c for c in listing if pid is None or (c.attrs.get("Labels") or {}).get("io.ducto.pid") == str(pid)]


def _dest_db(workdir: Path) -> Path:
    return workdir / ".ducto" / "local" / "dest.db"


def test_docker_sync_moves_every_record_and_resumes(client: object, tmp_path: Path) -> None:
    conn = _connection(tmp_path)
    result = run_ducto("sync", str(conn), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "2,700 records" in result.stdout
    assert committed_ids(_dest_db(tmp_path)) == {name: set(range(1, n + 1)) for name, n in STREAMS.items()}
    again = run_ducto("sync", str(conn), cwd=tmp_path)
    assert again.code == 0 and "0 records" in again.stdout


def test_secrets_are_not_visible_in_docker_inspect_and_ctrl_c_removes_containers(
    client: object, tmp_path: Path
) -> None:
    secret = "inspect-me-if-you-can-42"
    conn = _connection(tmp_path, {"api_key": "${env:ORCH_TEST_KEY}", "sleep": 0.01, "log_env": "FAKE_PLAIN"})
    document = yaml.safe_load(conn.read_text())
    document["source"]["env"] = {"FAKE_PLAIN": "hello from env", "FAKE_SECRET": "${env:ORCH_TEST_KEY}"}
    conn.write_text(yaml.safe_dump(document, sort_keys=False))
    proc = start_ducto("sync", str(conn), cwd=tmp_path, env={"ORCH_TEST_KEY": secret})
    try:
        deadline = time.monotonic() + 60
        containers: list = []
        while time.monotonic() < deadline and len(containers) < 2:
            time.sleep(0.3)
            containers = [
                c
                for c in _our_containers(client, proc.pid)
                if c.attrs.get("State") == "running" and c.attrs["Labels"]["io.ducto.command"] in ("read", "write")
            ]
        if len(containers) < 2:
            proc.kill()
            pytest.fail(f"source and destination containers should be running; ducto said: {proc.communicate()}")
        for container in containers:
            container.reload()
            attrs = container.attrs
            assert secret not in json.dumps(attrs)
            assert attrs["Config"]["User"] == "1000:1000"
            assert attrs["HostConfig"]["Memory"] == 2 * 1024**3
            assert "--config" in attrs["Args"] and "/ducto/config/config.json" in attrs["Args"]
            config_dir = next(m["Source"] for m in attrs["Mounts"] if m["Destination"] == "/ducto/config")
            stat = os.stat(Path(config_dir) / "config.json")
            assert stat.st_uid == 1000 and stat.st_mode & 0o077 == 0  # readable only by the connector's user
        while time.monotonic() < deadline and not committed_ids(_dest_db(tmp_path)).get("users"):
            time.sleep(0.2)  # let data flow before interrupting
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1 and "cancelled" in stderr
    assert _our_containers(client, proc.pid) == []
    logs = run_ducto("logs", "1", "--connection", str(conn), cwd=tmp_path)
    assert secret not in logs.stdout
    assert "env hello from env" in logs.stdout  # env: reaches the connector without appearing in inspect


def test_killed_destination_container_fails_the_run_and_rerun_delivers_everything(
    client: object, tmp_path: Path
) -> None:
    conn = _connection(tmp_path, {"sleep": 0.002})
    proc = start_ducto("sync", str(conn), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not committed_ids(_dest_db(tmp_path)).get("users"):
        time.sleep(0.2)
    [destination] = [c for c in _our_containers(client, proc.pid) if c.attrs["Labels"]["io.ducto.command"] == "write"]
    destination.kill()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "destination failed: was killed (exit 137" in stderr
    assert _our_containers(client, proc.pid) == []
    result = run_ducto("sync", str(_connection(tmp_path)), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert committed_ids(_dest_db(tmp_path)) == {name: set(range(1, n + 1)) for name, n in STREAMS.items()}


def test_containers_of_a_killed_orchestrator_are_removed_by_the_next_run(client: object, tmp_path: Path) -> None:
    conn = _connection(tmp_path, {"sleep": 0.005})
    proc = start_ducto("sync", str(conn), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and committed_ids(_dest_db(tmp_path)).get("users") is None:
        time.sleep(0.2)  # the sync is under way: records are committed
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _our_containers(client, proc.pid), "containers outlive a SIGKILLed orchestrator until the next run"
    result = run_ducto("sync", str(_connection(tmp_path)), cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert _our_containers(client, proc.pid) == []
    runs = [json.loads(line) for line in run_ducto("runs", str(conn), "--json", cwd=tmp_path).stdout.splitlines()]
    assert runs[1]["status"] == "failed" and "orchestrator stopped" in runs[1]["error"]
    assert committed_ids(_dest_db(tmp_path)) == {name: set(range(1, n + 1)) for name, n in STREAMS.items()}


def test_connector_commands_and_a_missing_image(client: object, tmp_path: Path) -> None:
    spec = run_ducto("spec", SOURCE_IMAGE, cwd=tmp_path)
    assert spec.code == 0 and json.loads(spec.stdout)["connectionSpecification"]["required"] == ["streams"]
    (tmp_path / "good.yaml").write_text("streams: {users: 1}\napi_key: fine\n")
    (tmp_path / "bad.yaml").write_text("streams: {users: 1}\napi_key: wrong\n")
    assert run_ducto("check", SOURCE_IMAGE, "--config", "good.yaml", cwd=tmp_path).stdout.strip() == "check succeeded"
    bad = run_ducto("check", SOURCE_IMAGE, "--config", "bad.yaml", cwd=tmp_path)
    assert bad.code == 1 and bad.stderr.strip() == "Error: check failed: bad api_key"
    catalog = json.loads(run_ducto("discover", SOURCE_IMAGE, "--config", "good.yaml", cwd=tmp_path).stdout)
    assert [s["name"] for s in catalog["streams"]] == ["users"]
    missing = run_ducto("spec", "ducto-orch-test/nope:dev", cwd=tmp_path)
    assert missing.code == 2
    assert missing.stderr.strip() == (
        "Error: image ducto-orch-test/nope:dev is not available locally (build it, or docker pull it)"
    )


def test_a_destination_over_its_memory_limit_is_reported_as_such(client: object, tmp_path: Path) -> None:
    conn = _connection(tmp_path, dest_extra={"allocate_mb": 400})
    document = yaml.safe_load(conn.read_text())
    document["destination"]["memory"] = "128m"
    conn.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run_ducto("sync", str(conn), cwd=tmp_path)
    assert result.code == 1
    assert "destination failed: ran out of memory (limit 128m" in result.stderr


def test_a_destination_dying_at_start_fails_fast_instead_of_hanging(client: object, tmp_path: Path) -> None:
    conn = _connection(tmp_path, dest_extra={"exit_on_start": 7}, hang_timeout="2m")
    started = time.monotonic()
    result = run_ducto("sync", str(conn), cwd=tmp_path)
    assert result.code == 1
    assert "destination failed: exited with code 7" in result.stderr
    assert time.monotonic() - started < 60
    logs = run_ducto("logs", "1", "--connection", str(conn), cwd=tmp_path)
    assert "destination INFO  cannot connect to the warehouse" in logs.stdout  # stderr is captured
