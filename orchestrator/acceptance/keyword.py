"""`-k` expressions as pytest reads them: names matched as substrings, with and/or/not and parentheses."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class KeywordError(ValueError):
    """The -k expression cannot be parsed."""


def _tokens(expr: str) -> list[str]:
    pos, out = 0, []
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def matches(expr: str, test_id: str) -> bool:
    """Whether `test_id` satisfies the expression (case-insensitive substring match per name)."""
    tokens = _tokens(expr)
    if not tokens:
        return True
    pos = 0
    target = test_id.lower()

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise KeywordError(f"-k {expr!r}: unexpected end of expression")
        pos += 1
        return tokens[pos - 1]

    def or_expr() -> bool:
        value = and_expr()
        while peek() == "or":
            take()
            value = and_expr() or value
        return value

    def and_expr() -> bool:
        value = not_expr()
        while peek() == "and":
            take()
            value = not_expr() and value
        return value

    def not_expr() -> bool:
        if peek() == "not":
            take()
            return not not_expr()
        token = take()
        if token == "(":
            value = or_expr()
            if take() != ")":
                raise KeywordError(f"-k {expr!r}: missing ')'")
            return value
        if token in (")", "and", "or"):
            raise KeywordError(f"-k {expr!r}: unexpected {token!r}")
        return token.lower() in target

    result = or_expr()
    if pos != len(tokens):
        raise KeywordError(f"-k {expr!r}: unexpected {tokens[pos]!r}")
    return result


def validate(expr: str) -> None:
    """Raise KeywordError if the expression does not parse."""
    matches(expr, "")
