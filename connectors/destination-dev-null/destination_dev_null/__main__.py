from destination_dev_null import DestinationDevNull
from ducto.protocol.sdk import launch

launch(DestinationDevNull())
