"""DatetimeBasedCursor windows and state, IncrementingCountCursor, list and parent->child partitions."""

from __future__ import annotations

import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from .conftest import make_source, read_all, stream_manifest

EVENTS = [
    {"id": 1, "updated": "2024-01-01T05:00:00Z"},
    {"id": 2, "updated": "2024-01-02T10:00:00Z"},
    {"id": 3, "updated": "2024-01-03T23:59:59Z"},
    {"id": 4, "updated": "2024-01-05T00:00:00Z"},
]


def events_handler(request: Request) -> Response:
    low = request.args.get("updated.gte", "0000")
    high = request.args.get("updated.lte", "9999")
    items = [e for e in EVENTS if low <= e["updated"] <= high]
    return Response(json.dumps({"events": items}), content_type="application/json")


def cursor(**overrides: Any) -> dict[str, Any]:
    spec = {
        "type": "DatetimeBasedCursor",
        "cursor_field": "updated",
        "datetime_format": "%Y-%m-%dT%H:%M:%SZ",
        "start_datetime": "{{ config.start_date }}",
        "end_datetime": "2024-01-04T23:59:59Z",
        "step": "P1D",
        "cursor_granularity": "PT1S",
        "start_time_option": {"inject_into": "request_parameter", "field_name": "updated.gte"},
        "end_time_option": {"inject_into": "request_parameter", "field_name": "updated.lte"},
    }
    spec.update(overrides)
    return spec


def events_manifest(base: str, **cursor_overrides: Any) -> dict[str, Any]:
    return stream_manifest(
        base,
        {
            "name": "events",
            "primary_key": "id",
            "retriever": {
                "requester": {"path": "/events"},
                "record_selector": {"extractor": {"field_path": ["events"]}},
            },
            "incremental_sync": cursor(**cursor_overrides),
        },
    )


