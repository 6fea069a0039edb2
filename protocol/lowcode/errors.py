"""Errors raised by the low-code engine.

Every error carries a ``failure_type`` (``config_error``, ``system_error`` or ``transient_error``) so
the SDK entrypoint can turn it into the right TRACE message and exit code.
"""

from __future__ import annotations

from ducto.protocol.errors import ConnectorError, FailureType

CONFIG_ERROR = "config_error"
SYSTEM_ERROR = "system_error"
TRANSIENT_ERROR = "transient_error"


class LowCodeError(ConnectorError):
    """Base class of every error the engine raises on purpose (a ConnectorError for the SDK)."""

    default_failure_type = FailureType.SYSTEM_ERROR

    def __init__(self, message: str, failure_type: str | None = None) -> None:
        super().__init__(message, failure_type=FailureType(failure_type) if failure_type else None)


class ManifestError(LowCodeError):
    """The manifest is wrong: names the YAML path and what was expected."""

    default_failure_type = FailureType.CONFIG_ERROR

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InterpolationError(LowCodeError):
    """A template failed while rendering (bad expression at run time)."""

    default_failure_type = FailureType.CONFIG_ERROR


class HttpError(LowCodeError):
    """An HTTP request failed for good (after retries, or with a FAIL action)."""

    def __init__(self, message: str, failure_type: str, status_code: int | None = None) -> None:
        super().__init__(message, failure_type)
        self.status_code = status_code
