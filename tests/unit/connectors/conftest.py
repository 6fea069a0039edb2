"""Connector packages live in connectors/<name>/: put them on sys.path for in-process tests."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
for name in ("destination-duckdb", "destination-local", "destination-dev-null"):
    path = str(ROOT / "connectors" / name)
    if path not in sys.path:
        sys.path.insert(0, path)
