"""Build the third-party test image: PyPI's `airbyte-source-faker`, unchanged, FROM ducto/base:dev.

No registry is reachable inside `docker build`, so the wheels are built on the host with
`pip wheel` (cached in .wheelhouse/) and copied into the build context. Run it by hand with
`python tests/integration/acceptance/acceptance_faker_image.py`; the Docker tests call `ensure_faker_image()`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FAKER_VERSION = "7.2.1"
IMAGE = f"ducto-acc/airbyte-source-faker:{FAKER_VERSION}"
BASE_IMAGE = "ducto/base:dev"
HERE = Path(__file__).parent / "airbyte_source_faker"
REPO = Path(__file__).resolve().parents[3]
WHEELS = REPO / ".wheelhouse" / f"airbyte-source-faker-{FAKER_VERSION}"


class ImageBuildError(RuntimeError):
    """The image could not be built (no base image, no wheels, docker failed)."""


def image_exists(image: str) -> bool:
    """Whether a local image with this tag exists."""
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0


def _python311() -> str:
    """A host Python 3.11 (the base image's Python), to build matching wheels."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise ImageBuildError("building the faker wheels needs a host Python 3.11 (the base image's version)")
    return found


def build_wheels() -> Path:
    """`pip wheel airbyte-source-faker==VERSION` into .wheelhouse/ (once)."""
    if any(WHEELS.glob("airbyte_source_faker-*.whl")):
        return WHEELS
    WHEELS.mkdir(parents=True, exist_ok=True)
    cmd = [_python311(), "-m", "pip", "wheel", "--quiet", f"airbyte-source-faker=={FAKER_VERSION}", "-w", str(WHEELS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageBuildError(f"pip wheel failed: {proc.stderr.strip()[-2000:]}")
    return WHEELS


def ensure_faker_image(rebuild: bool = False) -> str:
    """Build the image unless it exists; returns its tag."""
    if image_exists(IMAGE) and not rebuild:
        return IMAGE
    if not image_exists(BASE_IMAGE):
        raise ImageBuildError(f"{BASE_IMAGE} is missing: run scripts/build-images first")
    wheels = build_wheels()
    with tempfile.TemporaryDirectory(prefix="ducto-acc-faker-") as ctx:
        shutil.copy(HERE / "Dockerfile", Path(ctx) / "Dockerfile")
        shutil.copytree(wheels, Path(ctx) / "wheels")
        proc = subprocess.run(
            ["docker", "build", "-q", "--build-arg", f"FAKER_VERSION={FAKER_VERSION}", "-t", IMAGE, ctx],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        raise ImageBuildError(f"docker build failed: {proc.stderr.strip()[-2000:]}")
    return IMAGE


if __name__ == "__main__":
    print(ensure_faker_image(rebuild="--rebuild" in sys.argv))
