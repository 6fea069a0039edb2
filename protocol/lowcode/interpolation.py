"""Sandboxed Jinja interpolation with Airbyte's context, macros and value coercion.

A rendered string is turned back into a Python literal when it parses as one (`"123"` -> 123,
`"[1, 2]"` -> a list), unless the caller restricts the accepted types.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError, meta
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ducto.protocol.lowcode.errors import InterpolationError, ManifestError
from ducto.protocol.lowcode.macros import FILTERS, MACROS

_ENV = SandboxedEnvironment()
_ENV.filters.update(FILTERS)
_ENV.globals.update(MACROS)
_ENV.globals.pop("range", None)  # unbounded loops are a denial of service

# Globals (macros, jinja's own) are put in each render's context directly: rendering with a shared
# context skips jinja's per-render merge of the globals, the slowest part of a small template.
_GLOBALS: dict[str, Any] = dict(_ENV.globals)
_CONCAT = "".join
_ALIASES = ("stream_interval", "stream_partition")  # both are the slice

FALSE_VALUES: tuple[Any, ...] = ("False", "false", "{}", "[]", "()", "", "0", "0.0", False, None)


@lru_cache(maxsize=4096)
def _compile(source: str) -> tuple[Template, frozenset[str]]:
    parsed = _ENV.parse(source)
    names = frozenset(meta.find_undeclared_variables(parsed))
    return _ENV.from_string(parsed), names


_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?[0-9]+[eE][+-]?[0-9]+")
_NOT_LITERAL = object()


def _literal(text: str) -> Any:
    """`ast.literal_eval` with fast paths: plain words and numbers never reach the parser."""
    s = text.strip()
    if not s:
        return _NOT_LITERAL
    first = s[0]
    if first.isalpha() or first == "_":
        return {"True": True, "False": False, "None": None}.get(s, _NOT_LITERAL)
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return float(s)
    if first not in "-+.[({'\"0123456789":
        return _NOT_LITERAL
    return _slow_literal(s)


@lru_cache(maxsize=4096)
def _slow_literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


def coerce(text: str, valid_types: tuple[type, ...] | None = None) -> Any:
    """Airbyte's coercion of a rendered string into a Python literal."""
    value = _literal(text)
    if value is _NOT_LITERAL:
        return text
    if valid_types is None:
        return text if isinstance(value, complex) else value
    if isinstance(value, valid_types) and not (isinstance(value, bool) and bool not in valid_types):
        return value
    return text


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class Interpolated:
    """A manifest value that may be a template; compiled once, rendered with a context."""

    __slots__ = ("_names", "_template", "default", "parameters", "path", "valid_types", "value")

    def __init__(
        self,
        value: Any,
        parameters: Mapping[str, Any] | None = None,
        *,
        path: str = "",
        default: Any = None,
        valid_types: tuple[type, ...] | None = None,
    ) -> None:
        self.value = value
        self.parameters = dict(parameters or {})
        self.path = path
        self.default = default
        self.valid_types = valid_types
        self._template: Template | None = None
        self._names: frozenset[str] = frozenset()
        if is_template(value):
            try:
                self._template, self._names = _compile(value)
            except TemplateSyntaxError as exc:
                raise ManifestError(path, f"invalid template {value!r}: {exc.message}") from None

    @property
    def is_template(self) -> bool:
        return self._template is not None

    def eval(self, config: Mapping[str, Any], **context: Any) -> Any:
        """Render with `config`, `parameters` and the given context, then coerce."""
        if self._template is None:
            if isinstance(self.value, str):
                return coerce(self.value, self.valid_types) if self.value != "" else self._default(config, context)
            return self.value if self.value is not None else self._default(config, context)
        rendered = self._render(self._template, self._names, self.value, config, context)
        if rendered is None or rendered in {"", "None"}:
            return self._default(config, context)
        return coerce(rendered, self.valid_types)

    def _default(self, config: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        if self.default is None:
            return None
        if is_template(self.default):
            template, names = _compile(self.default)
            rendered = self._render(template, names, self.default, config, context)
            return None if rendered is None else coerce(rendered, self.valid_types)
        if isinstance(self.default, str):
            return coerce(self.default, self.valid_types)
        return self.default

    def _where(self) -> str:
        return f"{self.path}: " if self.path else ""

    def _render(
        self,
        template: Template,
        names: frozenset[str],
        source: str,
        config: Mapping[str, Any],
        context: Mapping[str, Any],
    ) -> str | None:
        ctx: dict[str, Any] = {**_GLOBALS, "config": config, "parameters": self.parameters, **context}
        if "stream_slice" in ctx:
            for alias in _ALIASES:
                ctx.setdefault(alias, ctx["stream_slice"])
        missing = [n for n in names if n not in ctx]
        if missing:
            raise InterpolationError(
                f"{self._where()}template {source!r} uses {', '.join(sorted(missing))}, which is not available here"
            )
        try:
            return _CONCAT(template.root_render_func(template.new_context(ctx, shared=True)))
        except UndefinedError:
            return None
        except SecurityError as exc:
            raise InterpolationError(f"{self.path}: template {source!r} is not allowed: {exc}") from None
        except Exception as exc:
            raise InterpolationError(
                f"{self._where()}template {source!r} failed: {type(exc).__name__}: {exc}"
            ) from None


class InterpolatedBoolean:
    """A condition template: false when it renders to a false-like value."""

    def __init__(self, condition: Any, parameters: Mapping[str, Any] | None = None, *, path: str = "") -> None:
        self.condition = condition
        self._interp = Interpolated(condition, parameters, path=path, default="False")

    def eval(self, config: Mapping[str, Any], **context: Any) -> bool:
        if isinstance(self.condition, bool):
            return self.condition
        value = self._interp.eval(config, **context)
        if value is None or (isinstance(value, (dict, list, tuple, set)) and not value):
            return False
        return not (isinstance(value, (str, bool, int, float)) and value in FALSE_VALUES)


class InterpolatedMapping:
    """A mapping whose keys and values may be templates (request parameters, headers)."""

    def __init__(
        self,
        mapping: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        *,
        path: str = "",
        valid_value_types: tuple[type, ...] | None = None,
    ) -> None:
        self._items = [
            (
                Interpolated(k, parameters, path=f"{path}.{k}", valid_types=(str,)),
                Interpolated(v, parameters, path=f"{path}.{k}", valid_types=valid_value_types),
            )
            for k, v in mapping.items()
        ]

    def eval(self, config: Mapping[str, Any], **context: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self._items:
            k = key.eval(config, **context)
            v = value.eval(config, **context)
            if k is None or k == "" or v is None or v == "":
                continue
            out[str(k)] = v
        return out


class InterpolatedNested:
    """A nested structure (JSON body) whose string leaves may be templates."""

    def __init__(self, value: Any, parameters: Mapping[str, Any] | None = None, *, path: str = "") -> None:
        self._value = self._prepare(value, parameters or {}, path)

    def _prepare(self, value: Any, parameters: Mapping[str, Any], path: str) -> Any:
        if isinstance(value, dict):
            return {
                Interpolated(k, parameters, path=path, valid_types=(str,)): self._prepare(v, parameters, f"{path}.{k}")
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._prepare(v, parameters, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str):
            return Interpolated(value, parameters, path=path)
        return value

    def eval(self, config: Mapping[str, Any], **context: Any) -> Any:
        return self._render(self._value, config, context)

    def _render(self, value: Any, config: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        if isinstance(value, dict):
            return {k.eval(config, **context): self._render(v, config, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v, config, context) for v in value]
        if isinstance(value, Interpolated):
            return value.eval(config, **context)
        return value
