"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run for all scanned repositories (GitHub rejects several runs of one tool
in one upload). Each result carries the reachability witness as a code flow,
so code scanning shows *how* the loader reaches the flagged line, and
``partialFingerprints`` from ``Finding.fingerprint`` so alerts survive line
shifts. Scan errors become ``toolExecutionNotifications``: a file that could
not be analysed is visible, not silently missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import RULESET_VERSION, __version__
from ..model import Confidence, Finding, ScanError, ScanResult, Severity
from .json import clean

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "loadguard/v1"
SRCROOT = "SRCROOT"

# GitHub maps security-severity to its own levels: >=9 critical, >=7 high, >=4 medium.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}

# Rule families by id prefix: a readable name and the advice shown as rule help.
FAMILIES: dict[str, tuple[str, str]] = {
    "CFG": (
        "LoadConfiguration",
        "A configuration value changes what a loader executes. Load with "
        "trust_remote_code=False where the architecture is built in, and pin revision= "
        "(and code_revision= for code from other repos) to a reviewed commit.",
    ),
    "CMD": (
        "CommandExecution",
        "Code that runs at load time starts a process. Never load it outside the sandbox "
        "(`loadguard trial`).",
    ),
    "PKL": (
        "UnsafeDeserialization",
        "Unpickling can call any importable function. Prefer safetensors "
        "(use_safetensors=True), convert with `loadguard convert`, or at least "
        "torch.load(..., weights_only=True).",
    ),
    "WGT": (
        "UnsafeWeights",
        "A weight file can execute code or hide data when loaded. Load data-only formats "
        "(safetensors, GGUF, ONNX) or convert with `loadguard convert`.",
    ),
    "NPY": (
        "UnsafeWeights",
        "A NumPy file holds pickled objects. Load it with allow_pickle=False or convert it.",
    ),
    "KERAS": (
        "UnsafeWeights",
        "A Keras model can run Lambda layers or custom objects on load. Use safe_mode=True "
        "and a weights-only format.",
    ),
    "TPL": (
        "TemplateInjection",
        "A template the runtime renders (chat template) does more than format text. Review "
        "it, or override it with a template you trust.",
    ),
    "ZIP": (
        "ArchiveAnomaly",
        "An archive is malformed, oversized or hides members. Do not load it; re-export the "
        "weights from a trusted source.",
    ),
    "POL": (
        "PolicyRequirement",
        "The repository does not meet the loadguard policy (trust flags, pinned commits, "
        "data-only weights). Pin revision= to a reviewed commit, drop trust flags, convert "
        "pickles, or accept the finding in a baseline with a reason and an expiry date.",
    ),
    "CODE": (
        "UnsafeModelLoading",
        "The code loads a model in a way that can execute repository code. Pin the "
        "revision to a commit, avoid trust flags, and use loadguard.guard() or the lock file.",
    ),
}
CWE_NAMES = {
    "CWE-78": "OS command injection",
    "CWE-94": "code injection",
    "CWE-95": "eval injection",
    "CWE-502": "deserialization of untrusted data",
    "CWE-829": "inclusion of functionality from an untrusted control sphere",
    "CWE-494": "download of code without integrity check",
    "CWE-200": "exposure of sensitive information",
    "CWE-506": "embedded malicious code",
    "CWE-912": "hidden functionality",
}


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding a baseline accepted: still in the SARIF, marked suppressed with the reason."""

    result_index: int
    finding: Finding
    justification: str


def results_to_sarif(
    results: Sequence[ScanResult],
    source_errors: Iterable[ScanError] = (),
    *,
    root: Path | None = None,
    suppressed: Sequence[SuppressedFinding] = (),
    baseline_state: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The SARIF log. ``root``: paths of local repos under it are made relative to it
    (the checkout root for code scanning; default: the current directory)."""
    root = (root or Path.cwd()).resolve()
    rules: dict[str, dict[str, Any]] = {}
    rule_findings: dict[str, list[Finding]] = {}
    entries: list[tuple[int, Finding, str | None]] = [
        (index, finding, None)
        for index, result in enumerate(results)
        for finding in result.findings
    ]
    entries += [(s.result_index, s.finding, s.justification) for s in suppressed]
    for _, finding, _ in entries:
        rule_findings.setdefault(finding.rule_id, []).append(finding)
    for rule_id in sorted(rule_findings):
        rules[rule_id] = _rule(rule_id, rule_findings[rule_id])
    rule_index = {rule_id: i for i, rule_id in enumerate(rules)}
    prefixes = [_prefix(result, root) for result in results]
    sarif_results = [
        _result(
            results[index],
            finding,
            prefixes[index],
            rule_index[finding.rule_id],
            justification,
            (baseline_state or {}).get(finding.fingerprint),
        )
        for index, finding, justification in entries
    ]
    notifications = [
        _notification(error, prefixes[index] if index is not None else None, results, index)
        for index, error in _all_errors(results, source_errors)
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "loadguard",
                        "semanticVersion": __version__,
                        "version": f"{__version__}+rules.{RULESET_VERSION}",
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": "loadguard/"},
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not any(
                            index is None for index, _ in _all_errors(results, source_errors)
                        ),
                        "endTimeUtc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": sarif_results,
                "properties": {
                    "repositories": [
                        _repo_properties(r, prefixes[i]) for i, r in enumerate(results)
                    ]
                },
            }
        ],
    }


