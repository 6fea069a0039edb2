"""Runners start connectors (a Docker image or a local command) with a byte pipe to each side."""

from __future__ import annotations

from pathlib import Path

from ducto.orchestrator.connection import ConnectorDef
from ducto.orchestrator.runners.base import ConnectorHandle, Runner


def runner_for(connector: ConnectorDef, local_dir: Path | None = None, shared: Runner | None = None) -> Runner:
    """The runner a connector needs: docker for `image:`, process for `command:`.

    `shared` is reused when it is of the right kind (one Docker client and image cache per sync).
    """
    if connector.runner == "docker":
        from ducto.orchestrator.runners.docker import DockerRunner

        if isinstance(shared, DockerRunner):
            return shared
        return DockerRunner(local_dir=local_dir)
    from ducto.orchestrator.runners.process import ProcessRunner

    return ProcessRunner()


__all__ = ["ConnectorHandle", "Runner", "runner_for"]
