"""A raw-protocol test destination (no SDK) committing to SQLite and echoing each STATE after commit.

Config: {"path": "out.db", "die_after": N (SIGKILL itself after N records received),
"malformed": false, "hang": false, "fail_with_trace": false, "echo": true}
"""

import json
import os
import signal
import sqlite3
import sys
import time


def arg(name):
    argv = sys.argv
    return argv[argv.index(name) + 1] if name in argv else None


def main():
    command = sys.argv[1]
    out = sys.stdout.buffer
    if command == "spec":
        out.write(
            json.dumps(
                {
                    "type": "SPEC",
                    "spec": {
                        "connectionSpecification": {
                            "type": "object",
                            "required": ["path"],
                            "properties": {"path": {"type": "string"}},
                        },
                        "supported_destination_sync_modes": ["append", "overwrite", "append_dedup"],
                    },
                }
            ).encode()
            + b"\n"
        )
        return 0
    with open(arg("--config")) as handle:
        config = json.load(handle)
    if command == "check":
        out.write(b'{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}\n')
        return 0
    assert command == "write"
    if config.get("exit_on_start") is not None:  # dies before reading a byte of its input
        sys.stderr.write("cannot connect to the warehouse\n")
        return config["exit_on_start"]
    db = sqlite3.connect(config["path"], isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS records (stream TEXT, id INTEGER, line TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS statuses (stream TEXT, status TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS echoed (state TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS catalogs (stream TEXT, sync_id INT, generation INT, minimum INT, mode TEXT)")
    with open(arg("--catalog")) as handle:
        for item in json.load(handle)["streams"]:
            db.execute(
                "INSERT INTO catalogs VALUES (?, ?, ?, ?, ?)",
                (
                    item["stream"]["name"],
                    item.get("sync_id"),
                    item.get("generation_id"),
                    item.get("minimum_generation_id"),
                    item["destination_sync_mode"],
                ),
            )
    db.execute("BEGIN")
    received = 0
    since_state = {}
    stdin = sys.stdin.buffer
    for line in stdin:
        message = json.loads(line)
        kind = message["type"]
        if kind == "RECORD":
            received += 1
            if received == config.get("die_after"):
                os.kill(os.getpid(), signal.SIGKILL)
            if received == 1 and config.get("allocate_mb"):
                hog = bytearray(config["allocate_mb"] << 20)
                for offset in range(0, len(hog), 4096):
                    hog[offset] = 1
            if received == 1 and config.get("hang"):
                time.sleep(3600)
            if received == 1 and config.get("malformed"):
                out.write(b"garbage from the destination\n")
                out.flush()
            if received == 1 and config.get("fail_with_trace"):
                out.write(
                    json.dumps(
                        {
                            "type": "TRACE",
                            "trace": {
                                "type": "ERROR",
                                "emitted_at": 0,
                                "error": {"message": "disk full", "failure_type": "system_error"},
                            },
                        }
                    ).encode()
                    + b"\n"
                )
                out.flush()
                return 2
            record = message["record"]
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?)",
                (record["stream"], record["data"]["id"], line.decode().rstrip("\n")),
            )
            since_state[record["stream"]] = since_state.get(record["stream"], 0) + 1
        elif kind == "STATE":
            db.execute("INSERT INTO echoed VALUES (?)", (json.dumps(message["state"]),))
            db.execute("COMMIT")
            db.execute("BEGIN")
            state = message["state"]
            if config.get("echo_bogus"):  # a broken destination: acknowledges a state nobody sent
                bogus = {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"id": 10**9}},
                }
                out.write(json.dumps({"type": "STATE", "state": bogus}).encode() + b"\n")
            if state["type"] == "GLOBAL":
                state["destinationStats"] = {"recordCount": float(sum(since_state.values()))}
                since_state.clear()
            else:
                name = state["stream"]["stream_descriptor"]["name"]
                state["destinationStats"] = {"recordCount": float(since_state.pop(name, 0))}
            if config.get("echo", True):
                out.write(json.dumps({"type": "STATE", "state": state}).encode() + b"\n")
                out.flush()
        elif kind == "TRACE" and message["trace"]["type"] == "STREAM_STATUS":
            status = message["trace"]["stream_status"]
            db.execute("INSERT INTO statuses VALUES (?, ?)", (status["stream_descriptor"]["name"], status["status"]))
    db.execute("COMMIT")
    out.write(
        json.dumps({"type": "LOG", "log": {"level": "INFO", "message": f"wrote {received} records"}}).encode() + b"\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
