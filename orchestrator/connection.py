"""The connection file: which source feeds which destination, with which streams.

```yaml
name: sales                      # optional; defaults to the file name without extension
source:      {image: ducto/source-faker:dev, config: {count: 1000, seed: 42}}
destination: {image: ducto/destination-duckdb:dev, config: {path: /local/warehouse.duckdb}}
streams:                         # optional; all streams with their defaults when omitted
  - {name: users, sync_mode: incremental, destination_sync_mode: append_dedup}
local_dir: .ducto/local          # mounted at /local in Docker connectors
hang_timeout: 30m                # a connector silent this long fails the sync (default 30m)
```

A connector has `image:` (docker runner) or `command:` (process runner), `config:` (a mapping
or a path to a YAML/JSON file), and optionally `env:` (variables; in Docker they are sourced from
a mounted file, so they stay out of `docker inspect`), and for images `memory:` (default 2g),
`user:` (numeric uid[:gid], default the image's non-root user or 1000:1000) and `network:`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ducto.orchestrator.errors import ConnectionFileError, UsageError
from ducto.orchestrator.substitution import Substituter

SYNC_MODES = ("full_refresh", "incremental")
DESTINATION_SYNC_MODES = ("append", "overwrite", "append_dedup")
DEFAULT_HANG_TIMEOUT = 1800.0
DEFAULT_MEMORY = "2g"

_CONNECTOR_KEYS = {"image", "command", "config", "memory", "user", "env", "network"}
_STREAM_KEYS = {"name", "namespace", "sync_mode", "destination_sync_mode", "cursor_field", "primary_key"}
_TOP_KEYS = {"name", "source", "destination", "streams", "local_dir", "hang_timeout"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


@dataclass
class ConnectorDef:
    """How to run one connector: an image (docker runner) or a command (process runner)."""

    role: str
    image: str | None = None
    command: list[str] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    memory: str | None = DEFAULT_MEMORY
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None
    network: str | None = None

    @property
    def runner(self) -> str:
        """`docker` for an image, `process` for a local command."""
        return "docker" if self.image else "process"

    @property
    def label(self) -> str:
        """What to call this connector in messages (never includes its config)."""
        return self.image or shlex.join(self.command or [])


@dataclass
class StreamSelection:
    """One stream as written in the connection file; unset fields default from the catalog."""

    name: str
    namespace: str | None = None
    sync_mode: str | None = None
    destination_sync_mode: str | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None


@dataclass
class Connection:
    """A parsed, substituted and shape-checked connection file."""

    name: str
    path: Path
    source: ConnectorDef
    destination: ConnectorDef
    streams: list[StreamSelection] | None
    local_dir: Path
    hang_timeout: float
    secrets: set[str] = field(default_factory=set)

    @property
    def base_dir(self) -> Path:
        """The directory holding the connection file."""
        return self.path.parent


def parse_duration(value: Any, where: str) -> float:
    """Seconds from `90`, `"90s"`, `"10m"`, `"2h"` or `"500ms"`."""
    if isinstance(value, bool):
        raise ConnectionFileError(f"{where}: expected a duration like 600, '10m' or '2h', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConnectionFileError(f"{where}: expected a duration like 600, '10m' or '2h', got {value!r}")
        unit = match.group(2) or "s"
        seconds = float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if seconds <= 0:
        raise ConnectionFileError(f"{where}: the duration must be positive")
    return seconds


def load_yaml_file(path: Path, what: str) -> Any:
    """Read a YAML (or JSON) file, turning every failure into one clear line."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{path}:{where}: {problem}") from None


def load_config_file(path: Path, environ: dict[str, str] | None = None) -> tuple[dict[str, Any], set[str]]:
    """A connector config file (YAML or JSON) with references substituted; returns (config, secrets)."""
    data = load_yaml_file(path, "config file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a connector config must be a mapping")
    substituter = Substituter(path.parent, str(path), environ)
    config = substituter.resolve(data, "config")
    return config, substituter.secrets


