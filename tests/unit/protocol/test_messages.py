"""Every message type round-trips, keeps unknown fields, and malformed input names its line."""

from __future__ import annotations

import io

import pytest

from ducto.protocol import json
from ducto.protocol.errors import ProtocolError
from ducto.protocol.io import read_messages
from ducto.protocol.messages import (
    ConfiguredCatalog,
    Record,
    State,
    load_configured_catalog,
    load_state,
    message_to_dict,
    parse_message,
    serialize,
)
from ducto.protocol.schema import validate_message

STREAM = {"name": "users", "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh", "incremental"]}

EXAMPLES = {
    "RECORD": {"type": "RECORD", "record": {"stream": "users", "data": {"id": 1, "n": {"x": [1, 2]}}, "emitted_at": 1}},
    "RECORD_FULL": {
        "type": "RECORD",
        "record": {
            "stream": "users",
            "namespace": "crm",
            "data": {"id": 1},
            "emitted_at": 1700000000000,
            "meta": {"changes": [{"field": "age", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}]},
        },
    },
    "STATE_STREAM": {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "users", "namespace": "crm"}, "stream_state": {"cursor": "2024"}},
            "sourceStats": {"recordCount": 10.0},
            "destinationStats": {"recordCount": 10.0},
        },
    },
    "STATE_GLOBAL": {
        "type": "STATE",
        "state": {
            "type": "GLOBAL",
            "global": {
                "shared_state": {"lsn": 42},
                "stream_states": [{"stream_descriptor": {"name": "a"}, "stream_state": {"x": 1}}],
            },
        },
    },
    "LOG": {"type": "LOG", "log": {"level": "WARN", "message": "careful", "stack_trace": "..."}},
    "SPEC": {
        "type": "SPEC",
        "spec": {
            "documentationUrl": "https://example.com",
            "connectionSpecification": {
                "type": "object",
                "properties": {"k": {"type": "string", "airbyte_secret": True}},
            },
            "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
            "supportsIncremental": True,
        },
    },
    "CONNECTION_STATUS": {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "bad key"}},
    "CATALOG": {
        "type": "CATALOG",
        "catalog": {
            "streams": [
                {
                    **STREAM,
                    "source_defined_cursor": True,
                    "default_cursor_field": ["updated_at"],
                    "source_defined_primary_key": [["id"]],
                    "namespace": "crm",
                    "is_resumable": True,
                }
            ]
        },
    },
    "TRACE_ERROR": {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "emitted_at": 1.5,
            "error": {
                "message": "failed",
                "internal_message": "x",
                "stack_trace": "tb",
                "failure_type": "config_error",
                "stream_descriptor": {"name": "users"},
            },
        },
    },
    "TRACE_ESTIMATE": {
        "type": "TRACE",
        "trace": {
            "type": "ESTIMATE",
            "emitted_at": 2,
            "estimate": {"name": "users", "type": "STREAM", "row_estimate": 5, "byte_estimate": 100},
        },
    },
    "TRACE_STREAM_STATUS": {
        "type": "TRACE",
        "trace": {
            "type": "STREAM_STATUS",
            "emitted_at": 3,
            "stream_status": {"stream_descriptor": {"name": "users"}, "status": "COMPLETE"},
        },
    },
    "TRACE_ANALYTICS": {
        "type": "TRACE",
        "trace": {"type": "ANALYTICS", "emitted_at": 4, "analytics": {"type": "x", "value": "y"}},
    },
    "CONTROL": {
        "type": "CONTROL",
        "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 5, "connectorConfig": {"config": {"token": "new"}}},
    },
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_message_round_trips(name: str) -> None:
    original = EXAMPLES[name]
    msg = parse_message(json.dumps(original))
    assert json.loads(serialize(msg)) == original
    validate_message(json.loads(serialize(msg)))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_unknown_fields_survive_at_every_level(name: str) -> None:
    original = json.loads(json.dumps(EXAMPLES[name]))
    original["future_envelope_field"] = {"a": 1}
    payload_key = next(k for k in original if k not in ("type", "future_envelope_field"))
    original[payload_key]["future_payload_field"] = [1, "two"]
    again = json.loads(serialize(parse_message(json.dumps(original))))
    assert again == original


