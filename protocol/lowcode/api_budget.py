"""`api_budget` (HTTPAPIBudget): client-side call-rate policies applied before each request.

FixedWindowCallRatePolicy allows `call_limit` calls per `period`; MovingWindowCallRatePolicy allows each
`rates[i].limit` calls in any `rates[i].interval`; UnlimitedCallRatePolicy allows everything. The first
policy whose matchers match a request applies (a policy without matchers matches all requests).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from ducto.protocol.lowcode.datetimes import parse_duration
from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node

POLICY_TYPES = ["FixedWindowCallRatePolicy", "MovingWindowCallRatePolicy", "UnlimitedCallRatePolicy"]


def _seconds(node: Node, key: str, text: Any) -> float:
    try:
        duration = parse_duration(str(text))
    except ValueError as exc:
        raise node.error(str(exc), key) from None
    now = time.time()

    start = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return ((start + duration) - start).total_seconds()


class _Matcher:
    def __init__(self, node: Node) -> None:
        self.method = (node.string("method") or "").upper() or None
        self.url_base = node.string("url_base")
        pattern = node.string("url_path_pattern")
        try:
            self.path = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise node.error(f"invalid regular expression: {exc}", "url_path_pattern") from None
        self.params = {str(k): str(v) for k, v in node.mapping("params").items()}
        self.headers = {str(k).lower(): str(v) for k, v in node.mapping("headers").items()}

    def matches(self, request: requests.PreparedRequest) -> bool:
        url = urlsplit(request.url or "")
        if self.method and request.method != self.method:
            return False
        if self.url_base and not (request.url or "").startswith(self.url_base.rstrip("/")):
            return False
        if self.path is not None and not self.path.search(url.path):
            return False
        query = dict(parse_qsl(url.query))
        if any(query.get(k) != v for k, v in self.params.items()):
            return False
        headers = {k.lower(): v for k, v in request.headers.items()}
        return all(headers.get(k) == v for k, v in self.headers.items())


class _Policy:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.kind = node.expect_type(POLICY_TYPES, "a call rate policy")
        self.matchers = [_Matcher(m) for m in node.children("matchers", expected="an HttpRequestRegexMatcher")]
        self.windows: list[tuple[int, float, deque[float]]] = []
        if self.kind == "FixedWindowCallRatePolicy":
            limit = node.raw("call_limit")
            if not isinstance(limit, int) or limit < 1:
                raise node.error(f"expected a positive integer, got {limit!r}", "call_limit")
            self.windows.append(
                (limit, _seconds(node, "period", node.require("period", "an ISO 8601 duration")), deque())
            )
        elif self.kind == "MovingWindowCallRatePolicy":
            for rate in node.children("rates", expected="a Rate"):
                limit = Interpolated(
                    rate.require("limit", "a number of calls"), rate.parameters, path=rate.at("limit")
                ).eval(config)
                try:
                    count = int(limit)
                except (TypeError, ValueError):
                    raise rate.error(f"expected an integer, got {limit!r}", "limit") from None
                self.windows.append(
                    (count, _seconds(rate, "interval", rate.require("interval", "a duration")), deque())
                )

    def matches(self, request: requests.PreparedRequest) -> bool:
        return not self.matchers or any(m.matches(request) for m in self.matchers)

    def wait_time(self, now: float) -> float:
        wait = 0.0
        for limit, period, calls in self.windows:
            while calls and calls[0] <= now - period:
                calls.popleft()
            if len(calls) >= limit:
                wait = max(wait, calls[0] + period - now)
        return wait

    def record(self, now: float) -> None:
        for _, _, calls in self.windows:
            calls.append(now)


class ApiBudget:
    """Waits before a request as long as its policy requires."""

    def __init__(self, node: Node, config: dict[str, Any], sleep: Callable[[float], None]) -> None:
        node.expect_type(["HTTPAPIBudget"], "an API budget")
        self.policies = [_Policy(p, config) for p in node.children("policies", expected="a call rate policy")]
        self.sleep = sleep
        # Never behind the last granted call, so waits add up even when `sleep` does not really sleep.
        self._clock = 0.0

    def acquire(self, request: requests.PreparedRequest) -> float:
        """Block until the request may go; returns the seconds waited."""
        policy = next((p for p in self.policies if p.matches(request)), None)
        if policy is None:
            return 0.0
        now = max(time.monotonic(), self._clock)
        waited = 0.0
        wait = policy.wait_time(now)
        while wait > 0:
            self.sleep(wait)
            waited += wait
            now = max(time.monotonic(), now + wait)
            wait = policy.wait_time(now)
        self._clock = now
        policy.record(now)
        return waited
