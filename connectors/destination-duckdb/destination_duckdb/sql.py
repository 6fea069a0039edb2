"""SQL that loads a batch file of RECORD lines into a stream's table through DuckDB's JSON reader.

Two read plans, same result: `typed` lets `read_json` convert every property straight to its
column type (fast; fails as a whole on a value that does not fit), `lenient` reads every property
as JSON and converts each with `json_transform`, which yields NULL where a value does not fit so
the field can be NULLed and reported in `_airbyte_meta.changes`. Both use DuckDB's same JSON
conversion rules, so a batch loads the same whichever plan succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from destination_duckdb.columns import DATA, EXTRACTED_AT, GENERATION_ID, META, RAW_ID, Column
from destination_duckdb.naming import literal, quote

# DuckDB sizes its read buffers from `maximum_object_size`: the typed plan keeps DuckDB's default
# (16 MB records; large buffers cost page faults on every batch), the lenient plan takes 256 MB ones.
TYPED_MAX_OBJECT_BYTES = 1 << 24
LENIENT_MAX_OBJECT_BYTES = 1 << 28
_PATH = f"<batch-file-{uuid.uuid4().hex}>"  # placeholder: property names cannot collide with it
_CHANGES_TYPE = '[{"field":"VARCHAR","change":"VARCHAR","reason":"VARCHAR"}]'


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """The SELECT producing a batch's rows (for any batch file) and the columns it fills."""

    select: str
    columns: list[str]

    def for_file(self, path: str) -> str:
        """The SELECT reading one batch file."""
        return self.select.replace(_PATH, literal(path))


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typed_read_possible(columns: Sequence[Column]) -> bool:
    """`read_json` matches keys exactly but struct fields must differ ignoring case."""
    lowered = [c.key.lower() for c in columns]
    return len(set(lowered)) == len(lowered)


def load_plan(columns: Sequence[Column], *, typed: bool, sync_id: int | None, generation_id: int | None) -> LoadPlan:
    """Build the SELECT for one stream's batches (schemaless streams keep `data` whole)."""
    if typed:
        fields = ", ".join(
            f"{quote(c.key)} {'JSON' if c.kind in ('object', 'array', 'json') else c.sql_type}" for c in columns
        )
        data_type = f"STRUCT({fields})" if columns else "JSON"
    else:
        data_type = "JSON"
    record_type = f"STRUCT(data {data_type}, emitted_at BIGINT, meta JSON)"
    max_object = TYPED_MAX_OBJECT_BYTES if typed else LENIENT_MAX_OBJECT_BYTES
    reader = (
        f"read_json({_PATH}, format='newline_delimited', auto_detect=false, "
        f"maximum_object_size={max_object}, columns={{'record': {literal(record_type)}}})"
    )

    inner: list[str] = []
    outer: list[str] = []
    errors: list[str] = []
    for i, c in enumerate(columns):
        if typed:
            raw = f"struct_extract(record.data, {literal(c.key)})"
        else:
            extracted = f"json_extract(record.data, {literal(_json_path(c.key))})"
            raw = f"CASE WHEN json_type({extracted}) <> 'NULL' THEN {extracted} END"
        inner.append(f"{raw} AS _v{i}")
        v = f"_v{i}"
        if c.kind in ("object", "array"):
            if typed:  # read_json hands JSON values over minified: the first character tells the type
                fits = f"starts_with({v}::VARCHAR, '{'{' if c.kind == 'object' else '['}')"
            else:
                fits = f"json_type({v}) = '{'OBJECT' if c.kind == 'object' else 'ARRAY'}'"
            outer.append(f"CASE WHEN {fits} THEN {v} END")
            errors.append(f"CASE WHEN {v} IS NOT NULL AND NOT {fits} THEN {literal(c.key)} END")
        elif typed or c.kind == "json":
            outer.append(v)
        else:
            cast = f"json_transform({v}, {literal(literal_json_type(c.sql_type))})"
            outer.append(cast)
            if c.kind == "scalar":
                errors.append(f"CASE WHEN {v} IS NOT NULL AND {cast} IS NULL THEN {literal(c.key)} END")
    if not columns:
        inner.append("record.data AS _v_data")
        outer.append("_v_data")
    # The lenient plan is also the one that meets malformed input: stop on a `data` that is not an object.
    where = (
        ""
        if typed
        else " WHERE CASE WHEN json_type(record.data) NOT IN ('OBJECT', 'NULL') "
        "THEN error('record.data is not an object') ELSE true END"
    )

    sync = "null" if sync_id is None else str(int(sync_id))
    no_changes = literal(f'{{"sync_id":{sync},"changes":[]}}')
    clean = "_m IS NULL"
    if errors:
        clean += "".join(f" AND {e} IS NULL" for e in errors)
    nulled = (
        f"list_transform(list_filter([{', '.join(errors)}], lambda x: x IS NOT NULL), "
        "lambda f: {'field': f, 'change': 'NULLED', 'reason': 'DESTINATION_TYPECAST_ERROR'})"
        if errors
        else "[]"
    )
    # Most rows are clean: their constant meta is cheap; the changes list is only built for the rest.
    meta = (
        f"CASE WHEN {clean} THEN {no_changes}::JSON "
        f"ELSE json_object('sync_id', {sync}, 'changes', to_json(list_concat("
        f"COALESCE(from_json(json_extract(_m, '$.changes'), {literal(_CHANGES_TYPE)}), []), {nulled}))) END"
    )
    generation = "NULL" if generation_id is None else str(int(generation_id))
    select = (
        f"SELECT uuid(), COALESCE(epoch_ms(_t)::TIMESTAMPTZ, now()), {meta}, {generation}::BIGINT"
        + "".join(f", {o}" for o in outer)
        + f" FROM (SELECT {', '.join([*inner, 'record.emitted_at AS _t', 'record.meta AS _m'])}"
        + f" FROM {reader}{where})"
    )
    names = [RAW_ID, EXTRACTED_AT, META, GENERATION_ID, *(c.name for c in columns)]
    if not columns:
        names.append(DATA)
    return LoadPlan(select, names)


def literal_json_type(sql_type: str) -> str:
    """The JSON structure string `json_transform` takes for a scalar type."""
    return '"' + sql_type + '"'