def _all_errors(
    results: Sequence[ScanResult], source_errors: Iterable[ScanError]
) -> list[tuple[int | None, ScanError]]:
    pairs: list[tuple[int | None, ScanError]] = [
        (index, error) for index, result in enumerate(results) for error in result.errors
    ]
    return pairs + [(None, error) for error in source_errors]


def _prefix(result: ScanResult, root: Path) -> str:
    """The repo's folder relative to ``root`` ("" when it is root or not under it)."""
    location = result.snapshot.location
    if not location:
        return ""
    try:
        path = Path(location).resolve()
        if not path.is_dir():
            return ""
        relative = path.relative_to(root)
    except (OSError, ValueError):
        return ""
    text = relative.as_posix()
    return "" if text == "." else text + "/"


def _uri(prefix: str, path: str) -> str:
    """A relative URI for a repo path; archive members point at the outer archive.

    A repository-level finding (empty path) points at the repository folder.
    """
    outer = path.split("!", 1)[0]
    if not outer:
        return quote(clean(prefix.rstrip("/")) or ".", safe="/-._~!$&'()*+,;=:@")
    raw = clean(prefix + outer)
    # Percent-encode what a URI path may not hold (spaces, %, #, ? ...).
    return quote(raw, safe="/-._~!$&'()*+,;=:@")


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    family = rule_id.split("-")[1] if rule_id.count("-") >= 2 else ""
    name, advice = FAMILIES.get(
        family,
        (
            "LoadTimeRisk",
            "Code that runs when the model loads does something dangerous. Review it before "
            "loading, and load only inside the sandbox (`loadguard trial`).",
        ),
    )
    cwes = sorted({c for f in findings for c in f.cwe})
    worst = max(findings, key=lambda f: (f.severity, f.confidence))
    short = _first_sentence(clean(worst.message))
    cwe_text = "; ".join(f"{c} ({CWE_NAMES[c]})" if c in CWE_NAMES else c for c in cwes)
    help_text = advice + (f"\n\nWeaknesses: {cwe_text}." if cwe_text else "")
    tags = ["security", "loadguard", *sorted({f.analyzer for f in findings})]
    tags += [f"external/cwe/{c.lower()}" for c in cwes]
    return {
        "id": rule_id,
        "name": name + rule_id.split("-")[-1],
        "shortDescription": {"text": short},
        "fullDescription": {"text": short},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVEL[worst.severity]},
        "properties": {
            "tags": tags,
            "precision": PRECISION[worst.confidence],
            "security-severity": SECURITY_SEVERITY[worst.severity],
            "problem.severity": "error" if worst.severity >= Severity.HIGH else "warning",
        },
    }


def _first_sentence(text: str) -> str:
    head = text.split(". ")[0].split(":")[0].strip()
    return (head[:200] or text[:200]).rstrip(".") + "."


def _region(finding: Finding) -> dict[str, Any] | None:
    loc = finding.location
    region: dict[str, Any] = {}
    if loc.line:
        region["startLine"] = loc.line
        if loc.column is not None:
            region["startColumn"] = loc.column + 1  # Location columns are 0-based (AST)
        if loc.end_line and loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
        if finding.snippet:
            region["snippet"] = {"text": clean(finding.snippet)}
    elif loc.offset is not None:
        region["byteOffset"] = loc.offset
        region["byteLength"] = 1
    return region or None


