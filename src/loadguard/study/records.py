"""A scan result flattened into the study's rows, and the cache's JSON codec.

Rows are plain tuples so they cross process (and Ray) boundaries cheaply and
go into DuckDB as they are. Everything here is a pure function of the
result: a resumed run writes exactly the rows an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..analyzers.base import AnalyzerOutput
from ..filekinds import classify_all
from ..model import (
    PICKLE_KINDS,
    Confidence,
    FileKind,
    Finding,
    Location,
    ScanError,
    ScanResult,
    Severity,
    Snapshot,
)
from ..sources.local import LocalStore

Row = tuple[Any, ...]
# Text files small enough to hash for the corpus' duplicate statistics; weights
# are never read just to be hashed.
HASHED_KINDS = frozenset({FileKind.PYTHON, FileKind.JSON, FileKind.YAML, FileKind.TEXT})


@dataclass(frozen=True)
class RepoTask:
    """One repository to analyse: its deterministic key and its snapshot (or target)."""

    key: str
    snapshot: Snapshot | None  # None: a hub target the worker fetches itself
    target: str = ""
    metadata: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RepoRows:
    """Everything one repository contributes to the store, written in one transaction."""

    key: str
    repo: Row
    files: tuple[Row, ...]
    entry_points: tuple[Row, ...]
    findings: tuple[Row, ...]
    errors: tuple[Row, ...]
    # run bookkeeping (not part of the compared result): seconds, analysed, cached
    seconds: float = 0.0
    files_analysed: int = 0
    files_cached: int = 0
    new_cache: tuple[tuple[str, str, str, str], ...] = ()  # name, version, sha256, json


def repo_key(snapshot: Snapshot) -> str:
    """Deterministic identity of a repository *as it is now*.

    Platform, id, revision, location and the file listing (size, known hash,
    and for local files the modification time) - cheap to compute without
    reading contents, and it changes whenever a file does, so a rerun skips
    exactly the unchanged repositories.
    """
    h = hashlib.sha256()
    for part in (
        snapshot.platform.value,
        snapshot.repo_id,
        snapshot.revision or "",
        snapshot.location,
    ):
        h.update(part.encode("utf-8", "surrogateescape") + b"\x1f")
    real = (
        getattr(snapshot.store, "_real", None) if isinstance(snapshot.store, LocalStore) else None
    )
    for entry in snapshot.files:
        stamp = ""
        if real is not None and entry.path in real:
            try:
                stamp = str(os.stat(real[entry.path]).st_mtime_ns)
            except OSError:
                stamp = "gone"
        line = f"{entry.path}\x1f{entry.size}\x1f{entry.sha256 or ''}\x1f{stamp}\x1e"
        h.update(line.encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


def target_key(target: str) -> str:
    """Key of a remote target before it is fetched (pin ``@revision`` for reproducible studies)."""
    return hashlib.sha256(("target\x1f" + target).encode("utf-8", "surrogateescape")).hexdigest()[
        :32
    ]


def error_rows(task: RepoTask, stage: str, message: str, kind: str) -> RepoRows:
    """A repository that could not be read at all: one repo row (verdict error), one error row."""
    snap = task.snapshot
    metadata = {**(snap.metadata if snap else {}), **task.metadata}
    repo = (
        task.key,
        snap.platform.value if snap else str(metadata.get("platform", "unknown")),
        snap.repo_id if snap else task.target,
        snap.revision if snap else None,
        snap.location if snap else task.target,
        snap.platform_inferred if snap else True,
        created_month(metadata),
        len(snap.files) if snap else 0,
        sum(f.size for f in snap.files) if snap else 0,
        "error",
        "",
        False,
        "",
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        None,
    )
    return RepoRows(task.key, repo, (), (), (), ((task.key, 0, "", stage, kind, message),))


def created_month(metadata: Mapping[str, object]) -> str | None:
    value = metadata.get("created_at") or metadata.get("createdAt")
    if isinstance(value, str) and len(value) >= 7 and value[4] == "-":
        return value[:7]
    return None


def result_rows(task: RepoTask, result: ScanResult, snapshot: Snapshot) -> RepoRows:
    key = task.key
    plan = result.plan
    kinds = classify_all(snapshot)
    reach_files = result.reach.files if result.reach is not None else frozenset()
    executed = set(plan.executed_files) | set(reach_files)
    files: list[Row] = []
    for entry in snapshot.files:
        kind = kinds.get(entry.path, FileKind.OTHER)
        files.append(
            (
                key,
                entry.path,
                entry.size,
                _sha_if_cheap(snapshot, entry.path, kind, entry.size, entry.sha256),
                kind.value,
                entry.path in executed,
            )
        )
    entry_points = tuple(
        (
            key,
            i,
            ep.loader.value,
            ep.kind.value,
            ep.trigger,
            ep.module,
            ep.qualname,
            ep.trust_flag,
            ep.runs_repo_code,
            ep.cross_repo.repo_id if ep.cross_repo else None,
            ep.exists,
        )
        for i, ep in enumerate(plan.entry_points)
    )
    findings = tuple(
        (
            key,
            i,
            f.rule_id,
            f.analyzer,
            f.severity.label,
            int(f.severity),
            f.confidence.name.lower(),
            f.location.path,
            f.location.line,
            ",".join(f.cwe),
            f.reachable,
            f.message,
            f.fingerprint,
            ",".join(f.also_reported_by),
        )
        for i, f in enumerate(result.findings)
    )
    errors = tuple(
        (key, i, e.path, e.stage, e.kind, e.message) for i, e in enumerate(result.errors)
    )
    python_files = sum(1 for r in files if r[4] == FileKind.PYTHON.value)
    metadata = {**snapshot.metadata, **task.metadata}
    repo = (
        key,
        snapshot.platform.value,
        snapshot.repo_id,
        snapshot.revision,
        snapshot.location,
        snapshot.platform_inferred,
        created_month(metadata),
        result.file_count,
        result.total_bytes,
        result.verdict.value,
        ",".join(sorted(loader.value for loader in plan.loaders)),
        plan.runs_repo_code,
        ",".join(plan.trust_flags),
        python_files,
        sum(1 for r in files if r[4] == FileKind.PYTHON.value and r[5]),
        sum(1 for w in plan.weights if w.kind is FileKind.SAFETENSORS),
        sum(1 for w in plan.weights if w.kind in PICKLE_KINDS),
        len(plan.weights),
        len(plan.cross_repo_refs),
        len(result.findings),
        len(result.errors),
        result.max_severity.label if result.max_severity is not None else None,
    )
    analysed = sum(s.files for s in result.stats)
    cached = sum(s.cached for s in result.stats)
    return RepoRows(key, repo, tuple(files), entry_points, findings, errors, 0.0, analysed, cached)


def _sha_if_cheap(
    snapshot: Snapshot, path: str, kind: FileKind, size: int, known: str | None
) -> str | None:
    if known:
        return known
    if kind not in HASHED_KINDS or size > 4 * 1024 * 1024:
        return None
    try:
        return snapshot.sha256(path)
    except Exception:  # unreadable files are reported by the scan itself
        return None


# --------------------------------------------------------------------------- cache codec


def encode_output(output: AnalyzerOutput) -> str:
    """JSON, not pickle: the cache is data we read back, never code we run."""
    return json.dumps(
        {
            "findings": [_finding_dict(f) for f in output.findings],
            "errors": [[e.path, e.stage, e.message, e.kind] for e in output.errors],
        },
        separators=(",", ":"),
    )


def decode_output(text: str) -> AnalyzerOutput:
    data = json.loads(text)
    return AnalyzerOutput(
        tuple(_finding_from(d) for d in data["findings"]),
        tuple(ScanError(*e) for e in data["errors"]),
    )


def _finding_dict(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "r": f.rule_id,
        "a": f.analyzer,
        "m": f.message,
        "s": int(f.severity),
        "c": int(f.confidence),
        "l": [loc.path, loc.line, loc.column, loc.end_line, loc.offset],
        "w": list(f.cwe),
        "n": f.snippet,
        "h": f.reachable,
        "t": list(f.witness),
        "e": list(f.evidence),
        "b": list(f.also_reported_by),
    }


def _finding_from(d: Mapping[str, Any]) -> Finding:
    return Finding(
        rule_id=d["r"],
        analyzer=d["a"],
        message=d["m"],
        severity=Severity(d["s"]),
        confidence=Confidence(d["c"]),
        location=Location(*d["l"]),
        cwe=tuple(d["w"]),
        snippet=d["n"],
        reachable=d["h"],
        witness=tuple(d["t"]),
        evidence=tuple(d["e"]),
        also_reported_by=tuple(d["b"]),
    )
