"""source-file: CSV, JSON Lines, JSON and Parquet files from local paths (globs) or HTTP(S) URLs.

One stream per configured entry (a file, a glob or a URL). The schema is discovered from the data
(sampled rows; Parquet's own schema). Incremental reads use a cursor column chosen in the config
(source-defined) or in the catalog.

Incremental semantics: the state holds the greatest cursor value read so far, and the next read
emits the records whose cursor is **greater than or equal to** it. Files are re-read whole on every
sync, and rows sharing the last cursor value may have been added after the previous read: `>`
would lose them, `>=` re-emits the rows at exactly the state's value (at-least-once; with a primary
key and append_dedup they collapse). Records whose cursor is null are emitted only by a read
without state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from orjson import Fragment

from ducto.protocol.sdk import ConfigError, ConnectorError, ReadContext, Source, Stream
from source_file import formats, locations
from source_file.inference import Shape, record_schema
from source_file.locations import FileError, Location

logger = logging.getLogger("source_file")

DEFAULT_SAMPLE_ROWS = 1000


def comparable(value: Any) -> Any:
    """A cursor value as it is stored in the state (datetimes and dates as ISO 8601 text)."""
    iso = getattr(value, "isoformat", None)
    return iso() if iso is not None else value


def cursor_key(value: Any) -> Any:
    """What cursor values are compared by: date-time text as an aware datetime (naive = UTC)."""
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _zone(text: str) -> str:
    """The time zone suffix of an ISO 8601 text ('Z', '+02:00'...), '' when there is none."""
    if text[-1:] in ("Z", "z"):
        return text[-1]
    if len(text) >= 6 and text[-6] in "+-" and text[-3] == ":":
        return text[-6:]
    return ""


def _same_text_format(a: str, b: str) -> bool:
    """Texts that compare correctly as text: same length and the same zone suffix (or none)."""
    return len(a) == len(b) and _zone(a) == _zone(b)


def at_or_after(value: Any, bound: Any) -> bool:
    """`value >= bound` by `cursor_key`, comparing as text when the types differ."""
    if type(value) is str and type(bound) is str and _same_text_format(value, bound):
        return value >= bound  # the common case, without parsing dates
    a, b = cursor_key(value), cursor_key(bound)
    try:
        return bool(a >= b)
    except TypeError:
        return str(value) >= str(bound)


class FileStream(Stream):
    """One configured entry: its files are read in order (sorted paths for a glob)."""

    checkpoint_interval = 10_000
    supports_incremental = True

    def __init__(self, entry: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        self.name = entry["name"]  # type: ignore[misc]
        self.primary_key = entry.get("primary_key") or None  # type: ignore[misc]
        self.cursor_field = entry.get("cursor_field") or None  # type: ignore[misc]
        self.path_or_url: str = entry["path_or_url"]
        self.configured_format: str | None = entry.get("format")
        self.compression: str = entry.get("compression", "auto")
        self.records_path: str | None = entry.get("json_records_path")
        self.sample_rows: int = int(
            entry.get("schema_sample_rows", config.get("schema_sample_rows", DEFAULT_SAMPLE_ROWS))
        )
        self.timeout: float = float(config.get("http_timeout_seconds", 60))
        self.csv_config: dict[str, Any] = dict(entry.get("csv") or {})
        self._locations: list[Location] | None = None
        self._schema: dict[str, Any] | None = None
        self._own_state: dict[str, Any] | None = None
        self._last_record: dict[str, Any] | None = None  # the parsed form of the last JSONL line emitted

    # --- files --------------------------------------------------------------------------------

    def locations(self) -> list[Location]:
        """The files of this stream (resolved once)."""
        if self._locations is None:
            try:
                self._locations = locations.resolve(self.path_or_url)
            except ConnectorError as exc:
                raise ConfigError(f"stream '{self.name}': {exc.message}") from None
        return self._locations

    def format_of(self, location: Location) -> str:
        """The configured format, or the one the file name suggests."""
        if self.configured_format:
            return self.configured_format
        guessed = formats.guess_format(location.name)
        if guessed is None:
            raise ConfigError(
                f"stream '{self.name}': cannot tell the format of {location.display()} from its name; "
                f"set 'format' to one of {', '.join(formats.FORMATS)}"
            )
        return guessed

    def csv_options(self, location: Location) -> formats.CsvOptions:
        """CSV options of this stream (tab-separated by default for .tsv files)."""
        tsv = location.name.lower().removesuffix(".gz").endswith(".tsv")
        return formats.CsvOptions.from_config(self.csv_config, "\t" if tsv else ",")

    # --- schema -------------------------------------------------------------------------------

    def get_json_schema(self) -> dict[str, Any]:
        """The schema discovered from the data (computed once per process)."""
        if self._schema is None:
            self._schema = self.discover_schema()
        return self._schema

    def discover_schema(self) -> dict[str, Any]:
        """Sample up to `schema_sample_rows` rows across the stream's files, in order."""
        columns: dict[str, Shape] = {}
        exact: dict[str, dict[str, Any]] = {}
        remaining = self.sample_rows
        for location in self.locations():
            if remaining <= 0:
                break
            remaining -= self._sample(location, remaining, columns, exact)
        schema = record_schema(columns)
        for name, prop in exact.items():
            schema["properties"].setdefault(name, prop)
        return schema

    def _sample(
        self, location: Location, limit: int, columns: dict[str, Shape], exact: dict[str, dict[str, Any]]
    ) -> int:
        with locations.read_errors(location):
            return self._sample_file(location, limit, columns, exact)

    def _sample_file(
        self, location: Location, limit: int, columns: dict[str, Shape], exact: dict[str, dict[str, Any]]
    ) -> int:
        fmt, where = self.format_of(location), location.display()
        if fmt == "parquet":
            with locations.local_copy(location, self.compression, self.timeout) as path:
                for name, prop in formats.parquet_schema(path, where).items():
                    exact.setdefault(name, prop)
            return 0
        with locations.open_stream(location, self.compression, self.timeout) as stream:
            if fmt == "csv":
                return formats.csv_sample(stream, where, self.csv_options(location), limit, columns)
            seen = 0
            records: Iterator[dict[str, Any]]
            if fmt == "jsonl":
                records = (obj for _line, obj in formats.jsonl_lines(stream, where))
            else:
                records = formats.json_records(stream, where, self.records_path)
            for record in records:
                if seen >= limit:
                    break
                for key, value in record.items():
                    shape = columns.get(key)
                    if shape is None:
                        shape = columns[key] = Shape()
                    shape.observe(value)
                seen += 1
            return seen

    # --- records ------------------------------------------------------------------------------

    def read_records(self, ctx: ReadContext) -> Iterator[Any]:
        """Records of every file in order; incremental reads keep cursor >= state (see module doc)."""
        cursor = ctx.cursor_field if ctx.sync_mode == "incremental" else None
        if ctx.sync_mode == "incremental" and not cursor:
            raise ConfigError(
                f"stream '{self.name}': incremental sync needs a cursor: set 'cursor_field' in the stream's "
                "config or 'cursor_field' in the configured catalog"
            )
        properties = self.get_json_schema().get("properties", {})
        if cursor and cursor[0] not in properties:
            known = ", ".join(properties) or "none"
            raise ConfigError(f"stream '{self.name}': cursor field '{cursor[0]}' is not a column (columns: {known})")
        bound = None
        if cursor and ctx.state:
            bound = ctx.state.get(".".join(cursor))
        for location in self.locations():
            records = self._records(location, properties, as_text=cursor is None)
            if cursor is None:
                yield from records
            else:
                yield from self._filter(records, cursor, bound)

    def _filter(self, records: Iterator[Any], cursor: list[str], bound: Any) -> Iterator[Any]:
        """Keep records at or after `bound`. Items are dicts, or (JSON text, parsed dict) pairs from
        JSONL: the text is emitted (no re-serialization) and the dict kept for `get_updated_state`."""
        for item in records:
            out, record = item if type(item) is tuple else (item, item)
            value: Any = record
            for part in cursor:
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                if bound is None:
                    self._last_record = record
                    yield out
                continue
            if bound is None or at_or_after(value, bound):
                self._last_record = record
                yield out

    def _records(self, location: Location, properties: dict[str, Any], as_text: bool) -> Iterator[Any]:
        with locations.read_errors(location):
            yield from self._file_records(location, properties, as_text)

    def _file_records(self, location: Location, properties: dict[str, Any], as_text: bool) -> Iterator[Any]:
        fmt, where = self.format_of(location), location.display()
        logger.info("stream %s: reading %s (%s)", self.name, where, fmt)
        if fmt == "parquet":
            with locations.local_copy(location, self.compression, self.timeout) as path:
                yield from formats.parquet_records(path, where)
            return
        with locations.open_stream(location, self.compression, self.timeout) as stream:
            if fmt == "csv":
                yield from formats.csv_records(stream, where, self.csv_options(location), properties)
            elif fmt == "jsonl":
                if as_text:  # the line is valid JSON already: pass it through, no re-serialization
                    for line, _obj in formats.jsonl_lines(stream, where):
                        yield Fragment(line)
                else:
                    for line, obj in formats.jsonl_lines(stream, where):
                        yield Fragment(line), obj
            else:
                yield from formats.json_records(stream, where, self.records_path)

    def get_updated_state(
        self, state: dict[str, Any] | None, record: Mapping[str, Any], cursor: list[str]
    ) -> dict[str, Any] | None:
        """Keep the greatest cursor value, stored as JSON-friendly text for datetimes."""
        value: Any = self._last_record if isinstance(record, Fragment) else record
        for part in cursor:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return state
        value = comparable(value)
        key = cursor[0] if len(cursor) == 1 else ".".join(cursor)
        current = state.get(key) if state else None
        if current is None or (value != current and at_or_after(value, current)):  # strictly greater
            if state is None or state is not self._own_state:
                self._own_state = state = dict(state or {})  # copied once, then updated in place
            state[key] = value
        return state


