"""Manifest resolution and validation errors that name the YAML path."""

from __future__ import annotations

import pytest

from ducto.protocol.lowcode import ManifestError
from ducto.protocol.lowcode.manifest import load_manifest_text, resolve_manifest

from .conftest import make_source, stream_manifest


def test_refs_parameters_and_default_types() -> None:
    manifest = load_manifest_text(
        """
version: 6.0.0
type: DeclarativeSource
definitions:
  base_requester:
    url_base: https://api.example.com/v1
    http_method: GET
  base_stream:
    retriever:
      requester:
        $ref: "#/definitions/base_requester"
        path: "/{{ parameters.path }}"
      record_selector:
        extractor:
          field_path: ["{{ parameters.name }}"]
  page_size: 50
streams:
  - $ref: "#/definitions/base_stream"
    $parameters:
      name: users
      path: people
    primary_key: id
    stray_key_from_builder: whatever
    retriever:
      $ref: "#/definitions/base_stream/retriever"
      paginator:
        type: DefaultPaginator
        pagination_strategy:
          type: OffsetIncrement
          page_size: "#/definitions/page_size"
check:
  stream_names: [users]
"""
    )
    resolved = resolve_manifest(manifest)
    stream = resolved["streams"][0]
    assert stream["type"] == "DeclarativeStream"
    assert stream["name"] == "users"  # filled from $parameters
    retriever = stream["retriever"]
    assert retriever["type"] == "SimpleRetriever"
    assert retriever["requester"]["type"] == "HttpRequester"
    assert retriever["requester"]["url_base"] == "https://api.example.com/v1"
    assert retriever["requester"]["path"] == "/{{ parameters.path }}"
    assert retriever["requester"]["$parameters"] == {"name": "users", "path": "people"}
    assert retriever["record_selector"]["type"] == "RecordSelector"
    assert retriever["record_selector"]["extractor"]["type"] == "DpathExtractor"
    assert retriever["paginator"]["pagination_strategy"]["page_size"] == 50
    assert resolved["check"]["type"] == "CheckStream"
    # the built source renders parameters in templates and ignores stray keys
    source = make_source(manifest)
    requester = source.stream("users").requester
    assert requester.build_url({}, None) == "https://api.example.com/v1/people"


def test_own_value_wins_over_parameters() -> None:
    resolved = resolve_manifest(
        {
            "type": "DeclarativeSource",
            "streams": [
                {
                    "$parameters": {"name": "from_params", "path": "/p"},
                    "name": "own",
                    "retriever": {"requester": {"url_base": "http://x", "path": "/own"}},
                }
            ],
        }
    )
    stream = resolved["streams"][0]
    assert stream["name"] == "own"
    assert stream["retriever"]["requester"]["path"] == "/own"


def test_circular_and_undefined_references() -> None:
    with pytest.raises(ManifestError, match="circular reference"):
        resolve_manifest({"a": "#/b", "b": "#/a", "streams": []})
    with pytest.raises(ManifestError, match=r"^streams\[0\]\.retriever: undefined reference '#/definitions/nope'"):
        resolve_manifest({"streams": [{"retriever": "#/definitions/nope"}], "definitions": {}})


