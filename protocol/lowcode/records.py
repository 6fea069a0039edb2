"""From a response to records: decoders, DpathExtractor, RecordFilter, transformations, RecordSelector."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import re
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree import ElementTree

import requests

from ducto.protocol import json
from ducto.protocol.lowcode.errors import SYSTEM_ERROR, HttpError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean
from ducto.protocol.lowcode.manifest import Node

DECODER_TYPES = ["JsonDecoder", "JsonlDecoder", "IterableDecoder", "CsvDecoder", "GzipDecoder", "XmlDecoder"]
TRANSFORMATION_TYPES = [
    "AddFields",
    "RemoveFields",
    "KeysToLower",
    "KeysToSnakeCase",
    "KeysReplace",
    "FlattenFields",
    "DpathFlattenFields",
]


class Decoder:
    """Turns a response body into Python data: JSON (default), JSON Lines, lines of text, CSV, gzip."""

    def __init__(self, node: Node | None) -> None:
        self.kind = node.expect_type(DECODER_TYPES, "a decoder") if node is not None else "JsonDecoder"
        self.inner: Decoder | None = None
        if node is not None and self.kind == "GzipDecoder":
            inner = node.child("decoder", required=True, expected="the decoder of the decompressed data")
            self.inner = Decoder(inner)
        self.encoding = str(node.raw("encoding", "utf-8")) if node is not None else "utf-8"
        self.delimiter = str(node.raw("delimiter", ",")) if node is not None else ","
        self.none_values = set(node.string_list("set_values_to_none")) if node is not None else set()

    def decode(self, response: requests.Response) -> Any:
        return self.decode_bytes(response.content, response)

    def decode_bytes(self, content: bytes, response: requests.Response) -> Any:
        where = f"{response.request.method} {response.url.split('?')[0]}"
        if self.kind == "JsonDecoder":
            if not content:
                return {}
            try:
                return json.loads(content)
            except ValueError:
                content_type = response.headers.get("Content-Type", "no content type")
                raise HttpError(
                    f"the response from {where} is not JSON (HTTP {response.status_code}, {content_type})",
                    SYSTEM_ERROR,
                ) from None
        if self.kind == "JsonlDecoder":
            try:
                return [json.loads(line) for line in content.splitlines() if line.strip()]
            except ValueError:
                raise HttpError(f"the response from {where} is not JSON Lines", SYSTEM_ERROR) from None
        if self.kind == "GzipDecoder":
            assert self.inner is not None
            if content[:2] == b"\x1f\x8b":
                try:
                    content = gzip.decompress(content)
                except (OSError, EOFError):
                    raise HttpError(f"the response from {where} is not valid gzip", SYSTEM_ERROR) from None
            return self.inner.decode_bytes(content, response)
        if self.kind == "XmlDecoder":
            try:
                root = ElementTree.fromstring(content)
            except ElementTree.ParseError as exc:
                raise HttpError(f"the response from {where} is not XML: {exc}", SYSTEM_ERROR) from None
            return {_xml_name(root.tag): _xml_value(root)}
        text = content.decode(
            self.encoding if self.kind == "CsvDecoder" else (response.encoding or "utf-8"), errors="replace"
        )
        if self.kind == "CsvDecoder":
            rows = csv.DictReader(io.StringIO(text), delimiter=self.delimiter)
            return [{k: (None if v in self.none_values else v) for k, v in row.items()} for row in rows]
        return [{"record": line} for line in text.splitlines() if line.strip()]


def _xml_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _xml_value(element: ElementTree.Element) -> Any:
    """An element as xmltodict does it: attributes as `@name`, text as `#text` (or the value itself),
    repeated children as lists."""
    out: dict[str, Any] = {f"@{_xml_name(k)}": v for k, v in element.attrib.items()}
    for child in element:
        name = _xml_name(child.tag)
        value = _xml_value(child)
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    text = (element.text or "").strip()
    if not out:
        return text or None
    if text:
        out["#text"] = text
    return out


def _dpath_values(data: Any, path: list[str]) -> list[Any]:
    """Values at a path of keys; `*` matches every key of a mapping or every item of a list."""
    current = [data]
    for key in path:
        nxt: list[Any] = []
        for node in current:
            if key == "*":
                if isinstance(node, dict):
                    nxt.extend(node.values())
                elif isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(node, dict):
                if key in node:
                    nxt.append(node[key])
            elif isinstance(node, list) and key.lstrip("-").isdigit():
                idx = int(key)
                if -len(node) <= idx < len(node):
                    nxt.append(node[idx])
        current = nxt
    return current


def dpath_get(data: Any, path: list[str]) -> Any:
    """The single value at a path (no wildcards), or None."""
    values = _dpath_values(data, path)
    return values[0] if values else None


class DpathExtractor:
    """Records at `field_path` in the decoded body: a list gives one record per item, an object one record."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        node.expect_type(["DpathExtractor"], "a record extractor")
        self.config = config
        raw = node.raw("field_path")
        if raw is None:
            raise node.error("missing required field (expected a list of keys, [] for the whole body)", "field_path")
        self.field_path = [
            Interpolated(p, node.parameters, path=node.at("field_path"), valid_types=(str,))
            for p in node.string_list("field_path")
        ]

    def extract(self, body: Any) -> list[dict[str, Any]]:
        if not self.field_path:
            extracted: Any = body
            wildcard = False
        else:
            path = [str(p.eval(self.config)) for p in self.field_path]
            wildcard = "*" in path
            values = _dpath_values(body, path)
            extracted = values if wildcard else (values[0] if values else None)
        items: list[Any]
        if isinstance(extracted, list):
            items = []
            for item in extracted:
                if wildcard and isinstance(item, list):
                    items.extend(item)
                else:
                    items.append(item)
        elif extracted is None or extracted in ({}, ""):
            items = []
        else:
            items = [extracted]
        records = []
        for item in items:
            if not isinstance(item, dict):
                raise HttpError(
                    f"expected records to be JSON objects, found {type(item).__name__} {str(item)[:80]!r}",
                    SYSTEM_ERROR,
                )
            records.append(item)
        return records


