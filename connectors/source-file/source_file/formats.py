"""File formats: sample a file's shape, and read its records, naming the file and line/row on errors.

Every reader works on a stream (or, for Parquet, a local path read row group by row group), so
memory stays bounded by one row/line/batch whatever the file size (a JSON document too: it is
walked value by value, see `json_stream`).
"""

from __future__ import annotations

import csv
import io
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from source_file.inference import BOOLEANS, Shape, scalar_schema, schema_kind
from source_file.locations import FileError

logger = logging.getLogger("source_file")

FORMATS = ("csv", "jsonl", "json", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}

csv.field_size_limit(min(sys.maxsize, 1 << 30))


def guess_format(name: str) -> str | None:
    """The format a file name suggests (`.gz` ignored), or None."""
    lower = name.lower()
    for gz in (".gz", ".gzip"):
        if lower.endswith(gz):
            lower = lower[: -len(gz)]
    for suffix, fmt in SUFFIXES.items():
        if lower.endswith(suffix):
            return fmt
    return None


# --- CSV --------------------------------------------------------------------------------------


@dataclass(slots=True)
class CsvOptions:
    """How to parse a CSV file."""

    delimiter: str = ","
    quote_char: str = '"'
    header: bool = True
    column_names: list[str] | None = None
    encoding: str = "utf-8"
    null_values: frozenset[str] = field(default_factory=lambda: frozenset({""}))

    @classmethod
    def from_config(cls, options: dict[str, Any], default_delimiter: str = ",") -> CsvOptions:
        """Build from a stream's `csv` config object."""
        delimiter = options.get("delimiter", default_delimiter)
        if delimiter in ("\\t", "tab"):
            delimiter = "\t"
        return cls(
            delimiter=delimiter,
            quote_char=options.get("quote_char", '"'),
            header=options.get("header", True),
            column_names=options.get("column_names"),
            encoding=options.get("encoding", "utf-8"),
            null_values=frozenset(options.get("null_values", [""])),
        )


def _unique_names(raw: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for k, name in enumerate(raw, start=1):
        base = name.strip() or f"column_{k}"
        candidate, n = base, 2
        while candidate in seen:
            candidate, n = f"{base}_{n}", n + 1
        seen.add(candidate)
        names.append(candidate)
    return names


def csv_rows(
    stream: BinaryIO, where: str, options: CsvOptions, header_out: list[str] | None = None
) -> Iterator[tuple[list[str], int, list[str]]]:
    """(column names, line number, cells) for every data row; errors name the file and line.

    `header_out`, when given, receives the column names as soon as they are known.
    """
    encoding = "utf-8-sig" if options.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else options.encoding
    text = _text_lines(stream, where, encoding, options.encoding)
    reader = csv.reader(text, delimiter=options.delimiter, quotechar=options.quote_char, strict=True)
    names: list[str] | None = list(options.column_names) if options.column_names else None
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if names is None:
                if options.header:
                    names = _unique_names(row)
                    if header_out is not None:
                        header_out[:] = names
                    continue
                names = [f"column_{k}" for k in range(1, len(row) + 1)]
            elif options.header and options.column_names and reader.line_num == 1:
                continue  # the header row, replaced by column_names
            if len(row) != len(names):
                raise FileError(f"{where} line {reader.line_num}: expected {len(names)} fields, got {len(row)}")
            yield names, reader.line_num, row
    except csv.Error as exc:
        raise FileError(f"{where} line {reader.line_num}: {exc}") from None


def _text_lines(stream: BinaryIO, where: str, encoding: str, shown: str) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported with its line number.

    Splitting on newlines before decoding is right for ASCII-compatible encodings (UTF-8, Latin-1,
    cp1252...); UTF-16/32 files go through a text wrapper instead (errors then name no line).
    """
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32")):
        wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")
        try:
            yield from wrapper
        except UnicodeDecodeError as exc:
            raise FileError(f"{where}: not valid {shown} ({exc.reason})") from None
        finally:
            wrapper.detach()
        return
    line_no = 0
    try:
        for line_no, raw in enumerate(stream, start=1):  # noqa: B007 - used in the except clause
            yield raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(f"{where} line {line_no}: not valid {shown} ({exc.reason} at byte {exc.start + 1})") from None
    except LookupError:
        raise FileError(f"{where}: unknown encoding {shown!r}") from None
    except (OSError, EOFError) as exc:
        raise FileError(f"{where} near line {line_no + 1}: cannot read ({exc})") from None


def csv_sample(stream: BinaryIO, where: str, options: CsvOptions, limit: int, columns: dict[str, Shape]) -> int:
    """Observe up to `limit` rows into `columns`; returns how many rows were seen."""
    nulls = options.null_values
    seen = 0
    header: list[str] = list(options.column_names or [])
    for names, _line, row in csv_rows(stream, where, options, header):
        if seen >= limit:
            break
        for name, cell in zip(names, row, strict=True):
            shape = columns.get(name)
            if shape is None:
                shape = columns[name] = Shape()
            shape.observe_text(None if cell in nulls else cell)
        seen += 1
    for name in header:  # columns of a file with a header and no rows yet
        columns.setdefault(name, Shape())
    return seen


def _to_int(value: str) -> int:
    return int(value)


def _to_bool(value: str) -> bool:
    try:
        return BOOLEANS[value]
    except KeyError:
        raise ValueError(value) from None


CONVERTERS: dict[str, Callable[[str], Any] | None] = {
    "integer": _to_int,
    "number": float,
    "boolean": _to_bool,
    "date": None,
    "date-time": None,
    "string": None,
}


def csv_records(
    stream: BinaryIO, where: str, options: CsvOptions, properties: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Rows as records, each cell converted to its column's type in `properties` (JSON Schema).

    A cell that does not convert (a sample said integer, a later row says "n/a") is kept as text
    and logged once per column: the destination decides (typically NULL plus a change note).
    """
    nulls = options.null_values
    converters: dict[str, Callable[[str], Any] | None] = {
        name: CONVERTERS.get(schema_kind(schema)) for name, schema in properties.items()
    }
    plan: list[tuple[str, Callable[[str], Any] | None]] | None = None
    plan_names: list[str] | None = None
    warned: set[str] = set()
    for names, line_no, row in csv_rows(stream, where, options):
        if names is not plan_names:
            plan_names = names
            plan = [(name, converters.get(name)) for name in names]
        record: dict[str, Any] = {}
        for (name, convert), cell in zip(plan, row, strict=True):  # type: ignore[arg-type]
            if cell in nulls:
                record[name] = None
            elif convert is None:
                record[name] = cell
            else:
                try:
                    record[name] = convert(cell)
                except ValueError:
                    record[name] = cell
                    if name not in warned:
                        warned.add(name)
                        logger.warning(
                            "%s line %d: column %r value %r is not a %s; kept as text",
                            where,
                            line_no,
                            name,
                            cell,
                            schema_kind(properties[name]),
                        )
        yield record


# --- JSON Lines -------------------------------------------------------------------------------


def jsonl_lines(stream: BinaryIO, where: str) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """(line without its newline, parsed object) for every non-blank line."""
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    line_no = 0
    try:
        for line_no, line in enumerate(stream, start=1):
            try:
                obj = loads(line)
            except decode_error as exc:
                if not line.strip():
                    continue
                raise FileError(f"{where} line {line_no}: not valid JSON ({exc.args[0]})") from None
            if type(obj) is not dict:
                raise FileError(f"{where} line {line_no}: expected a JSON object, got {_json_type(obj)}")
            yield line.rstrip(b"\r\n"), obj
    except (OSError, EOFError) as exc:
        raise FileError(f"{where} near line {line_no + 1}: cannot read ({exc})") from None


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null"
    )


