"""Secret masking for everything the orchestrator writes: logs, errors, history."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "****"
_SECRET_KEY = re.compile(
    r"(pass(word|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)", re.I
)
_MIN_SECRET_LEN = 4


class Masker:
    """Replaces known secret values with `****`; thread-safe; secrets can be added at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Remember more secret values (short ones are ignored: they would mask ordinary words)."""
        fresh = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET_LEN} - self._secrets
        if not fresh:
            return
        with self._lock:
            self._secrets |= fresh
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def mask(self, text: str) -> str:
        """`text` with every known secret replaced."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def __contains__(self, value: str) -> bool:
        return value in self._secrets


def secrets_in_config(config: Any, spec: dict[str, Any] | None = None) -> set[str]:
    """String values that are secret: marked `airbyte_secret` in the spec, or under a secret-looking key."""
    found: set[str] = set()
    secret_paths = _spec_secret_keys(spec.get("connectionSpecification") if spec else None)

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            for child_key, value in node.items():
                walk(value, str(child_key))
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and key is not None and (key in secret_paths or _SECRET_KEY.search(key)):
            found.add(node)

    walk(config, None)
    return found


def _spec_secret_keys(schema: Any) -> set[str]:
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                for name, prop in properties.items():
                    if isinstance(prop, dict) and prop.get("airbyte_secret"):
                        keys.add(str(name))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return keys
