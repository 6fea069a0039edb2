"""A small destination speaking the Airbyte Protocol by hand, correct unless told to break one rule.

Rows go to `<dir>/<stream>.jsonl` (config key `dir`). Each STATE is echoed only after every record
before it is flushed and fsynced, in order, with destinationStats.recordCount. overwrite truncates at
the start of the write, append appends, append_dedup keeps the latest row per primary key (by cursor).
The rule to break comes from the DEFECT environment variable.
"""

from __future__ import annotations

import json
import os
import sys

DEFECT = os.environ.get("DEFECT", "")
DEFECTS = {
    "wrong_count",
    "drop_state",
    "reorder_states",
    "early_echo",
    "no_dedup",
    "append_truncates",
    "lossy",
    "drops_new_column",
}
if DEFECT and DEFECT not in DEFECTS:
    sys.exit(f"unknown DEFECT {DEFECT!r}")

SPEC = {
    "documentationUrl": "https://example.invalid/dest-rulebreaker",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "connectionSpecification": {
        "type": "object",
        "required": ["dir"],
        "properties": {"dir": {"type": "string"}},
    },
}


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def load(flag: str, args: list[str]) -> dict:
    with open(args[args.index(flag) + 1]) as f:
        return json.load(f)


def path_of(folder: str, stream: str) -> str:
    return os.path.join(folder, f"{stream}.jsonl")


def read_rows(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_rows(path: str, rows: list[dict], mode: str) -> None:
    with open(path, mode) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=DEFECT == "lossy") + "\n")
        f.flush()
        os.fsync(f.fileno())


def lossy(data: dict) -> dict:
    return {k: (int(v) if isinstance(v, float) else v) for k, v in data.items()}


def write(config: dict, catalog: dict) -> int:
    folder = config["dir"]
    streams = {cs["stream"]["name"]: cs for cs in catalog["streams"]}
    for name, cs in streams.items():
        truncate = cs["destination_sync_mode"] == "overwrite" or DEFECT == "append_truncates"
        if truncate and os.path.exists(path_of(folder, name)):
            os.remove(path_of(folder, name))
    pending: dict[str, list[dict]] = {name: [] for name in streams}
    counts = dict.fromkeys(streams, 0)
    held: list[dict] = []

    def flush() -> None:
        for name, rows in pending.items():
            if not rows:
                continue
            cs = streams[name]
            path = path_of(folder, name)
            if cs["destination_sync_mode"] == "append_dedup" and DEFECT != "no_dedup":
                pk, cursor = cs["primary_key"][0][0], cs["cursor_field"][0]
                latest: dict = {}
                for row in read_rows(path) + rows:
                    key = json.dumps(row.get(pk))
                    if key not in latest or row.get(cursor, 0) >= latest[key].get(cursor, 0):
                        latest[key] = row
                write_rows(path, list(latest.values()), "w")
            else:
                write_rows(path, rows, "a")
            rows.clear()

    for line_no, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            emit(
                {
                    "type": "TRACE",
                    "trace": {
                        "type": "ERROR",
                        "emitted_at": 0,
                        "error": {"message": f"line {line_no} is not valid JSON", "failure_type": "system_error"},
                    },
                }
            )
            return 1
        if msg.get("type") == "RECORD":
            rec = msg["record"]
            data = lossy(rec["data"]) if DEFECT == "lossy" else rec["data"]
            if DEFECT == "drops_new_column":
                data = {k: v for k, v in data.items() if k != "added_later"}
            pending[rec["stream"]].append(data)
            counts[rec["stream"]] += 1
        elif msg.get("type") == "STATE":
            state = msg["state"]
            name = state["stream"]["stream_descriptor"]["name"]
            if DEFECT != "early_echo":
                flush()
            count = counts[name] + (1 if DEFECT == "wrong_count" else 0)
            counts[name] = 0
            echo = {**state, "destinationStats": {"recordCount": float(count)}}
            echo.pop("sourceStats", None)
            if DEFECT == "drop_state" and name == "ducto_second":
                continue
            if DEFECT == "reorder_states":
                held.append(echo)
                continue
            emit({"type": "STATE", "state": echo})
    flush()
    for echo in reversed(held):
        emit({"type": "STATE", "state": echo})
    return 0


def main(args: list[str]) -> int:
    command = args[0] if args else ""
    if command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    if command == "check":
        ok = os.path.isdir(load("--config", args).get("dir", ""))
        emit(
            {
                "type": "CONNECTION_STATUS",
                "connectionStatus": {
                    "status": "SUCCEEDED" if ok else "FAILED",
                    **({} if ok else {"message": "dir does not exist"}),
                },
            }
        )
        return 0
    if command == "write":
        return write(load("--config", args), load("--catalog", args))
    sys.stderr.write(f"unknown command {command!r}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
