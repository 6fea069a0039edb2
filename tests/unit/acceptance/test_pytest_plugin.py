"""The suite as a pytest plugin: inactive by default, one item per check, readable failures."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

RULEBREAKER = Path(__file__).with_name("rulebreaker.py")


def run_pytest(cwd: Path, *args: str, defect: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEFECT": defect}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def command() -> str:
    return shlex.join([sys.executable, str(RULEBREAKER)])


def test_config_named_on_the_command_line_is_collected(project: Path) -> None:
    proc = run_pytest(project.parent, project.name, "--acceptance-command", command(), "-k", "spec or discovery")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "9 passed, 3 skipped" in proc.stdout


def test_failures_show_the_check_message(project: Path) -> None:
    proc = run_pytest(
        project.parent, project.name, "--acceptance-command", command(), "-k", "spec", defect="secret_not_marked"
    )
    assert proc.returncode == 1
    assert "spec::test_secrets_are_marked" in proc.stdout
    assert "are not marked `airbyte_secret: true`" in proc.stdout
    assert "Traceback" not in proc.stdout
    assert "1 failed, 3 passed, 3 skipped" in proc.stdout


def test_inactive_unless_asked(project: Path) -> None:
    # A directory holding a config is not collected without --acceptance ...
    proc = run_pytest(project.parent, str(project.parent), "--acceptance-command", command())
    assert proc.returncode == 5, proc.stdout  # no tests collected
    # ... and is with it.
    proc = run_pytest(
        project.parent, "--acceptance", str(project.parent), "--acceptance-command", command(), "-k", "spec"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed, 3 skipped" in proc.stdout


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "acceptance-test-config.yml").write_text("acceptance_tests: {spec: {tests: [{timeout_seconds: -1}]}}")
    proc = run_pytest(tmp_path, "acceptance-test-config.yml", "--acceptance-command", command())
    assert proc.returncode != 0
    assert "ducto acceptance:" in proc.stdout and "timeout_seconds: expected a non-negative integer" in proc.stdout
