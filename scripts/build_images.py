"""Build Ducto's Docker images from nothing (run it through `scripts/build-images`).

Steps, each skipped when its result already exists:
1. the root file system image `ducto/debian-python:bookworm` (Debian bookworm + python3 made with
   mmdebstrap, then `docker import`; mmdebstrap is installed with apt-get when missing);
2. host-built wheels under `.wheelhouse/base/` (the build context of Dockerfile.base): ducto's runtime
   dependencies and `lowcode` extra (rebuilt only when that list changes) and the ducto wheel
   (rebuilt only when a source file changes);
3. the base image `ducto/base:dev` and `ducto/base:<version>`;
4. connector images: each `connectors/<name>/` with a Dockerfile (or only the named ones, which may
   also be paths to directories that follow the same convention). Wheels for a connector's
   `requirements.txt` are built on the host into `<dir>/.wheels/` (always created, maybe empty);
   the image is tagged `data.dockerRepository:data.dockerImageTag` from its `metadata.yaml`, which
   also gives the `io.airbyte.name` / `io.airbyte.version` labels.

Nothing is pulled from a registry and `docker build` needs no network. A rebuild with nothing
changed is docker layer-cache hits only. Each built image is checked against the Airbyte image
conventions (ENTRYPOINT equal to AIRBYTE_ENTRYPOINT, the two labels, a non-root user).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".wheelhouse"
BASE_CONTEXT = WHEELHOUSE / "base"
STAMPS = WHEELHOUSE / "stamps"
LOGS = WHEELHOUSE / "logs"
CONNECTORS = ROOT / "connectors"
DOCKERFILE_BASE = ROOT / "Dockerfile.base"

ROOTFS_IMAGE = "ducto/debian-python:bookworm"
ROOTFS_SUITE = "bookworm"
ROOTFS_PACKAGES = "python3,python3-venv,ca-certificates"
ROOTFS_PYTHON_LABEL = "org.ducto.python"
IMAGE_PYTHON = (3, 11)
IMAGE_GLIBC = (2, 36)  # Debian bookworm
BASE_REPOSITORY = "ducto/base"
BASE_TAG = "dev"
BASE_EXTRAS = ("lowcode",)

# Files beside pyproject.toml that belong to the ducto wheel (the `ducto/` package and the folders
# its symlinks point to are added by `stage_ducto_sources`).
WHEEL_FILES = ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "setup.py", "MANIFEST.in")

REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
LOG_TAIL_LINES = 40


class BuildError(Exception):
    """A failure the user can act on; printed as one line, never as a traceback."""


def say(message: str) -> None:
    """Progress goes to stderr so stdout stays free for machine-readable output."""
    print(f"build-images: {message}", file=sys.stderr, flush=True)


# --- running commands -----------------------------------------------------------------------


def run(cmd: Sequence[str], *, what: str, log: Path | None = None, verbose: bool = False, **kw: Any) -> str:
    """Run a command; return its stdout. On failure raise BuildError with the output's tail."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    try:
        proc = subprocess.Popen(
            list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", **kw
        )
    except FileNotFoundError:
        raise BuildError(f"{what}: command not found: {cmd[0]}") from None
    assert proc.stdout is not None
    lines: list[str] = []
    with open(log, "w") if log else open(os.devnull, "w") as log_file:
        for line in proc.stdout:
            lines.append(line)
            log_file.write(line)
            if verbose:
                sys.stderr.write(line)
    if proc.wait() != 0:
        tail = "".join(lines[-LOG_TAIL_LINES:])
        if not verbose:
            sys.stderr.write(tail)
        where = f" (full log: {log})" if log else ""
        raise BuildError(f"{what} failed with exit code {proc.returncode}{where}")
    return "".join(lines)


