"""`ducto sync`: prepare (lock, configs, spec, catalog, state), run the pipe, record the run."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ducto.orchestrator import jsonutil
from ducto.orchestrator.catalog import build_configured_catalog
from ducto.orchestrator.connection import Connection, ConnectorDef
from ducto.orchestrator.connector_ops import discover_cached, get_spec
from ducto.orchestrator.errors import ConnectionFileError, DuctoError, SyncFailed
from ducto.orchestrator.lock import ConnectionLock
from ducto.orchestrator.masking import Masker, secrets_in_config
from ducto.orchestrator.pipe import Pipe, PipeResult, describe_exit
from ducto.orchestrator.progress import PlainProgress, Progress
from ducto.orchestrator.runlog import RunLog
from ducto.orchestrator.runners import runner_for
from ducto.orchestrator.runners.base import ConnectorHandle, Runner
from ducto.orchestrator.scanner import StreamStats, stream_key
from ducto.orchestrator.store import GLOBAL_STATE_KEY, RunStreamRow, Store, home_for


@dataclass
class SyncOutcome:
    """What `ducto sync` reports."""

    run_id: int
    status: str
    error: str | None
    streams: dict[str, StreamStats]
    seconds: float
    states_committed: int


def effective_config(connection: Connection, store: Store, connector: ConnectorDef) -> dict[str, Any]:
    """The file's config with the connector's own updates (CONTROL messages) on top."""
    updated = store.get_connector_config(connection.name, connector.role)
    return {**connector.config, **updated} if updated else dict(connector.config)


def validate_config(
    connector: ConnectorDef, config: dict[str, Any], spec: dict[str, Any], masker: Masker, where: str
) -> None:
    """Check a config against the connector's spec; the error names the key (values masked)."""
    schema = spec.get("connectionSpecification")
    if not isinstance(schema, dict):
        return
    import jsonschema

    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator = validator_class(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    except jsonschema.exceptions.SchemaError:
        return  # the connector's own schema is broken: the connector will complain itself
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        at = f"{connector.role}.config" + (f".{path}" if path else "")
        raise ConnectionFileError(f"{where}: {at}: {masker.mask(error.message)}")


def state_for_catalog(states: dict[str, Any], configured: dict[str, Any]) -> list[dict[str, Any]]:
    """The `--state` array: the global state if any, and the stored state of each configured stream."""
    array: list[dict[str, Any]] = []
    if GLOBAL_STATE_KEY in states:
        array.append(states[GLOBAL_STATE_KEY])
    for item in configured["streams"]:
        key = stream_key(item["stream"]["name"], item["stream"].get("namespace"))
        if key in states:
            array.append(states[key])
    return array


class SyncRun:
    """One sync of one connection."""

    def __init__(
        self, connection: Connection, *, progress: Progress | None = None, refresh_catalog: bool = False
    ) -> None:
        self.connection = connection
        self.progress = progress or PlainProgress()
        self.refresh_catalog = refresh_catalog
        self.home = home_for(connection.path)
        self.masker = Masker(connection.secrets)
        self._handles: list[ConnectorHandle] = []

    def run(self) -> SyncOutcome:
        """Run the sync; raises SyncFailed (exit 1) or a usage error (exit 2)."""
        store = Store.open_home(self.home)
        try:
            with ConnectionLock(self.home, self.connection.name):
                store.mark_abandoned_runs(self.connection.name)
                return self._run_locked(store)
        finally:
            store.close()

    def _run_locked(self, store: Store) -> SyncOutcome:
        connection = self.connection
        run_id = store.start_run(connection.name, connection.source.label, connection.destination.label)
        log = RunLog(store, run_id, self.masker, self.progress.log)
        started = time.monotonic()
        result: PipeResult | None = None
        pipe: Pipe | None = None
        try:
            try:
                pipe = self._prepare_and_start(store, run_id, log)
                self.progress.start(lambda: pipe.stats if pipe else {})
                try:
                    result = pipe.run()
                finally:
                    self.progress.stop()
            except KeyboardInterrupt:
                log.add("ducto", "ERROR", "cancelled (interrupted)")
                store.finish_run(run_id, "cancelled", "cancelled (interrupted)")
                raise SyncFailed("cancelled (interrupted)", run_id) from None
            except DuctoError as exc:
                message = self.masker.mask(str(exc))
                log.add("ducto", "ERROR", message)
                store.finish_run(run_id, "failed", message)
                raise
            except Exception as exc:
                message = self.masker.mask(f"internal error: {type(exc).__name__}: {exc}")
                log.add("ducto", "ERROR", message)
                store.finish_run(run_id, "failed", message)
                raise
            finally:
                self._cleanup()
        finally:
            log.flush()
            if pipe is not None:
                store.save_run_streams(
                    run_id,
                    [
                        RunStreamRow(name, s.records, s.bytes, s.committed_records, s.states_committed, s.status)
                        for name, s in pipe.stats.items()
                    ],
                )
        assert result is not None and pipe is not None
        error = self.masker.mask(result.error) if result.error else None
        store.finish_run(run_id, result.status, error)
        outcome = SyncOutcome(
            run_id, result.status, error, pipe.stats, time.monotonic() - started, result.states_committed
        )
        if result.status != "succeeded":
            failure = SyncFailed(error or result.status, run_id)
            failure.outcome = outcome
            raise failure
        return outcome

    def _prepare_and_start(self, store: Store, run_id: int, log: RunLog) -> Pipe:
        connection = self.connection
        where = connection.path.name
        source_runner = runner_for(connection.source, connection.local_dir)
        destination_runner = runner_for(connection.destination, connection.local_dir, shared=source_runner)
        source_config = effective_config(connection, store, connection.source)
        destination_config = effective_config(connection, store, connection.destination)
        self.masker.add(secrets_in_config(source_config))
        self.masker.add(secrets_in_config(destination_config))

        # The destination's spec is fetched while the source answers spec and discover.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="destination-spec") as pool:
            pending_spec = pool.submit(get_spec, connection.destination, destination_runner, store)
            source_spec = get_spec(connection.source, source_runner, store)
            self.masker.add(secrets_in_config(source_config, source_spec))
            validate_config(connection.source, source_config, source_spec, self.masker, where)
            catalog = discover_cached(
                connection.source,
                source_config,
                runner=source_runner,
                store=store,
                connection=connection.name,
                refresh=self.refresh_catalog,
                masker=self.masker,
            )
            destination_spec = pending_spec.result()
        self.masker.add(secrets_in_config(destination_config, destination_spec))
        validate_config(connection.destination, destination_config, destination_spec, self.masker, where)
        modes = destination_spec.get("supported_destination_sync_modes")
        configured = build_configured_catalog(connection, catalog, modes if isinstance(modes, list) else None)
        self._stamp_generations(store, run_id, configured)
        state = state_for_catalog(store.get_states(connection.name), configured)
        log.add("ducto", "INFO", f"run {run_id}: {len(configured['streams'])} streams, {len(state)} stored states")

        catalog_bytes = jsonutil.dumps(configured)
        # Both sides start at once (a container takes a few hundred ms to create and start).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="start-destination") as pool:
            pending_destination = pool.submit(
                self._start,
                destination_runner,
                connection.destination,
                "write",
                {"config": jsonutil.dumps(destination_config), "catalog": catalog_bytes},
                log=log,
                stdin=True,
            )
            try:
                source = self._start(
                    source_runner,
                    connection.source,
                    "read",
                    {"config": jsonutil.dumps(source_config), "catalog": catalog_bytes, "state": jsonutil.dumps(state)},
                    log=log,
                )
            finally:
                destination = pending_destination.result()

        def on_state(key: str, state: dict[str, Any]) -> None:
            store.save_state(connection.name, key, state, run_id)

        def on_control(side: str, config: dict[str, Any]) -> None:
            connector = connection.source if side == "source" else connection.destination
            spec = source_spec if side == "source" else destination_spec
            self.masker.add(secrets_in_config(config, spec))
            merged = {**effective_config(connection, store, connector), **config}
            store.save_connector_config(connection.name, side, merged)

        return Pipe(
            source,
            destination,
            log=log,
            hang_timeout=connection.hang_timeout,
            on_state=on_state,
            on_control=on_control,
            describe_source_exit=getattr(source, "describe_exit", None) or describe_exit,
            describe_destination_exit=getattr(destination, "describe_exit", None) or describe_exit,
        )

    def _stamp_generations(self, store: Store, run_id: int, configured: dict[str, Any]) -> None:
        """Add `sync_id`, `generation_id` and `minimum_generation_id` (Airbyte refresh semantics):
        an overwrite sync starts a new generation and asks the destination to drop older ones."""
        keys = {
            stream_key(item["stream"]["name"], item["stream"].get("namespace")): item for item in configured["streams"]
        }
        truncating = {key: item["destination_sync_mode"] == "overwrite" for key, item in keys.items()}
        generations = store.next_generations(self.connection.name, truncating)
        for key, item in keys.items():
            item["sync_id"] = run_id
            item["generation_id"] = generations[key]
            item["minimum_generation_id"] = generations[key] if truncating[key] else 0

    def _start(
        self,
        runner: Runner,
        connector: ConnectorDef,
        command: str,
        files: dict[str, bytes],
        *,
        log: RunLog,
        stdin: bool = False,
    ) -> ConnectorHandle:
        role = connector.role
        handle = runner.start(
            connector, command, files, stdin=stdin, on_stderr=lambda line: log.add(role, "INFO", line)
        )
        self._handles.append(handle)
        return handle

    def _cleanup(self) -> None:
        for handle in self._handles:
            with contextlib.suppress(Exception):
                handle.cleanup()
