"""The base image's self-check (`python -m ducto.protocol.sdk.selfcheck`), run in-process."""

from __future__ import annotations

import io

import pytest
from airbyte_protocol.models import AirbyteMessage, Type

from ducto import __version__
from ducto.protocol.sdk import selfcheck


def run(argv: list[str]) -> tuple[int, list[AirbyteMessage]]:
    out = io.BytesIO()
    code = selfcheck.run(argv, out)
    return code, [AirbyteMessage.parse_raw(line) for line in out.getvalue().splitlines()]


def test_every_check_logs_and_a_summary_status_ends_the_output() -> None:
    code, messages = run([])
    assert code == 0
    assert [m.type for m in messages] == [Type.LOG] * len(selfcheck.CHECKS) + [Type.CONNECTION_STATUS]
    assert all(m.log.message.startswith("ok: ") for m in messages[:-1])
    assert "orjson" in messages[1].log.message
    status = messages[-1].connectionStatus
    assert status.status.value == "SUCCEEDED"
    assert status.message.startswith(f"ducto {__version__} ready to run connectors")


def test_a_failing_check_is_a_system_error_trace_and_exit_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def _check_broken() -> str:
        raise RuntimeError("orjson is missing")

    monkeypatch.setattr(selfcheck, "CHECKS", [*selfcheck.CHECKS[:1], _check_broken])
    code, messages = run([])
    assert code == 1
    assert [m.type for m in messages] == [Type.LOG, Type.TRACE]
    error = messages[-1].trace.error
    assert error.failure_type.value == "system_error"
    assert error.message == "self-check check_broken failed: orjson is missing"


def test_arguments_mean_a_connector_image_forgot_its_entrypoint() -> None:
    code, messages = run(["read", "--config", "c.json"])
    assert code == 2
    (trace,) = messages
    assert trace.trace.error.failure_type.value == "config_error"
    assert "'read --config c.json'" in trace.trace.error.message
    assert "ENTRYPOINT" in trace.trace.error.message
