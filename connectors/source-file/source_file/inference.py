"""Schema inference from sampled values, to JSON Schema with nullable types.

Text values (CSV cells) are classified by their shape: integer, number, boolean, date, date-time or
string. Parsed values (JSON) by their Python type, strings again by shape (date/date-time only).
Widening when a column mixes kinds: integer+number -> number, date+date-time -> date-time, any
other mix of scalars -> string; a mix of an object or array with anything else -> no type
restriction (any JSON). A column never seen with a value is a nullable string. Every property is
nullable: a sample cannot prove that a column has no nulls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

INTEGER_RE = re.compile(r"[+-]?(0|[1-9][0-9]*)")
NUMBER_RE = re.compile(r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
BOOLEANS = {"true": True, "false": False, "True": True, "False": False, "TRUE": True, "FALSE": False}
MAX_INT64 = (1 << 63) - 1

SCALARS = ("integer", "number", "boolean", "date", "date-time", "string")


def text_kind(value: str) -> str:
    """The kind of a text value: integer, number, boolean, date, date-time or string."""
    if INTEGER_RE.fullmatch(value):
        return "integer" if -MAX_INT64 <= int(value) <= MAX_INT64 else "number"
    if NUMBER_RE.fullmatch(value):
        return "number"
    if value in BOOLEANS:
        return "boolean"
    return string_kind(value)


def string_kind(value: str) -> str:
    """date, date-time or string, by shape (and a valid calendar date)."""
    if len(value) == 10 and DATE_RE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return "string"
        return "date"
    if len(value) >= 16 and DATETIME_RE.fullmatch(value):
        try:
            datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return "string"
        return "date-time"
    return "string"


@dataclass(slots=True)
class Shape:
    """What was seen for one value position: its kinds, and the shapes of nested properties/items."""

    kinds: set[str] = field(default_factory=set)
    properties: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def observe_text(self, value: str | None) -> None:
        """Record a CSV cell (None when it is one of the null values)."""
        self.kinds.add("null" if value is None else text_kind(value))

    def observe(self, value: Any) -> None:
        """Record a parsed JSON value."""
        if value is None:
            self.kinds.add("null")
        elif isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
        elif isinstance(value, float):
            self.kinds.add("number")
        elif isinstance(value, str):
            self.kinds.add(string_kind(value))
        elif isinstance(value, dict):
            self.kinds.add("object")
            for key, item in value.items():
                self.property(key).observe(item)
        elif isinstance(value, list):
            self.kinds.add("array")
            if self.items is None:
                self.items = Shape()
            for item in value:
                self.items.observe(item)
        else:  # datetimes, Decimals... from other readers
            self.kinds.add("string")

    def property(self, name: str) -> Shape:
        """The shape of a nested property (created on first use)."""
        shape = self.properties.get(name)
        if shape is None:
            shape = self.properties[name] = Shape()
        return shape

    def to_schema(self, nullable: bool = True) -> dict[str, Any]:
        """This shape as JSON Schema."""
        kinds = self.kinds - {"null"}
        if not kinds:
            return {"type": ["null", "string"]} if nullable else {"type": "string"}
        structural = kinds & {"object", "array"}
        if structural and len(kinds) > 1:
            return {}  # any JSON value
        if kinds == {"object"}:
            schema: dict[str, Any] = {
                "type": ["null", "object"] if nullable else "object",
                "properties": {k: v.to_schema() for k, v in self.properties.items()},
            }
            return schema
        if kinds == {"array"}:
            schema = {"type": ["null", "array"] if nullable else "array"}
            if self.items is not None and self.items.kinds - {"null"}:
                schema["items"] = self.items.to_schema()
            return schema
        return scalar_schema(widen(kinds), nullable)


def widen(kinds: set[str]) -> str:
    """The one kind that holds every kind seen."""
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds <= {"date", "date-time"}:
        return "date-time"
    return "string"


def scalar_schema(kind: str, nullable: bool = True) -> dict[str, Any]:
    """JSON Schema of a scalar kind."""
    if kind in ("date", "date-time"):
        schema: dict[str, Any] = {"type": ["null", "string"] if nullable else "string", "format": kind}
        return schema
    return {"type": ["null", kind] if nullable else kind}


def record_schema(columns: dict[str, Shape]) -> dict[str, Any]:
    """A stream's JSON Schema from the shapes of its top-level columns (in first-seen order)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": {name: shape.to_schema() for name, shape in columns.items()},
    }


def schema_kind(schema: dict[str, Any]) -> str:
    """The kind a CSV column converts to, from its property schema (string when unsure)."""
    types = schema.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    names = [t for t in names if t != "null"]
    if len(names) != 1:
        return "string"
    if names[0] == "string":
        return schema.get("format", "string") if schema.get("format") in ("date", "date-time") else "string"
    return str(names[0])
