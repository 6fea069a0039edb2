"""`python -m ducto.protocol.sdk.selfcheck`: prove that this installation can run connectors.

It is the base image's ENTRYPOINT (`docker run --rm ducto/base:dev`). It imports the SDK, round-trips
a RECORD through the orjson codec, validates a config against a spec's JSON Schema and parses YAML,
then reports on stdout as Airbyte messages: one LOG line per check and a final CONNECTION_STATUS
whose message is the summary. Exit 0 when every check passed; otherwise a TRACE ERROR and exit 1.
A connector image that forgot its own ENTRYPOINT lands here with arguments: that is a usage error.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import BinaryIO

from ducto import __version__
from ducto.protocol.io import MessageWriter
from ducto.protocol.messages import ConnectionStatus, Log, Record, error_trace, parse_message, serialize

USAGE = (
    "this is the ducto base image's self-check and takes no arguments; a connector image sets its own "
    'ENTRYPOINT (e.g. ["python", "-m", "source_example"]) and AIRBYTE_ENTRYPOINT to the same command'
)


def _check_sdk() -> str:
    from ducto.protocol import sdk

    missing = [name for name in ("launch", "Source", "Stream", "Destination") if not hasattr(sdk, name)]
    if missing:
        raise RuntimeError(f"ducto.protocol.sdk lacks {', '.join(missing)}")
    return "connector SDK imports (launch, Source, Stream, Destination)"


def _check_codec() -> str:
    record = Record("selfcheck", {"id": 1, "name": "ducto", "nested": {"ok": True}}, 1_700_000_000_000)
    line = serialize(record)
    parsed = parse_message(line).payload
    if not isinstance(parsed, Record) or parsed.data != record.data or parsed.emitted_at != record.emitted_at:
        raise RuntimeError(f"RECORD did not survive a round trip through the codec: {line!r}")
    return f"orjson {metadata.version('orjson')} round-trips a RECORD"


def _check_config_validation() -> str:
    import jsonschema
    import yaml

    schema = yaml.safe_load("type: object\nrequired: [count]\nproperties: {count: {type: integer}}\n")
    jsonschema.validate({"count": 3}, schema)
    try:
        jsonschema.validate({"count": "three"}, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise RuntimeError("jsonschema accepted a config that breaks its spec")
    versions = f"jsonschema {metadata.version('jsonschema')}, PyYAML {metadata.version('PyYAML')}"
    return f"{versions}: a config is validated against a YAML spec"


CHECKS: list[Callable[[], str]] = [_check_sdk, _check_codec, _check_config_validation]


def run(argv: Sequence[str], out: BinaryIO) -> int:
    """Run every check, writing Airbyte messages to `out`; return the exit code."""
    writer = MessageWriter(out)
    if argv:
        writer.write(error_trace(f"unexpected arguments {' '.join(argv)!r}: {USAGE}", "config_error"))
        writer.flush()
        return 2
    passed: list[str] = []
    for check in CHECKS:
        try:
            passed.append(check())
        except Exception as exc:
            writer.write(error_trace(f"self-check {check.__name__.lstrip('_')} failed: {exc}", "system_error"))
            writer.flush()
            return 1
        writer.write(Log("INFO", f"ok: {passed[-1]}"))
    where = f"Python {platform.python_version()} at {sys.prefix}, uid {os.getuid()}"
    summary = f"ducto {__version__} ready to run connectors ({where}); {len(passed)} checks passed"
    writer.write(ConnectionStatus("SUCCEEDED", summary))
    writer.flush()
    return 0


def main() -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:], sys.stdout.buffer))


if __name__ == "__main__":
    main()
