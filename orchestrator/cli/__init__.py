"""The `ducto` command line."""
