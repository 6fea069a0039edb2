"""Connector specs as data files, and config validation against them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ducto.protocol import json
from ducto.protocol.errors import ConfigError
from ducto.protocol.messages import Spec
from ducto.protocol.models import from_dict


def load_data_file(path: Path) -> Any:
    """Read a YAML or JSON data file shipped with a connector (spec, schemas)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)


def load_spec_file(path: Path) -> Spec:
    """Read a SPEC payload from a YAML or JSON file (`connectionSpecification` required)."""
    return from_dict(Spec, load_data_file(path), path.name)


def load_json_file(path: str | Path, what: str) -> Any:
    """Read a JSON document given on the command line; a problem is a config error naming the file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc.args[0]}") from None


def _location(error: jsonschema.ValidationError) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"config{parts}"


def validate_config(config: Any, spec: Spec) -> None:
    """Check a config against the spec's JSON Schema; raises ConfigError listing every problem."""
    if not isinstance(config, Mapping):
        raise ConfigError("config must be a JSON object")
    schema = spec.connection_specification
    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator = validator_cls(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        problems = "; ".join(f"{_location(e)}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ConfigError(f"invalid config: {problems}{more}")
