"""Reading Airbyte's `acceptance-test-config.yml` (Connector Acceptance Tests format).

Users migrating from Airbyte bring their files unchanged: the current layout (`acceptance_tests:`
with one `tests:` list or a `bypass_reason` per group) and the legacy one (top-level `tests:`) are
both read. Paths are relative to the config file (or its `base_path`). Keys this suite does not
act on are collected as warnings, shown in the report, never silently dropped. A malformed file
raises `ConfigFileError` naming the key and the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ducto.protocol import json

GROUPS = ("spec", "connection", "discovery", "basic_read", "full_refresh", "incremental")
# Groups that exist in CAT but that this suite does not run (reported as warnings).
UNSUPPORTED_GROUPS = ("connector_attributes", "connector_documentation")
DEFAULT_TIMEOUTS = {
    "spec": 60,
    "connection": 60,
    "discovery": 120,
    "basic_read": 600,
    "full_refresh": 1200,
    "incremental": 1200,
    "destination": 600,
}
DEFAULT_CONFIG_PATH = "secrets/config.json"


class ConfigFileError(ValueError):
    """The acceptance config is malformed; the message names the file and the key."""


@dataclass(slots=True)
class Named:
    """A stream or field named in the config, with the reason it is special."""

    name: str
    bypass_reason: str | None = None


@dataclass(slots=True)
class ExpectRecords:
    """`expect_records`: records the read must produce."""

    path: Path | None = None
    exact_order: bool = False
    extra_fields: bool = False
    extra_records: bool = True
    bypass_reason: str | None = None


@dataclass(slots=True)
class TestEntry:
    """One entry of a group's `tests:` list (all groups share this shape; unused keys stay None)."""

    group: str
    index: int
    config_path: Path | None = None
    configured_catalog_path: Path | None = None
    timeout_seconds: int | None = None
    # spec
    spec_path: Path | None = None
    # connection
    status: str = "succeed"
    # basic_read
    empty_streams: list[Named] = field(default_factory=list)
    expect_records: ExpectRecords | None = None
    validate_schema: bool = True
    fail_on_extra_columns: bool = True
    validate_stream_statuses: bool | None = None
    validate_state_messages: bool = True
    validate_primary_keys_data_type: bool = True
    expect_trace_message_on_failure: bool = True
    # basic_read / full_refresh
    ignored_fields: dict[str, list[Named]] = field(default_factory=dict)
    # incremental
    future_state_path: Path | None = None
    future_state_bypass: str | None = None
    future_state_missing_streams: list[Named] = field(default_factory=list)
    skip_comprehensive_incremental_tests: bool = False
    # destination (Ducto extension)
    destination: dict[str, Any] = field(default_factory=dict)

    @property
    def timeout(self) -> float:
        """Seconds this entry's tests may take."""
        return float(self.timeout_seconds or DEFAULT_TIMEOUTS.get(self.group, 600))


@dataclass(slots=True)
class Group:
    """One group of `acceptance_tests` (spec, connection, ...)."""

    name: str
    tests: list[TestEntry] = field(default_factory=list)
    bypass_reason: str | None = None


@dataclass(slots=True)
class AcceptanceConfig:
    """The whole file, resolved."""

    path: Path | None
    connector_image: str | None
    test_strictness_level: str = "low"
    groups: dict[str, Group] = field(default_factory=dict)
    custom_environment_variables: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    @property
    def metadata_path(self) -> Path | None:
        """`metadata.yaml` beside the config file, when there is one."""
        if self.path is None:
            return None
        candidate = self.path.parent / "metadata.yaml"
        return candidate if candidate.is_file() else None

    @property
    def high(self) -> bool:
        """Whether `test_strictness_level: high`."""
        return self.test_strictness_level == "high"


def default_config(image: str | None) -> AcceptanceConfig:
    """The config used when none is given: the spec tests, which need no connector config (the suite
    adds connection, discovery and basic_read with `{}` when the spec accepts an empty config)."""
    cfg = AcceptanceConfig(path=None, connector_image=image)
    cfg.groups["spec"] = Group("spec", [TestEntry("spec", 0)])
    for name in GROUPS[1:]:
        cfg.groups[name] = Group(name, bypass_reason="no acceptance config given (pass --config FILE)")
    return cfg