class SourceFile(Source):
    """Files as streams: CSV, JSONL, JSON, Parquet; local (mounted at /local) or over HTTP(S)."""

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per entry of `streams` (names must be unique)."""
        entries = config.get("streams") or []
        names = [e["name"] for e in entries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"stream names must be unique; repeated: {', '.join(duplicates)}")
        return [FileStream(entry, config) for entry in entries]

    def check_connection(self, config: Mapping[str, Any]) -> None:
        """Every stream's files exist (or answer), the schema sample parses, key and cursor are columns."""
        for stream in self.streams(config):
            assert isinstance(stream, FileStream)
            try:
                columns = stream.discover_schema().get("properties", {})
            except FileError as exc:
                raise ConfigError(exc.message) from None
            except ConnectorError as exc:
                raise ConfigError(f"stream '{stream.name}': {exc.message}") from None
            key = stream.primary_key
            wanted = [("primary key", k) for k in ([key] if isinstance(key, str) else key or [])]
            if isinstance(stream.cursor_field, str):
                wanted.append(("cursor field", stream.cursor_field))
            for what, column in wanted:
                if column not in columns:
                    known = ", ".join(columns) or "none"
                    raise ConfigError(f"stream '{stream.name}': {what} '{column}' is not a column (columns: {known})")
