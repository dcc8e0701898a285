"""Shared helpers for the native analyzer tests (payloads are harmless if run)."""

from __future__ import annotations

import textwrap

from loadguard.analyzers.native import analyze_source
from loadguard.model import Finding, Severity


def scan(source: str) -> list[Finding]:
    output = analyze_source(textwrap.dedent(source).encode(), "sample.py")
    assert output.errors == ()
    return list(output.findings)


def rules(source: str) -> set[str]:
    return {f.rule_id for f in scan(source)}


def high(source: str) -> list[Finding]:
    return [f for f in scan(source) if f.severity >= Severity.HIGH]
