"""Authenticators: NoAuth, ApiKey, Bearer, Basic, OAuth (client credentials / refresh token),
SessionToken, Selective."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests

from ducto.protocol import json
from ducto.protocol.lowcode.datetimes import UTC, parse_datetime, parse_duration
from ducto.protocol.lowcode.errors import CONFIG_ERROR, TRANSIENT_ERROR, HttpError
from ducto.protocol.lowcode.interpolation import Interpolated, InterpolatedMapping
from ducto.protocol.lowcode.manifest import Node
from ducto.protocol.lowcode.request_options import RequestOption, RequestParts

AUTHENTICATOR_TYPES = [
    "NoAuth",
    "ApiKeyAuthenticator",
    "BearerAuthenticator",
    "BasicHttpAuthenticator",
    "OAuthAuthenticator",
    "SessionTokenAuthenticator",
    "SelectiveAuthenticator",
    "JwtAuthenticator",
    "LegacySessionTokenAuthenticator",
]


class Authenticator(Protocol):
    """Adds credentials to a request."""

    def apply(self, parts: RequestParts) -> None:
        """Add headers or parameters carrying the credentials."""

    def secrets(self) -> list[str]:
        """Credential values to mask in logs and traces."""


class NoAuth:
    """No credentials."""

    def apply(self, parts: RequestParts) -> None:
        return None

    def secrets(self) -> list[str]:
        return []


class ApiKeyAuthenticator:
    """An API key in a header (`header` or `inject_into`) or in a query parameter."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        params = node.parameters
        self.token = Interpolated(
            node.require("api_token", "the API key, e.g. \"{{ config['api_key'] }}\""),
            params,
            path=node.at("api_token"),
            valid_types=(str,),
        )
        inject = node.child("inject_into", expected="a RequestOption")
        header = node.string("header")
        if inject is not None and header:
            raise node.error("header and inject_into cannot both be set (expected only inject_into)", "header")
        if inject is not None:
            self.option: RequestOption | None = RequestOption(
                Node({"type": "RequestOption", **inject.data}, inject.path)
            )
            self.header: Interpolated | None = None
        elif header:
            self.option = None
            self.header = Interpolated(header, params, path=node.at("header"), valid_types=(str,))
        else:
            raise node.error("missing required field (expected inject_into or header)", "inject_into")

    def _value(self) -> str:
        return str(self.token.eval(self.config) or "")

    def apply(self, parts: RequestParts) -> None:
        if self.option is not None:
            self.option.inject(parts, self._value(), self.config)
        elif self.header is not None:
            parts.headers[str(self.header.eval(self.config))] = self._value()

    def secrets(self) -> list[str]:
        return [self._value()]


class BearerAuthenticator:
    """`Authorization: Bearer <token>`."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        self.token = Interpolated(
            node.require("api_token", "the token"),
            node.parameters,
            path=node.at("api_token"),
            valid_types=(str,),
        )

    def apply(self, parts: RequestParts) -> None:
        parts.headers["Authorization"] = f"Bearer {self.token.eval(self.config)}"

    def secrets(self) -> list[str]:
        return [str(self.token.eval(self.config) or "")]


class BasicHttpAuthenticator:
    """`Authorization: Basic base64(username:password)`."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        params = node.parameters
        self.username = Interpolated(
            node.require("username", "the username"), params, path=node.at("username"), valid_types=(str,)
        )
        self.password = Interpolated(node.raw("password", ""), params, path=node.at("password"), valid_types=(str,))

    def _encoded(self) -> str:
        user = self.username.eval(self.config) or ""
        password = self.password.eval(self.config) or ""
        return base64.b64encode(f"{user}:{password}".encode()).decode()

    def apply(self, parts: RequestParts) -> None:
        parts.headers["Authorization"] = f"Basic {self._encoded()}"

    def secrets(self) -> list[str]:
        return [self._encoded(), str(self.password.eval(self.config) or "")]


def _dig(data: Any, path: list[str]) -> Any:
    for key in path:
        if isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def _set_in(config: dict[str, Any], path: list[str], value: Any) -> None:
    target = config
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


ConfigUpdateHook = Callable[[dict[str, Any]], None]


