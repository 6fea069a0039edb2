"""Benchmark: source-faker alone against `cat` of the same bytes.

    .venv/bin/python bench/source_faker.py [--count 1000000] [--stream users] [--image]

1. source-faker writes `count` records of one stream to a file (its `read` output, every message);
2. it generates them again into /dev/null, timed (in-process through the SDK's real `run`, or with
   --image through `docker run ducto/source-faker:dev`);
3. `cat file > /dev/null` is timed on the same bytes (after a warm-up read, so from the page cache);
prints records/s, MB/s and the ratio faker / cat (how far faker is from "free").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "connectors" / "source-faker"))


def write_inputs(folder: Path, count: int, stream: str, seed: int) -> tuple[Path, Path]:
    config = folder / "config.json"
    catalog = folder / "catalog.json"
    product_count = count if stream == "products" else 100
    config.write_text(
        json.dumps({"count": count, "seed": seed, "records_per_slice": 10_000, "product_count": product_count})
    )
    catalog.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["incremental"]},
                        "sync_mode": "incremental",
                        "destination_sync_mode": "append",
                    }
                ]
            }
        )
    )
    return config, catalog


def run_in_process(config: Path, catalog: Path, out_path: str) -> tuple[float, float]:
    """Wall and CPU seconds of one in-process `read` into `out_path`."""
    from source_faker import SourceFaker  # type: ignore[attr-defined]  # the connector, not this file

    from ducto.protocol.sdk import run

    cpu0, t0 = time.process_time(), time.perf_counter()
    with open(out_path, "wb") as out:
        code = run(SourceFaker(), ["read", "--config", str(config), "--catalog", str(catalog)], stdout=out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if code != 0:
        raise SystemExit(f"source-faker exited with {code}")
    return wall, cpu


def run_image(folder: Path, out_path: str, image: str) -> tuple[float, float]:
    """Wall seconds of the image's `read`, its stdout redirected inside the container.

    Redirected to a file in the mounted folder (or /dev/null), not through `docker run`'s attached
    stdout: dockerd relays every byte of that (~60 MB/s), which is why the orchestrator connects
    containers through FIFOs; this measures the connector, as the orchestrator's data path sees it.
    CPU time is not measurable from here (NaN). Includes container start (~0.5-1 s).
    """
    target = "/local/output.jsonl" if out_path != os.devnull else "/dev/null"
    script = "$AIRBYTE_ENTRYPOINT read --config /local/config.json --catalog /local/catalog.json > " + target
    cmd = ["docker", "run", "--rm", "-v", f"{folder}:/local", "--entrypoint", "sh", image, "-c", script]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0, float("nan")


def time_cat(path: Path) -> float:
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    t0 = time.perf_counter()
    subprocess.run(f"cat {path} > /dev/null", shell=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--stream", default="users", choices=["users", "products", "purchases"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--image", nargs="?", const="ducto/source-faker:dev", help="run through this image")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-faker-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o777)  # the image runs as uid 1000
        config, catalog = write_inputs(folder, args.count, args.stream, args.seed)
        data = folder / "output.jsonl"

        def runner(out: str) -> tuple[float, float]:
            if args.image:
                return run_image(folder, out, args.image)
            return run_in_process(config, catalog, out)

        runner(str(data))  # 1: the bytes cat will read
        size = data.stat().st_size
        records = sum(1 for line in data.open("rb") if line.startswith(b'{"type":"RECORD"'))
        if records != args.count:
            raise SystemExit(f"expected {args.count} records, got {records}")
        wall, cpu = runner(os.devnull)  # 2: regenerate, timed
        cat = time_cat(data)  # 3: the baseline
        mb = size / 1e6
        how = f"image {args.image}" if args.image else "in-process"
        print(f"source-faker {args.stream} x {records:,} ({mb:.1f} MB, {size / records:.0f} B/record), {how}")
        print(f"  faker : {wall:7.3f} s  {records / wall:>12,.0f} records/s  {mb / wall:8.1f} MB/s", end="")
        print(f"  (cpu {cpu:.3f} s: {records / cpu:,.0f} records per cpu-s)" if cpu == cpu else "")
        print(f"  cat   : {cat:7.3f} s  {records / cat:>12,.0f} records/s  {mb / cat:8.1f} MB/s")
        print(f"  ratio faker/cat throughput: {cat / wall:.4f}  (cat is {wall / cat:.0f}x faster)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS of this process: {peak:.0f} MB; load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
