"""`ducto manifest init|validate|test` in-process (CliRunner) against a local server."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from ducto.orchestrator.cli.main import cli


def test_init_scaffolds_a_valid_manifest_that_reads(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/v1/users", headers={"Authorization": "Bearer tok-xyz"}).respond_with_json(
        {"data": {"items": [{"id": 1}, {"id": 2}]}}
    )
    out = tmp_path / "m.yaml"
    base = httpserver.url_for("/v1")
    result = CliRunner().invoke(
        cli,
        [
            "manifest",
            "init",
            "--url-base",
            base,
            "--endpoint",
            "/users",
            "--records-path",
            "data.items",
            "--auth",
            "bearer",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(out.read_text())
    assert manifest["streams"][0]["name"] == "users"
    assert manifest["spec"]["connection_specification"]["properties"]["api_token"]["airbyte_secret"] is True
    assert CliRunner().invoke(cli, ["manifest", "validate", str(out)]).output.startswith("OK: 1 stream (users)")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"api_token": "tok-xyz"}))
    result = CliRunner().invoke(cli, ["manifest", "test", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 records in 1 page" in result.output and "tok-xyz" not in result.output
    again = CliRunner().invoke(cli, ["manifest", "init", "--url-base", base, "--endpoint", "/users", "-o", str(out)])
    assert again.exit_code == 1 and "exists (use --force" in again.output


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["manifest", "validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "Error: cannot read manifest" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntype: DeclarativeSource\nstreams:\n  - name: a\n    retriever:\n      requester: {}\n")
    result = runner.invoke(cli, ["manifest", "validate", str(bad)])
    assert result.exit_code == 1
    assert (
        "Error: streams[0].retriever.requester.url: missing required field (expected url, or url_base and path)"
        in result.output
    )
    result = runner.invoke(
        cli, ["manifest", "init", "--url-base", "ftp://x", "--endpoint", "/a", "-o", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 2 and "expected an http:// or https:// URL" in result.output
    for r in (result,):
        assert "Traceback" not in r.output


def test_test_checks_config_against_spec_first(tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    CliRunner().invoke(
        cli,
        [
            "manifest",
            "init",
            "--url-base",
            "http://127.0.0.1:9",
            "--endpoint",
            "/a",
            "--auth",
            "api_key",
            "-o",
            str(out),
        ],
    )
    result = CliRunner().invoke(cli, ["manifest", "test", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: config (none given): (top level): 'api_key' is a required property"


def test_test_shows_retries(httpserver: HTTPServer, tmp_path: Path) -> None:
    calls = {"n": 0}

    def handler(request):  # type: ignore[no-untyped-def]
        from werkzeug import Response

        calls["n"] += 1
        if calls["n"] == 1:
            return Response("{}", status=429, headers={"Retry-After": "0.01"}, content_type="application/json")
        return Response(json.dumps([{"id": 1}]), content_type="application/json")

    httpserver.expect_request("/r").respond_with_handler(handler)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "version": "6",
                "type": "DeclarativeSource",
                "streams": [
                    {
                        "name": "r",
                        "retriever": {
                            "requester": {"url_base": httpserver.url_for("/").rstrip("/"), "path": "/r"},
                            "record_selector": {"extractor": {"field_path": []}},
                        },
                    }
                ],
            }
        )
    )
    result = CliRunner().invoke(cli, ["manifest", "test", str(manifest)])
    assert result.exit_code == 0, result.output
    assert "<- 429 RATE_LIMITED, waited 0.01s" in result.output
    assert "<- 200" in result.output and "1 record in 1 page" in result.output
