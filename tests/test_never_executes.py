"""A scan never imports, executes, unpickles or connects: checked with an audit hook."""

from __future__ import annotations

from conftest import EXAMPLES, ROOT
from loadguard.api import scan
from loadguard.selfcheck import recording, violations


def test_scanning_malicious_examples_runs_none_of_them() -> None:
    targets = [str(EXAMPLES), str(ROOT / "tests")]
    with recording() as events:
        results = [r for t in targets for r in scan(t)]
    assert len(results) >= 14
    assert events, "the audit hook recorded nothing: the check itself is broken"
    assert violations(events, targets) == []


def test_the_check_catches_a_violation() -> None:
    import subprocess

    with recording() as events:
        subprocess.run(["true"], check=True)
    assert [v.event for v in violations(events, [str(EXAMPLES)])] == ["subprocess.Popen"]
