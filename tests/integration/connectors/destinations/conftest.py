"""Destination images for Docker tests, built through scripts/build-images (the `build_image` fixture)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[3]
for path in (HERE, REPO_ROOT / "tests" / "unit" / "connectors" / "destinations"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def destination_image(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """name in connectors/ -> built image reference (via the shared `build_image` fixture when present)."""
    try:
        build: Callable[[str], str] = request.getfixturevalue("build_image")
    except pytest.FixtureLookupError:
        script = REPO_ROOT / "scripts" / "build-images"
        if not script.exists():
            pytest.fail("scripts/build-images is missing: the Docker tests need it to build the images")

        def build(name: str) -> str:
            proc = subprocess.run([str(script), "--print-refs", name], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                pytest.fail(f"scripts/build-images {name} failed:\n{proc.stderr[-4000:]}")
            return proc.stdout.split()[-1]

    return build
