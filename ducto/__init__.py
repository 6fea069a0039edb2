"""Ducto: an open runtime for Airbyte-protocol data connectors."""

__version__ = "0.1.0"
