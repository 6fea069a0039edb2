from destination_local import DestinationLocal
from ducto.protocol.sdk import launch

launch(DestinationLocal())
