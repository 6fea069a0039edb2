"""Run a destination image's `write` the way users do."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def docker_write(
    image: str, local: Path, config: dict[str, Any], streams: list[dict[str, Any]], stdin: bytes
) -> tuple[int, list[dict[str, Any]], str]:
    """`docker run -i -v local:/local IMAGE write` with the config and catalog as files in /local."""
    local.chmod(0o777)  # the image runs as uid 1000
    (local / "config.json").write_text(json.dumps(config))
    (local / "catalog.json").write_text(json.dumps({"streams": streams}))
    cmd = ["docker", "run", "--rm", "-i", "-v", f"{local}:/local", image, "write",
           "--config", "/local/config.json", "--catalog", "/local/catalog.json"]  # fmt: skip
    proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300, check=False)
    messages = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, messages, proc.stderr.decode(errors="replace")
