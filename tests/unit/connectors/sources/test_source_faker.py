"""source-faker in-process: spec, discover, realistic and deterministic records, incremental reads."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema
import pytest
from airbyte_protocol.models import AirbyteMessage
from source_faker import SourceFaker

from .conftest import Result, Runner, configured_catalog, last_state_file

STREAMS = ("users", "products", "purchases")
ALL_INCREMENTAL = configured_catalog(*((s, "incremental") for s in STREAMS))


@pytest.fixture
def faker(tmp_path: Path) -> Runner:
    return Runner(SourceFaker, tmp_path)


def record_lines(result: Result, stream: str) -> list[bytes]:
    """The RECORD lines' data part, bytes as emitted (emitted_at cut off)."""
    out = []
    for line in result.stdout.splitlines():
        if line.startswith(b'{"type":"RECORD"') and f'"stream":"{stream}"'.encode() in line:
            out.append(line[line.index(b'"data":') :])
    return out


def test_spec_is_valid_and_accepts_airbyte_faker_configs(faker: Runner) -> None:
    result = faker("spec")
    assert result.exit_code == 0
    spec = result.of_type("SPEC")[0]["spec"]
    jsonschema.Draft7Validator.check_schema(spec["connectionSpecification"])
    # An Airbyte source-faker config (with its extra keys) is accepted.
    check = faker("check", {"count": 10, "seed": 5, "records_per_slice": 100, "parallelism": 4, "always_updated": True})
    assert check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"


def test_bad_config_fails_check_and_read_with_a_config_error(faker: Runner) -> None:
    check = faker("check", {"count": 0})
    assert check.exit_code == 0
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "count" in status["message"]
    read = faker("read", {"count": "many"}, ALL_INCREMENTAL)
    assert read.exit_code == 1
    assert read.errors()[0]["failure_type"] == "config_error"
    assert not read.of_type("RECORD")


def test_discover_declares_keys_cursor_and_valid_schemas(faker: Runner) -> None:
    catalog = faker("discover", {"count": 1}).of_type("CATALOG")[0]["catalog"]
    streams = {s["name"]: s for s in catalog["streams"]}
    assert set(streams) == set(STREAMS)
    for stream in streams.values():
        jsonschema.Draft7Validator.check_schema(stream["json_schema"])
        assert stream["source_defined_primary_key"] == [["id"]]
        assert stream["default_cursor_field"] == ["updated_at"] and stream["source_defined_cursor"] is True
        assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
    users = streams["users"]["json_schema"]["properties"]
    assert users["address"]["type"] == ["null", "object"] and "city" in users["address"]["properties"]
    assert users["tags"]["type"] == ["null", "array"] and users["phones"]["items"]["type"] == "object"
    assert users["updated_at"]["format"] == "date-time"


def test_records_are_realistic_valid_and_wire_compatible(faker: Runner) -> None:
    config = {"count": 300, "seed": 7, "product_count": 20}
    result = faker("read", config, configured_catalog(*STREAMS))
    assert result.exit_code == 0
    schemas = {
        s["name"]: s["json_schema"] for s in faker("discover", config).of_type("CATALOG")[0]["catalog"]["streams"]
    }
    for line in result.stdout.splitlines():
        AirbyteMessage.parse_raw(line)  # the reference protocol models accept every message
    users, products, purchases = (result.records(s) for s in STREAMS)
    assert [len(users), len(products), len(purchases)] == [300, 20, 300]
    for stream, records in zip(STREAMS, (users, products, purchases), strict=True):
        validator = jsonschema.Draft7Validator(schemas[stream], format_checker=jsonschema.FormatChecker())
        for record in records:
            validator.validate(record)
        assert [r["id"] for r in records] == list(range(1, len(records) + 1))
        updated = [r["updated_at"] for r in records]
        assert updated == sorted(updated) and len(set(updated)) == len(updated), "updated_at grows with id"
        assert all(r["created_at"] <= r["updated_at"] for r in records)
    assert len({u["email"] for u in users}) == 300
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z.]+", u["email"]) for u in users)
    assert all(u["name"].count(" ") >= 1 and 18 <= u["age"] < 90 for u in users)
    assert all(isinstance(u["address"], dict) and u["address"]["city"] for u in users)
    assert any(u["tags"] for u in users) and any(u["phones"] for u in users)
    assert len({u["address"]["city"] for u in users}) > 20, "varied data"
    for p in purchases:
        assert 1 <= p["user_id"] <= p["id"] and 1 <= p["product_id"] <= 20
        assert p["added_to_cart_at"] <= p["purchased_at"] <= p["updated_at"]
        assert p["total"] == round(p["unit_price"] * p["quantity"], 2)
    prices = {p["id"]: p["price"] for p in products}
    assert all(p["unit_price"] == prices[p["product_id"]] for p in purchases)


def test_same_seed_gives_the_same_bytes_and_another_seed_other_data(faker: Runner) -> None:
    catalog = configured_catalog(*STREAMS)
    first = faker("read", {"count": 200, "seed": 11, "records_per_slice": 7}, catalog)
    again = faker("read", {"count": 200, "seed": 11, "records_per_slice": 50}, catalog)
    other = faker("read", {"count": 200, "seed": 12}, catalog)
    for stream in STREAMS:
        assert record_lines(first, stream) == record_lines(again, stream)
        assert record_lines(first, stream) != record_lines(other, stream)