class OAuthAuthenticator:
    """OAuth 2.0 access tokens from a refresh token or client credentials, refreshed before expiry."""

    def __init__(
        self,
        node: Node,
        config: dict[str, Any],
        session: requests.Session,
        on_config_update: ConfigUpdateHook | None = None,
    ) -> None:
        self.config = config
        self.session = session
        self.on_config_update = on_config_update
        p = node.parameters

        def interp(key: str, default: Any = None) -> Interpolated:
            return Interpolated(node.raw(key, default), p, path=node.at(key), valid_types=(str,))

        self.client_id = interp("client_id")
        self.client_secret = interp("client_secret")
        self.refresh_token = interp("refresh_token")
        self.access_token_value = interp("access_token_value")
        self.endpoint = interp("token_refresh_endpoint")
        self.grant_type = interp("grant_type", "refresh_token")
        self.client_id_name = node.string("client_id_name", "client_id") or "client_id"
        self.client_secret_name = node.string("client_secret_name", "client_secret") or "client_secret"
        self.refresh_token_name = node.string("refresh_token_name", "refresh_token") or "refresh_token"
        self.grant_type_name = node.string("grant_type_name", "grant_type") or "grant_type"
        self.access_token_name = node.string("access_token_name", "access_token") or "access_token"
        self.expires_in_name = node.string("expires_in_name", "expires_in") or "expires_in"
        self.expiry_format = node.string("token_expiry_date_format")
        self.scopes = node.string_list("scopes")
        self.body = InterpolatedMapping(node.mapping("refresh_request_body"), p, path=node.at("refresh_request_body"))
        self.headers = InterpolatedMapping(
            node.mapping("refresh_request_headers"), p, path=node.at("refresh_request_headers")
        )
        updater = node.child("refresh_token_updater", expected="a mapping")
        self.updater: dict[str, Any] | None = dict(updater.data) if updater is not None else None
        self._token: str | None = None
        self._expires_at: dt.datetime | None = None
        if not self.access_token_value.value and not self.endpoint.value:
            raise node.error(
                "missing required field (expected token_refresh_endpoint or access_token_value)",
                "token_refresh_endpoint",
            )

    def _grant(self) -> str:
        return str(self.grant_type.eval(self.config) or "refresh_token")

    def _refresh_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {self.grant_type_name: self._grant()}
        client_id = self.client_id.eval(self.config)
        client_secret = self.client_secret.eval(self.config)
        if client_id:
            body[self.client_id_name] = client_id
        if client_secret:
            body[self.client_secret_name] = client_secret
        if self._grant() == "refresh_token":
            body[self.refresh_token_name] = self._current_refresh_token()
        if self.scopes:
            body["scopes"] = self.scopes
        body.update(self.body.eval(self.config))
        return body

    def _current_refresh_token(self) -> Any:
        if self.updater is not None:
            stored = _dig(
                self.config,
                list(self.updater.get("refresh_token_config_path", ["credentials", "refresh_token"])),
            )
            if stored:
                return stored
        return self.refresh_token.eval(self.config)

    def access_token(self) -> str:
        """A valid access token, refreshing it when missing or about to expire."""
        static = self.access_token_value.eval(self.config)
        if static and not self.endpoint.value:
            return str(static)
        now = dt.datetime.now(tz=UTC)
        if self._token and self._expires_at and now < self._expires_at - dt.timedelta(seconds=60):
            return self._token
        self._refresh(now)
        assert self._token is not None
        return self._token

    def _refresh(self, now: dt.datetime) -> None:
        url = str(self.endpoint.eval(self.config))
        try:
            response = self.session.post(
                url, data=self._refresh_body(), headers=self.headers.eval(self.config), timeout=60
            )
        except requests.RequestException as exc:
            raise HttpError(f"OAuth token refresh at {url} failed: {type(exc).__name__}", TRANSIENT_ERROR) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise HttpError(
                f"OAuth token refresh at {url} failed with HTTP {response.status_code}",
                TRANSIENT_ERROR,
                response.status_code,
            )
        if not response.ok:
            raise HttpError(
                f"OAuth token refresh at {url} was refused with HTTP {response.status_code}: "
                "check the client id, secret and refresh token",
                CONFIG_ERROR,
                response.status_code,
            )
        try:
            payload = response.json()
        except ValueError:
            raise HttpError(f"OAuth token refresh at {url} did not return JSON", CONFIG_ERROR) from None
        token = _dig(payload, self.access_token_name.split("."))
        if not token:
            raise HttpError(f"OAuth token refresh at {url} returned no {self.access_token_name!r}", CONFIG_ERROR)
        self._token = str(token)
        expires = _dig(payload, self.expires_in_name.split("."))
        if expires is None:
            self._expires_at = now + dt.timedelta(hours=1)
        elif self.expiry_format:
            self._expires_at = parse_datetime(expires, [self.expiry_format])
        else:
            try:
                self._expires_at = now + dt.timedelta(seconds=float(expires))
            except (TypeError, ValueError):
                self._expires_at = parse_datetime(expires)
        if self.updater is not None:
            self._write_back(payload)

    def _write_back(self, payload: Any) -> None:
        assert self.updater is not None
        new_refresh = _dig(payload, [str(self.updater.get("refresh_token_name", "refresh_token"))])
        if not new_refresh:
            return
        _set_in(
            self.config,
            list(self.updater.get("refresh_token_config_path", ["credentials", "refresh_token"])),
            new_refresh,
        )
        _set_in(
            self.config,
            list(self.updater.get("access_token_config_path", ["credentials", "access_token"])),
            self._token,
        )
        if self._expires_at is not None:
            _set_in(
                self.config,
                list(self.updater.get("token_expiry_date_config_path", ["credentials", "token_expiry_date"])),
                self._expires_at.isoformat(),
            )
        if self.on_config_update is not None:
            self.on_config_update(self.config)

    def apply(self, parts: RequestParts) -> None:
        parts.headers["Authorization"] = f"Bearer {self.access_token()}"

    def secrets(self) -> list[str]:
        values = [
            self.client_secret.eval(self.config),
            self.refresh_token.eval(self.config),
            self.access_token_value.eval(self.config),
            self._token,
        ]
        return [str(v) for v in values if v]


