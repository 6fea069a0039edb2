from ducto.protocol.sdk import launch
from source_faker import SourceFaker

launch(SourceFaker())
