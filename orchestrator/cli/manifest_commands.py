"""`ducto manifest test|validate|init`: try a declarative manifest from the terminal, instead of Postman.

`test` reads a few pages of each stream and shows, per slice and page, the request (secrets masked),
the response, the records extracted, the next page token and the resulting state.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
import yaml

EXIT_FAILURE = 1


def _engine() -> Any:
    try:
        from ducto.protocol import lowcode
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"the low-code engine needs the 'lowcode' extra ({exc.name} is missing): pip install 'ducto[lowcode]'"
        ) from None
    return lowcode


def _read_data_file(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{what} file {path} is neither JSON nor YAML: {str(exc).splitlines()[0]}") from None


def _load_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    config = _read_data_file(path, "config")
    if not isinstance(config, dict):
        raise click.ClickException(f"config file {path}: expected a JSON object")
    return config


def _state_for(path: str | None, stream: str) -> dict[str, Any] | None:
    """A stream state from a file: a bare state object, or an Airbyte state array/message."""
    if path is None:
        return None
    data = _read_data_file(path, "state")
    items = data if isinstance(data, list) else [data]
    for item in items:
        if isinstance(item, dict) and item.get("type") == "STATE" and isinstance(item.get("state"), dict):
            item = item["state"]  # noqa: PLW2901 - unwrap a whole message
        if isinstance(item, dict) and item.get("type") == "STREAM" and isinstance(item.get("stream"), dict):
            desc = item["stream"].get("stream_descriptor") or {}
            if desc.get("name") == stream:
                state = item["stream"].get("stream_state")
                return state if isinstance(state, dict) else None
            continue
        if isinstance(data, dict) and not isinstance(data, list):
            return data
    return None


def _check_spec_and_config(source: Any, config: dict[str, Any] | None, config_path: str | None) -> None:
    """The manifest's spec must be a JSON schema, and the config (when given) must satisfy it."""
    import jsonschema

    spec = source.spec()["connectionSpecification"]
    try:
        jsonschema.Draft7Validator.check_schema(spec)
    except jsonschema.SchemaError as exc:
        raise click.ClickException(f"spec.connection_specification is not a valid JSON schema: {exc.message}") from None
    if config is None:
        return
    errors = sorted(jsonschema.Draft7Validator(spec).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path) or "(top level)"
        raise click.ClickException(f"config {config_path or '(none given)'}: {where}: {first.message}")


def _build(manifest: str, config: dict[str, Any], *, resolve_dynamic: bool = True) -> Any:
    lowcode = _engine()
    try:
        return lowcode.DeclarativeSource(Path(manifest), config, resolve_dynamic=resolve_dynamic)
    except lowcode.LowCodeError as exc:
        raise click.ClickException(exc.message) from None


@click.group("manifest")
def manifest() -> None:
    """Develop declarative (low-code) manifests: test against the API, validate, scaffold."""


@manifest.command("validate")
@click.argument("manifest_path", metavar="MANIFEST", type=click.Path(dir_okay=False))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Also validate this config.")
def validate(manifest_path: str, config_path: str | None) -> None:
    """Check MANIFEST without calling the API (references, types, required fields, templates)."""
    config = _load_config(config_path)
    source = _build(manifest_path, config, resolve_dynamic=False)
    _check_spec_and_config(source, config if config_path is not None else None, config_path)
    names = [s.name for s in source.streams()]
    dynamic = len(source.manifest.get("dynamic_streams") or [])
    note = f"; {dynamic} dynamic stream definition(s), expanded at read time" if dynamic else ""
    click.echo(f"OK: {len(names)} stream{'s' if len(names) != 1 else ''} ({', '.join(names)}){note}")


