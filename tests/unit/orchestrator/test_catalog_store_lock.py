"""Configured catalog defaults and checks, the SQLite store's migrations, the connection lock, masking."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ducto.orchestrator.catalog import build_configured_catalog
from ducto.orchestrator.connection import Connection, ConnectorDef, StreamSelection
from ducto.orchestrator.errors import ConnectionFileError, LockedError
from ducto.orchestrator.lock import ConnectionLock
from ducto.orchestrator.masking import Masker, secrets_in_config
from ducto.orchestrator.store import MIGRATIONS, Store

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated": {"type": "string"},
        "meta": {"type": "object", "properties": {"v": {"type": "integer"}}},
    },
}
CATALOG = {
    "streams": [
        {
            "name": "users",
            "json_schema": SCHEMA,
            "supported_sync_modes": ["full_refresh", "incremental"],
            "default_cursor_field": ["updated"],
            "source_defined_primary_key": [["id"]],
        },
        {
            "name": "events",
            "json_schema": SCHEMA,
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["id"],
        },
        {"name": "static", "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh"]},
    ]
}


def connection(streams: list[StreamSelection] | None) -> Connection:
    return Connection(
        "c",
        Path("/x/c.yaml"),
        ConnectorDef("source", image="s"),
        ConnectorDef("destination", image="d"),
        streams,
        Path("/x/local"),
        60,
    )


def test_defaults_come_from_the_catalog() -> None:
    configured = build_configured_catalog(connection(None), CATALOG)["streams"]
    summary = [
        (c["stream"]["name"], c["sync_mode"], c["destination_sync_mode"], c["cursor_field"], c["primary_key"])
        for c in configured
    ]
    assert summary == [
        ("users", "incremental", "append_dedup", ["updated"], [["id"]]),
        ("events", "incremental", "append", ["id"], []),
        ("static", "full_refresh", "overwrite", [], []),
    ]


def test_destination_modes_limit_the_defaults_and_the_choices() -> None:
    configured = build_configured_catalog(connection([StreamSelection("users")]), CATALOG, ["append", "overwrite"])
    assert configured["streams"][0]["destination_sync_mode"] == "append"
    with pytest.raises(ConnectionFileError, match=r"destination supports only append, overwrite"):
        build_configured_catalog(
            connection([StreamSelection("users", destination_sync_mode="append_dedup")]),
            CATALOG,
            ["append", "overwrite"],
        )


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (
            StreamSelection("static", sync_mode="incremental"),
            "static].sync_mode: the source supports only full_refresh",
        ),
        (
            StreamSelection("events", cursor_field=["updated"]),
            "the source defines the cursor (id); remove cursor_field",
        ),
        (StreamSelection("users", cursor_field=["meta", "w"]), "'meta.w' is not in the stream's schema"),
        (StreamSelection("static", destination_sync_mode="append_dedup"), "append_dedup needs a primary_key"),
        (StreamSelection("static", primary_key=[["nope"]]), "primary_key: 'nope' is not in the stream's schema"),
        (StreamSelection("ghost"), "the source has no such stream (it has: events, static, users)"),
    ],
)
def test_inconsistent_selections_are_rejected(selection: StreamSelection, message: str) -> None:
    with pytest.raises(ConnectionFileError) as caught:
        build_configured_catalog(connection([selection]), CATALOG)
    assert message in str(caught.value)


def test_nested_cursor_is_accepted() -> None:
    configured = build_configured_catalog(connection([StreamSelection("users", cursor_field=["meta", "v"])]), CATALOG)
    assert configured["streams"][0]["cursor_field"] == ["meta", "v"]


def test_store_migrates_once_and_refuses_a_newer_schema(tmp_path: Path) -> None:
    store = Store.open_home(tmp_path)
    assert store.schema_version == len(MIGRATIONS)
    store.save_state(
        "c",
        "users",
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"x": 1}, "extra": [1]}},
        1,
    )
    store.close()
    store = Store.open_home(tmp_path)  # reopening applies nothing and keeps data, unknown fields included
    assert store.get_states("c")["users"]["stream"]["extra"] == [1]
    store.close()
    db = sqlite3.connect(tmp_path / "ducto.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(Exception, match="newer Ducto"):
        Store.open_home(tmp_path)


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with ConnectionLock(tmp_path, "c"):
        with pytest.raises(LockedError, match="already syncing"):
            ConnectionLock(tmp_path, "c").acquire()
        ConnectionLock(tmp_path, "other").acquire()
    with ConnectionLock(tmp_path, "c"):
        pass


def test_masking_by_value_spec_and_key_name() -> None:
    spec = {"connectionSpecification": {"properties": {"dsn": {"type": "string", "airbyte_secret": True}}}}
    config = {"dsn": "pg://x", "nested": {"client_secret": "abcd1234", "name": "public"}, "password": "hunter22"}
    assert secrets_in_config(config, spec) == {"pg://x", "abcd1234", "hunter22"}
    masker = Masker(["hunter22", "abc"])  # too short to mask safely: ignored
    masker.add(["abcd1234"])
    assert masker.mask("pw=hunter22 cs=abcd1234 abc") == "pw=**** cs=**** abc"
