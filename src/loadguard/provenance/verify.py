"""Check local copies of models against ``loadguard.lock``.

A local copy is a plain folder (``snapshot_download(local_dir=...)``, a git
clone) or a Hugging Face cache repo (``models--org--name``). Every file is
hashed from its bytes: blob names in the cache are not trusted, since a
tampered blob keeps its name. Differences are reported, never repaired.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..sources.hf_cache import is_cache_repo, is_cache_root
from ..sources.local import list_folder
from .lockfile import LockedModel, LockFile

# Files that tools write beside a model and that are not the model.
IGNORED_PREFIXES = (".cache/huggingface/", ".git/", ".locks/")
IGNORED_NAMES = frozenset({".gitattributes", "model.sig", ".DS_Store"})


@dataclass(frozen=True)
class Difference:
    repo_id: str
    kind: str  # changed | missing | extra | revision-moved | not-found | unmatched | unreadable
    path: str
    detail: str

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.kind:>14}  {self.repo_id}{where}: {self.detail}"


def default_cache_dir() -> Path:
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - hf is an extra
        home = os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface"))
        return Path(os.environ.get("HF_HUB_CACHE", os.path.join(home, "hub")))


def _ignored(path: str) -> bool:
    return path.startswith(IGNORED_PREFIXES) or path.rsplit("/", 1)[-1] in IGNORED_NAMES


def _sha256_file(real: str) -> str:
    digest = hashlib.sha256()
    with open(real, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_folder(
    model: LockedModel,
    folder: Path,
    limits: Limits = DEFAULT_LIMITS,
    allowed_roots: tuple[str, ...] | None = None,
) -> list[Difference]:
    """Changed, missing and extra files of ``folder`` against one locked model."""
    diffs: list[Difference] = []
    entries, real_paths, skipped = list_folder(folder, allowed_roots=allowed_roots, limits=limits)
    for error in skipped:
        diffs.append(Difference(model.repo_id, "unreadable", error.path, error.message))
    present = {e.path: e for e in entries if not _ignored(e.path)}
    for locked in model.files:
        entry = present.get(locked.path)
        if entry is None:
            diffs.append(Difference(model.repo_id, "missing", locked.path, "not on disk"))
            continue
        if entry.size != locked.size:
            diffs.append(
                Difference(
                    model.repo_id,
                    "changed",
                    locked.path,
                    f"size {entry.size}, locked {locked.size}",
                )
            )
            continue
        try:
            digest = _sha256_file(real_paths[locked.path])
        except OSError as exc:
            diffs.append(Difference(model.repo_id, "unreadable", locked.path, str(exc)))
            continue
        if digest != locked.sha256:
            diffs.append(
                Difference(
                    model.repo_id,
                    "changed",
                    locked.path,
                    f"sha256 {digest[:16]}…, locked {locked.sha256[:16]}…",
                )
            )
    locked_paths = {f.path for f in model.files}
    for path in sorted(set(present) - locked_paths):
        diffs.append(Difference(model.repo_id, "extra", path, "not in the lock"))
    return diffs


def verify_cache_repo(
    model: LockedModel, cache_repo: Path, limits: Limits = DEFAULT_LIMITS
) -> list[Difference]:
    """A ``models--org--name`` cache folder: the locked commit's snapshot, and the refs."""
    diffs: list[Difference] = []
    requested = model.requested_revision
    if requested and model.revision and requested != model.revision:
        ref_file = cache_repo / "refs" / requested
        if ref_file.is_file():
            now = ref_file.read_text(encoding="utf-8").strip()
            if now != model.revision:
                diffs.append(
                    Difference(
                        model.repo_id,
                        "revision-moved",
                        "",
                        f"{requested} now points to {now[:12]}, locked {model.revision[:12]}",
                    )
                )
    snapshot_dir = cache_repo / "snapshots" / (model.revision or "")
    if not model.revision or not snapshot_dir.is_dir():
        cached = sorted(p.name[:12] for p in (cache_repo / "snapshots").iterdir() if p.is_dir())
        diffs.append(
            Difference(
                model.repo_id,
                "not-found",
                "",
                f"locked commit {str(model.revision)[:12]} is not in the cache "
                f"(cached: {', '.join(cached) or 'none'})",
            )
        )
        return diffs
    # snapshot files are links into the repo's blobs/: allowed, nothing outside it is
    roots = (os.path.realpath(cache_repo),)
    return diffs + verify_folder(model, snapshot_dir, limits, roots)


def _cache_repo_for(model: LockedModel, root: Path) -> Path:
    return root / ("models--" + model.repo_id.replace("/", "--"))