class _TextPrinter:
    """Prints trace events as they arrive, readable on a terminal."""

    def __init__(self, max_shown: int) -> None:
        self.max_shown = max_shown
        self.slice_no = 0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        parent = event.get("label", "").startswith("parent ")
        pad = "    " if parent else ""
        tag = f"[{event['label']}] " if parent else ""
        if kind == "slice":
            if not parent:
                self.slice_no += 1
            title = f"{tag}slice" if parent else f"slice {self.slice_no}"
            click.echo(f"{pad}  {click.style(title, bold=True)}: {_short(event['slice'])}")
        elif kind == "request":
            req = event["request"]
            click.echo(f"{pad}    {click.style('->', fg='cyan')} {tag}{req['method']} {req['url']}")
            if req["params"]:
                click.echo(f"{pad}       params: {_short(req['params'])}")
            click.echo(f"{pad}       headers: {_short(req['headers'])}")
            if req.get("body"):
                click.echo(f"{pad}       body: {req['body']}")
            for attempt in event["attempts"][:-1]:
                wait = f", waited {attempt['wait_seconds']}s" if "wait_seconds" in attempt else ""
                click.echo(f"{pad}    {click.style('<-', fg='yellow')} {attempt['status']} {attempt['action']}{wait}")
            resp = event.get("response")
            if resp is not None:
                color = "green" if resp["status"] < 400 else "red"
                click.echo(f"{pad}    {click.style('<-', fg=color)} {resp['status']}  {_one_line(resp['body'], 300)}")
        elif kind == "page":
            if event.get("ignored"):
                click.echo(f"{pad}       page {event['page']}: response ignored by the error handler")
                return
            records = event["records"]
            click.echo(
                f"{pad}       page {event['page']}: {event['records_extracted']} extracted, {len(records)} selected;"
                f" next page token: {json.dumps(event['next_page_token'], default=str)}"
            )
            if not parent:
                for record in records[: self.max_shown]:
                    click.echo(f"{pad}         {_one_line(json.dumps(record, default=str), 200)}")
                if len(records) > self.max_shown:
                    click.echo(f"{pad}         ... {len(records) - self.max_shown} more")
        elif kind == "state":
            click.echo(f"  {click.style('state', bold=True)}: {json.dumps(event['state'], default=str)}")


def _short(value: Any) -> str:
    return _one_line(json.dumps(value, default=str), 400)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


