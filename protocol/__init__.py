"""The Airbyte Protocol for Ducto: messages, fast JSON, and the connector SDK.

This package runs inside connector images, so it stays small and depends only on orjson,
jsonschema and PyYAML.
"""
