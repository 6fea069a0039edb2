"""The error family: one exception carries a failure_type, which decides the TRACE and exit code."""

from __future__ import annotations

from enum import StrEnum


class FailureType(StrEnum):
    """Airbyte's classification of a failure: who has to act on it."""

    SYSTEM_ERROR = "system_error"
    CONFIG_ERROR = "config_error"
    TRANSIENT_ERROR = "transient_error"


class ConnectorError(Exception):
    """An error a connector reports as a TRACE ERROR.

    `message` is shown to users; `internal_message` carries detail for developers.
    """

    default_failure_type = FailureType.SYSTEM_ERROR

    def __init__(
        self,
        message: str,
        *,
        failure_type: FailureType | None = None,
        internal_message: str | None = None,
        stream: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.failure_type = failure_type or self.default_failure_type
        self.internal_message = internal_message
        self.stream = stream


class ConfigError(ConnectorError):
    """The user's configuration is wrong (bad value, bad credentials, missing permission)."""

    default_failure_type = FailureType.CONFIG_ERROR


class TransientError(ConnectorError):
    """A failure that may go away on retry (timeouts, rate limits, unavailable servers)."""

    default_failure_type = FailureType.TRANSIENT_ERROR


class ProtocolError(ValueError):
    """A line or document that is not a valid Airbyte message; names the line when known."""

    def __init__(self, message: str, line_no: int | None = None) -> None:
        self.message = message
        self.line_no = line_no
        super().__init__(f"line {line_no}: {message}" if line_no is not None else message)
