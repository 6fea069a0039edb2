"""`dynamic_streams`: streams made from a template, once per component value found in an API response
(HttpComponentsResolver), in the config (ConfigComponentsResolver) or in the manifest
(ParametrizedComponentsResolver)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean
from ducto.protocol.lowcode.manifest import PARAMETERS_KEY, Node, propagate
from ducto.protocol.lowcode.records import dpath_get

if TYPE_CHECKING:
    from ducto.protocol.lowcode.streams import DeclarativeStream

RESOLVER_TYPES = ["HttpComponentsResolver", "ConfigComponentsResolver", "ParametrizedComponentsResolver"]
_CASTS: dict[str, Callable[[Any], Any]] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": lambda v: str(v).lower() in {"true", "1"},
}


class _Mapping:
    def __init__(self, node: Node) -> None:
        node.expect_type(["ComponentMappingDefinition"], "a component mapping")
        p = node.parameters
        self.path = [
            Interpolated(k, p, path=node.at("field_path"), valid_types=(str,))
            for k in node.string_list("field_path", required=True)
        ]
        if not self.path:
            raise node.error("expected a non-empty list of keys", "field_path")
        self.value = Interpolated(node.data.get("value"), p, path=node.at("value"))
        kind = node.string("value_type")
        if kind is not None and kind not in _CASTS:
            raise node.error(f"unknown value_type {kind!r} (expected one of {', '.join(_CASTS)})", "value_type")
        self.cast = _CASTS[kind] if kind else None
        self.create = node.boolean("create_or_update", False)
        condition = node.string("condition")
        self.condition = InterpolatedBoolean(condition, p, path=node.at("condition")) if condition else None

    def apply(self, stream: dict[str, Any], config: dict[str, Any], context: dict[str, Any]) -> None:
        if self.condition is not None and not self.condition.eval(config, **context):
            return
        keys = [str(k.eval(config, **context)) for k in self.path]
        value = self.value.eval(config, **context)
        if self.cast is not None and value is not None:
            with contextlib.suppress(TypeError, ValueError):
                value = self.cast(value)
        target: Any = stream
        for key in keys[:-1]:
            if not isinstance(target, dict):
                return
            if key not in target:
                if not self.create:
                    return
                target[key] = {}
            target = target[key]
        if isinstance(target, dict) and (keys[-1] in target or self.create):
            target[keys[-1]] = value


def _component_values(
    node: Node, config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream], name: str
) -> Iterator[tuple[Any, dict[str, Any]]]:
    kind = node.expect_type(RESOLVER_TYPES, "a components resolver")
    if kind == "HttpComponentsResolver":
        retriever = node.child("retriever", required=True, expected="a SimpleRetriever")
        assert retriever is not None
        stream = build_stream(
            Node({"type": "DeclarativeStream", "name": f"{name} components", "retriever": retriever.data}, node.path)
        )
        yield from stream.read_with_slices(label=f"components of {name}")
        return
    if kind == "ParametrizedComponentsResolver":
        definition = node.child("stream_parameters", required=True, expected="a StreamParametersDefinition")
        assert definition is not None
        items = definition.raw("list_of_parameters_for_stream", [])
        if not isinstance(items, list):
            raise definition.error("expected a list of mappings", "list_of_parameters_for_stream")
        for item in items:
            yield item, {}
        return
    for stream_config in node.children("stream_config", expected="a StreamConfig"):
        pointer = [
            str(Interpolated(k, stream_config.parameters).eval(config))
            for k in stream_config.string_list("configs_pointer", required=True)
        ]
        found = dpath_get(config, pointer) if pointer else config
        values = found if isinstance(found, list) else ([found] if found is not None else [])
        for value in [*values, *stream_config.raw("default_values", [])]:
            yield value, {}


def resolve_dynamic_streams(
    manifest: dict[str, Any], config: dict[str, Any], build_stream: Callable[[Node], DeclarativeStream]
) -> list[tuple[dict[str, Any], str]]:
    """The streams each `dynamic_streams` entry makes, resolved and ready to build (with their paths)."""
    out: list[tuple[dict[str, Any], str]] = []
    for i, raw in enumerate(manifest.get("dynamic_streams") or []):
        path = f"dynamic_streams[{i}]"
        node = Node(raw if isinstance(raw, dict) else {}, path)
        if not isinstance(raw, dict):
            raise node.error("expected a DynamicDeclarativeStream (a mapping)")
        node.expect_type(["DynamicDeclarativeStream"], "a dynamic stream")
        template = node.child("stream_template", required=True, expected="a DeclarativeStream template")
        resolver_raw = node.child("components_resolver", required=True, expected="a components resolver")
        assert template is not None and resolver_raw is not None
        resolver = Node(
            propagate(dict(resolver_raw.data), resolver_raw.path, "DynamicDeclarativeStream.components_resolver"),
            resolver_raw.path,
        )
        mappings = [_Mapping(m) for m in resolver.children("components_mapping", expected="a component mapping")]
        parent_params = node.parameters
        use_parent = node.boolean("use_parent_parameters", True)
        name = node.string("name") or path
        for values, stream_slice in _component_values(resolver, config, build_stream, name):
            stream = copy.deepcopy(dict(template.data))
            own = stream.get(PARAMETERS_KEY) or {}
            merged = {**own, **parent_params} if use_parent else {**parent_params, **own}
            if merged:
                stream[PARAMETERS_KEY] = merged
            context = {
                "components_values": values,
                "stream_slice": stream_slice,
                "stream_template_config": template.data,
            }
            for mapping in mappings:
                mapping.apply(stream, config, context)
            stream.setdefault("type", "DeclarativeStream")
            out.append((propagate(stream, template.path, "DeclarativeSource.streams"), template.path))
    return out
