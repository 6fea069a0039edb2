"""`schema_normalization: Default`: cast record values to the types the stream's JSON schema declares.

Like Airbyte's default normalization: a value is converted only when the conversion is lossless
(`"12"` -> 12 for an integer, 12 -> `"12"` for a string); anything else is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def _convert(value: Any, types: list[str]) -> Any:
    if value is None or not types:
        return value
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "object": dict,
        "array": list,
    }
    for t in types:
        expected = kinds.get(t)
        if (
            expected is not None
            and isinstance(value, expected)
            and not (t in {"integer", "number"} and isinstance(value, bool))
        ):
            return value
    for t in types:
        converted = _try(value, t)
        if converted is not _FAIL:
            return converted
    return value


_FAIL = object()


def _try(value: Any, t: str) -> Any:
    if t == "string" and isinstance(value, (int, float, bool)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if t == "integer" and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return _FAIL
    if t == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if t == "number" and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return _FAIL
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if t == "boolean" and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return _FAIL


def normalize(value: Any, schema: dict[str, Any]) -> Any:
    """Return `value` with values cast per `schema` (objects and arrays walked recursively)."""
    value = _convert(value, _types(schema))
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                if key in value and isinstance(sub, dict):
                    value[key] = normalize(value[key], sub)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [normalize(v, items) for v in value]
    return value


def normalizer(schema_getter: Callable[[], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A record normalizer that loads the schema on first use."""
    cache: list[dict[str, Any]] = []

    def apply(record: dict[str, Any]) -> dict[str, Any]:
        if not cache:
            cache.append(schema_getter())
        result: dict[str, Any] = normalize(record, cache[0])
        return result

    return apply
