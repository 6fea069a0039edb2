"""SeatGeek source: a manifest-only connector run by Ducto's low-code engine."""

from pathlib import Path

from ducto.protocol.lowcode.connector import ManifestSource

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")


def source() -> ManifestSource:
    """The SeatGeek source, from the manifest shipped beside this module."""
    return ManifestSource(MANIFEST_PATH)


__all__ = ["MANIFEST_PATH", "source"]
