from ducto.protocol.sdk import launch
from source_file import SourceFile

launch(SourceFile())
