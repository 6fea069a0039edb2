"""The source-seatgeek and source-declarative images, run with Docker against the local imitation.

The images are built FROM an overlay of ducto/base:dev carrying this tree's `ducto` wheel, so the
test exercises the engine as it is in this checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from .seatgeek_imitation import CLIENT_ID, CLIENT_SECRET, SeatGeekImitation

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "ducto-lowcode-test"


def docker(*args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], capture_output=True, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if shutil.which("docker") is None or docker("image", "inspect", "ducto/base:dev", check=False).returncode != 0:
        pytest.skip("needs Docker and the ducto/base:dev image (scripts/build-images)")
    tag = uuid.uuid4().hex[:8]
    ctx = tmp_path_factory.mktemp("base")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(ctx), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (ctx / "Dockerfile").write_text(
        "FROM ducto/base:dev\nCOPY *.whl /tmp/wheels/\n"
        "RUN pip install --no-index --no-deps --force-reinstall /tmp/wheels/*.whl "
        "&& python -c 'import ducto.protocol.lowcode'\n"
    )
    base = f"{PREFIX}/base:{tag}"
    built = [base]
    try:
        docker("build", "-q", "-t", base, str(ctx))
        names = {}
        for connector in ("source-seatgeek", "source-declarative"):
            image = f"{PREFIX}/{connector}:{tag}"
            docker(
                "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", image, str(ROOT / "connectors" / connector)
            )
            built.append(image)
            names[connector] = image
        yield names
    finally:
        for image in reversed(built):
            docker("rmi", "-f", image, check=False)


def run_image(image: str, args: list[str], tmp: Path, files: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    tmp.chmod(0o755)
    argv = ["run", "--rm", "--network", "host", "-v", f"{tmp}:/data:ro", image, *args]
    for name, value in files.items():
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(value) if not isinstance(value, str) else value)
        path.chmod(0o644)
        argv += [f"--{name}", f"/data/{name}.json"]
    proc = docker(*argv, check=False, timeout=300)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_seatgeek_image(images: dict[str, str], httpserver: HTTPServer, tmp_path: Path) -> None:
    api = SeatGeekImitation(httpserver)
    image = images["source-seatgeek"]
    labels = json.loads(docker("inspect", image, "--format", "{{json .Config.Labels}}").stdout)
    assert labels["io.airbyte.name"] == "ducto/source-seatgeek"
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "url_base": api.url_base,
        "start_date": "2024-01-01T00:00:00",
        "end_date": "2024-01-31T00:00:00",
        "per_page": 3,
    }
    code, msgs = run_image(image, ["spec"], tmp_path, {})
    assert code == 0 and msgs[0]["spec"]["connectionSpecification"]["title"] == "SeatGeek"
    code, msgs = run_image(image, ["check"], tmp_path, {"config": config})
    assert msgs[-1]["connectionStatus"]["status"] == "SUCCEEDED"
    catalog = {
        "streams": [
            {
                "stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "incremental" if n == "events" else "full_refresh",
                "destination_sync_mode": "append",
            }
            for n in ("events", "event_details", "venues")
        ]
    }
    code, msgs = run_image(image, ["read"], tmp_path, {"config": config, "catalog": catalog})
    assert code == 0
    counts: dict[str, int] = {}
    for m in msgs:
        if m["type"] == "RECORD":
            counts[m["record"]["stream"]] = counts.get(m["record"]["stream"], 0) + 1
    assert counts == {"events": 7, "event_details": 7, "venues": 3}
    assert CLIENT_SECRET not in json.dumps([m for m in msgs if m["type"] != "RECORD"])


def test_declarative_image_with_mounted_manifest(
    images: dict[str, str], httpserver: HTTPServer, tmp_path: Path
) -> None:
    api = SeatGeekImitation(httpserver, require_secret=False)
    manifest = yaml.safe_load((ROOT / "connectors/source-seatgeek/source_seatgeek/manifest.yaml").read_text())
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    (tmp_path / "manifest.yaml").chmod(0o644)
    config = {"client_id": CLIENT_ID, "url_base": api.url_base, "__declarative_manifest_path": "/data/manifest.yaml"}
    catalog = {
        "streams": [
            {
                "stream": {"name": "taxonomies", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
        ]
    }
    code, msgs = run_image(images["source-declarative"], ["read"], tmp_path, {"config": config, "catalog": catalog})
    assert code == 0
    assert [m["record"]["data"]["name"] for m in msgs if m["type"] == "RECORD"] == ["sports", "concert"]
    injected = {"client_id": CLIENT_ID, "url_base": api.url_base, "__injected_declarative_manifest": manifest}
    code, msgs = run_image(images["source-declarative"], ["discover"], tmp_path, {"config": injected})
    assert code == 0 and len(msgs[-1]["catalog"]["streams"]) == 5