def test_unknown_type_names_path_and_expected() -> None:
    m = stream_manifest("http://x", {"name": "a", "retriever": {"requester": {"path": "/a"}}})
    m["streams"] = [m["streams"][0]] * 2 + [
        {
            "name": "c",
            "retriever": {
                "requester": {"url_base": "http://x", "path": "/c"},
                "record_selector": {"extractor": {"field_path": []}},
                "paginator": {"type": "DefaultPaginator", "pagination_strategy": {"type": "Foo"}},
            },
        }
    ]
    m["streams"][1] = {**m["streams"][1], "name": "b"}
    with pytest.raises(ManifestError) as exc:
        make_source(m)
    assert str(exc.value) == (
        "streams[2].retriever.paginator.pagination_strategy: unknown type 'Foo' "
        "(expected one of PageIncrement, OffsetIncrement, CursorPagination)"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda s: s["retriever"]["record_selector"]["extractor"].pop("field_path"),
            r"streams\[0\]\.retriever\.record_selector\.extractor\.field_path: missing required field",
        ),
        (lambda s: s.pop("name"), r"streams\[0\]\.name: missing required field"),
        (
            lambda s: s["retriever"]["requester"].update(http_method="DELETE"),
            r"streams\[0\]\.retriever\.requester\.http_method: "
            r"unknown http_method 'DELETE' \(expected one of GET, POST\)",
        ),
        (
            lambda s: s["retriever"]["requester"].update(
                authenticator={"type": "CustomAuthenticator", "class_name": "x"}
            ),
            r"streams\[0\]\.retriever\.requester\.authenticator\.type: custom components",
        ),
        (
            lambda s: s["retriever"]["requester"].update(path="/{{ config['a' }}"),
            r"streams\[0\]\.retriever\.requester\.path: invalid template",
        ),
        (
            lambda s: s.update(
                incremental_sync={
                    "type": "DatetimeBasedCursor",
                    "cursor_field": "u",
                    "datetime_format": "%Y",
                    "start_datetime": "2020",
                    "step": "P1D",
                }
            ),
            r"streams\[0\]\.incremental_sync\.cursor_granularity: "
            r"step and cursor_granularity must be given together",
        ),
    ],
)
def test_mistakes_name_their_path(mutate, message) -> None:  # type: ignore[no-untyped-def]
    m = stream_manifest(
        "http://x",
        {
            "name": "a",
            "retriever": {"requester": {"path": "/a"}, "record_selector": {"extractor": {"field_path": []}}},
        },
    )
    mutate(m["streams"][0])
    with pytest.raises(ManifestError, match=message):
        make_source(m)


def test_check_stream_names_must_exist_and_yaml_errors_name_line() -> None:
    m = stream_manifest("http://x", {"name": "a", "retriever": {"requester": {"path": "/a"}}})
    m["check"] = {"stream_names": ["zzz"]}
    with pytest.raises(ManifestError, match=r"check\.stream_names\[0\]: unknown stream 'zzz' \(expected one of a\)"):
        make_source(m)
    with pytest.raises(ManifestError, match="invalid YAML at line 3, column 4"):
        load_manifest_text("streams:\n  - a: b\n   c: d\n")


def test_conditional_streams() -> None:
    stream = {
        "retriever": {
            "requester": {"url_base": "http://x", "path": "/a"},
            "record_selector": {"extractor": {"field_path": []}},
        }
    }
    m = {
        "version": "6",
        "type": "DeclarativeSource",
        "streams": [
            {"name": "always", **stream},
            {
                "type": "ConditionalStreams",
                "condition": "{{ config.get('sandbox') }}",
                "streams": [{"name": "sandbox_only", **stream}],
            },
        ],
    }
    assert [s.name for s in make_source(m, {}).streams()] == ["always"]
    assert [s.name for s in make_source(m, {"sandbox": True}).streams()] == ["always", "sandbox_only"]


def test_body_mappings_with_a_type_key_are_data() -> None:
    resolved = resolve_manifest(
        {
            "type": "DeclarativeSource",
            "streams": [
                {
                    "$parameters": {"name": "s"},
                    "retriever": {
                        "requester": {"url_base": "http://x", "request_body_json": {"filter": {"type": "issue"}}}
                    },
                }
            ],
        }
    )
    assert resolved["streams"][0]["retriever"]["requester"]["request_body_json"] == {"filter": {"type": "issue"}}


def test_typed_body_mappings_get_no_parameters() -> None:
    resolved = resolve_manifest(
        {
            "type": "DeclarativeSource",
            "streams": [
                {
                    "$parameters": {"name": "s", "path": "/p"},
                    "retriever": {
                        "requester": {"url_base": "http://x", "request_body_json": {"type": "search", "q": 1}}
                    },
                }
            ],
        }
    )
    assert resolved["streams"][0]["retriever"]["requester"]["request_body_json"] == {"type": "search", "q": 1}