def test_daily_windows_inject_bounds_and_emit_state(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/events").respond_with_handler(events_handler)
    source = make_source(events_manifest(base), {"start_date": "2024-01-01T00:00:00Z"})
    records, states = read_all(source, "events")
    assert [r["id"] for r in records] == [1, 2, 3]
    windows = [(r.args["updated.gte"], r.args["updated.lte"]) for r, _ in httpserver.log]
    assert windows == [
        ("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z"),
        ("2024-01-02T00:00:00Z", "2024-01-02T23:59:59Z"),
        ("2024-01-03T00:00:00Z", "2024-01-03T23:59:59Z"),
        ("2024-01-04T00:00:00Z", "2024-01-04T23:59:59Z"),
    ]
    assert states == [
        {"updated": "2024-01-01T05:00:00Z"},
        {"updated": "2024-01-02T10:00:00Z"},
        {"updated": "2024-01-03T23:59:59Z"},
    ]
    assert source.stream("events").cursor_field == ["updated"]


def test_resume_from_state_with_lookback(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/events").respond_with_handler(events_handler)
    source = make_source(events_manifest(base, lookback_window="PT12H"), {"start_date": "2023-01-01T00:00:00Z"})
    records, states = read_all(source, "events", {"updated": "2024-01-03T06:00:00Z"})
    first = httpserver.log[0][0].args
    assert first["updated.gte"] == "2024-01-02T18:00:00Z"
    assert [r["id"] for r in records] == [3]
    assert states[-1] == {"updated": "2024-01-03T23:59:59Z"}


def test_full_refresh_ignores_state_and_empty_read_still_reports_state(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/events").respond_with_handler(events_handler)
    source = make_source(events_manifest(base), {"start_date": "2024-01-01T00:00:00Z"})
    records, _ = read_all(source, "events", {"updated": "2024-01-03T00:00:00Z"}, incremental=False)
    assert len(records) == 3
    empty = make_source(
        events_manifest(base, end_datetime="2023-06-02T00:00:00Z"), {"start_date": "2023-06-01T00:00:00Z"}
    )
    records, states = read_all(empty, "events", {"updated": "2023-06-01T12:00:00Z"})
    assert records == [] and states == [{"updated": "2023-06-01T12:00:00Z"}]


def test_epoch_seconds_format_and_client_side_filter(httpserver: HTTPServer, base: str) -> None:
    rows = [{"id": 1, "ts": 1704067200}, {"id": 2, "ts": 1704153600}, {"id": 3, "ts": 1704240000}]
    httpserver.expect_request("/all").respond_with_json(rows)
    m = stream_manifest(
        base,
        {
            "name": "rows",
            "retriever": {
                "requester": {"path": "/all"},
                "record_selector": {"extractor": {"field_path": []}},
            },
            "incremental_sync": {
                "type": "DatetimeBasedCursor",
                "cursor_field": "ts",
                "datetime_format": "%s",
                "start_datetime": "1704067200",
                "end_datetime": "1704326400",
                "is_client_side_incremental": True,
            },
        },
    )
    records, states = read_all(make_source(m), "rows", {"ts": 1704153600})
    assert [r["id"] for r in records] == [2, 3]
    assert states[-1] == {"ts": 1704240000}


def test_incrementing_count_cursor(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/n", query_string="since=5").respond_with_json([{"seq": 6}, {"seq": 9}])
    m = stream_manifest(
        base,
        {
            "name": "n",
            "retriever": {"requester": {"path": "/n"}, "record_selector": {"extractor": {"field_path": []}}},
            "incremental_sync": {
                "type": "IncrementingCountCursor",
                "cursor_field": "seq",
                "start_value": 0,
                "start_value_option": {"inject_into": "request_parameter", "field_name": "since"},
            },
        },
    )
    records, states = read_all(make_source(m), "n", {"seq": 5})
    assert len(records) == 2 and states == [{"seq": 9}]


def test_list_partition_router(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/sections/a", query_string="section=a").respond_with_json([{"id": "a1"}])
    httpserver.expect_request("/sections/b", query_string="section=b").respond_with_json([{"id": "b1"}])
    m = stream_manifest(
        base,
        {
            "name": "sections",
            "retriever": {
                "requester": {"path": "/sections/{{ stream_partition.section }}"},
                "record_selector": {"extractor": {"field_path": []}},
                "partition_router": {
                    "type": "ListPartitionRouter",
                    "cursor_field": "section",
                    "values": ["a", "b"],
                    "request_option": {"inject_into": "request_parameter", "field_name": "section"},
                },
            },
            "transformations": [
                {
                    "type": "AddFields",
                    "fields": [{"path": ["section"], "value": "{{ stream_partition.section }}"}],
                }
            ],
        },
    )
    assert read_all(make_source(m), "sections")[0] == [
        {"id": "a1", "section": "a"},
        {"id": "b1", "section": "b"},
    ]


def parent_child_manifest(base: str, **child_extra: Any) -> dict[str, Any]:
    parent = {
        "name": "events",
        "primary_key": "id",
        "retriever": {
            "requester": {"url_base": base, "path": "/events"},
            "record_selector": {"extractor": {"field_path": ["events"]}},
        },
    }
    child = {
        "name": "event_details",
        "primary_key": "id",
        "retriever": {
            "requester": {"url_base": base, "path": "/events/{{ stream_partition.event_id }}"},
            "record_selector": {"extractor": {"field_path": []}},
            "partition_router": {
                "type": "SubstreamPartitionRouter",
                "parent_stream_configs": [
                    {"stream": "#/definitions/events", "parent_key": "id", "partition_field": "event_id"}
                ],
            },
        },
        **child_extra,
    }
    return {
        "version": "6",
        "type": "DeclarativeSource",
        "definitions": {"events": parent},
        "check": {"stream_names": ["events"]},
        "streams": ["#/definitions/events", child],
    }


def test_parent_to_child(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/events").respond_with_json({"events": [{"id": 10}, {"id": 11}]})
    httpserver.expect_request("/events/10").respond_with_json({"id": 10, "detail": "ten"})
    httpserver.expect_request("/events/11").respond_with_json({"id": 11, "detail": "eleven"})
    source = make_source(parent_child_manifest(base))
    assert read_all(source, "event_details")[0] == [
        {"id": 10, "detail": "ten"},
        {"id": 11, "detail": "eleven"},
    ]


def test_parent_to_child_incremental_keeps_state_per_partition(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/events").respond_with_json({"events": [{"id": 10}, {"id": 11}]})
    httpserver.expect_request("/events/10").respond_with_json([{"id": "c1", "at": "2024-01-02"}])
    httpserver.expect_request("/events/11").respond_with_json([{"id": "c2", "at": "2024-01-03"}])
    m = parent_child_manifest(
        base,
        incremental_sync={
            "type": "DatetimeBasedCursor",
            "cursor_field": "at",
            "datetime_format": "%Y-%m-%d",
            "start_datetime": "2024-01-01",
            "end_datetime": "2024-01-10",
            "start_time_option": {"inject_into": "request_parameter", "field_name": "since"},
        },
    )
    records, states = read_all(make_source(m), "event_details")
    assert [r["id"] for r in records] == ["c1", "c2"]
    assert states[-1] == {
        "states": [
            {"partition": {"event_id": 10, "parent_slice": {}}, "cursor": {"at": "2024-01-02"}},
            {"partition": {"event_id": 11, "parent_slice": {}}, "cursor": {"at": "2024-01-03"}},
        ]
    }
    httpserver.clear_log()
    read_all(make_source(m), "event_details", states[-1])
    since = {r.path: r.args.get("since") for r, _ in httpserver.log}
    assert since == {"/events": None, "/events/10": "2024-01-02", "/events/11": "2024-01-03"}


def test_data_feed_stops_paging_at_the_state(httpserver: HTTPServer, base: str) -> None:
    pages = {
        None: [{"id": 5, "at": "2024-01-05"}, {"id": 4, "at": "2024-01-04"}],
        "2": [{"id": 3, "at": "2024-01-03"}, {"id": 2, "at": "2024-01-02"}],
        "3": [{"id": 1, "at": "2024-01-01"}],
    }

    def handler(request: Request) -> Response:
        return Response(json.dumps(pages[request.args.get("page")]), content_type="application/json")

    httpserver.expect_request("/feed").respond_with_handler(handler)
    m = stream_manifest(
        base,
        {
            "name": "feed",
            "retriever": {
                "requester": {"path": "/feed"},
                "record_selector": {"extractor": {"field_path": []}},
                "paginator": {
                    "type": "DefaultPaginator",
                    "pagination_strategy": {"type": "PageIncrement", "page_size": 2, "start_from_page": 1},
                    "page_token_option": {
                        "type": "RequestOption",
                        "inject_into": "request_parameter",
                        "field_name": "page",
                    },
                },
            },
            "incremental_sync": {
                "type": "DatetimeBasedCursor",
                "cursor_field": "at",
                "datetime_format": "%Y-%m-%d",
                "start_datetime": "2023-12-01",
                "is_data_feed": True,
            },
        },
    )
    records, states = read_all(make_source(m), "feed", {"at": "2024-01-03"})
    assert [r["id"] for r in records] == [5, 4, 3, 2]
    assert len(httpserver.log) == 2
    assert states[-1] == {"at": "2024-01-05"}


def test_grouping_partition_router(httpserver: HTTPServer, base: str) -> None:
    def handler(request: Request) -> Response:
        ids = request.args["ids"].split(",")
        return Response(json.dumps([{"board": i} for i in ids]), content_type="application/json")

    httpserver.expect_request("/boards").respond_with_handler(handler)
    m = stream_manifest(
        base,
        {
            "name": "boards",
            "retriever": {
                "requester": {
                    "path": "/boards",
                    "request_parameters": {"ids": "{{ stream_partition.board_id | join(',') }}"},
                },
                "record_selector": {"extractor": {"field_path": []}},
                "partition_router": {
                    "type": "GroupingPartitionRouter",
                    "group_size": 2,
                    "underlying_partition_router": {
                        "type": "ListPartitionRouter",
                        "cursor_field": "board_id",
                        "values": ["a", "b", "a", "c"],
                    },
                },
            },
        },
    )
    records, _ = read_all(make_source(m), "boards")
    assert [r["board"] for r in records] == ["a", "b", "c"]
    assert [r.args["ids"] for r, _ in httpserver.log] == ["a,b", "c"]


def test_state_delegating_stream(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/export").respond_with_json(
        [{"id": 1, "at": "2024-01-01"}, {"id": 2, "at": "2024-01-02"}]
    )
    httpserver.expect_request("/changes", query_string="since=2024-01-02").respond_with_json(
        [{"id": 3, "at": "2024-01-03"}]
    )
    selector = {"extractor": {"field_path": []}}
    m = {
        "version": "6",
        "type": "DeclarativeSource",
        "streams": [
            {
                "type": "StateDelegatingStream",
                "name": "items",
                "full_refresh_stream": {
                    "retriever": {"requester": {"url_base": base, "path": "/export"}, "record_selector": selector}
                },
                "incremental_stream": {
                    "retriever": {"requester": {"url_base": base, "path": "/changes"}, "record_selector": selector},
                    "incremental_sync": {
                        "type": "DatetimeBasedCursor",
                        "cursor_field": "at",
                        "datetime_format": "%Y-%m-%d",
                        "start_datetime": "2023-01-01",
                        "start_time_option": {"inject_into": "request_parameter", "field_name": "since"},
                    },
                },
            }
        ],
    }
    source = make_source(m)
    assert source.stream("items").cursor_field == ["at"]
    records, states = read_all(source, "items")
    assert [r["id"] for r in records] == [1, 2] and states == [{"at": "2024-01-02"}]
    records, states = read_all(source, "items", states[-1])
    assert [r["id"] for r in records] == [3] and states[-1] == {"at": "2024-01-03"}