LoginFn = Callable[[], Any]


class SessionTokenAuthenticator:
    """Logs in with a login request, reads a session token from its response, injects it."""

    def __init__(self, node: Node, config: dict[str, Any], login: LoginFn) -> None:
        self.config = config
        self.login = login
        self.token_path = node.string_list("session_token_path", required=True)
        expiration = node.string("expiration_duration")
        try:
            self.expiration = parse_duration(expiration) if expiration else None
        except ValueError as exc:
            raise node.error(str(exc), "expiration_duration") from None
        how = node.child("request_authentication", required=True, expected="ApiKey or Bearer")
        assert how is not None
        kind = how.expect_type(["ApiKey", "Bearer"], "request_authentication")
        self.option: RequestOption | None = None
        if kind == "ApiKey":
            inject = how.child("inject_into", required=True, expected="a RequestOption")
            assert inject is not None
            self.option = RequestOption(Node({"type": "RequestOption", **inject.data}, inject.path))
        self._token: str | None = None
        self._obtained_at: dt.datetime | None = None

    def token(self) -> str:
        """The session token, logging in again when it expired (or on every request without expiry)."""
        now = dt.datetime.now(tz=UTC)
        fresh = (
            self._token is not None
            and self._obtained_at is not None
            and self.expiration is not None
            and now < self._obtained_at + self.expiration
        )
        if not fresh:
            body = self.login()
            value = _dig(body, self.token_path)
            if not value:
                raise HttpError(f"the login response has no session token at {'/'.join(self.token_path)}", CONFIG_ERROR)
            self._token = str(value)
            self._obtained_at = now
        assert self._token is not None
        return self._token

    def apply(self, parts: RequestParts) -> None:
        token = self.token()
        if self.option is not None:
            self.option.inject(parts, token, self.config)
        else:
            parts.headers["Authorization"] = f"Bearer {token}"

    def secrets(self) -> list[str]:
        return [self._token] if self._token else []


