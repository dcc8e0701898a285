"""Bandit through its library API, over the files a load executes.

Bandit runs in-process on the bytes the snapshot store returns (no temp
copies, no subprocess). By default only execution-relevant files are
analysed (``ctx.is_executed``); option ``bandit_all_files=True`` widens it to
every Python file. ``# nosec`` comments are ignored: a repo must not be able
to silence its own scan. Results are cached per process by content hash.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

from ..errors import MissingExtra
from ..model import Confidence, FileKind, Finding, Location, ScanError, Severity
from ..rules.bandit_cwe import bandit_rule
from .base import AnalysisContext, AnalyzerOutput

LEVELS = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}

_CACHE: dict[str, AnalyzerOutput] = {}  # sha256 -> output with path placeholder
_CACHE_MAX = 20_000  # entries; a study run over a whole hub must not grow without bound
_PLACEHOLDER = "\x00bandit"


def _import_bandit() -> Any:
    try:
        from bandit.core import config, manager
    except ImportError:
        raise MissingExtra("Bandit analysis", "bandit") from None
    logging.getLogger("bandit").setLevel(logging.CRITICAL)  # it logs per-file noise
    return config, manager


def python_targets(ctx: AnalysisContext, all_files: bool) -> Iterator[str]:
    """Python files to hand an external tool: executed ones, or all of them."""
    for entry in ctx.snapshot.files:
        if ctx.kinds.get(entry.path) is not FileKind.PYTHON:
            continue
        if all_files or ctx.is_executed(entry.path):
            yield entry.path


class BanditAnalyzer:
    """``SnapshotAnalyzer`` wrapping Bandit's ``BanditManager``."""

    name = "bandit"

    def __init__(self) -> None:
        self._config, self._manager = _import_bandit()
        import bandit

        self.version = f"bandit-{bandit.__version__}"
        self._conf = self._config.BanditConfig()

    def analyze_snapshot(self, ctx: AnalysisContext) -> AnalyzerOutput:
        total = AnalyzerOutput()
        for path in python_targets(ctx, bool(ctx.options.get("bandit_all_files", False))):
            try:
                data = ctx.read_text_bytes(path)
                key = ctx.snapshot.sha256(path)
            except Exception as exc:
                total = total + AnalyzerOutput(
                    errors=(ScanError(path, self.name, f"cannot read: {exc}", "unreadable"),)
                )
                continue
            cached = _CACHE.get(key)
            if cached is None:
                cached = self.analyze_bytes(_PLACEHOLDER, data)
                if len(_CACHE) >= _CACHE_MAX:
                    _CACHE.clear()
                _CACHE[key] = cached
            total = total + _relocated(cached, path)
        return total

    def analyze_bytes(self, path: str, data: bytes) -> AnalyzerOutput:
        mgr = self._manager.BanditManager(
            self._conf, "file", debug=False, verbose=False, quiet=True, ignore_nosec=True
        )
        mgr.files_list = [path]
        mgr._parse_file(path, io.BytesIO(data), [path])  # the library entry for in-memory bytes
        lines = data.splitlines()
        findings = tuple(_finding(issue, path, lines) for issue in mgr.get_issue_list())
        errors = tuple(
            ScanError(path, self.name, f"bandit skipped the file: {reason}", "parse")
            for _, reason in mgr.skipped
        )
        return AnalyzerOutput(findings, errors)


def _finding(issue: Any, path: str, lines: list[bytes]) -> Finding:
    rule = bandit_rule(issue.test_id)
    severity = min(SEVERITY.get(issue.severity, Severity.LOW), rule.ceiling)
    line = int(issue.lineno) if issue.lineno else None
    snippet = ""
    if line and 0 < line <= len(lines):
        snippet = lines[line - 1].decode("utf-8", "replace").strip()[:200]
    return Finding(
        rule_id=f"BANDIT-{issue.test_id}",
        analyzer="bandit",
        message=f"{issue.text} (bandit {issue.test_id} {issue.test})",
        severity=severity,
        confidence=CONFIDENCE.get(issue.confidence, Confidence.LOW),
        location=Location(path, line=line, column=(issue.col_offset or 0) + 1 if line else None),
        cwe=rule.cwe,
        snippet=snippet,
    )


def _relocated(output: AnalyzerOutput, path: str) -> AnalyzerOutput:
    import dataclasses

    return AnalyzerOutput(
        tuple(
            dataclasses.replace(f, location=dataclasses.replace(f.location, path=path))
            for f in output.findings
        ),
        tuple(dataclasses.replace(e, path=path) for e in output.errors),
    )
