"""Incremental cursors and their state.

DatetimeBasedCursor slices `[max(start, state - lookback), min(end, now)]` into windows of `step`
(each ending `cursor_granularity` before the next starts) and keeps `{cursor_field: value}` as state,
advanced only by records inside the window being read. With a partition router, state is kept per
partition: `{"states": [{"partition": {...}, "cursor": {...}}]}`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

from ducto.protocol.lowcode.datetimes import UTC, Duration, format_datetime, parse_datetime, parse_duration
from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError
from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.request_options import RequestOption, RequestParts, optional_request_option

CURSOR_TYPES = ["DatetimeBasedCursor", "IncrementingCountCursor"]
DEFAULT_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


class Cursor(Protocol):
    """The incremental state of one partition."""

    def slices(self) -> list[dict[str, Any]]: ...
    def request_parts(self, cursor_slice: dict[str, Any]) -> RequestParts: ...
    def observe(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> None: ...
    def close_slice(self, cursor_slice: dict[str, Any]) -> None: ...
    def keep(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> bool: ...
    def feed_exhausted(self, records: list[dict[str, Any]]) -> bool: ...
    def state(self) -> dict[str, Any]: ...


class _MinMaxDatetime:
    def __init__(self, value: Any, node: Node, key: str, default_format: str) -> None:
        if isinstance(value, dict):
            sub = node.child(key)
            assert sub is not None
            sub.expect_type(["MinMaxDatetime"], "a datetime")
            p = sub.parameters
            self.datetime = Interpolated(
                sub.require("datetime", "a datetime or template"),
                p,
                path=sub.at("datetime"),
                valid_types=(str,),
            )
            self.format = sub.string("datetime_format") or default_format
            self.min = Interpolated(sub.raw("min_datetime"), p, path=sub.at("min_datetime"), valid_types=(str,))
            self.max = Interpolated(sub.raw("max_datetime"), p, path=sub.at("max_datetime"), valid_types=(str,))
        else:
            self.datetime = Interpolated(value, node.parameters, path=node.at(key), valid_types=(str,))
            self.format = default_format
            self.min = Interpolated(None)
            self.max = Interpolated(None)
        self.path = node.at(key)

    def get(self, config: dict[str, Any]) -> dt.datetime:
        raw = self.datetime.eval(config)
        if raw in (None, ""):
            raise LowCodeError(f"{self.path}: the datetime is empty (is it set in the config?)", CONFIG_ERROR)
        try:
            value = parse_datetime(raw, [self.format])
            low = self.min.eval(config)
            high = self.max.eval(config)
            if low:
                value = max(value, parse_datetime(low, [self.format]))
            if high:
                value = min(value, parse_datetime(high, [self.format]))
        except ValueError as exc:
            raise LowCodeError(f"{self.path}: {exc}", CONFIG_ERROR) from None
        return value


class DatetimeCursorSpec:
    """A DatetimeBasedCursor's definition; `new_cursor(state)` makes the per-partition cursor."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.path = node.path
        p = node.parameters
        self.cursor_field_t = Interpolated(
            node.require("cursor_field", "the record field holding the cursor"),
            p,
            path=node.at("cursor_field"),
            valid_types=(str,),
        )
        self.datetime_format = node.string("datetime_format", required=True) or DEFAULT_DATETIME_FORMAT
        self.cursor_formats = node.string_list("cursor_datetime_formats") or [self.datetime_format]
        self.start = _MinMaxDatetime(
            node.require("start_datetime", "a datetime or template"),
            node,
            "start_datetime",
            self.datetime_format,
        )
        end = node.raw("end_datetime")
        self.end = _MinMaxDatetime(end, node, "end_datetime", self.datetime_format) if end is not None else None
        step = node.string("step")
        granularity = node.string("cursor_granularity")
        if bool(step) != bool(granularity):
            raise node.error(
                "step and cursor_granularity must be given together",
                "step" if not step else "cursor_granularity",
            )
        self.step_t = Interpolated(step, p, path=node.at("step"), valid_types=(str,)) if step else None
        try:
            self.granularity: Duration = parse_duration(granularity) if granularity else dt.timedelta(0)
        except ValueError as exc:
            raise node.error(str(exc), "cursor_granularity") from None
        if self.step_t is not None and not self.step_t.is_template:
            self._duration(self.step_t, node.at("step"))
        lookback = node.string("lookback_window")
        self.lookback_t = (
            Interpolated(lookback, p, path=node.at("lookback_window"), valid_types=(str,)) if lookback else None
        )
        self.start_option = optional_request_option(node, "start_time_option")
        self.end_option = optional_request_option(node, "end_time_option")
        self.start_field = node.string("partition_field_start") or "start_time"
        self.end_field = node.string("partition_field_end") or "end_time"
        self.client_side = node.boolean("is_client_side_incremental", False)
        self.strict = node.boolean("is_compare_strictly", False)
        self.data_feed = node.boolean("is_data_feed", False)

    def _duration(self, value: Interpolated, path: str) -> Duration:
        text = value.eval(self.config)
        try:
            return parse_duration(str(text))
        except ValueError as exc:
            raise LowCodeError(f"{path}: {exc}", CONFIG_ERROR) from None

    @property
    def cursor_field(self) -> str:
        return str(self.cursor_field_t.eval(self.config))

    def parse(self, value: Any) -> dt.datetime:
        return parse_datetime(value, [*self.cursor_formats, self.datetime_format])

    def format(self, value: dt.datetime) -> str:
        return format_datetime(value, self.datetime_format)

    def new_cursor(self, state: dict[str, Any] | None) -> DatetimeCursor:
        return DatetimeCursor(self, state or {})


