"""source-declarative: runs any Airbyte declarative manifest given in the config.

The manifest comes from the config key `__injected_declarative_manifest` (a mapping or YAML text,
as Airbyte's platform injects it) or `__declarative_manifest_path` (a file mounted into the container).
"""

from ducto.protocol.lowcode.connector import INJECTED_MANIFEST_KEY, MANIFEST_PATH_KEY, ManifestSource


def source() -> ManifestSource:
    """A source whose manifest is read from each command's config."""
    return ManifestSource()


__all__ = ["INJECTED_MANIFEST_KEY", "MANIFEST_PATH_KEY", "source"]