# --- JSON document ----------------------------------------------------------------------------


def json_records(stream: BinaryIO, where: str, records_path: str | None) -> Iterator[dict[str, Any]]:
    """Records of one JSON document: an array of objects, or one object, at `records_path` (dots).

    Streamed: the document is never held whole in memory (see `json_stream`).
    """
    from source_file.json_stream import stream_records

    return stream_records(stream, where, records_path)


# --- Parquet ----------------------------------------------------------------------------------


def parquet_schema(path: str, where: str) -> dict[str, dict[str, Any]]:
    """Property schemas of a Parquet file, from its Arrow schema (exact, no sampling)."""
    import pyarrow as pa

    parquet_file = _open_parquet(path, where)
    schema = parquet_file.schema_arrow
    return {f.name: arrow_type_schema(f.type, pa) for f in schema}


def arrow_type_schema(arrow_type: Any, pa: Any) -> dict[str, Any]:
    """JSON Schema of an Arrow type (nullable)."""
    t = pa.types
    if t.is_dictionary(arrow_type):
        return arrow_type_schema(arrow_type.value_type, pa)
    if t.is_boolean(arrow_type):
        return scalar_schema("boolean")
    if t.is_integer(arrow_type):
        return scalar_schema("integer")
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return scalar_schema("number")
    if t.is_timestamp(arrow_type):
        schema = scalar_schema("date-time")
        schema["airbyte_type"] = "timestamp_with_timezone" if arrow_type.tz else "timestamp_without_timezone"
        return schema
    if t.is_date(arrow_type):
        return scalar_schema("date")
    if t.is_time(arrow_type):
        return {"type": ["null", "string"], "format": "time", "airbyte_type": "time_without_timezone"}
    if t.is_struct(arrow_type):
        fields = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
        return {"type": ["null", "object"], "properties": {f.name: arrow_type_schema(f.type, pa) for f in fields}}
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        return {"type": ["null", "array"], "items": arrow_type_schema(arrow_type.value_type, pa)}
    if t.is_map(arrow_type):
        return {"type": ["null", "array"]}
    if t.is_null(arrow_type):
        return {"type": ["null", "string"]}
    return scalar_schema("string")


def _open_parquet(path: str, where: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"{where}: not a readable Parquet file ({exc})") from None


def parquet_records(path: str, where: str, batch_rows: int = 10_000) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet file, one row group at a time, in batches of `batch_rows`.

    Decimal columns become floats (the schema says number); timestamps stay datetimes, which the
    SDK serializes as RFC 3339.
    """
    import pyarrow as pa

    parquet_file = _open_parquet(path, where)
    row = 0
    for group in range(parquet_file.num_row_groups):
        try:
            for raw_batch in parquet_file.iter_batches(batch_size=batch_rows, row_groups=[group]):
                batch = raw_batch
                decimals = [i for i, f in enumerate(batch.schema) if pa.types.is_decimal(f.type)]
                for i in decimals:
                    batch = batch.set_column(i, batch.schema.field(i).name, batch.column(i).cast(pa.float64()))
                rows = batch.to_pylist()
                row += len(rows)
                yield from rows
        except (pa.ArrowException, OSError) as exc:
            raise FileError(f"{where} row group {group} (after row {row}): cannot read ({exc})") from None
