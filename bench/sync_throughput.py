"""`ducto sync` throughput against a plain shell pipe of the same two containers, and `cat | cat`.

    python bench/sync_throughput.py --records 1000000 [--rss-records 10000000] [--repeat 3]

Builds two small images FROM ducto/base:dev (a source replaying a JSONL file from /local, a
destination discarding records and echoing STATE lines), generates the JSONL (RECORD lines with a
STATE every 10,000), then times, in the same run:
  1. `cat file | cat > /dev/null`                                   (the floor: bytes through a pipe)
  2. `docker run -i source read ... | docker run -i destination write ...` (the same containers,
     joined by a shell pipe: data through dockerd's attached stdio)
  3. `ducto sync` with the docker runner (FIFOs; spec and catalog cached by a warm-up run)
  4. the same two connectors as host processes: a shell pipe, then `ducto sync` (process runner),
     which isolates the orchestrator's own cost from container start-up
and prints the ratios, plus the orchestrator's peak RSS (for --records and --rss-records).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_IMAGE = "ducto-bench/replay-source:dev"
DESTINATION_IMAGE = "ducto-bench/discard-destination:dev"
BASE_IMAGE = "ducto/base:dev"
STATE_EVERY = 10_000


def build_images() -> None:
    for image, script in ((SOURCE_IMAGE, "replay_source.py"), (DESTINATION_IMAGE, "discard_destination.py")):
        with tempfile.TemporaryDirectory(prefix="ducto-bench-build-") as context:
            shutil.copy(HERE / "connectors" / script, Path(context) / script)
            (Path(context) / "Dockerfile").write_text(
                f'FROM {BASE_IMAGE}\nCOPY {script} /app/{script}\nENTRYPOINT ["python", "/app/{script}"]\n'
            )
            subprocess.run(
                ["docker", "build", "-q", "-t", image, context],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


def generate(path: Path, records: int) -> int:
    """Write `records` RECORD lines (about 270 bytes each) with a STATE line every STATE_EVERY."""
    cities = ["Lisbon", "Porto", "Berlin", "Paris", "Madrid", "Rome", "Oslo", "Vienna"]
    with path.open("wb", buffering=1 << 22) as handle:
        batch: list[str] = []
        for i in range(1, records + 1):
            batch.append(
                f'{{"type":"RECORD","record":{{"stream":"users","data":{{"id":{i},"name":"User {i:08d}",'
                f'"email":"user{i}@example.com","age":{18 + i % 60},"city":"{cities[i % 8]}",'
                f'"created_at":"2024-01-{1 + i % 28:02d}T12:{i % 60:02d}:00Z","score":{(i * 7919) % 10000 / 100},'
                f'"active":{"true" if i % 3 else "false"},"tags":["t{i % 5}","t{i % 7}"]}},'
                f'"emitted_at":1700000000000}}}}\n'
            )
            if i % STATE_EVERY == 0 or i == records:
                batch.append(
                    f'{{"type":"STATE","state":{{"type":"STREAM","stream":{{"stream_descriptor":{{"name":"users"}},'
                    f'"stream_state":{{"id":{i}}}}},"sourceStats":{{"recordCount":{STATE_EVERY}.0}}}}}}\n'
                )
            if len(batch) >= 10_000:
                handle.write("".join(batch).encode())
                batch.clear()
        handle.write("".join(batch).encode())
    return path.stat().st_size


def timed(command: list[str] | str, *, shell: bool = False, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB of the process itself) for one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, shell=shell, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {command}\n{stderr}")
    return elapsed, usage.ru_maxrss


def write_connection(directory: Path, local: Path) -> Path:
    connection = directory / "bench.yaml"
    connection.write_text(
        f"source: {{image: {SOURCE_IMAGE}, config: {{path: /local/records.jsonl}}}}\n"
        f"destination: {{image: {DESTINATION_IMAGE}, config: {{}}}}\n"
        "streams: [{name: users, sync_mode: full_refresh, destination_sync_mode: append}]\n"
        f"local_dir: {local}\n"
    )
    return connection


def write_process_connection(directory: Path, data: Path) -> Path:
    """The same two connectors as local processes (process runner): the orchestrator's own overhead."""
    connection = directory / "bench-process.yaml"
    python = sys.executable
    connection.write_text(
        f"source: {{command: [{python}, {HERE / 'connectors' / 'replay_source.py'}], config: {{path: {data}}}}}\n"
        f"destination: {{command: [{python}, {HERE / 'connectors' / 'discard_destination.py'}], config: {{}}}}\n"
        "streams: [{name: users, sync_mode: full_refresh, destination_sync_mode: append}]\n"
    )
    return connection


def process_pipe_command(data: Path, configs: Path) -> str:
    python = sys.executable
    return (
        f"{python} {HERE / 'connectors' / 'replay_source.py'} read --config {configs / 'source-host.json'}"
        f" --catalog {configs / 'catalog.json'} | {python} {HERE / 'connectors' / 'discard_destination.py'} write"
        f" --config {configs / 'destination.json'} --catalog {configs / 'catalog.json'} > /dev/null"
    )


