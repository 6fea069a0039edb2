"""Paginators: DefaultPaginator with PageIncrement, OffsetIncrement or CursorPagination; NoPagination.

Stop rules: a page with fewer records than the page size (or none) ends PageIncrement and
OffsetIncrement; an empty cursor value or a true `stop_condition` ends CursorPagination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from ducto.protocol.lowcode.errors import CONFIG_ERROR, HttpError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.request_options import RequestOption, RequestParts

PAGINATOR_TYPES = ["DefaultPaginator", "NoPagination"]
STRATEGY_TYPES = ["PageIncrement", "OffsetIncrement", "CursorPagination"]


@dataclass
class PageResult:
    """What the paginator sees of one page."""

    response: requests.Response
    body: Any
    last_page_size: int
    last_record: dict[str, Any] | None


def response_headers(response: requests.Response) -> dict[str, Any]:
    """Response headers with `link` replaced by the parsed Link header (rel -> {url, ...})."""
    headers: dict[str, Any] = dict(response.headers)
    headers["link"] = response.links
    return headers


class _PageSize:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.node = node
        self.value = Interpolated(node.raw("page_size"), node.parameters, path=node.at("page_size"))

    def get(self, **context: Any) -> int | None:
        if self.value.value is None:
            return None
        value = self.value.eval(self.config, **context)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise HttpError(
                f"{self.node.at('page_size')}: expected an integer page size, got {value!r}", CONFIG_ERROR
            ) from None


class PageIncrement:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.page_size = _PageSize(node, config)
        start = node.raw("start_from_page", 0)
        if not isinstance(start, int):
            raise node.error(f"expected an integer, got {start!r}", "start_from_page")
        self.start = start
        self.inject_first = node.boolean("inject_on_first_request", False)

    def initial_token(self) -> Any:
        return self.start if self.inject_first else None

    def next_token(self, page: PageResult, last_token: Any) -> Any:
        size = self.page_size.get()
        if page.last_page_size == 0 or (size and page.last_page_size < size):
            return None
        return self.start + 1 if last_token is None else int(last_token) + 1


class OffsetIncrement:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.page_size = _PageSize(node, config)
        self.inject_first = node.boolean("inject_on_first_request", False)

    def initial_token(self) -> Any:
        return 0 if self.inject_first else None

    def next_token(self, page: PageResult, last_token: Any) -> Any:
        size = self.page_size.get(response=page.body)
        if page.last_page_size == 0 or (size and page.last_page_size < size):
            return None
        return page.last_page_size if last_token is None else int(last_token) + page.last_page_size


class CursorPagination:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.cursor_value = Interpolated(
            node.require("cursor_value", 'a template, e.g. "{{ response.next }}"'),
            node.parameters,
            path=node.at("cursor_value"),
        )
        stop = node.string("stop_condition")
        self.stop = InterpolatedBoolean(stop, node.parameters, path=node.at("stop_condition")) if stop else None
        self.page_size = _PageSize(node, config)

    def initial_token(self) -> Any:
        return None

    def next_token(self, page: PageResult, last_token: Any) -> Any:
        context = {
            "response": page.body,
            "headers": response_headers(page.response),
            "last_record": page.last_record,
            "last_page_size": page.last_page_size,
            "page_size": self.page_size.get(),
        }
        if self.stop is not None and self.stop.eval(self.config, **context):
            return None
        token = self.cursor_value.eval(self.config, **context)
        return token if token not in (None, "", [], {}) else None


Strategy = PageIncrement | OffsetIncrement | CursorPagination


class Paginator:
    """DefaultPaginator (or NoPagination when `strategy` is None)."""

    def __init__(self, node: Node | None, config: dict[str, Any]) -> None:
        self.config = config
        self.strategy: Strategy | None = None
        self.page_size_option: RequestOption | None = None
        self.token_option: RequestOption | None = None
        self.token_in_path = False
        if node is None or node.expect_type(PAGINATOR_TYPES, "a paginator") == "NoPagination":
            return
        strategy = node.child("pagination_strategy", required=True, expected="a pagination strategy")
        assert strategy is not None
        kind = strategy.expect_type(STRATEGY_TYPES, "a pagination strategy")
        built: Strategy
        if kind == "PageIncrement":
            built = PageIncrement(strategy, config)
        elif kind == "OffsetIncrement":
            built = OffsetIncrement(strategy, config)
        else:
            built = CursorPagination(strategy, config)
        self.strategy = built
        size_node = node.child("page_size_option", expected="a RequestOption")
        if size_node is not None:
            if built.page_size.value.value is None:
                raise node.error("page_size_option needs a page_size on the pagination strategy", "page_size_option")
            self.page_size_option = RequestOption(size_node)
        token_node = node.child("page_token_option", expected="a RequestOption or RequestPath")
        if token_node is not None:
            token_kind = token_node.expect_type(["RequestOption", "RequestPath"], "a page token option")
            if token_kind == "RequestPath":
                self.token_in_path = True
            else:
                self.token_option = RequestOption(token_node)

    def initial_token(self) -> Any:
        return self.strategy.initial_token() if self.strategy is not None else None

    def next_token(self, page: PageResult, last_token: Any) -> Any:
        """The token of the next page, or None when this was the last page."""
        if self.strategy is None:
            return None
        return self.strategy.next_token(page, last_token)

    def request_parts(self, token: Any) -> RequestParts:
        parts = RequestParts()
        if self.strategy is None:
            return parts
        if self.page_size_option is not None:
            size = self.strategy.page_size.get()
            if size:
                self.page_size_option.inject(parts, size, self.config)
        if token is not None:
            if self.token_in_path:
                parts.path = str(token)
            elif self.token_option is not None:
                self.token_option.inject(parts, token, self.config)
        return parts
