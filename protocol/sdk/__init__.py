"""The connector SDK: write a Source or Destination as a class; `launch` is the whole `__main__`."""

from ducto.protocol.errors import ConfigError, ConnectorError, FailureType, TransientError
from ducto.protocol.sdk.destination import Destination, RecordBatch
from ducto.protocol.sdk.entrypoint import launch, run
from ducto.protocol.sdk.source import ReadContext, Source, Stream

__all__ = [
    "ConfigError",
    "ConnectorError",
    "Destination",
    "FailureType",
    "ReadContext",
    "RecordBatch",
    "Source",
    "Stream",
    "TransientError",
    "launch",
    "run",
]
