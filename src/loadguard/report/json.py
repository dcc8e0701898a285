"""The JSON document (schema ``loadguard-scan``, version in ``model.SCHEMA_VERSION``).

Documented in ``docs/schema.md``. Later capabilities add keys; they never
rename or remove one without a major version bump.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .. import RULESET_VERSION, __version__
from ..model import (
    SCHEMA_VERSION,
    EntryPoint,
    Finding,
    LoadPlan,
    ReachGraph,
    ScanError,
    ScanResult,
    Severity,
)


def clean(text: str) -> str:
    """Repo-controlled text made valid UTF-8 (non-UTF-8 file names keep their bytes visible)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    return {
        "rule_id": finding.rule_id,
        "analyzer": finding.analyzer,
        "also_reported_by": list(finding.also_reported_by),
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "cwe": list(finding.cwe),
        "message": clean(finding.message),
        "location": {
            "path": clean(loc.path),
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "offset": loc.offset,
        },
        "snippet": clean(finding.snippet),
        "reachable": finding.reachable,
        "witness": [clean(step) for step in finding.witness],
        "evidence": [clean(e) for e in finding.evidence],
        "fingerprint": finding.fingerprint,
        "rank": round(finding.rank, 3),
    }


def error_to_dict(error: ScanError) -> dict[str, Any]:
    return {
        "path": clean(error.path),
        "stage": error.stage,
        "kind": error.kind,
        "message": clean(error.message),
    }


def entry_point_to_dict(entry: EntryPoint) -> dict[str, Any]:
    return {
        "loader": entry.loader.value,
        "kind": entry.kind.value,
        "trigger": clean(entry.trigger),
        "module": clean(entry.module) if entry.module else None,
        "qualname": clean(entry.qualname) if entry.qualname else None,
        "trust_flag": entry.trust_flag,
        "runs_repo_code": entry.runs_repo_code,
        "cross_repo": clean(entry.cross_repo.reference) if entry.cross_repo else None,
        "exists": entry.exists,
        "notes": list(entry.notes),
    }


def plan_to_dict(plan: LoadPlan) -> dict[str, Any]:
    return {
        "loaders": [loader.value for loader in plan.loaders],
        "runs_repo_code": plan.runs_repo_code,
        "trust_flags": list(plan.trust_flags),
        "entry_points": [entry_point_to_dict(e) for e in plan.entry_points],
        "executed_files": [clean(p) for p in plan.executed_files],
        "cross_repo_refs": [
            {
                "repo_id": clean(r.repo_id),
                "reference": clean(r.reference),
                "trigger": clean(r.trigger),
                "pinned": r.pinned,
                "platform": r.platform.value,
            }
            for r in plan.cross_repo_refs
        ],
        "weights": [
            {
                "path": clean(w.path),
                "format": w.kind.value,
                "size": w.size,
                "pickle_based": w.pickle_based,
                "data_only": w.data_only,
            }
            for w in plan.weights
        ],
        "requirements": [clean(r) for r in plan.requirements],
    }


def reach_to_dict(reach: ReachGraph) -> dict[str, Any]:
    return {
        "precision": reach.precision,
        "truncated": reach.truncated,
        "files": sorted(clean(p) for p in reach.files),
        "functions": [
            {
                "id": clean(n.id),
                "path": clean(n.path),
                "qualname": n.qualname,
                "witness": [clean(s) for s in n.witness],
            }
            for n in reach.functions
        ],
        "modules": [
            {"path": clean(n.path), "witness": [clean(s) for s in n.witness]}
            for n in reach.nodes
            if n.qualname is None
        ],
        "unresolved": [
            {"path": clean(u.path), "line": u.line, "reason": u.reason} for u in reach.unresolved
        ],
    }


def _jsonable(value: object) -> Any:
    """Source metadata and census values as JSON types (strings made valid UTF-8)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return clean(str(value))


def result_to_dict(result: ScanResult) -> dict[str, Any]:
    snap = result.snapshot
    counts = {s.label: 0 for s in reversed(Severity)}
    for finding in result.findings:
        counts[finding.severity.label] += 1
    return {
        "repo": {
            "platform": snap.platform.value,
            "platform_inferred": snap.platform_inferred,
            "repo_id": clean(snap.repo_id),
            "revision": snap.revision,
            "location": clean(snap.location),
            "files": result.file_count,
            "bytes": result.total_bytes,
            "source": _jsonable(result.source),
        },
        "verdict": result.verdict.value,
        "max_severity": result.max_severity.label if result.max_severity is not None else None,
        "finding_counts": counts,
        "plan": plan_to_dict(result.plan),
        "reach": reach_to_dict(result.reach) if result.reach is not None else None,
        "weight_census": _jsonable(result.weight_census),
        "findings": [finding_to_dict(f) for f in result.findings],
        "errors": [error_to_dict(e) for e in result.errors],
        "analyzers": [
            {
                "name": s.name,
                "files": s.files,
                "cached": s.cached,
                "findings": s.findings,
                "errors": s.errors,
                "seconds": round(s.seconds, 4),
                "skipped": s.skipped_reason,
            }
            for s in result.stats
        ],
    }


def results_to_document(
    results: Sequence[ScanResult], source_errors: Iterable[ScanError] = ()
) -> dict[str, Any]:
    return {
        "schema": "loadguard-scan",
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "loadguard", "version": __version__, "ruleset": RULESET_VERSION},
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "results": [result_to_dict(r) for r in results],
        "errors": [error_to_dict(e) for e in source_errors],
    }


def dumps(document: dict[str, Any]) -> str:
    # Compact: an indent forces json's pure-Python encoder, 3-4x slower on a study-sized
    # document (``jq .`` pretty-prints it for people).
    return json.dumps(document, ensure_ascii=False) + "\n"
