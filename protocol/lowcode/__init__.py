"""Ducto's low-code engine: runs Airbyte declarative manifests (needs the `lowcode` extra)."""

from ducto.protocol.lowcode.context import RuntimeOptions
from ducto.protocol.lowcode.errors import HttpError, LowCodeError, ManifestError
from ducto.protocol.lowcode.source import DeclarativeSource, load_manifest
from ducto.protocol.lowcode.streams import DeclarativeStream, ReadLimits, StateCheckpoint

__all__ = [
    "DeclarativeSource",
    "DeclarativeStream",
    "HttpError",
    "LowCodeError",
    "ManifestError",
    "ReadLimits",
    "RuntimeOptions",
    "StateCheckpoint",
    "load_manifest",
]
