"""A small source speaking the Airbyte Protocol by hand, correct unless told to break one rule.

The rule to break comes from the DEFECT environment variable (see DEFECTS); without it the source
passes every acceptance check. It uses only the standard library so each run starts fast.

Streams: `users` (primary key id, cursor updated_at, incremental, checkpoint every 3 records) and
`events` (no primary key, full refresh only).
"""

from __future__ import annotations

import json
import os
import sys
import time

DEFECT = os.environ.get("DEFECT", "")
DEFECTS = {
    "no_spec",
    "two_specs",
    "invalid_spec_schema",
    "secret_not_marked",
    "check_failed_nonzero",
    "check_always_succeeds",
    "check_exception_no_trace",
    "duplicate_streams",
    "cursor_not_in_schema",
    "pk_not_in_schema",
    "invalid_stream_schema",
    "record_not_matching_schema",
    "extra_column",
    "null_pk",
    "empty_stream",
    "missing_stream_status",
    "running_after_records",
    "legacy_state",
    "no_source_stats",
    "no_state",
    "unknown_stream_silent",
    "read_crash",
    "stdout_garbage",
    "full_refresh_random",
    "incremental_reemits",
    "checkpoint_skips",
    "future_state_no_state",
    "label_changed",
    "hang_discover",
    "check_leaks_secret",
    "spec_all_defaults",  # not a defect: a spec whose defaults alone make a valid config
}
if DEFECT and DEFECT not in DEFECTS:
    sys.exit(f"unknown DEFECT {DEFECT!r}")

SPEC = {
    "documentationUrl": "https://example.invalid/rulebreaker",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["api_key"],
        "properties": {
            "api_key": {"type": "string", "airbyte_secret": True},
            "users": {"type": "integer", "minimum": 0},
            "mode": {"type": "string", "enum": ["ok", "bad", "crash"]},
        },
    },
}
USERS_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "updated_at": {"type": "integer"}},
}
EVENTS_SCHEMA = {"type": "object", "properties": {"kind": {"type": "string"}, "n": {"type": "integer"}}}


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")


def now() -> int:
    return time.time_ns() // 1_000_000


def status(stream: str, value: str) -> None:
    emit(
        {
            "type": "TRACE",
            "trace": {
                "type": "STREAM_STATUS",
                "emitted_at": now(),
                "stream_status": {"stream_descriptor": {"name": stream}, "status": value},
            },
        }
    )


def error(message: str, failure_type: str = "system_error") -> None:
    emit(
        {
            "type": "TRACE",
            "trace": {
                "type": "ERROR",
                "emitted_at": now(),
                "error": {"message": message, "failure_type": failure_type},
            },
        }
    )


def state(stream: str, blob: dict, count: int) -> None:
    if DEFECT == "legacy_state":
        emit({"type": "STATE", "state": {"type": "LEGACY", "data": {stream: blob}}})
        return
    payload: dict = {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}
    if DEFECT != "no_source_stats":
        payload["sourceStats"] = {"recordCount": float(count)}
    emit({"type": "STATE", "state": payload})


def record(stream: str, data: dict) -> None:
    emit({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": now()}})


def spec() -> int:
    if DEFECT == "no_spec":
        emit({"type": "LOG", "log": {"level": "INFO", "message": "no spec today"}})
        return 0
    s = json.loads(json.dumps(SPEC))
    if DEFECT == "invalid_spec_schema":
        s["connectionSpecification"]["properties"]["users"]["minimum"] = "zero"
    if DEFECT == "spec_all_defaults":
        s["connectionSpecification"]["required"] = []
        s["connectionSpecification"]["properties"]["api_key"]["default"] = "k-default"
        s["connectionSpecification"]["properties"]["users"]["default"] = 3
    if DEFECT == "secret_not_marked":
        del s["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"]
    emit({"type": "SPEC", "spec": s})
    if DEFECT == "two_specs":
        emit({"type": "SPEC", "spec": s})
    return 0


def check(config: dict) -> int:
    mode = config.get("mode", "ok")
    if mode == "crash":
        if DEFECT == "check_exception_no_trace":
            sys.stderr.write("Traceback (most recent call last):\nRuntimeError: crash\n")
            return 1
        error("unexpected crash while checking", "system_error")
        return 1
    if mode == "bad" and DEFECT != "check_always_succeeds":
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "api key refused"}})
        return 1 if DEFECT == "check_failed_nonzero" else 0
    if DEFECT == "check_leaks_secret":
        sys.stderr.write(f"calling the API with key {config.get('api_key')}\n")
        error(f"the API refused key {config.get('api_key')}", "config_error")
        return 1
    emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
    return 0


