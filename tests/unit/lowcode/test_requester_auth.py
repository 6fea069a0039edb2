"""HttpRequester and authenticators against a real local HTTP server."""

from __future__ import annotations

import base64
import json
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from .conftest import make_source, read_all, stream_manifest


def one_stream(base: str, requester: dict[str, Any], **stream: Any) -> dict[str, Any]:
    return stream_manifest(
        base,
        {
            "name": "s",
            "retriever": {"requester": requester, "record_selector": {"extractor": {"field_path": ["data"]}}},
            **stream,
        },
    )


def test_url_base_path_params_headers_get(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(
        "/v1/things/acme", method="GET", query_string={"limit": "10", "q": "acme"}, headers={"X-Version": "7"}
    ).respond_with_json({"data": [{"id": 1}]})
    m = one_stream(
        base + "/v1",
        {
            "path": "/things/{{ config.org }}",
            "request_parameters": {"limit": 10, "q": "{{ config.org }}"},
            "request_headers": {"X-Version": "{{ config.version }}"},
        },
    )
    records, _ = read_all(make_source(m, {"org": "acme", "version": 7}), "s")
    assert records == [{"id": 1}]


def test_url_field_and_post_json_body(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/search", method="POST", json={"query": {"org": "acme", "size": 5}}).respond_with_json(
        {"data": [{"id": 2}]}
    )
    m = one_stream(
        base,
        {
            "url": base + "/search",
            "http_method": "POST",
            "request_body_json": {"query": {"org": "{{ config.org }}", "size": 5}},
        },
    )
    assert read_all(make_source(m, {"org": "acme"}), "s")[0] == [{"id": 2}]


def test_post_form_body_data(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/form", method="POST", data="a=1&b=acme").respond_with_json({"data": [{"id": 3}]})
    m = one_stream(
        base,
        {"path": "/form", "http_method": "POST", "request_body_data": {"a": "1", "b": "{{ config.org }}"}},
    )
    assert read_all(make_source(m, {"org": "acme"}), "s")[0] == [{"id": 3}]


def test_api_key_in_query_and_header(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/q", query_string={"client_id": "cid-123"}).respond_with_json({"data": [{"id": 1}]})
    httpserver.expect_request("/h", headers={"X-Api-Key": "k-999"}).respond_with_json({"data": [{"id": 2}]})
    q = one_stream(
        base,
        {
            "path": "/q",
            "authenticator": {
                "type": "ApiKeyAuthenticator",
                "api_token": "{{ config.client_id }}",
                "inject_into": {
                    "type": "RequestOption",
                    "inject_into": "request_parameter",
                    "field_name": "client_id",
                },
            },
        },
    )
    assert read_all(make_source(q, {"client_id": "cid-123"}), "s")[0] == [{"id": 1}]
    h = one_stream(
        base,
        {
            "path": "/h",
            "authenticator": {
                "type": "ApiKeyAuthenticator",
                "api_token": "{{ config.key }}",
                "header": "X-Api-Key",
            },
        },
    )
    assert read_all(make_source(h, {"key": "k-999"}), "s")[0] == [{"id": 2}]


def test_bearer_and_basic(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/b", headers={"Authorization": "Bearer tok"}).respond_with_json({"data": [{"id": 1}]})
    basic = "Basic " + base64.b64encode(b"user:pw").decode()
    httpserver.expect_request("/basic", headers={"Authorization": basic}).respond_with_json({"data": [{"id": 2}]})
    b = one_stream(
        base, {"path": "/b", "authenticator": {"type": "BearerAuthenticator", "api_token": "{{ config.t }}"}}
    )
    assert read_all(make_source(b, {"t": "tok"}), "s")[0] == [{"id": 1}]
    ba = one_stream(
        base,
        {
            "path": "/basic",
            "authenticator": {
                "type": "BasicHttpAuthenticator",
                "username": "{{ config.u }}",
                "password": "{{ config.p }}",
            },
        },
    )
    assert read_all(make_source(ba, {"u": "user", "p": "pw"}), "s")[0] == [{"id": 2}]


def test_oauth_refresh_token_and_client_credentials(httpserver: HTTPServer, base: str) -> None:
    seen: list[dict[str, str]] = []

    def token(request: Request) -> Response:
        form = dict(request.form)
        seen.append(form)
        return Response(
            json.dumps({"access_token": f"at-{form['grant_type']}", "expires_in": 3600}),
            content_type="application/json",
        )

    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(token)
    httpserver.expect_request("/r", headers={"Authorization": "Bearer at-refresh_token"}).respond_with_json(
        {"data": [{"id": 1}]}
    )
    httpserver.expect_request("/c", headers={"Authorization": "Bearer at-client_credentials"}).respond_with_json(
        {"data": [{"id": 2}]}
    )
    refresh = one_stream(
        base,
        {
            "path": "/r",
            "authenticator": {
                "type": "OAuthAuthenticator",
                "token_refresh_endpoint": base + "/oauth/token",
                "client_id": "{{ config.cid }}",
                "client_secret": "{{ config.cs }}",
                "refresh_token": "{{ config.rt }}",
            },
        },
    )
    assert read_all(make_source(refresh, {"cid": "a", "cs": "b", "rt": "r"}), "s")[0] == [{"id": 1}]
    assert seen[-1] == {
        "grant_type": "refresh_token",
        "client_id": "a",
        "client_secret": "b",
        "refresh_token": "r",
    }
    creds = one_stream(
        base,
        {
            "path": "/c",
            "authenticator": {
                "type": "OAuthAuthenticator",
                "token_refresh_endpoint": base + "/oauth/token",
                "grant_type": "client_credentials",
                "client_id": "{{ config.cid }}",
                "client_secret": "{{ config.cs }}",
            },
        },
    )
    assert read_all(make_source(creds, {"cid": "a", "cs": "b"}), "s")[0] == [{"id": 2}]
    assert seen[-1] == {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}


def test_oauth_refused_is_config_error(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json({"error": "invalid_grant"}, status=400)
    m = one_stream(
        base,
        {
            "path": "/r",
            "authenticator": {
                "type": "OAuthAuthenticator",
                "token_refresh_endpoint": base + "/oauth/token",
                "client_id": "a",
                "client_secret": "b",
                "refresh_token": "bad",
            },
        },
    )
    ok, reason = make_source(m).check()
    assert not ok
    assert reason is not None and "refused with HTTP 400" in reason


def test_session_token(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/login", method="POST", json={"user": "u", "password": "p"}).respond_with_json(
        {"result": {"token": "sess-1"}}
    )
    httpserver.expect_request("/data", headers={"X-Session": "sess-1"}).respond_with_json({"data": [{"id": 1}]})
    m = one_stream(
        base,
        {
            "path": "/data",
            "authenticator": {
                "type": "SessionTokenAuthenticator",
                "login_requester": {
                    "url_base": base,
                    "path": "/login",
                    "http_method": "POST",
                    "request_body_json": {"user": "{{ config.user }}", "password": "{{ config.password }}"},
                },
                "session_token_path": ["result", "token"],
                "expiration_duration": "PT1H",
                "request_authentication": {
                    "type": "ApiKey",
                    "inject_into": {
                        "type": "RequestOption",
                        "inject_into": "header",
                        "field_name": "X-Session",
                    },
                },
            },
        },
    )
    assert read_all(make_source(m, {"user": "u", "password": "p"}), "s")[0] == [{"id": 1}]


def test_selective_authenticator(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/x", headers={"Authorization": "Bearer zz"}).respond_with_json({"data": [{"id": 1}]})
    m = one_stream(
        base,
        {
            "path": "/x",
            "authenticator": {
                "type": "SelectiveAuthenticator",
                "authenticator_selection_path": ["auth", "kind"],
                "authenticators": {
                    "token": {"type": "BearerAuthenticator", "api_token": "{{ config.auth.token }}"},
                    "none": {"type": "NoAuth"},
                },
            },
        },
    )
    assert read_all(make_source(m, {"auth": {"kind": "token", "token": "zz"}}), "s")[0] == [{"id": 1}]


def test_jwt_hs256(httpserver: HTTPServer, base: str) -> None:
    import hashlib
    import hmac

    def verify(request: Request) -> Response:
        token = request.headers["Authorization"].removeprefix("JWT ")
        head, body, sig = token.split(".")
        expected = hmac.new(b"s3cret", f"{head}.{body}".encode(), hashlib.sha256).digest()
        pad = "=" * (-len(sig) % 4)
        ok = base64.urlsafe_b64decode(sig + pad) == expected
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        if not ok:
            return Response("bad signature", status=401)
        return Response(
            json.dumps({"data": [{"iss": claims["iss"], "kid": header["kid"], "ttl": claims["exp"] - claims["iat"]}]}),
            content_type="application/json",
        )

    httpserver.expect_request("/jwt").respond_with_handler(verify)
    m = one_stream(
        base,
        {
            "path": "/jwt",
            "authenticator": {
                "type": "JwtAuthenticator",
                "secret_key": "{{ config.secret }}",
                "algorithm": "HS256",
                "header_prefix": "JWT",
                "token_duration": 600,
                "jwt_headers": {"kid": "{{ config.kid }}"},
                "jwt_payload": {"iss": "ducto"},
            },
        },
    )
    assert read_all(make_source(m, {"secret": "s3cret", "kid": "k1"}), "s")[0] == [
        {"iss": "ducto", "kid": "k1", "ttl": 600}
    ]


def test_legacy_session_token_login_and_given_token(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request("/api/session", method="POST", json={"username": "u", "password": "p"}).respond_with_json(
        {"id": "sess-9"}
    )
    httpserver.expect_request("/api/user/current", headers={"X-Session": "given-1"}).respond_with_json({"ok": True})
    httpserver.expect_request("/api/cards", headers={"X-Session": "sess-9"}).respond_with_json({"data": [{"id": 1}]})
    httpserver.expect_request("/api/cards", headers={"X-Session": "given-1"}).respond_with_json({"data": [{"id": 2}]})
    auth = {
        "type": "LegacySessionTokenAuthenticator",
        "header": "X-Session",
        "login_url": "session",
        "validate_session_url": "user/current",
        "session_token_response_key": "id",
        "username": "{{ config.get('username') }}",
        "password": "{{ config.get('password') }}",
        "session_token": "{{ config.get('session_token') }}",
    }
    m = one_stream(base + "/api", {"path": "/cards", "authenticator": auth})
    assert read_all(make_source(m, {"username": "u", "password": "p"}), "s")[0] == [{"id": 1}]
    assert read_all(make_source(m, {"session_token": "given-1"}), "s")[0] == [{"id": 2}]
