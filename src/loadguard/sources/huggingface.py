"""Hugging Face Hub: ``hf:org/name[@revision]`` scanned remotely, by range reads.

The revision is resolved to a commit with ``HfApi.model_info`` (with file
sizes and LFS sha256s), and every later read names that commit, so a branch
that moves during the scan cannot mix two revisions. Code and configs are
fetched whole and checked against the published hashes; weights are read by
HTTP ranges through the library's own session (``get_session``), so a
10 GB checkpoint costs its zip directory and pickle, not its tensors.

Tokens come from where ``huggingface_hub`` finds them (``HF_TOKEN``, the
login file); they go into request headers only, never into messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import MissingExtra, SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot
from .local import safe_repo_path
from .remote import (
    RETRY_STATUSES,
    LiveMetadata,
    RemoteReadError,
    RemoteStore,
    RetryableError,
    check_range_response,
    current_retry_policy,
    parse_retry_after,
    prefetch_candidates,
    with_retries,
)

DEFAULT_ENDPOINT = "https://huggingface.co"
LISTING_FIELDS = (
    "sha",
    "tags",
    "createdAt",
    "lastModified",
    "downloads",
    "likes",
    "library_name",
    "pipeline_tag",
)


class MissingHubClient(MissingExtra, SourceError):
    """A hub client library is not installed; a ``SourceError`` too, so a scan of
    several targets reports it for the hub targets and goes on with the rest."""


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise MissingHubClient("scanning hf: and csg: targets", "hf") from None
    return huggingface_hub


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The endpoint given, else ``HF_ENDPOINT`` read now (not at import), else huggingface.co."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def parse_hf_spec(spec: str) -> tuple[str, str | None]:
    """``org/name[@revision]`` -> (repo id, revision or None)."""
    repo_id, _, revision = spec.strip().partition("@")
    parts = repo_id.split("/")
    if not repo_id or len(parts) > 2 or any(not p or p in (".", "..") for p in parts):
        raise SourceError(f"hf:{spec}: expected hf:org/name[@revision]")
    return repo_id, (revision or None)


# --------------------------------------------------------------------------- HTTP


def _translate(exc: Exception, what: str) -> Exception:
    """Library/transport errors -> ours: retryable, or a clear ``SourceError``."""
    hub = _hub()
    errors = hub.errors
    if isinstance(exc, errors.RevisionNotFoundError):
        return SourceError(f"{what}: revision not found on the hub")
    if isinstance(exc, errors.GatedRepoError):
        return SourceError(f"{what}: gated repository; accept its terms and set HF_TOKEN")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return SourceError(
            f"{what}: repository not found (deleted, renamed, or private without a token)"
        )
    if isinstance(exc, errors.HfHubHTTPError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if status in RETRY_STATUSES:
            headers = getattr(response, "headers", {}) or {}
            return RetryableError(
                f"{what}: HTTP {status}", parse_retry_after(headers.get("Retry-After"))
            )
        if status in (401, 403):
            return SourceError(f"{what}: not authorised (HTTP {status}); set HF_TOKEN")
        return SourceError(f"{what}: hub error HTTP {status}")
    import httpx2

    if isinstance(exc, httpx2.TransportError):
        return RetryableError(f"{what}: network error {type(exc).__name__}")
    return exc


def _api_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    def attempt() -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            translated = _translate(exc, what)
            if translated is exc:
                raise
            raise translated from None

    try:
        return with_retries(attempt)
    except RemoteReadError as exc:
        raise SourceError(str(exc)) from None


class HfFetcher:
    """Range and whole-file GETs of one pinned commit, through huggingface_hub's session."""

    def __init__(
        self,
        repo_id: str,
        commit: str,
        endpoint: str,
        token: str | bool | None,
        sizes: Mapping[str, int],
        prefix: str = "hf",
    ) -> None:
        self.repo_id, self.commit, self.endpoint, self._token = repo_id, commit, endpoint, token
        self._sizes = dict(sizes)
        self._prefix = prefix

    def url(self, path: str) -> str:
        url: str = _hub().hf_hub_url(
            self.repo_id, path, revision=self.commit, endpoint=self.endpoint
        )
        return url

    def _get(
        self, path: str, extra: Mapping[str, str], max_bytes: int
    ) -> tuple[int, Mapping[str, str], bytes]:
        """GET through the library's session, streaming at most ``max_bytes`` of the body.

        A server that ignores a range, or lies about a size, cannot make us
        download more than the caller can use.
        """
        hub = _hub()
        import httpx2

        headers = dict(hub.utils.build_hf_headers(token=self._token))
        headers["Accept-Encoding"] = "identity"  # sizes and ranges are of the stored bytes
        headers.update(extra)
        what = f"{self._prefix}:{self.repo_id}@{self.commit[:12]}/{path}"

        def attempt() -> tuple[int, Mapping[str, str], bytes]:
            try:
                with hub.utils.get_session().stream(
                    "GET",
                    self.url(path),
                    headers=headers,
                    follow_redirects=True,
                    timeout=current_retry_policy().timeout_seconds,
                ) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES:
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        raise RetryableError(f"{what}: HTTP {status}", retry_after)
                    if status in (401, 403):
                        raise RemoteReadError(
                            f"{what}: not authorised (HTTP {status}); set HF_TOKEN"
                        )
                    if status == 404:
                        raise RemoteReadError(f"{what}: not found (the file or repo vanished)")
                    if status >= 400:
                        raise RemoteReadError(f"{what}: HTTP {status}")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= max_bytes:
                            break  # closing the response drops the rest
                    return status, response.headers, bytes(body[:max_bytes])
            except httpx2.TransportError as exc:
                raise RetryableError(f"{what}: network error {type(exc).__name__}") from None

        return with_retries(attempt)

    def fetch_range(self, path: str, start: int, end: int) -> bytes:
        status, headers, body = self._get(path, {"Range": f"bytes={start}-{end - 1}"}, end)
        return check_range_response(
            path,
            start,
            end,
            status,
            headers.get("Content-Range"),
            body,
            self._sizes.get(path, -1),
            headers.get("Content-Length"),
        )

    def fetch_whole(self, path: str, size: int) -> bytes:
        # one byte more than promised, so a longer file is noticed (and refused by the store)
        _, _, body = self._get(path, {}, size + 1)
        return body