def docker_inspect(ref: str) -> dict[str, Any] | None:
    """The image's inspect document, or None when the image does not exist."""
    proc = subprocess.run(
        ["docker", "image", "inspect", ref], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        return None
    docs: list[dict[str, Any]] = json.loads(proc.stdout)
    return docs[0] if docs else None


def ensure_docker() -> None:
    """Fail with one clear line when the Docker engine is not reachable."""
    if shutil.which("docker") is None:
        raise BuildError("docker is not installed (the images are built with the docker CLI)")
    proc = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise BuildError(f"cannot reach the Docker engine: {detail}")


# --- 1. root file system --------------------------------------------------------------------


def ensure_mmdebstrap() -> None:
    """Install mmdebstrap from Debian's packages when it is missing."""
    if shutil.which("mmdebstrap"):
        return
    if shutil.which("apt-get") is None:
        raise BuildError("mmdebstrap is missing and there is no apt-get to install it; install mmdebstrap")
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise BuildError("mmdebstrap is missing; install it as root: apt-get install -y mmdebstrap")
        sudo = ["sudo", "-n"]
    say("installing mmdebstrap with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    LOGS.mkdir(parents=True, exist_ok=True)
    run([*sudo, "apt-get", "update"], what="apt-get update", log=LOGS / "apt-get-update.log", env=env)
    run(
        [*sudo, "apt-get", "install", "-y", "--no-install-recommends", "mmdebstrap"],
        what="apt-get install mmdebstrap",
        log=LOGS / "apt-get-install.log",
        env=env,
    )


def ensure_rootfs() -> None:
    """Import the Debian + python3 root file system image unless it exists."""
    info = docker_inspect(ROOTFS_IMAGE)
    if info is None:
        ensure_mmdebstrap()
        say(f"making {ROOTFS_IMAGE} with mmdebstrap (about 30 s, once)")
        started = time.monotonic()
        LOGS.mkdir(parents=True, exist_ok=True)
        log_path = LOGS / "rootfs.log"
        python_label = f"LABEL {ROOTFS_PYTHON_LABEL}={IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]}"
        with open(log_path, "w") as log:
            debootstrap = subprocess.Popen(
                ["mmdebstrap", "--variant=minbase", f"--include={ROOTFS_PACKAGES}", ROOTFS_SUITE, "-"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
            importer = subprocess.Popen(
                ["docker", "import", "--change", python_label, "-", ROOTFS_IMAGE],
                stdin=debootstrap.stdout,
                stdout=log,
                stderr=log,
            )
            assert debootstrap.stdout is not None
            debootstrap.stdout.close()
            import_code, strap_code = importer.wait(), debootstrap.wait()
        if strap_code != 0 or import_code != 0:
            sys.stderr.write("".join(log_path.read_text(errors="replace").splitlines(True)[-LOG_TAIL_LINES:]))
            raise BuildError(
                f"making {ROOTFS_IMAGE} failed (mmdebstrap exit {strap_code}, docker import exit {import_code};"
                f" full log: {log_path})"
            )
        say(f"imported {ROOTFS_IMAGE} in {time.monotonic() - started:.1f} s")
        info = docker_inspect(ROOTFS_IMAGE)
        assert info is not None
    check_rootfs_python(info)


def check_rootfs_python(info: dict[str, Any]) -> None:
    """The wheels are built for IMAGE_PYTHON; make sure the root file system has that Python."""
    wanted = f"{IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]}"
    labels = (info.get("Config") or {}).get("Labels") or {}
    found = labels.get(ROOTFS_PYTHON_LABEL)
    if found is None:  # imported by hand: ask the interpreter itself
        found = run(
            [
                "docker",
                "run",
                "--rm",
                "--entrypoint",
                "python3",
                ROOTFS_IMAGE,
                "-c",
                "import sys; print(*sys.version_info[:2], sep='.')",
            ],
            what=f"probing python3 in {ROOTFS_IMAGE}",
        ).strip()
    if found != wanted:
        raise BuildError(f"{ROOTFS_IMAGE} has Python {found}, expected {wanted}; remove it: docker rmi {ROOTFS_IMAGE}")


# --- 2. wheels ------------------------------------------------------------------------------


def ducto_version() -> str:
    """`__version__` from ducto/__init__.py (the image's version tag)."""
    text = (ROOT / "ducto" / "__init__.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if not match:
        raise BuildError("ducto/__init__.py: no __version__ = '...' line")
    return match.group(1)


def base_requirements() -> list[str]:
    """ducto's runtime dependencies plus its BASE_EXTRAS, from pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    requirements = list(project.get("dependencies", []))
    extras = project.get("optional-dependencies", {})
    for extra in BASE_EXTRAS:
        if extra not in extras:
            raise BuildError(f"pyproject.toml: the base image needs the extra [{extra}], which is not defined")
        requirements += [r for r in extras[extra] if not r.startswith("ducto")]
    return requirements


def digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def stamp_matches(stamp: Path, value: str) -> bool:
    return stamp.is_file() and stamp.read_text().strip() == value


def wheel_tags_ok(name: str) -> bool:
    """Whether a wheel file can be installed on the image (CPython 3.11, glibc 2.36, x86_64/any)."""
    parts = name[: -len(".whl")].split("-")
    if len(parts) < 5:
        return False
    python_tags, abi_tags, platform_tags = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    cp = f"cp{IMAGE_PYTHON[0]}{IMAGE_PYTHON[1]}"
    python_ok = any(t in (cp, "py3", f"py{IMAGE_PYTHON[0]}{IMAGE_PYTHON[1]}") or t == "cp3" for t in python_tags) or (
        "abi3" in abi_tags and any(t.startswith("cp3") and int(t[3:] or 0) <= IMAGE_PYTHON[1] for t in python_tags)
    )
    abi_ok = any(t in ("none", "abi3", cp) for t in abi_tags)
    return python_ok and abi_ok and any(platform_ok(t) for t in platform_tags)


def platform_ok(tag: str) -> bool:
    machine = os.uname().machine
    if tag == "any":
        return True
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    for prefix, glibc in legacy.items():
        if tag == f"{prefix}_{machine}":
            return glibc <= IMAGE_GLIBC
    match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{re.escape(machine)}", tag)
    if match:
        return (int(match.group(1)), int(match.group(2))) <= IMAGE_GLIBC
    return tag == f"linux_{machine}"  # built here from an sdist, against this host's glibc


def check_wheels(folder: Path, owner: str) -> None:
    bad = sorted(p.name for p in folder.glob("*.whl") if not wheel_tags_ok(p.name))
    if bad:
        raise BuildError(
            f"{owner}: wheels that cannot install on the image (CPython {IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]},"
            f" glibc {IMAGE_GLIBC[0]}.{IMAGE_GLIBC[1]}): {', '.join(bad)}; remove them and pin versions that ship"
            " compatible wheels"
        )


def pip_wheel(requirements: Path, dest: Path, *, what: str, verbose: bool, find_links: Sequence[Path] = ()) -> None:
    """Collect wheels for a requirements file into `dest`: offline from `dest` first, else from PyPI."""
    links = [arg for folder in (dest, *find_links) for arg in ("--find-links", str(folder))]
    base = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--wheel-dir", str(dest), *links]
    cwd = requirements.parent  # relative paths in a requirements file are relative to it
    offline = subprocess.run(
        [*base, "--no-index", "--quiet", "-r", str(requirements)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=cwd,
    )
    if offline.returncode == 0:
        return
    say(f"{what}: fetching and building wheels on the host")
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"wheels-{re.sub(r'[^A-Za-z0-9_.-]+', '_', what)}.log"
    run([*base, "-r", str(requirements)], what=f"{what}: pip wheel", log=log, verbose=verbose, cwd=cwd)


def build_base_dependency_wheels(verbose: bool) -> None:
    """Wheels for ducto's runtime dependencies + extras, rebuilt only when that list changes."""
    deps = BASE_CONTEXT / "deps"
    deps.mkdir(parents=True, exist_ok=True)
    requirements = "".join(f"{r}\n" for r in base_requirements())
    requirements_file = deps / "requirements.txt"
    if not requirements_file.is_file() or requirements_file.read_text() != requirements:
        requirements_file.write_text(requirements)
    stamp = STAMPS / "base-deps"
    value = digest([requirements.encode(), repr(IMAGE_PYTHON).encode()])
    if stamp_matches(stamp, value) and any(deps.glob("*.whl")):
        return
    pip_wheel(requirements_file, deps, what="base dependencies", verbose=verbose)
    check_wheels(deps, "base dependencies")
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.write_text(value)


def stage_ducto_sources(stage: Path) -> list[Path]:
    """Copy what the ducto wheel is built from into `stage`; return the copied files."""
    for name in WHEEL_FILES:
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, stage / name)
    folders = {Path("ducto")}
    for entry in (ROOT / "ducto").iterdir():  # ducto/protocol -> ../protocol and friends
        if entry.is_symlink():
            target = entry.resolve()
            if not target.is_relative_to(ROOT):
                raise BuildError(f"{entry.relative_to(ROOT)} points outside the repository: {target}")
            folders.add(target.relative_to(ROOT))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".mypy_cache")
    for folder in sorted(folders):
        shutil.copytree(ROOT / folder, stage / folder, symlinks=True, ignore=ignore)
    return sorted(p for p in stage.rglob("*") if p.is_file() and not p.is_symlink())


def build_ducto_wheel(verbose: bool) -> None:
    """The ducto wheel, rebuilt only when one of its source files changed."""
    out = BASE_CONTEXT / "ducto"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ducto-wheel-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        files = stage_ducto_sources(stage)
        links = sorted(p for p in stage.rglob("*") if p.is_symlink())
        value = digest(
            [str(p.relative_to(stage)).encode() + b"\0" + p.read_bytes() for p in files]
            + [str(p.relative_to(stage)).encode() + b"\0->" + str(p.readlink()).encode() for p in links]
        )
        stamp = STAMPS / "ducto-wheel"
        if stamp_matches(stamp, value) and any(out.glob("ducto-*.whl")):
            return
        say("building the ducto wheel")
        LOGS.mkdir(parents=True, exist_ok=True)
        built = Path(tmp) / "wheel"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--disable-pip-version-check",
                "--wheel-dir",
                str(built),
                str(stage),
            ],
            what="building the ducto wheel",
            log=LOGS / "ducto-wheel.log",
            verbose=verbose,
            # Same sources, same bytes: a reverted edit hits the docker layer cache again.
            env={**os.environ, "SOURCE_DATE_EPOCH": "315532800"},
        )
        wheels = list(built.glob("ducto-*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"building the ducto wheel produced {len(wheels)} wheels, expected one")
        for old in out.glob("*.whl"):
            old.unlink()
        shutil.move(str(wheels[0]), out / wheels[0].name)
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.write_text(value)


# --- 3. and 4. images -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageTarget:
    """One image to build: where its Dockerfile is and what it is called."""

    name: str
    dockerfile: Path
    context: Path
    repository: str
    tag: str
    extra_tags: tuple[str, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def version(self) -> str:
        """The `io.airbyte.version` label the image must carry (the base image: ducto's version)."""
        return self.extra_tags[0] if self.extra_tags else self.tag

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


def build_image(target: ImageTarget, verbose: bool) -> tuple[str, float, bool]:
    """docker build one target; return (image id, seconds, whether the id changed)."""
    before = docker_inspect(target.ref)
    cmd = ["docker", "build", "-f", str(target.dockerfile), "-t", target.ref]
    for tag in target.extra_tags:
        cmd += ["-t", f"{target.repository}:{tag}"]
    for key, value in target.build_args:
        cmd += ["--build-arg", f"{key}={value}"]
    for key, value in target.labels:
        cmd += ["--label", f"{key}={value}"]
    cmd.append(str(target.context))
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"image-{target.repository.replace('/', '_')}-{target.tag}.log"
    started = time.monotonic()
    run(cmd, what=f"docker build of {target.ref} ({target.dockerfile})", log=log, verbose=verbose)
    seconds = time.monotonic() - started
    after = docker_inspect(target.ref)
    if after is None:
        raise BuildError(f"docker build of {target.ref} succeeded but the image is missing")
    check_conventions(target, after)
    changed = before is None or before.get("Id") != after.get("Id")
    return str(after["Id"]), seconds, changed


def check_conventions(target: ImageTarget, info: dict[str, Any]) -> None:
    """Airbyte image conventions: ENTRYPOINT == AIRBYTE_ENTRYPOINT, labels, a non-root user."""
    config = info.get("Config") or {}
    entrypoint = config.get("Entrypoint") or []
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    labels = config.get("Labels") or {}
    where = f"{target.ref} ({target.dockerfile})"
    if not entrypoint:
        raise BuildError(f"{where}: no ENTRYPOINT; set it to the command that runs the connector")
    if env.get("AIRBYTE_ENTRYPOINT") != " ".join(entrypoint):
        raise BuildError(
            f"{where}: ENV AIRBYTE_ENTRYPOINT={env.get('AIRBYTE_ENTRYPOINT')!r} must equal the ENTRYPOINT"
            f" {' '.join(entrypoint)!r}"
        )
    expected = {
        "io.airbyte.name": target.repository,
        "io.airbyte.version": target.version,
    }
    for key, value in expected.items():
        if labels.get(key) != value:
            raise BuildError(f"{where}: label {key}={labels.get(key)!r}, expected {value!r}")
    if (config.get("User") or "root").split(":")[0] in ("root", "0"):
        raise BuildError(f"{where}: runs as root; connectors run as the base image's user (USER 1000:1000)")


def base_target() -> ImageTarget:
    version = ducto_version()
    return ImageTarget(
        name="base",
        dockerfile=DOCKERFILE_BASE,
        context=BASE_CONTEXT,
        repository=BASE_REPOSITORY,
        tag=BASE_TAG,
        extra_tags=(version,) if version != BASE_TAG else (),
        build_args=(("DUCTO_VERSION", version), ("ROOTFS_IMAGE", ROOTFS_IMAGE)),
    )


def load_metadata(directory: Path) -> tuple[str, str]:
    """(dockerRepository, dockerImageTag) from `<directory>/metadata.yaml`, validated."""
    path = directory / "metadata.yaml"
    if not path.is_file():
        raise BuildError(f"{path}: missing; every connector has a metadata.yaml beside its Dockerfile")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BuildError(f"{path}: not valid YAML{at}: {problem}") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise BuildError(f"{path}: expected a top-level 'data:' mapping (Airbyte metadata format)")
    repository, tag = data.get("dockerRepository"), data.get("dockerImageTag")
    if not isinstance(repository, str) or not REPOSITORY_RE.match(repository):
        raise BuildError(
            f"{path}: data.dockerRepository must be an image name like 'ducto/source-faker', got {repository!r}"
        )
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise BuildError(f"{path}: data.dockerImageTag must be a quoted tag string like 'dev' or '0.1.0', got {tag!r}")
    return repository, tag


def resolve_connectors(names: Sequence[str]) -> list[Path]:
    """Connector directories: every `connectors/*/` with a Dockerfile, or the named ones."""
    if not names:
        if not CONNECTORS.is_dir():
            return []
        return sorted(d for d in CONNECTORS.iterdir() if (d / "Dockerfile").is_file())
    found: list[Path] = []
    for name in names:
        candidates = [CONNECTORS / name, Path(name)]
        directory = next((c for c in candidates if c.is_dir()), None)
        if directory is None:
            raise BuildError(f"no connector {name!r}: neither connectors/{name}/ nor a directory {name}")
        if not (directory / "Dockerfile").is_file():
            raise BuildError(f"{directory}: no Dockerfile (a connector directory holds Dockerfile and metadata.yaml)")
        found.append(directory.resolve())
    return found


def build_connector_wheels(directory: Path, verbose: bool) -> None:
    """`<directory>/.wheels/` (always created) with wheels for its requirements.txt, if any."""
    wheels = directory / ".wheels"
    wheels.mkdir(exist_ok=True)
    requirements = directory / "requirements.txt"
    if not requirements.is_file():
        return
    stamp = wheels / ".requirements.sha256"
    value = digest([requirements.read_bytes(), repr(IMAGE_PYTHON).encode()])
    if stamp_matches(stamp, value):
        return
    pip_wheel(
        requirements, wheels, what=f"{directory.name} requirements", verbose=verbose, find_links=[BASE_CONTEXT / "deps"]
    )
    check_wheels(wheels, f"{directory}/requirements.txt")
    stamp.write_text(value)


def connector_target(directory: Path) -> ImageTarget:
    repository, tag = load_metadata(directory)
    return ImageTarget(
        name=directory.name,
        dockerfile=directory / "Dockerfile",
        context=directory,
        repository=repository,
        tag=tag,
        labels=(("io.airbyte.name", repository), ("io.airbyte.version", tag)),
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/build-images",
        description="Build the ducto base image and connector images from nothing (no registry needed).",
    )
    parser.add_argument(
        "connectors", nargs="*", metavar="NAME", help="connector names in connectors/ or paths (default: all)"
    )
    parser.add_argument("--base-only", action="store_true", help="build only the base image")
    parser.add_argument("-v", "--verbose", action="store_true", help="stream pip and docker output")
    parser.add_argument("--print-refs", action="store_true", help="print each built image reference on stdout")
    args = parser.parse_args(argv)
    if args.base_only and args.connectors:
        parser.error("--base-only takes no connector names")
    return args


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """One build at a time per checkout (parallel test workers share .wheelhouse/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for another build-images in this checkout")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        ensure_docker()
        directories = [] if args.base_only else resolve_connectors(args.connectors)
        targets = [connector_target(d) for d in directories]  # validate every metadata.yaml up front
        with exclusive_lock(WHEELHOUSE / ".lock"):
            ensure_rootfs()
            build_base_dependency_wheels(args.verbose)
            build_ducto_wheel(args.verbose)
            base = base_target()
            image_id, seconds, changed = build_image(base, args.verbose)
            report(base, image_id, seconds, changed, args.print_refs)
            for directory, target in zip(directories, targets, strict=True):
                build_connector_wheels(directory, args.verbose)
                image_id, seconds, changed = build_image(target, args.verbose)
                report(target, image_id, seconds, changed, args.print_refs)
    except BuildError as exc:
        print(f"build-images: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build-images: interrupted", file=sys.stderr)
        return 130
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0


def report(target: ImageTarget, image_id: str, seconds: float, changed: bool, print_refs: bool) -> None:
    tags = ", ".join(f"{target.repository}:{t}" for t in (target.tag, *target.extra_tags))
    state = "built" if changed else "up to date"
    say(f"{tags} {state} ({image_id.removeprefix('sha256:')[:12]}, {seconds:.1f} s)")
    if print_refs:
        print(target.ref, flush=True)


if __name__ == "__main__":
    sys.exit(main())
