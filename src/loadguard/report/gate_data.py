"""The gate's machine-readable documents (JSON with gate and advice, SARIF): no rich.

Kept apart from ``gate_view`` so ``--format json|sarif`` never imports the
terminal renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..advice import RepoFacts, SafeLoadAdvice, advice_for
from ..policy import Gate, RepoGate
from .json import clean, results_to_document

FactsMap = Mapping[tuple[str, str], RepoFacts]


def advice_of(repo: RepoGate, facts: FactsMap | None = None) -> SafeLoadAdvice:
    snap = repo.result.snapshot
    known = (facts or {}).get((snap.repo_id, snap.location))
    return advice_for(repo.result, known)


def gate_document(gate: Gate, facts: FactsMap | None = None) -> dict[str, Any]:
    """The JSON document (docs/schema.md) plus the gate and the advice."""
    document = results_to_document([r.result for r in gate.repos], gate.source_errors)
    document["gate"] = gate.to_dict()
    for entry, repo in zip(document["results"], gate.repos):
        entry["gate"] = repo.to_dict()
        entry["advice"] = advice_of(repo, facts).to_dict()
    return document


def gate_sarif(gate: Gate, *, root: Path | None = None) -> dict[str, Any]:
    """SARIF of the gated results; baselined findings stay in, marked as suppressed."""
    from .sarif import SuppressedFinding, results_to_sarif

    suppressed = [
        SuppressedFinding(
            index, finding, f"{entry.reason} (baseline, expires {entry.expires.isoformat()})"
        )
        for index, repo in enumerate(gate.repos)
        for finding, entry in repo.suppressed
    ]
    # With a baseline, every shown finding is new unless an expired entry had accepted it.
    states: dict[str, str] | None = None
    if any(repo.suppressed or repo.expired for repo in gate.repos):
        resurfaced = {e.fingerprint for repo in gate.repos for e in repo.expired}
        states = {
            f.fingerprint: "unchanged" if f.fingerprint in resurfaced else "new"
            for repo in gate.repos
            for f in repo.result.findings
        }
        states.update({s.finding.fingerprint: "unchanged" for s in suppressed})
    log = results_to_sarif(
        [r.result for r in gate.repos],
        gate.source_errors,
        root=root,
        suppressed=suppressed,
        baseline_state=states,
    )
    run = log["runs"][0]
    run["properties"]["gate"] = gate.to_dict()
    notes = run["invocations"][0]["toolExecutionNotifications"]
    for repo in gate.repos:
        for entry in repo.expired:
            notes.append(
                {
                    "level": "warning",
                    "message": {
                        "text": f"baseline entry for {entry.rule_id} at {clean(entry.path)} "
                        f"expired on {entry.expires.isoformat()} (reason was: "
                        f"{clean(entry.reason)}); the finding is reported again"
                    },
                    "descriptor": {"id": "baseline/expired"},
                    "properties": {"repository": clean(repo.result.snapshot.repo_id)},
                }
            )
    for props, repo in zip(run["properties"]["repositories"], gate.repos):
        props["gate"] = repo.verdict.value
        props["gateReasons"] = [clean(r) for r in repo.reasons]
    return log
