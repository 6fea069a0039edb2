"""`spec` group: one SPEC, a valid JSON Schema, secrets marked, image conventions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import yaml

from ducto.orchestrator.acceptance.config import TestEntry, load_json_file
from ducto.orchestrator.acceptance.framework import Context, TestCase, fail, skip, summarize
from ducto.orchestrator.acceptance.inputs import actual_spec, connector_config, describe_failure, looks_secret, spec_run
from ducto.orchestrator.acceptance.runner import DockerError

SECRET_TYPES = frozenset(("string", "integer", "number"))


def iter_properties(schema: Any, path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every property definition of a JSON Schema: (path, name, definition), through oneOf/anyOf/items."""
    if not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict):
        for name, definition in props.items():
            if isinstance(definition, dict):
                yield f"{path}.{name}" if path else str(name), str(name), definition
                yield from iter_properties(definition, f"{path}.{name}" if path else str(name))
    for keyword in ("oneOf", "anyOf", "allOf"):
        variants = schema.get(keyword)
        if isinstance(variants, list):
            for i, variant in enumerate(variants):
                yield from iter_properties(variant, f"{path}.{keyword}[{i}]" if path else f"{keyword}[{i}]")
    items = schema.get("items")
    if isinstance(items, dict):
        yield from iter_properties(items, f"{path}[]")


def _can_hold_secret(definition: dict[str, Any]) -> bool:
    kind = definition.get("type")
    types = set(kind) if isinstance(kind, list) else {kind}
    return bool(types & SECRET_TYPES) and "const" not in definition


def test_spec_message(ctx: Context) -> None:
    """`spec` exits 0 and emits exactly one SPEC."""
    result = spec_run(ctx)
    actual_spec(ctx)
    if result.exit_code != 0:
        fail(f"`spec` emitted a SPEC but {describe_failure(result)}")


def test_spec_is_valid_json_schema(ctx: Context) -> None:
    """`connectionSpecification` is a valid JSON Schema describing an object."""
    spec = actual_spec(ctx)
    schema = spec.get("connectionSpecification")
    if not isinstance(schema, dict):
        fail("SPEC has no `connectionSpecification` object")
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        fail(f"connectionSpecification is not a valid JSON Schema at {where}: {exc.message}")
    if schema.get("type") != "object":
        fail(f"connectionSpecification must have `type: object`, got {schema.get('type')!r}")
    problems = []
    for path, _, definition in iter_properties(schema):
        enum = definition.get("enum")
        if isinstance(enum, list) and len({repr(v) for v in enum}) != len(enum):
            problems.append(f"{path}: enum has duplicate values {enum}")
    if problems:
        fail("connectionSpecification problems:" + summarize(problems))


def test_secrets_are_marked(ctx: Context) -> None:
    """Properties named like secrets (password, token, api_key...) are marked `airbyte_secret: true`."""
    schema = actual_spec(ctx).get("connectionSpecification") or {}
    exposed, hidden = [], []
    for path, name, definition in iter_properties(schema):
        secret_name = looks_secret(name)
        marked = definition.get("airbyte_secret") is True
        if secret_name and _can_hold_secret(definition) and not marked:
            exposed.append(path)
        elif marked and not _can_hold_secret(definition):
            hidden.append(f"{path} (type {definition.get('type')!r} cannot hold a secret)")
    if exposed:
        fail("these properties look like secrets but are not marked `airbyte_secret: true`:" + summarize(exposed))
    if hidden:
        fail("these properties are marked `airbyte_secret` but cannot hold a secret:" + summarize(hidden))


def test_spec_matches_expected(ctx: Context, entry: TestEntry) -> None:
    """The SPEC equals the file named by `spec_path`."""
    if entry.spec_path is None:
        skip("no spec_path in the config")
    expected = load_json_file(entry.spec_path, "spec_path")
    actual = actual_spec(ctx)
    expected_schema = expected.get("connectionSpecification") if isinstance(expected, dict) else None
    if expected_schema is None:
        fail(f"spec_path {entry.spec_path} has no connectionSpecification")
    if actual.get("connectionSpecification") != expected_schema:
        fail(f"the SPEC's connectionSpecification differs from {entry.spec_path}")
    for key in ("documentationUrl", "supported_destination_sync_modes", "supportsIncremental"):
        if key in expected and expected[key] != actual.get(key):
            fail(f"SPEC {key} is {actual.get(key)!r}, {entry.spec_path} says {expected[key]!r}")


