"""`${env:VAR}` and `${file:path}` references in connection files and configs.

A value may be a whole reference (`${env:PG_PASSWORD}`) or contain several inside a string
(`postgres://u:${env:PW}@host`). `${env:VAR:-default}` gives a default; `$${` is a literal `${`.
Every substituted value is remembered as a secret, so it can be masked in logs and history.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ducto.orchestrator.errors import ConnectionFileError

_REFERENCE = re.compile(r"\$(\$?)\{([a-z]+):([^}]*)\}")


class Substituter:
    """Resolves references below a base directory and collects the values it substituted."""

    def __init__(
        self, base_dir: Path, where: str, environ: Mapping[str, str] | None = None, *, strict: bool = True
    ) -> None:
        self.strict = strict  # False: leave unresolvable references as they are (for state/history commands)
        self.base_dir = base_dir
        self.where = where
        self.environ = os.environ if environ is None else environ
        self.secrets: set[str] = set()

    def resolve(self, value: Any, path: str) -> Any:
        """Return `value` with every reference substituted; `path` names it in errors."""
        if isinstance(value, str):
            return self._resolve_string(value, path)
        if isinstance(value, dict):
            return {key: self.resolve(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return value

    def _resolve_string(self, text: str, path: str) -> str:
        if "${" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # `$${...}` escapes the reference
                return match.group(0)[1:]
            kind, ref = match.group(2), match.group(3)
            try:
                value = self._lookup(kind, ref, path)
            except ConnectionFileError:
                if self.strict:
                    raise
                return match.group(0)
            if value:
                self.secrets.add(value)
            return value

        return _REFERENCE.sub(replace, text)

    def _lookup(self, kind: str, ref: str, path: str) -> str:
        if kind == "env":
            name, has_default, default = ref.partition(":-")
            if name in self.environ:
                return self.environ[name]
            if has_default:
                return default
            raise ConnectionFileError(f"{self.where}: {path}: environment variable {name} is not set")
        if kind == "file":
            file_path = Path(ref).expanduser()
            if not file_path.is_absolute():
                file_path = self.base_dir / file_path
            try:
                return file_path.read_text().rstrip("\r\n")
            except OSError as exc:
                raise ConnectionFileError(f"{self.where}: {path}: cannot read {file_path}: {exc.strerror}") from None
        raise ConnectionFileError(
            f"{self.where}: {path}: unknown reference ${{{kind}:...}} (use ${{env:VAR}} or ${{file:path}})"
        )
