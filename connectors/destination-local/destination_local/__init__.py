"""destination-local: files per stream under the mounted local directory."""

from destination_local.destination import DestinationLocal

__all__ = ["DestinationLocal"]
