"""Benchmark destination: `write` discards records and echoes every STATE line as received."""

import json
import os
import sys

SPEC = {
    "connectionSpecification": {"type": "object", "properties": {}},
    "supported_destination_sync_modes": ["append", "overwrite"],
}


def main():
    command = sys.argv[1]
    out = sys.stdout.buffer
    if command == "spec":
        out.write(json.dumps({"type": "SPEC", "spec": SPEC}).encode() + b"\n")
        return 0
    if command == "check":
        out.write(b'{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}\n')
        return 0
    pending = b""
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n") + 1
        pending = data[cut:]
        start = data.find(b'{"type":"STATE"', 0, cut)
        while start >= 0:  # only STATE lines are looked at; records are dropped unparsed
            end = data.index(b"\n", start) + 1
            out.write(data[start:end])
            start = data.find(b'{"type":"STATE"', end, cut)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
