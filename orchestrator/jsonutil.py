"""JSON for the orchestrator: the protocol's orjson module when present, orjson otherwise."""

from __future__ import annotations

from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """Parse JSON text (bytes or str)."""
    return orjson.loads(data)


def dumps(obj: Any) -> bytes:
    """Serialize to compact JSON bytes."""
    return orjson.dumps(obj)


def dumps_pretty(obj: Any) -> str:
    """Serialize for humans: indented, keys in their original order."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()


def dump_line(obj: Any) -> bytes:
    """One protocol line: compact JSON plus a newline."""
    return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)


def canonical(obj: Any) -> bytes:
    """Key-sorted JSON, to compare two objects regardless of key order."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


JSONDecodeError = orjson.JSONDecodeError
