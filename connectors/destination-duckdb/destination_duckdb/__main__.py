from destination_duckdb import DestinationDuckDB
from ducto.protocol.sdk import launch

launch(DestinationDuckDB())
