"""Scan one snapshot: classify -> plan -> reach -> analyzers -> annotate -> verdict.

Analyzer failures, missing optional tools and unreadable files become
``ScanError`` entries on the result; the scan of a repository always
finishes with a result.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from .analyzers import DEFAULT_ANALYZERS, READS_ONLY, load_analyzer
from .analyzers.base import (
    TENSOR_NAMES,
    AnalysisContext,
    AnalyzerOutput,
    FileAnalyzer,
    FileFact,
    SnapshotAnalyzer,
)
from .budget import BudgetedStore, FileTimeout, ReadBudgetExceeded, time_limit
from .census import weight_census
from .detect import build_plan
from .errors import LoadguardError, MissingExtra, archive_errors
from .filekinds import WEIGHT_KINDS, classify_all
from .limits import DEFAULT_LIMITS, Limits
from .model import (
    PICKLE_KINDS,
    AnalyzerStats,
    Confidence,
    FileEntry,
    FileKind,
    Finding,
    LoadPlan,
    ReachGraph,
    ScanError,
    ScanResult,
    Severity,
    Snapshot,
    Verdict,
)

CacheKey = tuple[str, str, str]  # analyzer name, analyzer version, file sha256
_PLACEHOLDER = "\x00file"


class AnalysisCache(Protocol):
    """Content-addressed store of file-analyzer outputs (the study mode persists it)."""

    def get(self, key: CacheKey) -> AnalyzerOutput | None: ...

    def put(self, key: CacheKey, output: AnalyzerOutput) -> None: ...


class MemoryCache:
    """Per-process cache: byte-identical files in one run are analysed once."""

    def __init__(self) -> None:
        self._store: dict[CacheKey, AnalyzerOutput] = {}

    def get(self, key: CacheKey) -> AnalyzerOutput | None:
        return self._store.get(key)

    def put(self, key: CacheKey, output: AnalyzerOutput) -> None:
        self._store[key] = output


def scan_snapshot(
    snapshot: Snapshot,
    *,
    analyzers: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cache: AnalysisCache | None = None,
    options: Mapping[str, object] | None = None,
) -> ScanResult:
    source_store = snapshot.store
    snapshot = dataclasses.replace(
        snapshot, store=BudgetedStore(snapshot.store, limits.max_repo_bytes_read)
    )
    kinds = classify_all(snapshot)
    plan = build_plan(snapshot, kinds, limits)
    errors: list[ScanError] = list(snapshot.skipped) + list(plan.errors)
    reach: ReachGraph | None = None
    try:
        reach = _reach_graph(snapshot, plan, limits)
    except Exception as exc:
        errors.append(ScanError("", "reach", f"reachability failed: {exc!r}", "internal-error"))
    ctx = AnalysisContext(snapshot, plan, kinds, reach, limits, options or {})
    findings: list[Finding] = list(plan.config_findings)
    stats: list[AnalyzerStats] = []
    facts: list[FileFact] = []
    for name in analyzers if analyzers is not None else DEFAULT_ANALYZERS:
        output, stat = _run_analyzer(name, ctx, cache)
        findings += output.findings
        errors += output.errors
        facts += output.facts
        stats.append(stat)
    # Remote stores record fetch failures as they happen (a file that vanished, a
    # short body, a hash mismatch); readers may have seen them only as OSErrors.
    late_errors = getattr(source_store, "late_errors", None)
    if callable(late_errors):
        errors += list(late_errors())
    census: dict[str, object] | None = None
    if plan.weights:
        try:
            known = {f.path: f.value for f in facts if f.key == TENSOR_NAMES}
            census = weight_census(snapshot, kinds, limits, known_names=known).to_dict()
        except Exception as exc:  # the census is a summary: never lose the scan for it
            errors.append(
                ScanError("", "census", f"weight census failed: {exc!r}", "internal-error")
            )
    annotated = merge_duplicates([annotate(f, plan, reach, kinds) for f in findings])
    ordered = tuple(
        sorted(annotated, key=lambda f: (-f.rank, f.location.path, f.location.line or 0, f.rule_id))
    )
    return ScanResult(
        snapshot=snapshot.identity,
        plan=plan,
        findings=ordered,
        errors=tuple(dict.fromkeys(errors)),
        verdict=verdict_for(ordered, plan),
        reach=reach,
        stats=tuple(stats),
        file_count=len(snapshot.files),
        total_bytes=sum(f.size for f in snapshot.files),
        source=_plain(snapshot.metadata),
        weight_census=census,
    )


def _reach_graph(snapshot: Snapshot, plan: LoadPlan, limits: Limits) -> ReachGraph:
    """The reach graph; without a single ``.py`` file it is empty, and reach is not imported."""
    if not any(f.path.endswith(".py") for f in snapshot.files):
        return ReachGraph(nodes=(), precision="function")
    from .reach import build_reach_graph

    return build_reach_graph(snapshot, plan, limits)


def _plain(metadata: Mapping[str, object]) -> dict[str, object]:
    """A frozen copy of the source's metadata (remote sources expose a live view)."""
    return {str(k): v for k, v in dict(metadata).items()}