def load_connection(
    path: str | Path, environ: dict[str, str] | None = None, *, resolve_secrets: bool = True
) -> Connection:
    """Parse a connection file; every problem raises ConnectionFileError naming file and key.

    With `resolve_secrets=False`, references that cannot be resolved stay as written: enough for
    commands that only need the connection's name and location (state, runs).
    """
    file_path = Path(path).expanduser().resolve()
    where = str(path)
    data = load_yaml_file(file_path, "connection file")
    if not isinstance(data, dict):
        raise ConnectionFileError(f"{where}: a connection file must be a mapping with source and destination")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConnectionFileError(f"{where}: unknown key {unknown[0]!r} (expected: {', '.join(sorted(_TOP_KEYS))})")
    substituter = Substituter(file_path.parent, where, environ, strict=resolve_secrets)
    source = _connector(data, "source", substituter, file_path.parent, where)
    destination = _connector(data, "destination", substituter, file_path.parent, where)
    streams = _streams(data.get("streams"), where)
    name = data.get("name", file_path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ConnectionFileError(f"{where}: name: use letters, digits, '_', '-' and '.' only")
    local_dir = Path(str(data.get("local_dir", ".ducto/local"))).expanduser()
    if not local_dir.is_absolute():
        local_dir = file_path.parent / local_dir
    hang_timeout = DEFAULT_HANG_TIMEOUT
    if data.get("hang_timeout") is not None:
        hang_timeout = parse_duration(data["hang_timeout"], f"{where}: hang_timeout")
    return Connection(
        name=name,
        path=file_path,
        source=source,
        destination=destination,
        streams=streams,
        local_dir=local_dir,
        hang_timeout=hang_timeout,
        secrets=substituter.secrets,
    )


def _connector(data: dict[str, Any], role: str, sub: Substituter, base_dir: Path, where: str) -> ConnectorDef:
    raw = data.get(role)
    if raw is None:
        raise ConnectionFileError(f"{where}: {role}: missing (give it an image: or a command:)")
    if not isinstance(raw, dict):
        raise ConnectionFileError(f"{where}: {role}: expected a mapping with image: or command:")
    unknown = sorted(set(raw) - _CONNECTOR_KEYS)
    if unknown:
        raise ConnectionFileError(
            f"{where}: {role}.{unknown[0]}: unknown key (expected: {', '.join(sorted(_CONNECTOR_KEYS))})"
        )
    image, command = raw.get("image"), raw.get("command")
    if (image is None) == (command is None):
        raise ConnectionFileError(f"{where}: {role}: give exactly one of image: (docker) or command: (process)")
    if image is not None and (not isinstance(image, str) or not image.strip()):
        raise ConnectionFileError(f"{where}: {role}.image: expected an image name like ducto/source-x:dev")
    argv: list[str] | None = None
    if command is not None:
        if isinstance(command, str):
            argv = shlex.split(command)
        elif isinstance(command, list) and all(isinstance(part, str) for part in command):
            argv = list(command)
        if not argv:
            raise ConnectionFileError(f"{where}: {role}.command: expected a command line or a list of strings")
    config = raw.get("config", {})
    if isinstance(config, str):
        config_path = Path(config).expanduser()
        if not config_path.is_absolute():
            config_path = base_dir / config_path
        config = load_yaml_file(config_path, f"{role} config file")
        if config is None:
            config = {}
    if not isinstance(config, dict):
        raise ConnectionFileError(f"{where}: {role}.config: expected a mapping (or the path of a YAML/JSON file)")
    env = raw.get("env") or {}
    if not isinstance(env, dict):
        raise ConnectionFileError(f"{where}: {role}.env: expected a mapping of variable names to values")
    for key in env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)):
            raise ConnectionFileError(f"{where}: {role}.env.{key}: not a valid environment variable name")
    memory = raw.get("memory", DEFAULT_MEMORY)
    if memory is not None and not re.fullmatch(r"\d+[bkmgBKMG]?", str(memory)):
        raise ConnectionFileError(f"{where}: {role}.memory: expected a size like 512m or 2g, got {memory!r}")
    user = raw.get("user")
    network = raw.get("network")
    if network is not None and (not isinstance(network, str) or not network):
        raise ConnectionFileError(f"{where}: {role}.network: expected a Docker network name (bridge, host, none, ...)")
    return ConnectorDef(
        role=role,
        image=image.strip() if isinstance(image, str) else None,
        command=argv,
        config=sub.resolve(config, f"{role}.config"),
        memory=str(memory) if memory is not None else None,
        user=str(user) if user is not None else None,
        env={str(k): str(sub.resolve(v, f"{role}.env.{k}")) for k, v in env.items()},
        workdir=base_dir,
        network=network,
    )


def _streams(raw: Any, where: str) -> list[StreamSelection] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ConnectionFileError(f"{where}: streams: expected a non-empty list (or leave it out for all streams)")
    selections: list[StreamSelection] = []
    seen: set[tuple[str | None, str]] = set()
    for index, raw_item in enumerate(raw):
        at = f"{where}: streams[{index}]"
        item = {"name": raw_item} if isinstance(raw_item, str) else raw_item
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConnectionFileError(f"{at}: expected a stream name or a mapping with name:")
        at = f"{where}: streams[{item['name']}]"
        unknown = sorted(set(item) - _STREAM_KEYS)
        if unknown:
            raise ConnectionFileError(f"{at}.{unknown[0]}: unknown key (expected: {', '.join(sorted(_STREAM_KEYS))})")
        sync_mode = item.get("sync_mode")
        if sync_mode is not None and sync_mode not in SYNC_MODES:
            raise ConnectionFileError(f"{at}.sync_mode: {sync_mode!r} is not one of {', '.join(SYNC_MODES)}")
        dsm = item.get("destination_sync_mode")
        if dsm is not None and dsm not in DESTINATION_SYNC_MODES:
            raise ConnectionFileError(
                f"{at}.destination_sync_mode: {dsm!r} is not one of {', '.join(DESTINATION_SYNC_MODES)}"
            )
        namespace = item.get("namespace")
        key = (namespace, item["name"])
        if key in seen:
            raise ConnectionFileError(f"{at}: listed twice")
        seen.add(key)
        selections.append(
            StreamSelection(
                name=item["name"],
                namespace=namespace,
                sync_mode=sync_mode,
                destination_sync_mode=dsm,
                cursor_field=_field_path(item.get("cursor_field"), f"{at}.cursor_field"),
                primary_key=_primary_key(item.get("primary_key"), f"{at}.primary_key"),
            )
        )
    return selections


def _field_path(value: Any, at: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(p, str) and p for p in value):
        return list(value)
    raise ConnectionFileError(f"{at}: expected a field name or a list of nested field names")


def _primary_key(value: Any, at: str) -> list[list[str]] | None:
    """Normalise `id`, `[id, region]` or `[[id], [meta, region]]` to a list of field paths."""
    if value is None:
        return None
    if isinstance(value, str) and value:
        return [[value]]
    if isinstance(value, list) and value:
        paths: list[list[str]] = []
        for part in value:
            path = _field_path(part, at)
            assert path is not None
            paths.append(path)
        return paths
    raise ConnectionFileError(f"{at}: expected a field name, a list of names, or a list of field paths")
