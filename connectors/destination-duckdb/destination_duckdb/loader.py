"""Runs the DuckDB work on one background thread, so reading stdin overlaps with loading.

Every batch is loaded (and, for dedup, merged) in its own transaction, committed when the job
ends; `wait()` returns when every job submitted so far is committed, which is what `commit()`
needs before a STATE is echoed. Batches wait as files on disk (at most `max_pending` + 1), not in
memory.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from destination_duckdb.tables import StreamTarget, merge_batch
from ducto.protocol import json
from ducto.protocol.errors import ConnectorError, ProtocolError
from ducto.protocol.sdk import RecordBatch

_WRITE_LINES = 4096


class Loader:
    """A single worker thread owning the DuckDB connection while a write runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, max_pending: int = 1) -> None:
        self.con = con
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb-loader")
        self._pending: list[Future[None]] = []
        self._failed: BaseException | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="ducto-duckdb-"))
        self._files = 0

    def submit(self, job: Callable[[], None]) -> None:
        """Queue a job after the ones already queued; blocks while too many batches wait."""
        while len(self._pending) > self.max_pending:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._guarded, job))

    def _guarded(self, job: Callable[[], None]) -> None:
        if self._failed is not None:
            return  # an earlier job failed: the write is over, do nothing more
        try:
            job()
        except BaseException as exc:
            self._failed = exc
            raise

    def wait(self) -> None:
        """Return once every queued job is committed; raise the first failure."""
        while self._pending:
            self._pending.pop(0).result()
        if self._failed is not None:
            raise self._failed

    def load(self, target: StreamTarget, batch: RecordBatch) -> None:
        """Write the batch to a file now (so its memory can be freed) and queue its load."""
        self._files += 1
        path = self._tmp / f"batch-{self._files}.jsonl"
        with open(path, "wb") as f:
            if batch.blocks:
                f.writelines(batch.blocks)
            for i in range(0, len(batch.lines), _WRITE_LINES):  # small joins: memory is reused, not faulted in anew
                f.write(b"\n".join(batch.lines[i : i + _WRITE_LINES]) + b"\n")
        numbers = _line_numbers(batch)
        self.submit(lambda: self._load(target, path, numbers))

    def _load(self, target: StreamTarget, path: Path, line_numbers: list[int]) -> None:
        try:
            plans = [p for p in (target.typed_plan, target.lenient_plan) if p is not None]
            for i, plan in enumerate(plans):
                try:
                    self._run(target, plan.for_file(str(path)), plan.columns)
                    break
                except duckdb.Error as exc:
                    self._rollback()
                    if i == len(plans) - 1:
                        raise _located(target, path, line_numbers, exc) from None
            target.loaded += len(line_numbers)
        finally:
            path.unlink(missing_ok=True)

    def _run(self, target: StreamTarget, select: str, columns: list[str]) -> None:
        con = self.con
        con.execute("BEGIN")
        if target.dedups:
            merge_batch(con, target, select, columns)
        else:
            names = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
            con.execute(f"INSERT INTO {target.write_table} ({names}) {select}")
        con.execute("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # no transaction was open
            self.con.execute("ROLLBACK")

    def close(self) -> None:
        """Stop the worker (after the queued jobs) and remove the batch files."""
        try:
            for future in self._pending:
                future.exception()
        finally:
            self._pool.shutdown(wait=True)
            shutil.rmtree(self._tmp, ignore_errors=True)


def _line_numbers(batch: RecordBatch) -> list[int]:
    """The input line number of every record of the batch, in order."""
    if not batch.blocks:
        return batch.line_numbers
    numbers: list[int] = []
    for block, first in zip(batch.blocks, batch.block_line_numbers, strict=True):
        numbers.extend(range(first, first + block.count(b"\n")))
    return numbers


def _located(target: StreamTarget, path: Path, line_numbers: list[int], exc: duckdb.Error) -> Exception:
    """Turn a failed load into an error naming the input line at fault, when one is."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    for line, line_no in zip(lines, line_numbers, strict=False):
        problem = _problem(line)
        if problem is not None:
            return ProtocolError(problem, line_no)
    return ConnectorError(
        f"stream '{target.stream.stream.name}': loading input lines {line_numbers[0]}-{line_numbers[-1]} into "
        f"{target.write_table} failed: {str(exc).splitlines()[0]}",
        internal_message=str(exc),
    )


def _problem(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return f"not valid JSON ({err.args[0]})"
    record = obj.get("record") if isinstance(obj, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("data"), dict | None):
        return "RECORD message without an object 'record.data'"
    return None
