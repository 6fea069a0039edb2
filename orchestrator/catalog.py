"""Building the configured catalog from the source's catalog and the connection's stream list.

Stream fields default from the discovered catalog; every inconsistency (a stream the source does
not have, a sync mode it does not support, a cursor or key not in the schema) is a clear
ConnectionFileError before anything runs.
"""

from __future__ import annotations

from typing import Any

from ducto.orchestrator.connection import Connection, StreamSelection
from ducto.orchestrator.errors import ConnectionFileError


def stream_key(name: str, namespace: str | None) -> str:
    """How the orchestrator names a stream in state and history: `namespace.name` or `name`."""
    return f"{namespace}.{name}" if namespace else name


def build_configured_catalog(
    connection: Connection,
    catalog: dict[str, Any],
    supported_destination_modes: list[str] | None = None,
) -> dict[str, Any]:
    """The configured catalog (`{"streams": [...]}`) for a sync of `connection`."""
    where = str(connection.path.name)
    discovered: dict[tuple[str | None, str], dict[str, Any]] = {}
    for stream in catalog.get("streams") or []:
        if isinstance(stream, dict) and isinstance(stream.get("name"), str):
            discovered[(stream.get("namespace"), stream["name"])] = stream
    selections = connection.streams
    if selections is None:
        selections = [StreamSelection(name=name, namespace=ns) for ns, name in discovered]
    if not selections:
        raise ConnectionFileError(f"{where}: the source's catalog has no streams")
    configured = []
    for selection in selections:
        stream = _find(discovered, selection, where)
        configured.append(_configure(selection, stream, supported_destination_modes, where))
    return {"streams": configured}


def _find(
    discovered: dict[tuple[str | None, str], dict[str, Any]], selection: StreamSelection, where: str
) -> dict[str, Any]:
    stream = discovered.get((selection.namespace, selection.name))
    if stream is None and selection.namespace is None:
        matches = [s for (ns, name), s in discovered.items() if name == selection.name]
        if len(matches) == 1:
            stream = matches[0]
    if stream is None:
        names = ", ".join(sorted(stream_key(name, ns) for ns, name in discovered)) or "none"
        raise ConnectionFileError(
            f"{where}: streams[{selection.name}]: the source has no such stream (it has: {names})"
        )
    return stream


def _configure(
    selection: StreamSelection,
    stream: dict[str, Any],
    supported_destination_modes: list[str] | None,
    where: str,
) -> dict[str, Any]:
    at = f"{where}: streams[{selection.name}]"
    supported = stream.get("supported_sync_modes") or ["full_refresh"]
    source_cursor = bool(stream.get("source_defined_cursor"))
    default_cursor = stream.get("default_cursor_field") or None
    source_pk = stream.get("source_defined_primary_key") or None
    schema = stream.get("json_schema") or {}

    sync_mode = selection.sync_mode
    if sync_mode is None:
        can_increment = "incremental" in supported and (source_cursor or default_cursor or selection.cursor_field)
        sync_mode = "incremental" if can_increment else "full_refresh"
    if sync_mode not in supported:
        raise ConnectionFileError(f"{at}.sync_mode: the source supports only {', '.join(supported)} for this stream")

    cursor_field: list[str] = []
    if sync_mode == "incremental":
        if source_cursor:
            cursor_field = list(default_cursor or [])
            if selection.cursor_field and selection.cursor_field != cursor_field:
                raise ConnectionFileError(
                    f"{at}.cursor_field: the source defines the cursor ({'.'.join(cursor_field) or '?'});"
                    " remove cursor_field"
                )
        else:
            cursor_field = list(selection.cursor_field or default_cursor or [])
            if not cursor_field:
                raise ConnectionFileError(
                    f"{at}: incremental needs a cursor_field (the source suggests none for this stream)"
                )
            _check_field(schema, cursor_field, f"{at}.cursor_field")
    elif selection.cursor_field:
        _check_field(schema, selection.cursor_field, f"{at}.cursor_field")
        cursor_field = list(selection.cursor_field)

    primary_key = selection.primary_key
    if source_pk:
        if primary_key and primary_key != source_pk:
            raise ConnectionFileError(f"{at}.primary_key: the source defines the primary key; remove primary_key")
        primary_key = source_pk
    elif primary_key:
        for path in primary_key:
            _check_field(schema, path, f"{at}.primary_key")

    dsm = selection.destination_sync_mode
    if dsm is None:
        dsm = ("append_dedup" if primary_key else "append") if sync_mode == "incremental" else "overwrite"
        if supported_destination_modes and dsm not in supported_destination_modes:
            dsm = "append" if "append" in supported_destination_modes else supported_destination_modes[0]
    if supported_destination_modes and dsm not in supported_destination_modes:
        raise ConnectionFileError(
            f"{at}.destination_sync_mode: the destination supports only {', '.join(supported_destination_modes)}"
        )
    if dsm == "append_dedup" and not primary_key:
        raise ConnectionFileError(f"{at}.destination_sync_mode: append_dedup needs a primary_key")

    configured: dict[str, Any] = {
        "stream": stream,
        "sync_mode": sync_mode,
        "destination_sync_mode": dsm,
        "cursor_field": cursor_field,
        "primary_key": primary_key or [],
    }
    return configured


def _check_field(schema: dict[str, Any], path: list[str], at: str) -> None:
    """Raise unless `path` names a property of the JSON schema (schemaless objects accept any field)."""
    node: Any = schema
    for depth, part in enumerate(path):
        if not isinstance(node, dict):
            break
        properties = node.get("properties")
        if not isinstance(properties, dict):
            if depth == 0 and not properties and node.get("additionalProperties", True) is not False:
                return  # the stream does not declare its fields: nothing to check against
            break
        if part not in properties:
            known = ", ".join(sorted(properties)) if depth == 0 else ""
            hint = f" (fields: {known})" if known and len(known) < 200 else ""
            raise ConnectionFileError(f"{at}: {'.'.join(path)!r} is not in the stream's schema{hint}")
        node = properties[part]
