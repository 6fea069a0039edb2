"""JSON Schema → DuckDB columns, and Airbyte-style identifier naming."""

from __future__ import annotations

import pytest
from destination_duckdb.columns import column_type, columns_for
from destination_duckdb.naming import normalize, unique_names


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer"}, ("BIGINT", "scalar")),
        ({"type": ["null", "number"]}, ("DOUBLE", "scalar")),
        ({"type": "boolean"}, ("BOOLEAN", "scalar")),
        ({"type": "string"}, ("VARCHAR", "string")),
        ({"type": "string", "format": "date-time"}, ("TIMESTAMPTZ", "scalar")),
        (
            {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
            ("TIMESTAMP", "scalar"),
        ),
        ({"type": "string", "format": "date"}, ("DATE", "scalar")),
        ({"type": "string", "format": "time"}, ("TIME", "scalar")),
        ({"type": "number", "airbyte_type": "integer"}, ("BIGINT", "scalar")),
        ({"type": "object", "properties": {}}, ("JSON", "object")),
        ({"properties": {"a": {}}}, ("JSON", "object")),
        ({"type": "array", "items": {}}, ("JSON", "array")),
        ({"type": ["string", "integer"]}, ("VARCHAR", "string")),
        ({"type": ["integer", "number"]}, ("DOUBLE", "scalar")),
        ({"type": ["object", "string"]}, ("JSON", "json")),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, ("JSON", "json")),
        ({}, ("JSON", "json")),
    ],
)
def test_column_types(schema: dict, expected: tuple[str, str]) -> None:
    assert column_type(schema) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Users", "users"),
        ("Ünit Price", "unit_price"),
        ("2024 sales", "_2024_sales"),
        ("a-b.c", "a_b_c"),
        ("名前", "__"),
        ("", "_"),
    ],
)
def test_normalize(name: str, expected: str) -> None:
    assert normalize(name) == expected


def test_unique_names_suffix_collisions_and_reserved() -> None:
    assert unique_names(["Name", "name", "NAME", "_airbyte_meta"], reserved=["_airbyte_meta"]) == [
        "name", "name_1", "name_2", "_airbyte_meta_1",
    ]  # fmt: skip


def test_columns_keep_schema_order_and_schemaless_has_none() -> None:
    cols = columns_for({"properties": {"b": {"type": "integer"}, "a": {"type": "string"}}})
    assert [(c.key, c.name, c.sql_type) for c in cols] == [("b", "b", "BIGINT"), ("a", "a", "VARCHAR")]
    assert columns_for({"type": "object"}) == []
