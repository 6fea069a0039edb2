"""Writes throwaway connector directories that follow the convention of connectors/README.md.

Only tests use them (real connectors live in connectors/): a directory with Dockerfile, metadata.yaml,
optional requirements.txt, acceptance-test-config.yml and the python package with spec.yaml and
`__main__.py`. Image names start with `ducto-basetest/` so they never collide with real images.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

REPOSITORY_PREFIX = "ducto-basetest"

SOURCE_CODE = '''\
"""A throwaway source: one stream whose records carry a table rendered by an extra PyPI dependency."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ducto.protocol.sdk import ConfigError, ReadContext, Source, Stream

try:
    from tabulate import tabulate
except ImportError:  # built without requirements.txt
    tabulate = None


class Rows(Stream):
    name = "rows"
    primary_key = "id"
    cursor_field = "id"
    json_schema = {"type": "object", "properties": {"id": {"type": "integer"}, "table": {"type": ["null", "string"]}}}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def read_records(self, ctx: ReadContext) -> Iterator[dict[str, Any]]:
        start = (ctx.state or {}).get("id", 0)
        for i in range(start + 1, self.config["count"] + 1):
            table = tabulate([[i, i * i]], tablefmt="plain") if tabulate else None
            yield {"id": i, "table": table}


class EchoSource(Source):
    def check_connection(self, config: Mapping[str, Any]) -> None:
        if config["count"] > 1000:
            raise ConfigError("count must be at most 1000")

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [Rows(config)]
'''

SPEC = """\
documentationUrl: https://example.invalid/basetest
connectionSpecification:
  $schema: http://json-schema.org/draft-07/schema#
  type: object
  required: [count]
  properties:
    count: {type: integer, minimum: 0}
"""

DOCKERFILE_WITH_REQUIREMENTS = """\
FROM ducto/base:dev
COPY .wheels /tmp/wheels
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-index --find-links /tmp/wheels -r /tmp/requirements.txt
COPY {package} ./{package}
ENV AIRBYTE_ENTRYPOINT="python -m {package}"
ENTRYPOINT ["python", "-m", "{package}"]
"""

DOCKERFILE_PLAIN = """\
FROM ducto/base:dev
COPY {package} ./{package}
ENV AIRBYTE_ENTRYPOINT="python -m {package}"
ENTRYPOINT ["python", "-m", "{package}"]
"""


def metadata(name: str, repository: str, tag: str = "dev") -> str:
    """An Airbyte-format metadata.yaml."""
    return textwrap.dedent(
        f"""\
        data:
          connectorType: source
          connectorSubtype: api
          definitionId: 00000000-0000-4000-8000-000000000001
          dockerImageTag: "{tag}"
          dockerRepository: {repository}
          name: Basetest {name}
          documentationUrl: https://example.invalid/{name}
          releaseStage: alpha
          license: Apache-2.0
          allowedHosts:
            hosts: []
        metadataSpecVersion: "1.0"
        """
    )


def make_connector(
    parent: Path,
    name: str,
    *,
    requirements: str | None = None,
    dockerfile: str | None = None,
    tag: str = "dev",
) -> tuple[Path, str]:
    """Write `parent/<name>/` and return (directory, image reference)."""
    directory = parent / name
    package = name.replace("-", "_")
    (directory / package).mkdir(parents=True)
    (directory / package / "__init__.py").write_text("")
    (directory / package / "source.py").write_text(SOURCE_CODE)
    (directory / package / "spec.yaml").write_text(SPEC)
    (directory / package / "__main__.py").write_text(
        f"from ducto.protocol.sdk import launch\n\nfrom {package}.source import EchoSource\n\nlaunch(EchoSource())\n"
    )
    repository = f"{REPOSITORY_PREFIX}/{name}"
    (directory / "metadata.yaml").write_text(metadata(name, repository, tag))
    acceptance = f"connector_image: {repository}:{tag}\nacceptance_tests:\n  spec:\n    tests:\n"
    (directory / "acceptance-test-config.yml").write_text(f"{acceptance}      - spec_path: {package}/spec.yaml\n")
    if requirements is not None:
        (directory / "requirements.txt").write_text(requirements)
    template = dockerfile or (DOCKERFILE_WITH_REQUIREMENTS if requirements is not None else DOCKERFILE_PLAIN)
    (directory / "Dockerfile").write_text(template.format(package=package))
    return directory, f"{repository}:{tag}"