@manifest.command("test")
@click.argument("manifest_path", metavar="MANIFEST", type=click.Path(dir_okay=False))
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Connector config (JSON or YAML).")
@click.option("--stream", "stream_names", multiple=True, help="Stream to test (repeatable; default: all).")
@click.option("--max-pages", type=click.IntRange(min=1), default=3, show_default=True, help="Pages per slice.")
@click.option("--max-records", type=click.IntRange(min=1), default=100, show_default=True, help="Records per stream.")
@click.option("--max-slices", type=click.IntRange(min=1), default=5, show_default=True, help="Slices per stream.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="Start from this state (incremental).")
@click.option("--show", type=click.IntRange(min=0), default=3, show_default=True, help="Records printed per page.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (machine output).")
def test(
    *,
    manifest_path: str,
    config_path: str | None,
    stream_names: tuple[str, ...],
    max_pages: int,
    max_records: int,
    max_slices: int,
    state_path: str | None,
    show: int,
    as_json: bool,
) -> None:
    """Read a few pages of MANIFEST's streams and show each request, response, records and state."""
    lowcode = _engine()
    config = _load_config(config_path)
    source = _build(manifest_path, config)
    _check_spec_and_config(source, config, config_path)
    try:
        streams = [source.stream(n) for n in stream_names] if stream_names else source.streams()
    except lowcode.LowCodeError as exc:
        raise click.ClickException(exc.message) from None
    limits = lowcode.ReadLimits(max_pages_per_slice=max_pages, max_records=max_records, max_slices=max_slices)
    report: list[dict[str, Any]] = []
    failed = False
    for stream in streams:
        events: list[dict[str, Any]] = []
        printer = None if as_json else _TextPrinter(show)
        if printer is not None:
            click.echo(click.style(f"stream {stream.name}", bold=True, fg="magenta"))

        def sink(event: dict[str, Any], events: list[dict[str, Any]] = events, printer: Any = printer) -> None:
            events.append(event)
            if printer is not None:
                printer(event)

        state = _state_for(state_path, stream.name)
        records = 0
        final_state: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        try:
            for item in stream.read(state, incremental=True, sink=sink, limits=limits):
                if isinstance(item, lowcode.StateCheckpoint):
                    final_state = item.state
                else:
                    records += 1
        except lowcode.LowCodeError as exc:
            failed = True
            error = {"message": source.masker.text(exc.message), "failure_type": str(exc.failure_type)}
        pages = sum(1 for e in events if e["event"] == "page" and not e.get("label", "").startswith("parent "))
        limited = records >= max_records
        report.append(
            {
                "stream": stream.name,
                "records": records,
                "pages": pages,
                "state": final_state if final_state is not None else state,
                "state_advanced": final_state is not None,
                "limit_reached": limited,
                "error": error,
                "events": events,
            }
        )
        if not as_json:
            if error is not None:
                click.echo(click.style(f"  error ({error['failure_type']}): {error['message']}", fg="red"))
            if final_state is None and stream.supports_incremental:
                click.echo("  state: unchanged (no slice completed within the limits)")
            suffix = f" (stopped at --max-records {max_records})" if limited else ""
            plural = "s" if records != 1 else ""
            click.echo(f"  {records} record{plural} in {pages} page{'s' if pages != 1 else ''}{suffix}\n")
    if as_json:
        sys.stdout.write(json.dumps({"manifest": manifest_path, "streams": report}, default=str, indent=2) + "\n")
    if failed:
        sys.exit(EXIT_FAILURE)


INIT_TEMPLATE = """\
version: 6.0.0
type: DeclarativeSource

check:
  type: CheckStream
  stream_names: [{name}]

definitions:
  requester:
    type: HttpRequester
    url_base: "{{{{ config.get('url_base') or '{url_base}' }}}}"
    http_method: GET
{auth}
  selector:
    type: RecordSelector
    extractor:
      type: DpathExtractor
      field_path: {field_path}
  paginator:
    # Replace with PageIncrement / OffsetIncrement / CursorPagination when the API pages results.
    type: NoPagination

streams:
  - type: DeclarativeStream
    name: {name}
    primary_key: {primary_key}
    retriever:
      type: SimpleRetriever
      requester:
        $ref: "#/definitions/requester"
        path: "{path}"
      record_selector:
        $ref: "#/definitions/selector"
      paginator:
        $ref: "#/definitions/paginator"
    schema_loader:
      type: InlineSchemaLoader
      schema:
        $schema: http://json-schema.org/draft-07/schema#
        type: object
        additionalProperties: true
        properties: {{}}

spec:
  type: Spec
  connection_specification:
    $schema: http://json-schema.org/draft-07/schema#
    type: object
    required: [{required}]
    properties:
{properties}      url_base:
        type: string
        title: Base URL
        default: "{url_base}"
"""

AUTH = {
    "none": ("", [], ""),
    "api_key": (
        "    authenticator:\n      type: ApiKeyAuthenticator\n      api_token: \"{{ config['api_key'] }}\"\n"
        "      inject_into:\n        type: RequestOption\n        inject_into: header\n        field_name: X-API-Key\n",
        ["api_key"],
        "      api_key:\n        type: string\n        title: API key\n        airbyte_secret: true\n",
    ),
    "bearer": (
        "    authenticator:\n      type: BearerAuthenticator\n      api_token: \"{{ config['api_token'] }}\"\n",
        ["api_token"],
        "      api_token:\n        type: string\n        title: API token\n        airbyte_secret: true\n",
    ),
    "basic": (
        "    authenticator:\n      type: BasicHttpAuthenticator\n      username: \"{{ config['username'] }}\"\n"
        "      password: \"{{ config['password'] }}\"\n",
        ["username"],
        "      username:\n        type: string\n      password:\n        type: string\n        airbyte_secret: true\n",
    ),
}


@manifest.command("init")
@click.option("--url-base", required=True, help="Base URL of the API, e.g. https://api.example.com/v1")
@click.option("--endpoint", required=True, help="Path of one endpoint, e.g. /users")
@click.option("--name", help="Stream name (default: from the endpoint).")
@click.option("--records-path", default="", help="Dotted path to the records in the response (default: whole body).")
@click.option("--primary-key", default="id", show_default=True)
@click.option("--auth", type=click.Choice(sorted(AUTH)), default="none", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="manifest.yaml", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(
    *,
    url_base: str,
    endpoint: str,
    name: str | None,
    records_path: str,
    primary_key: str,
    auth: str,
    output: str,
    force: bool,
) -> None:
    """Scaffold a manifest for a base URL and one endpoint."""
    if not re.match(r"^https?://", url_base):
        raise click.BadParameter("expected an http:// or https:// URL", param_hint="--url-base")
    stream = name or re.sub(r"[^a-z0-9]+", "_", endpoint.strip("/").split("/")[-1].lower()).strip("_") or "records"
    auth_block, required, properties = AUTH[auth]
    text = INIT_TEMPLATE.format(
        name=stream,
        url_base=url_base.rstrip("/"),
        path="/" + endpoint.lstrip("/"),
        auth=auth_block.rstrip("\n"),
        field_path=json.dumps([p for p in records_path.split(".") if p]),
        primary_key=json.dumps(primary_key) if primary_key else '""',
        required=", ".join(required),
        properties=properties,
    )
    target = Path(output)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists (use --force to overwrite)")
    _build_text_check(text)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}: stream {stream!r} at {url_base.rstrip('/')}/{endpoint.lstrip('/')}")
    click.echo(f"next: ducto manifest test {target} --config config.json")


def _build_text_check(text: str) -> None:
    """The scaffold must itself be a valid manifest."""
    lowcode = _engine()
    lowcode.DeclarativeSource(yaml.safe_load(text), {})
