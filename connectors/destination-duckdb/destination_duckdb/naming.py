"""Identifier naming as Airbyte's destinations do it: lower-case, ASCII, non-alphanumerics to `_`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NOT_ALNUM = re.compile(r"[^a-z0-9_]")


def normalize(name: str) -> str:
    """`"Ünit Price"` → `"unit_price"`; a leading digit gets a `_` prefix; never empty."""
    # Accents go (NFKD, then the combining marks); any other non-ASCII character becomes `_`.
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    out = _NOT_ALNUM.sub("_", stripped.lower())
    if not out:
        out = "_"
    if out[0].isdigit():
        out = "_" + out
    return out


def unique_names(names: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Normalize each name, suffixing `_1`, `_2`, ... where two collide (or hit a reserved name)."""
    taken = set(reserved)
    result = []
    for name in names:
        base = normalize(name)
        candidate, n = base, 0
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        result.append(candidate)
    return result


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
