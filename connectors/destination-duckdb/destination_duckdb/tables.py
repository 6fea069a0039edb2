"""DDL and merges: final tables, overwrite stages, schema evolution, the swap and the dedup merge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb

from destination_duckdb.columns import (
    CDC_DELETED_AT,
    DATA,
    EXTRACTED_AT,
    GENERATION_ID,
    META_COLUMNS,
    Column,
    columns_for,
    kind_of_existing,
)
from destination_duckdb.naming import literal, normalize, quote
from destination_duckdb.sql import LoadPlan, load_plan, typed_read_possible
from ducto.protocol.errors import ConfigError
from ducto.protocol.messages import ConfiguredStream

logger = logging.getLogger("ducto.connector")

STAGE_SUFFIX = "_airbyte_tmp"


@dataclass(slots=True)
class StreamTarget:
    """Where one stream's records go and how they get there."""

    stream: ConfiguredStream
    schema: str
    table: str
    columns: list[Column]
    typed_plan: LoadPlan | None = None
    lenient_plan: LoadPlan | None = None
    loaded: int = 0
    swapped: bool = False
    incomplete: bool = False  # the source reported the stream INCOMPLETE: never swap its stage in
    dedup_keys: list[str] = field(default_factory=list)
    cursor: str | None = None
    has_cdc: bool = False

    @property
    def truncates(self) -> bool:
        """Overwrite (or a truncate refresh): batches go to a stage swapped in at the end."""
        s = self.stream
        refresh = s.generation_id is not None and s.minimum_generation_id == s.generation_id and s.generation_id > 0
        return s.destination_sync_mode == "overwrite" or refresh

    @property
    def dedups(self) -> bool:
        """append_dedup: one row per primary key."""
        return self.stream.destination_sync_mode == "append_dedup"

    @property
    def final(self) -> str:
        """The final table, qualified and quoted."""
        return f"{quote(self.schema)}.{quote(self.table)}"

    @property
    def stage(self) -> str:
        """The overwrite stage table, qualified and quoted."""
        return f"{quote(self.schema)}.{quote(self.table + STAGE_SUFFIX)}"

    @property
    def write_table(self) -> str:
        """The table batches are loaded into."""
        return self.stage if self.truncates else self.final


def plan_targets(streams: list[ConfiguredStream], default_schema: str) -> list[StreamTarget]:
    """One target per configured stream; two streams may not land in the same table."""
    targets: list[StreamTarget] = []
    seen: dict[tuple[str, str], str] = {}
    for s in streams:
        schema = normalize(s.stream.namespace) if s.stream.namespace else default_schema
        table = normalize(s.stream.name)
        if (schema, table) in seen:
            raise ConfigError(
                f"streams '{seen[(schema, table)]}' and '{s.stream.name}' both map to table {schema}.{table}"
            )
        seen[(schema, table)] = s.stream.name
        targets.append(StreamTarget(s, schema, table, columns_for(s.stream.json_schema)))
    return targets


def _existing_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str] | None:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows} if rows else None


def _ensure_table(con: duckdb.DuckDBPyConnection, target: StreamTarget, qualified: str, table: str) -> None:
    """Create the table, or add the schema's new columns to it; adopt existing column types."""
    wanted = [*META_COLUMNS, *((c.name, c.sql_type) for c in target.columns)]
    if not target.columns:
        wanted.append((DATA, "JSON"))
    existing = _existing_columns(con, target.schema, table)
    if existing is None:
        con.execute(f"CREATE TABLE {qualified} ({', '.join(f'{quote(n)} {t}' for n, t in wanted)})")
        return
    for name, sql_type in wanted:
        if name not in existing:
            logger.info("table %s: adding column %s %s", qualified, name, sql_type)
            con.execute(f"ALTER TABLE {qualified} ADD COLUMN {quote(name)} {sql_type}")
    adopted = []
    for c in target.columns:
        if c.name in existing and existing[c.name].upper() != c.sql_type:
            logger.warning(
                "table %s: column %s stays %s (the schema now says %s); values are cast to %s",
                qualified, c.name, existing[c.name], c.sql_type, existing[c.name],
            )  # fmt: skip
            adopted.append(kind_of_existing(existing[c.name], c))
        else:
            adopted.append(c)
    target.columns = adopted


def _key_expression(target: StreamTarget, path: list[str], what: str) -> str:
    by_key = {c.key: c for c in target.columns}
    column = by_key.get(path[0]) if path else None
    if column is None:
        raise ConfigError(
            f"stream '{target.stream.stream.name}': {what} field {'.'.join(path) or '(empty)'} is not in its schema"
        )
    if len(path) == 1:
        return f"<t>.{quote(column.name)}"
    json_path = "$" + "".join('."' + p.replace('"', '\\"') + '"' for p in path[1:])
    return f"json_extract_string(<t>.{quote(column.name)}, {literal(json_path)})"


