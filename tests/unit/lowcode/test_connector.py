"""The engine behind the SDK entrypoint: spec, check, discover, read with incremental state."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ducto.protocol.lowcode.connector import INJECTED_MANIFEST_KEY, MANIFEST_PATH_KEY, ManifestSource
from ducto.protocol.sdk import run

from .conftest import FAST

ROWS = [{"id": i, "updated": f"2024-01-0{i}T12:00:00Z"} for i in range(1, 6)]


def handler(request: Request) -> Response:
    if request.args.get("key") != "secret-key-1":
        return Response(json.dumps({"message": "invalid key"}), status=401, content_type="application/json")
    low, high = request.args["since"], request.args["until"]
    return Response(
        json.dumps({"rows": [r for r in ROWS if low <= r["updated"] <= high]}), content_type="application/json"
    )


def manifest(base: str) -> dict[str, Any]:
    return {
        "version": "6.0.0",
        "type": "DeclarativeSource",
        "check": {"stream_names": ["rows"]},
        "spec": {
            "type": "Spec",
            "documentation_url": "https://example.com/docs",
            "connection_specification": {
                "type": "object",
                "required": ["api_key", "start_date"],
                "properties": {"api_key": {"type": "string", "airbyte_secret": True}, "start_date": {"type": "string"}},
            },
        },
        "streams": [
            {
                "name": "rows",
                "primary_key": "id",
                "schema_loader": {
                    "type": "InlineSchemaLoader",
                    "schema": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "updated": {"type": "string"}},
                    },
                },
                "retriever": {
                    "requester": {
                        "url_base": base,
                        "path": "/rows",
                        "authenticator": {
                            "type": "ApiKeyAuthenticator",
                            "api_token": "{{ config.api_key }}",
                            "inject_into": {
                                "type": "RequestOption",
                                "inject_into": "request_parameter",
                                "field_name": "key",
                            },
                        },
                    },
                    "record_selector": {"extractor": {"field_path": ["rows"]}},
                },
                "incremental_sync": {
                    "type": "DatetimeBasedCursor",
                    "cursor_field": "updated",
                    "datetime_format": "%Y-%m-%dT%H:%M:%SZ",
                    "start_datetime": "{{ config.start_date }}",
                    "end_datetime": "2024-01-06T00:00:00Z",
                    "step": "P2D",
                    "cursor_granularity": "PT1S",
                    "start_time_option": {"inject_into": "request_parameter", "field_name": "since"},
                    "end_time_option": {"inject_into": "request_parameter", "field_name": "until"},
                },
            }
        ],
    }


def invoke(
    source: ManifestSource,
    tmp: Path,
    command: str,
    config: dict[str, Any] | None = None,
    state: list[Any] | None = None,
    sync_mode: str = "incremental",
) -> tuple[int, list[dict[str, Any]]]:
    argv = [command]
    if config is not None:
        (tmp / "config.json").write_text(json.dumps(config))
        argv += ["--config", str(tmp / "config.json")]
    if command == "read":
        catalog = {
            "streams": [
                {
                    "stream": {
                        "name": "rows",
                        "json_schema": {},
                        "supported_sync_modes": ["full_refresh", "incremental"],
                    },
                    "sync_mode": sync_mode,
                    "destination_sync_mode": "append",
                }
            ]
        }
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        argv += ["--catalog", str(tmp / "catalog.json")]
        if state is not None:
            (tmp / "state.json").write_text(json.dumps(state))
            argv += ["--state", str(tmp / "state.json")]
    out = io.BytesIO()
    code = run(source, argv, stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_spec_check_discover_read(httpserver: HTTPServer, base: str, tmp_path: Path) -> None:
    httpserver.expect_request("/rows").respond_with_handler(handler)
    source = ManifestSource(manifest(base), options=FAST)
    config = {"api_key": "secret-key-1", "start_date": "2024-01-01T00:00:00Z"}

    code, msgs = invoke(source, tmp_path, "spec")
    assert code == 0 and msgs[0]["spec"]["connectionSpecification"]["required"] == ["api_key", "start_date"]
    assert msgs[0]["spec"]["documentationUrl"] == "https://example.com/docs"

    code, msgs = invoke(source, tmp_path, "check", config)
    assert code == 0 and msgs[-1]["connectionStatus"]["status"] == "SUCCEEDED"
    code, msgs = invoke(ManifestSource(manifest(base), options=FAST), tmp_path, "check", {**config, "api_key": "nope"})
    status = msgs[-1]["connectionStatus"]
    assert code == 0 and status["status"] == "FAILED" and "HTTP 401" in status["message"]

    code, msgs = invoke(source, tmp_path, "discover", config)
    stream = msgs[-1]["catalog"]["streams"][0]
    assert stream["name"] == "rows" and stream["default_cursor_field"] == ["updated"]
    assert stream["source_defined_primary_key"] == [["id"]]
    assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert stream["json_schema"]["properties"]["id"] == {"type": "integer"}

    code, msgs = invoke(source, tmp_path, "read", config)
    assert code == 0
    records = [m["record"]["data"] for m in msgs if m["type"] == "RECORD"]
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
    states = [m["state"]["stream"]["stream_state"] for m in msgs if m["type"] == "STATE"]
    assert states[-1] == {"updated": "2024-01-05T12:00:00Z"}
    statuses = [m["trace"]["stream_status"]["status"] for m in msgs if m["type"] == "TRACE"]
    assert statuses == ["STARTED", "RUNNING", "COMPLETE"]
    assert "secret-key-1" not in json.dumps([m for m in msgs if m["type"] != "RECORD"])

    code, msgs = invoke(
        source,
        tmp_path,
        "read",
        config,
        state=[
            {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": "rows"}, "stream_state": {"updated": "2024-01-03T12:00:00Z"}},
            }
        ],
    )
    assert [m["record"]["data"]["id"] for m in msgs if m["type"] == "RECORD"] == [3, 4, 5]


def test_read_failure_is_a_trace_with_failure_type(httpserver: HTTPServer, base: str, tmp_path: Path) -> None:
    httpserver.expect_request("/rows").respond_with_handler(handler)
    source = ManifestSource(manifest(base), options=FAST)
    code, msgs = invoke(source, tmp_path, "read", {"api_key": "bad-key-zz", "start_date": "2024-01-01T00:00:00Z"})
    assert code == 1
    error = next(m["trace"]["error"] for m in msgs if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR")
    assert error["failure_type"] == "config_error" and "HTTP 401" in error["message"]


def test_manifest_from_config_injected_or_path(httpserver: HTTPServer, base: str, tmp_path: Path) -> None:
    httpserver.expect_request("/rows").respond_with_handler(handler)
    config = {"api_key": "secret-key-1", "start_date": "2024-01-01T00:00:00Z"}
    source = ManifestSource(options=FAST)
    code, msgs = invoke(source, tmp_path, "spec")
    assert INJECTED_MANIFEST_KEY in msgs[0]["spec"]["connectionSpecification"]["properties"]
    code, msgs = invoke(source, tmp_path, "read", {**config, INJECTED_MANIFEST_KEY: manifest(base)})
    assert code == 0 and sum(m["type"] == "RECORD" for m in msgs) == 5
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest(base)))
    code, msgs = invoke(ManifestSource(options=FAST), tmp_path, "read", {**config, MANIFEST_PATH_KEY: str(path)})
    assert code == 0 and sum(m["type"] == "RECORD" for m in msgs) == 5
    code, msgs = invoke(
        ManifestSource(options=FAST), tmp_path, "check", {**config, INJECTED_MANIFEST_KEY: "streams: 3\n"}
    )
    assert msgs[-1]["connectionStatus"]["status"] == "FAILED"
    assert "streams: missing required field" in msgs[-1]["connectionStatus"]["message"]
    code, msgs = invoke(ManifestSource(options=FAST), tmp_path, "check", {INJECTED_MANIFEST_KEY: manifest(base)})
    assert msgs[-1]["connectionStatus"]["status"] == "FAILED"
    assert "api_key" in msgs[-1]["connectionStatus"]["message"]


def test_rotated_refresh_token_is_reported_as_control_message(
    httpserver: HTTPServer, base: str, tmp_path: Path
) -> None:
    httpserver.expect_request(
        "/token", method="POST", data="grant_type=refresh_token&client_id=cid&client_secret=cs&refresh_token=rt-old"
    ).respond_with_json({"access_token": "at-new", "refresh_token": "rt-new", "expires_in": 3600})
    httpserver.expect_request("/rows", headers={"Authorization": "Bearer at-new"}).respond_with_json(
        {"rows": [{"id": 1}]}
    )
    m = {
        "version": "6",
        "type": "DeclarativeSource",
        "check": {"stream_names": ["rows"]},
        "spec": {
            "type": "Spec",
            "connection_specification": {
                "type": "object",
                "properties": {
                    "credentials": {
                        "type": "object",
                        "properties": {"refresh_token": {"type": "string", "airbyte_secret": True}},
                    }
                },
            },
        },
        "streams": [
            {
                "name": "rows",
                "retriever": {
                    "requester": {
                        "url_base": base,
                        "path": "/rows",
                        "authenticator": {
                            "type": "OAuthAuthenticator",
                            "token_refresh_endpoint": base + "/token",
                            "client_id": "cid",
                            "client_secret": "cs",
                            "refresh_token": "{{ config.credentials.refresh_token }}",
                            "refresh_token_updater": {},
                        },
                    },
                    "record_selector": {"extractor": {"field_path": ["rows"]}},
                },
            }
        ],
    }
    config = {"credentials": {"refresh_token": "rt-old"}}
    code, msgs = invoke(ManifestSource(m, options=FAST), tmp_path, "read", config, sync_mode="full_refresh")
    assert code == 0
    control = next(msg["control"] for msg in msgs if msg["type"] == "CONTROL")
    assert control["type"] == "CONNECTOR_CONFIG"
    assert control["connectorConfig"]["config"]["credentials"]["refresh_token"] == "rt-new"
    assert control["connectorConfig"]["config"]["credentials"]["access_token"] == "at-new"


def test_config_normalization_rules(httpserver: HTTPServer, base: str, tmp_path: Path) -> None:
    httpserver.expect_request("/r", query_string={"region": "eu-west", "mode": "fast"}).respond_with_json([{"id": 1}])
    m = {
        "version": "6",
        "type": "DeclarativeSource",
        "check": {"stream_names": ["rows"]},
        "spec": {
            "type": "Spec",
            "connection_specification": {"type": "object"},
            "config_normalization_rules": {
                "type": "ConfigNormalizationRules",
                "config_migrations": [
                    {
                        "type": "ConfigMigration",
                        "transformations": [
                            {"type": "ConfigRemapField", "field_path": ["region"], "map": {"EU": "eu-west"}},
                            {"type": "ConfigRemoveFields", "field_pointers": [["legacy_key"]]},
                        ],
                    }
                ],
                "transformations": [
                    {
                        "type": "ConfigAddFields",
                        "fields": [{"type": "AddedFieldDefinition", "path": ["mode"], "value": "fast"}],
                    }
                ],
                "validations": [
                    {
                        "type": "DpathValidator",
                        "field_path": ["region"],
                        "validation_strategy": {
                            "type": "ValidateAdheresToSchema",
                            "base_schema": {"type": "string", "enum": ["eu-west", "us-east"]},
                        },
                    }
                ],
            },
        },
        "streams": [
            {
                "name": "rows",
                "retriever": {
                    "requester": {
                        "url_base": base,
                        "path": "/r",
                        "request_parameters": {"region": "{{ config.region }}", "mode": "{{ config.mode }}"},
                    },
                    "record_selector": {"extractor": {"field_path": []}},
                },
            }
        ],
    }
    code, msgs = invoke(
        ManifestSource(m, options=FAST), tmp_path, "read", {"region": "EU", "legacy_key": 1}, sync_mode="full_refresh"
    )
    assert code == 0, msgs
    assert [x["record"]["data"] for x in msgs if x["type"] == "RECORD"] == [{"id": 1}]
    control = next(x["control"] for x in msgs if x["type"] == "CONTROL")
    assert control["connectorConfig"]["config"] == {"region": "eu-west"}  # migrated, not the run-only mode
    code, msgs = invoke(ManifestSource(m, options=FAST), tmp_path, "check", {"region": "mars"})
    status = msgs[-1]["connectionStatus"]
    assert status["status"] == "FAILED" and "config region: 'mars' is not one of" in status["message"]
