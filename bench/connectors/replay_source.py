"""Benchmark source: `read` replays a JSONL file of protocol messages (config `path`) to stdout."""

import json
import os
import sys

SPEC = {"connectionSpecification": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}}
STREAM = {"name": "users", "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"]}


def main():
    command = sys.argv[1]
    out = sys.stdout.buffer
    if command == "spec":
        out.write(json.dumps({"type": "SPEC", "spec": SPEC}).encode() + b"\n")
    elif command == "check":
        out.write(b'{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}\n')
    elif command == "discover":
        out.write(json.dumps({"type": "CATALOG", "catalog": {"streams": [STREAM]}}).encode() + b"\n")
    elif command == "read":
        with open(sys.argv[sys.argv.index("--config") + 1]) as handle:
            path = json.load(handle)["path"]
        out.flush()
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        offset = 0
        while offset < size:  # sendfile: the kernel copies file pages straight into the pipe
            sent = os.sendfile(1, fd, offset, min(1 << 24, size - offset))
            if sent == 0:
                break
            offset += sent
    return 0


if __name__ == "__main__":
    sys.exit(main())
