"""``safe_snapshot_download``: scan a Hub repo remotely, then download exactly what was scanned.

A drop-in for ``huggingface_hub.snapshot_download``: same first argument,
same keyword arguments (passed through), same return value (the local
folder). In between it resolves the revision to a commit, scans that commit
by range reads, refuses when the verdict is worse than the policy allows,
downloads the pinned commit, and checks every downloaded file against the
hashes the scan saw. A file that fails the check is deleted from the cache
so that nothing unverified is left looking complete.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import LoadguardError, PolicyError, SourceError
from ..model import ScanResult, Verdict
from ..sources.remote import RemoteStore, fetch_problems, git_blob_sha1

Policy = str | Verdict | Callable[[ScanResult], bool] | None
DEFAULT_POLICY = Verdict.REVIEW  # the worst verdict accepted without asking


class UnsafeModelError(PolicyError):
    """The scan's verdict is worse than the policy accepts. ``.result`` has the findings."""

    def __init__(self, message: str, result: ScanResult) -> None:
        super().__init__(message)
        self.result = result


class IntegrityError(LoadguardError):
    """Downloaded bytes differ from the bytes that were scanned."""


def accepts(policy: Policy, result: ScanResult) -> bool:
    if callable(policy):
        return bool(policy(result))
    worst = DEFAULT_POLICY if policy is None else Verdict(policy)
    if result.verdict is Verdict.ERROR:
        return False
    return result.verdict.rank <= worst.rank


def _summary(result: ScanResult, limit: int = 10) -> str:
    lines = [
        f"  {f.severity.label:<8} {f.rule_id} {f.location.path}"
        + (f":{f.location.line}" if f.location.line else "")
        + f"  {f.message}"
        for f in result.findings[:limit]
    ]
    more = len(result.findings) - limit
    if more > 0:
        lines.append(f"  … and {more} more")
    lines += [f"  error    {e.path}: {e.message}" for e in result.errors[:limit]]
    return "\n".join(lines)


def safe_snapshot_download(
    repo_id: str,
    *,
    revision: str | None = None,
    policy: Policy = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    repo_type: str | None = None,
    allow_patterns: str | Sequence[str] | None = None,
    ignore_patterns: str | Sequence[str] | None = None,
    analyzers: Sequence[str] | None = None,
    **kwargs: Any,
) -> str:
    """Resolve, scan remotely, refuse or download the pinned commit, verify, return the path.

    ``policy``: the worst acceptable ``Verdict`` (default ``"review"``), or a
    callable taking the ``ScanResult`` and returning True to accept.
    Raises ``UnsafeModelError`` (with ``.result``) when refused, ``SourceError``
    when the repo cannot be read completely, ``IntegrityError`` when the
    download differs from what was scanned.
    """
    if repo_type not in (None, "model"):
        raise SourceError("safe_snapshot_download scans model repositories only")
    import huggingface_hub

    from ..engine import scan_snapshot
    from ..sources.huggingface import hf_snapshot, resolve_endpoint

    endpoint = resolve_endpoint(endpoint)
    snapshot = hf_snapshot(repo_id, revision, endpoint=endpoint, token=token)
    result = scan_snapshot(snapshot, analyzers=analyzers)
    if snapshot.metadata.get("partial"):
        problems = "; ".join(fetch_problems(snapshot.metadata))
        raise SourceError(f"hf:{repo_id}: could not read the repo completely: {problems}")
    commit = snapshot.revision
    if commit is None:  # hf_snapshot always resolves one; refuse rather than guess
        raise SourceError(f"hf:{repo_id}: no commit to pin")
    if not accepts(policy, result):
        raise UnsafeModelError(
            f"hf:{repo_id}@{commit[:12]}: verdict {result.verdict.value} is refused by the "
            f"policy; nothing was downloaded\n{_summary(result)}",
            result,
        )
    try:
        local = huggingface_hub.snapshot_download(
            repo_id,
            revision=commit,
            endpoint=endpoint,
            token=token,
            allow_patterns=_patterns(allow_patterns),
            ignore_patterns=_patterns(ignore_patterns),
            **kwargs,
        )
    except (OSError, huggingface_hub.errors.HfHubHTTPError) as exc:
        # huggingface_hub keeps unfinished files under .incomplete names: nothing half-done
        # is left looking complete.
        raise SourceError(f"hf:{repo_id}@{commit[:12]}: download failed: {exc}") from None
    store = snapshot.store
    if not isinstance(store, RemoteStore):
        raise SourceError(f"hf:{repo_id}: not a remote snapshot")
    wanted = [f.path for f in snapshot.files if _selected(f.path, allow_patterns, ignore_patterns)]
    verify_download(Path(local), wanted, store)
    return str(local)


def _patterns(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _selected(
    path: str, allow: str | Sequence[str] | None, ignore: str | Sequence[str] | None
) -> bool:
    allowed = _patterns(allow)
    ignored = _patterns(ignore) or []
    if allowed is not None and not any(fnmatch.fnmatch(path, p) for p in allowed):
        return False
    return not any(fnmatch.fnmatch(path, p) for p in ignored)


def verify_download(folder: Path, paths: Sequence[str], store: RemoteStore) -> None:
    """Every expected file is present with the scanned size and hash; bad ones are removed."""
    problems: list[str] = []
    for path in paths:
        size, sha256, blob_id = store.expected(path)
        local = folder / path
        if not local.is_file():
            problems.append(f"{path}: missing from the download")
            continue
        data_size = local.stat().st_size
        problem = None
        if data_size != size:
            problem = f"{path}: {data_size} bytes downloaded, {size} scanned"
        elif sha256 is not None:
            if _sha256(local) != sha256:
                problem = f"{path}: sha256 differs from the scanned file"
        elif blob_id is not None and git_blob_sha1(local.read_bytes()) != blob_id:
            problem = f"{path}: git blob id differs from the scanned file"
        if problem:
            problems.append(problem)
            _discard(local)
    if problems:
        raise IntegrityError(
            "the download does not match what was scanned (bad files removed):\n  "
            + "\n  ".join(problems)
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _discard(path: Path) -> None:
    """Remove a bad file and, in the HF cache, the blob it links to."""
    try:
        target = Path(os.path.realpath(path))
        path.unlink(missing_ok=True)
        if target != path and target.parent.name == "blobs":
            target.unlink(missing_ok=True)
    except OSError:
        pass  # the IntegrityError still names the file
