"""`ducto test` from the command line: filtering, reports, exit codes, errors without tracebacks."""

from __future__ import annotations

import shlex
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from ducto.orchestrator.acceptance.cli import test as ducto_test
from ducto.orchestrator.cli.main import cli

RULEBREAKER = Path(__file__).with_name("rulebreaker.py")
COMMAND = shlex.join([sys.executable, str(RULEBREAKER)])


def invoke(args: list[str], defect: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(ducto_test, args, env={"DEFECT": defect})
    return result.exit_code, result.output


def test_registered_in_the_ducto_group(project: Path) -> None:
    result = CliRunner().invoke(cli, ["test", "--command", COMMAND, "--config", str(project), "-k", "spec"])
    assert result.exit_code == 0, result.output


def test_all_pass_exits_0_with_a_summary(project: Path) -> None:
    code, out = invoke(["--command", COMMAND, "--config", str(project)])
    assert code == 0, out
    assert "basic_read::test_records_match_schema[users] PASSED" in out
    assert "spec::test_image_entrypoint SKIPPED (the connector is not a Docker image)" in out
    assert "32 passed, 5 skipped" in out.splitlines()[-1]


def test_a_failure_exits_1_and_is_explained(project: Path) -> None:
    code, out = invoke(["--command", COMMAND, "--config", str(project), "-k", "basic_read"], defect="null_pk")
    assert code == 1
    assert "basic_read::test_primary_keys_present[users] FAILED" in out
    assert "FAILURES" in out
    assert "users: primary keys missing or null:\n  record 2: primary key id is null" in out
    assert "Traceback" not in out


def test_keyword_and_stream_filters(project: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("ducto-acc-*"))
    code, out = invoke(
        ["--command", COMMAND, "--config", str(project), "--collect-only", "-k", "basic_read and not events"]
    )
    assert code == 0
    ids = out.splitlines()[1:]
    assert ids and all(i.startswith("basic_read::") and "events" not in i for i in ids)
    code, out = invoke(["--command", COMMAND, "--config", str(project), "--collect-only", "--stream", "events"])
    ids = out.splitlines()[1:]
    assert "basic_read::test_stream_has_records[events]" in ids
    assert not any("[users]" in i for i in ids)
    assert "incremental::test_incremental_streams" in ids  # users was the only incremental stream
    assert set(Path(tempfile.gettempdir()).glob("ducto-acc-*")) <= before  # nothing left behind


def test_junit_xml(project: Path, tmp_path: Path) -> None:
    junit = tmp_path / "out" / "report.xml"
    code, _ = invoke(
        ["--command", COMMAND, "--config", str(project), "-k", "spec", "--junitxml", str(junit)], "secret_not_marked"
    )
    assert code == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failing = [tc for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert [tc.get("name") for tc in failing] == ["test_secrets_are_marked"]
    assert "api_key" in (failing[0].find("failure").text or "")  # type: ignore[union-attr]
    skipped = [tc.get("name") for tc in suite.iter("testcase") if tc.find("skipped") is not None]
    assert "test_image_entrypoint" in skipped


def test_without_config_only_spec_checks_run() -> None:
    code, out = invoke(["--command", COMMAND])
    assert code == 0, out
    assert "no config (spec checks; reads with the spec's defaults if valid)" in out
    assert "spec::test_spec_message PASSED" in out
    assert (
        "connection::bypassed SKIPPED (bypassed: no acceptance config given and the spec's defaults are not a "
        "valid config ('api_key' is a required property)"
    ) in out
    assert "full_refresh::bypassed SKIPPED" in out


def test_without_config_spec_defaults_drive_a_read() -> None:
    code, out = invoke(["--command", COMMAND], defect="spec_all_defaults")
    assert code == 0, out
    assert "connection::test_check_succeed PASSED" in out
    assert "discovery::test_discover PASSED" in out
    assert "basic_read::test_records_match_schema[users] PASSED" in out
    assert "full_refresh::bypassed SKIPPED" in out


def test_per_test_timeout(project: Path) -> None:
    code, out = invoke(
        ["--command", COMMAND, "--config", str(project), "-k", "discovery", "--timeout", "2"], "hang_discover"
    )
    assert code == 1
    assert "`discover` timed out after 2s" in out


def test_user_errors_are_one_line(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("acceptance_tests: {connection: {tests: [{status: maybe}]}}")
    code, out = invoke(["--command", COMMAND, "--config", str(bad)])
    assert code == 1
    assert out.startswith("Error: ") and "status: expected succeed, failed or exception" in out
    code, out = invoke(["--command", COMMAND, "--config", str(project), "-k", "spec and ("])
    assert code == 2
    assert "unexpected end of expression" in out
    code, out = invoke([])
    assert code == 2
    assert "give an IMAGE" in out
    code, out = invoke(["some/image:dev", "--command", COMMAND])
    assert code == 2
    assert "either an IMAGE or --command" in out
    code, out = invoke(["--command", "/nonexistent/bin/source --flag"])
    assert code == 1
    assert "Error: --command: '/nonexistent/bin/source' is not an executable file" in out


def test_missing_connector_config_is_an_error_not_a_crash(project: Path) -> None:
    (project.parent / "secrets" / "config.json").unlink()
    code, out = invoke(["--command", COMMAND, "--config", str(project), "-k", "connection"])
    assert code == 1
    assert "ERROR" in out
    assert "secrets/config.json: cannot read" in out
    assert "Traceback" not in out
