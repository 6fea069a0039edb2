"""Record selection/filter/transformations and each paginator's stop rule, against a local server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ducto.protocol.lowcode import HttpError

from .conftest import make_source, read_all, stream_manifest


def stream(base: str, retriever: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return stream_manifest(base, {"name": "s", "retriever": retriever, **extra})


def test_dpath_wildcard_whole_body_and_single_object(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/groups").respond_with_json(
        {"groups": [{"members": [{"id": 1}, {"id": 2}]}, {"members": [{"id": 3}]}]}
    )
    httpserver.expect_request("/list").respond_with_json([{"id": "a"}, {"id": "b"}])
    httpserver.expect_request("/one").respond_with_json({"item": {"id": "only"}})
    m = stream(
        base,
        {
            "requester": {"path": "/groups"},
            "record_selector": {"extractor": {"field_path": ["groups", "*", "members"]}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}, {"id": 3}]
    m = stream(base, {"requester": {"path": "/list"}, "record_selector": {"extractor": {"field_path": []}}})
    assert read_all(make_source(m), "s")[0] == [{"id": "a"}, {"id": "b"}]
    m = stream(base, {"requester": {"path": "/one"}, "record_selector": {"extractor": {"field_path": ["item"]}}})
    assert read_all(make_source(m), "s")[0] == [{"id": "only"}]


def test_filter_and_transformations(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/r").respond_with_json(
        {
            "data": [
                {"id": 1, "Status": "active", "MetaData": {"secret": "x", "keep": 1}, "createdAt": "2024"},
                {"id": 2, "Status": "deleted", "MetaData": {}, "createdAt": "2023"},
            ]
        }
    )
    m = stream(
        base,
        {
            "requester": {"path": "/r"},
            "record_selector": {
                "extractor": {"field_path": ["data"]},
                "record_filter": {"condition": "{{ record['Status'] == config.status }}"},
            },
        },
        transformations=[
            {
                "type": "AddFields",
                "fields": [
                    {"path": ["org"], "value": "{{ config.org }}"},
                    {"path": ["meta", "double"], "value": "{{ record.id * 2 }}"},
                ],
            },
            {"type": "RemoveFields", "field_pointers": [["MetaData", "secret"]]},
            {"type": "KeysToSnakeCase"},
        ],
    )
    records = read_all(make_source(m, {"status": "active", "org": "acme"}), "s")[0]
    assert records == [
        {
            "id": 1,
            "status": "active",
            "meta_data": {"keep": 1},
            "created_at": "2024",
            "org": "acme",
            "meta": {"double": 2},
        }
    ]


def page_handler(total: int, size_param: str = "per_page", page_param: str = "page", start: int = 1) -> Any:
    def handler(request: Request) -> Response:
        size = int(request.args.get(size_param, "10"))
        page = int(request.args.get(page_param, str(start)))
        first = (page - start) * size
        items = [{"id": i} for i in range(first, min(first + size, total))]

        return Response(json.dumps({"items": items, "meta": {"total": total}}), content_type="application/json")

    return handler


def test_page_increment_stops_on_short_page(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/p").respond_with_handler(page_handler(7))
    m = stream(
        base,
        {
            "requester": {"path": "/p"},
            "record_selector": {"extractor": {"field_path": ["items"]}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {
                    "type": "PageIncrement",
                    "page_size": 3,
                    "start_from_page": 1,
                    "inject_on_first_request": True,
                },
                "page_size_option": {"inject_into": "request_parameter", "field_name": "per_page"},
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "page",
                },
            },
        },
    )
    records = read_all(make_source(m), "s")[0]
    assert [r["id"] for r in records] == list(range(7))
    pages = [r.args.get("page") for r, _ in httpserver.log]
    assert pages == ["1", "2", "3"]


def test_page_increment_stops_on_empty_page_when_exact_multiple(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/p").respond_with_handler(page_handler(6))
    m = stream(
        base,
        {
            "requester": {"path": "/p"},
            "record_selector": {"extractor": {"field_path": ["items"]}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {"type": "PageIncrement", "page_size": 3, "start_from_page": 1},
                "page_size_option": {"inject_into": "request_parameter", "field_name": "per_page"},
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "page",
                },
            },
        },
    )
    assert len(read_all(make_source(m), "s")[0]) == 6
    assert [r.args.get("page") for r, _ in httpserver.log] == [None, "2", "3"]


def test_offset_increment(httpserver: HTTPServer, base: str) -> None:
    def handler(request: Request) -> Response:

        offset = int(request.args.get("offset", "0"))
        limit = int(request.args["limit"])
        return Response(
            json.dumps([{"id": i} for i in range(offset, min(offset + limit, 5))]),
            content_type="application/json",
        )

    httpserver.expect_request("/o").respond_with_handler(handler)
    m = stream(
        base,
        {
            "requester": {"path": "/o"},
            "record_selector": {"extractor": {"field_path": []}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {"type": "OffsetIncrement", "page_size": "{{ config.limit }}"},
                "page_size_option": {"inject_into": "request_parameter", "field_name": "limit"},
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "offset",
                },
            },
        },
    )
    assert [r["id"] for r in read_all(make_source(m, {"limit": 2}), "s")[0]] == [0, 1, 2, 3, 4]
    assert [r.args.get("offset") for r, _ in httpserver.log] == [None, "2", "4"]


def test_cursor_pagination_from_body_and_stop_condition(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/c", query_string="").respond_with_json(
        {"data": [{"id": 1}], "next": "abc", "has_more": True}
    )
    httpserver.expect_request("/c", query_string="cursor=abc").respond_with_json(
        {"data": [{"id": 2}], "next": "def", "has_more": False}
    )
    m = stream(
        base,
        {
            "requester": {"path": "/c"},
            "record_selector": {"extractor": {"field_path": ["data"]}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {
                    "type": "CursorPagination",
                    "cursor_value": "{{ response.next }}",
                    "stop_condition": "{{ response.has_more is false }}",
                },
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "cursor",
                },
            },
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}]
    assert len(httpserver.log) == 2


def test_cursor_pagination_link_header_with_request_path(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/l", query_string="").respond_with_json(
        [{"id": 1}], headers={"Link": f'<{base}/l?page=2>; rel="next", <{base}/l?page=2>; rel="last"'}
    )
    httpserver.expect_request("/l", query_string="page=2").respond_with_json([{"id": 2}])
    m = stream(
        base,
        {
            "requester": {"path": "/l", "request_parameters": {"page": "{{ next_page_token.get('x', '') }}"}},
            "record_selector": {"extractor": {"field_path": []}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {
                    "type": "CursorPagination",
                    "cursor_value": "{{ headers.link.next.url }}",
                    "stop_condition": "{{ 'next' not in headers.link }}",
                },
                "page_token_option": {"type": "RequestPath"},
            },
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}]


def test_cursor_pagination_stops_on_empty_cursor(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/e", query_string="").respond_with_json({"data": [{"id": 1}], "next": "t2"})
    httpserver.expect_request("/e", query_string="after=t2").respond_with_json({"data": [{"id": 2}], "next": None})
    m = stream(
        base,
        {
            "requester": {"path": "/e"},
            "record_selector": {"extractor": {"field_path": ["data"]}},
            "paginator": {
                "type": "DefaultPaginator",
                "pagination_strategy": {"type": "CursorPagination", "cursor_value": "{{ response.next }}"},
                "page_token_option": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "after",
                },
            },
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}]


def test_no_pagination_reads_one_page(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/n").respond_with_json({"data": [{"id": 1}], "next": "ignored"})
    m = stream(
        base,
        {
            "requester": {"path": "/n"},
            "record_selector": {"extractor": {"field_path": ["data"]}},
            "paginator": {"type": "NoPagination"},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}]
    assert len(httpserver.log) == 1


def test_jsonl_and_iterable_decoders_and_non_json_error(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/jl").respond_with_data('{"id": 1}\n{"id": 2}\n', content_type="application/jsonl")
    httpserver.expect_request("/it").respond_with_data("alpha\nbeta\n", content_type="text/plain")
    httpserver.expect_request("/html").respond_with_data("<html>oops</html>", content_type="text/html")
    m = stream(
        base,
        {
            "requester": {"path": "/jl"},
            "decoder": {"type": "JsonlDecoder"},
            "record_selector": {"extractor": {"field_path": []}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}]
    m = stream(
        base,
        {
            "requester": {"path": "/it"},
            "decoder": {"type": "IterableDecoder"},
            "record_selector": {"extractor": {"field_path": []}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"record": "alpha"}, {"record": "beta"}]
    m = stream(base, {"requester": {"path": "/html"}, "record_selector": {"extractor": {"field_path": []}}})
    with pytest.raises(HttpError, match=r"is not JSON \(HTTP 200, text/html"):
        read_all(make_source(m), "s")


def test_schema_normalization_default_casts_to_schema_types(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/n").respond_with_json(
        [
            {
                "id": "7",
                "price": "9.5",
                "active": "true",
                "code": 12,
                "tags": [1, 2],
                "nested": {"n": "3"},
                "free": "x",
                "bad": "not-a-number",
            }
        ]
    )
    m = stream(
        base,
        {
            "requester": {"path": "/n"},
            "record_selector": {"extractor": {"field_path": []}, "schema_normalization": "Default"},
        },
        schema_loader={
            "type": "InlineSchemaLoader",
            "schema": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "price": {"type": ["null", "number"]},
                    "active": {"type": "boolean"},
                    "code": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "nested": {"type": "object", "properties": {"n": {"type": "integer"}}},
                    "bad": {"type": "integer"},
                },
            },
        },
    )
    assert read_all(make_source(m), "s")[0] == [
        {
            "id": 7,
            "price": 9.5,
            "active": True,
            "code": "12",
            "tags": ["1", "2"],
            "nested": {"n": 3},
            "free": "x",
            "bad": "not-a-number",
        }
    ]


def test_csv_and_gzip_decoders(httpserver: HTTPServer, base: str) -> None:
    import gzip

    csv_body = "id;name;note\n1;ann;NA\n2;bob;hi\n"
    httpserver.expect_request("/csv").respond_with_data(csv_body, content_type="text/csv")
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(b'{"id": 1}\n{"id": 2}\n'), content_type="application/octet-stream"
    )
    m = stream(
        base,
        {
            "requester": {"path": "/csv"},
            "decoder": {"type": "CsvDecoder", "delimiter": ";", "set_values_to_none": ["NA"]},
            "record_selector": {"extractor": {"field_path": []}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [
        {"id": "1", "name": "ann", "note": None},
        {"id": "2", "name": "bob", "note": "hi"},
    ]
    m = stream(
        base,
        {
            "requester": {"path": "/gz"},
            "decoder": {"type": "GzipDecoder", "decoder": {"type": "JsonlDecoder"}},
            "record_selector": {"extractor": {"field_path": []}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}, {"id": 2}]


def test_flatten_keys_lower_replace_and_dpath_flatten(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/f").respond_with_json(
        [{"Id": 1, "Meta Data": {"a": {"b": 2}}, "list": [3, 4], "props": {"color": "red", "size": 5}}]
    )

    def run(transformations: list[dict[str, Any]]) -> dict[str, Any]:
        m = stream(
            base,
            {"requester": {"path": "/f"}, "record_selector": {"extractor": {"field_path": []}}},
            transformations=transformations,
        )
        return read_all(make_source(m), "s")[0][0]

    assert run([{"type": "FlattenFields"}]) == {
        "Id": 1,
        "Meta Data.a.b": 2,
        "list.0": 3,
        "list.1": 4,
        "props.color": "red",
        "props.size": 5,
    }
    assert run([{"type": "KeysToLower"}, {"type": "KeysReplace", "old": " ", "new": "_"}])["meta_data"] == {
        "a": {"b": 2}
    }
    lifted = run(
        [
            {
                "type": "DpathFlattenFields",
                "field_path": ["props"],
                "delete_origin_value": True,
                "key_transformation": {"type": "KeyTransformation", "prefix": "p_"},
            }
        ]
    )
    assert lifted == {"Id": 1, "Meta Data": {"a": {"b": 2}}, "list": [3, 4], "p_color": "red", "p_size": 5}


def test_xml_decoder(httpserver: HTTPServer, base: str) -> None:
    body = (
        '<?xml version="1.0"?><response total="2"><items><item id="1"><name>ann</name></item>'
        '<item id="2"><name>bob</name></item></items></response>'
    )
    httpserver.expect_request("/x").respond_with_data(body, content_type="application/xml")
    m = stream(
        base,
        {
            "requester": {"path": "/x"},
            "decoder": {"type": "XmlDecoder"},
            "record_selector": {"extractor": {"field_path": ["response", "items", "item"]}},
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"@id": "1", "name": "ann"}, {"@id": "2", "name": "bob"}]
