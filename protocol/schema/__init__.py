"""The Airbyte Protocol JSON Schema, shipped as a data file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).with_name("airbyte_protocol.yaml")


@cache
def protocol_schema() -> dict[str, Any]:
    """The message schema (AirbyteMessage at the root, every other definition under `$defs`)."""
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        schema: dict[str, Any] = yaml.safe_load(f)
    return schema


def validate_message(message: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `message` is not a valid Airbyte message envelope."""
    import jsonschema

    jsonschema.Draft202012Validator(protocol_schema()).validate(message)
