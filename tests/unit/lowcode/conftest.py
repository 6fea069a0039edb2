"""Helpers for low-code engine tests: real local HTTP servers (pytest-httpserver), tiny backoffs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ducto.protocol.lowcode import DeclarativeSource, RuntimeOptions, StateCheckpoint

FAST = RuntimeOptions(max_backoff_seconds=0.01, request_timeout=5)


def stream_manifest(
    url_base: str, stream: dict[str, Any], *, extra_streams: list[dict[str, Any]] | None = None, **top: Any
) -> dict[str, Any]:
    """A one-stream manifest with the given stream dict (its requester gets url_base if missing)."""
    stream = copy.deepcopy(stream)
    requester = stream.setdefault("retriever", {}).setdefault("requester", {})
    if "url" not in requester:
        requester.setdefault("url_base", url_base)
    stream["retriever"].setdefault("record_selector", {"extractor": {"field_path": []}})
    manifest: dict[str, Any] = {
        "version": "6.0.0",
        "type": "DeclarativeSource",
        "check": {"stream_names": [stream["name"]]},
        "streams": [stream, *(extra_streams or [])],
    }
    manifest.update(top)
    return manifest


def read_all(
    source: DeclarativeSource, name: str, state: dict[str, Any] | None = None, **kwargs: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for item in source.stream(name).read(state, **kwargs):
        if isinstance(item, StateCheckpoint):
            states.append(item.state)
        else:
            records.append(item)
    return records, states


def make_source(manifest: dict[str, Any], config: dict[str, Any] | None = None) -> DeclarativeSource:
    return DeclarativeSource(manifest, config or {}, options=FAST)


@pytest.fixture
def base(httpserver: Any) -> str:
    return str(httpserver.url_for("/")).rstrip("/")
