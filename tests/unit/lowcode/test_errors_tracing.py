"""Error handling and retries (429 Retry-After, 5xx, 401), and secrets masked in traces."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ducto.protocol.lowcode import DeclarativeSource, HttpError, RuntimeOptions

from .conftest import make_source, read_all, stream_manifest


def flaky(statuses: list[int], headers: dict[str, str] | None = None) -> Any:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        i = calls["n"]
        calls["n"] += 1
        if i < len(statuses):
            return Response(
                json.dumps({"message": f"try {i}"}),
                status=statuses[i],
                headers=headers or {},
                content_type="application/json",
            )
        return Response(json.dumps([{"id": 1}]), content_type="application/json")

    return handler


def simple(base: str, **requester: Any) -> dict[str, Any]:
    return stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {
                "requester": {"path": "/x", **requester},
                "record_selector": {"extractor": {"field_path": []}},
            },
        },
    )


def test_429_waits_retry_after_then_succeeds(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_handler(flaky([429, 429], {"Retry-After": "0.2"}))
    waits: list[float] = []
    source = DeclarativeSource(simple(base), {}, options=RuntimeOptions(sleep=waits.append))
    assert read_all(source, "s")[0] == [{"id": 1}]
    assert waits == [0.2, 0.2]


def test_5xx_then_success_with_constant_backoff(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_handler(flaky([500, 503, 502]))
    waits: list[float] = []
    m = simple(
        base,
        error_handler={
            "type": "DefaultErrorHandler",
            "backoff_strategies": [{"type": "ConstantBackoffStrategy", "backoff_time_in_seconds": 0.01}],
        },
    )
    source = DeclarativeSource(m, {}, options=RuntimeOptions(sleep=waits.append))
    assert read_all(source, "s")[0] == [{"id": 1}]
    assert waits == [0.01, 0.01, 0.01]
    assert len(httpserver.log) == 4


def test_gives_up_after_max_retries(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_handler(flaky([500] * 10))
    m = simple(
        base,
        error_handler={
            "max_retries": 2,
            "backoff_strategies": [{"type": "ExponentialBackoffStrategy", "factor": 0.001}],
        },
    )
    with pytest.raises(HttpError, match=r"HTTP 500 .*gave up after 2 retries") as exc:
        read_all(make_source(m), "s")
    assert exc.value.failure_type == "transient_error"
    assert len(httpserver.log) == 3


def test_401_is_a_config_error_and_check_fails(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_json({"error": "bad key"}, status=401)
    with pytest.raises(HttpError) as exc:
        read_all(make_source(simple(base)), "s")
    assert exc.value.failure_type == "config_error"
    assert "HTTP 401" in str(exc.value) and "bad key" in str(exc.value)
    ok, reason = make_source(simple(base)).check()
    assert not ok and reason is not None and "HTTP 401" in reason
    assert len(httpserver.log) == 2  # no retries


def test_response_filters_ignore_fail_and_retry(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_json({"message": "gone"}, status=404)
    m = simple(base, error_handler={"response_filters": [{"http_codes": [404], "action": "IGNORE"}]})
    assert read_all(make_source(m), "s")[0] == []
    httpserver.clear()
    httpserver.expect_request("/x").respond_with_json({"error": {"message": "quota exceeded today"}})
    m = simple(
        base,
        error_handler={
            "response_filters": [
                {
                    "error_message_contains": "quota",
                    "action": "FAIL",
                    "failure_type": "config_error",
                    "error_message": "Quota hit: {{ response.error.message }}",
                }
            ]
        },
    )
    with pytest.raises(HttpError, match="Quota hit: quota exceeded today") as exc:
        read_all(make_source(m), "s")
    assert exc.value.failure_type == "config_error"
    httpserver.clear()
    httpserver.expect_request("/x").respond_with_handler(flaky([400]))
    m = simple(
        base,
        error_handler={
            "type": "CompositeErrorHandler",
            "error_handlers": [
                {
                    "response_filters": [{"predicate": "{{ 'try' in response.message }}", "action": "RETRY"}],
                    "backoff_strategies": [{"type": "ConstantBackoffStrategy", "backoff_time_in_seconds": 0}],
                },
                {"response_filters": [{"http_codes": [418], "action": "IGNORE"}]},
            ],
        },
    )
    assert read_all(make_source(m), "s")[0] == [{"id": 1}]


def test_wait_time_from_header_with_max(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_handler(flaky([429], {"X-Wait": "wait=7200s"}))
    m = simple(
        base,
        error_handler={
            "backoff_strategies": [
                {
                    "type": "WaitTimeFromHeader",
                    "header": "X-Wait",
                    "regex": "wait=(\\d+)s",
                    "max_waiting_time_in_seconds": 60,
                }
            ]
        },
    )
    with pytest.raises(HttpError, match="more than max_waiting_time_in_seconds"):
        read_all(make_source(m), "s")


def test_trace_shows_request_and_masks_secrets(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_json([{"id": 1, "echo": "s3cr3t-key"}])
    m = simple(
        base,
        request_headers={"X-Trace": "t"},
        authenticator={
            "type": "ApiKeyAuthenticator",
            "api_token": "{{ config.api_key }}",
            "inject_into": {"type": "RequestOption", "inject_into": "request_parameter", "field_name": "key"},
        },
    )
    m["spec"] = {
        "type": "Spec",
        "connection_specification": {
            "type": "object",
            "properties": {"api_key": {"type": "string", "airbyte_secret": True}},
        },
    }
    events: list[dict[str, Any]] = []
    source = make_source(m, {"api_key": "s3cr3t-key"})
    list(source.stream("s").read(None, sink=events.append))
    kinds = [e["event"] for e in events]
    assert kinds == ["slice", "request", "page"]
    request = events[1]["request"]
    assert request["method"] == "GET"
    assert request["params"] == {"key": "****"}
    assert "s3cr3t-key" not in json.dumps(events[1])
    assert request["headers"]["X-Trace"] == "t"
    assert events[1]["response"]["status"] == 200
    assert events[2]["records"] == [{"id": 1, "echo": "s3cr3t-key"}]  # records are data, not masked
    assert events[2]["next_page_token"] is None


def test_authorization_header_masked_and_error_messages_masked(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x").respond_with_json({"message": "token tok-abc-123 is revoked"}, status=403)
    m = simple(base, authenticator={"type": "BearerAuthenticator", "api_token": "{{ config.token }}"})
    events: list[dict[str, Any]] = []
    source = make_source(m, {"token": "tok-abc-123"})
    with pytest.raises(HttpError) as exc:
        list(source.stream("s").read(None, sink=events.append))
    assert "tok-abc-123" not in str(exc.value)
    assert events[1]["request"]["headers"]["Authorization"] == "****"
    assert "tok-abc-123" not in json.dumps(events)
