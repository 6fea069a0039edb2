"""How the suite runs the connector under test: a Docker image or a local command.

Every command gets its JSON inputs as files (`--config F --catalog F --state F`), written to a fresh
temporary folder; optional bytes go to stdin (for `write`). The answer is a `RunResult`: every
stdout line decoded as JSON (lines that are not JSON objects are kept apart, they are a finding
too), the exit code, stderr and the duration. A run that outlives its timeout is killed and
reported as timed out, never left behind.
"""

from __future__ import annotations

import os
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ducto.protocol import json

# Order in which input files are passed on the command line.
FILE_ARGS = ("config", "catalog", "state")
CONTAINER_INPUT_DIR = "/ducto-acceptance"
CONTAINER_PREFIX = "ducto-acc-"
LOCAL_MOUNT = "/local"  # Airbyte's convention for a host folder shared with file-writing connectors


@dataclass(slots=True)
class RunResult:
    """What one connector command produced."""

    command: str
    messages: list[dict[str, Any]]
    invalid_lines: list[tuple[int, str]]
    exit_code: int | None
    stderr: str
    duration: float
    timed_out: bool = False

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Every message of that envelope type (RECORD, STATE, TRACE, ...)."""
        return [m for m in self.messages if m.get("type") == kind]

    def payloads(self, kind: str, key: str) -> list[dict[str, Any]]:
        """The payloads of every message of that type whose payload is an object."""
        return [m[key] for m in self.messages if m.get("type") == kind and isinstance(m.get(key), dict)]

    def traces(self, trace_type: str) -> list[dict[str, Any]]:
        """TRACE payloads of one trace type (ERROR, STREAM_STATUS, ESTIMATE, ANALYTICS)."""
        return [t for t in self.payloads("TRACE", "trace") if t.get("type") == trace_type]

    def records(self) -> list[dict[str, Any]]:
        """RECORD payloads in emission order."""
        return self.payloads("RECORD", "record")

    def stderr_tail(self, lines: int = 15) -> str:
        """The last lines of stderr, for failure messages."""
        tail = self.stderr.strip().splitlines()[-lines:]
        return "\n".join(tail)

    def describe_exit(self) -> str:
        """`exit code N` or `timed out after Ns`."""
        if self.timed_out:
            return f"timed out after {self.duration:.0f}s"
        if self.exit_code is None:
            return "the connector did not start"
        return f"exit code {self.exit_code}"


class ConnectorUnderTest(Protocol):
    """A connector the suite can run: `run("read", {"config": {...}, "catalog": {...}})`."""

    label: str
    # Where the connector sees the shared local folder ("/local" in Docker; None: the host path itself).
    local_mount: str | None

    def run(
        self,
        command: str,
        files: Mapping[str, Any] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        local_dir: Path | None = None,
    ) -> RunResult:
        """Run one protocol command and collect everything it wrote (`local_dir` shared read-write)."""
        ...

    def start(
        self, command: str, files: Mapping[str, Any] | None = None, local_dir: Path | None = None
    ) -> StreamingRun:
        """Start a command with open pipes, to interact with it while it runs."""
        ...

    def image(self) -> ImageInfo | None:
        """The Docker image's metadata, or None when the connector is not an image."""
        ...


