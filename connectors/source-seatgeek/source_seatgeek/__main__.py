"""`python -m source_seatgeek spec|check|discover|read ...`"""

from ducto.protocol.sdk import launch
from source_seatgeek import source

if __name__ == "__main__":
    launch(source())
