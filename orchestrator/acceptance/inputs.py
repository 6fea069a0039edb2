"""Inputs shared by the checks: the actual spec, configs, discovered and configured catalogs, states."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ducto.orchestrator.acceptance.config import ConfigFileError, TestEntry, load_json_file
from ducto.orchestrator.acceptance.framework import CheckFailed, CheckSkipped, Context, fail, short
from ducto.orchestrator.acceptance.runner import RunResult
from ducto.protocol import json
from ducto.protocol.secrets import secret_values

# Property names that hold secrets (Airbyte's list plus a few); matched case-insensitively.
SECRET_NAMES = frozenset(
    (
        "client_token",
        "access_token",
        "api_token",
        "token",
        "secret",
        "client_secret",
        "password",
        "key",
        "api_key",
        "apikey",
        "service_account_info",
        "service_account",
        "tenant_id",
        "certificate",
        "jwt",
        "credentials",
        "app_id",
        "appid",
        "refresh_token",
        "private_key",
    )
)


def looks_secret(name: str) -> bool:
    """Whether a property name says it holds a secret (password, token, api_key, ...)."""
    lowered = name.lower()
    return lowered in SECRET_NAMES or lowered.endswith(("_password", "_token", "_secret"))


def _secrets_by_name(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if looks_secret(str(k)) and isinstance(v, str | int | float) and not isinstance(v, bool) and str(v):
                out.add(str(v))
            else:
                _secrets_by_name(v, out)
    elif isinstance(value, list):
        for v in value:
            _secrets_by_name(v, out)


def register_secrets(ctx: Context, config: dict[str, Any]) -> None:
    """Mask this config's secrets in every report: fields the spec marks, and secret-looking names."""
    found: set[str] = set()
    _secrets_by_name(config, found)
    try:
        spec = actual_spec(ctx)
    except (CheckFailed, CheckSkipped):
        spec = {}
    schema = spec.get("connectionSpecification")
    if isinstance(schema, dict):
        found |= secret_values(config, schema)
    ctx.masker.add(v for v in found if len(v) >= 3)


def describe_failure(result: RunResult) -> str:
    """Why a command did not produce what was expected: exit code, TRACE errors, stderr tail."""
    parts = [f"`{result.command}` ended with {result.describe_exit()}"]
    for err in result.traces("ERROR")[:3]:
        e = err.get("error") or {}
        parts.append(f"TRACE ERROR ({e.get('failure_type')}): {e.get('message')}")
    if result.invalid_lines:
        n, text = result.invalid_lines[0]
        parts.append(f"{len(result.invalid_lines)} stdout line(s) are not protocol messages, first (line {n}): {text}")
    tail = result.stderr_tail(8)
    if tail:
        parts.append("stderr (last lines):\n" + tail)
    return "\n".join(parts)


def spec_run(ctx: Context) -> RunResult:
    """The `spec` command's output (run once)."""
    return ctx.run("spec")


def actual_spec(ctx: Context) -> dict[str, Any]:
    """The SPEC payload; fails when `spec` did not emit exactly one."""

    def compute() -> dict[str, Any]:
        result = spec_run(ctx)
        specs = result.payloads("SPEC", "spec")
        if len(specs) != 1:
            fail(f"`spec` must emit exactly one SPEC message, got {len(specs)}\n{describe_failure(result)}")
        return specs[0]

    value: dict[str, Any] = ctx.memo("spec", compute)
    return value


def raw_connector_config(ctx: Context, path: Path | None) -> dict[str, Any]:
    """The connector config a test entry names, as written (`{local_dir}` not yet replaced)."""
    if path is None:
        raise ConfigFileError("config_path is required for this test")

    def compute() -> dict[str, Any]:
        data = load_json_file(path, "config_path")
        if not isinstance(data, dict):
            raise ConfigFileError(f"config_path {path}: expected a JSON object")
        register_secrets(ctx, data)
        return data

    value: dict[str, Any] = ctx.memo(f"config:{path}", compute)
    return value


def with_local_dir(value: Any, local: str) -> Any:
    """A copy of a config where every `{local_dir}` in a string is replaced by `local`."""
    if isinstance(value, str):
        return value.replace("{local_dir}", local)
    if isinstance(value, dict):
        return {k: with_local_dir(v, local) for k, v in value.items()}
    if isinstance(value, list):
        return [with_local_dir(v, local) for v in value]
    return value


def local_path_for(ctx: Context, local_dir: Path) -> str:
    """How the connector sees a shared folder: its mount point in Docker, the host path otherwise."""
    return ctx.connector.local_mount or str(local_dir)


def connector_config(ctx: Context, path: Path | None) -> dict[str, Any]:
    """The connector config a test entry names, `{local_dir}` pointing at the suite's shared folder."""
    raw = raw_connector_config(ctx, path)
    if "{local_dir}" not in json.dumps(raw).decode():
        return raw
    value: dict[str, Any] = with_local_dir(raw, local_path_for(ctx, ctx.local_dir))
    return value


def discover_run(ctx: Context, config_path: Path | None) -> RunResult:
    """`discover` with that config (run once per config)."""
    return ctx.run("discover", {"config": connector_config(ctx, config_path)})


def discovered_streams(ctx: Context, config_path: Path | None) -> list[dict[str, Any]]:
    """The discovered streams; fails when `discover` did not emit exactly one CATALOG."""

    def compute() -> list[dict[str, Any]]:
        result = discover_run(ctx, config_path)
        catalogs = result.payloads("CATALOG", "catalog")
        if len(catalogs) != 1:
            fail(f"`discover` must emit exactly one CATALOG message, got {len(catalogs)}\n{describe_failure(result)}")
        streams = catalogs[0].get("streams")
        if not isinstance(streams, list):
            fail("the CATALOG has no `streams` list")
        return [s for s in streams if isinstance(s, dict)]

    value: list[dict[str, Any]] = ctx.memo(f"discover:{config_path}", compute)
    return value


