"""Manifest loading and resolution: YAML, `#/` references, `$ref`, default types, `$parameters`.

Resolution follows Airbyte's order: references first (a `$ref` dict is merged under the local keys),
then default `type`s by position and `$parameters` pushed down into child components (a child's own
value wins; a missing field of the same name is filled from the parameters).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ducto.protocol.lowcode.errors import ManifestError

REF_KEY = "$ref"
PARAMETERS_KEY = "$parameters"

# "<ParentType>.<field>" -> the type a component at that position gets when it names none.
DEFAULT_TYPES: Mapping[str, str] = {
    "CompositeErrorHandler.error_handlers": "DefaultErrorHandler",
    "DatetimeBasedCursor.end_datetime": "MinMaxDatetime",
    "DatetimeBasedCursor.start_datetime": "MinMaxDatetime",
    "DatetimeBasedCursor.end_time_option": "RequestOption",
    "DatetimeBasedCursor.start_time_option": "RequestOption",
    "IncrementingCountCursor.start_value_option": "RequestOption",
    "DeclarativeSource.check": "CheckStream",
    "DeclarativeSource.spec": "Spec",
    "DeclarativeSource.streams": "DeclarativeStream",
    "ConditionalStreams.streams": "DeclarativeStream",
    "DeclarativeStream.retriever": "SimpleRetriever",
    "StateDelegatingStream.full_refresh_stream": "DeclarativeStream",
    "StateDelegatingStream.incremental_stream": "DeclarativeStream",
    "DeclarativeStream.schema_loader": "JsonFileSchemaLoader",
    "DefaultErrorHandler.response_filters": "HttpResponseFilter",
    "DefaultPaginator.page_size_option": "RequestOption",
    "HttpRequester.error_handler": "DefaultErrorHandler",
    "ListPartitionRouter.request_option": "RequestOption",
    "ParentStreamConfig.request_option": "RequestOption",
    "ParentStreamConfig.stream": "DeclarativeStream",
    "RecordSelector.extractor": "DpathExtractor",
    "RecordSelector.record_filter": "RecordFilter",
    "SimpleRetriever.paginator": "NoPagination",
    "SimpleRetriever.record_selector": "RecordSelector",
    "SimpleRetriever.requester": "HttpRequester",
    "SubstreamPartitionRouter.parent_stream_configs": "ParentStreamConfig",
    "AddFields.fields": "AddedFieldDefinition",
    "SessionTokenAuthenticator.login_requester": "HttpRequester",
    "PropertiesFromEndpoint.retriever": "SimpleRetriever",
    "QueryProperties.property_list": "PropertiesFromEndpoint",
    "QueryProperties.property_chunking": "PropertyChunking",
    "PropertyChunking.record_merge_strategy": "GroupByKeyMergeStrategy",
    "DeclarativeSource.api_budget": "HTTPAPIBudget",
    "FixedWindowCallRatePolicy.matchers": "HttpRequestRegexMatcher",
    "MovingWindowCallRatePolicy.matchers": "HttpRequestRegexMatcher",
    "UnlimitedCallRatePolicy.matchers": "HttpRequestRegexMatcher",
    "HttpComponentsResolver.retriever": "SimpleRetriever",
    "HttpComponentsResolver.components_mapping": "ComponentMappingDefinition",
    "ConfigComponentsResolver.stream_config": "StreamConfig",
    "ConfigComponentsResolver.components_mapping": "ComponentMappingDefinition",
    "ParametrizedComponentsResolver.components_mapping": "ComponentMappingDefinition",
}

# Every component type the engine knows. A mapping whose `type` is something else (a request body
# like `{"type": "search"}`) is data: it gets no default type and no parameters pushed into it.
KNOWN_COMPONENT_TYPES = frozenset(
    [
        "DeclarativeSource",
        "DeclarativeStream",
        "StateDelegatingStream",
        "ConditionalStreams",
        "CheckStream",
        "Spec",
        "SimpleRetriever",
        "HttpRequester",
        "RecordSelector",
        "DpathExtractor",
        "RecordFilter",
        "NoAuth",
        "ApiKeyAuthenticator",
        "BearerAuthenticator",
        "BasicHttpAuthenticator",
        "OAuthAuthenticator",
        "JwtAuthenticator",
        "LegacySessionTokenAuthenticator",
        "SessionTokenAuthenticator",
        "SelectiveAuthenticator",
        "ApiKey",
        "Bearer",
        "DefaultPaginator",
        "NoPagination",
        "PageIncrement",
        "OffsetIncrement",
        "CursorPagination",
        "RequestOption",
        "RequestPath",
        "DatetimeBasedCursor",
        "IncrementingCountCursor",
        "MinMaxDatetime",
        "ListPartitionRouter",
        "SubstreamPartitionRouter",
        "GroupingPartitionRouter",
        "ParentStreamConfig",
        "InlineSchemaLoader",
        "JsonFileSchemaLoader",
        "DefaultErrorHandler",
        "CompositeErrorHandler",
        "HttpResponseFilter",
        "ConstantBackoffStrategy",
        "ExponentialBackoffStrategy",
        "WaitTimeFromHeader",
        "WaitUntilTimeFromHeader",
        "AddFields",
        "AddedFieldDefinition",
        "RemoveFields",
        "KeysToLower",
        "KeysToSnakeCase",
        "KeysReplace",
        "FlattenFields",
        "DpathFlattenFields",
        "KeyTransformation",
        "JsonDecoder",
        "JsonlDecoder",
        "IterableDecoder",
        "CsvDecoder",
        "GzipDecoder",
        "XmlDecoder",
        "RequestBodyJsonObject",
        "RequestBodyUrlEncodedForm",
        "RequestBodyPlainText",
        "RequestBodyGraphQL",
        "QueryProperties",
        "PropertiesFromEndpoint",
        "PropertyChunking",
        "GroupByKeyMergeStrategy",
        "ConfigNormalizationRules",
        "ConfigMigration",
        "ConfigRemapField",
        "ConfigAddFields",
        "ConfigRemoveFields",
        "DpathValidator",
        "PredicateValidator",
        "ValidateAdheresToSchema",
        "AsyncRetriever",
        "HTTPAPIBudget",
        "FixedWindowCallRatePolicy",
        "MovingWindowCallRatePolicy",
        "UnlimitedCallRatePolicy",
        "HttpRequestRegexMatcher",
        "HttpComponentsResolver",
        "ConfigComponentsResolver",
        "ParametrizedComponentsResolver",
        "StreamParametersDefinition",
        "ComponentMappingDefinition",
        "StreamConfig",
        "CustomRetriever",
        "DynamicDeclarativeStream",
    ]
)

# Components that may sit inside a plain mapping (a request body with a "type" key is data, not these).
_NESTED_IN_PLAIN_MAPPINGS = frozenset({"QueryProperties"})

# Component fields whose mappings are data (bodies, options, schemas), never components.
_DATA_FIELDS = frozenset(
    {
        "request_body_json",
        "request_body_data",
        "request_parameters",
        "request_headers",
        "refresh_request_body",
        "refresh_request_headers",
        "value",
        "schema",
        "jwt_headers",
        "jwt_payload",
        "additional_jwt_headers",
        "additional_jwt_payload",
        "connection_specification",
        "map",
        "base_schema",
    }
)

# Top-level keys that hold data, not components.
_DATA_KEYS = frozenset({"definitions", "schemas", "metadata", "dynamic_streams"})


def load_manifest_text(text: str, source: str = "manifest") -> dict[str, Any]:
    """Parse YAML (or JSON) text into a manifest dict; a syntax error names the line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError("", f"{source}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ManifestError("", f"{source}: expected a mapping at the top level, got {_kind(data)}")
    return data


def load_manifest_file(path: str | Path) -> dict[str, Any]:
    """Read a manifest file (YAML or JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError("", f"cannot read manifest {p}: {exc.strerror or exc}") from None
    return load_manifest_text(text, str(p))


def resolve_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of the manifest with references, default types and parameters resolved."""
    referenced = _ReferenceResolver(manifest).resolve()
    if not isinstance(referenced, dict):  # pragma: no cover - the top level is always a dict
        raise ManifestError("", "expected a mapping at the top level")
    referenced.setdefault("type", "DeclarativeSource")
    return _propagate(referenced, "", {}, top_level=True)


class _ReferenceResolver:
    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self._manifest = manifest

    def resolve(self) -> Any:
        return self._evaluate(self._manifest, "", frozenset())

    def _evaluate(self, node: Any, path: str, visiting: frozenset[str]) -> Any:
        if isinstance(node, dict):
            evaluated = {k: self._evaluate(v, _join(path, k), visiting) for k, v in node.items() if k != REF_KEY}
            if REF_KEY not in node:
                return evaluated
            ref = node[REF_KEY]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ManifestError(_join(path, REF_KEY), f"expected a reference like '#/definitions/x', got {ref!r}")
            target = self._evaluate(ref, _join(path, REF_KEY), visiting)
            if not isinstance(target, dict):
                return target
            return {**target, **evaluated}
        if isinstance(node, list):
            return [self._evaluate(v, f"{path}[{i}]", visiting) for i, v in enumerate(node)]
        if isinstance(node, str) and node.startswith("#/"):
            if node in visiting:
                raise ManifestError(path, f"circular reference {node!r}")
            value = self._lookup(node, path)
            return self._evaluate(value, path, visiting | {node})
        return node

    def _lookup(self, ref: str, path: str) -> Any:
        remaining = ref[2:]
        current: Any = self._manifest
        while remaining:
            if isinstance(current, dict) and remaining in current:
                return current[remaining]
            head, _, remaining = remaining.partition("/")
            key: Any = head
            if isinstance(current, list):
                try:
                    key = int(head)
                    current = current[key]
                    continue
                except (ValueError, IndexError):
                    pass
            elif isinstance(current, dict) and head in current:
                current = current[head]
                continue
            raise ManifestError(path, f"undefined reference {ref!r} (no {head!r} there)")
        return current


def propagate(component: dict[str, Any], path: str, field_id: str) -> dict[str, Any]:
    """Default types and `$parameters` for one component (dynamic streams are resolved late)."""
    return _propagate(component, path, {}, field_id)


def _propagate(
    component: dict[str, Any],
    path: str,
    parent_params: Mapping[str, Any],
    field_id: str = "",
    *,
    top_level: bool = False,
) -> dict[str, Any]:
    comp = dict(component)
    if "type" not in comp and "class_name" not in comp:
        default = DEFAULT_TYPES.get(field_id)
        if default:
            comp["type"] = default
    own = comp.pop(PARAMETERS_KEY, None) or {}
    if not isinstance(own, dict):
        raise ManifestError(_join(path, PARAMETERS_KEY), f"expected a mapping, got {_kind(own)}")
    params = {**parent_params, **own}
    if _is_json_schema(comp):
        return comp
    kind = comp.get("type")
    unknown = kind is not None and kind not in KNOWN_COMPONENT_TYPES and not str(kind).startswith("Custom")
    if unknown and field_id.rsplit(".", maxsplit=1)[-1] in _DATA_FIELDS:
        return comp  # a body or option value that happens to have a "type" key
    if "type" not in comp:
        # A plain mapping (request_parameters, ...) may still hold typed components (QueryProperties).
        for name, value in list(comp.items()):
            if isinstance(value, dict) and value.get("type") in _NESTED_IN_PLAIN_MAPPINGS:
                comp[name] = _propagate(value, _join(path, name), params, field_id)
        return comp
    for key, value in params.items():
        comp[key] = comp.get(key) or copy.deepcopy(value)
    comp_type = str(comp["type"])
    for name, value in list(comp.items()):
        if top_level and name in _DATA_KEYS:
            continue
        child_params = {k: v for k, v in params.items() if k != name}
        child_id = f"{comp_type}.{name}"
        if isinstance(value, dict):
            comp[name] = _propagate(value, _join(path, name), child_params, child_id)
        elif isinstance(value, list):
            comp[name] = [
                _propagate(v, f"{_join(path, name)}[{i}]", child_params, child_id) if isinstance(v, dict) else v
                for i, v in enumerate(value)
            ]
    if params:
        comp[PARAMETERS_KEY] = params
    return comp


def _is_json_schema(comp: Mapping[str, Any]) -> bool:
    t = comp.get("type")
    return t in ("object", ["null", "object"], ["object", "null"])


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not path:
        return str(key)
    return f"{path}.{key}"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


class Node:
    """A resolved component with its YAML path, offering typed, path-aware field access."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def parameters(self) -> dict[str, Any]:
        value = self.data.get(PARAMETERS_KEY) or {}
        return dict(value) if isinstance(value, dict) else {}

    def at(self, key: str | int) -> str:
        """The YAML path of one field of this node."""
        return _join(self.path, key)

    def error(self, message: str, key: str | None = None) -> ManifestError:
        return ManifestError(self.at(key) if key is not None else self.path, message)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def require(self, key: str, expected: str) -> Any:
        value = self.data.get(key)
        if value is None or value == "":
            raise self.error(f"missing required field (expected {expected})", key)
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error("missing required field (expected a string)", key)
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"expected a string, got {_kind(value)}", key)
        return str(value)

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise self.error(f"expected true or false, got {value!r}", key)

    def string_list(self, key: str, *, required: bool = False) -> list[str]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error("missing required field (expected a list of strings)", key)
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise self.error(f"expected a list of strings, got {_kind(value)}", key)
        return [str(v) for v in value]

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"expected a mapping, got {_kind(value)}", key)
        return dict(value)

    def child(self, key: str, *, required: bool = False, expected: str = "a component") -> Node | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(f"missing required field (expected {expected})", key)
            return None
        if not isinstance(value, dict):
            raise self.error(f"expected {expected} (a mapping), got {_kind(value)}", key)
        return Node(value, self.at(key))

    def children(self, key: str, *, expected: str = "a component") -> list[Node]:
        value = self.data.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        nodes = []
        for i, item in enumerate(items):
            where = f"{self.at(key)}[{i}]" if isinstance(value, list) else self.at(key)
            if not isinstance(item, dict):
                raise ManifestError(where, f"expected {expected} (a mapping), got {_kind(item)}")
            nodes.append(Node(item, where))
        return nodes

    def expect_type(self, allowed: list[str], what: str) -> str:
        """Check this node's `type` is one of `allowed`; the error lists what is expected."""
        t = self.data.get("type")
        if t in allowed:
            return str(t)
        if t is None and "class_name" in self.data:
            raise self.error(
                f"custom Python components ({self.data['class_name']!r}) are not supported by Ducto's "
                f"low-code engine (expected one of {', '.join(allowed)})"
            )
        if t is not None and str(t).startswith("Custom"):
            raise self.error(
                f"custom components ({t!r}) are not supported (expected one of {', '.join(allowed)})", "type"
            )
        if t is None:
            raise self.error(f"missing 'type' for {what} (expected one of {', '.join(allowed)})")
        raise self.error(f"unknown type {t!r} (expected one of {', '.join(allowed)})", None)
