"""Reading Airbyte's acceptance-test-config.yml: both layouts, relative paths, warnings, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ducto.orchestrator.acceptance.config import ConfigFileError, default_config, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acceptance-test-config.yml"
    path.write_text(text)
    return path


def test_current_layout_with_every_supported_key(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
connector_image: airbyte/source-x:dev
test_strictness_level: high
acceptance_tests:
  spec:
    tests:
      - spec_path: source_x/spec.json
        timeout_seconds: 30
  connection:
    tests:
      - config_path: secrets/config.json
        status: succeed
      - config_path: integration_tests/invalid_config.json
        status: exception
  discovery:
    bypass_reason: no credentials in CI
  basic_read:
    tests:
      - config_path: secrets/config.json
        configured_catalog_path: integration_tests/configured_catalog.json
        empty_streams:
          - name: empty
            bypass_reason: no data in the sandbox
          - other
        expect_records:
          path: integration_tests/expected_records.jsonl
          exact_order: yes
        validate_schema: false
        fail_on_extra_columns: false
        validate_stream_statuses: true
        validate_state_messages: false
        ignored_fields:
          users:
            - name: updated_at
              bypass_reason: changes every read
            - meta/etag
  full_refresh:
    tests:
      - config_path: secrets/config.json
        ignored_fields:
          users: [updated_at]
  incremental:
    tests:
      - config_path: secrets/config.json
        future_state:
          future_state_path: integration_tests/abnormal_state.json
          missing_streams:
            - name: events
              bypass_reason: not incremental
        skip_comprehensive_incremental_tests: true
""",
        )
    )
    assert cfg.connector_image == "airbyte/source-x:dev"
    assert cfg.high
    assert cfg.warnings == []
    spec = cfg.groups["spec"].tests[0]
    assert spec.spec_path == tmp_path / "source_x/spec.json"
    assert spec.timeout == 30
    assert [t.status for t in cfg.groups["connection"].tests] == ["succeed", "exception"]
    assert cfg.groups["discovery"].bypass_reason == "no credentials in CI"
    br = cfg.groups["basic_read"].tests[0]
    assert br.config_path == tmp_path / "secrets/config.json"
    assert br.configured_catalog_path == tmp_path / "integration_tests/configured_catalog.json"
    assert [(e.name, e.bypass_reason) for e in br.empty_streams] == [
        ("empty", "no data in the sandbox"),
        ("other", None),
    ]
    assert br.expect_records is not None and br.expect_records.exact_order
    assert br.expect_records.path == tmp_path / "integration_tests/expected_records.jsonl"
    assert (br.validate_schema, br.fail_on_extra_columns, br.validate_stream_statuses, br.validate_state_messages) == (
        False,
        False,
        True,
        False,
    )
    assert [f.name for f in br.ignored_fields["users"]] == ["updated_at", "meta/etag"]
    inc = cfg.groups["incremental"].tests[0]
    assert inc.future_state_path == tmp_path / "integration_tests/abnormal_state.json"
    assert [m.name for m in inc.future_state_missing_streams] == ["events"]
    assert inc.skip_comprehensive_incremental_tests
    assert inc.timeout == 1200  # the group's default


def test_legacy_layout_is_migrated(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
connector_image: airbyte/source-old:dev
tests:
  spec:
    - spec_path: spec.json
  connection:
    - config_path: secrets/config.json
      status: failed
""",
        )
    )
    assert cfg.groups["spec"].tests[0].spec_path == tmp_path / "spec.json"
    assert cfg.groups["connection"].tests[0].status == "failed"


def test_unsupported_keys_become_warnings(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
connector_image: x
custom_environment_variables: {LOG_LEVEL: debug}
acceptance_tests:
  discovery:
    tests:
      - config_path: c.json
        backward_compatibility_tests_config:
          disable_for_version: "1.0.0"
  basic_read:
    tests:
      - config_path: c.json
        client_container_config: {secrets_path: /s}
        expect_records:
          path: e.jsonl
          surprise: 1
  connector_attributes:
    tests: []
  spec:
    tests:
      - deployment_mode: oss
""",
        )
    )
    assert cfg.custom_environment_variables == {"LOG_LEVEL": "debug"}
    assert cfg.warnings == [
        "acceptance_tests.spec.tests[0].deployment_mode: not supported by ducto test, ignored",
        "acceptance_tests.discovery.tests[0].backward_compatibility_tests_config: not supported by ducto test, ignored",
        "acceptance_tests.basic_read.tests[0].expect_records.surprise: not supported by ducto test, ignored",
        "acceptance_tests.basic_read.tests[0].client_container_config: not supported by ducto test, ignored",
        "acceptance_tests.connector_attributes: this group is not run by ducto test",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acceptance_tests: {connection: {tests: [{status: maybe}]}}", "connection.tests[0].status: expected succeed"),
        ("acceptance_tests: {basic_read: {tests: [{validate_schema: 3}]}}", "validate_schema: expected true or false"),
        ("acceptance_tests: {spec: {tests: [{timeout_seconds: -1}]}}", "timeout_seconds: expected a non-negative"),
        ("acceptance_tests: {spec: {bypass_reason: x, tests: [{}]}}", "either `tests` or `bypass_reason`"),
        ("connector_image: x", "acceptance_tests: required"),
        ("test_strictness_level: extreme\nacceptance_tests: {}", "expected low or high"),
        ("acceptance_tests: {basic_read: {tests: [{expect_records: {exact_order: true}}]}}", "set `path` or"),
        ("acceptance_tests: [1, 2]", "acceptance_tests: expected a mapping"),
        ("acceptance_tests: {spec: {tests: [{spec_path: 1\n", "not valid YAML"),
    ],
)
def test_malformed_configs_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config(tmp_path / "nope.yml")


def test_default_config_runs_spec_only() -> None:
    cfg = default_config("some/image:dev")
    assert cfg.groups["spec"].tests
    assert all(cfg.groups[g].bypass_reason for g in ("connection", "discovery", "basic_read"))


def test_destination_group(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
connector_image: ducto/destination-duckdb:dev
acceptance_tests:
  destination:
    tests:
      - config_path: destination_config.json
        reader: {type: duckdb, path: "{local_dir}/db.duckdb"}
        sync_modes: [append]
        echo_wait_seconds: 5
        golden: custom.jsonl
""",
        )
    )
    entry = cfg.groups["destination"].tests[0]
    assert entry.config_path == tmp_path / "destination_config.json"
    assert entry.destination == {
        "reader": {"type": "duckdb", "path": "{local_dir}/db.duckdb"},
        "sync_modes": ["append"],
        "echo_wait_seconds": 5,
    }
    assert cfg.warnings == ["acceptance_tests.destination.tests[0].golden: not supported by ducto test, ignored"]
