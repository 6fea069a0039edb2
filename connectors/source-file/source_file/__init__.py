"""source-file: CSV, JSON Lines, JSON and Parquet files from local paths or HTTP(S) URLs."""

from source_file.source import SourceFile

__all__ = ["SourceFile"]
