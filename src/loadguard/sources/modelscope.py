"""ModelScope: ``ms:owner/name[@revision]`` scanned remotely through the ModelScope SDK.

The listing goes through ``modelscope_hub.HubApi`` (the hub client the
``modelscope`` package delegates to; extra ``[modelscope]``): ``get_repo``
for metadata, ``list_repo_revisions`` for branch/tag -> commit, and
``list_repo_files`` for every file's path, size and sha256. The SDK has no
range reads, so weights are read by HTTP ranges from the download URL it
uses itself (``/api/v1/models/{id}/repo?Revision=&FilePath=``), pinned to
the resolved commit, through ``RemoteStore`` (hash-checked whole files,
counted bytes, partial marking).

Endpoint: ``MODELSCOPE_ENDPOINT`` (or the older ``MODELSCOPE_DOMAIN``),
default ``https://modelscope.cn``. Token: ``MODELSCOPE_API_TOKEN``, given to
the SDK and sent on range reads as a header that never follows a redirect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot
from .http import UrlFetcher
from .huggingface import MissingHubClient, parse_hf_spec
from .local import safe_repo_path
from .remote import (
    RETRY_STATUSES,
    LiveMetadata,
    RemoteReadError,
    RemoteStore,
    RetryableError,
    prefetch_candidates,
    with_retries,
)

DEFAULT_ENDPOINT = "https://modelscope.cn"
DEFAULT_REVISION = "master"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
T = TypeVar("T")


def ms_endpoint(endpoint: str | None = None) -> str:
    value = endpoint or os.environ.get("MODELSCOPE_ENDPOINT")
    if not value and os.environ.get("MODELSCOPE_DOMAIN"):
        domain = os.environ["MODELSCOPE_DOMAIN"]
        value = domain if "://" in domain else f"https://{domain}"
    return (value or DEFAULT_ENDPOINT).rstrip("/")


def _secret() -> dict[str, str]:
    token = os.environ.get("MODELSCOPE_API_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _sdk(endpoint: str) -> Any:
    try:
        import modelscope_hub
    except ImportError:
        raise MissingHubClient("scanning ms: targets", "modelscope") from None
    token = os.environ.get("MODELSCOPE_API_TOKEN") or None
    return modelscope_hub.HubApi(endpoint=endpoint, token=token)


def _call(what: str, call: Callable[[], T]) -> T:
    """An SDK call with our bounded retries and our error messages."""
    from modelscope_hub import errors

    def attempt() -> T:
        try:
            return call()
        except errors.NotExistError:
            raise SourceError(
                f"{what}: not found on ModelScope (deleted, renamed or private)"
            ) from None
        except errors.AuthenticationError:
            raise SourceError(f"{what}: not authorised; set MODELSCOPE_API_TOKEN") from None
        except errors.APIError as exc:
            status = exc.status_code
            if status in RETRY_STATUSES:
                raise RetryableError(f"{what}: HTTP {status}") from None
            raise SourceError(f"{what}: ModelScope error HTTP {status}") from None
        except errors.HubError as exc:
            raise RetryableError(f"{what}: {type(exc).__name__}") from None

    try:
        return with_retries(attempt)
    except RemoteReadError as exc:
        raise SourceError(str(exc)) from None


def resolve_revision(endpoint: str, model_id: str, revision: str) -> str | None:
    """The commit a branch or tag names, when the hub says; ``None`` when it does not."""
    if _COMMIT.match(revision):
        return revision
    api = _sdk(endpoint)
    what = f"ms:{model_id}@{revision}"
    refs = _call(what, lambda: api.list_repo_revisions(model_id, "model"))
    for item in refs or []:
        name = item.get("Revision") or item.get("name") if isinstance(item, dict) else None
        if name == revision:
            commit = item.get("CommitId") or item.get("commit_id") or item.get("Sha")
            return str(commit) if commit else None
    raise SourceError(f"{what}: revision not found on ModelScope")


def _date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float)) and value > 0:
        return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
    return str(value) if value else None


def ms_snapshot(
    model_id: str,
    revision: str | None = None,
    *,
    endpoint: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Snapshot:
    endpoint = ms_endpoint(endpoint)
    requested = revision or DEFAULT_REVISION
    what = f"ms:{model_id}@{requested}"
    api = _sdk(endpoint)
    info = _call(what, lambda: api.get_repo(model_id, "model"))
    commit = resolve_revision(endpoint, model_id, requested)
    pinned = commit or requested
    listing = _call(
        what, lambda: api.list_repo_files(model_id, "model", revision=pinned, recursive=True)
    )
    files: list[FileEntry] = []
    skipped: list[ScanError] = []
    for item in listing:
        if getattr(item, "type", "blob") != "blob":
            continue
        path = str(getattr(item, "path", "") or "")
        if not safe_repo_path(path):
            skipped.append(ScanError(path, "source", "path leaves the repository", "unsafe-path"))
            continue
        sha = getattr(item, "sha256", None)
        files.append(FileEntry(path, int(getattr(item, "size", 0) or 0), str(sha) if sha else None))
        if len(files) >= limits.max_files:
            skipped.append(
                ScanError("", "source", f"more than {limits.max_files} files", "too-many-files")
            )
            break

    def url_for(path: str) -> str:
        query = urlencode({"Revision": pinned, "FilePath": path}, quote_via=quote)
        return f"{endpoint}/api/v1/models/{model_id}/repo?{query}"

    fetcher = UrlFetcher(
        url_for, {f.path: f.size for f in files}, secret_headers=_secret(), label=f"{what}/"
    )
    store = RemoteStore(
        {f.path: f for f in files}, fetcher, per_file_budget=limits.max_pickle_bytes
    )
    store.prefetch(prefetch_candidates(files))
    tags = getattr(info, "tags", None) or []
    static: dict[str, object] = {
        "source": "modelscope",
        "endpoint": endpoint,
        "requested_revision": requested,
        "revision_pinned": commit is not None,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "created_at": _date(getattr(info, "created_at", None)),
        "last_modified": _date(getattr(info, "last_modified", None)),
        "downloads": getattr(info, "downloads", None),
        "partial": bool(skipped),
    }
    return Snapshot(
        platform=Platform.MODELSCOPE,
        repo_id=model_id,
        files=tuple(sorted(files, key=lambda f: f.path)),
        store=store,
        revision=commit,
        location=f"{endpoint}/models/{model_id}/files?Revision={pinned}",
        metadata=LiveMetadata(static, store.ledger),
        skipped=tuple(skipped),
    )


def iter_ms_snapshots(spec: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """``HUB_SOURCES`` entry for ``ms:``."""
    model_id, revision = parse_hf_spec(spec)
    if "/" not in model_id:
        raise SourceError(f"ms:{spec}: expected ms:owner/name[@revision]")
    yield ms_snapshot(model_id, revision, limits=limits)
