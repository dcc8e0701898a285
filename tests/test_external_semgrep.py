"""Semgrep: JSON parsing (always) and a real offline run when the CLI is installed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers.semgrep import parse_semgrep_json, rules_dir, semgrep_command
from loadguard.engine import scan_snapshot
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]
# Tests look in the project's separate semgrep venv too (semgrep conflicts with /work/venv).
SEMGREP = shutil.which("semgrep") or shutil.which(
    "semgrep", path="/work/venv-semgrep/bin" + os.pathsep + os.environ.get("PATH", "")
)


def test_command_is_offline() -> None:
    cmd = semgrep_command("semgrep", ["."])
    assert "--metrics=off" in cmd and "--no-git-ignore" in cmd and "--disable-version-check" in cmd
    assert cmd[cmd.index("--config") + 1] == rules_dir()
    assert list(Path(rules_dir()).glob("*.yaml"))


def test_parse_results_and_errors() -> None:
    doc = {
        "results": [
            {
                "check_id": "tmp.rules.lg-semgrep-os-command",
                "path": "./f00000.py",
                "start": {"line": 3, "col": 1},
                "end": {"line": 3, "col": 20},
                "extra": {
                    "message": "Shell command",
                    "severity": "ERROR",
                    "lines": "os.system('id')\n",
                    "metadata": {"cwe": ["CWE-78: OS command"], "lg_severity": "high"},
                },
            }
        ],
        "errors": [{"path": "f00001.py", "message": "Syntax error", "type": "ParseError"}],
    }
    out = parse_semgrep_json(
        json.dumps(doc).encode(), 0, b"", {"f00000.py": "pkg/a.py", "f00001.py": "b.py"}
    )
    (finding,) = out.findings
    assert finding.rule_id == "LG-SEMGREP-OS-COMMAND" and finding.location.path == "pkg/a.py"
    assert finding.cwe == ("CWE-78",) and finding.severity is Severity.HIGH
    assert out.errors[0].path == "b.py"
    crashed = parse_semgrep_json(b"", 2, b"boom", {})
    assert crashed.errors and "boom" in crashed.errors[0].message


def test_missing_binary_skips_clearly(make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = scan_snapshot(
        snapshot_from_folder(make_repo({"a.py": "x = 1\n"})), analyzers=["semgrep"]
    )
    assert result.stats[0].skipped_reason and "semgrep" in result.stats[0].skipped_reason


@pytest.mark.slow
@pytest.mark.skipif(SEMGREP is None, reason="semgrep CLI not installed")
def test_real_run_over_executed_files(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "hubconf.py": "import os\nimport tests.helpers\ndef m():\n    os.system('id')\n",
            "tests/__init__.py": "",
            "tests/helpers.py": "import subprocess\nsubprocess.run('x', shell=True)\n",
            "scripts/train.py": "import os\nos.system('train')\n",
        }
    )
    result = scan_snapshot(
        snapshot_from_folder(root), analyzers=["semgrep"], options={"semgrep_binary": SEMGREP}
    )
    assert result.stats[0].skipped_reason is None, result.errors
    paths = {f.location.path for f in result.findings if f.analyzer == "semgrep"}
    assert "hubconf.py" in paths
    assert "tests/helpers.py" in paths  # the default ignore list does not hide it
    assert "scripts/train.py" not in paths
