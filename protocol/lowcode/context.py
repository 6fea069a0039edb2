"""What every component builder needs: the config, the HTTP session, runtime options, masking."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ducto.protocol.lowcode.tracing import Masker


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


@dataclass
class RuntimeOptions:
    """Knobs that are not part of a manifest: timeouts, backoff caps (tests keep waits tiny)."""

    request_timeout: float = 60.0
    # Upper bound on one backoff wait, in seconds (None: as the API/manifest says, up to 10 minutes).
    max_backoff_seconds: float | None = field(default_factory=lambda: _env_float("DUCTO_LOWCODE_MAX_BACKOFF_SECONDS"))
    # Factor of the default exponential backoff (factor * 2**attempt) when the manifest names none.
    default_backoff_factor: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    user_agent: str = "ducto-lowcode/0.1"

    def cap(self, seconds: float) -> float:
        limit = 600.0 if self.max_backoff_seconds is None else self.max_backoff_seconds
        return max(0.0, min(seconds, limit))


@dataclass
class BuildContext:
    """Shared by all components of one source."""

    config: dict[str, Any]
    manifest: dict[str, Any]
    options: RuntimeOptions
    masker: Masker
    session: requests.Session
    base_dir: Path | None = None
    on_config_update: Callable[[dict[str, Any]], None] | None = None
    # Client-side call-rate policies (manifest `api_budget`); an ApiBudget, typed loosely to avoid a cycle.
    api_budget: Any = None
