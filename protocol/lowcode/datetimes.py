"""Datetime parsing/formatting with Airbyte's extra directives, and ISO 8601 durations.

Beyond `strftime`, formats understand `%s` (epoch seconds), `%ms` (epoch milliseconds),
`%s_as_float` (epoch seconds with microseconds) and `%_ms` (milliseconds, 3 digits).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta

UTC = dt.UTC
Duration = dt.timedelta | relativedelta

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration (`P1D`, `PT1H30M`, `P1M`, `PT0.001S`).

    Returns a `timedelta` unless years or months are used (then a `relativedelta`).
    Raises ValueError on anything else.
    """
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an ISO 8601 duration: {text!r} (expected e.g. P1D, PT1H, P1M)")
    parts = {k: float(v.replace(",", ".")) for k, v in m.groupdict().items() if v and k != "sign"}
    sign = -1 if m.group("sign") == "-" else 1
    delta = dt.timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    if "years" in parts or "months" in parts:
        rd = relativedelta(years=int(parts.get("years", 0)), months=int(parts.get("months", 0))) + delta
        return rd if sign > 0 else -rd
    return delta if sign > 0 else -delta


def ensure_utc(value: dt.datetime) -> dt.datetime:
    """Attach UTC to a naive datetime; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datetime(value: dt.datetime, fmt: str) -> str:
    """Format with `strftime` plus `%s`, `%ms`, `%s_as_float`, `%_ms`."""
    if fmt == "%s":
        return str(int(value.timestamp()))
    if fmt == "%ms":
        return str(int(value.timestamp() * 1000))
    if fmt == "%s_as_float":
        return f"{value.timestamp():.6f}"
    if "%_ms" in fmt:
        fmt = fmt.replace("%_ms", f"{value.microsecond // 1000:03d}")
    if "%s" in fmt:
        fmt = re.sub(r"(?<!%)%s", str(int(value.timestamp())), fmt)
    return value.strftime(fmt)


def parse_with_format(text: str | int | float, fmt: str) -> dt.datetime:
    """Parse one value with one format (raises ValueError when it does not match)."""
    if fmt == "%s":
        return dt.datetime.fromtimestamp(int(float(text)), tz=UTC)
    if fmt == "%ms":
        return dt.datetime.fromtimestamp(int(float(text)) / 1000, tz=UTC)
    if fmt == "%s_as_float":
        return dt.datetime.fromtimestamp(float(text), tz=UTC)
    s = str(text)
    if "%_ms" in fmt:
        fmt = fmt.replace("%_ms", "%f")
    return ensure_utc(dt.datetime.strptime(s, fmt))


def parse_datetime(text: str | int | float | dt.datetime, formats: Iterable[str] = ()) -> dt.datetime:
    """Parse with the first matching format; without formats (or none matching) accept ISO 8601.

    Raises ValueError naming the formats tried when nothing matches.
    """
    if isinstance(text, dt.datetime):
        return ensure_utc(text)
    if isinstance(text, dt.date):
        return dt.datetime(text.year, text.month, text.day, tzinfo=UTC)
    tried = list(formats)
    for fmt in tried:
        try:
            return parse_with_format(text, fmt)
        except (ValueError, TypeError, OverflowError):
            continue
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return dt.datetime.fromtimestamp(float(text), tz=UTC)
    try:
        return ensure_utc(date_parser.isoparse(str(text)))
    except (ValueError, OverflowError):
        pass
    try:
        return ensure_utc(date_parser.parse(str(text)))
    except (ValueError, OverflowError):
        shown = ", ".join(repr(f) for f in tried) or "ISO 8601"
        raise ValueError(f"{text!r} does not match any datetime format ({shown})") from None
