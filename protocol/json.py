"""The one JSON module: orjson behind a tiny interface, bytes in and bytes out."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dumps(obj: Any) -> bytes:
    """Serialize to compact JSON bytes (datetimes as ISO 8601, unknown objects as strings)."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def dump_line(obj: Any) -> bytes:
    """Serialize to one JSON line, newline included."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS | orjson.OPT_APPEND_NEWLINE)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text; raises JSONDecodeError (a ValueError) on malformed input."""
    return orjson.loads(data)
