"""DeclarativeSource: a whole manifest with a config -> spec, check, streams."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from ducto.protocol.lowcode.api_budget import ApiBudget
from ducto.protocol.lowcode.config_rules import normalize_config
from ducto.protocol.lowcode.context import BuildContext, RuntimeOptions
from ducto.protocol.lowcode.dynamic_streams import resolve_dynamic_streams
from ducto.protocol.lowcode.errors import CONFIG_ERROR, LowCodeError, ManifestError
from ducto.protocol.lowcode.interpolation import InterpolatedBoolean
from ducto.protocol.lowcode.manifest import Node, load_manifest_file, load_manifest_text, resolve_manifest
from ducto.protocol.lowcode.streams import DeclarativeStream, ReadLimits, StateCheckpoint, StateDelegatingStream
from ducto.protocol.lowcode.tracing import Masker, config_secrets


def load_manifest(manifest: Mapping[str, Any] | str | Path) -> tuple[dict[str, Any], Path | None]:
    """A manifest from a dict, a path, or YAML text; returns it with the folder relative files live in."""
    if isinstance(manifest, Mapping):
        return dict(manifest), None
    if isinstance(manifest, Path) or ("\n" not in manifest and manifest.endswith((".yaml", ".yml", ".json"))):
        path = Path(manifest)
        return load_manifest_file(path), path.resolve().parent
    return load_manifest_text(manifest), None


class DeclarativeSource:
    """A declarative (low-code) source built from a manifest and a config.

    `streams()` gives `DeclarativeStream`s whose `read(state)` yields records and `StateCheckpoint`s.
    Building validates the whole manifest: a mistake raises ManifestError naming its YAML path.
    """

    def __init__(
        self,
        manifest: Mapping[str, Any] | str | Path,
        config: Mapping[str, Any] | None = None,
        *,
        options: RuntimeOptions | None = None,
        base_dir: Path | None = None,
        on_config_update: Callable[[dict[str, Any]], None] | None = None,
        resolve_dynamic: bool = True,
    ) -> None:
        raw, folder = load_manifest(manifest)
        self.raw_manifest = raw
        self.manifest = resolve_manifest(raw)
        self._check_top_level()
        given = copy.deepcopy(dict(config or {}))
        self.config, migrated = normalize_config(self.manifest.get("spec"), given)
        spec = self.manifest.get("spec") or {}
        conn_spec = spec.get("connection_specification") if isinstance(spec, dict) else None
        self.masker = Masker(config_secrets(self.config, conn_spec if isinstance(conn_spec, dict) else None))
        session = requests.Session()
        self.ctx = BuildContext(
            config=self.config,
            manifest=self.manifest,
            options=options or RuntimeOptions(),
            masker=self.masker,
            session=session,
            base_dir=base_dir or folder,
            on_config_update=on_config_update,
        )
        if migrated is not None and on_config_update is not None:
            on_config_update(migrated)
        budget = self.manifest.get("api_budget")
        if isinstance(budget, dict):
            self.ctx.api_budget = ApiBudget(Node(budget, "api_budget"), self.config, self.ctx.options.sleep)
        self.resolve_dynamic = resolve_dynamic
        self._streams = self._build_streams()

    def _check_top_level(self) -> None:
        m = self.manifest
        if m.get("type") != "DeclarativeSource":
            raise ManifestError("type", f"unknown type {m.get('type')!r} (expected DeclarativeSource)")
        streams = m.get("streams") or []
        if not isinstance(streams, list) or not (streams or m.get("dynamic_streams")):
            raise ManifestError("streams", "missing required field (expected a list of streams)")
        if not isinstance(m.get("dynamic_streams") or [], list):
            raise ManifestError("dynamic_streams", "expected a list of DynamicDeclarativeStream")
        check = m.get("check")
        if check is not None:
            node = Node(check, "check")
            node.expect_type(["CheckStream"], "a check")
            node.string_list("stream_names")
        spec = m.get("spec")
        if spec is not None:
            if not isinstance(spec, dict):
                raise ManifestError("spec", "expected a Spec (a mapping)")
            spec_node = Node(spec, "spec")
            spec_node.expect_type(["Spec"], "a spec")
            conn = spec_node.child("connection_specification", required=True, expected="a JSON schema")
            assert conn is not None

    def _build_streams(self) -> list[DeclarativeStream]:
        streams: list[DeclarativeStream] = []

        def build(node: Node) -> DeclarativeStream:
            if node.type == "StateDelegatingStream":
                return StateDelegatingStream(node, self.ctx, build)
            node.expect_type(["DeclarativeStream", "StateDelegatingStream"], "a stream")
            return DeclarativeStream(node, self.ctx, build)

        seen: dict[str, str] = {}
        dynamic = resolve_dynamic_streams(self.manifest, self.config, build) if self.resolve_dynamic else []
        for item, path in [*self._stream_items(), *dynamic]:
            stream = build(Node(item, path))
            if stream.name in seen:
                raise ManifestError(f"{path}.name", f"duplicate stream name {stream.name!r} (also {seen[stream.name]})")
            seen[stream.name] = path
            streams.append(stream)
        check = self.manifest.get("check") or {}
        for j, name in enumerate(check.get("stream_names") or []):
            if name not in seen and (self.resolve_dynamic or not self.manifest.get("dynamic_streams")):
                raise ManifestError(
                    f"check.stream_names[{j}]", f"unknown stream {name!r} (expected one of {', '.join(seen)})"
                )
        return streams

    def _stream_items(self) -> list[tuple[dict[str, Any], str]]:
        """Stream definitions with their paths; ConditionalStreams contribute theirs when the condition holds."""
        items: list[tuple[dict[str, Any], str]] = []
        for i, item in enumerate(self.manifest.get("streams") or []):
            path = f"streams[{i}]"
            if not isinstance(item, dict):
                raise ManifestError(path, "expected a stream (a mapping)")
            if item.get("type") != "ConditionalStreams":
                items.append((item, path))
                continue
            node = Node(item, path)
            condition = InterpolatedBoolean(
                node.require("condition", "a template"), node.parameters, path=node.at("condition")
            )
            inner = node.children("streams", expected="a stream")
            if not inner:
                raise node.error("missing required field (expected a list of streams)", "streams")
            if condition.eval(self.config):
                items.extend(
                    (child.data if isinstance(child.data, dict) else dict(child.data), child.path) for child in inner
                )
        return items

    def streams(self) -> list[DeclarativeStream]:
        """The manifest's streams, in order."""
        return list(self._streams)

    def stream(self, name: str) -> DeclarativeStream:
        for s in self._streams:
            if s.name == name:
                return s
        raise LowCodeError(
            f"unknown stream {name!r} (expected one of {', '.join(s.name for s in self._streams)})",
            CONFIG_ERROR,
        )

    def spec(self) -> dict[str, Any]:
        """The connector specification (Airbyte SPEC payload) from the manifest's `spec`."""
        return spec_of(self.manifest)

    def check(self) -> tuple[bool, str | None]:
        """Read the first page of each `check.stream_names` stream; (ok, reason)."""
        check = self.manifest.get("check") or {}
        if not self._streams:
            return False, "the manifest resolves to no streams"
        names = check.get("stream_names") or [self._streams[0].name]
        for name in names:
            stream = self.stream(name)
            try:
                for item in stream.read(
                    None, incremental=False, limits=ReadLimits(max_pages_per_slice=1, max_records=1, max_slices=1)
                ):
                    if not isinstance(item, StateCheckpoint):
                        break
            except LowCodeError as exc:
                return False, f"stream {name!r}: {self.masker.text(exc.message)}"
        return True, None


def spec_of(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The SPEC payload of a resolved manifest (without building any stream)."""
    spec = manifest.get("spec") or {}
    out: dict[str, Any] = {
        "connectionSpecification": spec.get("connection_specification")
        or {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {}},
    }
    if spec.get("documentation_url"):
        out["documentationUrl"] = spec["documentation_url"]
    if spec.get("advanced_auth"):
        out["advanced_auth"] = spec["advanced_auth"]
    return out
