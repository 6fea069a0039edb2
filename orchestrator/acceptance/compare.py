"""Comparing records: hashable forms, ignored fields, cursor ordering."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson


def drop_fields(data: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of a record without the ignored fields (`a/b` names a nested field)."""
    if not paths:
        return data
    out = copy.deepcopy(data)
    for path in paths:
        parts = [p for p in path.split("/") if p]
        node: Any = out
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts:
            node.pop(parts[-1], None)
    return out


def canonical(value: Any) -> str:
    """A stable text form of a JSON value (sorted keys) to compare and hash records."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()


def project(actual: Any, expected: Any) -> Any:
    """`actual` limited to the keys present in `expected` (for `extra_fields: true`)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        return {k: project(actual[k], v) for k, v in expected.items() if k in actual}
    return actual


def _as_datetime(value: str) -> datetime | None:
    text = value.strip()
    if len(text) < 10 or not text[:4].isdigit() or text[4] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cursor_lt(a: Any, b: Any) -> bool:
    """Whether cursor value `a` sorts strictly before `b` (numbers, ISO dates, then text)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a) < str(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a < b
    if isinstance(a, str) and isinstance(b, str):
        da, db = _as_datetime(a), _as_datetime(b)
        if da is not None and db is not None:
            return da < db
        return a < b
    return canonical(a) < canonical(b)


def cursor_max(values: list[Any]) -> Any:
    """The greatest cursor value (None when there is none)."""
    best: Any = None
    for v in values:
        if v is None:
            continue
        if best is None or cursor_lt(best, v):
            best = v
    return best