class SelectiveAuthenticator:
    """Chooses one of several authenticators by a value in the config."""

    def __init__(self, node: Node, config: dict[str, Any], build: Callable[[Node], Authenticator]) -> None:
        path = node.string_list("authenticator_selection_path", required=True)
        choices = node.mapping("authenticators")
        selected = _dig(config, path)
        if selected not in choices:
            raise node.error(
                f"config value at {'/'.join(path)} is {selected!r} (expected one of {', '.join(map(repr, choices))})",
                "authenticator_selection_path",
            )
        child = node.child("authenticators")
        assert child is not None
        chosen = child.child(str(selected), required=True)
        assert chosen is not None
        self.inner = build(chosen)

    def apply(self, parts: RequestParts) -> None:
        self.inner.apply(parts)

    def secrets(self) -> list[str]:
        return self.inner.secrets()


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JwtAuthenticator:
    """A JSON web token signed with HMAC (HS256/384/512), made fresh per `token_duration`."""

    def __init__(self, node: Node, config: dict[str, Any]) -> None:
        self.config = config
        p = node.parameters
        algorithm = str(node.require("algorithm", "one of " + ", ".join(_HMAC)))
        if algorithm not in _HMAC:
            raise node.error(
                f"algorithm {algorithm!r} is not supported (expected one of {', '.join(_HMAC)}; "
                "RSA/EC keys need a crypto library Ducto does not ship)",
                "algorithm",
            )
        self.digest = _HMAC[algorithm]
        self.algorithm = algorithm
        self.secret = Interpolated(
            node.require("secret_key", "the signing secret"), p, path=node.at("secret_key"), valid_types=(str,)
        )
        self.b64_secret = node.boolean("base64_encode_secret_key", False)
        duration = node.raw("token_duration", 1200)
        if not isinstance(duration, int):
            raise node.error(f"expected a number of seconds, got {duration!r}", "token_duration")
        self.duration = duration
        self.prefix = node.string("header_prefix")
        self.headers = InterpolatedMapping(
            {**node.mapping("jwt_headers"), **node.mapping("additional_jwt_headers")}, p, path=node.at("jwt_headers")
        )
        self.payload = InterpolatedMapping(
            {**node.mapping("jwt_payload"), **node.mapping("additional_jwt_payload")}, p, path=node.at("jwt_payload")
        )
        option = node.child("request_option", expected="a RequestOption")
        self.option = RequestOption(Node({"type": "RequestOption", **option.data}, option.path)) if option else None
        self._token: str | None = None
        self._expires: float = 0.0

    def token(self) -> str:
        now = time.time()
        if self._token is not None and now < self._expires - 30:
            return self._token
        header = {"alg": self.algorithm, "typ": "JWT", **self.headers.eval(self.config)}
        payload = {"iat": int(now), "nbf": int(now), "exp": int(now) + self.duration, **self.payload.eval(self.config)}
        secret = str(self.secret.eval(self.config) or "").encode()
        if self.b64_secret:
            secret = base64.b64encode(secret)
        signing_input = f"{_b64url(json.dumps(header))}.{_b64url(json.dumps(payload))}"
        signature = hmac.new(secret, signing_input.encode(), self.digest).digest()
        self._token = f"{signing_input}.{_b64url(signature)}"
        self._expires = now + self.duration
        return self._token

    def apply(self, parts: RequestParts) -> None:
        value = f"{self.prefix} {self.token()}" if self.prefix else self.token()
        if self.option is not None:
            self.option.inject(parts, value, self.config)
        else:
            parts.headers["Authorization"] = value

    def secrets(self) -> list[str]:
        return [v for v in (str(self.secret.eval(self.config) or ""), self._token) if v]


class LegacySessionTokenAuthenticator:
    """A session token in a header: given in the config (and validated) or obtained by logging in with
    username and password at `login_url` (relative to the API base URL)."""

    def __init__(
        self, node: Node, config: dict[str, Any], session: requests.Session, api_url: Callable[[], str], timeout: float
    ) -> None:
        self.config = config
        self.session = session
        self.api_url = api_url
        self.timeout = timeout
        p = node.parameters

        def interp(key: str, default: Any = None) -> Interpolated:
            return Interpolated(node.raw(key, default), p, path=node.at(key), valid_types=(str,))

        self.header = str(node.require("header", "the header carrying the session token"))
        self.login_url = str(node.require("login_url", "the login path"))
        self.validate_url = str(node.require("validate_session_url", "the path validating a session"))
        self.response_key = str(node.require("session_token_response_key", "the token's key in the login response"))
        self.session_token = interp("session_token")
        self.username = interp("username")
        self.password = interp("password", "")
        self._token: str | None = None

    def _url(self, path: str) -> str:
        return self.api_url().rstrip("/") + "/" + path.lstrip("/")

    def token(self) -> str:
        if self._token is not None:
            return self._token
        given = self.session_token.eval(self.config)
        try:
            if given:
                check = self.session.get(
                    self._url(self.validate_url), headers={self.header: str(given)}, timeout=self.timeout
                )
                if not check.ok:
                    raise HttpError(
                        f"the session token was refused (HTTP {check.status_code})", CONFIG_ERROR, check.status_code
                    )
                self._token = str(given)
                return self._token
            username = self.username.eval(self.config)
            if not username:
                raise HttpError("set a session_token, or a username and password", CONFIG_ERROR)
            login = self.session.post(
                self._url(self.login_url),
                timeout=self.timeout,
                json={"username": username, "password": self.password.eval(self.config) or ""},
            )
        except requests.RequestException as exc:
            raise HttpError(f"login failed: {type(exc).__name__}", TRANSIENT_ERROR) from None
        if not login.ok:
            raise HttpError(
                f"login was refused (HTTP {login.status_code}): check username and password",
                CONFIG_ERROR,
                login.status_code,
            )
        try:
            token = login.json().get(self.response_key)
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise HttpError(f"the login response has no {self.response_key!r}", CONFIG_ERROR)
        self._token = str(token)
        return self._token

    def apply(self, parts: RequestParts) -> None:
        parts.headers[self.header] = self.token()

    def secrets(self) -> list[str]:
        values = [self._token, self.session_token.eval(self.config), self.password.eval(self.config)]
        return [str(v) for v in values if v]