def _match_folder(lock: LockFile, folder: Path) -> LockedModel | None:
    if len(lock.models) == 1:
        return lock.models[0]
    name = folder.resolve().name
    by_name = [m for m in lock.models if m.repo_id == name or m.repo_id.split("/")[-1] == name]
    return by_name[0] if len(by_name) == 1 else None


def verify_lock(
    lock: LockFile,
    paths: Sequence[str] = (),
    *,
    cache_dir: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Difference]:
    """Every difference between the lock and the local copies named (default: the HF cache).

    ``paths`` items are folders, HF cache roots, cache repos, or ``REPO_ID=PATH``.
    """
    diffs: list[Difference] = []
    if not paths:
        root = cache_dir or default_cache_dir()
        for model in lock.models:
            repo = _cache_repo_for(model, root)
            if model.platform != "huggingface" or not repo.is_dir():
                diffs.append(
                    Difference(model.repo_id, "not-found", "", f"no local copy under {root}")
                )
            else:
                diffs += verify_cache_repo(model, repo, limits)
        return diffs
    for item in paths:
        repo_id, sep, location = item.partition("=")
        if sep and not Path(item).exists():
            named = lock.find(repo_id)
            if named is None:
                diffs.append(Difference(repo_id, "unmatched", "", "not in the lock"))
            else:
                diffs += _verify_path(named, Path(location), limits)
            continue
        path = Path(item)
        if not path.exists():
            raise SourceError(f"{item}: no such file or directory")
        if is_cache_root(path) or is_cache_root(path / "hub"):
            root = path / "hub" if is_cache_root(path / "hub") else path
            for model in lock.models:
                repo = _cache_repo_for(model, root)
                if repo.is_dir():
                    diffs += verify_cache_repo(model, repo, limits)
                else:
                    diffs.append(Difference(model.repo_id, "not-found", "", f"not under {root}"))
            continue
        matched = (
            _match_cache_repo(lock, path) if is_cache_repo(path) else _match_folder(lock, path)
        )
        if matched is None:
            diffs.append(
                Difference(
                    str(path),
                    "unmatched",
                    "",
                    "cannot tell which locked model this is; name it as REPO_ID=PATH",
                )
            )
            continue
        diffs += _verify_path(matched, path, limits)
    return diffs


def _match_cache_repo(lock: LockFile, path: Path) -> LockedModel | None:
    repo_id = path.name[len("models--") :].replace("--", "/", 1)
    return lock.find(repo_id)


def _verify_path(model: LockedModel, path: Path, limits: Limits) -> list[Difference]:
    if is_cache_repo(path):
        return verify_cache_repo(model, path, limits)
    if not path.is_dir():
        return [Difference(model.repo_id, "not-found", "", f"{path}: not a directory")]
    return verify_folder(model, path, limits)


def check_remote(
    lock: LockFile, resolve: Callable[[LockedModel], str | None] | None = None
) -> list[Difference]:
    """Has the requested revision moved on the hub since the lock was written?"""
    resolve = resolve or _resolve_on_hub
    diffs: list[Difference] = []
    for model in lock.models:
        if not model.requested_revision or model.requested_revision == model.revision:
            continue
        try:
            now = resolve(model)
        except SourceError as exc:
            diffs.append(Difference(model.repo_id, "not-found", "", str(exc)))
            continue
        if now is not None and now != model.revision:
            diffs.append(
                Difference(
                    model.repo_id,
                    "revision-moved",
                    "",
                    f"{model.requested_revision} now points to {now[:12]} on the hub, "
                    f"locked {str(model.revision)[:12]}",
                )
            )
    return diffs


def _resolve_on_hub(model: LockedModel) -> str | None:
    """The commit ``model.requested_revision`` names on its hub now (None: cannot tell)."""
    requested = model.requested_revision
    endpoint = model.metadata.get("endpoint")
    if model.platform == "huggingface":
        from ..sources.huggingface import hf_snapshot

        return hf_snapshot(
            model.repo_id, requested, endpoint=str(endpoint) if endpoint else None
        ).revision
    if model.platform == "opencsg":
        from ..sources.huggingface import hf_snapshot
        from ..sources.opencsg import csg_endpoint

        url = str(endpoint) if endpoint else csg_endpoint()
        token = os.environ.get("CSGHUB_TOKEN") or False
        return hf_snapshot(model.repo_id, requested, endpoint=url, token=token).revision
    if model.platform == "modelscope" and requested:
        from ..sources.modelscope import ms_endpoint, resolve_revision

        url = str(endpoint) if endpoint else ms_endpoint()
        return resolve_revision(url, model.repo_id, requested)
    if model.platform in ("torch_hub", "openmmlab"):
        from ..sources.torch_hub import resolve_ref

        github = str(model.metadata.get("github") or model.repo_id)
        owner, _, name = github.partition("/")
        return resolve_ref(owner, name, requested)[1]
    return None