class RecordFilter:
    """Keeps records for which `condition` renders true."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        node.expect_type(["RecordFilter"], "a record filter")
        self.config = config
        self.condition = InterpolatedBoolean(node.raw("condition", ""), node.parameters, path=node.at("condition"))
        self.empty = not node.raw("condition")

    def keep(self, record: dict[str, Any], context: dict[str, Any]) -> bool:
        if self.empty:
            return True
        return self.condition.eval(self.config, record=record, **context)


class AddFields:
    """Sets values (templates over `record`, slice, config) at paths in each record."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.fields: list[tuple[list[str], Interpolated, type | None]] = []
        for f in node.children("fields", expected="an AddedFieldDefinition"):
            path = f.string_list("path", required=True)
            if not path:
                raise f.error("expected a non-empty list of keys", "path")
            value_type = f.string("value_type")
            kinds: dict[str, type] = {"string": str, "number": float, "integer": int, "boolean": bool}
            if value_type is not None and value_type not in kinds:
                raise f.error(f"unknown value_type {value_type!r} (expected one of {', '.join(kinds)})", "value_type")
            value = f.data.get("value")
            if value is None:
                raise f.error("missing required field (expected a value or template)", "value")
            self.fields.append(
                (
                    path,
                    Interpolated(value, f.parameters, path=f.at("value")),
                    kinds[value_type] if value_type else None,
                )
            )
        if not self.fields:
            raise node.error("missing required field (expected a list of fields to add)", "fields")
        condition = node.string("condition")
        self.condition = (
            InterpolatedBoolean(condition, node.parameters, path=node.at("condition")) if condition else None
        )

    def apply(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        for path, value, kind in self.fields:
            rendered = value.eval(self.config, record=record, **context)
            if kind is not None and rendered is not None:
                with contextlib.suppress(TypeError, ValueError):
                    rendered = kind(rendered) if kind is not bool else str(rendered).lower() in {"true", "1"}
            if self.condition is not None and not self.condition.eval(
                self.config, property=rendered, record=record, **context
            ):
                continue
            target = record
            for key in path[:-1]:
                nxt = target.get(key)
                if not isinstance(nxt, dict):
                    nxt = {}
                    target[key] = nxt
                target = nxt
            target[path[-1]] = rendered
        return record


class RemoveFields:
    """Deletes fields at pointers (`*` allowed); missing paths are fine."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        raw = node.raw("field_pointers")
        if not isinstance(raw, list) or not raw:
            raise node.error('expected a list of field paths, e.g. [["a"], ["b", "c"]]', "field_pointers")
        self.pointers = [[str(k) for k in (p if isinstance(p, list) else [p])] for p in raw]
        condition = node.string("condition")
        self.condition = (
            InterpolatedBoolean(condition, node.parameters, path=node.at("condition")) if condition else None
        )

    def apply(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        for pointer in self.pointers:
            self._remove(record, pointer)
        return record

    def _remove(self, node: Any, pointer: list[str]) -> None:
        if not pointer:
            return
        key, rest = pointer[0], pointer[1:]
        targets: list[tuple[Any, Any]] = []
        if key == "*":
            if isinstance(node, dict):
                targets = list(node.items())
            elif isinstance(node, list):
                targets = list(enumerate(node))
        elif isinstance(node, dict) and key in node:
            targets = [(key, node[key])]
        for k, v in targets:
            if rest:
                self._remove(v, rest)
            elif isinstance(node, dict) and (self.condition is None or self.condition.eval(self.config, property=v)):
                node.pop(k, None)


def _map_keys(value: Any, fn: Any) -> Any:
    if isinstance(value, dict):
        return {fn(k): _map_keys(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_keys(v, fn) for v in value]
    return value


_SNAKE_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SNAKE_2 = re.compile(r"([a-z\d])([A-Z])")
_NON_WORD = re.compile(r"[^\w]+")


def to_snake_case(key: str) -> str:
    s = _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", key))
    return _NON_WORD.sub("_", s).strip("_").lower()


class KeysTransform:
    """KeysToLower, KeysToSnakeCase, KeysReplace (top-level keys, like Airbyte)."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.kind = node.type
        self.config = config
        if self.kind == "KeysReplace":
            self.old = Interpolated(
                node.require("old", "the text to replace"),
                node.parameters,
                path=node.at("old"),
                valid_types=(str,),
            )
            self.new = Interpolated(node.raw("new", ""), node.parameters, path=node.at("new"), valid_types=(str,))

    def apply(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        if self.kind == "KeysToLower":
            return {str(k).lower(): v for k, v in record.items()}
        if self.kind == "KeysToSnakeCase":
            return {to_snake_case(str(k)): v for k, v in record.items()}
        old = str(self.old.eval(self.config, record=record, **context))
        new = str(self.new.eval(self.config, record=record, **context) or "")
        return {str(k).replace(old, new): v for k, v in record.items()}


class FlattenFields:
    """Flattens nested objects (and lists unless flatten_lists is false) into dotted top-level keys."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.flatten_lists = node.boolean("flatten_lists", True)

    def apply(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict) and value:
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list) and value and self.flatten_lists:
                for i, v in enumerate(value):
                    walk(f"{prefix}.{i}", v)
            else:
                key = prefix
                while key in out:
                    key = f"{key}_"
                out[key] = value

        walk("", record)
        return out


class DpathFlattenFields:
    """Lifts the keys of the object at `field_path` to the top of the record (unless they collide)."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.path = [
            Interpolated(p, node.parameters, path=node.at("field_path"), valid_types=(str,))
            for p in node.string_list("field_path", required=True)
        ]
        if not self.path:
            raise node.error("expected a non-empty list of keys", "field_path")
        self.delete_origin = node.boolean("delete_origin_value", False)
        self.replace_record = node.boolean("replace_record", False)
        keys = node.child("key_transformation", expected="a KeyTransformation")
        self.prefix = str(keys.raw("prefix", "")) if keys is not None else ""
        self.suffix = str(keys.raw("suffix", "")) if keys is not None else ""

    def apply(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        path = [str(p.eval(self.config)) for p in self.path]
        found = _dpath_values(record, path)
        extracted = found[0] if len(found) == 1 else None
        if not isinstance(extracted, dict):
            return record
        lifted = {f"{self.prefix}{k}{self.suffix}": v for k, v in extracted.items()}
        if set(lifted) & set(record):
            return record
        if self.delete_origin and "*" not in path:
            parent = dpath_get(record, path[:-1]) if len(path) > 1 else record
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        if self.replace_record:
            return lifted
        record.update(lifted)
        return record


Transformation = AddFields | RemoveFields | KeysTransform | FlattenFields | DpathFlattenFields


def build_transformation(node: Node, config: dict[str, Any]) -> Transformation:
    kind = node.expect_type(TRANSFORMATION_TYPES, "a transformation")
    if kind == "AddFields":
        return AddFields(node, config)
    if kind == "RemoveFields":
        return RemoveFields(node, config)
    if kind == "FlattenFields":
        return FlattenFields(node, config)
    if kind == "DpathFlattenFields":
        return DpathFlattenFields(node, config)
    return KeysTransform(node, config)


class RecordSelector:
    """Extract, then filter and transform (order per `transform_before_filtering`)."""

    def __init__(self, node: Node, config: dict[str, Any], transformations: list[Transformation]) -> None:
        node.expect_type(["RecordSelector"], "a record selector")
        extractor = node.child("extractor", required=True, expected="a DpathExtractor")
        assert extractor is not None
        self.extractor = DpathExtractor(extractor, config)
        filter_node = node.child("record_filter", expected="a RecordFilter")
        self.record_filter = RecordFilter(filter_node, config) if filter_node is not None else None
        self.transformations = transformations
        self.transform_first = node.boolean("transform_before_filtering", False)
        normalization = node.raw("schema_normalization", "None")
        if normalization not in {"None", "Default"}:
            raise node.error(f"unknown value {normalization!r} (expected one of Default, None)", "schema_normalization")
        self.normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.wants_normalization = normalization == "Default"

    def select(self, records: list[dict[str, Any]], context: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for raw in records:
            record = self._transform(raw, context) if self.transform_first else raw
            if self.record_filter is not None and not self.record_filter.keep(record, context):
                continue
            out = record if self.transform_first else self._transform(record, context)
            yield self.normalize(out) if self.normalize is not None else out

    def _transform(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        for t in self.transformations:
            record = t.apply(record, context)
        return record
