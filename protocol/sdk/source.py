"""Sources: a Source offers Streams; each Stream is a class of attributes plus `read_records`."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ducto.protocol.messages import Catalog, Spec, SyncMode
from ducto.protocol.messages import Stream as CatalogStream
from ducto.protocol.sdk.spec import load_data_file, load_spec_file

logger = logging.getLogger("ducto.connector")


@dataclass(slots=True)
class ReadContext:
    """What a stream needs to read: the mode, its state and the resolved cursor."""

    sync_mode: SyncMode
    state: dict[str, Any] | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _as_key(pk: str | list[str] | list[list[str]] | None) -> list[list[str]] | None:
    if pk is None:
        return None
    if isinstance(pk, str):
        return [[pk]]
    return [[p] if isinstance(p, str) else list(p) for p in pk]


def _as_path(cursor: str | list[str] | None) -> list[str] | None:
    if cursor is None:
        return None
    return [cursor] if isinstance(cursor, str) else list(cursor)


class Stream:
    """One stream of a source. Subclasses set attributes and implement `read_records`.

    `cursor_field` set means the stream supports incremental reads with a source-defined cursor.
    The default state is `{cursor: max cursor value seen}`; override `get_updated_state` for more.
    """

    name: ClassVar[str] = ""
    primary_key: ClassVar[str | list[str] | list[list[str]] | None] = None
    cursor_field: ClassVar[str | list[str] | None] = None
    json_schema: ClassVar[dict[str, Any] | None] = None
    schema_path: ClassVar[str | None] = None
    namespace: ClassVar[str | None] = None
    checkpoint_interval: ClassVar[int | None] = 10_000
    supports_incremental: ClassVar[bool | None] = None

    def get_json_schema(self) -> dict[str, Any]:
        """The stream's JSON Schema: `json_schema`, or the file `schema_path` beside the class."""
        if self.json_schema is not None:
            return self.json_schema
        if self.schema_path:
            path = Path(inspect.getfile(type(self))).parent / self.schema_path
            schema: dict[str, Any] = load_data_file(path)
            return schema
        return {"type": "object", "additionalProperties": True, "properties": {}}

    def read_records(self, ctx: ReadContext) -> Iterable[Mapping[str, Any]]:
        """Yield the stream's records (dicts) for this read."""
        raise NotImplementedError

    def get_updated_state(
        self, state: dict[str, Any] | None, record: Mapping[str, Any], cursor: list[str]
    ) -> dict[str, Any] | None:
        """Advance the state past `record` (default: keep the greatest cursor value)."""
        value: Any = record
        for part in cursor:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return state
        key = ".".join(cursor)
        current = state.get(key) if state else None
        if current is None or _greater(value, current):
            return {**(state or {}), key: value}
        return state

    def as_catalog_stream(self) -> CatalogStream:
        """The discovered form of this stream."""
        cursor = _as_path(self.cursor_field)
        incremental = self.supports_incremental if self.supports_incremental is not None else bool(cursor)
        return CatalogStream(
            name=self.name,
            json_schema=self.get_json_schema(),
            supported_sync_modes=["full_refresh", "incremental"] if incremental else ["full_refresh"],
            source_defined_cursor=True if cursor else None,
            default_cursor_field=cursor,
            source_defined_primary_key=_as_key(self.primary_key),
            namespace=self.namespace,
        )


def _greater(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:
        return str(a) > str(b)


class Connector:
    """What sources and destinations share: a spec read from a data file and a connection check."""

    spec_path: ClassVar[str] = "spec.yaml"

    def spec(self) -> Spec:
        """The connector's SPEC, read from `spec_path` beside the module of the connector's class.

        Subclasses defined elsewhere (tests, variants) inherit their parent's spec file.
        """
        candidates = [Path(inspect.getfile(c)).parent / self.spec_path for c in type(self).__mro__[:-1]]
        path = next((p for p in candidates if p.exists()), candidates[0])
        return load_spec_file(path)

    def check_connection(self, config: Mapping[str, Any]) -> None:
        """Raise ConfigError when the config cannot work (bad credentials, unreachable host...)."""


class Source(Connector):
    """A source: subclasses implement `streams(config)`."""

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """The streams this source offers for `config`."""
        raise NotImplementedError

    def discover(self, config: Mapping[str, Any]) -> Catalog:
        """The catalog: every stream's discovered form."""
        return Catalog(streams=[s.as_catalog_stream() for s in self.streams(config)])
