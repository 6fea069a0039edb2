"""Unit tests of scripts/build_images.py: metadata validation, wheel compatibility, the wheel's sources."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from ducto import __version__

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_images.py"


def load_script():
    spec = importlib.util.spec_from_file_location("build_images", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_images"] = module
    spec.loader.exec_module(module)
    return module


bi = load_script()
MACHINE = os.uname().machine


def write_metadata(tmp_path: Path, text: str) -> Path:
    (tmp_path / "metadata.yaml").write_text(text)
    return tmp_path


def test_metadata_gives_repository_and_tag(tmp_path: Path) -> None:
    directory = write_metadata(
        tmp_path, 'data:\n  dockerRepository: ducto/source-faker\n  dockerImageTag: "0.1.0"\n  connectorType: source\n'
    )
    assert bi.load_metadata(directory) == ("ducto/source-faker", "0.1.0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "data:\n  dockerRepository: Ducto/Upper\n  dockerImageTag: dev\n",
            "data.dockerRepository must be an image name",
        ),
        ("data:\n  dockerRepository: ducto/x\n  dockerImageTag: 2\n", "dockerImageTag must be a quoted tag string"),
        ("data:\n  dockerRepository: ducto/x\n  dockerImageTag: 'a b'\n", "dockerImageTag must be a quoted tag string"),
        ("data: [1]\n", "expected a top-level 'data:' mapping"),
        ("data:\n  dockerRepository: 'x\n", "not valid YAML at line"),
    ],
)
def test_bad_metadata_names_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    directory = write_metadata(tmp_path, text)
    with pytest.raises(bi.BuildError) as error:
        bi.load_metadata(directory)
    assert str(error.value).startswith(f"{directory}/metadata.yaml: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("orjson-3.13.0-cp311-cp311-manylinux_2_17_{m}.manylinux2014_{m}.whl", True),
        ("jsonschema-4.26.0-py3-none-any.whl", True),
        ("tzdata-2026.6-py2.py3-none-any.whl", True),
        ("cryptography-44.0.0-cp39-abi3-manylinux_2_34_{m}.whl", True),
        ("somepkg-1.0-cp311-cp311-manylinux_2_39_{m}.whl", False),  # needs a newer glibc than bookworm's
        ("somepkg-1.0-cp312-cp312-manylinux_2_17_{m}.whl", False),  # another Python
        ("somepkg-1.0-cp311-cp311-musllinux_1_2_{m}.whl", False),
        ("somepkg-1.0-cp311-cp311-macosx_11_0_arm64.whl", False),
        ("somepkg-1.0-cp311-cp311-linux_{m}.whl", True),  # built on this host from an sdist
        ("not-a-wheel.whl", False),
    ],
)
def test_wheel_compatibility_with_the_image(name: str, ok: bool) -> None:
    assert bi.wheel_tags_ok(name.format(m=MACHINE)) is ok


def test_base_requirements_are_runtime_deps_plus_lowcode_without_ducto_itself() -> None:
    requirements = bi.base_requirements()
    names = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requirements}
    assert {"orjson", "jsonschema", "pyyaml", "jinja2", "requests"} <= names
    assert not any(r.startswith("ducto") for r in requirements)


def test_image_version_is_ductos_version() -> None:
    assert bi.ducto_version() == __version__
    assert bi.base_target().extra_tags == (__version__,)


def test_wheel_sources_follow_the_namespace_symlinks(tmp_path: Path) -> None:
    files = {str(p.relative_to(tmp_path)) for p in bi.stage_ducto_sources(tmp_path)}
    assert "pyproject.toml" in files
    assert "ducto/__init__.py" in files
    assert "protocol/sdk/selfcheck.py" in files  # reached through the ducto/protocol symlink
    assert (tmp_path / "ducto" / "protocol").is_symlink()
    assert not any("__pycache__" in f or f.startswith(("tests/", "connectors/")) for f in files)


def test_connector_selection(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM ducto/base:dev\n")
    assert bi.resolve_connectors([str(tmp_path)]) == [tmp_path.resolve()]
    with pytest.raises(bi.BuildError, match="no connector 'nope-basetest'"):
        bi.resolve_connectors(["nope-basetest"])
