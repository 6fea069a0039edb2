"""Where a value goes in an outgoing request: `RequestOption` and the request being built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node

INJECT_INTO = ("request_parameter", "header", "body_data", "body_json")


@dataclass
class RequestParts:
    """The pieces of one request contributed by the components (params, headers, bodies)."""

    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body_json: dict[str, Any] = field(default_factory=dict)
    body_data: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def merge(self, other: RequestParts) -> None:
        """Add `other`'s pieces; later contributors win on the same key."""
        self.params.update(other.params)
        self.headers.update(other.headers)
        _deep_merge(self.body_json, other.body_json)
        self.body_data.update(other.body_data)
        if other.path is not None:
            self.path = other.path


def _deep_merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for k, v in other.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _deep_merge(into[k], v)
        else:
            into[k] = v


class RequestOption:
    """Injects a value into a request parameter, header or body field (`field_name` or `field_path`)."""

    def __init__(self, node: Node) -> None:
        node.expect_type(["RequestOption"], "a request option")
        self.inject_into = str(node.require("inject_into", "one of " + ", ".join(INJECT_INTO)))
        if self.inject_into not in INJECT_INTO:
            raise node.error(
                f"unknown value {self.inject_into!r} (expected one of {', '.join(INJECT_INTO)})",
                "inject_into",
            )
        params = node.parameters
        self.field_name = Interpolated(node.raw("field_name"), params, path=node.at("field_name"), valid_types=(str,))
        self.field_path = [Interpolated(p, params, path=node.at("field_path")) for p in node.string_list("field_path")]
        if self.field_name.value is None and not self.field_path:
            raise node.error("missing required field (expected field_name or field_path)", "field_name")
        if self.field_path and self.inject_into != "body_json":
            raise node.error("field_path is only supported with inject_into: body_json", "field_path")

    def inject(self, parts: RequestParts, value: Any, config: dict[str, Any]) -> None:
        """Put `value` where this option says."""
        if self.field_path:
            keys = [str(p.eval(config)) for p in self.field_path]
            target = parts.body_json
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = value
            return
        name = str(self.field_name.eval(config))
        if self.inject_into == "request_parameter":
            parts.params[name] = value
        elif self.inject_into == "header":
            parts.headers[name] = value
        elif self.inject_into == "body_json":
            parts.body_json[name] = value
        else:
            parts.body_data[name] = value


def optional_request_option(node: Node, key: str) -> RequestOption | None:
    child = node.child(key, expected="a RequestOption")
    return RequestOption(child) if child is not None else None
