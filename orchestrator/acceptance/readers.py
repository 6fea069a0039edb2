"""Reading back what a destination wrote, to compare it with what was sent.

The acceptance config names the reader (`reader: {type: ...}` in a `destination` test):

- `duckdb`: Ducto's DuckDB destination (and Airbyte-style typed tables in general): one table per
  stream in `schema` (default `main`), named like the destination names it (lower-case ASCII,
  non-alphanumerics to `_`); `_airbyte_*` columns are left out. Needs the `duckdb` package.
- `jsonl`: one JSON object per line in `path` (`{stream}` is replaced); objects with a `data`
  key are RECORD payloads.
- `command`: a shell-free command (`{stream}` is replaced) printing JSON lines, as `jsonl`.

`{local_dir}` in any path is the folder shared with the destination (mounted at /local in Docker).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ducto.protocol import json

_NOT_ALNUM = re.compile(r"[^a-z0-9_]")


class ReaderError(RuntimeError):
    """The written data cannot be read back (missing table, bad reader config...)."""


def normalize_identifier(name: str) -> str:
    """How Airbyte-style destinations name tables and columns (`"Ünit Price"` → `"unit_price"`)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    out = _NOT_ALNUM.sub("_", ascii_name.lower()) or "_"
    return "_" + out if out[0].isdigit() else out


def _expand(value: str, local_dir: Path, stream: str | None = None) -> str:
    out = value.replace("{local_dir}", str(local_dir))
    return out.replace("{stream}", stream) if stream is not None else out


def read_stream(reader: dict[str, Any], stream: str, local_dir: Path, properties: list[str]) -> list[dict[str, Any]]:
    """Every row the destination holds for `stream`, keyed by the stream's property names."""
    kind = reader.get("type")
    if kind == "duckdb":
        return _read_duckdb(reader, stream, local_dir, properties)
    if kind == "jsonl":
        path = Path(_expand(str(reader.get("path", "")), local_dir, stream))
        if not path.is_file():
            return []
        return _rows_from_lines(path.read_bytes(), stream)
    if kind == "command":
        command = reader.get("command")
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command or []]
        if not argv:
            raise ReaderError("reader.command is empty")
        argv = [_expand(a, local_dir, stream) for a in argv]
        proc = subprocess.run(argv, capture_output=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise ReaderError(f"reader command exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
        return _rows_from_lines(proc.stdout, stream)
    raise ReaderError(f"reader.type must be duckdb, jsonl or command, got {kind!r}")


def _rows_from_lines(data: bytes, stream: str) -> list[dict[str, Any]]:
    rows = []
    for line in data.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
            if obj.get("stream", stream) == stream:
                rows.append(obj["data"])
        elif isinstance(obj, dict):
            rows.append(obj)
    return rows


def _read_duckdb(reader: dict[str, Any], stream: str, local_dir: Path, properties: list[str]) -> list[dict[str, Any]]:
    try:
        import duckdb
    except ImportError:
        raise ReaderError("the duckdb reader needs the duckdb package (pip install 'ducto[connectors]')") from None
    path = Path(_expand(str(reader.get("path", "")), local_dir))
    if not path.is_file():
        raise ReaderError(f"database file {path} does not exist")
    schema = normalize_identifier(str(reader.get("schema", "main")))
    table = normalize_identifier(stream)
    by_column = {normalize_identifier(p): p for p in properties}
    qualified = f'"{schema}"."{table}"'
    con = duckdb.connect(str(path), read_only=True)
    try:
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {qualified}").fetchall()
            columns = [(str(d[0]), str(d[1]).upper()) for d in described if not str(d[0]).startswith("_airbyte_")]
            # time zone aware values come back as epoch microseconds (no pytz needed), then UTC datetimes
            select = ", ".join(
                f'epoch_us("{c}")' if t.startswith("TIMESTAMP WITH TIME ZONE") else f'"{c}"' for c, t in columns
            )
            rows = con.execute(f"SELECT {select or 'NULL'} FROM {qualified}").fetchall()
        except duckdb.Error as exc:
            raise ReaderError(f"cannot read table {schema}.{table}: {exc}") from None
    finally:
        con.close()
    out = []
    for row in rows:
        record = {}
        for (column, kind), raw in zip(columns, row, strict=False):
            aware = kind.startswith("TIMESTAMP WITH TIME ZONE") and raw is not None
            record[by_column.get(column, column)] = datetime.fromtimestamp(raw / 1_000_000, tz=UTC) if aware else raw
        out.append(record)
    return out


def _as_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def values_match(expected: Any, actual: Any) -> bool:
    """Whether a value read back stands for the value sent (typed columns, JSON text, timestamps)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, dict | list):
        if isinstance(actual, str):
            try:
                actual = json.loads(actual)
            except json.JSONDecodeError:
                return False
        if isinstance(expected, dict):
            return (
                isinstance(actual, dict)
                and set(expected) == set(actual)
                and all(values_match(v, actual[k]) for k, v in expected.items())
            )
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(values_match(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, int | float):
        if isinstance(actual, Decimal):
            actual = float(actual) if isinstance(expected, float) else actual
        if isinstance(actual, int | float | Decimal):
            if isinstance(expected, int) and isinstance(actual, int):
                return expected == actual
            return abs(float(expected) - float(actual)) <= 1e-9 * max(1.0, abs(float(expected)))
        return False
    if isinstance(expected, str):
        if isinstance(actual, str):
            return expected == actual
        instant = _as_instant(actual)
        if instant is not None:
            sent = _as_instant(expected)
            return sent is not None and sent == instant
        if isinstance(actual, date):
            return expected == actual.isoformat()
        return False
    return bool(expected == actual)


def row_matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    """Whether a row read back holds every sent field (absent fields read back as NULL)."""
    return all(values_match(v, actual.get(k)) for k, v in expected.items()) and all(
        actual.get(k) is None for k in actual if k not in expected
    )
