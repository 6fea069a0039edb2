"""Schema loaders: InlineSchemaLoader, JsonFileSchemaLoader, and the top-level `schemas` map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ducto.protocol.lowcode.context import BuildContext
from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError
from ducto.protocol.lowcode.interpolation import Interpolated
from ducto.protocol.lowcode.manifest import Node

SCHEMA_LOADER_TYPES = ["InlineSchemaLoader", "JsonFileSchemaLoader"]
PERMISSIVE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {},
}


class SchemaLoader:
    """Loads one stream's JSON schema (lazily: discover needs it, read does not)."""

    def __init__(self, node: Node | None, stream_name: str, ctx: BuildContext) -> None:
        self.ctx = ctx
        self.stream_name = stream_name
        self.inline: dict[str, Any] | None = None
        self.file_path: Interpolated | None = None
        self.path = node.path if node is not None else ""
        if node is None:
            return
        kind = node.expect_type(SCHEMA_LOADER_TYPES, "a schema loader")
        if kind == "InlineSchemaLoader":
            schema = node.raw("schema", {})
            if not isinstance(schema, dict):
                raise node.error("expected a JSON schema (a mapping)", "schema")
            self.inline = schema
        else:
            self.file_path = Interpolated(
                node.raw("file_path"), node.parameters, path=node.at("file_path"), valid_types=(str,)
            )

    def load(self) -> dict[str, Any]:
        if self.inline is not None:
            return self.inline or dict(PERMISSIVE_SCHEMA)
        declared = self.ctx.manifest.get("schemas")
        if self.file_path is not None and self.file_path.value:
            relative = str(self.file_path.eval(self.ctx.config))
            return self._read_file(relative, required=True)
        if isinstance(declared, dict) and isinstance(declared.get(self.stream_name), dict):
            return dict(declared[self.stream_name])
        return self._read_file(f"schemas/{self.stream_name}.json", required=False)

    def _read_file(self, relative: str, *, required: bool) -> dict[str, Any]:
        base = self.ctx.base_dir or Path.cwd()
        candidates = [base / relative, base / Path(relative).name] if required else [base / relative]
        for candidate in candidates:
            if candidate.is_file():
                try:
                    data = json.loads(candidate.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise LowCodeError(f"{self.path}: cannot read schema {candidate}: {exc}", CONFIG_ERROR) from None
                if not isinstance(data, dict):
                    raise LowCodeError(f"{self.path}: schema {candidate} is not a JSON object", CONFIG_ERROR)
                return data
        if required:
            raise LowCodeError(f"{self.path}.file_path: schema file {relative!r} not found under {base}", CONFIG_ERROR)
        return dict(PERMISSIVE_SCHEMA)


class MergedSchemaLoader:
    """Several loaders: properties merged, the first loader winning on conflicts."""

    def __init__(self, loaders: list[SchemaLoader]) -> None:
        self.loaders = loaders

    def load(self) -> dict[str, Any]:
        schemas = [loader.load() for loader in self.loaders]
        merged = dict(schemas[0])
        properties: dict[str, Any] = {}
        for schema in reversed(schemas):
            properties.update(schema.get("properties") or {})
        merged["properties"] = properties
        return merged


def build_schema_loader(stream: Node, name: str, ctx: BuildContext) -> SchemaLoader | MergedSchemaLoader:
    """The stream's `schema_loader`: one loader, a list of loaders, or the default file/`schemas` lookup."""
    if isinstance(stream.raw("schema_loader"), list):
        nodes = stream.children("schema_loader", expected="a schema loader")
        if not nodes:
            return SchemaLoader(None, name, ctx)
        return MergedSchemaLoader([SchemaLoader(n, name, ctx) for n in nodes])
    return SchemaLoader(stream.child("schema_loader", expected="a schema loader"), name, ctx)
