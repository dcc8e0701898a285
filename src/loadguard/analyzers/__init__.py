"""Analyzer registry: name -> "module:Class", imported only when selected.

Lazy imports keep start-up fast (the pickle-only path must not pay for YARA
or Bandit). To add an analyzer, add one line here and one module beside it.
"""

from __future__ import annotations

import importlib

from ..model import FileKind
from .base import Analyzer

REGISTRY: dict[str, str] = {
    "native": "loadguard.analyzers.native:NativeAnalyzer",
    "pickle": "loadguard.analyzers.pickle:PickleAnalyzer",
    "weights": "loadguard.analyzers.weights:WeightsAnalyzer",
    "templates": "loadguard.analyzers.templates:TemplateAnalyzer",
    "yara": "loadguard.analyzers.yara:YaraAnalyzer",
    "bandit": "loadguard.analyzers.bandit:BanditAnalyzer",
    "semgrep": "loadguard.analyzers.semgrep:SemgrepAnalyzer",
    "codeql": "loadguard.analyzers.codeql:CodeQLAnalyzer",
}
# What runs when the user does not choose (external tools are opt-in). Config
# findings need no analyzer: detection reports them in the plan.
DEFAULT_ANALYZERS: tuple[str, ...] = ("native", "yara", "pickle", "weights", "templates")

# Analyzers that read nothing but these kinds: a snapshot holding none of them does
# not even import them (the native analyzer's import is ~10 ms of a weights-only scan).
READS_ONLY: dict[str, frozenset[FileKind]] = {
    "native": frozenset({FileKind.PYTHON}),
    "bandit": frozenset({FileKind.PYTHON}),
    "semgrep": frozenset({FileKind.PYTHON}),
}


def available() -> tuple[str, ...]:
    return tuple(REGISTRY)


def load_analyzer(name: str) -> Analyzer:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown analyzer {name!r} (choose from {', '.join(REGISTRY)})") from None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    analyzer: Analyzer = cls()
    return analyzer
