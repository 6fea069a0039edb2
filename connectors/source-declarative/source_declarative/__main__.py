"""`python -m source_declarative spec|check|discover|read ...`"""

from ducto.protocol.sdk import launch
from source_declarative import source

if __name__ == "__main__":
    launch(source())
