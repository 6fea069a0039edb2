"""Where files come from: local paths (globs allowed) and HTTP(S) URLs, opened as streams.

Everything is opened as a binary stream and read incrementally; gzip is recognised by the `.gz`
suffix or the magic bytes, and decompressed on the fly. Formats that need random access (Parquet)
ask for a local path: remote or compressed files are spooled to a temporary file first, in chunks.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import http.client
import io
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from ducto.protocol.sdk import ConfigError, ConnectorError, TransientError

GZIP_MAGIC = b"\x1f\x8b"
USER_AGENT = "ducto-source-file/0.1"
CHUNK = 1 << 20


class FileError(ConfigError):
    """A file that cannot be read as configured: the message names the file and the line or row."""


@dataclass(frozen=True, slots=True)
class Location:
    """One file to read: a local path or a URL."""

    uri: str
    is_url: bool

    @property
    def name(self) -> str:
        """The file name without folders or query string (used to guess the format)."""
        path = urllib.parse.urlsplit(self.uri).path if self.is_url else self.uri
        return PurePosixPath(path).name or self.uri

    def display(self) -> str:
        """How errors name the file: the path, or the URL without its query string and credentials."""
        if not self.is_url:
            return self.uri
        parts = urllib.parse.urlsplit(self.uri)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def is_url(path_or_url: str) -> bool:
    """True for http:// and https:// addresses."""
    return path_or_url.lower().startswith(("http://", "https://"))


def resolve(path_or_url: str) -> list[Location]:
    """The files a stream reads: a URL, a local file, or every file matching a local glob (sorted)."""
    if is_url(path_or_url):
        return [Location(path_or_url, True)]
    path = path_or_url.removeprefix("file://")
    path = str(Path(path).expanduser())
    if glob.has_magic(path):
        matches = sorted(p for p in glob.glob(path, recursive=True) if Path(p).is_file())  # noqa: PTH207
        if not matches:
            raise ConfigError(f"no file matches {path}")
        return [Location(p, False) for p in matches]
    if not Path(path).exists():
        raise ConfigError(f"{path}: no such file (local paths are read inside the container: use /local/...)")
    if Path(path).is_dir():
        raise ConfigError(f"{path} is a folder: give a file or a glob such as {path.rstrip('/')}/*.csv")
    return [Location(path, False)]


class CheckedBody(io.RawIOBase):
    """An HTTP body that fails when the connection ends before `Content-Length` bytes arrived.

    (`http.client` reports a short body as a normal end of data when read with `readinto`.)
    """

    def __init__(self, response: http.client.HTTPResponse) -> None:
        super().__init__()
        self.response = response
        length = response.getheader("Content-Length")
        self.expected = int(length) if length and length.isdigit() else None
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.response.readinto(buffer)
        self.received += n
        if n == 0 and len(buffer) and self.expected is not None and self.received < self.expected:
            raise http.client.IncompleteRead(b"", self.expected - self.received)
        return n

    def close(self) -> None:
        self.response.close()
        super().close()


def _open_raw(location: Location, timeout: float) -> BinaryIO:
    if not location.is_url:
        try:
            return open(location.uri, "rb")
        except OSError as exc:
            raise FileError(f"{location.display()}: cannot open ({exc.strerror})") from None
    request = urllib.request.Request(location.uri, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        message = f"{location.display()}: HTTP {exc.code} {exc.reason}"
        if exc.code in (408, 429) or exc.code >= 500:
            raise TransientError(message) from None
        raise FileError(message) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientError(f"{location.display()}: cannot connect ({reason})") from None
    return io.BufferedReader(CheckedBody(response), CHUNK)


@contextlib.contextmanager
def read_errors(location: Location) -> Iterator[None]:
    """Turn I/O failures while reading into one clear error naming the file.

    Transient for URLs (a dropped connection may work next time), a file error for local files
    (e.g. a truncated or corrupt gzip).
    """
    try:
        yield
    except ConnectorError:
        raise
    except (OSError, EOFError, zlib.error, http.client.HTTPException) as exc:
        detail = str(exc) or type(exc).__name__
        message = f"{location.display()}: cannot read ({detail})"
        if location.is_url:
            raise TransientError(message) from None
        raise FileError(message) from None


def is_gzip_name(name: str) -> bool:
    """True when the file name says gzip."""
    return name.lower().endswith((".gz", ".gzip"))


@contextlib.contextmanager
def open_stream(location: Location, compression: str = "auto", timeout: float = 60.0) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when gzip (`compression`: auto, gzip or none)."""
    raw = _open_raw(location, timeout)
    try:
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw, CHUNK)  # type: ignore[type-var]
        gz = compression == "gzip" or (
            compression == "auto" and (is_gzip_name(location.name) or buffered.peek(2)[:2] == GZIP_MAGIC)
        )
        if gz:
            yield gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[misc]
        else:
            yield buffered
    finally:
        raw.close()


@contextlib.contextmanager
def local_copy(location: Location, compression: str = "auto", timeout: float = 60.0) -> Iterator[str]:
    """A local, uncompressed path of the file: the file itself, or a temporary copy made in chunks."""
    if not location.is_url and compression != "gzip" and not is_gzip_name(location.name):
        with open(location.uri, "rb") as probe:
            if probe.read(2) != GZIP_MAGIC or compression == "none":
                yield location.uri
                return
    with tempfile.NamedTemporaryFile(prefix="source-file-", suffix=".part") as tmp:
        with open_stream(location, compression, timeout) as stream:
            try:
                shutil.copyfileobj(stream, tmp, CHUNK)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise FileError(f"{location.display()}: cannot read ({exc})") from None
        tmp.flush()
        yield tmp.name