@dataclass(slots=True)
class ImageInfo:
    """What `docker image inspect` says about a connector image."""

    name: str
    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]
    labels: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def parse_output(stdout: bytes) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Split a connector's stdout into JSON message objects and the lines that are not messages."""
    messages: list[dict[str, Any]] = []
    invalid: list[tuple[int, str]] = []
    for line_no, raw in enumerate(stdout.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            invalid.append((line_no, raw[:200].decode("utf-8", "replace")))
            continue
        if isinstance(obj, dict) and isinstance(obj.get("type"), str):
            messages.append(obj)
        else:
            invalid.append((line_no, raw[:200].decode("utf-8", "replace")))
    return messages, invalid


def _write_inputs(files: Mapping[str, Any] | None, shared: bool = False) -> tuple[Path, list[tuple[str, str]]]:
    """Write each input as a JSON file in a new temporary folder.

    Private to the current user (0700/0600) for local processes. For containers (`shared`), whose
    user differs, the folder can be traversed but not listed (0711) and the files, readable, carry an
    unguessable name.
    """
    folder = Path(tempfile.mkdtemp(prefix="ducto-acc-"))
    folder.chmod(0o711 if shared else 0o700)
    written: list[tuple[str, str]] = []
    names = sorted(files or {}, key=lambda n: (FILE_ARGS.index(n) if n in FILE_ARGS else len(FILE_ARGS), n))
    for name in names:
        path = folder / (f"{name}-{uuid.uuid4().hex}.json" if shared else f"{name}.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if shared else 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(json.dumps((files or {})[name]))
        path.chmod(0o644 if shared else 0o600)
        written.append((name, path.name))
    return folder, written


@contextmanager
def _input_files(files: Mapping[str, Any] | None, shared: bool = False) -> Iterator[tuple[Path, list[tuple[str, str]]]]:
    """`_write_inputs` as a context manager that removes the folder afterwards."""
    folder, written = _write_inputs(files, shared)
    try:
        yield folder, written
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class StreamingRun:
    """A connector started with open pipes: feed stdin bit by bit, read messages as they come, kill it.

    Used to check what a destination has made durable at the moment it echoes a STATE. stderr goes to
    a temporary file so a chatty connector never blocks.
    """

    def __init__(self, proc: subprocess.Popen[bytes], kill: Any, cleanup: Any, stderr_file: Any) -> None:
        self.proc = proc
        self._kill = kill
        self._cleanup = cleanup
        self._stderr = stderr_file
        self._buffer = b""
        self.messages: list[dict[str, Any]] = []

    def send(self, data: bytes) -> bool:
        """Write to stdin; False when the connector no longer reads it."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def next_message(self, timeout: float) -> dict[str, Any] | None:
        """The next protocol message on stdout, or None at EOF or after `timeout` seconds."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            line, sep, rest = self._buffer.partition(b"\n")
            if sep:
                self._buffer = rest
                found, _ = parse_output(line)
                if found:
                    self.messages.append(found[0])
                    return found[0]
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk

    def kill(self) -> None:
        """Stop the connector now (SIGKILL), as a crash would."""
        self._kill()
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)

    def stderr(self) -> str:
        """What the connector wrote on stderr so far."""
        self._stderr.flush()
        self._stderr.seek(0)
        data: bytes = self._stderr.read()
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        """Kill if still running and remove the input files."""
        if self.proc.poll() is None:
            self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        self._stderr.close()
        self._cleanup()


def _start(argv: list[str], env: Mapping[str, str] | None, cwd: str | None, kill: Any, folder: Path) -> StreamingRun:
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by StreamingRun.close)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError:
        stderr_file.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StreamingRun(proc, lambda: kill(proc), lambda: shutil.rmtree(folder, ignore_errors=True), stderr_file)


def _communicate(
    proc: subprocess.Popen[bytes], stdin: bytes | None, timeout: float | None, on_timeout: Any
) -> tuple[bytes, bytes, bool]:
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        return out, err, False
    except subprocess.TimeoutExpired:
        on_timeout()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        return out, err, True


