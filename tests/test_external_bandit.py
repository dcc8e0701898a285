"""Bandit through its library API: CWE table, executed-files default, nosec ignored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.engine import scan_snapshot
from loadguard.model import Finding, Severity
from loadguard.rules.bandit_cwe import BANDIT_RULES, bandit_rule
from loadguard.sources.local import snapshot_from_folder

pytest.importorskip("bandit")
MakeRepo = Callable[..., Path]

HUBCONF = 'import helpers\ndependencies = ["torch"]\ndef small(**kw):\n    return helpers.build()\n'
HELPERS = "def build():\n    exec(compile(open('/tmp/x').read(), 'x', 'exec'))  # nosec\n"
SCRIPT = "import subprocess\nsubprocess.run('make', shell=True)\n"


def bandit_findings(root: Path, **options: object) -> list[Finding]:
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["bandit"], options=options)
    assert result.stats[0].skipped_reason is None
    return [f for f in result.findings if f.analyzer == "bandit"]


def test_table_covers_every_installed_bandit_test() -> None:
    from bandit.core import extension_loader

    manager = extension_loader.MANAGER
    ids = set(manager.plugins_by_id) | set(manager.blacklist_by_id)
    assert ids and ids <= set(BANDIT_RULES), sorted(ids - set(BANDIT_RULES))
    assert BANDIT_RULES["B101"].cwe == ("CWE-703",)
    assert "CWE-78" in BANDIT_RULES["B102"].cwe
    assert bandit_rule("B999").cwe == ()


def test_only_executed_files_by_default(make_repo: MakeRepo) -> None:
    root = make_repo({"hubconf.py": HUBCONF, "helpers.py": HELPERS, "scripts/train.py": SCRIPT})
    found = bandit_findings(root)
    paths = {f.location.path for f in found}
    assert "helpers.py" in paths and "scripts/train.py" not in paths
    exec_hit = next(f for f in found if f.rule_id == "BANDIT-B102")
    assert exec_hit.cwe[0] == "CWE-95" and exec_hit.location.line == 2  # nosec ignored
    assert exec_hit.reachable is True
    everything = bandit_findings(root, bandit_all_files=True)
    assert "scripts/train.py" in {f.location.path for f in everything}


def test_noise_capped(make_repo: MakeRepo) -> None:
    tok = (
        "class Tok:\n"
        "    def __init__(self, pad_token='<pad>', password='<pw>'):\n"
        "        assert pad_token\n"
        "        self.password = 'x'\n"
    )
    root = make_repo(
        {"hubconf.py": "from tok import Tok\ndef m():\n    return Tok()\n", "tok.py": tok}
    )
    found = bandit_findings(root)
    assert found and all(f.severity <= Severity.LOW for f in found)


def test_syntax_error_reported(make_repo: MakeRepo) -> None:
    root = make_repo({"hubconf.py": "def broken(:\n"})
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["bandit"])
    assert any(e.stage == "bandit" and e.path == "hubconf.py" for e in result.errors)
