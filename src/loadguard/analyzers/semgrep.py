"""Semgrep CLI with loadguard's shipped ruleset, fully offline.

The snapshot's Python files (execution-relevant ones by default, all with
option ``semgrep_all_files=True``) are copied from the store into a private
temp dir with an empty ``.semgrepignore`` (Semgrep's default ignore list
would skip ``tests/``, ``vendor/`` ... where a repo can hide code), then
``semgrep scan --config <rules> --json --metrics=off`` runs as a subprocess
with the version check disabled. The binary is ``semgrep`` on PATH or the
``semgrep_binary`` option.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import MissingExtra
from ..model import Confidence, Finding, Location, ScanError, Severity
from .bandit import python_targets
from .base import AnalysisContext, AnalyzerOutput

SEVERITY = {"INFO": Severity.LOW, "WARNING": Severity.MEDIUM, "ERROR": Severity.HIGH}
CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}
DEFAULT_TIMEOUT = 600.0


def rules_dir() -> str:
    return str(resources.files("loadguard").joinpath("rules").joinpath("semgrep"))


def find_semgrep(options: Mapping[str, object] | None = None) -> str:
    configured = (options or {}).get("semgrep_binary")
    binary = str(configured) if configured else shutil.which("semgrep")
    if not binary or not os.access(binary, os.X_OK):
        raise MissingExtra("Semgrep analysis (no 'semgrep' binary on PATH)", "semgrep")
    return binary


def semgrep_command(binary: str, targets: Sequence[str], config: str | None = None) -> list[str]:
    """The offline command line (also used by the benchmarks)."""
    return [
        binary,
        "scan",
        "--config",
        config or rules_dir(),
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--no-git-ignore",
        "--quiet",
        "--timeout",
        "30",
        *targets,
    ]


def semgrep_env() -> dict[str, str]:
    return {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


class SemgrepAnalyzer:
    """``SnapshotAnalyzer`` running the Semgrep CLI on a private copy of the code."""

    name = "semgrep"
    version = "1"

    def analyze_snapshot(self, ctx: AnalysisContext) -> AnalyzerOutput:
        try:
            binary = find_semgrep(ctx.options)
        except MissingExtra as exc:  # reported as a skip, the scan goes on
            return AnalyzerOutput(errors=(ScanError("", self.name, str(exc), "missing-extra"),))
        paths = list(python_targets(ctx, bool(ctx.options.get("semgrep_all_files", False))))
        if not paths:
            return AnalyzerOutput()
        errors: list[ScanError] = []
        with tempfile.TemporaryDirectory(prefix="loadguard-semgrep-") as tmp:
            root = Path(tmp) / "repo"
            root.mkdir()
            (root / ".semgrepignore").write_text("")
            copied: dict[str, str] = {}
            for index, path in enumerate(paths):
                try:
                    data = ctx.read_text_bytes(path)
                except Exception as exc:
                    errors.append(ScanError(path, self.name, f"cannot read: {exc}", "unreadable"))
                    continue
                # Flat, ASCII names: repo paths may hold anything; map them back after.
                local = f"f{index:05d}.py"
                (root / local).write_bytes(data)
                copied[local] = path
            timeout = float(str(ctx.options.get("semgrep_timeout", DEFAULT_TIMEOUT)))
            try:
                proc = subprocess.run(
                    semgrep_command(binary, ["."]),
                    cwd=root,
                    env=semgrep_env(),
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                errors.append(
                    ScanError("", self.name, f"semgrep timed out after {timeout}s", "timeout")
                )
                return AnalyzerOutput(errors=tuple(errors))
            output = AnalyzerOutput(errors=tuple(errors))
            return output + parse_semgrep_json(proc.stdout, proc.returncode, proc.stderr, copied)


def parse_semgrep_json(
    stdout: bytes, returncode: int, stderr: bytes, paths: Mapping[str, str]
) -> AnalyzerOutput:
    """Semgrep's JSON output -> findings; ``paths`` maps its file names to repo paths."""
    tail = stderr.decode("utf-8", "replace").strip()[-300:]
    try:
        document: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError:
        document = {}
    if not isinstance(document, dict) or (returncode >= 2 and not document.get("results")):
        return AnalyzerOutput(
            errors=(
                ScanError("", "semgrep", f"semgrep failed (exit {returncode}): {tail}", "tool"),
            )
        )
    findings = []
    for result in document.get("results", []):
        local = os.path.normpath(str(result.get("path", "")))
        path = paths.get(local, local)
        extra = result.get("extra", {})
        meta = extra.get("metadata", {})
        severity = _severity(meta.get("lg_severity"), extra.get("severity", "WARNING"))
        line = int(result.get("start", {}).get("line", 0)) or None
        findings.append(
            Finding(
                rule_id=str(result.get("check_id", "semgrep")).rsplit(".", 1)[-1].upper(),
                analyzer="semgrep",
                message=str(extra.get("message", "")).strip(),
                severity=severity,
                confidence=CONFIDENCE.get(
                    str(meta.get("confidence", "MEDIUM")).upper(), Confidence.MEDIUM
                ),
                location=Location(
                    path,
                    line=line,
                    column=result.get("start", {}).get("col"),
                    end_line=result.get("end", {}).get("line"),
                ),
                cwe=tuple(_cwe(c) for c in _as_list(meta.get("cwe"))),
                snippet=str(extra.get("lines", "")).strip().splitlines()[0][:200]
                if extra.get("lines")
                else "",
            )
        )
    errors = tuple(
        ScanError(
            paths.get(os.path.normpath(str(err.get("path", ""))), ""),
            "semgrep",
            str(err.get("message", err.get("type", "semgrep error")))[:300],
            "tool",
        )
        for err in document.get("errors", [])
    )
    return AnalyzerOutput(tuple(findings), errors)


def _severity(lg: object, semgrep: object) -> Severity:
    if isinstance(lg, str):
        try:
            return Severity.parse(lg)
        except ValueError:
            pass
    return SEVERITY.get(str(semgrep).upper(), Severity.MEDIUM)


def _as_list(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _cwe(value: object) -> str:
    """``"CWE-78: Improper ..."`` (registry style) or ``"CWE-78"`` -> ``"CWE-78"``."""
    return str(value).split(":", 1)[0].strip()
