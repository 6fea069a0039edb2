"""Secret masking: every value marked `airbyte_secret` is replaced by `****` in what we print."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASK = "****"


def secret_paths(spec: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (property names) of every `airbyte_secret` field in a connection spec's JSON Schema.

    Looks through `properties`, `oneOf`/`anyOf`/`allOf` branches and array `items`.
    """
    found: list[tuple[str, ...]] = []
    if spec.get("airbyte_secret") is True:
        found.append(prefix)
    for name, sub in (spec.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            found.extend(secret_paths(sub, (*prefix, name)))
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in spec.get(keyword) or ():
            if isinstance(branch, Mapping):
                found.extend(secret_paths(branch, prefix))
    items = spec.get("items")
    if isinstance(items, Mapping):
        found.extend(secret_paths(items, prefix))
    return found


def secret_values(config: Any, spec: Mapping[str, Any]) -> set[str]:
    """The secret strings present in `config` according to `spec`."""
    values: set[str] = set()
    for path in secret_paths(spec):
        _collect(config, path, values)
    return values


def _collect(node: Any, path: tuple[str, ...], out: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, path, out)
        return
    if not path:
        if isinstance(node, str | int | float) and not isinstance(node, bool) and str(node):
            out.add(str(node))
        return
    if isinstance(node, Mapping) and path[0] in node:
        _collect(node[path[0]], path[1:], out)


class SecretMasker:
    """Replaces known secret strings inside text and inside nested JSON-like values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secrets (longest first, so a secret containing another is masked whole)."""
        merged = set(self._secrets) | {s for s in secrets if s}
        self._secrets = sorted(merged, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def mask(self, text: str) -> str:
        """Mask every secret inside `text`."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_value(self, value: Any) -> Any:
        """Mask secrets in every string value of a nested dict/list value."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(v) for v in value]
        return value
