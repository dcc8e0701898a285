"""Scanning every labelled pickle sample runs none of it: checked with the audit hook."""

from __future__ import annotations

from pathlib import Path

import pickle_samples as ps
from loadguard.api import scan
from loadguard.model import Severity
from loadguard.selfcheck import recording, violations


def test_labelled_samples_are_never_loaded(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "config.json").write_text("{}")
    for sample in ps.SAMPLES:
        (root / f"{sample.name}-{sample.filename}").write_bytes(sample.build())
    with recording() as events:
        (result,) = scan(str(root))
    assert events, "the audit hook recorded nothing: the check itself is broken"
    assert violations(events, [str(root)]) == []
    flagged = {f.location.path.split("!")[0] for f in result.findings if f.severity > Severity.LOW}
    malicious = {f"{s.name}-{s.filename}" for s in ps.SAMPLES if s.malicious}
    assert malicious <= flagged
    assert not flagged & {f"{s.name}-{s.filename}" for s in ps.SAMPLES if not s.malicious}
