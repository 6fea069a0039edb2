"""Partition routers: ListPartitionRouter (constant values) and SubstreamPartitionRouter (one
partition per parent record: `{partition_field: parent[parent_key], "parent_slice": {...}}`).
Several routers combine as a cartesian product."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError
from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.records import dpath_get
from ducto.protocol.lowcode.request_options import RequestOption, RequestParts, optional_request_option
from ducto.protocol.lowcode.tracing import TraceSink

if TYPE_CHECKING:
    from ducto.protocol.lowcode.streams import DeclarativeStream

ROUTER_TYPES = ["ListPartitionRouter", "SubstreamPartitionRouter", "GroupingPartitionRouter"]
EXTRA_FIELDS = "extra_fields"


class ListPartitionRouter:
    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        node.expect_type(["ListPartitionRouter"], "a partition router")
        self.config = config
        self.field = Interpolated(
            node.require("cursor_field", "the name of the partition value"),
            node.parameters,
            path=node.at("cursor_field"),
            valid_types=(str,),
        )
        values = node.require("values", "a list of values or a template")
        self.values_t = Interpolated(values, node.parameters, path=node.at("values"), valid_types=(list,))
        self.path = node.at("values")
        self.option = optional_request_option(node, "request_option")

    def partitions(self, sink: TraceSink | None) -> Iterator[dict[str, Any]]:
        values = self.values_t.eval(self.config)
        if isinstance(values, str):
            values = [v.strip() for v in values.split(",") if v.strip()]
        if not isinstance(values, list):
            raise LowCodeError(f"{self.path}: expected a list of values, got {values!r}", CONFIG_ERROR)
        name = str(self.field.eval(self.config))
        for value in values:
            yield {name: value}

    def request_parts(self, partition: dict[str, Any]) -> RequestParts:
        parts = RequestParts()
        if self.option is not None:
            name = str(self.field.eval(self.config))
            if name in partition:
                self.option.inject(parts, partition[name], self.config)
        return parts


class _ParentConfig:
    def __init__(self, node: Node, config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream]) -> None:
        node.expect_type(["ParentStreamConfig"], "a parent stream config")
        self.config = config
        stream_node = node.child("stream", required=True, expected="a DeclarativeStream")
        assert stream_node is not None
        self.stream = build_stream(stream_node)
        self.parent_key = Interpolated(
            node.require("parent_key", "the parent record field, e.g. id"),
            node.parameters,
            path=node.at("parent_key"),
            valid_types=(str,),
        )
        self.partition_field = Interpolated(
            node.require("partition_field", "the name of the partition value"),
            node.parameters,
            path=node.at("partition_field"),
            valid_types=(str,),
        )
        self.option: RequestOption | None = optional_request_option(node, "request_option")
        raw_extra = node.raw(EXTRA_FIELDS, [])
        if not isinstance(raw_extra, list) or not all(isinstance(p, list) for p in raw_extra):
            raise node.error("expected a list of field paths (lists of keys)", EXTRA_FIELDS)
        self.extra = [[str(k) for k in p] for p in raw_extra]


class SubstreamPartitionRouter:
    def __init__(self, node: Node, config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream]) -> None:
        node.expect_type(["SubstreamPartitionRouter"], "a partition router")
        self.config = config
        configs = node.children("parent_stream_configs", expected="a ParentStreamConfig")
        if not configs:
            raise node.error(
                "missing required field (expected a list of parent stream configs)", "parent_stream_configs"
            )
        self.parents = [_ParentConfig(c, config, build_stream) for c in configs]

    def partitions(self, sink: TraceSink | None) -> Iterator[dict[str, Any]]:
        for parent in self.parents:
            key_path = str(parent.parent_key.eval(self.config)).split("/")
            field = str(parent.partition_field.eval(self.config))
            for record, parent_slice in parent.stream.read_with_slices(sink=sink, label=f"parent {parent.stream.name}"):
                value = dpath_get(record, key_path)
                if value is None:
                    continue
                partition: dict[str, Any] = {field: value, "parent_slice": parent_slice}
                if parent.extra:
                    partition[EXTRA_FIELDS] = {".".join(p): dpath_get(record, p) for p in parent.extra}
                yield partition

    def request_parts(self, partition: dict[str, Any]) -> RequestParts:
        parts = RequestParts()
        for parent in self.parents:
            field = str(parent.partition_field.eval(self.config))
            if parent.option is not None and field in partition:
                parent.option.inject(parts, partition[field], self.config)
        return parts


class GroupingPartitionRouter:
    """Batches another router's partitions: `{key: [v1, v2, ...]}` per `group_size` partitions."""

    def __init__(self, node: Node, config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream]) -> None:
        size = node.raw("group_size")
        if not isinstance(size, int) or size < 1:
            raise node.error(f"expected a positive integer, got {size!r}", "group_size")
        self.size = size
        self.deduplicate = node.boolean("deduplicate", True)
        inner = node.child("underlying_partition_router", required=True, expected="a partition router")
        assert inner is not None
        kind = inner.expect_type(["ListPartitionRouter", "SubstreamPartitionRouter"], "a partition router")
        self.inner: ListPartitionRouter | SubstreamPartitionRouter = (
            ListPartitionRouter(inner, config)
            if kind == "ListPartitionRouter"
            else SubstreamPartitionRouter(inner, config, build_stream)
        )
        self.path = node.path

    def partitions(self, sink: TraceSink | None) -> Iterator[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        seen: set[str] = set()
        for partition in self.inner.partitions(sink):
            keys = [k for k in partition if k not in ("parent_slice", EXTRA_FIELDS)]
            if len(keys) != 1:
                raise LowCodeError(
                    f"{self.path}: grouping needs partitions with one value, got {sorted(keys)}", CONFIG_ERROR
                )
            marker = repr(partition[keys[0]])
            if self.deduplicate and marker in seen:
                continue
            seen.add(marker)
            batch.append(partition)
            if len(batch) == self.size:
                yield _grouped(batch)
                batch = []
        if batch:
            yield _grouped(batch)

    def request_parts(self, partition: dict[str, Any]) -> RequestParts:
        return RequestParts()


def _grouped(batch: list[dict[str, Any]]) -> dict[str, Any]:
    grouped: dict[str, Any] = {k: [p.get(k) for p in batch] for k in batch[0] if k != EXTRA_FIELDS}
    extra_keys = {k for p in batch for k in (p.get(EXTRA_FIELDS) or {})}
    if extra_keys:
        grouped[EXTRA_FIELDS] = {k: [(p.get(EXTRA_FIELDS) or {}).get(k) for p in batch] for k in sorted(extra_keys)}
    return grouped


Router = ListPartitionRouter | SubstreamPartitionRouter | GroupingPartitionRouter


class CombinedRouter:
    """The cartesian product of several routers (or one)."""

    def __init__(self, routers: list[Router]) -> None:
        self.routers = routers

    def partitions(self, sink: TraceSink | None) -> Iterator[dict[str, Any]]:
        def product(index: int, acc: dict[str, Any]) -> Iterator[dict[str, Any]]:
            if index == len(self.routers):
                yield dict(acc)
                return
            for part in self.routers[index].partitions(sink):
                yield from product(index + 1, {**acc, **part})

        yield from product(0, {})

    def request_parts(self, partition: dict[str, Any]) -> RequestParts:
        parts = RequestParts()
        for router in self.routers:
            parts.merge(router.request_parts(partition))
        return parts


def build_router(
    value: Any, node: Node, config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream]
) -> CombinedRouter | None:
    if value is None:
        return None
    routers: list[Router] = []
    for child in node.children("partition_router", expected="a partition router"):
        kind = child.expect_type(ROUTER_TYPES, "a partition router")
        if kind == "ListPartitionRouter":
            routers.append(ListPartitionRouter(child, config))
        elif kind == "GroupingPartitionRouter":
            routers.append(GroupingPartitionRouter(child, config, build_stream))
        else:
            routers.append(SubstreamPartitionRouter(child, config, build_stream))
    return CombinedRouter(routers) if routers else None
