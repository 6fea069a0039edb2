"""destination-duckdb: typed final tables in a DuckDB file, bulk-loaded through DuckDB's JSON reader."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from destination_duckdb.loader import Loader
from destination_duckdb.naming import normalize, quote
from destination_duckdb.tables import StreamTarget, plan_targets, prepare, swap_in
from ducto.protocol.errors import ConfigError
from ducto.protocol.messages import ConfiguredCatalog, ConfiguredStream, TraceStreamStatus
from ducto.protocol.sdk import Destination, RecordBatch

logger = logging.getLogger("ducto.connector")

DEFAULT_COMMIT_INTERVAL = 5.0


def connect(config: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    """Open the configured DuckDB file (its folder must exist); a clear ConfigError otherwise."""
    path = str(config["path"])
    if path != ":memory:":
        parent = Path(path).parent
        if not parent.is_dir():
            raise ConfigError(f"path {path}: folder {parent} does not exist (is the local directory mounted?)")
    # One core is left to the Python thread reading stdin, which runs alongside DuckDB's loads.
    settings: dict[str, Any] = {"threads": int(config.get("threads") or max(1, (os.cpu_count() or 2) - 1))}
    if config.get("memory_limit"):
        settings["memory_limit"] = str(config["memory_limit"])
    try:
        con = duckdb.connect(path, config=settings)
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error as exc:
        raise ConfigError(f"cannot open DuckDB database {path}: {str(exc).splitlines()[0]}") from None
    return con


class DestinationDuckDB(Destination):
    """One typed table per stream; overwrite swaps a stage in, append adds, append_dedup merges."""

    parse_records = False
    record_blocks = True
    # Large batches: DuckDB loads one big file much more cheaply than many small ones, and batches
    # of several row groups are written straight to the database file (no WAL copy). States are
    # grouped into commits at most `commit_interval_seconds` apart.
    batch_records = 1_000_000
    batch_bytes = 128 * 1024 * 1024
    first_batch_bytes = 16 * 1024 * 1024  # a small first batch gets DuckDB loading early
    max_state_delay_seconds: float | None = DEFAULT_COMMIT_INTERVAL

    def check_connection(self, config: Mapping[str, Any]) -> None:
        """Open the database and create, write and drop a table in the configured schema."""
        con = connect(config)
        try:
            schema = quote(normalize(str(config.get("schema") or "main")))
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"CREATE OR REPLACE TABLE {schema}._airbyte_check (x INTEGER)")
            con.execute(f"INSERT INTO {schema}._airbyte_check VALUES (1)")
            con.execute(f"DROP TABLE {schema}._airbyte_check")
        except duckdb.Error as exc:
            raise ConfigError(f"cannot write to {config['path']}: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()

    def open(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        """Create or evolve every stream's table before any record arrives."""
        interval = config.get("commit_interval_seconds", DEFAULT_COMMIT_INTERVAL)
        self.max_state_delay_seconds = float(interval) if interval else None
        self.con = connect(config)
        self.targets: dict[str, StreamTarget] = {}
        try:
            for target in plan_targets(catalog.streams, normalize(str(config.get("schema") or "main"))):
                prepare(self.con, target)
                self.targets[target.stream.stream.name] = target
        except duckdb.Error as exc:
            self.con.close()
            raise ConfigError(f"cannot prepare tables in {config['path']}: {str(exc).splitlines()[0]}") from None
        except BaseException:
            self.con.close()
            raise
        self.loader = Loader(self.con)
        self.batch_bytes = self.first_batch_bytes

    def write_batch(self, batch: RecordBatch) -> None:
        """Queue the batch's lines for a bulk load (committed when the job ends)."""
        self.batch_bytes = type(self).batch_bytes
        self.loader.load(self.targets[batch.stream.stream.name], batch)

    def commit(self) -> None:
        """Wait until every queued batch is committed (DuckDB commits are durable when they return)."""
        self.loader.wait()

    def on_stream_status(self, stream: ConfiguredStream, status: TraceStreamStatus) -> None:
        """COMPLETE: an overwrite stream's stage replaces its final table now. INCOMPLETE: it never will."""
        target = self.targets.get(stream.stream.name)
        if target is None or not target.truncates or target.swapped:
            return
        if status.status == "INCOMPLETE":
            target.incomplete = True
        elif status.status == "COMPLETE" and not target.incomplete:
            self.loader.wait()
            swap_in(self.con, target)
            logger.info("stream '%s': %s replaced by the new load (%d records)", target.stream.stream.name,
                        target.final, target.loaded)  # fmt: skip

    def close(self, success: bool) -> None:
        """On success swap in the overwrite stages not swapped yet; a failed write keeps old tables."""
        loader = getattr(self, "loader", None)
        if loader is None:
            return
        try:
            if success:
                loader.wait()
                for target in self.targets.values():
                    if target.truncates and not target.swapped:
                        if target.incomplete:
                            logger.warning("stream '%s' is INCOMPLETE: %s keeps its previous rows",
                                           target.stream.stream.name, target.final)  # fmt: skip
                        else:
                            swap_in(self.con, target)
                for target in self.targets.values():
                    logger.info("stream '%s': %d records loaded into %s", target.stream.stream.name, target.loaded,
                                target.final)  # fmt: skip
        finally:
            loader.close()
            self.con.close()
