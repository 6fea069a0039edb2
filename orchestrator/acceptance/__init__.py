"""The acceptance suite: `ducto test IMAGE` and the `ducto_acceptance` pytest plugin.

It reads Airbyte's acceptance-test-config.yml format and checks that a connector (an image, or a
local command) honours the Airbyte Protocol: spec, check, discover, read, incremental state.
"""
