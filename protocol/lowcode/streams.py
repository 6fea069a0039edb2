"""DeclarativeStream and its SimpleRetriever: slices x pages -> records, with state checkpoints
and trace events (slice, request, page, state) for the test tool."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ducto.protocol.lowcode.context import BuildContext
from ducto.protocol.lowcode.cursors import Cursor, CursorSpec, PartitionedState, build_cursor_spec
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.normalization import normalizer
from ducto.protocol.lowcode.pagination import PageResult, Paginator
from ducto.protocol.lowcode.partitions import EXTRA_FIELDS, CombinedRouter, build_router
from ducto.protocol.lowcode.query_properties import QueryProperties
from ducto.protocol.lowcode.records import Decoder, RecordSelector, build_transformation
from ducto.protocol.lowcode.request_options import RequestParts
from ducto.protocol.lowcode.requester import HttpRequester
from ducto.protocol.lowcode.schemas import build_schema_loader
from ducto.protocol.lowcode.tracing import TraceSink

STREAM_TYPES = ["DeclarativeStream"]
RETRIEVER_TYPES = ["SimpleRetriever"]


@dataclass(frozen=True)
class StateCheckpoint:
    """A stream state to emit (after a slice completes)."""

    state: dict[str, Any]


@dataclass
class ReadLimits:
    """Bounds for test reads (`ducto manifest test`, `check`)."""

    max_pages_per_slice: int | None = None
    max_records: int | None = None
    max_slices: int | None = None


def normalize_primary_key(value: Any, node: Node) -> list[list[str]]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        return [[value]]
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return [[v] for v in value]
        if all(isinstance(v, list) and all(isinstance(k, str) for k in v) for v in value):
            return [list(v) for v in value]
    raise node.error("expected a field name, a list of names, or a list of paths", "primary_key")


class DeclarativeStream:
    """One stream of a manifest, readable on its own."""

    def __init__(self, node: Node, ctx: BuildContext, build_stream: Callable[[Node], DeclarativeStream]) -> None:
        node.expect_type(STREAM_TYPES, "a stream")
        self.ctx = ctx
        self.path = node.path
        self.name = node.string("name") or ""
        if not self.name:
            raise node.error("missing required field (expected the stream name)", "name")
        self.primary_key = normalize_primary_key(node.raw("primary_key"), node)
        config = ctx.config
        transformations = [
            build_transformation(t, config) for t in node.children("transformations", expected="a transformation")
        ]
        retriever = node.child("retriever", required=True, expected="a SimpleRetriever")
        assert retriever is not None
        retriever.expect_type(RETRIEVER_TYPES, "a retriever")
        requester = retriever.child("requester", required=True, expected="an HttpRequester")
        assert requester is not None
        self.requester = HttpRequester(requester, ctx)
        selector = retriever.child("record_selector", required=True, expected="a RecordSelector")
        assert selector is not None
        self.selector = RecordSelector(selector, config, transformations)
        self.decoder = Decoder(retriever.child("decoder", expected="a decoder"))
        self.paginator = Paginator(retriever.child("paginator", expected="a paginator"), config)
        self.router: CombinedRouter | None = build_router(
            retriever.raw("partition_router"), retriever, config, build_stream
        )
        self.ignore_slicer_on_pages = retriever.boolean("ignore_stream_slicer_parameters_on_paginated_requests", False)
        incremental = node.child("incremental_sync", expected="a cursor")
        self.cursor_spec: CursorSpec | None = (
            build_cursor_spec(incremental, config) if incremental is not None else None
        )
        self.schema_loader = build_schema_loader(node, self.name, ctx)
        qp = self.requester.query_properties
        self.query_properties = (
            QueryProperties(qp[0], qp[1], config, build_stream, self.name) if qp is not None else None
        )
        if self.selector.wants_normalization:
            self.selector.normalize = normalizer(self.schema_loader.load)

    @property
    def supports_incremental(self) -> bool:
        return self.cursor_spec is not None

    @property
    def cursor_field(self) -> list[str]:
        return [self.cursor_spec.cursor_field] if self.cursor_spec is not None else []

    def json_schema(self) -> dict[str, Any]:
        return self.schema_loader.load()

    def read_with_slices(
        self, *, sink: TraceSink | None = None, label: str = "", limits: ReadLimits | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Full read yielding (record, slice) pairs: how a parent stream feeds its children."""
        for item in self._read(
            None, incremental=False, sink=sink, limits=limits or ReadLimits(), label=label, with_slices=True
        ):
            if isinstance(item, tuple):
                yield item

    def read(
        self,
        state: dict[str, Any] | None = None,
        *,
        incremental: bool = True,
        sink: TraceSink | None = None,
        limits: ReadLimits | None = None,
    ) -> Iterator[dict[str, Any] | StateCheckpoint]:
        """Records, and a StateCheckpoint after each slice (when the stream is incremental)."""
        for item in self._read(
            state,
            incremental=incremental,
            sink=sink,
            limits=limits or ReadLimits(),
            label=self.name,
            with_slices=False,
        ):
            if isinstance(item, tuple):
                yield item[0]
            else:
                yield item

    def _read(
        self,
        state: dict[str, Any] | None,
        *,
        incremental: bool,
        sink: TraceSink | None,
        limits: ReadLimits,
        label: str,
        with_slices: bool,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]] | StateCheckpoint]:
        spec = self.cursor_spec
        start_state = copy.deepcopy(state) if (incremental and state) else None
        partitioned = PartitionedState(spec, start_state) if spec is not None and self.router is not None else None
        single = spec.new_cursor(start_state) if spec is not None and self.router is None else None
        partitions = self.router.partitions(sink) if self.router is not None else iter([{}])
        emitted: dict[str, Any] | None = None
        record_count = 0
        slice_count = 0
        for partition in partitions:
            cursor = (
                partitioned.cursor_for({k: v for k, v in partition.items() if k != EXTRA_FIELDS})
                if partitioned is not None
                else single
            )
            intervals = cursor.slices() if cursor is not None else [{}]
            for interval in intervals:
                slice_count += 1
                stream_slice = {**partition, **interval}
                if sink is not None:
                    sink({"event": "slice", "stream": self.name, "label": label, "slice": stream_slice})
                for record in self._read_slice(
                    partition=partition,
                    interval=interval,
                    stream_slice=stream_slice,
                    cursor=cursor,
                    sink=sink,
                    limits=limits,
                    label=label,
                ):
                    record_count += 1
                    yield (record, stream_slice)
                    if limits.max_records is not None and record_count >= limits.max_records:
                        return
                if cursor is not None:
                    cursor.close_slice(interval)
                    current = partitioned.state() if partitioned is not None else cursor.state()
                    if current != emitted and not with_slices:
                        emitted = copy.deepcopy(current)
                        if sink is not None:
                            sink({"event": "state", "stream": self.name, "state": emitted})
                        yield StateCheckpoint(emitted)
                if limits.max_slices is not None and slice_count >= limits.max_slices:
                    break
            if limits.max_slices is not None and slice_count >= limits.max_slices:
                break  # before the next partition is pulled (a parent read stops here too)
        if spec is not None and emitted is None and not with_slices:
            final = partitioned.state() if partitioned is not None else (single.state() if single else {})
            if not final and start_state:
                final = start_state
            if sink is not None:
                sink({"event": "state", "stream": self.name, "state": final})
            yield StateCheckpoint(final)

    def _read_slice(
        self,
        *,
        partition: dict[str, Any],
        interval: dict[str, Any],
        stream_slice: dict[str, Any],
        cursor: Cursor | None,
        sink: TraceSink | None,
        limits: ReadLimits,
        label: str,
    ) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {
            "partition": partition,
            "interval": interval,
            "stream_slice": stream_slice,
            "cursor": cursor,
            "sink": sink,
            "limits": limits,
            "label": label,
        }
        qp = self.query_properties
        if qp is None:
            yield from self._read_pages(extra={}, **args)
            return
        chunks = qp.chunks()
        if len(chunks) == 1 or not qp.merge_key:
            for chunk in chunks:
                yield from self._read_pages(extra={qp.param: ",".join(chunk)}, **args)
            return
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        unkeyed: list[dict[str, Any]] = []
        for chunk in chunks:
            for record in self._read_pages(extra={qp.param: ",".join(chunk)}, **args):
                key = qp.key_of(record)
                if key is None:
                    unkeyed.append(record)
                else:
                    merged.setdefault(key, {}).update(record)
        yield from merged.values()
        yield from unkeyed

    def _read_pages(
        self,
        *,
        extra: dict[str, Any],
        partition: dict[str, Any],
        interval: dict[str, Any],
        stream_slice: dict[str, Any],
        cursor: Cursor | None,
        sink: TraceSink | None,
        limits: ReadLimits,
        label: str,
    ) -> Iterator[dict[str, Any]]:
        token = self.paginator.initial_token()
        page_number = 0
        while True:
            next_page_token = {"next_page_token": token} if token is not None else None
            parts = RequestParts()
            if not (self.ignore_slicer_on_pages and token is not None):
                if self.router is not None:
                    parts.merge(self.router.request_parts(partition))
                if cursor is not None:
                    parts.merge(cursor.request_parts(interval))
            parts.merge(self.paginator.request_parts(token))
            parts.params.update(extra)
            response = self.requester.send(parts, stream_slice, next_page_token, sink=sink, label=label)
            page_number += 1
            if response is None:  # ignored by the error handler
                if sink is not None:
                    sink(
                        {
                            "event": "page",
                            "stream": self.name,
                            "label": label,
                            "page": page_number,
                            "ignored": True,
                            "records": [],
                            "next_page_token": None,
                        }
                    )
                return
            body = self.decoder.decode(response)
            raw = self.selector.extractor.extract(body)
            context = {"stream_slice": stream_slice, "next_page_token": next_page_token or {}}
            selected = [r for r in self.selector.select(raw, context) if cursor is None or cursor.keep(r, interval)]
            for record in selected:
                if cursor is not None:
                    cursor.observe(record, interval)
            last_record = selected[-1] if selected else (raw[-1] if raw else None)
            next_token = self.paginator.next_token(PageResult(response, body, len(raw), last_record), token)
            if sink is not None:
                sink(
                    {
                        "event": "page",
                        "stream": self.name,
                        "label": label,
                        "page": page_number,
                        "records_extracted": len(raw),
                        "records": selected,
                        "next_page_token": next_token,
                    }
                )
            yield from selected
            if next_token is None or (cursor is not None and cursor.feed_exhausted(raw)):
                return
            if limits.max_pages_per_slice is not None and page_number >= limits.max_pages_per_slice:
                return
            token = next_token


