"""``loadguard.lock``: per model, the commit, every file's sha256 and size, and the verdict.

JSON, sorted keys, one model per entry, so diffs of a lock in review are
readable. The format is documented in ``docs/provenance.md``; readers refuse
versions they do not know rather than guess.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import RULESET_VERSION, __version__
from ..errors import LoadguardError, SourceError
from ..model import ScanResult, Snapshot
from ..sources.remote import fetch_problems

LOCK_VERSION = 1
DEFAULT_LOCK_NAME = "loadguard.lock"


class LockError(LoadguardError):
    """A lock file is missing, malformed, or cannot be produced honestly."""


@dataclass(frozen=True)
class LockedFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LockedModel:
    target: str  # as the user named it, e.g. "hf:org/name@main"
    platform: str
    repo_id: str
    revision: str | None  # the resolved commit
    requested_revision: str | None
    files: tuple[LockedFile, ...]
    verdict: str
    ruleset_version: str
    scanned_at: str
    findings: int = 0
    max_severity: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)

    def file(self, path: str) -> LockedFile | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass(frozen=True)
class LockFile:
    models: tuple[LockedModel, ...]
    version: int = LOCK_VERSION
    generator: str = f"loadguard {__version__}"

    def find(self, repo_id: str) -> LockedModel | None:
        return next((m for m in self.models if m.repo_id == repo_id), None)


def lock_model(target: str, snapshot: Snapshot, result: ScanResult) -> LockedModel:
    """A lock entry for a scanned snapshot. Refuses partial snapshots: a lock is a promise."""
    partial = bool(snapshot.metadata.get("partial"))
    if partial:
        problems = "; ".join(fetch_problems(snapshot.metadata))
        raise LockError(
            f"{target}: the snapshot was read only partially; not locking it ({problems})"
        )
    files = []
    # Remote stores hash without the analysis read budget and check name-promised hashes.
    digest_of = getattr(snapshot.store, "digest", None)
    for entry in snapshot.files:
        try:
            digest = digest_of(entry.path) if callable(digest_of) else snapshot.sha256(entry.path)
        except (OSError, SourceError) as exc:
            raise LockError(f"{target}: cannot hash {entry.path}: {exc}") from None
        files.append(LockedFile(entry.path, entry.size, str(digest)))
    keep = ("tags", "created_at", "last_modified", "endpoint", "github", "model", "config")
    meta = {k: snapshot.metadata[k] for k in keep if snapshot.metadata.get(k) is not None}
    requested = snapshot.metadata.get("requested_revision")
    return LockedModel(
        target=target,
        platform=snapshot.platform.value,
        repo_id=snapshot.repo_id,
        revision=snapshot.revision,
        requested_revision=str(requested) if requested is not None else None,
        files=tuple(files),
        verdict=result.verdict.value,
        ruleset_version=RULESET_VERSION,
        scanned_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        findings=len(result.findings),
        max_severity=result.max_severity.label if result.max_severity is not None else None,
        metadata=meta,
    )


def to_dict(lock: LockFile) -> dict[str, object]:
    return {
        "version": lock.version,
        "generator": lock.generator,
        "models": [
            {
                "target": m.target,
                "platform": m.platform,
                "repo_id": m.repo_id,
                "revision": m.revision,
                "requested_revision": m.requested_revision,
                "verdict": m.verdict,
                "ruleset_version": m.ruleset_version,
                "scanned_at": m.scanned_at,
                "findings": m.findings,
                "max_severity": m.max_severity,
                "metadata": m.metadata,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in m.files],
            }
            for m in lock.models
        ],
    }


def from_dict(data: object, origin: str = "lock") -> LockFile:
    if not isinstance(data, dict):
        raise LockError(f"{origin}: not a JSON object")
    if data.get("version") != LOCK_VERSION:
        raise LockError(f"{origin}: lock version {data.get('version')!r} is not {LOCK_VERSION}")
    models = []
    try:
        for m in data["models"]:
            files = tuple(
                LockedFile(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in m["files"]
            )
            models.append(
                LockedModel(
                    target=str(m["target"]),
                    platform=str(m["platform"]),
                    repo_id=str(m["repo_id"]),
                    revision=m.get("revision"),
                    requested_revision=m.get("requested_revision"),
                    files=files,
                    verdict=str(m["verdict"]),
                    ruleset_version=str(m["ruleset_version"]),
                    scanned_at=str(m.get("scanned_at", "")),
                    findings=int(m.get("findings", 0)),
                    max_severity=m.get("max_severity"),
                    metadata=dict(m.get("metadata") or {}),
                )
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise LockError(f"{origin}: malformed lock entry ({exc!r})") from None
    return LockFile(models=tuple(models), generator=str(data.get("generator", "")))


def merge(old: LockFile | None, new: Iterable[LockedModel]) -> LockFile:
    """``new`` entries replace old ones for the same repo id; the rest are kept."""
    fresh = list(new)
    names = {m.repo_id for m in fresh}
    kept = [m for m in (old.models if old else ()) if m.repo_id not in names]
    return LockFile(models=tuple(sorted(kept + fresh, key=lambda m: (m.platform, m.repo_id))))


def write_lock(lock: LockFile, path: str | os.PathLike[str]) -> None:
    """Atomic write: a crash leaves the old lock, never half a new one."""
    target = Path(path)
    text = json.dumps(to_dict(lock), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=".loadguard-lock-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_lock(path: str | os.PathLike[str]) -> LockFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LockError(f"{path}: cannot read lock file ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockError(f"{path}: not valid JSON ({exc})") from None
    return from_dict(data, str(path))
