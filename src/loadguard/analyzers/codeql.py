"""CodeQL findings ingested from SARIF: run the CLI when present, or read a given SARIF.

With option ``codeql_sarif=PATH`` the analyzer only ingests that file (a
result produced elsewhere, e.g. in CI). Otherwise, when a ``codeql`` binary is
on PATH (or option ``codeql_binary``), it copies the snapshot's Python files
to a temp dir, creates a database and runs the Python security suite. Without
either it reports a ``missing-extra`` error that says so; the scan goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..model import Confidence, Finding, Location, ScanError, Severity, Snapshot
from .base import AnalysisContext, AnalyzerOutput

SUITE = "codeql/python-queries:codeql-suites/python-security-extended.qls"
LEVEL = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW}
PRECISION = {
    "very-high": Confidence.HIGH,
    "high": Confidence.HIGH,
    "medium": Confidence.MEDIUM,
    "low": Confidence.LOW,
}
MISSING = (
    "CodeQL skipped: no 'codeql' binary on PATH (install the CodeQL CLI) and no SARIF "
    "given (option codeql_sarif=FILE)"
)


class CodeQLAnalyzer:
    """``SnapshotAnalyzer`` for CodeQL (CLI or pre-computed SARIF)."""

    name = "codeql"
    version = "1"

    def analyze_snapshot(self, ctx: AnalysisContext) -> AnalyzerOutput:
        sarif = ctx.options.get("codeql_sarif")
        if sarif:
            try:
                document = json.loads(Path(str(sarif)).read_bytes())
            except (OSError, json.JSONDecodeError) as exc:
                return _error(f"cannot read SARIF {sarif}: {exc}", "tool")
            return ingest_sarif(document, ctx.snapshot)
        configured = ctx.options.get("codeql_binary")
        binary = str(configured) if configured else shutil.which("codeql")
        if not binary:
            return _error(MISSING, "missing-extra")
        return self._run(binary, ctx)

    def _run(self, binary: str, ctx: AnalysisContext) -> AnalyzerOutput:
        timeout = float(str(ctx.options.get("codeql_timeout", 1800)))
        with tempfile.TemporaryDirectory(prefix="loadguard-codeql-") as tmp:
            source = Path(tmp) / "src"
            for entry in ctx.snapshot.files:
                if not entry.path.endswith(".py"):
                    continue
                target = (source / entry.path).resolve()
                if not str(target).startswith(str(source.resolve())):
                    continue  # a path that would leave the copy
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(ctx.read_text_bytes(entry.path))
            database, out = Path(tmp) / "db", Path(tmp) / "out.sarif"
            steps = (
                [binary, "database", "create", str(database), "--language=python",
                 f"--source-root={source}", "--overwrite"],
                [binary, "database", "analyze", str(database), SUITE,
                 "--format=sarif-latest", f"--output={out}"],
            )  # fmt: skip
            for step in steps:
                try:
                    proc = subprocess.run(step, capture_output=True, timeout=timeout, check=False)
                except subprocess.TimeoutExpired:
                    return _error(f"codeql timed out after {timeout}s", "timeout")
                if proc.returncode != 0:
                    tail = proc.stderr.decode("utf-8", "replace").strip()[-300:]
                    return _error(f"codeql {step[1]} {step[2]} failed: {tail}", "tool")
            return ingest_sarif(json.loads(out.read_bytes()), ctx.snapshot)


def ingest_sarif(document: Mapping[str, Any], snapshot: Snapshot | None = None) -> AnalyzerOutput:
    """SARIF 2.1.0 results -> findings, with CWE from ``external/cwe/cwe-NNN`` rule tags."""
    findings: list[Finding] = []
    errors: list[ScanError] = []
    for run in document.get("runs", []) or []:
        driver = run.get("tool", {}).get("driver", {})
        tool = str(driver.get("name", "CodeQL"))
        rules = {str(r.get("id")): r for r in _rules(run)}
        for result in run.get("results", []) or []:
            rule_id = str(result.get("ruleId") or result.get("rule", {}).get("id") or "unknown")
            rule = rules.get(rule_id, {})
            props = {**rule.get("properties", {}), **result.get("properties", {})}
            location = _location(result, snapshot)
            findings.append(
                Finding(
                    rule_id=f"CODEQL-{rule_id}",
                    analyzer="codeql",
                    message=str(result.get("message", {}).get("text", rule_id)).strip(),
                    severity=_severity(props, result.get("level") or _default_level(rule)),
                    confidence=PRECISION.get(str(props.get("precision", "")), Confidence.MEDIUM),
                    location=location[0],
                    cwe=tuple(_cwes(props.get("tags", []))),
                    snippet=location[1],
                    evidence=(f"tool: {tool}",),
                )
            )
        for note in _notifications(run):
            errors.append(ScanError("", "codeql", note[:300], "tool"))
    return AnalyzerOutput(tuple(findings), tuple(errors))


def _rules(run: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from run.get("tool", {}).get("driver", {}).get("rules", []) or []
    for extension in run.get("tool", {}).get("extensions", []) or []:
        yield from extension.get("rules", []) or []


def _notifications(run: Mapping[str, Any]) -> Iterator[str]:
    for invocation in run.get("invocations", []) or []:
        for note in invocation.get("toolExecutionNotifications", []) or []:
            if note.get("level") == "error":
                yield str(note.get("message", {}).get("text", "codeql error"))


def _default_level(rule: Mapping[str, Any]) -> str:
    return str(rule.get("defaultConfiguration", {}).get("level", "warning"))


def _severity(props: Mapping[str, Any], level: object) -> Severity:
    score = props.get("security-severity")
    try:
        value = float(str(score))
    except ValueError:
        return LEVEL.get(str(level), Severity.MEDIUM)
    if value >= 9.0:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW if value > 0 else Severity.INFO


def _cwes(tags: object) -> Iterator[str]:
    for tag in tags if isinstance(tags, list) else []:
        text = str(tag).lower()
        if text.startswith("external/cwe/cwe-") and text[17:].isdigit():
            yield f"CWE-{int(text[17:])}"


def _location(result: Mapping[str, Any], snapshot: Snapshot | None) -> tuple[Location, str]:
    locations = result.get("locations") or [{}]
    physical = locations[0].get("physicalLocation", {})
    uri = str(physical.get("artifactLocation", {}).get("uri", ""))
    region = physical.get("region", {})
    snippet = str(region.get("snippet", {}).get("text", "")).strip().splitlines()
    return (
        Location(
            _repo_path(uri, snapshot),
            line=region.get("startLine"),
            column=region.get("startColumn"),
            end_line=region.get("endLine"),
        ),
        snippet[0][:200] if snippet else "",
    )


def _repo_path(uri: str, snapshot: Snapshot | None) -> str:
    """A SARIF artifact URI -> the snapshot path it names (longest matching suffix)."""
    path = uri.removeprefix("file://")
    parts = [p for p in path.replace(os.sep, "/").split("/") if p and p != "."]
    if snapshot is not None:
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            if snapshot.has(candidate):
                return candidate
    return "/".join(parts)


def _error(message: str, kind: str) -> AnalyzerOutput:
    return AnalyzerOutput(errors=(ScanError("", "codeql", message, kind),))
