"""PyTorch Hub: ``hub:owner/repo[:ref]``, the GitHub archive ``torch.hub.load`` would run.

Ref resolution follows ``torch.hub``: no ref means ``main``, else ``master``
when ``main`` does not exist. The ref is then pinned to a commit through the
GitHub API, and the zipball of that commit (``/{owner}/{repo}/zipball/{sha}``,
what torch.hub downloads, redirected to codeload) is read in memory: no
extraction, members checked like any archive (no ``../``, no links, no bombs).

Endpoints are overridable (``LOADGUARD_GITHUB_API``, ``LOADGUARD_GITHUB_URL``)
for tests and GitHub Enterprise; ``GITHUB_TOKEN`` is used when set, as
torch.hub does, and is never sent past a redirect.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterator

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot
from .archive import _safe_name, _too_big, _ZipStore
from .http import NotFound, get, get_json
from .remote import RemoteReadError

MAX_ARCHIVE_BYTES = 512 << 20
# torch.hub trusts these owners without asking (``_check_repo_is_trusted``)
TORCH_TRUSTED_OWNERS = frozenset(
    {"facebookresearch", "facebookincubator", "pytorch", "fairinternal"}
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def api_base() -> str:
    return os.environ.get("LOADGUARD_GITHUB_API", "https://api.github.com").rstrip("/")


def web_base() -> str:
    return os.environ.get("LOADGUARD_GITHUB_URL", "https://github.com").rstrip("/")


def _auth() -> dict[str, str]:
    token = os.environ.get("GITHUB_TOKEN")
    return {"Authorization": f"token {token}"} if token else {}


def parse_hub_spec(spec: str) -> tuple[str, str, str | None]:
    """``owner/repo[:ref]`` -> (owner, repo, ref or None), as ``torch.hub._parse_repo_info``."""
    repo_part, _, ref = spec.strip().partition(":")
    owner, _, name = repo_part.partition("/")
    if not (_NAME.match(owner or "") and _NAME.match(name or "")) or "/" in name:
        raise SourceError(f"hub:{spec}: expected hub:owner/repo[:ref]")
    return owner, name, (ref or None)


def resolve_ref(owner: str, repo: str, ref: str | None) -> tuple[str, str]:
    """(ref used, commit sha). ``None`` tries ``main`` then ``master`` like torch.hub."""
    candidates = [ref] if ref else ["main", "master"]
    for candidate in candidates:
        url = f"{api_base()}/repos/{owner}/{repo}/commits/{candidate}"
        try:
            data = get_json(url, secret_headers=_auth(), what=f"hub:{owner}/{repo}:{candidate}")
        except NotFound:
            continue
        except RemoteReadError as exc:
            if "HTTP 422" in str(exc):  # GitHub: "No commit found for SHA"
                continue
            raise SourceError(str(exc)) from None
        sha = data.get("sha") if isinstance(data, dict) else None
        if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}", sha):
            return candidate, sha
        raise SourceError(f"hub:{owner}/{repo}: the API returned no commit for {candidate}")
    wanted = ref or "main or master"
    raise SourceError(f"hub:{owner}/{repo}: ref {wanted} not found (or the repository vanished)")


def _repo_metadata(owner: str, repo: str) -> dict[str, object]:
    try:
        data = get_json(f"{api_base()}/repos/{owner}/{repo}", secret_headers=_auth())
    except RemoteReadError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        "default_branch": data.get("default_branch"),
        "created_at": data.get("created_at"),
        "last_modified": data.get("pushed_at"),
        "tags": list(data.get("topics") or []),
        "fork": data.get("fork"),
    }


def torch_hub_snapshot(
    owner: str, repo: str, ref: str | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> Snapshot:
    used_ref, commit = resolve_ref(owner, repo, ref)
    label = f"hub:{owner}/{repo}@{commit[:12]}"
    try:
        response = get(
            f"{web_base()}/{owner}/{repo}/zipball/{commit}",
            secret_headers=_auth(),
            max_bytes=MAX_ARCHIVE_BYTES,
            what=label,
        )
    except RemoteReadError as exc:
        raise SourceError(f"{label}: archive download failed: {exc}") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(response.body))
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{label}: the archive is not a readable zip ({exc})") from None
    files, names, skipped = _members(archive, limits)
    metadata: dict[str, object] = {
        "source": "torch_hub",
        "requested_revision": ref or used_ref,
        "resolved_ref": used_ref,
        "archive_url": f"{web_base()}/{owner}/{repo}/zipball/{commit}",
        "bytes_fetched": len(response.body),
        "partial": bool(skipped),
        "torch_hub_trusted_owner": owner in TORCH_TRUSTED_OWNERS,
        **_repo_metadata(owner, repo),
    }
    return Snapshot(
        platform=Platform.TORCH_HUB,
        repo_id=f"{owner}/{repo}",
        files=files,
        store=_ZipStore(archive, names),
        revision=commit,
        location=f"{web_base()}/{owner}/{repo}/tree/{commit}",
        metadata=metadata,
        skipped=skipped,
    )


def _members(
    archive: zipfile.ZipFile, limits: Limits
) -> tuple[tuple[FileEntry, ...], dict[str, str], tuple[ScanError, ...]]:
    """Files under the archive's single top folder (``owner-repo-sha7/``), vetted."""
    infos = archive.infolist()
    tops = {info.filename.split("/", 1)[0] for info in infos}
    prefix = f"{next(iter(tops))}/" if len(tops) == 1 else ""
    files: list[FileEntry] = []
    names: dict[str, str] = {}
    skipped: list[ScanError] = []
    total = 0
    for info in infos[: limits.max_archive_members]:
        if info.is_dir():
            continue
        inner = info.filename[len(prefix) :] if info.filename.startswith(prefix) else info.filename
        safe = _safe_name(inner)
        mode = (info.external_attr >> 16) & 0o170000
        if safe is None:
            skipped.append(ScanError(inner, "source", "member path leaves the repo", "unsafe-path"))
        elif mode == 0o120000:
            skipped.append(ScanError(safe, "source", "symlink member not followed", "symlink"))
        elif _too_big(info.file_size, info.compress_size, total, limits):
            skipped.append(ScanError(safe, "source", "member too large (zip bomb?)", "zip-bomb"))
        elif safe not in names:
            names[safe] = info.filename
            files.append(FileEntry(safe, info.file_size))
            total += info.file_size
    if len(infos) > limits.max_archive_members:
        skipped.append(ScanError("", "source", "too many archive members", "limit"))
    return tuple(sorted(files, key=lambda f: f.path)), names, tuple(skipped)


def iter_torch_hub_snapshots(spec: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """``HUB_SOURCES`` entry for ``hub:``."""
    owner, repo, ref = parse_hub_spec(spec)
    yield torch_hub_snapshot(owner, repo, ref, limits=limits)
