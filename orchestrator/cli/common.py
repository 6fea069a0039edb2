"""What every orchestrator command shares: one-line errors, exit codes, connection loading."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ducto.orchestrator.connection import Connection, load_connection
from ducto.orchestrator.errors import DuctoError, UsageError
from ducto.orchestrator.store import Store, home_for

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> NoReturn:
    """Print `Error: message` on stderr and exit with `code`."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def handle_errors(func: F) -> F:
    """Turn DuctoError into one line and its exit code; SIGTERM behaves like Ctrl-C."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            return func(*args, **kwargs)
        except DuctoError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("cancelled (interrupted)", 1)
        except BrokenPipeError:
            # stdout was closed early (`ducto runs | head`): stop quietly, like any Unix filter
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:
            if os.environ.get("DUCTO_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set DUCTO_DEBUG=1 for a traceback)", 1)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def open_connection(path: str, *, resolve_secrets: bool = True) -> Connection:
    """Load a connection file (errors exit 2); state and history commands need no secrets."""
    return load_connection(path, resolve_secrets=resolve_secrets)


def open_store(connection_path: str | None, home: str | None) -> Store:
    """The store of a connection file, of `--home`, of $DUCTO_HOME or of ./.ducto."""
    if home:
        directory = Path(home).expanduser()
    else:
        directory = home_for(Path(connection_path).expanduser().resolve() if connection_path else None)
    if not (directory / "ducto.db").exists():
        raise UsageError(f"no Ducto history in {directory} (run a sync first, or pass --home)")
    return Store.open_home(directory)
