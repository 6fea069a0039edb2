"""A small codec between dataclass models and wire dicts.

Models declare their fields with Python names; `wire("camelName")` maps a field to another wire
name. Unknown wire keys are kept in `extra` and written back, so nothing a newer protocol version
adds is ever dropped. Decoding checks required fields, primitive types and enum values, and names
the path of whatever is wrong.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from ducto.protocol.errors import ProtocolError

T = TypeVar("T")


def wire(name: str, default: Any = None) -> Any:
    """A dataclass field whose wire (JSON) name differs from its Python name."""
    return dataclasses.field(default=default, metadata={"wire": name})


def extra_field() -> Any:
    """The `extra` field every model carries: unknown wire keys, preserved on a round trip."""
    return dataclasses.field(default_factory=dict, repr=False, compare=False)


_NO_DEFAULT = object()


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    wire_name: str
    hint: Any
    required: bool


_PLAN_CACHE: dict[type, tuple[tuple[_Field, ...], frozenset[str]]] = {}


def _plan(cls: type) -> tuple[tuple[_Field, ...], frozenset[str]]:
    plan = _PLAN_CACHE.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            out.append(_Field(f.name, f.metadata.get("wire", f.name), hints[f.name], required))
        plan = (tuple(out), frozenset(f.wire_name for f in out))
        _PLAN_CACHE[cls] = plan
    return plan


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def _decode(hint: Any, value: Any, path: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        non_null = [o for o in options if o is not type(None)]
        if len(non_null) == 1:
            return _decode(non_null[0], value, path)
        return value
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            expected = ", ".join(repr(a) for a in allowed)
            raise ProtocolError(f"{path}: {value!r} is not one of {expected}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ProtocolError(f"{path}: expected an array, got {_type_name(value)}")
        (item_hint,) = get_args(hint) or (Any,)
        return [_decode(item_hint, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{path}: expected an object, got {_type_name(value)}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_dict(typing.cast(type, hint), value, path)
    if hint is str:
        if not isinstance(value, str):
            raise ProtocolError(f"{path}: expected a string, got {_type_name(value)}")
    elif hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProtocolError(f"{path}: expected an integer, got {_type_name(value)}")
    elif hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ProtocolError(f"{path}: expected a number, got {_type_name(value)}")
    elif hint is bool and not isinstance(value, bool):
        raise ProtocolError(f"{path}: expected a boolean, got {_type_name(value)}")
    return value


def from_dict(cls: type[T], data: Any, path: str = "$") -> T:
    """Decode a wire dict into model `cls`; raises ProtocolError naming the path of a problem."""
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected an object, got {_type_name(data)}")
    fields, known = _plan(cls)
    kwargs: dict[str, Any] = {}
    for f in fields:
        if f.wire_name in data:
            kwargs[f.name] = _decode(f.hint, data[f.wire_name], f"{path}.{f.wire_name}")
        elif f.required:
            raise ProtocolError(f"{path}.{f.wire_name}: required field is missing")
    extra = {k: v for k, v in data.items() if k not in known}
    if extra:
        kwargs["extra"] = extra
    return cls(**kwargs)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def to_dict(obj: Any) -> dict[str, Any]:
    """Encode a model to its wire dict; fields left as None are omitted, `extra` keys kept."""
    fields, _ = _plan(type(obj))
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(obj, f.name)
        if value is not None:
            out[f.wire_name] = _encode(value)
    extra: dict[str, Any] = getattr(obj, "extra", {})
    for key, value in extra.items():
        out.setdefault(key, value)
    return out
