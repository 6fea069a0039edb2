"""Batches of RECORD lines to JSONL, CSV or Parquet files through DuckDB's reader and writers."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from ducto.protocol.messages import ConfiguredStream

Format = Literal["jsonl", "csv", "parquet"]
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
_COPY_OPTIONS = {"jsonl": "FORMAT json", "csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet"}
_CHANGES_TYPE = '[{"field":"VARCHAR","change":"VARCHAR","reason":"VARCHAR"}]'
_READ = (
    "read_json(?, format='newline_delimited', auto_detect=false, maximum_object_size=268435456, "
    "columns={'record': 'STRUCT(data JSON, emitted_at BIGINT, meta JSON)'})"
)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def select_sql(stream: ConfiguredStream) -> str:
    """One output row per record, in Airbyte's file layout: the record whole in `_airbyte_data`."""
    sync = "NULL" if stream.sync_id is None else str(int(stream.sync_id))
    generation = "NULL" if stream.generation_id is None else str(int(stream.generation_id))
    changes = f"COALESCE(from_json(json_extract(record.meta, '$.changes'), {_literal(_CHANGES_TYPE)}), [])"
    return (
        "SELECT uuid()::VARCHAR AS _airbyte_raw_id, "
        "COALESCE(epoch_ms(record.emitted_at)::TIMESTAMPTZ, now()) AS _airbyte_extracted_at, "
        f"json_object('sync_id', {sync}, 'changes', to_json({changes})) AS _airbyte_meta, "
        f"{generation}::BIGINT AS _airbyte_generation_id, "
        f"record.data AS _airbyte_data FROM {_READ} WHERE CASE WHEN json_type(record.data) IS DISTINCT FROM 'OBJECT' "
        "THEN error('record.data is not an object') ELSE true END"
    )


@dataclass(slots=True)
class FileWriter:
    """Writes each batch to a new hidden file in a folder; the caller renames it when committing."""

    fmt: Format
    compression: str | None = None
    con: duckdb.DuckDBPyConnection = field(init=False)
    tmp: Path = field(init=False)
    written: int = 0

    def __post_init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.tmp = Path(tempfile.mkdtemp(prefix="ducto-local-"))

    @property
    def extension(self) -> str:
        """The file extension, with the compression's when there is one (`.jsonl.gz`)."""
        ext = EXTENSIONS[self.fmt]
        if self.compression == "gzip" and self.fmt != "parquet":
            ext += ".gz"
        return ext

    def write(self, stream: ConfiguredStream, lines: list[bytes], folder: Path, name: str) -> Path:
        """Write the records of `lines` to `folder/.name.tmp`; return that path."""
        self.written += 1
        batch = self.tmp / f"batch-{self.written}.jsonl"
        with open(batch, "wb") as f:
            f.write(b"\n".join(lines))
            f.write(b"\n")
        target = folder / f".{name}.tmp"
        options = _COPY_OPTIONS[self.fmt]
        if self.compression:
            options += f", COMPRESSION {self.compression}"
        try:
            sql = f"COPY ({select_sql(stream)}) TO {_literal(str(target))} ({options})"
            self.con.execute(sql.replace("read_json(?", f"read_json({_literal(str(batch))}", 1))
        finally:
            batch.unlink(missing_ok=True)
        return target

    def close(self) -> None:
        """Close DuckDB and remove the batch files."""
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