def _on(alias: str, expression: str) -> str:
    """A key expression (from `_key_expression`) over the table aliased `alias`."""
    return expression.replace("<t>", alias)


def prepare(con: duckdb.DuckDBPyConnection, target: StreamTarget) -> None:
    """Create or evolve the stream's tables and build its load plans."""
    s = target.stream
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(target.schema)}")
    if target.truncates:
        _ensure_stage(con, target)
    else:
        _ensure_table(con, target, target.final, target.table)
    if target.dedups:
        if not s.primary_key:
            raise ConfigError(f"stream '{s.stream.name}': append_dedup needs a primary key")
        target.dedup_keys = [_key_expression(target, list(p), "primary key") for p in s.primary_key]
        if s.cursor_field:
            target.cursor = _key_expression(target, list(s.cursor_field), "cursor")
        target.has_cdc = any(c.name == CDC_DELETED_AT for c in target.columns)
    plan_args = {"sync_id": s.sync_id, "generation_id": s.generation_id}
    if typed_read_possible(target.columns):
        target.typed_plan = load_plan(target.columns, typed=True, **plan_args)
    target.lenient_plan = load_plan(target.columns, typed=False, **plan_args)


def _ensure_stage(con: duckdb.DuckDBPyConnection, target: StreamTarget) -> None:
    """A fresh stage, unless one of this very generation survives a failed attempt (then resume it)."""
    stage_name = target.table + STAGE_SUFFIX
    generation = target.stream.generation_id
    if _existing_columns(con, target.schema, stage_name) is not None:
        resumable = False
        if generation is not None:
            foreign = con.execute(
                f"SELECT count(*) FROM {target.stage} WHERE {quote(GENERATION_ID)} IS DISTINCT FROM ?", [generation]
            ).fetchone()
            resumable = foreign is not None and foreign[0] == 0
        if resumable:
            logger.info("resuming stage %s of generation %s", target.stage, generation)
        else:
            con.execute(f"DROP TABLE {target.stage}")
    _ensure_table(con, target, target.stage, stage_name)


def swap_in(con: duckdb.DuckDBPyConnection, target: StreamTarget) -> None:
    """Replace the final table by the stage in one transaction."""
    con.execute("BEGIN")
    try:
        con.execute(f"DROP TABLE IF EXISTS {target.final}")
        con.execute(f"ALTER TABLE {target.stage} RENAME TO {quote(target.table)}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    target.swapped = True


def merge_batch(con: duckdb.DuckDBPyConnection, target: StreamTarget, select: str, columns: list[str]) -> None:
    """Dedup a batch into the final table (call inside a transaction).

    Per primary key the winner is the greatest cursor (NULLs last), then the latest
    `_airbyte_extracted_at`, then the latest record; an existing row wins only when strictly greater.
    A winner with `_ab_cdc_deleted_at` set removes the key.
    """
    cols = ", ".join(quote(c) for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ab_batch AS SELECT * FROM ({select}) AS s({cols})")
    order = [f"{_on('b', target.cursor)} DESC NULLS LAST"] if target.cursor else []
    order += [f"b.{quote(EXTRACTED_AT)} DESC", "b.rowid DESC"]
    partition = ", ".join(_on("b", k) for k in target.dedup_keys)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _ab_winners AS SELECT b.* FROM _ab_batch AS b QUALIFY row_number() OVER "
        f"(PARTITION BY {partition} ORDER BY {', '.join(order)}) = 1"
    )
    match = " AND ".join(f"{_on('f', k)} IS NOT DISTINCT FROM {_on('w', k)}" for k in target.dedup_keys)
    newer = f"f.{quote(EXTRACTED_AT)} > w.{quote(EXTRACTED_AT)}"
    if target.cursor:
        fc, wc = _on("f", target.cursor), _on("w", target.cursor)
        beats = f"(({wc} IS NULL AND {fc} IS NOT NULL) OR {fc} > {wc} OR ({fc} IS NOT DISTINCT FROM {wc} AND {newer}))"
    else:
        beats = newer
    con.execute(f"DELETE FROM _ab_winners AS w USING {target.write_table} AS f WHERE {match} AND {beats}")
    con.execute(f"DELETE FROM {target.write_table} AS f USING _ab_winners AS w WHERE {match}")
    keep = f" WHERE {quote(CDC_DELETED_AT)} IS NULL" if target.has_cdc else ""
    con.execute(f"INSERT INTO {target.write_table} ({cols}) SELECT {cols} FROM _ab_winners{keep}")