# --------------------------------------------------------------------------- snapshot


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def hf_snapshot(
    repo_id: str,
    revision: str | None = None,
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    limits: Limits = DEFAULT_LIMITS,
    platform: Platform = Platform.HUGGINGFACE,
    prefix: str = "hf",
    prefetch: bool = True,
) -> Snapshot:
    """A remote snapshot of ``repo_id`` at the commit ``revision`` resolves to.

    ``platform``/``prefix`` serve hubs that speak the same API under another
    endpoint (CSGHub's ``/csg`` API is the Hub's, see ``opencsg``).
    """
    hub = _hub()
    endpoint = resolve_endpoint(endpoint)
    api = hub.HfApi(endpoint=endpoint, token=token)
    what = f"{prefix}:{repo_id}" + (f"@{revision}" if revision else "")
    timeout = current_retry_policy().timeout_seconds
    info = _api_call(
        what, api.model_info, repo_id, revision=revision, files_metadata=True, timeout=timeout
    )
    commit = info.sha
    if not commit:
        raise SourceError(f"{what}: the hub did not say which commit this revision is")
    siblings = list(info.siblings or [])
    if any(s.size is None for s in siblings):
        tree = _api_call(
            what, api.list_repo_tree, repo_id, revision=commit, recursive=True, expand=True
        )
        siblings = [t for t in tree if getattr(t, "size", None) is not None]
    files: list[FileEntry] = []
    blob_ids: dict[str, str] = {}
    skipped: list[ScanError] = []
    for sibling in siblings:
        path = str(getattr(sibling, "rfilename", None) or getattr(sibling, "path", ""))
        if not safe_repo_path(path):
            skipped.append(ScanError(path, "source", "path leaves the repository", "unsafe-path"))
            continue
        lfs = sibling.lfs
        sha256 = lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None)
        size = int(sibling.size or 0)
        files.append(FileEntry(path, size, sha256 or None))
        if sibling.blob_id:
            blob_ids[path] = sibling.blob_id
        if len(files) >= limits.max_files:
            skipped.append(
                ScanError("", "source", f"more than {limits.max_files} files", "too-many-files")
            )
            break
    fetcher = HfFetcher(repo_id, commit, endpoint, token, {f.path: f.size for f in files}, prefix)
    store = RemoteStore(
        {f.path: f for f in files},
        fetcher,
        blob_ids=blob_ids,
        per_file_budget=limits.max_pickle_bytes,
    )
    if prefetch:
        store.prefetch(prefetch_candidates(files))
    static: dict[str, object] = {
        "source": platform.value,
        "endpoint": endpoint,
        "requested_revision": revision or "main",
        "tags": list(info.tags or []),
        "created_at": _iso(info.created_at),
        "last_modified": _iso(info.last_modified),
        "downloads": info.downloads,
        "likes": info.likes,
        "library_name": info.library_name,
        "pipeline_tag": info.pipeline_tag,
        "gated": info.gated,
        "private": info.private,
        "author": info.author,
        "renamed_to": info.id if info.id and info.id != repo_id else None,
        "partial": bool(skipped),
    }
    return Snapshot(
        platform=platform,
        repo_id=repo_id,
        files=tuple(sorted(files, key=lambda f: f.path)),
        store=store,
        revision=commit,
        location=f"{endpoint}/{repo_id}/tree/{commit}",
        metadata=LiveMetadata(static, store.ledger),
        skipped=tuple(skipped),
    )


