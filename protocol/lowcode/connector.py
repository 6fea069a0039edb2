"""The engine as an SDK connector: `launch(ManifestSource(...))` runs a manifest with Airbyte's commands.

`spec` comes from the manifest's `spec`, `check` reads the `check.stream_names` streams, `discover`
lists the streams with their schemas, `read` emits records and a state per completed slice.
Without a fixed manifest (the source-declarative image) the manifest comes from the config:
`__injected_declarative_manifest` (a mapping or YAML text) or `__declarative_manifest_path` (a file).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ducto.protocol.errors import ConfigError
from ducto.protocol.lowcode.context import RuntimeOptions
from ducto.protocol.lowcode.errors import LowCodeError
from ducto.protocol.lowcode.manifest import resolve_manifest
from ducto.protocol.lowcode.source import DeclarativeSource, load_manifest, spec_of
from ducto.protocol.lowcode.streams import DeclarativeStream, StateCheckpoint
from ducto.protocol.messages import Control, ControlConnectorConfig, Spec, now_ms
from ducto.protocol.sdk.logging_handler import ProtocolLogHandler
from ducto.protocol.sdk.source import ReadContext, Source, Stream
from ducto.protocol.sdk.spec import validate_config

INJECTED_MANIFEST_KEY = "__injected_declarative_manifest"
MANIFEST_PATH_KEY = "__declarative_manifest_path"
_INTERNAL_KEYS = (INJECTED_MANIFEST_KEY, MANIFEST_PATH_KEY, "__injected_components_py", "__injected_manifest_path")

GENERIC_SPEC: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Declarative manifest source",
    "type": "object",
    "properties": {
        INJECTED_MANIFEST_KEY: {
            "title": "Manifest",
            "description": "The declarative manifest (a mapping, or its YAML text).",
            "type": ["object", "string"],
        },
        MANIFEST_PATH_KEY: {
            "title": "Manifest path",
            "description": "Path of a manifest file mounted into the container.",
            "type": "string",
        },
    },
    "additionalProperties": True,
}


logger = logging.getLogger("ducto.connector")


def emit_config_update(config: dict[str, Any]) -> None:
    """Ask the platform to persist an updated config (CONTROL message), e.g. a rotated refresh token."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ProtocolLogHandler):
            handler.writer.write(Control("CONNECTOR_CONFIG", float(now_ms()), ControlConnectorConfig(config)))
            return
    logger.warning("the config changed (rotated credentials) but no protocol writer is active to report it")


class ManifestStream(Stream):
    """An SDK stream backed by one DeclarativeStream; state comes from the engine's slice checkpoints."""

    engine: ClassVar[DeclarativeStream]

    def __init__(self) -> None:
        self._latest_state: dict[str, Any] | None = None

    def get_json_schema(self) -> dict[str, Any]:
        return self.engine.json_schema()

    def read_records(self, ctx: ReadContext) -> Iterable[Mapping[str, Any]]:
        return self._records(ctx)

    def _records(self, ctx: ReadContext) -> Iterator[Mapping[str, Any]]:
        # A record is handed over only once the next item is known, so a slice's closing state is
        # already recorded when the SDK asks for the state after the slice's last record.
        self._latest_state = None
        pending: dict[str, Any] | None = None
        for item in self.engine.read(ctx.state, incremental=ctx.sync_mode == "incremental"):
            if isinstance(item, StateCheckpoint):
                self._latest_state = item.state
                continue
            if pending is not None:
                yield pending
            pending = item
        if pending is not None:
            yield pending

    def get_updated_state(
        self, state: dict[str, Any] | None, record: Mapping[str, Any], cursor: list[str]
    ) -> dict[str, Any] | None:
        return self._latest_state if self._latest_state is not None else state


def _stream_class(engine: DeclarativeStream) -> type[ManifestStream]:
    attrs: dict[str, Any] = {
        "name": engine.name,
        "engine": engine,
        "primary_key": engine.primary_key or None,
        "cursor_field": engine.cursor_field or None,
        "supports_incremental": engine.supports_incremental,
        "checkpoint_interval": 1000,
    }
    return type(f"ManifestStream_{engine.name}", (ManifestStream,), attrs)


class ManifestSource(Source):
    """A Source running a declarative manifest (fixed, or taken from the config)."""

    def __init__(
        self,
        manifest: Mapping[str, Any] | str | Path | None = None,
        *,
        options: RuntimeOptions | None = None,
    ) -> None:
        self._fixed = load_manifest(manifest) if manifest is not None else None
        self._options = options
        self._built: tuple[str, DeclarativeSource] | None = None

    def _manifest_for(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], Path | None]:
        if self._fixed is not None:
            return self._fixed
        injected = config.get(INJECTED_MANIFEST_KEY)
        if isinstance(injected, Mapping):
            return dict(injected), None
        if isinstance(injected, str) and injected.strip():
            return load_manifest(injected if "\n" in injected else injected + "\n")
        path = config.get(MANIFEST_PATH_KEY)
        if isinstance(path, str) and path:
            if not Path(path).is_file():
                raise ConfigError(f"config {MANIFEST_PATH_KEY}: no manifest file at {path}")
            return load_manifest(Path(path))
        raise ConfigError(
            f"the config has no manifest: set {INJECTED_MANIFEST_KEY} (the manifest) "
            f"or {MANIFEST_PATH_KEY} (a file path)"
        )

    def declarative(self, config: Mapping[str, Any]) -> DeclarativeSource:
        """The engine for this config (built once per distinct config)."""
        key = json.dumps(config, sort_keys=True, default=str)
        if self._built is not None and self._built[0] == key:
            return self._built[1]
        manifest, folder = self._manifest_for(config)
        user_config = {k: v for k, v in config.items() if k not in _INTERNAL_KEYS}

        def on_update(updated: dict[str, Any]) -> None:
            internal = {k: v for k, v in config.items() if k in _INTERNAL_KEYS}
            emit_config_update({**internal, **updated})

        source = DeclarativeSource(
            manifest, user_config, options=self._options, base_dir=folder, on_config_update=on_update
        )
        spec = source.spec()
        if self._fixed is None:
            validate_config(user_config, Spec(connection_specification=spec["connectionSpecification"]))
        self._built = (key, source)
        return source

    def spec(self) -> Spec:
        if self._fixed is None:
            return Spec(connection_specification=copy.deepcopy(GENERIC_SPEC))
        spec = spec_of(resolve_manifest(self._fixed[0]))
        return Spec(
            connection_specification=spec["connectionSpecification"],
            documentation_url=spec.get("documentationUrl"),
            advanced_auth=spec.get("advanced_auth"),
        )

    def check_connection(self, config: Mapping[str, Any]) -> None:
        try:
            ok, reason = self.declarative(config).check()
        except LowCodeError as exc:
            raise ConfigError(exc.message) from None
        if not ok:
            raise ConfigError(reason or "the check stream could not be read")

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [_stream_class(engine)() for engine in self.declarative(config).streams()]
