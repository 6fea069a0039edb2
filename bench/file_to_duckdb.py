"""Benchmark: 1M JSONL records into a typed DuckDB table, destination-duckdb vs DuckDB's own reader.

    python bench/file_to_duckdb.py [--records 1000000] [--runs 3] [--workdir DIR]

Generates a JSONL file of `--records` user records (nested object, array, timestamps) and the same
records as the protocol messages a file source emits (RECORD lines, a STATE every 10,000 records,
a final COMPLETE stream status). Then, interleaved `--runs` times, each in a fresh container of
the `ducto/destination-duckdb:dev` image (build it first: `scripts/build-images destination-duckdb`):

  baseline   DuckDB's own `CREATE TABLE t AS SELECT * FROM read_json('data.jsonl')`
  ducto      `write` with the messages on stdin read from a file in the container (the data path
             the orchestrator uses: no dockerd relay), typed table, overwrite mode
  ducto -i   the same through `docker run -i` (every byte relayed by dockerd), for reference

Each timing is the whole `docker run` (container start included, for both); the CPU time (user +
system of every thread, from inside the container) is printed too, since on a shared machine it is
steadier than wall time. Prints medians, rates, and the ratio (baseline time / ducto time, the
median of the per-run ratios; target >= 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGE = "ducto/destination-duckdb:dev"
STATE_EVERY = 10_000
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "age": {"type": "integer"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def generate(workdir: Path, n: int) -> None:
    """data.jsonl (plain records) and messages.jsonl (the same records as protocol messages)."""
    data, messages = workdir / "data.jsonl", workdir / "messages.jsonl"
    if data.exists() and messages.exists() and (workdir / "count").read_text() == str(n):
        return
    rnd = random.Random(42)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cities = ["Paris", "Lyon", "Zürich", "São Paulo", "Tōkyō", "Austin"]
    started = time.perf_counter()
    with open(data, "wb") as d, open(messages, "wb") as m:
        plain: list[bytes] = []
        wrapped: list[bytes] = []
        for i in range(n):
            row = json.dumps(
                {
                    "id": i,
                    "name": f"user {i}",
                    "email": f"user{i}@example.com",
                    "age": rnd.randint(18, 90),
                    "score": round(rnd.random() * 100, 3),
                    "active": i % 3 == 0,
                    "created_at": (base + dt.timedelta(seconds=i)).isoformat(),
                    "address": {"city": cities[i % len(cities)], "zip": f"{i % 99999:05d}"},
                    "tags": ["a", "b"][: i % 3],
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
            plain.append(row + b"\n")
            wrapped.append(
                b'{"type":"RECORD","record":{"stream":"users","data":' + row + b',"emitted_at":1700000000000}}\n'
            )
            if (i + 1) % STATE_EVERY == 0 or i + 1 == n:
                state = {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"id": i}},
                }
                wrapped.append(json.dumps({"type": "STATE", "state": state}).encode() + b"\n")
            if len(plain) >= 20_000:
                d.write(b"".join(plain))
                m.write(b"".join(wrapped))
                plain.clear()
                wrapped.clear()
        d.write(b"".join(plain))
        status = {"stream_descriptor": {"name": "users"}, "status": "COMPLETE"}
        wrapped.append(
            json.dumps(
                {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": status}}
            ).encode()
            + b"\n"
        )
        m.write(b"".join(wrapped))
    (workdir / "count").write_text(str(n))
    print(
        f"generated {n:,} records in {time.perf_counter() - started:.1f} s: data.jsonl "
        f"{data.stat().st_size / 1e6:.0f} MB, messages.jsonl {messages.stat().st_size / 1e6:.0f} MB"
    )


# Runs a command in the container and reports its CPU time (user + system, all threads) on stderr.
TIMED = (
    "import resource, subprocess, sys; "
    "stdin = open(sys.argv[1], 'rb') if sys.argv[1] != '-' else None; "
    "code = subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL).returncode; "
    "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "sys.stderr.write(f'cpu={r.ru_utime + r.ru_stime:.3f}\\n'); sys.exit(code)"
)


def docker(*args: str, stdin: Path | None = None) -> tuple[float, float | None]:
    """Run `docker run --rm ...`; return (wall seconds, CPU seconds if reported); exit on failure."""
    cmd = ["docker", "run", "--rm", *args]
    started = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        proc = subprocess.run(cmd, stdin=inp, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(
            f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout.decode()[-2000:]}{proc.stderr.decode()[-2000:]}"
        )
    cpu = [line for line in proc.stderr.decode().splitlines() if line.startswith("cpu=")]
    return elapsed, float(cpu[-1][4:]) if cpu else None


def fresh_db(workdir: Path) -> None:
    for name in ("bench.duckdb", "bench.duckdb.wal"):
        (workdir / name).unlink(missing_ok=True)


def baseline(workdir: Path, mount: str) -> tuple[float, float | None]:
    fresh_db(workdir)
    code = (
        "import duckdb; con = duckdb.connect('/local/bench.duckdb'); con.execute('SET enable_progress_bar=false'); "
        "con.execute(\"CREATE TABLE t AS SELECT * FROM read_json('/local/data.jsonl')\"); con.close()"
    )
    return docker("-v", mount, "--entrypoint", "python", IMAGE, "-c", TIMED, "-", "python", "-c", code)


def ducto(workdir: Path, mount: str, attach: bool) -> tuple[float, float | None]:
    fresh_db(workdir)
    args = ["--config", "/local/config.json", "--catalog", "/local/catalog.json"]
    if attach:
        return docker("-i", "-v", mount, IMAGE, "write", *args, stdin=workdir / "messages.jsonl")
    # stdin is the messages file opened in the container: the orchestrator's data path (a FIFO in a
    # mounted folder), without dockerd relaying every byte.
    writer = ["python", "-m", "destination_duckdb", "write", *args]
    return docker("-v", mount, "--entrypoint", "python", IMAGE, "-c", TIMED, "/local/messages.jsonl", *writer)


def check_table(workdir: Path, mount: str, n: int) -> None:
    code = (
        "import duckdb; con = duckdb.connect('/local/bench.duckdb', read_only=True); "
        "print(con.execute(\"SELECT count(*), count(DISTINCT id), max(address->>'$.city'), "
        "string_agg(DISTINCT typeof(created_at), ',') FROM users\").fetchone()); "
        "print(con.execute(\"SELECT column_name || ' ' || data_type FROM duckdb_columns() \"\n"
        "\"WHERE table_name = 'users'\").fetchall())"
    )
    out = subprocess.run(["docker", "run", "--rm", "-v", mount, "--entrypoint", "python", IMAGE, "-c", code],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    print("loaded table:", out.strip().replace("\n", "\n              "))
    if f"({n}, {n}," not in out:
        sys.exit(f"the loaded table does not hold {n} distinct records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="where the data files go (default: a temporary folder)")
    parser.add_argument("--no-attach", action="store_true", help="skip the `docker run -i` variant")
    args = parser.parse_args()
    if shutil.which("docker") is None:
        sys.exit("docker is not available")
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False).returncode != 0:
        sys.exit(f"image {IMAGE} not found: run scripts/build-images destination-duckdb")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ducto-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o777)  # the container runs as uid 1000
    generate(workdir, args.records)
    (workdir / "config.json").write_text(json.dumps({"path": "/local/bench.duckdb"}))
    stream = {"name": "users", "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh"]}
    catalog = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    mount = f"{workdir}:/local"

    walls: dict[str, list[float]] = {"baseline": [], "ducto": [], "ducto -i": []}
    cpus: dict[str, list[float]] = {"baseline": [], "ducto": []}
    for run in range(1, args.runs + 1):
        for key, measure in (
            ("baseline", lambda: baseline(workdir, mount)),
            ("ducto", lambda: ducto(workdir, mount, False)),
        ):
            wall, cpu = measure()
            walls[key].append(wall)
            if cpu is not None:
                cpus[key].append(cpu)
        if run == 1:
            check_table(workdir, mount, args.records)
        if not args.no_attach:
            walls["ducto -i"].append(ducto(workdir, mount, attach=True)[0])
        print(
            f"run {run}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items() if v)
            + f"  (CPU: baseline {cpus['baseline'][-1]:.2f} s, ducto {cpus['ducto'][-1]:.2f} s)"
        )
    fresh_db(workdir)

    n = args.records
    base = statistics.median(walls["baseline"])
    print(f"\n{n:,} records, {args.runs} runs (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  {'DuckDB read_json CTAS (baseline)':<44} median {base:6.2f} s  {n / base:>10,.0f} records/s")
    labels = {
        "ducto": "destination-duckdb write, stdin from file",
        "ducto -i": "destination-duckdb write, docker run -i",
    }
    for key, label in labels.items():
        if walls[key]:
            t = statistics.median(walls[key])
            pairwise = statistics.median(b / d for b, d in zip(walls["baseline"], walls[key], strict=True))
            print(f"  {label:<44} median {t:6.2f} s  {n / t:>10,.0f} records/s  ratio {pairwise:.2f}x")
    wall_ratio = statistics.median(b / d for b, d in zip(walls["baseline"], walls["ducto"], strict=True))
    cpu_ratio = statistics.median(cpus["baseline"]) / statistics.median(cpus["ducto"])
    print(f"\nratio destination-duckdb / DuckDB read_json (median of per-run wall-time ratios): {wall_ratio:.2f}x"
          " (target >= 0.5x)")  # fmt: skip
    print(f"CPU-time ratio (baseline CPU / ducto CPU, medians): {cpu_ratio:.2f}x")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
