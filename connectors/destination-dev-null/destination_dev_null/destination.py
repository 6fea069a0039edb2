"""destination-dev-null: reads every message, keeps nothing, and echoes each STATE (benchmarks, tests)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ducto.protocol.messages import ConfiguredCatalog
from ducto.protocol.sdk import Destination, RecordBatch

logger = logging.getLogger("ducto.connector")


class DestinationDevNull(Destination):
    """Discards records. Lines are routed but not parsed, so the SDK's own cost is what gets measured;
    `validate_records: true` parses each record instead (to check a source's output is well formed)."""

    parse_records = False

    def open(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> None:
        """Choose the mode and reset the counters."""
        self.parse_records = bool(config.get("validate_records", False))
        self.discarded: dict[str, int] = {}

    def write_batch(self, batch: RecordBatch) -> None:
        """Count and forget."""
        name = batch.stream.stream.name
        self.discarded[name] = self.discarded.get(name, 0) + len(batch.lines)

    def close(self, success: bool) -> None:
        """Say how much was thrown away."""
        for name, count in sorted(getattr(self, "discarded", {}).items()):
            logger.info("stream '%s': %d records discarded", name, count)