class _Reader:
    """Typed access to one mapping of the YAML file, recording unknown keys as warnings."""

    def __init__(self, cfg: AcceptanceConfig, base: Path, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigFileError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.cfg, self.base, self.where, self.data = cfg, base, where, data
        self.used: set[str] = set()

    def _get(self, key: str) -> Any:
        self.used.add(key)
        return self.data.get(key)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigFileError(f"{self.where}.{key}: expected a string, got {type(value).__name__}")
        return str(value)

    def flag(self, key: str, default: bool | None) -> bool | None:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigFileError(f"{self.where}.{key}: expected true or false, got {value!r}")
        return value

    def integer(self, key: str) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigFileError(f"{self.where}.{key}: expected a non-negative integer, got {value!r}")
        return value

    def path(self, key: str, default: str | None = None) -> Path | None:
        value = self.text(key, default)
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p

    def child(self, key: str) -> _Reader | None:
        value = self._get(key)
        if value is None:
            return None
        return _Reader(self.cfg, self.base, f"{self.where}.{key}", value)

    def raw(self, key: str) -> Any:
        return self._get(key)

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                self.cfg.warnings.append(f"{self.where}.{key}: not supported by ducto test, ignored")


def _named_list(r: _Reader, key: str) -> list[Named]:
    value = r.raw(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigFileError(f"{r.where}.{key}: expected a list")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(Named(item))
            continue
        sub = _Reader(r.cfg, r.base, f"{r.where}.{key}[{i}]", item)
        name = sub.text("name")
        if not name:
            raise ConfigFileError(f"{r.where}.{key}[{i}].name: required")
        out.append(Named(name, sub.text("bypass_reason")))
        sub.finish()
    return out


def _ignored_fields(r: _Reader) -> dict[str, list[Named]]:
    sub = r.child("ignored_fields")
    if sub is None:
        return {}
    out = {str(stream): _named_list(sub, str(stream)) for stream in sub.data}
    sub.finish()
    return out


def _entry(cfg: AcceptanceConfig, base: Path, group: str, index: int, data: Any) -> TestEntry:
    r = _Reader(cfg, base, f"acceptance_tests.{group}.tests[{index}]", data)
    e = TestEntry(group, index, timeout_seconds=r.integer("timeout_seconds"))
    if group != "spec" or "config_path" in r.data:
        e.config_path = r.path("config_path", DEFAULT_CONFIG_PATH)
    if group == "spec":
        e.spec_path = r.path("spec_path")
    if group == "connection":
        status = r.text("status", "succeed") or "succeed"
        if status not in ("succeed", "failed", "exception"):
            raise ConfigFileError(f"{r.where}.status: expected succeed, failed or exception, got {status!r}")
        e.status = status
    if group in ("basic_read", "full_refresh", "incremental"):
        e.configured_catalog_path = r.path("configured_catalog_path")
    if group in ("basic_read", "full_refresh"):
        e.ignored_fields = _ignored_fields(r)
    if group == "basic_read":
        e.empty_streams = _named_list(r, "empty_streams")
        e.validate_schema = bool(r.flag("validate_schema", True))
        e.fail_on_extra_columns = bool(r.flag("fail_on_extra_columns", True))
        e.validate_stream_statuses = r.flag("validate_stream_statuses", None)
        e.validate_state_messages = bool(r.flag("validate_state_messages", True))
        e.validate_primary_keys_data_type = bool(r.flag("validate_primary_keys_data_type", True))
        e.expect_trace_message_on_failure = bool(r.flag("expect_trace_message_on_failure", True))
        er = r.child("expect_records")
        if er is not None:
            e.expect_records = ExpectRecords(
                path=er.path("path"),
                exact_order=bool(er.flag("exact_order", False)),
                extra_fields=bool(er.flag("extra_fields", False)),
                extra_records=bool(er.flag("extra_records", True)),
                bypass_reason=er.text("bypass_reason"),
            )
            if e.expect_records.path is None and not e.expect_records.bypass_reason:
                raise ConfigFileError(f"{er.where}: set `path` or `bypass_reason`")
            er.finish()
    if group == "incremental":
        e.skip_comprehensive_incremental_tests = bool(r.flag("skip_comprehensive_incremental_tests", False))
        fs = r.child("future_state")
        if fs is not None:
            e.future_state_path = fs.path("future_state_path")
            e.future_state_bypass = fs.text("bypass_reason")
            e.future_state_missing_streams = _named_list(fs, "missing_streams")
            fs.finish()
    if group == "destination":
        e.destination = {k: v for k in ("reader", "sync_modes", "echo_wait_seconds") if (v := r.raw(k)) is not None}
    r.finish()
    return e


def _migrate_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """CAT before 0.2.12 had `tests: {group: [entries]}` at the top level."""
    out = {k: v for k, v in data.items() if k != "tests"}
    legacy = data.get("tests") or {}
    if not isinstance(legacy, dict):
        raise ConfigFileError("tests: expected a mapping of group -> list of tests")
    out["acceptance_tests"] = {group: {"tests": entries} for group, entries in legacy.items()}
    return out


def load_config(path: str | Path) -> AcceptanceConfig:
    """Read and resolve an acceptance-test-config.yml."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigFileError(f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        return parse_config(data, path)
    except ConfigFileError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None


def parse_config(data: Any, path: Path | None) -> AcceptanceConfig:
    """Resolve an already-parsed config document (see `load_config`)."""
    if not isinstance(data, dict):
        raise ConfigFileError("expected a mapping at the top level")
    if "tests" in data and "acceptance_tests" not in data:
        data = _migrate_legacy(data)
    cfg = AcceptanceConfig(path=path.resolve() if path else None, connector_image=None)
    top = _Reader(cfg, cfg.base_dir, "$", data)
    cfg.connector_image = top.text("connector_image")
    base_path = top.text("base_path")
    base = cfg.base_dir / base_path if base_path else cfg.base_dir
    top.base = base
    level = top.text("test_strictness_level", "low") or "low"
    if level not in ("low", "high"):
        raise ConfigFileError(f"test_strictness_level: expected low or high, got {level!r}")
    cfg.test_strictness_level = level
    env = top.raw("custom_environment_variables") or {}
    if not isinstance(env, dict):
        raise ConfigFileError("custom_environment_variables: expected a mapping")
    cfg.custom_environment_variables = {str(k): str(v) for k, v in env.items()}
    groups = top.child("acceptance_tests")
    if groups is None:
        raise ConfigFileError("acceptance_tests: required (the groups of tests to run)")
    for name in (*GROUPS, "destination"):  # destination: Ducto's extension (golden streams through write)
        g = groups.child(name)
        if g is None:
            continue
        group = Group(name, bypass_reason=g.text("bypass_reason"))
        tests = g.raw("tests")
        if tests is not None:
            if not isinstance(tests, list):
                raise ConfigFileError(f"acceptance_tests.{name}.tests: expected a list")
            if group.bypass_reason:
                raise ConfigFileError(f"acceptance_tests.{name}: set either `tests` or `bypass_reason`, not both")
            group.tests = [_entry(cfg, base, name, i, t) for i, t in enumerate(tests)]
        g.finish()
        cfg.groups[name] = group
    for name in UNSUPPORTED_GROUPS:
        if name in groups.data:
            groups.used.add(name)
            cfg.warnings.append(f"acceptance_tests.{name}: this group is not run by ducto test")
    groups.finish()
    top.finish()
    return cfg


def load_json_file(path: Path, what: str) -> Any:
    """Read a JSON (or YAML) input named by the config; raises ConfigFileError naming it."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(f"{what} {path}: cannot read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigFileError(f"{what} {path}: not valid JSON") from None


def load_jsonl_file(path: Path, what: str) -> list[Any]:
    """Read a JSON-lines file (expected records); blank lines are skipped."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ConfigFileError(f"{what} {path}: cannot read ({exc.strerror})") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            raise ConfigFileError(f"{what} {path}: line {n} is not valid JSON") from None
    return out
