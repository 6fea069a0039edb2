"""Stream the records of one JSON document without loading it whole.

The reader walks the document to the records path, decoding one value at a time with the standard
library's C scanner (`raw_decode`) over a sliding text buffer: values off the path (siblings such as
a `meta` object) are decoded and dropped, the array at the path yields its elements one by one. So
memory holds one record (or one sibling value) plus a read chunk, whatever the document's size.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from source_file.locations import FileError

CHUNK = 1 << 20
WHITESPACE = " \t\n\r"


class JsonTextCursor:
    """A position in a JSON text read in chunks; errors name the file and line."""

    def __init__(self, stream: BinaryIO, where: str) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig")
        self.where = where
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.lines_before = 0  # newlines in text already dropped from the buffer
        self.decoder = json.JSONDecoder()

    def close(self) -> None:
        """Release the underlying stream to its owner (who may have closed it already)."""
        with contextlib.suppress(ValueError):
            self.text.detach()

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.text.read(CHUNK)
        except UnicodeDecodeError as exc:
            raise FileError(f"{self.where} near line {self.line()}: not valid UTF-8 ({exc.reason})") from None
        except (OSError, EOFError) as exc:
            raise FileError(f"{self.where} near line {self.line()}: cannot read ({exc})") from None
        if not chunk:
            self.eof = True
            return False
        self.lines_before += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def line(self, pos: int | None = None) -> int:
        """The 1-based line of `pos` (default: the current position)."""
        return self.lines_before + self.buf.count("\n", 0, self.pos if pos is None else pos) + 1

    def error(self, message: str, pos: int | None = None) -> FileError:
        """A FileError naming the file and line."""
        return FileError(f"{self.where} line {self.line(pos)}: {message}")

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the text)."""
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def expect(self, char: str, what: str) -> None:
        """Consume `char` (after blanks) or fail naming `what` was expected."""
        found = self.peek()
        if found != char:
            raise self.error(f"expected {what}, found {found!r}" if found else f"expected {what}, found the end")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next value (reading more text while it is incomplete)."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise self.error(f"not valid JSON ({exc.msg})", exc.pos) from None
            if end == len(self.buf) and not self.eof and not isinstance(value, dict | list | str) and self._fill():
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return value


def _describe(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null"
    )


def _skip_to_key(cursor: JsonTextCursor, key: str) -> bool:
    """Inside an object: move to `key`'s value; False when the object ends without it."""
    first = True
    while True:
        char = cursor.peek()
        if char == "}":
            cursor.pos += 1
            return False
        if not first:
            cursor.expect(",", "',' or '}'")
        name = cursor.value()
        if not isinstance(name, str):
            raise cursor.error("expected an object key")
        cursor.expect(":", "':'")
        if name == key:
            return True
        cursor.value()  # a sibling off the path: decoded and dropped
        first = False


def _skip_to_index(cursor: JsonTextCursor, index: int) -> bool:
    """Inside an array: move to element `index`; False when the array is shorter."""
    for k in range(index + 1):
        if cursor.peek() == "]":
            return False
        if k:
            cursor.expect(",", "',' or ']'")
        if k < index:
            cursor.value()
    return cursor.peek() != "]"


def stream_records(stream: BinaryIO, where: str, records_path: str | None) -> Iterator[dict[str, Any]]:
    """Records of a JSON document: the array of objects (or the one object) at `records_path`."""
    cursor = JsonTextCursor(stream, where)
    try:
        parts = [] if not records_path or records_path in ("$", ".") else records_path.removeprefix("$.").split(".")
        walked: list[str] = []
        for part in parts:
            walked.append(part)
            char = cursor.peek()
            found = False
            if char == "{":
                cursor.pos += 1
                found = _skip_to_key(cursor, part)
            elif char == "[" and part.isdigit():
                cursor.pos += 1
                found = _skip_to_index(cursor, int(part))
            elif char == "":
                raise cursor.error("the document is empty")
            if not found:
                raise FileError(f"{where}: no value at records path '{'.'.join(walked)}'")
        char = cursor.peek()
        if char == "{":
            yield cursor.value()
            return
        if char != "[":
            if char == "":
                raise cursor.error("the document is empty")
            value = cursor.value()
            raise FileError(f"{where}: expected an array of objects or an object, got {_describe(value)}")
        cursor.pos += 1
        index = 0
        while True:
            char = cursor.peek()
            if char == "]":
                cursor.pos += 1
                return
            if index:
                cursor.expect(",", "',' or ']'")
            item = cursor.value()
            if not isinstance(item, dict):
                raise FileError(
                    f"{where} element {index} (ending line {cursor.line()}): expected a JSON object, "
                    f"got {_describe(item)}"
                )
            yield item
            index += 1
    finally:
        cursor.close()