def shell_pipe_command(local: Path, configs: Path) -> str:
    user = "--user 1000:1000"
    mounts = f"-v {local}:/local:ro -v {configs}:/cfg:ro"
    return (
        f"docker run --rm -i {user} {mounts} {SOURCE_IMAGE} read --config /cfg/source.json --catalog /cfg/catalog.json"
        f" | docker run --rm -i {user} {mounts} {DESTINATION_IMAGE} write --config /cfg/destination.json"
        " --catalog /cfg/catalog.json > /dev/null"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--rss-records",
        type=int,
        default=0,
        help="also measure the orchestrator's peak RSS at this many records (e.g. 10000000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each pipeline; the median is reported")
    parser.add_argument("--workdir", help="where to put the JSONL (default: a temp dir, removed afterwards)")
    parser.add_argument("--keep-images", action="store_true", help="keep the two benchmark images afterwards")
    args = parser.parse_args()

    ducto = [sys.executable, "-c", "from ducto.orchestrator.cli.main import main; main()"]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ducto-bench-"))
    local, configs, home = work / "local", work / "cfg", work / "home"
    for directory in (local, configs, home):
        directory.mkdir(parents=True, exist_ok=True)
    os.chmod(local, 0o755)
    env = {**os.environ, "DUCTO_HOME": str(home)}
    try:
        print(f"building images FROM {BASE_IMAGE} ...", flush=True)
        build_images()
        data = local / "records.jsonl"
        size = generate(data, args.records)
        os.chmod(data, 0o644)
        print(f"{args.records:,} records, {size / 1e6:.1f} MB of JSONL", flush=True)
        (configs / "source.json").write_text('{"path": "/local/records.jsonl"}')
        (configs / "source-host.json").write_text(f'{{"path": "{data}"}}')
        (configs / "destination.json").write_text("{}")
        (configs / "catalog.json").write_text(
            '{"streams":[{"stream":{"name":"users","json_schema":{"type":"object"},'
            '"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh",'
            '"destination_sync_mode":"append","cursor_field":[],"primary_key":[]}]}'
        )
        for path in configs.iterdir():
            os.chmod(path, 0o644)
        connection = write_connection(work, local)
        sync_command = [*ducto, "sync", str(connection), "--progress", "plain"]
        timed(sync_command, env=env)  # warm-up: caches the spec and the catalog, like any later run
        process_sync = [*ducto, "sync", str(write_process_connection(work, data)), "--progress", "plain"]

        results: dict[str, list[float]] = {
            "cat | cat": [],
            "docker | docker": [],
            "ducto sync": [],
            "python | python": [],
            "ducto (process)": [],
        }
        rss: list[int] = []
        for _ in range(args.repeat):
            results["cat | cat"].append(timed(f"cat {data} | cat > /dev/null", shell=True)[0])
            results["docker | docker"].append(timed(shell_pipe_command(local, configs), shell=True)[0])
            seconds, peak = timed(sync_command, env=env)
            results["ducto sync"].append(seconds)
            rss.append(peak)
            results["python | python"].append(timed(process_pipe_command(data, configs), shell=True)[0])
            results["ducto (process)"].append(timed(process_sync, env=env)[0])
        median = {name: statistics.median(values) for name, values in results.items()}
        print(f"\nmedian of {args.repeat} runs, {args.records:,} records ({size / 1e6:.0f} MB):")
        for name, seconds in median.items():
            print(
                f"  {name:<16} {seconds:7.2f} s  {size / 1e6 / seconds:8.1f} MB/s  runs: "
                + ", ".join(f"{v:.2f}" for v in results[name])
            )
        print(
            f"  ducto sync / docker | docker = {median['ducto sync'] / median['docker | docker']:.2f}x"
            " (target <= 1.15x)"
        )
        print(f"  ducto sync / cat | cat       = {median['ducto sync'] / median['cat | cat']:.2f}x")
        print(
            "  ducto (process runner) / python | python (same two processes, shell pipe) = "
            f"{median['ducto (process)'] / median['python | python']:.2f}x"
        )
        print(f"  orchestrator peak RSS at {args.records:,} records: {max(rss) / 1024:.1f} MB")
        if args.rss_records:
            size = generate(data, args.rss_records)
            seconds, peak = timed(sync_command, env=env)
            print(
                f"  orchestrator peak RSS at {args.rss_records:,} records ({size / 1e9:.2f} GB):"
                f" {peak / 1024:.1f} MB, sync took {seconds:.1f} s"
            )
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        if not args.keep_images:
            subprocess.run(["docker", "rmi", "-f", SOURCE_IMAGE, DESTINATION_IMAGE], check=False, capture_output=True)


if __name__ == "__main__":
    main()
