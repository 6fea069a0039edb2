"""Interpolation: coercion, context, macros, filters and the sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from ducto.protocol.lowcode.errors import InterpolationError, ManifestError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean, InterpolatedMapping

CONFIG = {"start": "2024-01-15T10:00:00Z", "n": 7, "name": "acme", "nested": {"k": "v"}}


def ev(template: str, **context: object) -> object:
    return Interpolated(template, {"p": "param"}).eval(CONFIG, **context)


def test_coercion_of_rendered_strings() -> None:
    assert ev("{{ config['n'] }}") == 7
    assert ev("123") == 123
    assert ev("[1, 2]") == [1, 2]
    assert ev("{{ config.name }}") == "acme"
    assert ev("2024-01-01") == "2024-01-01"
    assert Interpolated("123", valid_types=(str,)).eval({}) == "123"
    assert ev("{{ parameters.p }}") == "param"
    assert ev("{{ config['missing'] }}") is None  # undefined renders empty -> no value
    assert Interpolated("{{ config['a']['b'] }}", default="fallback").eval({}) == "fallback"
    assert Interpolated("{{ config.get('absent') }}", valid_types=(str,)).eval({}) is None  # renders "None"


def test_context_aliases_and_unknown_variables() -> None:
    assert ev("{{ stream_partition.id }}-{{ stream_interval.id }}", stream_slice={"id": 4}) == "4-4"
    with pytest.raises(InterpolationError, match="uses stream_state"):
        ev("{{ stream_state.x }}")


def test_macros() -> None:
    now = dt.datetime.now(tz=dt.UTC)
    rendered = dt.datetime.fromisoformat(str(ev("{{ now_utc().isoformat() }}")))
    assert abs((rendered - now).total_seconds()) < 5
    assert ev("{{ today_utc() }}") == now.date().isoformat() or ev("{{ today_utc() }}") == str(now.date())
    assert ev("{{ day_delta(1, format='%Y-%m-%d') }}") == (now + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    assert ev("{{ duration('P1DT2H').total_seconds() }}") == 93600.0
    assert ev("{{ (str_to_datetime('2024-01-02') - duration('P1D')).strftime('%Y-%m-%d') }}") == "2024-01-01"
    assert ev("{{ format_datetime(config.start, '%Y/%m/%d') }}") == "2024/01/15"
    assert ev("{{ format_datetime('15-01-2024', '%Y-%m-%d', '%d-%m-%Y') }}") == "2024-01-15"
    assert ev("{{ format_datetime(config.start, '%s') }}") == 1705312800
    assert ev("{{ max(2, config.n) }}") == 7
    assert ev("{{ min([5, 3, 9]) }}") == 3
    assert ev("{{ timestamp('2022-02-28T00:00:00Z') }}") == 1646006400
    assert ev("{{ timestamp(1646006400.7) }}") == 1646006400
    assert ev("{{ str_to_datetime('2022-01-01T13:45:30+02:00').hour }}") == 11
    kiribati = dt.datetime.now(tz=dt.timezone(dt.timedelta(hours=14))).date()
    assert ev("{{ today_with_timezone('Pacific/Kiritimati') }}") == str(kiribati)


def test_filters() -> None:
    assert ev("{{ 'Test client_secret' | hash('md5') }}") == "3032d57a12f76b61a820e47b9a5a0cbb"
    assert ev("{{ 'Test client_secret' | base64encode }}") == "VGVzdCBjbGllbnRfc2VjcmV0"
    assert ev("{{ 'ZmFrZSByZWZyZXNoX3Rva2VuIHZhbHVl' | base64decode }}") == "fake refresh_token value"
    assert Interpolated("{{ 1 | string }}", valid_types=(str,)).eval({}) == "1"
    assert ev("{{ 'goodbye, cruel world' | regex_search('goodbye, (.*)$') }}") == "cruel world"


def test_sandbox_blocks_unsafe_access() -> None:
    with pytest.raises(InterpolationError, match=r"not allowed|failed"):
        ev("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(InterpolationError, match="range"):
        ev("{% for i in range(10) %}{{ i }}{% endfor %}")


def test_boolean_and_mapping() -> None:
    assert InterpolatedBoolean("{{ config.n > 3 }}").eval(CONFIG) is True
    assert InterpolatedBoolean("{{ config.n > 30 }}").eval(CONFIG) is False
    assert InterpolatedBoolean("{{ [] }}").eval(CONFIG) is False
    assert InterpolatedBoolean("{{ config.missing }}").eval(CONFIG) is False
    mapping = InterpolatedMapping({"a": "{{ config.n }}", "{{ config.name }}_key": "x", "empty": "{{ config.zz }}"})
    assert mapping.eval(CONFIG) == {"a": 7, "acme_key": "x"}


def test_template_syntax_error_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match=r"^a\.b: invalid template"):
        Interpolated("{{ oops(", path="a.b")


@pytest.mark.parametrize(
    "text",
    [
        "007",
        "00",
        "1e5",
        "-3",
        "+2",
        "1_000",
        "1.",
        ".5",
        "0x10",
        "True",
        "none",
        "None",
        " 5 ",
        "inf",
        "nan",
        "2024-01-01",
        "[1, 'a']",
        "{'a': 1}",
        "(1, 2)",
        "'quoted'",
        "abc def",
        "1 + 2",
        "-",
        "3j",
        "1.5e-3",
        "",
    ],
)
def test_coercion_matches_literal_eval(text: str) -> None:
    import ast

    from ducto.protocol.lowcode.interpolation import coerce

    try:
        expected = ast.literal_eval(text)
        if isinstance(expected, complex):
            expected = text
    except (ValueError, SyntaxError):
        expected = text
    assert coerce(text) == expected
    assert type(coerce(text)) is type(expected)
