"""Error handling: response filters, default/composite handlers and backoff strategies.

Default mapping (Airbyte's): 2xx succeed; 429 is rate limited (retry with backoff); 408 and 5xx
retry; 401/403 fail as config errors; other 4xx fail; network errors retry.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from ducto.protocol.lowcode.errors import CONFIG_ERROR, SYSTEM_ERROR, TRANSIENT_ERROR, HttpError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean
from ducto.protocol.lowcode.manifest import Node

ACTIONS = ("SUCCESS", "FAIL", "RETRY", "IGNORE", "RATE_LIMITED", "RESET_PAGINATION")
FAILURE_TYPES = (SYSTEM_ERROR, CONFIG_ERROR, TRANSIENT_ERROR)
ERROR_HANDLER_TYPES = ["DefaultErrorHandler", "CompositeErrorHandler"]
BACKOFF_TYPES = [
    "ConstantBackoffStrategy",
    "ExponentialBackoffStrategy",
    "WaitTimeFromHeader",
    "WaitUntilTimeFromHeader",
]


@dataclass(frozen=True)
class Resolution:
    """What to do with a response: an action, a failure type and a message."""

    action: str
    failure_type: str = SYSTEM_ERROR
    message: str = ""


SUCCESS = Resolution("SUCCESS")

_DEFAULT_BY_STATUS: dict[int, Resolution] = {
    400: Resolution("FAIL", SYSTEM_ERROR, "Bad request: check the request parameters"),
    401: Resolution("FAIL", CONFIG_ERROR, "Unauthorized: check the credentials in the config"),
    403: Resolution("FAIL", CONFIG_ERROR, "Forbidden: the credentials have no access to this resource"),
    404: Resolution("FAIL", SYSTEM_ERROR, "Not found"),
    405: Resolution("FAIL", SYSTEM_ERROR, "Method not allowed"),
    408: Resolution("RETRY", TRANSIENT_ERROR, "Request timeout"),
    429: Resolution("RATE_LIMITED", TRANSIENT_ERROR, "Rate limit exceeded"),
}


def default_resolution(response: requests.Response | None, exc: BaseException | None = None) -> Resolution:
    """Airbyte's default mapping of a status code or a network error."""
    if response is None:
        if isinstance(exc, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema)):
            return Resolution("FAIL", CONFIG_ERROR, f"Invalid URL: {exc}")
        return Resolution("RETRY", TRANSIENT_ERROR, f"Request failed: {type(exc).__name__ if exc else 'error'}")
    status = response.status_code
    if response.ok:
        return SUCCESS
    if status in _DEFAULT_BY_STATUS:
        return _DEFAULT_BY_STATUS[status]
    if status >= 500:
        return Resolution("RETRY", TRANSIENT_ERROR, f"Server error {status}")
    return Resolution("FAIL", SYSTEM_ERROR, f"Unexpected HTTP status {status}")


def response_json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def error_message_of(response: requests.Response) -> str:
    """A best-effort error message from a JSON body (`message`, `error`, `detail`, ...) or the text."""
    body = response_json(response)

    def find(value: Any) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            parts = [m for m in (find(v) for v in value) if m]
            return ", ".join(parts) or None
        if isinstance(value, dict):
            for key in (
                "message",
                "error_message",
                "error",
                "errors",
                "detail",
                "details",
                "msg",
                "description",
            ):
                if key in value:
                    found = find(value[key])
                    if found:
                        return found
        return None

    return find(body) or (response.text[:500] if response.text else "")


class ResponseFilter:
    """Matches a response by status codes, error message substring or predicate."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        node.expect_type(["HttpResponseFilter"], "a response filter")
        self.config = config
        p = node.parameters
        action = node.string("action")
        if action is not None and action not in ACTIONS:
            raise node.error(f"unknown action {action!r} (expected one of {', '.join(ACTIONS)})", "action")
        self.action = action
        failure = node.string("failure_type")
        if failure is not None and failure not in FAILURE_TYPES:
            raise node.error(
                f"unknown failure_type {failure!r} (expected one of {', '.join(FAILURE_TYPES)})",
                "failure_type",
            )
        self.failure_type = failure
        codes = node.raw("http_codes", [])
        if not isinstance(codes, list) or not all(isinstance(c, int) for c in codes):
            raise node.error("expected a list of HTTP status codes (integers)", "http_codes")
        self.http_codes = set(codes)
        self.contains = node.string("error_message_contains")
        predicate = node.string("predicate")
        self.predicate = InterpolatedBoolean(predicate, p, path=node.at("predicate")) if predicate else None
        self.message = Interpolated(node.raw("error_message", ""), p, path=node.at("error_message"), valid_types=(str,))
        if action is None:
            raise node.error("missing required field (expected one of " + ", ".join(ACTIONS) + ")", "action")
        if not self.http_codes and self.contains is None and self.predicate is None:
            raise node.error("a response filter needs http_codes, error_message_contains or predicate", None)

    def match(self, response: requests.Response) -> Resolution | None:
        matched = response.status_code in self.http_codes
        if not matched and self.predicate is not None:
            matched = self.predicate.eval(self.config, response=response_json(response), headers=dict(response.headers))
        if not matched and self.contains is not None:
            matched = self.contains in error_message_of(response)
        if not matched:
            return None
        assert self.action is not None
        default = default_resolution(response)
        if self.failure_type and self.action == "FAIL":
            failure = self.failure_type
        elif not response.ok:
            failure = default.failure_type
        else:
            failure = SYSTEM_ERROR
        message = self.message.eval(self.config, response=response_json(response), headers=dict(response.headers))
        return Resolution(self.action, failure, str(message) if message else default.message)


class BackoffStrategy(Protocol):
    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to defer."""


