"""Integration-test fixtures: Docker images built through `scripts/build-images`.

`build_image("source-faker")` (a name in connectors/, a connector directory, or "base") makes sure the
image exists and is current, and returns its reference. It runs the real build script, so a test
uses exactly what `make test` and users build; docker's layer cache makes a repeat call cost about
a second, and each argument is built once per session. Tests that use it are marked
`@pytest.mark.docker`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_IMAGES = REPO_ROOT / "scripts" / "build-images"
BUILD_TIMEOUT = 900


def run_build_images(*args: str | Path, timeout: float = BUILD_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run `scripts/build-images --print-refs ARGS...`; stdout holds one built image ref per line."""
    return subprocess.run(  # noqa: PLW1510 - callers look at the exit code
        [str(BUILD_IMAGES), "--print-refs", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def build_or_fail(name_or_path: str | Path) -> str:
    """Build one image (the base image for "base") and return its reference; fail the test otherwise."""
    args: tuple[str | Path, ...] = ("--base-only",) if str(name_or_path) == "base" else (name_or_path,)
    proc = run_build_images(*args)
    if proc.returncode != 0:
        pytest.fail(f"scripts/build-images {name_or_path} failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return proc.stdout.split()[-1]


@pytest.fixture(scope="session")
def build_image() -> Callable[[str | Path], str]:
    """A function: name in connectors/, a connector directory, or "base" -> built image reference."""
    built: dict[str, str] = {}

    def build(name_or_path: str | Path) -> str:
        key = str(name_or_path)
        if key not in built:
            built[key] = build_or_fail(name_or_path)
        return built[key]

    return build


@pytest.fixture(scope="session")
def base_image(build_image: Callable[[str | Path], str]) -> str:
    """The base image reference (`ducto/base:dev`), built if needed."""
    return build_image("base")


@pytest.fixture(scope="session")
def build_images_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run_build_images` itself, for tests of the build script (uncached; look at the exit code)."""
    return run_build_images


@pytest.fixture
def remove_images_after() -> Iterator[list[str]]:
    """A list to append image refs to; they are removed when the test ends."""
    refs: list[str] = []
    yield refs
    if refs:
        subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True, check=False)