def _run_analyzer(
    name: str, ctx: AnalysisContext, cache: AnalysisCache | None
) -> tuple[AnalyzerOutput, AnalyzerStats]:
    reads = READS_ONLY.get(name)
    if reads is not None and reads.isdisjoint(ctx.kinds.values()):
        return AnalyzerOutput(), AnalyzerStats(name)  # nothing it reads is here
    started = time.perf_counter()
    try:
        analyzer = load_analyzer(name)
    except MissingExtra as exc:
        return AnalyzerOutput(
            errors=(ScanError("", name, str(exc), "missing-extra"),)
        ), AnalyzerStats(name, skipped_reason=str(exc))
    except (ImportError, ValueError) as exc:
        reason = f"cannot load analyzer: {exc}"
        return AnalyzerOutput(
            errors=(ScanError("", name, reason, "missing-extra"),)
        ), AnalyzerStats(name, skipped_reason=reason)
    total = AnalyzerOutput()
    files = cached = 0
    if isinstance(analyzer, FileAnalyzer):
        for entry in ctx.snapshot.files:
            kind = ctx.kinds.get(entry.path, FileKind.OTHER)
            if not analyzer.wants(entry, kind):
                continue
            files += 1
            output, hit = _analyze_file(analyzer, ctx, entry, kind, cache)
            cached += hit
            total = total + output
    elif isinstance(analyzer, SnapshotAnalyzer):
        total = _guarded(name, "", lambda: analyzer.analyze_snapshot(ctx))
    skipped = next((e.message for e in total.errors if e.kind == "missing-extra"), None)
    return total, AnalyzerStats(
        name,
        files,
        cached,
        len(total.findings),
        len(total.errors),
        time.perf_counter() - started,
        skipped,
    )


def _analyze_file(
    analyzer: FileAnalyzer,
    ctx: AnalysisContext,
    entry: FileEntry,
    kind: FileKind,
    cache: AnalysisCache | None,
) -> tuple[AnalyzerOutput, bool]:
    key: CacheKey | None = None
    if cache is not None and (entry.sha256 or _worth_hashing(entry, kind, ctx.limits)):
        try:
            key = (analyzer.name, analyzer.version, ctx.snapshot.sha256(entry.path))
        except (OSError, LoadguardError):
            key = None
        hit = cache.get(key) if key else None
        if hit is not None:
            return relocate(hit, _PLACEHOLDER, entry.path), True

    def run() -> AnalyzerOutput:
        with time_limit(ctx.limits.per_file_seconds, entry.path):
            return analyzer.analyze_file(ctx, entry, kind)

    output = _guarded(analyzer.name, entry.path, run)
    if any(e.kind in ("timeout", "read-budget") for e in output.errors):
        return output, False  # an aborted analysis must not be cached as complete
    fetch_failed = getattr(ctx.snapshot.store, "fetch_failed", None)
    if callable(fetch_failed) and fetch_failed(entry.path):
        return output, False  # nor one that saw only part of a remote file
    if key is not None and cache is not None:
        cache.put(key, relocate(output, entry.path, _PLACEHOLDER))
    return output, False


def _worth_hashing(entry: FileEntry, kind: FileKind, limits: Limits) -> bool:
    """Whether hashing a file to key the cache costs less than analysing it again.

    Weight analyzers read only headers and pickle members, so hashing the whole
    file would cost more than the analysis it saves; hub files whose hash the
    source already knows are keyed for free.
    """
    return entry.size <= limits.max_text_bytes and kind not in WEIGHT_KINDS


def _guarded(name: str, path: str, run: Callable[[], AnalyzerOutput]) -> AnalyzerOutput:
    """Run an analyzer step; a crash is evidence to report, not a reason to stop."""
    try:
        return run()
    except FileTimeout as exc:
        return AnalyzerOutput(errors=(ScanError(path, name, str(exc), "timeout"),))
    except ReadBudgetExceeded as exc:
        return AnalyzerOutput(errors=(ScanError(path, name, str(exc), "read-budget"),))
    except RecursionError:  # before the archive errors, which include RuntimeError
        return AnalyzerOutput(
            errors=(ScanError(path, name, "input nested too deeply", "too-deep"),)
        )
    except Exception as exc:
        if isinstance(exc, (OSError, LoadguardError, *archive_errors())):
            message = f"cannot read: {exc}"
            return AnalyzerOutput(errors=(ScanError(path, name, message, "unreadable"),))
        return AnalyzerOutput(
            errors=(ScanError(path, name, f"analyzer failed: {exc!r}", "internal-error"),)
        )


