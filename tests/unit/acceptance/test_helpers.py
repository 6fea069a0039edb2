"""Small pieces: -k expressions, cursor ordering, read-back value matching, output parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ducto.orchestrator.acceptance.compare import cursor_lt, cursor_max, drop_fields
from ducto.orchestrator.acceptance.keyword import KeywordError, matches
from ducto.orchestrator.acceptance.readers import normalize_identifier, row_matches, values_match
from ducto.orchestrator.acceptance.runner import parse_output


@pytest.mark.parametrize(
    ("expr", "test_id", "expected"),
    [
        ("spec", "spec::test_spec_message", True),
        ("SPEC", "spec::test_spec_message", True),
        ("basic_read and users", "basic_read::test_read[users]", True),
        ("basic_read and not users", "basic_read::test_read[users]", False),
        ("(spec or discovery) and not image", "spec::test_image_labels", False),
        ("spec or discovery", "discovery::test_discover", True),
        ("not (a and b)", "ab", False),
        ("not (a and z)", "ab", True),
    ],
)
def test_keyword_expressions(expr: str, test_id: str, expected: bool) -> None:
    assert matches(expr, test_id) is expected


@pytest.mark.parametrize("expr", ["spec and", "(spec", "spec)", "and spec", "spec users"])
def test_bad_keyword_expressions(expr: str) -> None:
    with pytest.raises(KeywordError):
        matches(expr, "spec::x")


def test_cursor_ordering() -> None:
    assert cursor_lt(1, 2) and not cursor_lt(2, 2)
    assert cursor_lt("2024-01-01T23:00:00-02:00", "2024-01-02T02:00:00+00:00")  # 01:00Z < 02:00Z
    assert not cursor_lt("2024-01-02T00:00:00Z", "2024-01-01T23:00:00+00:00")
    assert cursor_lt("2024-01-01", "2024-01-02")
    assert cursor_lt("a", "b")
    assert cursor_max([None, "2024-01-01T00:00:00Z", "2023-12-31T23:00:00Z"]) == "2024-01-01T00:00:00Z"
    assert cursor_max([None]) is None


def test_drop_fields_nested() -> None:
    assert drop_fields({"a": 1, "b": {"c": 2, "d": 3}}, ["a", "b/c", "x/y"]) == {"b": {"d": 3}}


def test_values_match_typed_read_back() -> None:
    assert values_match("2024-01-02T03:04:05+00:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert not values_match("2024-01-02T03:04:06+00:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert values_match("2024-01-02", date(2024, 1, 2))
    assert values_match({"city": "東京"}, '{"city":"東京"}')
    assert values_match(["a"], '["a"]') and not values_match(["a"], '["b"]')
    assert values_match(12.5, Decimal("12.5")) and values_match(0, 0.0)
    assert values_match(9007199254740993, 9007199254740993) and not values_match(9007199254740993, 9007199254740992)
    assert values_match(True, True) and not values_match(True, 1)
    assert values_match(None, None) and not values_match(None, "")
    assert row_matches({"a": 1}, {"a": 1, "b": None}) and not row_matches({"a": 1}, {"a": 1, "b": 2})


def test_identifier_normalization() -> None:
    assert normalize_identifier("Ünit Price") == "unit_price"
    assert normalize_identifier("2fa") == "_2fa"


def test_parse_output_keeps_non_messages_apart() -> None:
    messages, invalid = parse_output(b'{"type":"LOG","log":{}}\nnot json\n[1]\n\n{"no_type":1}\n')
    assert [m["type"] for m in messages] == ["LOG"]
    assert [n for n, _ in invalid] == [2, 3, 5]
