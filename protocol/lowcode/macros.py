"""Macros and filters available in manifest templates (Airbyte's set)."""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

from ducto.protocol.lowcode.datetimes import (
    UTC,
    Duration,
    ensure_utc,
    parse_datetime,
    parse_duration,
    parse_with_format,
)
from ducto.protocol.lowcode.datetimes import (
    format_datetime as _format,
)


def now_utc() -> dt.datetime:
    """The current datetime in UTC."""
    return dt.datetime.now(tz=UTC)


def today_utc() -> dt.date:
    """Today's date in UTC."""
    return dt.datetime.now(tz=UTC).date()


def today_with_timezone(timezone: str) -> dt.date:
    """Today's date in an IANA timezone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(tz=ZoneInfo(timezone)).date()


def str_to_datetime(s: str) -> dt.datetime:
    """Parse an ISO 8601 string into a UTC datetime (naive means UTC)."""
    return parse_datetime(s)


def timestamp(value: float | str) -> int | float:
    """Epoch seconds from a number (truncated to int) or an ISO 8601 string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    ts = str_to_datetime(str(value)).timestamp()
    return int(ts) if ts.is_integer() else ts


def max_(*args: Any) -> Any:
    """The largest of an iterable or of several arguments."""
    return builtins.max(*args)


def min_(*args: Any) -> Any:
    """The smallest of an iterable or of several arguments."""
    return builtins.min(*args)


def day_delta(num_days: int, format: str = "%Y-%m-%dT%H:%M:%S.%f%z") -> str:
    """Now (UTC) plus `num_days` days, formatted."""
    return _format(now_utc() + dt.timedelta(days=num_days), format)


def duration(datestring: str) -> Duration:
    """An ISO 8601 duration as a timedelta (or relativedelta for months/years)."""
    return parse_duration(datestring)


def format_datetime(value: str | dt.datetime | int | float, format: str, input_format: str | None = None) -> str:
    """Format a datetime, or a string/number parsed first (with `input_format` when given)."""
    if isinstance(value, dt.datetime):
        return _format(ensure_utc(value), format)
    if input_format:
        parsed = parse_with_format(value, input_format)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = dt.datetime.fromtimestamp(float(value), tz=UTC)
    else:
        parsed = str_to_datetime(str(value))
    return _format(parsed, format)


MACROS: dict[str, Callable[..., Any]] = {
    "now_utc": now_utc,
    "today_utc": today_utc,
    "today_with_timezone": today_with_timezone,
    "timestamp": timestamp,
    "max": max_,
    "min": min_,
    "day_delta": day_delta,
    "duration": duration,
    "format_datetime": format_datetime,
    "str_to_datetime": str_to_datetime,
}


def hash_filter(value: Any, hash_type: str = "md5", salt: str | None = None) -> str:
    """Hex digest of the value (md5 by default), optionally salted."""
    try:
        h = hashlib.new(hash_type)
    except ValueError:
        raise ValueError(f"unknown hash type {hash_type!r}") from None
    h.update(str(value).encode())
    if salt:
        h.update(str(salt).encode())
    return h.hexdigest()


def base64encode(value: Any) -> str:
    """Base64 of the value's UTF-8 text."""
    return base64.b64encode(str(value).encode()).decode()


def base64decode(value: Any) -> str:
    """Decode base64 text into a string."""
    return base64.b64decode(str(value)).decode()


def string_filter(value: Any) -> str:
    """The value as a string (JSON for containers)."""
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value)
    return str(value)


def regex_search(value: Any, regex: str) -> str | None:
    """The first capture group of `regex` in the value, or None."""
    m = re.search(regex, str(value))
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)


FILTERS: dict[str, Callable[..., Any]] = {
    "hash": hash_filter,
    "base64encode": base64encode,
    "base64decode": base64decode,
    "string": string_filter,
    "regex_search": regex_search,
}
