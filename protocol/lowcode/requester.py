"""HttpRequester: builds one request from the manifest and the components' parts, sends it with
retries per the error handler, and reports what happened to the trace sink."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from ducto.protocol.lowcode.auth import (
    AUTHENTICATOR_TYPES,
    ApiKeyAuthenticator,
    Authenticator,
    BasicHttpAuthenticator,
    BearerAuthenticator,
    JwtAuthenticator,
    LegacySessionTokenAuthenticator,
    NoAuth,
    OAuthAuthenticator,
    SelectiveAuthenticator,
    SessionTokenAuthenticator,
)
from ducto.protocol.lowcode.context import BuildContext
from ducto.protocol.lowcode.error_handling import ErrorHandler, build_error_handler, error_message_of
from ducto.protocol.lowcode.errors import CONFIG_ERROR, HttpError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedMapping, InterpolatedNested
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.request_options import RequestParts
from ducto.protocol.lowcode.tracing import TraceSink, trim

BODY_TYPES = [
    "RequestBodyJsonObject",
    "RequestBodyUrlEncodedForm",
    "RequestBodyPlainText",
    "RequestBodyGraphQL",
]


def build_authenticator(
    node: Node | None, ctx: BuildContext, api_url: Callable[[], str] | None = None
) -> Authenticator:
    if node is None:
        return NoAuth()
    kind = node.expect_type(AUTHENTICATOR_TYPES, "an authenticator")
    config = ctx.config
    if kind == "NoAuth":
        return NoAuth()
    if kind == "ApiKeyAuthenticator":
        return ApiKeyAuthenticator(node, config)
    if kind == "BearerAuthenticator":
        return BearerAuthenticator(node, config)
    if kind == "BasicHttpAuthenticator":
        return BasicHttpAuthenticator(node, config)
    if kind == "OAuthAuthenticator":
        return OAuthAuthenticator(node, config, ctx.session, ctx.on_config_update)
    if kind == "JwtAuthenticator":
        return JwtAuthenticator(node, config)
    if kind == "LegacySessionTokenAuthenticator":
        return LegacySessionTokenAuthenticator(
            node, config, ctx.session, api_url or (lambda: ""), ctx.options.request_timeout
        )
    if kind == "SessionTokenAuthenticator":
        login_node = node.child("login_requester", required=True, expected="an HttpRequester")
        assert login_node is not None
        login = HttpRequester(login_node, ctx)

        def do_login() -> Any:
            response = login.send(RequestParts(), {}, None, label="login")
            return response.json() if response is not None else {}

        return SessionTokenAuthenticator(node, config, do_login)
    return SelectiveAuthenticator(node, config, lambda n: build_authenticator(n, ctx, api_url))


class HttpRequester:
    """One endpoint: URL, method, options, authentication and error handling."""

    def __init__(self, node: Node, ctx: BuildContext) -> None:
        node.expect_type(["HttpRequester"], "a requester")
        self.ctx = ctx
        self.path_str = node.path
        p = node.parameters
        self.url = Interpolated(node.raw("url"), p, path=node.at("url"), valid_types=(str,))
        self.url_base = Interpolated(node.raw("url_base"), p, path=node.at("url_base"), valid_types=(str,))
        self.path = Interpolated(node.raw("path"), p, path=node.at("path"), valid_types=(str,))
        if self.url.value is None and self.url_base.value is None:
            raise node.error("missing required field (expected url, or url_base and path)", "url")
        method = str(node.raw("http_method", "GET")).upper()
        if method not in {"GET", "POST"}:
            raise node.error(f"unknown http_method {method!r} (expected one of GET, POST)", "http_method")
        self.method = method
        self.query_properties: tuple[str, Node] | None = None
        raw_params = node.raw("request_parameters")
        if isinstance(raw_params, dict):
            for key, value in list(raw_params.items()):
                if isinstance(value, dict) and value.get("type") == "QueryProperties":
                    if self.query_properties is not None:
                        raise node.error("only one QueryProperties is supported", "request_parameters")
                    self.query_properties = (str(key), Node(value, f"{node.at('request_parameters')}.{key}"))
            if self.query_properties is not None:
                node = Node(
                    {
                        **node.data,
                        "request_parameters": {k: v for k, v in raw_params.items() if k != self.query_properties[0]},
                    },
                    node.path,
                )
        self.params = self._mapping_or_template(node, "request_parameters")
        self.headers = self._mapping_or_template(node, "request_headers")
        self.body_json: InterpolatedNested | Interpolated | None = None
        self.body_data: InterpolatedMapping | Interpolated | None = None
        self.body_text: Interpolated | None = None
        self._build_body(node)
        self.authenticator = build_authenticator(
            node.child("authenticator", expected="an authenticator"),
            ctx,
            lambda: str(self.url_base.eval(ctx.config) or self.url.eval(ctx.config) or ""),
        )
        self.error_handler: ErrorHandler = build_error_handler(
            node.child("error_handler", expected="an error handler"), ctx.config
        )

    @staticmethod
    def _mapping_or_template(node: Node, key: str) -> InterpolatedMapping | Interpolated | None:
        value = node.raw(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return InterpolatedMapping(value, node.parameters, path=node.at(key))
        if isinstance(value, str):
            return Interpolated(value, node.parameters, path=node.at(key), valid_types=(dict,))
        raise node.error(f"expected a mapping or a template string, got {type(value).__name__}", key)

    def _build_body(self, node: Node) -> None:
        p = node.parameters
        body = node.child("request_body", expected="a request body")
        if body is not None:
            kind = body.expect_type(BODY_TYPES, "a request body")
            value = body.require("value", "the body value")
            if kind in {"RequestBodyJsonObject", "RequestBodyGraphQL"}:
                self.body_json = InterpolatedNested(value, p, path=body.at("value"))
            elif kind == "RequestBodyUrlEncodedForm":
                if not isinstance(value, dict):
                    raise body.error("expected a mapping", "value")
                self.body_data = InterpolatedMapping(value, p, path=body.at("value"))
            else:
                self.body_text = Interpolated(value, p, path=body.at("value"), valid_types=(str,))
            return
        raw_json = node.raw("request_body_json")
        if raw_json is not None:
            if isinstance(raw_json, str):
                self.body_json = Interpolated(raw_json, p, path=node.at("request_body_json"), valid_types=(dict, list))
            else:
                self.body_json = InterpolatedNested(raw_json, p, path=node.at("request_body_json"))
        raw_data = node.raw("request_body_data")
        if raw_data is not None:
            if isinstance(raw_data, dict):
                self.body_data = InterpolatedMapping(raw_data, p, path=node.at("request_body_data"))
            else:
                self.body_text = Interpolated(raw_data, p, path=node.at("request_body_data"), valid_types=(str,))

    def _render_options(
        self, target: InterpolatedMapping | Interpolated | None, context: dict[str, Any]
    ) -> dict[str, Any]:
        if target is None:
            return {}
        value = target.eval(self.ctx.config, **context)
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise HttpError(
                    f"{self.path_str}: request options template rendered {value!r}, not a mapping",
                    CONFIG_ERROR,
                ) from None
        if not isinstance(value, dict):
            raise HttpError(f"{self.path_str}: request options must render to a mapping, got {value!r}", CONFIG_ERROR)
        return value

    def build_url(self, context: dict[str, Any], path_override: str | None) -> str:
        config = self.ctx.config
        if path_override is not None and path_override.startswith(("http://", "https://")):
            return path_override
        if self.url.value is not None and path_override is None:
            return str(self.url.eval(config, **context) or "")
        base = str(self.url_base.eval(config, **context) or self.url.eval(config, **context) or "")
        path = path_override if path_override is not None else str(self.path.eval(config, **context) or "")
        if not path:
            return base
        return urljoin(base.rstrip("/") + "/", path.lstrip("/"))

    def prepare(
        self, parts: RequestParts, stream_slice: dict[str, Any] | None, next_page_token: dict[str, Any] | None
    ) -> requests.PreparedRequest:
        """Combine the requester's own options with the components' parts and the authenticator."""
        context: dict[str, Any] = {
            "stream_slice": stream_slice or {},
            "next_page_token": next_page_token or {},
        }
        own = RequestParts(
            params=self._render_options(self.params, context),
            headers={k: str(v) for k, v in self._render_options(self.headers, context).items()},
        )
        if isinstance(self.body_json, (InterpolatedNested, Interpolated)):
            rendered = self.body_json.eval(self.ctx.config, **context)
            if isinstance(rendered, dict):
                own.body_json = rendered
            elif rendered not in (None, ""):
                raise HttpError(
                    f"{self.path_str}: the JSON body must render to a mapping, got {rendered!r}", CONFIG_ERROR
                )
        if isinstance(self.body_data, InterpolatedMapping):
            own.body_data = self.body_data.eval(self.ctx.config, **context)
        own.merge(parts)
        self.authenticator.apply(own)
        url = self.build_url(context, parts.path)
        present = {k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
        params = {k: v for k, v in own.params.items() if k not in present}
        headers = {"User-Agent": self.ctx.options.user_agent, **{k: str(v) for k, v in own.headers.items()}}
        kwargs: dict[str, Any] = {}
        if own.body_json:
            kwargs["json"] = own.body_json
        elif own.body_data:
            kwargs["data"] = own.body_data
        elif self.body_text is not None:
            text = self.body_text.eval(self.ctx.config, **context)
            if text:
                kwargs["data"] = str(text)
        request = requests.Request(self.method, url, params=params, headers=headers, **kwargs)
        return self.ctx.session.prepare_request(request)

    def send(
        self,
        parts: RequestParts,
        stream_slice: dict[str, Any] | None,
        next_page_token: dict[str, Any] | None,
        *,
        sink: TraceSink | None = None,
        label: str = "",
    ) -> requests.Response | None:
        """Send with retries. Returns the response, or None when the error handler says IGNORE."""
        prepared = self.prepare(parts, stream_slice, next_page_token)
        masker = self.ctx.masker
        masker.add(self.authenticator.secrets())
        attempts: list[dict[str, Any]] = []
        attempt = 0
        while True:
            response: requests.Response | None = None
            error: BaseException | None = None
            if self.ctx.api_budget is not None:
                self.ctx.api_budget.acquire(prepared)
            try:
                response = self.ctx.session.send(prepared, timeout=self.ctx.options.request_timeout)
            except requests.RequestException as exc:
                error = exc
            resolution, owner = self.error_handler.resolve(response, error)
            record: dict[str, Any] = {
                "status": response.status_code if response is not None else None,
                "action": resolution.action,
            }
            if error is not None:
                record["error"] = masker.text(f"{type(error).__name__}: {error}")
            attempts.append(record)
            if resolution.action in {"SUCCESS", "IGNORE"}:
                if sink is not None:
                    sink(self._trace(prepared, response, attempts, label))
                return response if resolution.action == "SUCCESS" else None
            if resolution.action == "FAIL":
                if sink is not None:
                    sink(self._trace(prepared, response, attempts, label))
                raise self._failure(prepared, response, error, resolution.message, resolution.failure_type)
            attempt += 1
            if attempt > owner.max_retries:
                if sink is not None:
                    sink(self._trace(prepared, response, attempts, label))
                raise self._failure(
                    prepared,
                    response,
                    error,
                    f"{resolution.message} (gave up after {owner.max_retries} retries)",
                    resolution.failure_type,
                )
            wait = owner.backoff(response, attempt)
            if wait is None:
                wait = self._default_wait(response, attempt)
            wait = self.ctx.options.cap(wait)
            record["wait_seconds"] = round(wait, 3)
            self.ctx.options.sleep(wait)

    def _default_wait(self, response: requests.Response | None, attempt: int) -> float:
        if response is not None:
            retry_after = response.headers.get("Retry-After")
            if retry_after:
                try:
                    return float(retry_after)
                except ValueError:
                    pass
        factor: float = self.ctx.options.default_backoff_factor
        return factor * 2.0 ** (attempt - 1)

    def _failure(
        self,
        prepared: requests.PreparedRequest,
        response: requests.Response | None,
        error: BaseException | None,
        message: str,
        failure_type: str,
    ) -> HttpError:
        masker = self.ctx.masker
        where = f"{prepared.method} {masker.text(_without_query(prepared.url or ''))}"
        if response is not None:
            detail = error_message_of(response)
            text = f"HTTP {response.status_code} from {where}: {message}"
            if detail:
                text += f" ({masker.text(trim(detail, 300))})"
            return HttpError(text, failure_type, response.status_code)
        return HttpError(f"request {where} failed: {masker.text(str(error))} ({message})", failure_type)

    def _trace(
        self,
        prepared: requests.PreparedRequest,
        response: requests.Response | None,
        attempts: list[dict[str, Any]],
        label: str,
    ) -> dict[str, Any]:
        masker = self.ctx.masker
        split = urlsplit(prepared.url or "")
        event: dict[str, Any] = {
            "event": "request",
            "label": label,
            "request": {
                "method": prepared.method,
                "url": masker.text(prepared.url or ""),
                "params": {k: masker.text(v) for k, v in parse_qsl(split.query, keep_blank_values=True)},
                "headers": masker.headers(dict(prepared.headers)),
            },
            "attempts": attempts,
        }
        if prepared.body:
            body = prepared.body.decode(errors="replace") if isinstance(prepared.body, bytes) else str(prepared.body)
            event["request"]["body"] = masker.text(trim(body))
        if response is not None:
            event["response"] = {
                "status": response.status_code,
                "headers": masker.headers(dict(response.headers)),
                "body": masker.text(trim(response.text)),
            }
        return event


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]