class DatetimeCursor:
    def __init__(self, spec: DatetimeCursorSpec, state: dict[str, Any]) -> None:
        self.spec = spec
        self.value: Any = state.get(spec.cursor_field)
        self.highest: Any = None

    def _bounds(self) -> tuple[dt.datetime, dt.datetime]:
        spec = self.spec
        now = dt.datetime.now(tz=UTC)
        end = min(spec.end.get(spec.config), now) if spec.end is not None else now
        start = min(spec.start.get(spec.config), end)
        if self.value:
            try:
                from_state = spec.parse(self.value)
            except ValueError:
                raise LowCodeError(
                    f"{spec.path}: the state value {self.value!r} does not match the cursor formats",
                    CONFIG_ERROR,
                ) from None
            if spec.lookback_t is not None:
                from_state = from_state - spec._duration(spec.lookback_t, spec.path + ".lookback_window")
            start = max(start, from_state)
        return start, end

    def slices(self) -> list[dict[str, Any]]:
        spec = self.spec
        start, end = self._bounds()
        step = spec._duration(spec.step_t, spec.path + ".step") if spec.step_t is not None else None
        out: list[dict[str, Any]] = []
        while start < end or (not spec.strict and start == end):
            if step is None:
                next_start = dt.datetime.max.replace(tzinfo=UTC)
            else:
                try:
                    next_start = start + step
                except OverflowError:
                    next_start = dt.datetime.max.replace(tzinfo=UTC)
                if next_start <= start:
                    raise LowCodeError(f"{spec.path}.step: the step must be positive", CONFIG_ERROR)
            try:
                window_end = min(next_start - spec.granularity, end)
            except OverflowError:
                window_end = end
            out.append({spec.start_field: spec.format(start), spec.end_field: spec.format(window_end)})
            start = next_start
            if step is None:
                break
        return out

    def request_parts(self, cursor_slice: dict[str, Any]) -> RequestParts:
        parts = RequestParts()
        spec = self.spec
        if spec.start_option is not None and spec.start_field in cursor_slice:
            spec.start_option.inject(parts, cursor_slice[spec.start_field], spec.config)
        if spec.end_option is not None and spec.end_field in cursor_slice:
            spec.end_option.inject(parts, cursor_slice[spec.end_field], spec.config)
        return parts

    def _record_time(self, record: dict[str, Any]) -> dt.datetime | None:
        raw = record.get(self.spec.cursor_field)
        if raw in (None, ""):
            return None
        try:
            return self.spec.parse(raw)
        except ValueError:
            return None

    def _in_window(self, when: dt.datetime, cursor_slice: dict[str, Any]) -> bool:
        spec = self.spec
        try:
            low = spec.parse(cursor_slice[spec.start_field]) if spec.start_field in cursor_slice else None
            high = spec.parse(cursor_slice[spec.end_field]) if spec.end_field in cursor_slice else None
        except ValueError:
            return True
        return (low is None or when >= low) and (high is None or when <= high + spec.granularity)

    def observe(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> None:
        when = self._record_time(record)
        if when is None or not self._in_window(when, cursor_slice):
            return
        if self.highest is None or when > self.spec.parse(self.highest):
            self.highest = record[self.spec.cursor_field]

    def keep(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> bool:
        if not self.spec.client_side:
            return True
        when = self._record_time(record)
        if when is None:
            return True
        if self.value:
            try:
                if when < self.spec.parse(self.value):
                    return False
            except ValueError:
                pass
        return self._in_window(when, cursor_slice)

    def feed_exhausted(self, records: list[dict[str, Any]]) -> bool:
        """For a data feed (newest first, no filter on the API): a page reaching the state ends paging."""
        if not self.spec.data_feed or not self.value or not records:
            return False
        oldest = self._record_time(records[-1])
        try:
            return oldest is not None and oldest <= self.spec.parse(self.value)
        except ValueError:
            return False

    def close_slice(self, cursor_slice: dict[str, Any]) -> None:
        if self.highest is None:
            return
        if not self.value or self.spec.parse(self.highest) > self.spec.parse(self.value):
            self.value = self.highest
        self.highest = None

    def state(self) -> dict[str, Any]:
        return {self.spec.cursor_field: self.value} if self.value else {}


class CountCursorSpec:
    """IncrementingCountCursor: state is the largest integer cursor value seen."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.cursor_field_t = Interpolated(
            node.require("cursor_field", "the record field holding the counter"),
            node.parameters,
            path=node.at("cursor_field"),
            valid_types=(str,),
        )
        self.start_t = Interpolated(node.raw("start_value", 0), node.parameters, path=node.at("start_value"))
        self.start_option: RequestOption | None = optional_request_option(node, "start_value_option")
        self.client_side = False

    @property
    def cursor_field(self) -> str:
        return str(self.cursor_field_t.eval(self.config))

    def new_cursor(self, state: dict[str, Any] | None) -> CountCursor:
        return CountCursor(self, state or {})


class CountCursor:
    def __init__(self, spec: CountCursorSpec, state: dict[str, Any]) -> None:
        self.spec = spec
        self.value: Any = state.get(spec.cursor_field)
        self.highest: Any = None

    def slices(self) -> list[dict[str, Any]]:
        return [{}]

    def request_parts(self, cursor_slice: dict[str, Any]) -> RequestParts:
        parts = RequestParts()
        if self.spec.start_option is not None:
            start = self.spec.start_t.eval(self.spec.config)
            value = self.value if self.value is not None else start
            if value is not None:
                self.spec.start_option.inject(parts, value, self.spec.config)
        return parts

    def observe(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> None:
        value = record.get(self.spec.cursor_field)
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and (self.highest is None or value > self.highest)
        ):
            self.highest = value

    def keep(self, record: dict[str, Any], cursor_slice: dict[str, Any]) -> bool:
        return True

    def feed_exhausted(self, records: list[dict[str, Any]]) -> bool:
        return False

    def close_slice(self, cursor_slice: dict[str, Any]) -> None:
        if self.highest is not None and (self.value is None or self.highest > self.value):
            self.value = self.highest
        self.highest = None

    def state(self) -> dict[str, Any]:
        return {self.spec.cursor_field: self.value} if self.value is not None else {}


CursorSpec = DatetimeCursorSpec | CountCursorSpec


def build_cursor_spec(node: Node, config: dict[str, Any]) -> CursorSpec:
    kind = node.expect_type(CURSOR_TYPES, "an incremental sync cursor")
    if kind == "DatetimeBasedCursor":
        return DatetimeCursorSpec(node, config)
    return CountCursorSpec(node, config)


def partition_key(partition: dict[str, Any]) -> str:
    return json.dumps(partition, sort_keys=True, default=str)


class PartitionedState:
    """Per-partition cursors behind one stream state `{"states": [{"partition", "cursor"}]}`."""

    def __init__(self, spec: CursorSpec, state: dict[str, Any] | None) -> None:
        self.spec = spec
        self.cursors: dict[str, tuple[dict[str, Any], Cursor]] = {}
        for entry in (state or {}).get("states", []) or []:
            if isinstance(entry, dict) and isinstance(entry.get("partition"), dict):
                part = entry["partition"]
                self.cursors[partition_key(part)] = (part, spec.new_cursor(entry.get("cursor") or {}))

    def cursor_for(self, partition: dict[str, Any]) -> Cursor:
        key = partition_key(partition)
        if key not in self.cursors:
            self.cursors[key] = (partition, self.spec.new_cursor({}))
        return self.cursors[key][1]

    def state(self) -> dict[str, Any]:
        return {"states": [{"partition": p, "cursor": c.state()} for p, c in self.cursors.values() if c.state()]}
