"""Golden message streams for destination checks.

Two streams interleaved with per-stream STATEs: `ducto_edge_cases` (every JSON Schema type, nulls,
unicode, big and negative numbers, nested objects and arrays, a column added mid-stream) and
`ducto_second` (plain rows, a primary key and a cursor, duplicates for dedup). Each write gets a
`run` number so two writes are told apart; records are stamped in order.
"""

from __future__ import annotations

from typing import Any

from ducto.protocol import json

EDGE = "ducto_edge_cases"
SECOND = "ducto_second"

EDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "amount": {"type": ["null", "number"]},
        "big": {"type": ["null", "integer"]},
        "label": {"type": ["null", "string"]},
        "active": {"type": ["null", "boolean"]},
        "created_at": {"type": ["null", "string"], "format": "date-time"},
        "day": {"type": ["null", "string"], "format": "date"},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}},
        "address": {"type": ["null", "object"], "properties": {"city": {"type": "string"}}},
        "updated": {"type": "integer"},
        "note": {"type": ["null", "string"]},
    },
}
SECOND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"key": {"type": "string"}, "value": {"type": ["null", "integer"]}, "seq": {"type": "integer"}},
}

_EDGE_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "amount": 12.5,
        "big": 9007199254740993,
        "label": "plain",
        "active": True,
        "created_at": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "tags": ["a", "b"],
        "address": {"city": "Paris"},
        "updated": 1,
    },
    {
        "id": 2,
        "amount": -0.001,
        "big": -42,
        "label": 'héllo wörld 🌍 — "quoted" \\ back\nslash',
        "active": False,
        "created_at": "1999-12-31T23:59:59+00:00",
        "day": "1999-12-31",
        "tags": [],
        "address": {"city": "東京"},
        "updated": 1,
    },
    {
        "id": 3,
        "amount": None,
        "big": None,
        "label": None,
        "active": None,
        "created_at": None,
        "day": None,
        "tags": None,
        "address": None,
        "updated": 1,
    },
    {"id": 4, "amount": 0, "big": 0, "label": "", "active": True, "tags": ["x"], "updated": 1},
    # a column appears mid-stream (schema evolution within the declared schema)
    {"id": 5, "amount": 1e10, "label": "late column", "note": "now with a note", "updated": 1},
]
_SECOND_ROWS: list[dict[str, Any]] = [{"key": f"k{i}", "value": i * 10, "seq": i} for i in range(1, 7)]


ADDED_COLUMN = "added_later"


def edge_schema(run: int) -> dict[str, Any]:
    """The edge-case stream's schema: from the second sync on it has one more column (schema change)."""
    if run < 2:
        return EDGE_SCHEMA
    return {**EDGE_SCHEMA, "properties": {**EDGE_SCHEMA["properties"], ADDED_COLUMN: {"type": ["null", "string"]}}}


def configured_catalog(sync_mode: str, destination_sync_mode: str, run: int = 1) -> dict[str, Any]:
    """The configured catalog of the golden streams for one destination sync mode and sync number."""
    streams = []
    for name, schema, pk, cursor in ((EDGE, edge_schema(run), "id", "updated"), (SECOND, SECOND_SCHEMA, "key", "seq")):
        streams.append(
            {
                "stream": {
                    "name": name,
                    "json_schema": schema,
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": [cursor],
                    "source_defined_primary_key": [[pk]],
                },
                "sync_mode": sync_mode,
                "destination_sync_mode": destination_sync_mode,
                "cursor_field": [cursor],
                "primary_key": [[pk]],
                "generation_id": 1,
                "minimum_generation_id": 1 if destination_sync_mode == "overwrite" else 0,
                "sync_id": 1,
            }
        )
    return {"streams": streams}


def _record(stream: str, data: dict[str, Any], emitted_at: int) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": emitted_at}}


def _state(stream: str, position: int, run: int) -> dict[str, Any]:
    return {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"position": position, "run": run}},
            "sourceStats": {"recordCount": 0},
        },
    }


def _status(stream: str, status: str) -> dict[str, Any]:
    return {
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": 1_700_000_000_000,
            "stream_status": {"stream_descriptor": {"name": stream}, "status": status},
        },
    }


def messages(run: int = 1, *, second_value_offset: int = 0) -> list[dict[str, Any]]:
    """One sync's messages: statuses, interleaved records of both streams, per-stream STATEs."""
    stamp = 1_700_000_000_000 + run * 1_000_000
    out: list[dict[str, Any]] = [_status(EDGE, "STARTED"), _status(SECOND, "STARTED")]
    out += [_status(EDGE, "RUNNING"), _status(SECOND, "RUNNING")]
    edge = [{**row, "updated": row["updated"] + run} for row in _EDGE_ROWS]
    if run >= 2:
        edge = [{**row, ADDED_COLUMN: f"v{row['id']}"} for row in edge]
    second = [
        {**row, "value": row["value"] + second_value_offset, "seq": row["seq"] + 100 * run} for row in _SECOND_ROWS
    ]
    n = 0
    out.append(_record(EDGE, edge[0], stamp + (n := n + 1)))
    out.append(_record(SECOND, second[0], stamp + (n := n + 1)))
    out.append(_record(EDGE, edge[1], stamp + (n := n + 1)))
    out.append(_state(EDGE, 2, run))
    out.append(_record(SECOND, second[1], stamp + (n := n + 1)))
    out.append(_state(SECOND, 2, run))
    out.append(_record(EDGE, edge[2], stamp + (n := n + 1)))
    out.append(_record(EDGE, edge[3], stamp + (n := n + 1)))
    for row in second[2:]:
        out.append(_record(SECOND, row, stamp + (n := n + 1)))
    out.append(_state(SECOND, 6, run))
    out.append(_record(EDGE, edge[4], stamp + (n := n + 1)))
    out.append(_state(EDGE, 5, run))
    out.append(_state(EDGE, 5, run))  # a state with no record since the previous one: recordCount 0
    out += [_status(EDGE, "COMPLETE"), _status(SECOND, "COMPLETE")]
    return out


def expected_rows(run: int = 1, *, second_value_offset: int = 0) -> dict[str, list[dict[str, Any]]]:
    """The rows a destination holds after writing `messages(run)` into empty tables."""
    out: dict[str, list[dict[str, Any]]] = {EDGE: [], SECOND: []}
    for m in messages(run, second_value_offset=second_value_offset):
        if m["type"] == "RECORD":
            out[m["record"]["stream"]].append(m["record"]["data"])
    return out


def encode(msgs: list[dict[str, Any]]) -> bytes:
    """Messages as the bytes of a destination's stdin."""
    return b"".join(json.dump_line(m) for m in msgs)
