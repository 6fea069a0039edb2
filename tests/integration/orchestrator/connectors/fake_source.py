"""A raw-protocol test source (no SDK): numbered records per stream, incremental on `id`.

Config: {"streams": {"users": 1000}, "state_every": 100, "api_key": "...", "log_secret": false,
"malformed_at": N, "hang_at": N, "fail_at": N, "exit_at": N, "control_at": N, "spaced": false,
"sleep": seconds per record, "legacy_state": false}
"""

import json
import os
import sys
import time

out = sys.stdout.buffer


def emit(message, spaced=False):
    separators = (", ", ": ") if spaced else (",", ":")
    out.write(json.dumps(message, separators=separators).encode() + b"\n")


def arg(name):
    argv = sys.argv
    return argv[argv.index(name) + 1] if name in argv else None


def load(name, default=None):
    path = arg(name)
    if path is None:
        return default
    with open(path) as handle:
        return json.load(handle)


SPEC = {
    "connectionSpecification": {
        "type": "object",
        "required": ["streams"],
        "properties": {
            "streams": {"type": "object", "additionalProperties": {"type": "integer"}},
            "api_key": {"type": "string", "airbyte_secret": True},
            "state_every": {"type": "integer", "minimum": 1},
        },
    }
}


def schema():
    return {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "nested": {"type": "object", "properties": {"x": {"type": "integer"}}},
        },
    }


def main():
    command = sys.argv[1]
    if command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    config = load("--config", {})
    if command == "check":
        ok = config.get("api_key") != "wrong"
        status = {"status": "SUCCEEDED"} if ok else {"status": "FAILED", "message": "bad api_key"}
        emit({"type": "CONNECTION_STATUS", "connectionStatus": status})
        return 0
    if command == "discover":
        streams = [
            {
                "name": name,
                "json_schema": schema(),
                "supported_sync_modes": ["full_refresh", "incremental"],
                "default_cursor_field": ["id"],
                "source_defined_primary_key": [["id"]],
            }
            for name in config["streams"]
        ]
        emit({"type": "CATALOG", "catalog": {"streams": streams}})
        return 0
    assert command == "read", command
    catalog = load("--catalog")
    states = load("--state", [])
    cursors = {}
    for state in states:
        if state["type"] == "GLOBAL":
            for stream_state in state["global"]["stream_states"]:
                cursors[stream_state["stream_descriptor"]["name"]] = stream_state["stream_state"]["id"]
            continue
        descriptor = state["stream"]["stream_descriptor"]
        cursors[descriptor["name"]] = state["stream"]["stream_state"]["id"]
    spaced = config.get("spaced", False)
    every = config.get("state_every", 100)
    emitted = 0
    if config.get("log_env"):
        emit({"type": "LOG", "log": {"level": "WARN", "message": f"env {os.environ.get(config['log_env'])}"}})
    if config.get("log_secret"):
        emit({"type": "LOG", "log": {"level": "WARN", "message": f"using key {config.get('api_key')}"}})
        sys.stderr.write(f"stderr says the key is {config.get('api_key')}\n")
        sys.stderr.flush()
    for configured in catalog["streams"]:
        name = configured["stream"]["name"]
        incremental = configured["sync_mode"] == "incremental"
        start = cursors.get(name, 0) if incremental else 0
        descriptor = {"name": name}
        emit(
            {
                "type": "TRACE",
                "trace": {
                    "type": "STREAM_STATUS",
                    "emitted_at": 0,
                    "stream_status": {"stream_descriptor": descriptor, "status": "STARTED"},
                },
            }
        )
        since_state = 0
        for i in range(start + 1, config["streams"][name] + 1):
            emitted += 1
            if emitted == config.get("malformed_at"):
                out.write(b"this is not json\n")
            if emitted == config.get("hang_at"):
                out.flush()
                time.sleep(3600)
            if emitted == config.get("fail_at"):
                emit(
                    {
                        "type": "TRACE",
                        "trace": {
                            "type": "ERROR",
                            "emitted_at": 0,
                            "error": {
                                "message": f"the API said no at record {emitted}",
                                "failure_type": "system_error",
                            },
                        },
                    }
                )
                out.flush()
                return 1
            if emitted == config.get("kill_at"):
                out.flush()
                os.kill(os.getpid(), 9)
            if emitted == config.get("exit_at"):
                out.flush()
                os._exit(3)
            if emitted == config.get("control_at"):
                emit(
                    {
                        "type": "CONTROL",
                        "control": {
                            "type": "CONNECTOR_CONFIG",
                            "emitted_at": 0,
                            "connectorConfig": {"config": {**config, "api_key": "rotated-key-123", "control_at": None}},
                        },
                    }
                )
            if i == start + 1:
                emit(
                    {
                        "type": "TRACE",
                        "trace": {
                            "type": "STREAM_STATUS",
                            "emitted_at": 0,
                            "stream_status": {"stream_descriptor": descriptor, "status": "RUNNING"},
                        },
                    }
                )
            emit(
                {
                    "type": "RECORD",
                    "record": {
                        "stream": name,
                        "data": {"id": i, "name": f"{name}-{i}", "nested": {"x": i % 7}},
                        "emitted_at": 1700000000000,
                    },
                },
                spaced,
            )
            since_state += 1
            if config.get("sleep"):
                out.flush()
                time.sleep(config["sleep"])
            if since_state == every:
                state = {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": descriptor, "stream_state": {"id": i}},
                    "sourceStats": {"recordCount": float(since_state)},
                }
                if config.get("legacy_state"):
                    state = {"type": "LEGACY", "data": {"id": i}}
                if config.get("global_state"):
                    cursors[name] = i
                    state = {
                        "type": "GLOBAL",
                        "global": {
                            "shared_state": {"lsn": emitted},
                            "stream_states": [
                                {"stream_descriptor": {"name": n}, "stream_state": {"id": c}}
                                for n, c in cursors.items()
                            ],
                        },
                    }
                emit({"type": "STATE", "state": state})
                since_state = 0
        final = cursors.get(name, 0) if not incremental else max(start, config["streams"][name])
        if config.get("global_state"):
            cursors[name] = final
            stream_states = [{"stream_descriptor": {"name": n}, "stream_state": {"id": c}} for n, c in cursors.items()]
            state = {"type": "GLOBAL", "global": {"shared_state": {"lsn": emitted}, "stream_states": stream_states}}
        else:
            state = {
                "type": "STREAM",
                "stream": {"stream_descriptor": descriptor, "stream_state": {"id": final}},
                "sourceStats": {"recordCount": float(since_state)},
            }
        emit({"type": "STATE", "state": state})
        emit(
            {
                "type": "TRACE",
                "trace": {
                    "type": "STREAM_STATUS",
                    "emitted_at": 0,
                    "stream_status": {"stream_descriptor": descriptor, "status": "COMPLETE"},
                },
            }
        )
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