def test_config_matches_spec(ctx: Context, entry: TestEntry) -> None:
    """The test config validates against the connector's own spec."""
    if entry.config_path is None:
        skip("no config_path for the spec tests")
    if not entry.config_path.is_file():
        skip(f"config {entry.config_path} does not exist")
    config = {k: v for k, v in connector_config(ctx, entry.config_path).items() if not k.startswith("_")}
    schema = actual_spec(ctx).get("connectionSpecification") or {}
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError:
        fail("cannot validate the config: the connectionSpecification is not a valid JSON Schema")
    errors = sorted(cls(schema).iter_errors(config), key=lambda e: [str(p) for p in e.path])
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}" for e in errors]
        fail(f"config {entry.config_path} does not match the spec (values hidden):" + summarize(lines))


def _image(ctx: Context) -> Any:
    try:
        info = ctx.connector.image()
    except DockerError as exc:
        fail(str(exc))
    if info is None:
        skip("the connector is not a Docker image")
    return info


def test_image_entrypoint(ctx: Context) -> None:
    """The image's ENTRYPOINT is set and `AIRBYTE_ENTRYPOINT` equals it (space-joined)."""
    info = _image(ctx)
    if not info.entrypoint:
        fail("the image has no ENTRYPOINT; `docker run IMAGE spec` must run the connector")
    env = info.env.get("AIRBYTE_ENTRYPOINT")
    if not env:
        fail(f"the image does not set ENV AIRBYTE_ENTRYPOINT (ENTRYPOINT is {info.entrypoint})")
    if env.split() != " ".join(info.entrypoint).split():
        fail(f"AIRBYTE_ENTRYPOINT={env!r} differs from ENTRYPOINT {info.entrypoint}")


def test_image_labels(ctx: Context) -> None:
    """Labels io.airbyte.name / io.airbyte.version exist and match metadata.yaml beside the config."""
    info = _image(ctx)
    name, version = info.labels.get("io.airbyte.name"), info.labels.get("io.airbyte.version")
    missing = [k for k, v in (("io.airbyte.name", name), ("io.airbyte.version", version)) if not v]
    if missing:
        fail(f"the image lacks the label(s) {', '.join(missing)}")
    meta_path = ctx.config.metadata_path
    if meta_path is None:
        return
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        fail(f"cannot read {meta_path}: {exc}")
    data = meta.get("data") if isinstance(meta, dict) else None
    if not isinstance(data, dict):
        fail(f"{meta_path} has no `data` mapping")
    problems = []
    if data.get("dockerRepository") and data["dockerRepository"] != name:
        problems.append(f"io.airbyte.name={name!r} but metadata.yaml dockerRepository={data['dockerRepository']!r}")
    if data.get("dockerImageTag") and str(data["dockerImageTag"]) != version:
        problems.append(f"io.airbyte.version={version!r} but metadata.yaml dockerImageTag={data['dockerImageTag']!r}")
    if problems:
        fail(f"image labels disagree with {meta_path}:" + summarize(problems))


def cases(ctx: Context, entry: TestEntry, label: str | None) -> list[TestCase]:
    """The spec tests of one entry."""
    t = entry.timeout

    def case(name: str, func: Any, doc: str) -> TestCase:
        return TestCase("spec", name, func, t, entry, label=label, description=doc)

    return [
        case("test_spec_message", test_spec_message, "one SPEC, exit 0"),
        case("test_spec_is_valid_json_schema", test_spec_is_valid_json_schema, "valid JSON Schema"),
        case("test_secrets_are_marked", test_secrets_are_marked, "secret-looking fields marked"),
        case("test_spec_matches_expected", lambda c: test_spec_matches_expected(c, entry), "equals spec_path"),
        case("test_config_matches_spec", lambda c: test_config_matches_spec(c, entry), "config valid"),
        case("test_image_entrypoint", test_image_entrypoint, "ENTRYPOINT == AIRBYTE_ENTRYPOINT"),
        case("test_image_labels", test_image_labels, "io.airbyte labels, metadata.yaml"),
    ]
