"""destination-duckdb: the embedded warehouse destination."""

from destination_duckdb.destination import DestinationDuckDB

__all__ = ["DestinationDuckDB"]
