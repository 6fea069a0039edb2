"""The Docker runner: connectors as containers, with data through FIFOs instead of dockerd.

dockerd relays an attached container's stdout byte by byte (~60 MB/s measured); a FIFO in a
bind-mounted directory moves the same bytes at memory speed. The container runs its image's own
ENTRYPOINT under a tiny `sh` wrapper that points stdin/stdout/stderr at FIFOs in `/ducto/io`;
config, catalog and state are files in `/ducto/config` (mode 0600, owned by the container's
user), so nothing secret appears in the container's arguments or environment (`docker inspect`).
Containers run as a non-root user, with a memory limit, under an init process (signals work),
and are removed on exit, on error, on Ctrl-C, and, if Ducto itself was killed, by the next run.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

from ducto.orchestrator.connection import ConnectorDef
from ducto.orchestrator.errors import RunnerError, UsageError
from ducto.orchestrator.fdio import LineThread, grow_pipe, open_fifo_writer
from ducto.orchestrator.pipe import describe_exit
from ducto.orchestrator.runners.base import ConnectorHandle, PrivateDir, Runner, StderrCallback, command_args

IO_DIR = "/ducto/io"
CONFIG_DIR = "/ducto/config"
LOCAL_DIR = "/local"
DEFAULT_USER = "1000:1000"
LABEL = "io.ducto.managed"


class ImageNotFound(UsageError):
    """The image is not in the local Docker engine."""


def _docker_client() -> Any:
    try:
        import docker
    except ImportError:
        raise RunnerError("the docker runner needs the `docker` package (pip install 'ducto[host]')") from None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise RunnerError(f"cannot reach the Docker engine ({exc}); is Docker running?") from None
    return client


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DockerHandle(ConnectorHandle):
    """A running connector container and the FIFOs connected to it."""

    def __init__(
        self,
        label: str,
        container: Any,
        *,
        workdir: PrivateDir,
        io_dir: Path,
        out_fd: int,
        err_fd: int,
        memory: str | None,
        on_stderr: StderrCallback | None,
    ) -> None:
        self.label = label
        self.container = container
        self.stdout_fd = out_fd
        self._err_fd = err_fd
        self._workdir = workdir
        self._in_path = io_dir / "in"
        self._in_fd: int | None = None
        self._memory = memory
        self._exit: int | None = None
        self._exited = threading.Event()
        self._cleaned = False
        self._oom = False
        self._stderr = LineThread(err_fd, on_stderr or (lambda _line: None), f"{label}-stderr")
        self._stderr.start()
        self._waiter = threading.Thread(target=self._wait_container, name=f"{label}-wait", daemon=True)

    def watch_exit(self) -> None:
        """Start waiting for the container's exit (call once it has started)."""
        self._waiter.start()

    def _wait_container(self) -> None:  # "not-running" also answers for a container that already ended
        try:
            result = self.container.wait()
            code = int(result.get("StatusCode", -1))
            with contextlib.suppress(Exception):
                self.container.reload()
                self._oom = bool(self.container.attrs.get("State", {}).get("OOMKilled"))
        except Exception:
            code = 137
        self._exit = code
        self._exited.set()

    def open_stdin(self, timeout: float) -> int:
        if self._in_fd is None:
            try:
                self._in_fd = open_fifo_writer(str(self._in_path), lambda: self.poll() is None, timeout)
            except FileNotFoundError:
                raise RunnerError(f"{self.label} was started without stdin") from None
        return self._in_fd

    def close_stdin(self) -> None:
        if self._in_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._in_fd)
            self._in_fd = None

    def poll(self) -> int | None:
        return self._exit if self._exited.is_set() else None

    def wait(self, timeout: float | None) -> int | None:
        self._exited.wait(timeout)
        return self.poll()

    def terminate(self) -> None:
        self._signal("SIGTERM")

    def kill(self) -> None:
        self._signal("SIGKILL")

    def _signal(self, name: str) -> None:
        if self._exited.is_set():
            return
        with contextlib.suppress(Exception):
            self.container.kill(signal=name)

    def describe_exit(self, code: int | None) -> str:
        """Like pipe.describe_exit, naming an out-of-memory kill and its limit."""
        if self._oom:
            return f"ran out of memory (limit {self._memory}; raise `memory:` in the connection file)"
        return describe_exit(code)

    def cleanup(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        self.close_stdin()
        with contextlib.suppress(Exception):
            self.container.remove(force=True)
        if self._waiter.is_alive():
            self._exited.wait(10)
        self._stderr.join(2)
        self._stderr.stop_event.set()
        for fd in (self.stdout_fd, self._err_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._workdir.remove()


class DockerRunner(Runner):
    """Starts connector images; `local_dir` is mounted at /local."""

    def __init__(self, local_dir: Path | None = None) -> None:
        self.local_dir = local_dir
        self._client: Any = None
        self._images: dict[str, Any] = {}
        self._lock = threading.Lock()  # the runner is shared by the threads starting both sides

    @property
    def client(self) -> Any:
        """The Docker client (connects on first use and removes containers of dead Ducto runs)."""
        with self._lock:
            if self._client is None:
                self._client = _docker_client()
                self.remove_orphans()
        return self._client

    def remove_orphans(self) -> int:
        """Remove containers started by a Ducto process of this host that no longer exists."""
        removed = 0
        host = socket.gethostname()
        try:
            # sparse: no per-container inspect, so a container removed meanwhile cannot fail the listing
            containers = self._client.containers.list(all=True, filters={"label": LABEL}, sparse=True)
        except Exception:
            return 0
        for container in containers:
            labels = container.attrs.get("Labels") or {}
            pid = labels.get("io.ducto.pid", "")
            if labels.get("io.ducto.host") == host and pid.isdigit() and not _pid_alive(int(pid)):
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                    removed += 1
        return removed

    def image(self, name: str) -> Any:
        """The local image `name`, or ImageNotFound."""
        if name not in self._images:
            import docker.errors

            try:
                self._images[name] = self.client.images.get(name)
            except docker.errors.ImageNotFound:
                raise ImageNotFound(f"image {name} is not available locally (build it, or docker pull it)") from None
            except docker.errors.APIError as exc:
                raise RunnerError(f"cannot inspect image {name}: {exc.explanation or exc}") from None
        return self._images[name]

    def identity(self, connector: ConnectorDef) -> str:
        assert connector.image is not None
        return f"{connector.image}@{self.image(connector.image).id}"

    def _entrypoint(self, image: Any, name: str) -> list[str]:
        config = image.attrs.get("Config") or {}
        entrypoint = config.get("Entrypoint")
        if entrypoint:
            return list(entrypoint)
        for item in config.get("Env") or []:
            key, _, value = item.partition("=")
            if key == "AIRBYTE_ENTRYPOINT" and value.strip():
                return shlex.split(value)
        raise RunnerError(f"image {name} has no ENTRYPOINT (nor AIRBYTE_ENTRYPOINT) to run the connector")

    def _user(self, connector: ConnectorDef, image: Any) -> tuple[str, int, int]:
        if os.geteuid() != 0:
            uid, gid = os.geteuid(), os.getegid()
            return f"{uid}:{gid}", uid, gid
        user = connector.user
        if user is None:
            image_user = (image.attrs.get("Config") or {}).get("User") or ""
            head = image_user.split(":")[0]
            user = image_user if head.isdigit() and head != "0" else DEFAULT_USER
        uid_text, _, gid_text = user.partition(":")
        if not uid_text.isdigit() or (gid_text and not gid_text.isdigit()):
            raise UsageError(f"{connector.role}.user: expected a numeric uid[:gid], got {user!r}")
        if uid_text == "0":
            raise UsageError(f"{connector.role}.user: connectors do not run as root")
        uid = int(uid_text)
        gid = int(gid_text) if gid_text else uid
        return f"{uid}:{gid}", uid, gid

    def start(
        self,
        connector: ConnectorDef,
        command: str,
        files: dict[str, bytes],
        *,
        stdin: bool = False,
        on_stderr: StderrCallback | None = None,
    ) -> ConnectorHandle:
        assert connector.image is not None
        image = self.image(connector.image)
        entrypoint = self._entrypoint(image, connector.image)
        user, uid, gid = self._user(connector, image)
        workdir = PrivateDir(prefix="ducto-docker-")
        try:
            return self._start(
                connector,
                command,
                files,
                stdin=stdin,
                on_stderr=on_stderr,
                image=image,
                entrypoint=entrypoint,
                user=user,
                uid=uid,
                gid=gid,
                workdir=workdir,
            )
        except BaseException:
            workdir.remove()
            raise

    def _start(
        self,
        connector: ConnectorDef,
        command: str,
        files: dict[str, bytes],
        *,
        stdin: bool,
        on_stderr: StderrCallback | None,
        image: Any,
        entrypoint: list[str],
        user: str,
        uid: int,
        gid: int,
        workdir: PrivateDir,
    ) -> ConnectorHandle:
        from docker.types import LogConfig, Mount

        as_root = os.geteuid() == 0
        config_dir = workdir.path / "config"
        io_dir = workdir.path / "io"
        paths: dict[str, str] = {}
        for name, data in files.items():
            workdir.write(f"{name}.json", data, "config")
            paths[name] = f"{CONFIG_DIR}/{name}.json"
        if connector.env:
            env_lines = "".join(f"{key}={shlex.quote(value)}\n" for key, value in connector.env.items())
            workdir.write("env", env_lines.encode(), "config")
        config_dir.mkdir(mode=0o700, exist_ok=True)
        io_dir.mkdir(mode=0o700)
        fifos = ["out", "err", *(["in"] if stdin else [])]
        for name in fifos:
            os.mkfifo(io_dir / name, 0o600)
        if as_root:
            for path in [workdir.path, config_dir, io_dir, *config_dir.iterdir(), *(io_dir / n for n in fifos)]:
                os.chown(path, uid, gid)
        out_fd = os.open(io_dir / "out", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        err_fd = os.open(io_dir / "err", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        grow_pipe(out_fd)
        source_env = f"set -a; . {CONFIG_DIR}/env; set +a; " if connector.env else ""
        stdin_path = f"{IO_DIR}/in" if stdin else "/dev/null"
        script = f'{source_env}exec "$@" 2>{IO_DIR}/err <{stdin_path} >{IO_DIR}/out'
        mounts = [
            Mount(CONFIG_DIR, str(config_dir), type="bind", read_only=True),
            Mount(IO_DIR, str(io_dir), type="bind"),
        ]
        if self.local_dir is not None:
            self._prepare_local(uid, gid, as_root)
            mounts.append(Mount(LOCAL_DIR, str(self.local_dir), type="bind"))
        run_name = f"ducto-{connector.role}-{command}-{uuid.uuid4().hex[:10]}"
        try:
            container = self.client.containers.create(
                image.id,
                entrypoint=["/bin/sh", "-c", script, "ducto-connector"],
                command=[*entrypoint, *command_args(command, paths)],
                user=user,
                name=run_name,
                labels={
                    LABEL: "true",
                    "io.ducto.role": connector.role,
                    "io.ducto.command": command,
                    "io.ducto.image": connector.image or "",
                    "io.ducto.pid": str(os.getpid()),
                    "io.ducto.host": socket.gethostname(),
                },
                mem_limit=connector.memory,
                memswap_limit=connector.memory,
                log_config=LogConfig(type=LogConfig.types.NONE),
                mounts=mounts,
                network_mode=connector.network,
                security_opt=["no-new-privileges"],
                init=True,
                detach=True,
            )
        except Exception as exc:
            os.close(out_fd)
            os.close(err_fd)
            raise RunnerError(
                f"{connector.role}: cannot create a container of {connector.image}:"
                f" {getattr(exc, 'explanation', None) or exc}"
            ) from None
        handle = DockerHandle(
            connector.role,
            container,
            workdir=workdir,
            io_dir=io_dir,
            out_fd=out_fd,
            err_fd=err_fd,
            memory=connector.memory,
            on_stderr=on_stderr,
        )
        try:
            container.start()
        except Exception as exc:
            handle.cleanup()
            raise RunnerError(
                f"{connector.role}: cannot start {connector.image}: {getattr(exc, 'explanation', None) or exc}"
            ) from None
        handle.watch_exit()
        return handle

    def _prepare_local(self, uid: int, gid: int, as_root: bool) -> None:
        assert self.local_dir is not None
        try:
            self.local_dir.mkdir(parents=True)
        except FileExistsError:
            return  # the other side of the sync (started concurrently) made it, or an earlier run
        if as_root:
            os.chown(self.local_dir, uid, gid)
