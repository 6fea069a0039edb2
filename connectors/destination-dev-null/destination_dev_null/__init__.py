"""destination-dev-null: the destination that discards."""

from destination_dev_null.destination import DestinationDevNull

__all__ = ["DestinationDevNull"]