class ConstantBackoff:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.seconds = Interpolated(
            node.require("backoff_time_in_seconds", "a number of seconds"),
            node.parameters,
            path=node.at("backoff_time_in_seconds"),
        )

    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        return float(self.seconds.eval(self.config))


class ExponentialBackoff:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.factor = Interpolated(node.raw("factor", 5), node.parameters, path=node.at("factor"))

    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        factor: float = float(self.factor.eval(self.config))
        return factor * 2.0**attempt


def _header_number(response: requests.Response | None, header: str, regex: str | None) -> float | None:
    if response is None:
        return None
    raw = response.headers.get(header)
    if raw is None:
        return None
    if regex:
        m = re.search(regex, raw)
        if not m:
            return None
        raw = m.group(1) if m.groups() else m.group(0)
    try:
        return float(raw)
    except ValueError:
        return None


class WaitTimeFromHeader:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.header = Interpolated(
            node.require("header", "a header name, e.g. Retry-After"),
            node.parameters,
            path=node.at("header"),
            valid_types=(str,),
        )
        self.regex = node.string("regex")
        maximum = node.raw("max_waiting_time_in_seconds")
        self.maximum = float(maximum) if maximum is not None else None

    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        wait = _header_number(response, str(self.header.eval(self.config)), self.regex)
        if wait is not None and self.maximum is not None and wait > self.maximum:
            raise HttpError(
                f"the API asks to wait {wait:g}s, more than max_waiting_time_in_seconds ({self.maximum:g}s)",
                TRANSIENT_ERROR,
            )
        return wait


class WaitUntilTimeFromHeader:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.header = Interpolated(
            node.require("header", "a header name"),
            node.parameters,
            path=node.at("header"),
            valid_types=(str,),
        )
        self.regex = node.string("regex")
        self.min_wait = Interpolated(node.raw("min_wait"), node.parameters, path=node.at("min_wait"))

    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        until = _header_number(response, str(self.header.eval(self.config)), self.regex)
        minimum = self.min_wait.eval(self.config)
        if until is None:
            return float(minimum) if minimum is not None else None
        wait = max(until - time.time(), 0.0)
        return max(wait, float(minimum)) if minimum is not None else wait


def build_backoff(node: Node, config: dict[str, Any]) -> BackoffStrategy:
    kind = node.expect_type(BACKOFF_TYPES, "a backoff strategy")
    if kind == "ConstantBackoffStrategy":
        return ConstantBackoff(node, config)
    if kind == "ExponentialBackoffStrategy":
        return ExponentialBackoff(node, config)
    if kind == "WaitTimeFromHeader":
        return WaitTimeFromHeader(node, config)
    return WaitUntilTimeFromHeader(node, config)


class ErrorHandler:
    """A DefaultErrorHandler, or a CompositeErrorHandler trying its handlers in order."""

    def __init__(
        self,
        filters: list[ResponseFilter],
        backoffs: list[BackoffStrategy],
        max_retries: int,
        children: list[ErrorHandler] | None = None,
    ) -> None:
        self.filters = filters
        self.backoffs = backoffs
        self.max_retries = max_retries
        self.children = children or []

    def explicit(self, response: requests.Response) -> tuple[Resolution, ErrorHandler] | None:
        """The first filter that matches (depth first through composite children)."""
        for child in self.children:
            found = child.explicit(response)
            if found is not None:
                return found
        for f in self.filters:
            resolution = f.match(response)
            if resolution is not None:
                return resolution, self
        return None

    def resolve(self, response: requests.Response | None, exc: BaseException | None) -> tuple[Resolution, ErrorHandler]:
        if response is not None:
            found = self.explicit(response)
            if found is not None:
                return found
        owner = self.children[0] if self.children else self
        return default_resolution(response, exc), owner

    def backoff(self, response: requests.Response | None, attempt: int) -> float | None:
        for strategy in self.backoffs:
            wait = strategy.backoff(response, attempt)
            if wait:
                return wait
        return None


def build_error_handler(node: Node | None, config: dict[str, Any]) -> ErrorHandler:
    if node is None:
        return ErrorHandler([], [], 5)
    kind = node.expect_type(ERROR_HANDLER_TYPES, "an error handler")
    if kind == "CompositeErrorHandler":
        handlers = node.children("error_handlers", expected="an error handler")
        if not handlers:
            raise node.error("missing required field (expected a list of error handlers)", "error_handlers")
        children = [build_error_handler(h, config) for h in handlers]
        return ErrorHandler([], [], children[0].max_retries, children)
    filters = [ResponseFilter(f, config) for f in node.children("response_filters", expected="an HttpResponseFilter")]
    backoffs = [build_backoff(b, config) for b in node.children("backoff_strategies", expected="a backoff strategy")]
    raw_retries = Interpolated(node.raw("max_retries", 5), node.parameters, path=node.at("max_retries")).eval(config)
    if raw_retries is None:
        raw_retries = 5
    try:
        max_retries = int(raw_retries)
    except (TypeError, ValueError):
        raise node.error(f"expected an integer, got {raw_retries!r}", "max_retries") from None
    return ErrorHandler(filters, backoffs, max_retries)
