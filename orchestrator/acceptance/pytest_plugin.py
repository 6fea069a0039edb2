"""The acceptance suite as a pytest plugin (entry point `ducto_acceptance`).

Inactive unless asked: it only collects an `acceptance-test-config.yml` that is named on the
command line, or every one found under the given paths with `--acceptance`:

    pytest connectors/source-x/acceptance-test-config.yml
    pytest --acceptance connectors/ --acceptance-image my/source:dev -k basic_read
    pytest acceptance-test-config.yml --acceptance-command "python -m my_source" --junitxml out.xml

Each check is one pytest item named like the `ducto test` ids (`basic_read::test_read[users]`), so
`-k`, `--junitxml`, `-x` and the usual pytest reporting apply.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ducto.orchestrator.acceptance.config import ConfigFileError, load_config
from ducto.orchestrator.acceptance.framework import Context, Outcome, TestCase, run_case
from ducto.orchestrator.acceptance.runner import DockerConnector, DockerError, ProcessConnector, inspect_image

CONFIG_NAMES = frozenset(("acceptance-test-config.yml", "acceptance-test-config.yaml"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the acceptance suite."""
    group = parser.getgroup("ducto-acceptance", "Ducto acceptance suite")
    group.addoption(
        "--acceptance",
        action="store_true",
        default=False,
        help="collect every acceptance-test-config.yml under the given paths",
    )
    group.addoption("--acceptance-image", help="test this image instead of the config's connector_image")
    group.addoption(
        "--acceptance-command", help="test a local command (e.g. 'python -m my_source') instead of an image"
    )
    group.addoption("--acceptance-stream", action="append", default=[], help="only test this stream (repeatable)")
    group.addoption("--acceptance-timeout", type=float, help="per-test timeout in seconds (overrides the config)")


def _named_on_command_line(config: pytest.Config, path: Path) -> bool:
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        candidate = Path(str(arg).split("::", 1)[0])
        if not candidate.is_absolute():
            candidate = base / candidate
        if candidate.resolve() == path.resolve():
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect acceptance configs named on the command line (or all of them with --acceptance)."""
    if file_path.name not in CONFIG_NAMES:
        return None
    if not (parent.config.getoption("acceptance") or _named_on_command_line(parent.config, file_path)):
        return None
    collector: AcceptanceConfigFile = AcceptanceConfigFile.from_parent(parent, path=file_path)
    return collector


class AcceptanceCollectError(Exception):
    """The config or the connector cannot be set up; shown as one line."""


class AcceptanceConfigFile(pytest.File):
    """One acceptance config: builds the cases (discovery may run to list streams)."""

    def collect(self) -> Iterator[pytest.Item]:
        """One item per acceptance check."""
        opts = self.config.option
        try:
            cfg = load_config(self.path)
        except ConfigFileError as exc:
            raise AcceptanceCollectError(str(exc)) from None
        env = cfg.custom_environment_variables
        connector: Any
        if opts.acceptance_command:
            connector = ProcessConnector(shlex.split(opts.acceptance_command), env=env)
        else:
            image = opts.acceptance_image or cfg.connector_image
            if not image:
                raise AcceptanceCollectError(f"{self.path}: no connector_image (or pass --acceptance-image)")
            try:
                inspect_image(image)
            except DockerError as exc:
                raise AcceptanceCollectError(str(exc)) from None
            connector = DockerConnector(image, env=env)
        ctx = Context(
            connector,
            cfg,
            streams_filter=set(opts.acceptance_stream) or None,
            timeout_override=opts.acceptance_timeout,
        )
        from ducto.orchestrator.acceptance.suite import build_cases

        self.config.add_cleanup(ctx.close)

        for warning in cfg.warnings:
            self.warn(pytest.PytestWarning(f"{self.path.name}: {warning}"))
        for case in build_cases(ctx):
            yield AcceptanceItem.from_parent(self, name=case.id, case=case, ctx=ctx)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """One readable line for setup problems."""
        if isinstance(excinfo.value, AcceptanceCollectError):
            return f"ducto acceptance: {excinfo.value}"
        return str(super().repr_failure(excinfo))


class AcceptanceFailure(Exception):
    """A check failed or errored; carries its Outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class AcceptanceItem(pytest.Item):
    """One acceptance check as a pytest item."""

    def __init__(self, *, case: TestCase, ctx: Context, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.ctx = ctx
        self.user_properties.append(("group", case.group))
        if case.stream:
            self.user_properties.append(("stream", case.stream))

    def runtest(self) -> None:
        """Run the check; skips and failures map to pytest's."""
        outcome = run_case(self.ctx, self.case)
        if outcome.status == "skipped":
            raise pytest.skip.Exception(outcome.message, _use_item_location=True)
        if outcome.status in ("failed", "error"):
            raise AcceptanceFailure(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The check's own message, without a Python traceback."""
        if isinstance(excinfo.value, AcceptanceFailure):
            o = excinfo.value.outcome
            prefix = "ERROR " if o.status == "error" else ""
            return f"{prefix}{o.case.id}\n{o.message}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from (the config file) and its id."""
        return self.path, 0, self.case.id