def _physical(prefix: str, path: str, region: dict[str, Any] | None) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": _uri(prefix, path), "uriBaseId": SRCROOT}
    }
    if region:
        physical["region"] = region
    return physical


def _result(
    result: ScanResult,
    finding: Finding,
    prefix: str,
    rule_index: int,
    justification: str | None,
    baseline_state: str | None,
) -> dict[str, Any]:
    loc = finding.location
    location: dict[str, Any] = {"physicalLocation": _physical(prefix, loc.path, _region(finding))}
    if "!" in loc.path:
        location["logicalLocations"] = [{"fullyQualifiedName": clean(loc.path), "kind": "member"}]
    snap = result.snapshot
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": clean(finding.message)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "repository": clean(snap.repo_id),
            "platform": snap.platform.value,
            "revision": snap.revision,
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "reachable": finding.reachable,
            "analyzer": finding.analyzer,
            "alsoReportedBy": list(finding.also_reported_by),
            "evidence": [clean(e) for e in finding.evidence],
            "cwe": list(finding.cwe),
            "security-severity": SECURITY_SEVERITY[finding.severity],
        },
    }
    if finding.witness:
        out["codeFlows"] = [_code_flow(result, finding, prefix)]
    if justification is not None:
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": clean(justification)}
        ]
    if baseline_state is not None:
        out["baselineState"] = baseline_state
    return out


def _code_flow(result: ScanResult, finding: Finding, prefix: str) -> dict[str, Any]:
    """The witness path (entry trigger -> ... -> the finding) as one thread flow."""
    known = _known_paths(result)
    steps: list[dict[str, Any]] = []
    for depth, step in enumerate(finding.witness):
        text = clean(step)
        location: dict[str, Any] = {"message": {"text": text}}
        path = _path_in_step(step, known)
        if path is not None:
            location["physicalLocation"] = _physical(prefix, path, None)
        steps.append({"location": location, "nestingLevel": depth, "executionOrder": depth + 1})
    final_region = _region(finding)
    steps.append(
        {
            "location": {
                "message": {"text": "flagged: " + _first_sentence(clean(finding.message))},
                "physicalLocation": _physical(prefix, finding.location.path, final_region),
            },
            "nestingLevel": len(finding.witness),
            "executionOrder": len(finding.witness) + 1,
            "importance": "essential",
        }
    )
    return {
        "message": {
            "text": "how the load reaches it: " + " → ".join(clean(s) for s in finding.witness)
        },
        "threadFlows": [{"locations": steps}],
    }


def _known_paths(result: ScanResult) -> frozenset[str]:
    paths = set(result.plan.executed_files)
    paths.update(e.module for e in result.plan.entry_points if e.module)
    if result.reach is not None:
        paths.update(result.reach.files)
    return frozenset(paths)


def _path_in_step(step: str, known: frozenset[str]) -> str | None:
    """The repo file a witness step names ("modeling.py", "a/b.py::C.f", "config.json key")."""
    head = step.strip().split(" ", 1)[0].split("::", 1)[0].split(":", 1)[0]
    if head in known:
        return head
    looks_like_file = head.endswith((".py", ".json", ".yaml", ".yml", ".txt"))
    return head if looks_like_file and not head.startswith(("..", "/")) else None


def _notification(
    error: ScanError, prefix: str | None, results: Sequence[ScanResult], index: int | None
) -> dict[str, Any]:
    note: dict[str, Any] = {
        # A target that could not be opened is an error; one unreadable file a warning.
        "level": "error" if index is None else "warning",
        "message": {"text": f"{error.stage}: {clean(error.message)}"},
        "descriptor": {"id": f"{error.stage}/{error.kind}"},
    }
    if error.path and index is not None:
        note["locations"] = [{"physicalLocation": _physical(prefix or "", error.path, None)}]
    if index is not None:
        note["properties"] = {"repository": clean(results[index].snapshot.repo_id)}
    else:
        note["properties"] = {"target": clean(error.path)}
    return note


def _repo_properties(result: ScanResult, prefix: str) -> dict[str, Any]:
    snap = result.snapshot
    return {
        "repository": clean(snap.repo_id),
        "platform": snap.platform.value,
        "revision": snap.revision,
        "location": clean(snap.location),
        "root": prefix or ".",
        "verdict": result.verdict.value,
        "runsRepoCode": result.plan.runs_repo_code,
        "trustFlags": list(result.plan.trust_flags),
    }


def sarif_dumps(log: dict[str, Any]) -> str:
    import json

    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
