from ducto.protocol.sdk import launch

from destination_duckdb import DestinationDuckDB

launch(DestinationDuckDB())