def test_nested_unknown_fields_survive() -> None:
    doc = {
        "type": "STATE",
        "state": {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "a", "x-descriptor": 1},
                "stream_state": {"deep": {"k": 1}},
                "y": 2,
            },
            "sourceStats": {"recordCount": 1, "z": 3},
        },
    }
    assert json.loads(serialize(parse_message(json.dumps(doc)))) == doc


def test_record_fast_path_is_typed() -> None:
    msg = parse_message(b'{"type":"RECORD","record":{"stream":"s","data":{"a":1},"emitted_at":7}}')
    assert msg.payload == Record("s", {"a": 1}, 7)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"record": {}}', "message has no 'type'"),
        (b'{"type": "NOPE"}', "unknown message type 'NOPE'"),
        (b'{"type": "RECORD"}', "RECORD message has no 'record' payload"),
        (b'{"type":"RECORD","record":{"stream":"s","emitted_at":1}}', "record.data: required field is missing"),
        (b'{"type":"RECORD","record":{"stream":"s","data":[],"emitted_at":1}}', "record.data: expected an object"),
        (b'{"type":"LOG","log":{"level":"LOUD","message":"x"}}', "log.level: 'LOUD' is not one of"),
        (b'{"type":"CONNECTION_STATUS","connectionStatus":{"status":1}}', "connectionStatus.status"),
        (
            b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{}}}}',
            "state.stream.stream_descriptor.name: required field is missing",
        ),
    ],
)
def test_malformed_lines_name_line_and_problem(line: bytes, expected: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_message(line, 12)
    assert str(err.value).startswith("line 12: ")
    assert expected in str(err.value)


def test_reader_reports_the_line_number_of_a_bad_line() -> None:
    good = serialize(Record("s", {"a": 1}, 1))
    stream = io.BytesIO(good + b"\n" + good + b'{"type":"RECORD"\n' + good)
    seen = []
    with pytest.raises(ProtocolError, match=r"^line 4: not valid JSON"):
        for line_no, _ in read_messages(stream):
            seen.append(line_no)
    assert seen == [1, 3]


def test_configured_catalog_decodes_and_rejects_bad_sync_modes() -> None:
    doc = {
        "streams": [
            {
                "stream": STREAM,
                "sync_mode": "incremental",
                "destination_sync_mode": "append_dedup",
                "cursor_field": ["updated_at"],
                "primary_key": [["id"]],
                "generation_id": 3,
                "minimum_generation_id": 3,
                "sync_id": 9,
            }
        ]
    }
    catalog = load_configured_catalog(doc)
    assert isinstance(catalog, ConfiguredCatalog)
    assert catalog.streams[0].destination_sync_mode == "append_dedup"
    assert catalog.get("users") is catalog.streams[0]
    doc["streams"][0]["sync_mode"] = "sometimes"
    with pytest.raises(ProtocolError, match=r"catalog.streams\[0\].sync_mode: 'sometimes' is not one of"):
        load_configured_catalog(doc)


def test_state_file_is_an_array_and_legacy_is_rejected() -> None:
    states = load_state([EXAMPLES["STATE_STREAM"]["state"]])
    assert isinstance(states[0], State) and states[0].key == "crm.users"
    with pytest.raises(ProtocolError, match="LEGACY"):
        load_state([{"type": "LEGACY", "data": {}}])
    with pytest.raises(ProtocolError, match="JSON array"):
        load_state({"users": {"cursor": 1}})


def test_message_to_dict_omits_unset_optionals() -> None:
    msg = parse_message(json.dumps(EXAMPLES["CONNECTION_STATUS"]))
    assert message_to_dict(msg) == EXAMPLES["CONNECTION_STATUS"]
