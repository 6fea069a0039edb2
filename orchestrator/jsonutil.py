"""JSON for the orchestrator: the protocol's orjson module, plus the two helpers only the host needs."""

from __future__ import annotations

from typing import Any

import orjson

from ducto.protocol.json import dump_line, dumps, loads

__all__ = ["JSONDecodeError", "canonical", "dump_line", "dumps", "dumps_pretty", "loads"]


def dumps_pretty(obj: Any) -> str:
    """Serialize for humans: indented, keys in their original order."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()


def canonical(obj: Any) -> bytes:
    """Key-sorted JSON, to compare two objects regardless of key order."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


JSONDecodeError = orjson.JSONDecodeError
