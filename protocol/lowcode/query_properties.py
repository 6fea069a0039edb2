"""QueryProperties: the list of properties an API wants in the request (static, or fetched from an
endpoint), optionally split into chunks whose records are merged back by key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError
from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.records import dpath_get

if TYPE_CHECKING:
    from ducto.protocol.lowcode.streams import DeclarativeStream


class QueryProperties:
    """Built from a `request_parameters` value of type QueryProperties."""

    def __init__(
        self,
        param: str,
        node: Node,
        config: dict[str, Any],
        build_stream: Callable[[Node], DeclarativeStream],
        stream_name: str,
    ) -> None:
        node.expect_type(["QueryProperties"], "query properties")
        self.param = param
        self.config = config
        self.path = node.path
        raw = node.require("property_list", "a list of properties or a PropertiesFromEndpoint")
        self.static: list[str] | None = None
        self.endpoint: DeclarativeStream | None = None
        self.field_path: list[Interpolated] = []
        if isinstance(raw, list):
            self.static = [str(p) for p in raw]
        else:
            source = node.child("property_list", expected="a PropertiesFromEndpoint")
            assert source is not None
            source.expect_type(["PropertiesFromEndpoint"], "a property list")
            self.field_path = [
                Interpolated(p, source.parameters, path=source.at("property_field_path"), valid_types=(str,))
                for p in source.string_list("property_field_path", required=True)
            ]
            retriever = source.child("retriever", required=True, expected="a SimpleRetriever")
            assert retriever is not None
            stream = {
                "type": "DeclarativeStream",
                "name": f"{stream_name} properties",
                "retriever": {"type": "SimpleRetriever", **retriever.data},
            }
            self.endpoint = build_stream(Node(stream, source.path))
        self.always = node.string_list("always_include_properties")
        self._fetched: list[str] | None = None
        chunking = node.child("property_chunking", expected="a PropertyChunking")
        self.limit_type: str | None = None
        self.limit: int | None = None
        self.merge_key: list[str] = []
        if chunking is not None:
            chunking.expect_type(["PropertyChunking"], "property chunking")
            self.limit_type = str(chunking.require("property_limit_type", "property_count or characters"))
            if self.limit_type not in {"property_count", "characters"}:
                raise chunking.error(
                    f"unknown value {self.limit_type!r} (expected one of property_count, characters)",
                    "property_limit_type",
                )
            limit = chunking.raw("property_limit")
            if limit is not None and (not isinstance(limit, int) or limit < 1):
                raise chunking.error(f"expected a positive integer, got {limit!r}", "property_limit")
            self.limit = limit
            merge = chunking.child("record_merge_strategy", expected="a GroupByKeyMergeStrategy")
            if merge is not None:
                merge.expect_type(["GroupByKeyMergeStrategy"], "a merge strategy")
                key = merge.require("key", "the record field(s) to merge on")
                self.merge_key = [str(k) for k in (key if isinstance(key, list) else [key])]

    def properties(self) -> list[str]:
        """The property names (fetched from the endpoint once per source)."""
        if self.static is not None:
            return list(self.static)
        if self._fetched is not None:
            return list(self._fetched)
        assert self.endpoint is not None
        path = [str(p.eval(self.config)) for p in self.field_path]
        names = []
        for record, _ in self.endpoint.read_with_slices(label=f"properties of {self.path}"):
            value = dpath_get(record, path)
            if value is not None:
                names.append(str(value))
        self._fetched = names
        return list(names)

    def chunks(self) -> list[list[str]]:
        """The property lists to request, one request series per list."""
        props = [p for p in self.properties() if p not in self.always]
        if self.limit is None:
            return [self.always + props]
        chunks: list[list[str]] = []
        current: list[str] = []
        for prop in props:
            candidate = [*self.always, *current, prop]
            size = len(candidate) if self.limit_type == "property_count" else len(",".join(candidate))
            if current and size > self.limit:
                chunks.append(self.always + current)
                current = [prop]
            else:
                current.append(prop)
        if current or not chunks:
            chunks.append(self.always + current)
        for chunk in chunks:
            if self.limit_type == "property_count" and len(chunk) > self.limit:
                raise LowCodeError(f"{self.path}: always_include_properties alone exceed property_limit", CONFIG_ERROR)
        return chunks

    def key_of(self, record: dict[str, Any]) -> tuple[Any, ...] | None:
        values = tuple(record.get(k) for k in self.merge_key)
        return None if any(v is None for v in values) else values
