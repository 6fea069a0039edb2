"""source-faker: realistic fake users, products and purchases, deterministic by seed."""

from source_faker.source import SourceFaker

__all__ = ["SourceFaker"]
