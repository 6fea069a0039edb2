"""From a stream's JSON Schema to the typed columns of its final table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from destination_duckdb.naming import unique_names

Kind = Literal["scalar", "string", "object", "array", "json"]
"""How a value is read: `scalar` is cast (a failed cast is NULLed and reported), `string` always
fits (non-strings become their JSON text), `object`/`array` must have that JSON type, `json` takes
anything."""

RAW_ID = "_airbyte_raw_id"
EXTRACTED_AT = "_airbyte_extracted_at"
META = "_airbyte_meta"
GENERATION_ID = "_airbyte_generation_id"
DATA = "_airbyte_data"
"""Schemaless streams (no `properties`) keep each record whole in this JSON column."""
CDC_DELETED_AT = "_ab_cdc_deleted_at"

META_COLUMNS: tuple[tuple[str, str], ...] = (
    (RAW_ID, "UUID"),
    (EXTRACTED_AT, "TIMESTAMPTZ"),
    (META, "JSON"),
    (GENERATION_ID, "BIGINT"),
)

_AIRBYTE_TYPES = {
    "integer": "BIGINT",
    "big_integer": "HUGEINT",
    "number": "DOUBLE",
    "big_number": "DOUBLE",
    "timestamp_with_timezone": "TIMESTAMPTZ",
    "timestamp_without_timezone": "TIMESTAMP",
    "time_with_timezone": "TIMETZ",
    "time_without_timezone": "TIME",
    "date": "DATE",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One data column: the record's property `key` stored as `name` with DuckDB type `sql_type`."""

    key: str
    name: str
    sql_type: str
    kind: Kind


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        declared = [declared]
    if not isinstance(declared, list):
        if "properties" in schema:
            return ["object"]
        if "items" in schema:
            return ["array"]
        return []
    return [t for t in declared if t != "null"]


def column_type(schema: Mapping[str, Any]) -> tuple[str, Kind]:
    """The DuckDB type and read kind for one property's JSON Schema."""
    if not isinstance(schema, Mapping):
        return "JSON", "json"
    airbyte_type = schema.get("airbyte_type")
    if isinstance(airbyte_type, str) and airbyte_type in _AIRBYTE_TYPES:
        return _AIRBYTE_TYPES[airbyte_type], "scalar"
    types = _types(schema)
    if len(types) != 1:
        if "object" in types or "array" in types or not types:
            return "JSON", "json"
        if "string" in types:
            return "VARCHAR", "string"
        if set(types) <= {"integer", "number"}:
            return "DOUBLE", "scalar"
        return "JSON", "json"
    kind = types[0]
    if kind == "integer":
        return "BIGINT", "scalar"
    if kind == "number":
        return "DOUBLE", "scalar"
    if kind == "boolean":
        return "BOOLEAN", "scalar"
    if kind == "object":
        return "JSON", "object"
    if kind == "array":
        return "JSON", "array"
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "TIMESTAMPTZ", "scalar"
        if fmt == "date":
            return "DATE", "scalar"
        if fmt == "time":
            return "TIME", "scalar"
        return "VARCHAR", "string"
    return "JSON", "json"


def columns_for(json_schema: Mapping[str, Any]) -> list[Column]:
    """The data columns of a stream, in schema order (empty for a schemaless stream)."""
    properties = json_schema.get("properties") if isinstance(json_schema, Mapping) else None
    if not isinstance(properties, Mapping) or not properties:
        return []
    keys = list(properties)
    names = unique_names(keys, reserved=[name for name, _ in META_COLUMNS])
    columns = []
    for key, name in zip(keys, names, strict=True):
        sql_type, kind = column_type(properties[key])
        columns.append(Column(key, name, sql_type, kind))
    return columns


def kind_of_existing(sql_type: str, wanted: Column) -> Column:
    """Keep an existing column's type when the schema now asks for another one (values are cast to it)."""
    if sql_type.upper() == wanted.sql_type:
        return wanted
    upper = sql_type.upper()
    kind: Kind = "string" if upper == "VARCHAR" else "json" if upper == "JSON" else "scalar"
    return Column(wanted.key, wanted.name, sql_type, kind)