class ProcessConnector:
    """A connector run as a local command (e.g. `python -m toy_connector`)."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        self.argv = list(argv)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.label = shlex.join(self.argv)
        self.local_mount: str | None = None

    def run(
        self,
        command: str,
        files: Mapping[str, Any] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        local_dir: Path | None = None,
    ) -> RunResult:
        """Run `argv command --NAME FILE...` and wait for it (killing its process group on timeout)."""
        with _input_files(files) as (folder, written):
            args = [command]
            for name, filename in written:
                args += [f"--{name}", str(folder / filename)]
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    [*self.argv, *args],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=self.env,
                    cwd=self.cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                return RunResult(command, [], [], None, f"could not start {self.label}: {exc}", 0.0)

            def kill_group() -> None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

            out, err, timed_out = _communicate(proc, stdin or b"", timeout, kill_group)
            duration = time.monotonic() - started
        messages, invalid = parse_output(out)
        exit_code = None if timed_out else proc.returncode
        return RunResult(command, messages, invalid, exit_code, err.decode("utf-8", "replace"), duration, timed_out)

    def start(
        self, command: str, files: Mapping[str, Any] | None = None, local_dir: Path | None = None
    ) -> StreamingRun:
        """Start `argv command --NAME FILE...` with open pipes (see StreamingRun)."""
        folder, written = _write_inputs(files)
        args = [command]
        for name, filename in written:
            args += [f"--{name}", str(folder / filename)]

        def kill(proc: subprocess.Popen[bytes]) -> None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        return _start([*self.argv, *args], self.env, self.cwd, kill, folder)

    def image(self) -> ImageInfo | None:
        """A local command has no image."""
        return None


class DockerError(RuntimeError):
    """Docker could not do what was asked (no engine, no such image)."""


def inspect_image(image: str, docker: str = "docker") -> ImageInfo:
    """Read ENTRYPOINT, CMD, ENV and labels of a local image (`docker image inspect`)."""
    try:
        proc = subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise DockerError("the `docker` command was not found; install Docker or use --command") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DockerError(f"cannot inspect image {image!r}: {detail[-1] if detail else 'unknown error'}")
    data = json.loads(proc.stdout)
    config = (data[0] if data else {}).get("Config") or {}
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    return ImageInfo(
        name=image,
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        env=env,
        labels=dict(config.get("Labels") or {}),
    )


class DockerConnector:
    """A connector image run with `docker run --rm -i`, its inputs mounted read-only.

    The image's ENTRYPOINT receives the command and its `--NAME /ducto-acceptance/NAME.json`
    arguments, as Airbyte runs connectors.
    """

    def __init__(
        self,
        image: str,
        *,
        docker: str = "docker",
        env: Mapping[str, str] | None = None,
        network: str | None = None,
    ) -> None:
        self.image_name = image
        self.docker = docker
        self.env = dict(env or {})
        self.network = network
        self.label = image
        self.local_mount: str | None = LOCAL_MOUNT
        self._info: ImageInfo | None = None

    def _docker_argv(
        self, name: str, command: str, folder: Path, written: list[tuple[str, str]], local_dir: Path | None
    ) -> list[str]:
        argv = [self.docker, "run", "--rm", "-i", "--name", name, "-v", f"{folder}:{CONTAINER_INPUT_DIR}:ro"]
        if local_dir is not None:
            argv += ["-v", f"{local_dir}:{LOCAL_MOUNT}"]
        if self.network:
            argv += ["--network", self.network]
        for key, value in self.env.items():
            argv += ["-e", f"{key}={value}"]
        argv += [self.image_name, command]
        for arg_name, filename in written:
            argv += [f"--{arg_name}", f"{CONTAINER_INPUT_DIR}/{filename}"]
        return argv

    def start(
        self, command: str, files: Mapping[str, Any] | None = None, local_dir: Path | None = None
    ) -> StreamingRun:
        """Start a container with open pipes (see StreamingRun); kill() kills the container."""
        name = f"{CONTAINER_PREFIX}{uuid.uuid4().hex[:12]}"
        folder, written = _write_inputs(files, shared=True)
        argv = self._docker_argv(name, command, folder, written, local_dir)

        def kill(proc: subprocess.Popen[bytes]) -> None:
            subprocess.run([self.docker, "kill", name], capture_output=True, timeout=30, check=False)

        return _start(argv, None, None, kill, folder)

    def image(self) -> ImageInfo:
        """The inspected image (cached)."""
        if self._info is None:
            self._info = inspect_image(self.image_name, self.docker)
        return self._info

    def run(
        self,
        command: str,
        files: Mapping[str, Any] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        local_dir: Path | None = None,
    ) -> RunResult:
        """Run one command in a fresh container; on timeout the container is killed."""
        name = f"{CONTAINER_PREFIX}{uuid.uuid4().hex[:12]}"
        with _input_files(files, shared=True) as (folder, written):
            argv = self._docker_argv(name, command, folder, written, local_dir)
            started = time.monotonic()
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            except FileNotFoundError:
                raise DockerError("the `docker` command was not found; install Docker or use --command") from None

            def kill_container() -> None:
                subprocess.run([self.docker, "kill", name], capture_output=True, timeout=30, check=False)

            out, err, timed_out = _communicate(proc, stdin or b"", timeout, kill_container)
            duration = time.monotonic() - started
        messages, invalid = parse_output(out)
        exit_code = None if timed_out else proc.returncode
        return RunResult(command, messages, invalid, exit_code, err.decode("utf-8", "replace"), duration, timed_out)
