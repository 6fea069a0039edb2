"""source-declarative as a real process: the manifest injected in the config or mounted as a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parents[3]
CONNECTOR = ROOT / "connectors" / "source-declarative"


def manifest(base: str) -> dict[str, Any]:
    return {
        "version": "6.0.0",
        "type": "DeclarativeSource",
        "check": {"stream_names": ["users"]},
        "spec": {
            "type": "Spec",
            "connection_specification": {
                "type": "object",
                "required": ["token"],
                "properties": {"token": {"type": "string", "airbyte_secret": True}},
            },
        },
        "streams": [
            {
                "name": "users",
                "primary_key": "id",
                "retriever": {
                    "requester": {
                        "url_base": base,
                        "path": "/users",
                        "authenticator": {"type": "BearerAuthenticator", "api_token": "{{ config.token }}"},
                    },
                    "record_selector": {"extractor": {"field_path": ["data"]}},
                    "paginator": {
                        "type": "DefaultPaginator",
                        "pagination_strategy": {"type": "OffsetIncrement", "page_size": 2},
                        "page_size_option": {"inject_into": "request_parameter", "field_name": "limit"},
                        "page_token_option": {
                            "type": "RequestOption",
                            "inject_into": "request_parameter",
                            "field_name": "offset",
                        },
                    },
                },
            }
        ],
    }


def serve_users(httpserver: HTTPServer) -> None:
    users = [{"id": i, "name": f"u{i}"} for i in range(5)]
    for offset in (0, 2, 4):
        query = {"limit": "2"} if offset == 0 else {"limit": "2", "offset": str(offset)}
        httpserver.expect_request(
            "/users", query_string=query, headers={"Authorization": "Bearer tkn-42"}
        ).respond_with_json({"data": users[offset : offset + 2]})


def run(args: list[str], tmp: Path, config: dict[str, Any] | None = None) -> tuple[int, list[dict[str, Any]]]:
    argv = [sys.executable, "-m", "source_declarative", *args]
    if config is not None:
        (tmp / "config.json").write_text(json.dumps(config))
        argv += ["--config", str(tmp / "config.json")]
    if args[0] == "read":
        catalog = {
            "streams": [
                {
                    "stream": {"name": "users", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
            ]
        }
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        argv += ["--catalog", str(tmp / "catalog.json")]
    env = {**os.environ, "PYTHONPATH": str(CONNECTOR)}
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_injected_manifest(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_users(httpserver)
    base = httpserver.url_for("/").rstrip("/")
    config = {"token": "tkn-42", "__injected_declarative_manifest": manifest(base)}
    code, msgs = run(["spec"], tmp_path)
    assert code == 0 and "__injected_declarative_manifest" in msgs[0]["spec"]["connectionSpecification"]["properties"]
    code, msgs = run(["check"], tmp_path, config)
    assert msgs[-1]["connectionStatus"]["status"] == "SUCCEEDED"
    code, msgs = run(["discover"], tmp_path, config)
    assert [s["name"] for s in msgs[-1]["catalog"]["streams"]] == ["users"]
    code, msgs = run(["read"], tmp_path, config)
    assert code == 0
    assert [m["record"]["data"]["id"] for m in msgs if m["type"] == "RECORD"] == [0, 1, 2, 3, 4]
    assert "tkn-42" not in json.dumps([m for m in msgs if m["type"] != "RECORD"])


def test_mounted_manifest_file_and_errors(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_users(httpserver)
    base = httpserver.url_for("/").rstrip("/")
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest(base)))
    code, msgs = run(["read"], tmp_path, {"token": "tkn-42", "__declarative_manifest_path": str(path)})
    assert code == 0 and sum(m["type"] == "RECORD" for m in msgs) == 5

    code, msgs = run(["read"], tmp_path, {"token": "tkn-42"})
    error = next(m["trace"]["error"] for m in msgs if m["type"] == "TRACE")
    assert code == 1 and error["failure_type"] == "config_error" and "has no manifest" in error["message"]

    broken = manifest(base)
    broken["streams"][0]["retriever"]["paginator"]["pagination_strategy"]["type"] = "Foo"
    code, msgs = run(["discover"], tmp_path, {"token": "tkn-42", "__injected_declarative_manifest": broken})
    error = next(m["trace"]["error"] for m in msgs if m["type"] == "TRACE")
    assert code == 1 and error["failure_type"] == "config_error"
    assert error["message"].startswith("streams[0].retriever.paginator.pagination_strategy: unknown type 'Foo'")
    assert "stack_trace" not in error or not error["stack_trace"]
