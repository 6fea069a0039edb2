"""destination-local: JSONL, CSV or Parquet files per stream under the mounted local directory.

Layout: `<destination_path>/[<namespace>/]<stream>/part-<time>-<write id>-<n>.<ext>`. A batch is
written to a hidden `.…tmp` file; `commit()` fsyncs and renames the batch files into place, so a
reader never sees a partial file. `append` adds files; `overwrite` writes into a hidden staging
folder that replaces the stream's folder in one atomic exchange when the stream completes (or the
write ends successfully); a failed write leaves the old files.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb

from destination_local.files import fsync_dir, fsync_file, replace_dir
from destination_local.writer import FileWriter, Format
from ducto.protocol import json
from ducto.protocol.errors import ConfigError, ConnectorError, ProtocolError
from ducto.protocol.messages import ConfiguredCatalog, ConfiguredStream, TraceStreamStatus
from ducto.protocol.sdk import Destination, RecordBatch

logger = logging.getLogger("ducto.connector")

LOCAL_ROOT = Path("/local")
_UNSAFE = re.compile(r"[^\w.\-]+")


def resolve_root(config: Mapping[str, Any]) -> Path:
    """`destination_path` as a folder: relative paths are inside the mounted `/local`."""
    raw = str(config.get("destination_path") or "").strip()
    if not raw:
        raise ConfigError("destination_path is empty")
    path = Path(raw)
    if not path.is_absolute():
        path = LOCAL_ROOT / path
    if ".." in path.parts:
        raise ConfigError(f"destination_path {raw}: '..' is not allowed")
    return path


def folder_name(name: str) -> str:
    """A file-system-safe folder name for a stream or namespace."""
    safe = _UNSAFE.sub("_", name).lstrip(".")
    return safe or "_"


@dataclass(slots=True)
class StreamFiles:
    """One stream's folder, and where its files go during this write."""

    stream: ConfiguredStream
    folder: Path
    staging: Path | None  # overwrite: the hidden folder swapped in at the end
    pending: list[tuple[Path, Path]]  # (written tmp file, final name) awaiting commit
    files: int = 0
    records: int = 0
    swapped: bool = False
    incomplete: bool = False  # the source reported the stream INCOMPLETE: never swap it in

    @property
    def target(self) -> Path:
        """Where committed files of this write land."""
        return self.staging or self.folder


class DestinationLocal(Destination):
    """Files per stream, written in bulk by DuckDB, renamed into place on commit."""

    parse_records = False
    batch_records = 250_000
    batch_bytes = 128 * 1024 * 1024

    def check_connection(self, config: Mapping[str, Any]) -> None:
        """The folder can be created and written to."""
        root = resolve_root(config)
        probe = root / f".ducto-check-{uuid.uuid4().hex[:8]}"
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot write to {root}: {exc.strerror or exc}") from None

    def open(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        """Create the stream folders (and fresh staging folders for overwrite streams)."""
        self.check_connection(config)
        root = resolve_root(config)
        fmt = str(config.get("format", "jsonl"))
        if fmt not in ("jsonl", "csv", "parquet"):
            raise ConfigError(f"format {fmt!r}: expected jsonl, csv or parquet")
        compression = config.get("compression") or None
        self.write_id = uuid.uuid4().hex[:8]
        now = time.time_ns()
        # Sortable by write: the UTC time to the microsecond, then a random id.
        self.started = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now / 1e9)) + f"{now // 1000 % 1_000_000:06d}Z"
        self.writer = FileWriter(cast(Format, fmt), compression)
        self.streams: dict[str, StreamFiles] = {}
        for s in catalog.streams:
            base = root / folder_name(s.stream.namespace) if s.stream.namespace else root
            folder = base / folder_name(s.stream.name)
            base.mkdir(parents=True, exist_ok=True)
            for leftover in base.glob(f".{folder.name}.staging-*"):
                shutil.rmtree(leftover, ignore_errors=True)  # from a write that failed
            staging = None
            if s.destination_sync_mode == "overwrite":
                staging = base / f".{folder.name}.staging-{self.write_id}"
                staging.mkdir()
            else:
                folder.mkdir(exist_ok=True)
            self.streams[s.stream.name] = StreamFiles(s, folder, staging, [])

    def write_batch(self, batch: RecordBatch) -> None:
        """Write the batch to a hidden file in the stream's target folder."""
        files = self.streams[batch.stream.stream.name]
        files.files += 1
        name = f"part-{self.started}-{self.write_id}-{files.files:05d}.{self.writer.extension}"
        try:
            tmp = self.writer.write(files.stream, batch.lines, files.target, name)
        except duckdb.Error as exc:
            raise _located(files.stream, batch, exc) from None
        files.pending.append((tmp, files.target / name))
        files.records += len(batch.lines)

    def commit(self) -> None:
        """fsync every written file, rename it into place, fsync the folders."""
        for files in self.streams.values():
            if not files.pending:
                continue
            for tmp, final in files.pending:
                fsync_file(tmp)
                tmp.rename(final)
            fsync_dir(files.target)
            files.pending.clear()

    def on_stream_status(self, stream: ConfiguredStream, status: TraceStreamStatus) -> None:
        """COMPLETE: an overwrite stream's new files replace its old ones now. INCOMPLETE: they never will."""
        files = self.streams.get(stream.stream.name)
        if files is None or files.staging is None:
            return
        if status.status == "INCOMPLETE":
            files.incomplete = True
        elif status.status == "COMPLETE" and not files.incomplete:
            self.commit()
            self._swap(files)

    def _swap(self, files: StreamFiles) -> None:
        if files.swapped or files.staging is None:
            return
        if files.incomplete:
            logger.warning(
                "stream '%s' is INCOMPLETE: %s keeps its previous files", files.stream.stream.name, files.folder
            )
            return
        replace_dir(files.staging, files.folder)
        files.swapped = True
        logger.info("stream '%s': %s replaced (%d records)", files.stream.stream.name, files.folder, files.records)

    def close(self, success: bool) -> None:
        """Success: swap in the overwrite folders. Failure: drop uncommitted files, keep old ones."""
        streams = getattr(self, "streams", {})
        try:
            for files in streams.values():
                if success:
                    self._swap(files)
                    if files.staging is None:
                        logger.info(
                            "stream '%s': %d records in %s", files.stream.stream.name, files.records, files.folder
                        )
                else:
                    for tmp, _ in files.pending:
                        tmp.unlink(missing_ok=True)
        finally:
            if hasattr(self, "writer"):
                self.writer.close()


def _located(stream: ConfiguredStream, batch: RecordBatch, exc: duckdb.Error) -> Exception:
    """Name the input line that made DuckDB fail, when one is malformed."""
    for line, line_no in zip(batch.lines, batch.line_numbers, strict=True):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            return ProtocolError(f"not valid JSON ({err.args[0]})", line_no)
        record = obj.get("record") if isinstance(obj, dict) else None
        if not isinstance(record, dict) or not isinstance(record.get("data"), dict):
            return ProtocolError("RECORD message without an object 'record.data'", line_no)
    return ConnectorError(
        f"stream '{stream.stream.name}': writing input lines {batch.line_numbers[0]}-{batch.line_numbers[-1]} "
        f"failed: {str(exc).splitlines()[0]}",
        internal_message=str(exc),
    )