def relocate(output: AnalyzerOutput, old: str, new: str) -> AnalyzerOutput:
    """Rewrite the file path of a cached output (byte-identical file, other name)."""

    def move(path: str) -> str:
        if path == old:
            return new
        if path.startswith(old + "!"):
            return new + path[len(old) :]
        return path

    return AnalyzerOutput(
        tuple(
            dataclasses.replace(
                f, location=dataclasses.replace(f.location, path=move(f.location.path))
            )
            for f in output.findings
        ),
        tuple(dataclasses.replace(e, path=move(e.path)) for e in output.errors),
        tuple(dataclasses.replace(f, path=move(f.path)) for f in output.facts),
    )


def annotate(
    finding: Finding, plan: LoadPlan, reach: ReachGraph | None, kinds: Mapping[str, FileKind]
) -> Finding:
    """Set ``reachable`` and the witness path from the reach graph and the plan."""
    if finding.reachable is not None:
        return finding
    path = finding.location.path.split("!", 1)[0]
    if kinds.get(path) in PICKLE_KINDS or kinds.get(path) in (FileKind.NUMPY, FileKind.NUMPY_ZIP):
        trigger = next((ep.trigger for ep in plan.entry_points if ep.module == path), None)
        return dataclasses.replace(
            finding, reachable=trigger is not None, witness=(trigger,) if trigger else ()
        )
    if reach is None:
        executed = path in plan.executed_files
        return dataclasses.replace(finding, reachable=True if executed else None)
    if finding.location.line is not None:
        reachable, witness = reach.locate(path, finding.location.line)
    else:
        node = reach.node(path)
        reachable, witness = node is not None, node.witness if node else ()
    if not reachable and _may_run_anyway(reach, path):
        return dataclasses.replace(finding, reachable=None, witness=())
    return dataclasses.replace(finding, reachable=reachable, witness=witness)


def _may_run_anyway(reach: ReachGraph, path: str) -> bool:
    """Whether code the graph did not reach in ``path`` could still run on load.

    Past a computed import, ``exec`` or path loader (or the node budget) the
    graph cannot prove absence, and "not reached" would hand attackers a
    downgrade. A computed ``getattr`` only reaches modules already imported.
    """
    if reach.truncated:
        return True
    if any(not u.attribute_only for u in reach.unresolved):
        return True
    return bool(reach.unresolved) and reach.node(path) is not None


# Pattern matchers see bytes; loadguard's own analyzers understand the format,
# so on equal rank their finding (message, qualname, evidence) is the one kept.
_PATTERN_ANALYZERS = frozenset({"yara", "bandit", "semgrep", "codeql"})


def _precedence(finding: Finding) -> tuple[float, bool]:
    return (finding.rank, finding.analyzer not in _PATTERN_ANALYZERS)


def merge_duplicates(findings: list[Finding]) -> list[Finding]:
    """One finding per (file, line, CWE family); the strongest keeps the others' names."""
    best: dict[tuple[str, int | None, int | None, str], Finding] = {}
    order: list[tuple[str, int | None, int | None, str]] = []
    for finding in findings:
        cwe = finding.cwe[0] if finding.cwe else finding.rule_id
        key = (finding.location.path, finding.location.line, finding.location.offset, cwe)
        current = best.get(key)
        if current is None:
            best[key] = finding
            order.append(key)
            continue
        if current.analyzer == finding.analyzer and current.rule_id != finding.rule_id:
            # two rules of one analyzer on one line are two findings
            split = (key[0], key[1], key[2], f"{cwe}:{finding.rule_id}")
            best[split] = finding
            order.append(split)
            continue
        strong, weak = (
            (finding, current)
            if _precedence(finding) > _precedence(current)
            else (current, finding)
        )
        others = tuple(
            dict.fromkeys(strong.also_reported_by + (weak.analyzer,) + weak.also_reported_by)
        )
        best[key] = dataclasses.replace(
            strong, also_reported_by=tuple(a for a in others if a != strong.analyzer)
        )
    return [best[k] for k in order]


def verdict_for(findings: Sequence[Finding], plan: LoadPlan) -> Verdict:
    live = [f for f in findings if f.reachable is not False]
    if any(f.severity >= Severity.CRITICAL and f.confidence >= Confidence.MEDIUM for f in live):
        return Verdict.MALICIOUS_LIKELY
    if any(f.severity >= Severity.HIGH for f in live):
        return Verdict.DANGEROUS
    if plan.runs_repo_code or any(f.severity >= Severity.MEDIUM for f in findings):
        return Verdict.REVIEW
    return Verdict.CLEAN
