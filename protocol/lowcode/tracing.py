"""Secret masking and the per-slice/per-page trace events used by `ducto manifest test`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "****"
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
    }
)
# Config keys whose values are masked even when the spec does not mark them (word parts, so "author" is not).
_SECRET_KEY = re.compile(
    r"(^|[_\-.])(password|passwd|pass|secret|token|apikey|api[_\-]?key|credentials?|private[_\-]?key|"
    r"access[_\-]?key|auth|authorization)($|[_\-.])",
    re.IGNORECASE,
)

TraceSink = Callable[[dict[str, Any]], None]


def secret_paths(spec: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of properties marked `airbyte_secret: true` in a connection specification."""
    found: list[tuple[str, ...]] = []
    props = spec.get("properties") if isinstance(spec, Mapping) else None
    if isinstance(props, Mapping):
        for key, sub in props.items():
            if not isinstance(sub, Mapping):
                continue
            if sub.get("airbyte_secret"):
                found.append((*prefix, str(key)))
            found.extend(secret_paths(sub, (*prefix, str(key))))
    for combinator in ("oneOf", "anyOf", "allOf"):
        for option in spec.get(combinator, []) if isinstance(spec, Mapping) else []:
            if isinstance(option, Mapping):
                found.extend(secret_paths(option, prefix))
    return found


def config_secrets(config: Mapping[str, Any], spec: Mapping[str, Any] | None) -> list[str]:
    """Secret values in a config: spec-marked ones, plus keys whose names look secret."""
    values: list[str] = []
    for path in secret_paths(spec or {}):
        node: Any = config
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, (str, int, float)) and not isinstance(node, bool):
            values.append(str(node))

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                if isinstance(v, str) and _SECRET_KEY.search(str(k)):
                    values.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)
    return values


class Masker:
    """Replaces known secret values (and their URL-encoded forms) with ****."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        changed = False
        for s in secrets:
            if not s or len(s) < 3:
                continue
            for form in {s, quote(s, safe=""), quote_plus(s)}:
                if form not in self._secrets:
                    self._secrets.add(form)
                    changed = True
        if changed:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (MASK if k.lower() in SENSITIVE_HEADERS else self.value(v)) for k, v in headers.items()}


def trim(text: str, limit: int = 2000) -> str:
    """Shorten a body for display, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