def configured_catalog(ctx: Context, entry: TestEntry, *, incremental: bool = False) -> dict[str, Any]:
    """The configured catalog of an entry: its `configured_catalog_path`, or one built from discovery.

    A catalog built from discovery selects every stream in full_refresh/overwrite mode (or, with
    `incremental`, every stream that supports it, with its default cursor). A given catalog's
    streams take the discovered schema when the file leaves it out. With `incremental`, only
    incremental streams are kept. `--stream` filtering applies.
    """
    key = f"catalog:{entry.group}:{entry.index}:{incremental}"

    def compute() -> dict[str, Any]:
        if entry.configured_catalog_path is not None:
            data = load_json_file(entry.configured_catalog_path, "configured_catalog_path")
            if not isinstance(data, dict) or not isinstance(data.get("streams"), list):
                raise ConfigFileError(f"configured_catalog_path {entry.configured_catalog_path}: no `streams` list")
            catalog = copy.deepcopy(data)
            discovered = {s.get("name"): s for s in discovered_streams(ctx, entry.config_path)}
            for cs in catalog["streams"]:
                name = (cs.get("stream") or {}).get("name")
                if name in discovered and not cs["stream"].get("json_schema"):
                    cs["stream"] = copy.deepcopy(discovered[name])
        else:
            streams = []
            for s in discovered_streams(ctx, entry.config_path):
                modes = s.get("supported_sync_modes") or []
                if incremental and "incremental" not in modes:
                    continue
                entry_stream: dict[str, Any] = {
                    "stream": s,
                    "sync_mode": "incremental" if incremental else "full_refresh",
                    "destination_sync_mode": "append" if incremental else "overwrite",
                }
                if incremental and s.get("default_cursor_field"):
                    entry_stream["cursor_field"] = s["default_cursor_field"]
                if s.get("source_defined_primary_key"):
                    entry_stream["primary_key"] = s["source_defined_primary_key"]
                streams.append(entry_stream)
            catalog = {"streams": streams}
        if incremental:
            catalog["streams"] = [cs for cs in catalog["streams"] if cs.get("sync_mode") == "incremental"]
            for cs in catalog["streams"]:
                if not cs.get("cursor_field") and (cs["stream"].get("default_cursor_field")):
                    cs["cursor_field"] = cs["stream"]["default_cursor_field"]
        catalog["streams"] = [cs for cs in catalog["streams"] if ctx.wants_stream(stream_name(cs))]
        return catalog

    value: dict[str, Any] = ctx.memo(key, compute)
    return value


def stream_name(configured_stream: dict[str, Any]) -> str:
    """The name of a configured stream."""
    return str((configured_stream.get("stream") or {}).get("name"))


def only_stream(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    """A catalog with just one of its streams."""
    return {**catalog, "streams": [cs for cs in catalog["streams"] if stream_name(cs) == name]}


def get_path(data: Any, path: list[str]) -> tuple[bool, Any]:
    """Follow a field path into a record: (found, value)."""
    value = data
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def schema_has_path(schema: Any, path: list[str]) -> bool:
    """Whether a JSON Schema declares the nested property `path` (through `properties`)."""
    node = schema
    for part in path:
        if not isinstance(node, dict):
            return False
        props = node.get("properties")
        if not isinstance(props, dict) or part not in props:
            return False
        node = props[part]
    return True


def state_stream_name(state: dict[str, Any]) -> str | None:
    """The stream a STATE payload is about (None for GLOBAL or LEGACY)."""
    stream = state.get("stream")
    if isinstance(stream, dict):
        desc = stream.get("stream_descriptor") or {}
        name = desc.get("name")
        return str(name) if name is not None else None
    return None


def state_input(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The state file for a next read: the latest STATE of each stream (and the latest GLOBAL)."""
    latest: dict[str, dict[str, Any]] = {}
    for s in states:
        kind = s.get("type")
        if kind == "GLOBAL":
            latest["\0global"] = {"type": "GLOBAL", "global": s.get("global")}
        elif kind == "STREAM" or (kind is None and "stream" in s):
            name = state_stream_name(s)
            if name is not None:
                latest[name] = {"type": "STREAM", "stream": s["stream"]}
    return list(latest.values())


def record_key(record_data: dict[str, Any], primary_key: list[list[str]]) -> tuple[Any, ...]:
    """The primary key values of a record as a hashable tuple."""
    return tuple(short(get_path(record_data, p)[1], 200) for p in primary_key)


def primary_key_of(configured_stream: dict[str, Any]) -> list[list[str]]:
    """The key to identify records by: source-defined first, then the configured one."""
    stream = configured_stream.get("stream") or {}
    pk = stream.get("source_defined_primary_key") or configured_stream.get("primary_key") or []
    return [[str(p) for p in part] if isinstance(part, list) else [str(part)] for part in pk]


def cursor_of(configured_stream: dict[str, Any]) -> list[str] | None:
    """The cursor path: source-defined wins, then the configured one, then the default."""
    stream = configured_stream.get("stream") or {}
    if stream.get("source_defined_cursor") and stream.get("default_cursor_field"):
        return [str(p) for p in stream["default_cursor_field"]]
    cursor = configured_stream.get("cursor_field") or stream.get("default_cursor_field")
    return [str(p) for p in cursor] if cursor else None
