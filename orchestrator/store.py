"""State and run history in SQLite, with versioned schema migrations.

The database lives in `.ducto/ducto.db` beside the connection file, or in `$DUCTO_HOME`.
Writes are serialised by a lock, so the pipe's threads can share one Store; WAL mode lets
`ducto runs` read while a sync writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ducto.orchestrator import jsonutil
from ducto.orchestrator.errors import UsageError

GLOBAL_STATE_KEY = "*global*"

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE states (
        connection TEXT NOT NULL,
        stream TEXT NOT NULL,
        state BLOB NOT NULL,
        run_id INTEGER,
        updated_at REAL NOT NULL,
        PRIMARY KEY (connection, stream)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        connection TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        error TEXT,
        source TEXT,
        destination TEXT,
        pid INTEGER
    );
    CREATE INDEX runs_by_connection ON runs (connection, id);
    CREATE TABLE run_streams (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        stream TEXT NOT NULL,
        records INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        committed_records INTEGER NOT NULL DEFAULT 0,
        states_committed INTEGER NOT NULL DEFAULT 0,
        status TEXT,
        PRIMARY KEY (run_id, stream)
    );
    CREATE TABLE run_logs (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        ts REAL NOT NULL,
        origin TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE connector_configs (
        connection TEXT NOT NULL,
        role TEXT NOT NULL,
        config BLOB NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (connection, role)
    );
    CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 2: per-stream generations (Airbyte's generation_id / minimum_generation_id for refreshes)
    """
    CREATE TABLE stream_generations (
        connection TEXT NOT NULL,
        stream TEXT NOT NULL,
        generation INTEGER NOT NULL,
        PRIMARY KEY (connection, stream)
    );
    """,
]


@dataclass
class RunRow:
    """One sync run as recorded in history."""

    id: int
    connection: str
    status: str
    started_at: float
    ended_at: float | None
    error: str | None
    source: str | None
    destination: str | None


@dataclass
class RunStreamRow:
    """Per-stream counts of one run."""

    stream: str
    records: int
    bytes: int
    committed_records: int
    states_committed: int
    status: str | None


def home_for(connection_path: Path | None) -> Path:
    """`$DUCTO_HOME`, else `.ducto/` beside the connection file (or in the current directory)."""
    env_home = os.environ.get("DUCTO_HOME")
    if env_home:
        return Path(env_home).expanduser()
    base = connection_path.parent if connection_path is not None else Path.cwd()
    return base / ".ducto"


class Store:
    """The SQLite database of one Ducto home."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # it may hold connector configs updated by CONTROL messages
                path.touch(mode=0o600)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open the state database {path}: {exc}") from None
        self._lock = threading.RLock()
        self._migrate()

    @classmethod
    def open_home(cls, home: Path) -> Store:
        """Open (creating if needed) `HOME/ducto.db`."""
        return cls(home / "ducto.db")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise UsageError(
                    f"{self.path} was written by a newer Ducto (schema {version}); upgrade Ducto to use it"
                )
            for index in range(version, len(MIGRATIONS)):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in MIGRATIONS[index].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {index + 1}")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The applied migration count."""
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # ---- state -------------------------------------------------------------------------------
    def get_states(self, connection: str) -> dict[str, Any]:
        """Stream key (or GLOBAL_STATE_KEY) -> the stored state payload."""
        with self._lock:
            rows = self._db.execute(
                "SELECT stream, state FROM states WHERE connection = ? ORDER BY stream", (connection,)
            ).fetchall()
        return {stream: jsonutil.loads(state) for stream, state in rows}

    def save_state(self, connection: str, stream: str, state: Any, run_id: int | None) -> None:
        """Store one committed state (replacing the previous one of that stream)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO states (connection, stream, state, run_id, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (connection, stream) DO UPDATE SET state = excluded.state,"
                " run_id = excluded.run_id, updated_at = excluded.updated_at",
                (connection, stream, jsonutil.dumps(state), run_id, time.time()),
            )

    def delete_states(self, connection: str, stream: str | None = None) -> int:
        """Forget the state of one stream, or of the whole connection; returns rows deleted."""
        with self._tx() as db:
            if stream is None:
                cursor = db.execute("DELETE FROM states WHERE connection = ?", (connection,))
            else:
                cursor = db.execute("DELETE FROM states WHERE connection = ? AND stream = ?", (connection, stream))
            return cursor.rowcount

    # ---- generations -------------------------------------------------------------------------
    def next_generations(self, connection: str, streams: dict[str, bool]) -> dict[str, int]:
        """The generation of each stream for a new sync; `True` (a truncating sync) starts a new one."""
        result: dict[str, int] = {}
        with self._tx() as db:
            for stream, truncate in streams.items():
                row = db.execute(
                    "SELECT generation FROM stream_generations WHERE connection = ? AND stream = ?",
                    (connection, stream),
                ).fetchone()
                generation = (row[0] if row else 0) + (1 if truncate else 0)
                if truncate:
                    db.execute(
                        "INSERT INTO stream_generations (connection, stream, generation) VALUES (?, ?, ?)"
                        " ON CONFLICT (connection, stream) DO UPDATE SET generation = excluded.generation",
                        (connection, stream, generation),
                    )
                result[stream] = generation
        return result

    # ---- connector configs updated by CONTROL messages ---------------------------------------
    def get_connector_config(self, connection: str, role: str) -> dict[str, Any] | None:
        """The config a connector asked to persist (CONTROL connectorConfig), if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT config FROM connector_configs WHERE connection = ? AND role = ?", (connection, role)
            ).fetchone()
        return jsonutil.loads(row[0]) if row else None

    def save_connector_config(self, connection: str, role: str, config: dict[str, Any]) -> None:
        """Persist a connector's updated config."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO connector_configs (connection, role, config, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (connection, role) DO UPDATE SET config = excluded.config,"
                " updated_at = excluded.updated_at",
                (connection, role, jsonutil.dumps(config), time.time()),
            )

    # ---- cache (specs, catalogs) -------------------------------------------------------------
    def cache_get(self, key: str) -> Any | None:
        """A cached JSON value, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        return jsonutil.loads(row[0]) if row else None

    def cache_put(self, key: str, value: Any) -> None:
        """Cache a JSON value under `key`."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO cache (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, jsonutil.dumps(value), time.time()),
            )

    # ---- runs --------------------------------------------------------------------------------
    def start_run(self, connection: str, source: str, destination: str) -> int:
        """Record a new running run; returns its id."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (connection, status, started_at, source, destination, pid)"
                " VALUES (?, 'running', ?, ?, ?, ?)",
                (connection, time.time(), source, destination, os.getpid()),
            )
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    def finish_run(self, run_id: int, status: str, error: str | None) -> None:
        """Close a run with its final status and error."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?",
                (status, error, time.time(), run_id),
            )

    def save_run_streams(self, run_id: int, streams: list[RunStreamRow]) -> None:
        """Write (or overwrite) the per-stream counts of a run."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO run_streams (run_id, stream, records, bytes, committed_records, states_committed,"
                " status) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, stream) DO UPDATE SET"
                " records = excluded.records, bytes = excluded.bytes,"
                " committed_records = excluded.committed_records,"
                " states_committed = excluded.states_committed, status = excluded.status",
                [
                    (run_id, s.stream, s.records, s.bytes, s.committed_records, s.states_committed, s.status)
                    for s in streams
                ],
            )

    def mark_abandoned_runs(self, connection: str) -> int:
        """Close runs left 'running' by an orchestrator that died (its lock is free, so it is gone)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE runs SET status = 'failed', ended_at = COALESCE(ended_at, ?),"
                " error = 'the orchestrator stopped during this run (killed or crashed)'"
                " WHERE connection = ? AND status = 'running'",
                (time.time(), connection),
            )
            return cursor.rowcount

    def list_runs(self, connection: str | None = None, limit: int = 20) -> list[RunRow]:
        """The latest runs, newest first."""
        query = "SELECT id, connection, status, started_at, ended_at, error, source, destination FROM runs"
        params: tuple[Any, ...] = ()
        if connection is not None:
            query += " WHERE connection = ?"
            params = (connection,)
        query += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*params, limit)).fetchall()
        return [RunRow(*row) for row in rows]

    def get_run(self, run_id: int) -> RunRow | None:
        """One run, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, connection, status, started_at, ended_at, error, source, destination"
                " FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
        return RunRow(*row) if row else None

    def run_streams(self, run_id: int) -> list[RunStreamRow]:
        """Per-stream counts of a run."""
        with self._lock:
            rows = self._db.execute(
                "SELECT stream, records, bytes, committed_records, states_committed, status"
                " FROM run_streams WHERE run_id = ? ORDER BY stream",
                (run_id,),
            ).fetchall()
        return [RunStreamRow(*row) for row in rows]

    # ---- logs --------------------------------------------------------------------------------
    def append_logs(self, run_id: int, first_seq: int, entries: list[tuple[float, str, str, str]]) -> None:
        """Append (ts, origin, level, message) log entries numbered from `first_seq`."""
        if not entries:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT INTO run_logs (run_id, seq, ts, origin, level, message) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, first_seq + i, *entry) for i, entry in enumerate(entries)],
            )

    def run_logs(self, run_id: int) -> Iterator[tuple[float, str, str, str]]:
        """(ts, origin, level, message) of a run, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, origin, level, message FROM run_logs WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
        yield from rows
