"""Reports: a pytest-style text report and JUnit XML."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ducto.orchestrator.acceptance.framework import Outcome
from ducto.orchestrator.acceptance.suite import SuiteResult

MARKS = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED", "error": "ERROR"}


def outcome_line(o: Outcome) -> str:
    """One result line: `ID STATUS (reason) [time]`."""
    line = f"{o.case.id} {MARKS[o.status]}"
    if o.status == "skipped" and o.message:
        line += f" ({o.message.splitlines()[0]})"
    if o.duration >= 1.0:
        line += f" [{o.duration:.1f}s]"
    return line


def _rule(title: str, char: str = "=", width: int = 88) -> str:
    title = f" {title} "
    side = max(3, (width - len(title)) // 2)
    return f"{char * side}{title}{char * side}"


def write_summary(result: SuiteResult, out: TextIO, header: str) -> None:
    """The end of the report: failures in full, warnings, then the counts line."""
    failures = [o for o in result.outcomes if o.status in ("failed", "error")]
    if failures:
        out.write(_rule("FAILURES") + "\n")
        for o in failures:
            out.write(_rule(o.case.id, "_") + "\n")
            out.write(o.message.rstrip() + "\n\n")
    if result.warnings:
        out.write(_rule("config warnings") + "\n")
        for w in result.warnings:
            out.write(f"{w}\n")
    counts = result.counts()
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    out.write(_rule(f"{', '.join(parts) or 'no tests ran'} in {result.duration:.1f}s ({header})") + "\n")


def write_junit(result: SuiteResult, path: Path, suite_name: str) -> None:
    """Write JUnit XML (one testcase per case, classname = group)."""
    counts = result.counts()
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(result.outcomes)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{result.duration:.3f}",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
    )
    if result.warnings:
        props = ET.SubElement(suite, "properties")
        for i, w in enumerate(result.warnings):
            ET.SubElement(props, "property", name=f"config_warning_{i}", value=w)
    for o in result.outcomes:
        group, _, name = o.case.id.partition("::")
        tc = ET.SubElement(
            suite, "testcase", classname=f"ducto.acceptance.{group}", name=name, time=f"{o.duration:.3f}"
        )
        if o.status == "failed":
            first = o.message.splitlines()[0] if o.message else "failed"
            ET.SubElement(tc, "failure", message=first).text = o.message
        elif o.status == "error":
            first = o.message.splitlines()[0] if o.message else "error"
            ET.SubElement(tc, "error", message=first).text = o.message
        elif o.status == "skipped":
            ET.SubElement(tc, "skipped", message=o.message)
    ET.indent(suites)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
