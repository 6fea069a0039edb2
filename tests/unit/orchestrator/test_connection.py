"""Connection files: shape, substitution, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from ducto.orchestrator.connection import load_connection, parse_duration
from ducto.orchestrator.errors import ConnectionFileError, UsageError


def write(tmp_path: Path, text: str, name: str = "sales.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_full_connection_file(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("tok-from-file\n")
    path = write(
        tmp_path,
        """
source: {image: ducto/source-faker:dev, config: {count: 10, key: "${env:KEY}", token: "${file:token.txt}"}}
destination:
  {command: "python dest.py --fast", config: {dsn: "pg://u:${env:PW}@h/db", literal: "$${env:X}"}, memory: 512m}
streams:
  - users
  - {name: orders, sync_mode: incremental, cursor_field: updated_at, primary_key: [[id], [region]]}
hang_timeout: 10m
local_dir: data
""",
    )
    conn = load_connection(path, environ={"KEY": "k-123", "PW": "pw-456"})
    assert conn.name == "sales"
    assert conn.source.runner == "docker" and conn.destination.runner == "process"
    assert conn.source.config == {"count": 10, "key": "k-123", "token": "tok-from-file"}
    assert conn.destination.config["dsn"] == "pg://u:pw-456@h/db"
    assert conn.destination.config["literal"] == "${env:X}"
    assert conn.destination.command == ["python", "dest.py", "--fast"]
    assert conn.destination.memory == "512m"
    assert conn.secrets == {"k-123", "tok-from-file", "pw-456"}
    assert conn.hang_timeout == 600  # 10m
    assert conn.local_dir == tmp_path / "data"
    users, orders = conn.streams or []
    assert users.name == "users" and users.sync_mode is None
    assert orders.cursor_field == ["updated_at"] and orders.primary_key == [["id"], ["region"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source: {image: a}\n", "sales.yaml: destination: missing (give it an image: or a command:)"),
        ("source: {image: a, command: b}\ndestination: {image: c}\n", "source: give exactly one of image:"),
        ("source: {image: a, colour: red}\ndestination: {image: c}\n", "source.colour: unknown key"),
        (
            "source: {image: a}\ndestination: {image: c}\nstreams: [{name: u, sync_mode: fast}]\n",
            "streams[u].sync_mode: 'fast' is not one of full_refresh, incremental",
        ),
        (
            "source: {image: a}\ndestination: {image: c}\nstreams: [{name: u, destination_sync_mode: merge}]\n",
            "streams[u].destination_sync_mode: 'merge' is not one of append, overwrite, append_dedup",
        ),
        ("source: {image: a}\ndestination: {image: c}\nstreams: [u, u]\n", "streams[u]: listed twice"),
        (
            "source: {image: a, config: {k: '${env:NOPE_NOT_SET}'}}\ndestination: {image: c}\n",
            "source.config.k: environment variable NOPE_NOT_SET is not set",
        ),
        (
            "source: {image: a, config: {k: '${file:missing.txt}'}}\ndestination: {image: c}\n",
            "source.config.k: cannot read",
        ),
        ("source: {image: a, config: {k: '${vault:x}'}}\ndestination: {image: c}\n", "unknown reference ${vault:...}"),
        ("source: {image: a}\ndestination: {image: c}\nhang_timeout: soon\n", "hang_timeout: expected a duration"),
        ("source: {image: a}\ndestination: {image: c, memory: lots}\n", "destination.memory: expected a size"),
        ("sources: {}\n", "unknown key 'sources'"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConnectionFileError) as caught:
        load_connection(write(tmp_path, text), environ={})
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "sales.yaml"))


def test_yaml_errors_give_the_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"sales.yaml: line 3: expected the node content"):
        load_connection(write(tmp_path, "source: {image: a}\ndestination: [\n"))


def test_env_defaults_and_config_files(tmp_path: Path) -> None:
    write(tmp_path, "count: ${env:COUNT:-5}\n", "source-config.yaml")
    conn = load_connection(
        write(tmp_path, "source: {image: a, config: source-config.yaml}\ndestination: {image: c}\n"), environ={}
    )
    assert conn.source.config == {"count": "5"}  # references in a referenced config file are resolved too
    assert parse_duration("500ms", "x") == 0.5 and parse_duration("2h", "x") == 7200 and parse_duration(30, "x") == 30