def test_random_seed_when_minus_one(faker: Runner) -> None:
    catalog = configured_catalog("users")
    a = faker("read", {"count": 30, "seed": -1}, catalog)
    b = faker("read", {"count": 30}, catalog)
    assert record_lines(a, "users") != record_lines(b, "users")
    assert any("random seed" in m["log"]["message"] for m in a.of_type("LOG"))


def test_checkpoints_every_records_per_slice(faker: Runner) -> None:
    result = faker(
        "read", {"count": 95, "seed": 1, "records_per_slice": 20}, configured_catalog(("users", "incremental"))
    )
    states = result.states("users")
    assert [s["sourceStats"]["recordCount"] for s in states] == [20, 20, 20, 20, 15]
    users = result.records("users")
    assert states[0]["stream"]["stream_state"] == {"updated_at": users[19]["updated_at"]}
    assert states[-1]["stream"]["stream_state"] == {"updated_at": users[-1]["updated_at"]}
    assert result.statuses("users") == ["STARTED", "RUNNING", "COMPLETE"]


def test_incremental_second_read_emits_only_newer_records(faker: Runner) -> None:
    config = {"count": 120, "seed": 3, "records_per_slice": 25}
    full = faker("read", config, ALL_INCREMENTAL)
    state = last_state_file(full)

    again = faker("read", config, ALL_INCREMENTAL, state)
    assert again.exit_code == 0
    assert again.records() == []
    for stream in STREAMS:  # the state is emitted even when nothing is new
        assert again.states(stream)[-1]["stream"]["stream_state"] == full.states(stream)[-1]["stream"]["stream_state"]

    grown = faker("read", {**config, "count": 150}, ALL_INCREMENTAL, state)
    assert [u["id"] for u in grown.records("users")] == list(range(121, 151))
    assert [p["id"] for p in grown.records("purchases")] == list(range(121, 151))
    assert grown.records("products") == []  # product_count did not change
    bigger = faker("read", {**config, "count": 150}, ALL_INCREMENTAL)
    assert record_lines(grown, "users") == record_lines(bigger, "users")[120:]


def test_resume_from_a_middle_checkpoint_continues_byte_for_byte(faker: Runner) -> None:
    config = {"count": 100, "seed": 9, "records_per_slice": 30}
    catalog = configured_catalog(("users", "incremental"))
    full = faker("read", config, catalog)
    middle = full.states("users")[1]  # after 60 records
    resumed = faker("read", config, catalog, [{"type": "STREAM", "stream": middle["stream"]}])
    assert [u["id"] for u in resumed.records("users")] == list(range(61, 101))
    assert record_lines(resumed, "users") == record_lines(full, "users")[60:]


def test_state_between_two_records_and_unusable_state(faker: Runner) -> None:
    catalog = configured_catalog(("users", "incremental"))
    full = faker("read", {"count": 50, "seed": 2}, catalog).records("users")
    # A state exactly at record 10's updated_at skips 1..10; a state one second later too.
    for cursor in (full[9]["updated_at"], full[9]["updated_at"].replace("+00:00", "Z")):
        state = [
            {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": cursor}},
            }
        ]
        ids = [u["id"] for u in faker("read", {"count": 50, "seed": 2}, catalog, state).records("users")]
        assert ids == list(range(11, 51))
    junk = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": 42}}}]
    result = faker("read", {"count": 50, "seed": 2}, catalog, junk)
    assert len(result.records("users")) == 50
    assert any("no usable" in m["log"]["message"] for m in result.of_type("LOG"))


def test_full_refresh_ignores_state(faker: Runner) -> None:
    config = {"count": 40, "seed": 4}
    state = last_state_file(faker("read", config, ALL_INCREMENTAL))
    result = faker("read", config, configured_catalog("users"), state)
    assert len(result.records("users")) == 40


def test_ten_million_users_resume_near_the_end_without_generating_the_rest(faker: Runner) -> None:
    config = {"count": 10_000_000, "seed": 8, "records_per_slice": 1000}
    catalog = configured_catalog(("users", "incremental"))
    from source_faker import generators

    ids = generators.id_hash(8, "users")
    seconds = ids.updated_at(9_999_990)
    stamp = generators.Clock(10_000_000).fmt(seconds)
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": stamp}}}
    ]
    result = faker("read", config, catalog, state)
    users = result.records("users")
    assert [u["id"] for u in users] == list(range(9_999_991, 10_000_001))
    # 10 s per id: the 10 millionth user was updated ~3.2 years after 2020-01-01 (checked against datetime).
    expected = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=ids.updated_at(10_000_000))
    assert users[-1]["updated_at"] == expected.isoformat() and expected.year == 2023


def test_output_matches_the_golden_records_of_the_acceptance_config(faker: Runner) -> None:
    """The data for a seed is stable across versions (the CAT config's expected records)."""
    folder = Path(__file__).resolve().parents[4] / "connectors" / "source-faker" / "integration_tests"
    config = json.loads((folder / "config.json").read_text())
    catalog = json.loads((folder / "configured_catalog.json").read_text())
    expected = [json.loads(line) for line in (folder / "expected_records.jsonl").read_text().splitlines()]
    result = faker("read", config, catalog)
    got = [{"stream": m["record"]["stream"], "data": m["record"]["data"]} for m in result.of_type("RECORD")]
    assert got == [{"stream": e["stream"], "data": e["data"]} for e in expected]