def iter_hf_snapshots(spec: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """``HUB_SOURCES`` entry for ``hf:``."""
    repo_id, revision = parse_hf_spec(spec)
    yield hf_snapshot(repo_id, revision, limits=limits)


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class HubQuery:
    """What to list for a study. ``custom_code`` filters on the Hub's own tag."""

    search: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    custom_code: bool = False
    library: str | None = None
    sort: str | None = "downloads"  # "downloads", "likes", "created_at", "last_modified"
    limit: int | None = 100
    min_downloads: int = 0
    created_after: datetime | None = None
    created_before: datetime | None = None
    endpoint: str | None = None


@dataclass(frozen=True)
class HubModel:
    """One listed model with the metadata a study stratifies by."""

    repo_id: str
    sha: str | None
    tags: tuple[str, ...]
    created_at: str | None
    last_modified: str | None
    downloads: int | None
    likes: int | None
    library_name: str | None

    @property
    def target(self) -> str:
        return f"hf:{self.repo_id}" + (f"@{self.sha}" if self.sha else "")


def iter_hub_models(query: HubQuery) -> Iterator[HubModel]:
    hub = _hub()
    api = hub.HfApi(endpoint=resolve_endpoint(query.endpoint))
    tags = list(query.tags) + (["custom_code"] if query.custom_code else [])
    if query.library:
        tags.append(query.library)
    listing = _api_call(
        "hf listing",
        lambda: iter(
            api.list_models(
                filter=tags or None,
                author=query.author,
                search=query.search,
                sort=query.sort,
                limit=query.limit,
                # only what a study stratifies by; full=True would add every sibling
                expand=list(LISTING_FIELDS),
            )
        ),
    )
    for info in listing:
        created = info.created_at
        if query.created_after and (created is None or created < query.created_after):
            continue
        if query.created_before and (created is None or created >= query.created_before):
            continue
        if (info.downloads or 0) < query.min_downloads:
            continue
        yield HubModel(
            repo_id=info.id,
            sha=info.sha,
            tags=tuple(info.tags or ()),
            created_at=_iso(created),
            last_modified=_iso(info.last_modified),
            downloads=info.downloads,
            likes=info.likes,
            library_name=info.library_name,
        )


def iter_hub_listing(query: HubQuery) -> Iterator[str]:
    """Targets (``hf:org/name@sha``) for the study runner."""
    for model in iter_hub_models(query):
        yield model.target