def streams() -> list[dict]:
    users_schema = json.loads(json.dumps(USERS_SCHEMA))
    users = {
        "name": "users",
        "json_schema": users_schema,
        "supported_sync_modes": ["full_refresh", "incremental"],
        "source_defined_cursor": True,
        "default_cursor_field": ["updated_at"],
        "source_defined_primary_key": [["id"]],
    }
    events = {"name": "events", "json_schema": EVENTS_SCHEMA, "supported_sync_modes": ["full_refresh"]}
    if DEFECT == "cursor_not_in_schema":
        users["default_cursor_field"] = ["modified"]
    if DEFECT == "pk_not_in_schema":
        users["source_defined_primary_key"] = [["uuid"]]
    if DEFECT == "invalid_stream_schema":
        users_schema["properties"]["name"]["type"] = "text"
    out = [users, events]
    if DEFECT == "duplicate_streams":
        out.append(dict(events))
    return out


def discover() -> int:
    if DEFECT == "hang_discover":
        time.sleep(60)
    emit({"type": "CATALOG", "catalog": {"streams": streams()}})
    return 0


def read_users(config: dict, stream_state: dict | None, incremental: bool) -> None:
    total = int(config.get("users", 10))
    since = (stream_state or {}).get("updated_at", 0) if incremental else 0
    if DEFECT == "incremental_reemits":
        since = 0
    status("users", "STARTED")
    count = emitted = 0
    cursor = since
    for i in range(1, total + 1):
        updated_at = i * 10
        if updated_at <= since:
            continue
        if emitted == 0 and DEFECT not in ("missing_stream_status", "running_after_records"):
            status("users", "RUNNING")
        data: dict = {"id": i, "name": f"user {i}", "updated_at": updated_at}
        if DEFECT == "record_not_matching_schema" and i == 2:
            data["id"] = "two"
        if DEFECT == "extra_column":
            data["surprise"] = True
        if DEFECT == "null_pk" and i == 3:
            data["id"] = None
        if DEFECT == "label_changed" and i == 1:
            data["name"] = "someone else"
        if DEFECT == "full_refresh_random":
            data["id"] = int(time.time_ns() % 1_000_000_007) + i
        record("users", data)
        emitted += 1
        count += 1
        if DEFECT == "running_after_records" and emitted == 1:
            status("users", "RUNNING")
        cursor = max(cursor, updated_at)
        if emitted % 3 == 0 and DEFECT != "no_state":
            blob = {"updated_at": cursor + (1000 if DEFECT == "checkpoint_skips" else 0)}
            state("users", blob, count)
            count = 0
    if DEFECT not in ("no_state", "future_state_no_state") or (DEFECT == "future_state_no_state" and emitted):
        state("users", {"updated_at": cursor}, count)
    if DEFECT != "missing_stream_status":
        status("users", "COMPLETE")


def read_events() -> None:
    status("events", "STARTED")
    if DEFECT != "empty_stream":
        if DEFECT != "missing_stream_status":
            status("events", "RUNNING")
        for n in range(4):
            record("events", {"kind": "click" if n % 2 else "view", "n": n})
    if DEFECT != "no_state":
        state("events", {}, 0 if DEFECT == "empty_stream" else 4)
    status("events", "COMPLETE")


def read(config: dict, catalog: dict, states: list) -> int:
    if DEFECT == "read_crash":
        error("the API answered 500", "transient_error")
        return 1
    if DEFECT == "stdout_garbage":
        print("DEBUG: starting the read")
    by_stream = {}
    for s in states or []:
        if s.get("type") == "STREAM":
            by_stream[s["stream"]["stream_descriptor"]["name"]] = s["stream"].get("stream_state")
    failed = False
    for cs in catalog["streams"]:
        name = cs["stream"]["name"]
        if name == "users":
            read_users(config, by_stream.get("users"), cs.get("sync_mode") == "incremental")
        elif name == "events":
            read_events()
        elif DEFECT != "unknown_stream_silent":
            error(f"stream {name} does not exist", "config_error")
            failed = True
    return 1 if failed else 0


def load(flag: str, args: list[str]) -> object:
    if flag not in args:
        return None
    with open(args[args.index(flag) + 1]) as f:
        return json.load(f)


def main(args: list[str]) -> int:
    command = args[0] if args else ""
    config = load("--config", args) or {}
    if command == "spec":
        return spec()
    if command == "check":
        return check(config)
    if command == "discover":
        return discover()
    if command == "read":
        return read(config, load("--catalog", args), load("--state", args) or [])
    sys.stderr.write(f"unknown command {command!r}\n")
    return 2


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.exit(code)