class StateDelegatingStream(DeclarativeStream):
    """Reads with `full_refresh_stream` when there is no state, else with `incremental_stream`."""

    def __init__(self, node: Node, ctx: BuildContext, build_stream: Callable[[Node], DeclarativeStream]) -> None:
        node.expect_type(["StateDelegatingStream"], "a stream")
        self.ctx = ctx
        self.path = node.path
        self.name = node.string("name") or ""
        if not self.name:
            raise node.error("missing required field (expected the stream name)", "name")
        delegates = []
        for key in ("full_refresh_stream", "incremental_stream"):
            child = node.child(key, required=True, expected="a DeclarativeStream")
            assert child is not None
            data = dict(child.data)
            data.setdefault("type", "DeclarativeStream")
            data["name"] = data.get("name") or self.name
            delegates.append(DeclarativeStream(Node(data, child.path), ctx, build_stream))
        self.full, self.incremental = delegates
        if self.incremental.cursor_spec is None:
            raise node.error("the incremental stream needs an incremental_sync", "incremental_stream")
        # What the catalog shows comes from the incremental delegate.
        self.primary_key = self.incremental.primary_key
        self.cursor_spec = self.incremental.cursor_spec
        self.schema_loader = self.incremental.schema_loader
        self.requester = self.incremental.requester
        self.router = self.incremental.router

    def read_with_slices(
        self, *, sink: TraceSink | None = None, label: str = "", limits: ReadLimits | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        return self.full.read_with_slices(sink=sink, label=label, limits=limits)

    def read(
        self,
        state: dict[str, Any] | None = None,
        *,
        incremental: bool = True,
        sink: TraceSink | None = None,
        limits: ReadLimits | None = None,
    ) -> Iterator[dict[str, Any] | StateCheckpoint]:
        if incremental and state:
            return self.incremental.read(state, incremental=True, sink=sink, limits=limits)
        return self._full_then_state(sink, limits)

    def _full_then_state(
        self, sink: TraceSink | None, limits: ReadLimits | None
    ) -> Iterator[dict[str, Any] | StateCheckpoint]:
        """A full read whose records still advance the incremental cursor, so the next run can delegate."""
        assert self.cursor_spec is not None
        cursor = self.cursor_spec.new_cursor(None)
        seen_any = False
        for item in self.full.read(None, incremental=False, sink=sink, limits=limits):
            if isinstance(item, StateCheckpoint):
                continue
            seen_any = True
            cursor.observe(item, {})
            yield item
        cursor.close_slice({})
        state = cursor.state()
        if seen_any or state:
            if sink is not None:
                sink({"event": "state", "stream": self.name, "state": state})
            yield StateCheckpoint(state)
