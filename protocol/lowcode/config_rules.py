"""`spec.config_normalization_rules`: config migrations, transformations and validations.

Migrations rewrite an old config into the current shape (the result is reported back to the platform
so it is persisted); transformations adjust the config for this run only; validations reject a
config with a clear message.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import jsonschema

from ducto.protocol import json
from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedBoolean
from ducto.protocol.lowcode.manifest import Node

TRANSFORMATION_TYPES = ["ConfigRemapField", "ConfigAddFields", "ConfigRemoveFields"]
VALIDATOR_TYPES = ["DpathValidator", "PredicateValidator"]


def _get(config: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(config, dict) or key not in config:
            return None
        config = config[key]
    return config


def _set(config: dict[str, Any], path: list[str], value: Any) -> None:
    target = config
    for key in path[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            target[key] = nxt
        target = nxt
    target[path[-1]] = value


def _apply_transformation(node: Node, config: dict[str, Any]) -> None:
    kind = node.expect_type(TRANSFORMATION_TYPES, "a config transformation")
    p = node.parameters
    if kind == "ConfigRemapField":
        mapping = Interpolated(
            node.require("map", "a mapping of old to new values"), p, path=node.at("map"), valid_types=(dict,)
        ).eval(config)
        if not isinstance(mapping, dict):
            raise node.error(f"expected a mapping, got {mapping!r}", "map")
        path = [str(Interpolated(k, p).eval(config)) for k in node.string_list("field_path", required=True)]
        value = _get(config, path)
        if isinstance(value, (str, int, float, bool)) and value in mapping:
            _set(config, path, mapping[value])
        return
    condition = node.string("condition")
    check = InterpolatedBoolean(condition, p, path=node.at("condition")) if condition else None
    if kind == "ConfigAddFields":
        for field in node.children("fields", expected="an AddedFieldDefinition"):
            path = field.string_list("path", required=True)
            value = Interpolated(field.data.get("value"), field.parameters, path=field.at("value")).eval(config)
            if check is None or check.eval(config, property=value):
                _set(config, path, value)
        return
    for pointer in node.raw("field_pointers", []):
        path = [str(k) for k in (pointer if isinstance(pointer, list) else [pointer])]
        value = _get(config, path)
        parent = _get(config, path[:-1]) if len(path) > 1 else config
        if isinstance(parent, dict) and path[-1] in parent and (check is None or check.eval(config, property=value)):
            del parent[path[-1]]


def _schema_of(strategy: Node, config: dict[str, Any]) -> dict[str, Any]:
    strategy.expect_type(["ValidateAdheresToSchema"], "a validation strategy")
    schema = Interpolated(
        strategy.require("base_schema", "a JSON schema"), strategy.parameters, path=strategy.at("base_schema")
    ).eval(config)
    if isinstance(schema, str):
        try:
            schema = json.loads(schema.strip().strip("'"))
        except ValueError:
            raise strategy.error("base_schema is not valid JSON", "base_schema") from None
    if not isinstance(schema, dict):
        raise strategy.error("expected a JSON schema (a mapping)", "base_schema")
    return schema


def _validate(node: Node, config: dict[str, Any]) -> None:
    kind = node.expect_type(VALIDATOR_TYPES, "a config validator")
    strategy = node.child("validation_strategy", required=True, expected="ValidateAdheresToSchema")
    assert strategy is not None
    if kind == "DpathValidator":
        path = node.string_list("field_path", required=True)
        value = _get(config, path)
        where = "/".join(path)
    else:
        value = Interpolated(node.data.get("value"), node.parameters, path=node.at("value")).eval(config)
        where = "value"
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    errors = list(jsonschema.Draft7Validator(_schema_of(strategy, config)).iter_errors(value))
    if errors:
        raise LowCodeError(f"config {where}: {errors[0].message}", CONFIG_ERROR)


def normalize_config(spec: Any, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Apply the rules to a copy of `config`: returns the config for this run, and the migrated config
    to persist when migrations changed it (None otherwise)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config_normalization_rules"), dict):
        return config, None
    rules = Node(spec["config_normalization_rules"], "spec.config_normalization_rules")
    migrated = copy.deepcopy(config)
    for migration in rules.children("config_migrations", expected="a ConfigMigration"):
        for transformation in migration.children("transformations", expected="a config transformation"):
            _apply_transformation(transformation, migrated)
    to_persist = copy.deepcopy(migrated) if migrated != config else None
    for transformation in rules.children("transformations", expected="a config transformation"):
        _apply_transformation(transformation, migrated)
    for validation in rules.children("validations", expected="a config validator"):
        _validate(validation, migrated)
    return migrated, to_persist
