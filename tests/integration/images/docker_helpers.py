"""Small helpers shared by the image tests: inspect an image, run a container, parse its messages."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airbyte_protocol.models import AirbyteMessage, Type

PAYLOAD_KEYS = {Type.CONNECTION_STATUS: "connectionStatus"}


def inspect(ref: str) -> dict[str, Any]:
    """`docker image inspect` of one image."""
    out = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, text=True, check=True).stdout
    doc: dict[str, Any] = json.loads(out)[0]
    return doc


def docker_run(
    ref: str,
    *args: str,
    entrypoint: str | None = None,
    stdin: bytes = b"",
    mounts: Sequence[tuple[str, str]] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """`docker run --rm -i` with optional read-only bind mounts (host, container)."""
    cmd = ["docker", "run", "--rm", "-i", "--network", "none"]
    for host, container in mounts:
        cmd += ["-v", f"{host}:{container}:ro"]
    if entrypoint is not None:
        cmd += ["--entrypoint", entrypoint]
    return subprocess.run(  # noqa: PLW1510 - callers look at the exit code
        [*cmd, ref, *args], input=stdin, capture_output=True, timeout=timeout
    )


def airbyte_messages(stdout: bytes) -> list[AirbyteMessage]:
    """Parse every stdout line with airbyte-protocol-models (the external oracle); payload must be present."""
    messages = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        msg = AirbyteMessage.parse_raw(line)
        payload_key = PAYLOAD_KEYS.get(msg.type, msg.type.value.lower())
        assert getattr(msg, payload_key) is not None, line
        if msg.type in (Type.RECORD, Type.TRACE):
            assert isinstance(json.loads(line)[payload_key]["emitted_at"], int), line
        messages.append(msg)
    return messages


def input_dir(parent: Path, **documents: Any) -> Path:
    """Write JSON documents (`config=...` -> config.json) into a folder the container user can read."""
    folder = parent / "inputs"
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)  # the container runs as uid 1000; pytest's tmp dirs are private to their owner
    for name, document in documents.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(document))
        path.chmod(0o644)
    return folder
