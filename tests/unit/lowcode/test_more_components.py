"""Components not covered elsewhere: schema loaders, request bodies and body options, RATE_LIMITED,
WaitUntilTimeFromHeader, MinMaxDatetime bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ducto.protocol.lowcode import DeclarativeSource, RuntimeOptions

from .conftest import make_source, read_all, stream_manifest


def test_json_file_schema_loader_and_top_level_schemas(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "users.json").write_text(
        json.dumps({"type": "object", "properties": {"id": {"type": "integer"}}})
    )
    (tmp_path / "custom.json").write_text(json.dumps({"type": "object", "properties": {"x": {"type": "string"}}}))
    base = {
        "retriever": {
            "requester": {"url_base": "http://x", "path": "/a"},
            "record_selector": {"extractor": {"field_path": []}},
        }
    }
    manifest = {
        "version": "6",
        "type": "DeclarativeSource",
        "schemas": {"orders": {"type": "object", "properties": {"total": {"type": "number"}}}},
        "streams": [
            {"name": "users", **base},  # default JsonFileSchemaLoader: schemas/<name>.json beside the manifest
            {
                "name": "custom",
                **base,
                "schema_loader": {"type": "JsonFileSchemaLoader", "file_path": "{{ config.schema_file }}"},
            },
            {"name": "orders", **base},  # the top-level `schemas` map
            {"name": "unknown", **base},  # no schema anywhere: permissive object
            {
                "name": "merged",
                **base,
                "schema_loader": [
                    {
                        "type": "InlineSchemaLoader",
                        "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    },
                    {
                        "type": "InlineSchemaLoader",
                        "schema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "number"}}},
                    },
                ],
            },
        ],
    }
    path = tmp_path / "manifest.yaml"
    import yaml

    path.write_text(yaml.safe_dump(manifest))
    source = DeclarativeSource(path, {"schema_file": "custom.json"})
    schemas = {s.name: s.json_schema() for s in source.streams()}
    assert schemas["users"]["properties"] == {"id": {"type": "integer"}}
    assert schemas["custom"]["properties"] == {"x": {"type": "string"}}
    assert schemas["orders"]["properties"] == {"total": {"type": "number"}}
    assert schemas["unknown"]["type"] == "object" and schemas["unknown"]["additionalProperties"] is True
    assert schemas["merged"]["properties"] == {"a": {"type": "string"}, "b": {"type": "number"}}


def test_request_body_components_and_body_json_options(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(
        "/graphql", method="POST", json={"query": "query { users(first: 2) { id } }", "variables": {"after": "c1"}}
    ).respond_with_json({"data": {"users": [{"id": "g1"}]}})
    m = stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {
                "requester": {
                    "path": "/graphql",
                    "http_method": "POST",
                    "request_body": {
                        "type": "RequestBodyGraphQL",
                        "value": {"query": "query { users(first: {{ config.n }}) { id } }"},
                    },
                },
                "record_selector": {"extractor": {"field_path": ["data", "users"]}},
                "paginator": {
                    "type": "DefaultPaginator",
                    "pagination_strategy": {"type": "CursorPagination", "cursor_value": "{{ response.next }}"},
                    "page_token_option": {
                        "type": "RequestOption",
                        "inject_into": "body_json",
                        "field_path": ["variables", "after"],
                    },
                },
            },
        },
    )
    httpserver.expect_request(
        "/graphql", method="POST", json={"query": "query { users(first: 2) { id } }"}
    ).respond_with_json({"data": {"users": [{"id": "g0"}]}, "next": "c1"})
    records, _ = read_all(make_source(m, {"n": 2}), "s")
    assert records == [{"id": "g0"}, {"id": "g1"}]
    httpserver.clear()
    httpserver.expect_request("/form", method="POST", data="q=acme&limit=5").respond_with_json([{"id": 1}])
    m = stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {
                "requester": {
                    "path": "/form",
                    "http_method": "POST",
                    "request_body": {"type": "RequestBodyUrlEncodedForm", "value": {"q": "{{ config.q }}"}},
                },
                "record_selector": {"extractor": {"field_path": []}},
                "paginator": {
                    "type": "DefaultPaginator",
                    "pagination_strategy": {"type": "OffsetIncrement", "page_size": 5},
                    "page_size_option": {"inject_into": "body_data", "field_name": "limit"},
                },
            },
        },
    )
    assert read_all(make_source(m, {"q": "acme"}), "s")[0] == [{"id": 1}]


def test_rate_limited_filter_and_wait_until_header(httpserver: HTTPServer, base: str) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(
                json.dumps({"error": "slow down"}),
                status=400,
                content_type="application/json",
                headers={"X-Reset": str(int(time.time()) + 30)},
            )
        return Response(json.dumps([{"id": 1}]), content_type="application/json")

    httpserver.expect_request("/x").respond_with_handler(handler)
    m = stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {
                "requester": {
                    "path": "/x",
                    "error_handler": {
                        "response_filters": [{"error_message_contains": "slow down", "action": "RATE_LIMITED"}],
                        "backoff_strategies": [{"type": "WaitUntilTimeFromHeader", "header": "X-Reset", "min_wait": 1}],
                    },
                },
                "record_selector": {"extractor": {"field_path": []}},
            },
        },
    )
    waits: list[float] = []
    source = DeclarativeSource(m, {}, options=RuntimeOptions(sleep=waits.append))
    assert read_all(source, "s")[0] == [{"id": 1}]
    assert len(waits) == 1 and 25 <= waits[0] <= 31


def test_min_max_datetime_bounds(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/e").respond_with_json([])
    m = stream_manifest(
        base,
        {
            "name": "e",
            "retriever": {"requester": {"path": "/e"}, "record_selector": {"extractor": {"field_path": []}}},
            "incremental_sync": {
                "type": "DatetimeBasedCursor",
                "cursor_field": "t",
                "datetime_format": "%Y-%m-%d",
                "start_datetime": {
                    "type": "MinMaxDatetime",
                    "datetime": "{{ config.start }}",
                    "min_datetime": "2024-01-01",
                },
                "end_datetime": {"type": "MinMaxDatetime", "datetime": "2030-01-01", "max_datetime": "2024-01-03"},
                "step": "P1D",
                "cursor_granularity": "P1D",
                "start_time_option": {"inject_into": "request_parameter", "field_name": "from"},
            },
        },
    )
    events: list[dict[str, Any]] = []
    list(make_source(m, {"start": "2020-05-05"}).stream("e").read(None, sink=events.append))
    slices = [e["slice"] for e in events if e["event"] == "slice"]
    assert slices == [
        {"start_time": "2024-01-01", "end_time": "2024-01-01"},
        {"start_time": "2024-01-02", "end_time": "2024-01-02"},
        {"start_time": "2024-01-03", "end_time": "2024-01-03"},
    ]


def test_query_properties_from_endpoint_chunked_and_merged(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/properties").respond_with_json(
        {"results": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    )
    rows = {"1": {"a": "a1", "b": "b1", "c": "c1"}, "2": {"a": "a2", "b": "b2", "c": "c2"}}

    def contacts(request: Request) -> Response:
        wanted = request.args["properties"].split(",")
        return Response(
            json.dumps(
                [
                    {k: (key if k == "id" else v[k]) for k in wanted}
                    for key, v in ((k, {**r, "id": k}) for k, r in rows.items())
                ]
            ),
            content_type="application/json",
        )

    httpserver.expect_request("/contacts").respond_with_handler(contacts)
    m = stream_manifest(
        base,
        {
            "name": "contacts",
            "retriever": {
                "requester": {
                    "path": "/contacts",
                    "request_parameters": {
                        "archived": "false",
                        "properties": {
                            "type": "QueryProperties",
                            "property_list": {
                                "type": "PropertiesFromEndpoint",
                                "property_field_path": ["name"],
                                "retriever": {
                                    "requester": {"url_base": base, "path": "/properties"},
                                    "record_selector": {"extractor": {"field_path": ["results"]}},
                                },
                            },
                            "always_include_properties": ["id"],
                            "property_chunking": {
                                "type": "PropertyChunking",
                                "property_limit_type": "property_count",
                                "property_limit": 2,
                                "record_merge_strategy": {"type": "GroupByKeyMergeStrategy", "key": "id"},
                            },
                        },
                    },
                },
                "record_selector": {"extractor": {"field_path": []}},
            },
        },
    )
    records, _ = read_all(make_source(m), "contacts")
    assert records == [{"id": "1", "a": "a1", "b": "b1", "c": "c1"}, {"id": "2", "a": "a2", "b": "b2", "c": "c2"}]
    sent = [r.args.get("properties") for r, _ in httpserver.log if r.path == "/contacts"]
    assert sent == ["id,a", "id,b", "id,c"]
    assert all(r.args.get("archived") == "false" for r, _ in httpserver.log if r.path == "/contacts")
    assert sum(r.path == "/properties" for r, _ in httpserver.log) == 1


def test_dynamic_streams_from_config_and_from_an_endpoint(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/tables").respond_with_json(
        {"tables": [{"id": "t1", "label": "Orders"}, {"id": "t2", "label": "Users"}]}
    )
    for table in ("t1", "t2", "sheet_a"):
        httpserver.expect_request(f"/rows/{table}").respond_with_json({"rows": [{"table": table}]})
    template = {
        "type": "DeclarativeStream",
        "name": "",
        "primary_key": [],
        "retriever": {
            "type": "SimpleRetriever",
            "requester": {"type": "HttpRequester", "url_base": base, "path": "/rows/placeholder"},
            "record_selector": {
                "type": "RecordSelector",
                "extractor": {"type": "DpathExtractor", "field_path": ["rows"]},
            },
        },
    }
    m = {
        "version": "6",
        "type": "DeclarativeSource",
        "check": {"stream_names": ["orders"]},
        "dynamic_streams": [
            {
                "type": "DynamicDeclarativeStream",
                "name": "tables",
                "stream_template": template,
                "components_resolver": {
                    "type": "HttpComponentsResolver",
                    "retriever": {
                        "requester": {"url_base": base, "path": "/tables"},
                        "record_selector": {"extractor": {"field_path": ["tables"]}},
                    },
                    "components_mapping": [
                        {
                            "type": "ComponentMappingDefinition",
                            "field_path": ["name"],
                            "value": "{{ components_values.label | lower }}",
                        },
                        {
                            "type": "ComponentMappingDefinition",
                            "field_path": ["retriever", "requester", "path"],
                            "value": "/rows/{{ components_values.id }}",
                        },
                    ],
                },
            },
            {
                "type": "DynamicDeclarativeStream",
                "name": "sheets",
                "stream_template": template,
                "components_resolver": {
                    "type": "ConfigComponentsResolver",
                    "stream_config": {"type": "StreamConfig", "configs_pointer": ["sheets"]},
                    "components_mapping": [
                        {
                            "type": "ComponentMappingDefinition",
                            "field_path": ["name"],
                            "value": "{{ components_values.name }}",
                        },
                        {
                            "type": "ComponentMappingDefinition",
                            "field_path": ["retriever", "requester", "path"],
                            "value": "/rows/{{ components_values.name }}",
                        },
                    ],
                },
            },
        ],
    }
    source = make_source(m, {"sheets": [{"name": "sheet_a"}]})
    assert [s.name for s in source.streams()] == ["orders", "users", "sheet_a"]
    assert read_all(source, "users")[0] == [{"table": "t2"}]
    assert read_all(source, "sheet_a")[0] == [{"table": "sheet_a"}]
    assert source.check() == (True, None)


def test_api_budget_fixed_window(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/p").respond_with_handler(
        lambda r: Response(json.dumps([{"id": int(r.args.get("page", "0"))}] * 1), content_type="application/json")
    )
    m = stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {
                "requester": {"path": "/p"},
                "record_selector": {"extractor": {"field_path": []}},
                "paginator": {
                    "type": "DefaultPaginator",
                    "pagination_strategy": {
                        "type": "CursorPagination",
                        "cursor_value": "{{ last_record.id + 1 }}",
                        "stop_condition": "{{ last_record.id >= 4 }}",
                    },
                    "page_token_option": {
                        "type": "RequestOption",
                        "inject_into": "request_parameter",
                        "field_name": "page",
                    },
                },
            },
        },
        api_budget={
            "type": "HTTPAPIBudget",
            "policies": [
                {
                    "type": "FixedWindowCallRatePolicy",
                    "period": "PT10S",
                    "call_limit": 2,
                    "matchers": [{"method": "GET", "url_path_pattern": "^/p$"}],
                }
            ],
        },
    )
    waits: list[float] = []
    source = DeclarativeSource(m, {}, options=RuntimeOptions(sleep=waits.append))
    assert [r["id"] for r in read_all(source, "s")[0]] == [0, 1, 2, 3, 4]
    # 2 calls per 10 s: calls 3-4 wait for the first two to leave the window, call 5 for calls 3-4
    assert 19.5 <= sum(waits) <= 20.5 and waits[0] >= 9.5
