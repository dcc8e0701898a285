"""YARA stays at LOW or below on every benign repo of the labelled corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from loadguard.engine import MemoryCache, scan_snapshot
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder

pytest.importorskip("yara")
BUILD = Path(__file__).resolve().parent / "corpus" / "build.py"


def test_no_yara_finding_above_low_on_benign(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("corpus_build", BUILD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_build"] = module
    spec.loader.exec_module(module)
    labels = module.build(tmp_path)
    cache = MemoryCache()
    noisy = {}
    for repo, label in labels.items():
        if label["malicious"]:
            continue
        result = scan_snapshot(
            snapshot_from_folder(tmp_path / repo), analyzers=["yara"], cache=cache
        )
        loud = [
            f.rule_id for f in result.findings if f.analyzer == "yara" and f.severity > Severity.LOW
        ]
        if loud:
            noisy[repo] = loud
    assert not noisy
