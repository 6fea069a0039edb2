"""Connector packages live in connectors/<name>/: put them on sys.path for in-process tests."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
for name in ("destination-duckdb", "destination-local", "destination-dev-null"):
    path = str(ROOT / "connectors" / name)
    if path not in sys.path:
        sys.path.insert(0, path)
