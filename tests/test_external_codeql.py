"""CodeQL: SARIF ingestion (fixture) and the clear skip without a binary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers.codeql import ingest_sarif
from loadguard.engine import scan_snapshot
from loadguard.model import Confidence, Severity
from loadguard.sources.local import snapshot_from_folder

SARIF = Path(__file__).resolve().parent / "data" / "codeql_sample.sarif"
MakeRepo = Callable[..., Path]


def test_ingest_maps_cwe_severity_and_paths(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "pkg/helpers.py": "import os\n\ndef f(cmd):\n    os.system(cmd)\n",
            "modeling_x.py": "import pickle\npickle.loads(b'')\n",
        }
    )
    out = ingest_sarif(json.loads(SARIF.read_text()), snapshot_from_folder(root))
    first, second = out.findings
    assert first.rule_id == "CODEQL-py/command-line-injection"
    assert first.location.path == "pkg/helpers.py" and first.location.line == 4
    assert first.cwe == ("CWE-78", "CWE-88")
    assert first.severity is Severity.CRITICAL and first.confidence is Confidence.HIGH
    assert first.snippet == "os.system(cmd)"
    assert second.location.path == "modeling_x.py"
    assert second.cwe == ("CWE-502",) and second.severity is Severity.MEDIUM
    assert not out.errors


def test_sarif_option_through_engine(make_repo: MakeRepo) -> None:
    root = make_repo({"pkg/helpers.py": "import os\n\ndef f(cmd):\n    os.system(cmd)\n"})
    result = scan_snapshot(
        snapshot_from_folder(root), analyzers=["codeql"], options={"codeql_sarif": str(SARIF)}
    )
    assert [f.analyzer for f in result.findings].count("codeql") == 2
    assert result.stats[0].skipped_reason is None


def test_skipped_clearly_without_binary(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = scan_snapshot(
        snapshot_from_folder(make_repo({"a.py": "x = 1\n"})), analyzers=["codeql"]
    )
    (stat,) = result.stats
    assert stat.skipped_reason and "codeql" in stat.skipped_reason
    assert [e.kind for e in result.errors] == ["missing-extra"]


def test_unreadable_sarif_is_an_error(make_repo: MakeRepo, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sarif"
    bad.write_text("{not json")
    result = scan_snapshot(
        snapshot_from_folder(make_repo({"a.py": "x = 1\n"})),
        analyzers=["codeql"],
        options={"codeql_sarif": str(bad)},
    )
    assert result.errors and result.errors[0].stage == "codeql"
