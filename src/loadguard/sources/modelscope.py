"""ModelScope: ``ms:owner/name[@revision]`` scanned remotely through its HTTP API.

The endpoints are the ones the ``modelscope`` SDK (``modelscope_hub``) calls:
``/api/v1/models/{id}`` (metadata), ``/api/v1/models/{id}/revisions`` (branch
and tag -> commit), ``/api/v1/models/{id}/repo/files?Revision=&Recursive=True``
(paths, sizes, sha256 of every file) and ``/api/v1/models/{id}/repo?Revision=
&FilePath=`` (content, with HTTP Range for weights). The SDK is not needed to
scan (it is the ``[modelscope]`` extra for loading); this keeps the scan on
the standard library and testable against a local server.

Endpoint: ``MODELSCOPE_ENDPOINT`` (or the older ``MODELSCOPE_DOMAIN``),
default ``https://modelscope.cn``. Token: ``MODELSCOPE_API_TOKEN``, sent as a
bearer header that never follows a redirect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot
from .http import NotFound, UrlFetcher, get_json
from .huggingface import parse_hf_spec
from .remote import (
    LiveMetadata,
    RemoteReadError,
    RemoteStore,
    prefetch_candidates,
    safe_repo_path,
)

DEFAULT_ENDPOINT = "https://modelscope.cn"
DEFAULT_REVISION = "master"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def ms_endpoint(endpoint: str | None = None) -> str:
    value = endpoint or os.environ.get("MODELSCOPE_ENDPOINT")
    if not value and os.environ.get("MODELSCOPE_DOMAIN"):
        domain = os.environ["MODELSCOPE_DOMAIN"]
        value = domain if "://" in domain else f"https://{domain}"
    return (value or DEFAULT_ENDPOINT).rstrip("/")


def _secret() -> dict[str, str]:
    token = os.environ.get("MODELSCOPE_API_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _data(payload: object, what: str) -> Mapping[str, object]:
    """ModelScope wraps answers as ``{"Code": 200, "Data": {...}}``."""
    if not isinstance(payload, dict):
        raise SourceError(f"{what}: unexpected answer from ModelScope")
    code = payload.get("Code", 200)
    if code not in (200, "200", 0) or payload.get("Success") is False:
        raise SourceError(f"{what}: ModelScope error {code}: {payload.get('Message', '')}")
    data = payload.get("Data")
    return data if isinstance(data, dict) else {}


def _api(endpoint: str, path: str, what: str, **params: str) -> Mapping[str, object]:
    url = f"{endpoint}/api/v1/models/{path}"
    if params:
        url += "?" + urlencode(params)
    try:
        return _data(get_json(url, secret_headers=_secret(), what=what), what)
    except NotFound:
        raise SourceError(
            f"{what}: not found on ModelScope (deleted, renamed or private)"
        ) from None
    except RemoteReadError as exc:
        raise SourceError(str(exc)) from None


def resolve_revision(endpoint: str, model_id: str, revision: str) -> str | None:
    """The commit a branch or tag names, when the hub says; ``None`` when it does not."""
    if _COMMIT.match(revision):
        return revision
    data = _api(endpoint, f"{model_id}/revisions", f"ms:{model_id}")
    revision_map = data.get("RevisionMap")
    groups = revision_map if isinstance(revision_map, dict) else {}
    for group in ("Branches", "Tags"):
        for item in groups.get(group) or []:
            if isinstance(item, dict) and item.get("Revision") == revision:
                commit = item.get("CommitId") or item.get("Commit") or item.get("Sha")
                return str(commit) if commit else None
    raise SourceError(f"ms:{model_id}@{revision}: revision not found on ModelScope")


def _date(value: object) -> str | None:
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
    info = _api(endpoint, model_id, what)
    commit = resolve_revision(endpoint, model_id, requested)
    pinned = commit or requested
    listing = _api(endpoint, f"{model_id}/repo/files", what, Revision=pinned, Recursive="True")
    files: list[FileEntry] = []
    skipped: list[ScanError] = []
    for item in listing.get("Files") or []:  # type: ignore[attr-defined]
        if not isinstance(item, dict) or item.get("Type", "blob") != "blob":
            continue
        path = str(item.get("Path") or "")
        if not safe_repo_path(path):
            skipped.append(ScanError(path, "source", "path leaves the repository", "unsafe-path"))
            continue
        sha = item.get("Sha256")
        files.append(FileEntry(path, int(item.get("Size") or 0), str(sha) if sha else None))
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
    tags = info.get("Tags") or []
    static: dict[str, object] = {
        "source": "modelscope",
        "endpoint": endpoint,
        "requested_revision": requested,
        "revision_pinned": commit is not None,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "created_at": _date(info.get("CreatedTime")),
        "last_modified": _date(info.get("LastUpdatedTime")),
        "downloads": info.get("Downloads"),
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
