"""The local Hugging Face cache: ``models--org--name/snapshots/<commit>/``.

Files in a snapshot folder are symlinks into the repo's ``blobs/``; those are
followed, nothing that leaves the ``models--org--name`` folder is. Blob names
of LFS files are their sha256, so hashes come for free.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..limits import DEFAULT_LIMITS, Limits
from ..model import Platform, Snapshot
from .local import snapshot_from_folder

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_cache_repo(path: Path) -> bool:
    return path.name.startswith("models--") and (path / "snapshots").is_dir()


def is_cache_root(path: Path) -> bool:
    try:
        return any(is_cache_repo(child) for child in path.iterdir())
    except OSError:
        return False


def repo_id_of(cache_repo: Path) -> str:
    return cache_repo.name[len("models--") :].replace("--", "/", 1)


def iter_cache_snapshots(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """Every snapshot of every model under a cache root, or of one cache repo."""
    repos = [path] if is_cache_repo(path) else sorted(p for p in path.iterdir() if is_cache_repo(p))
    for repo in repos:
        refs = _refs(repo)
        for commit_dir in sorted((repo / "snapshots").iterdir()):
            if commit_dir.is_dir():
                yield snapshot_of(repo, commit_dir, refs, limits)


def snapshot_of(
    repo: Path, commit_dir: Path, refs: dict[str, str], limits: Limits = DEFAULT_LIMITS
) -> Snapshot:
    commit = commit_dir.name
    blobs: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(commit_dir):
        for name in files:
            full = os.path.join(dirpath, name)
            target = os.path.basename(os.path.realpath(full))
            if _SHA256.match(target):
                blobs[os.path.relpath(full, commit_dir).replace(os.sep, "/")] = target
    return snapshot_from_folder(
        commit_dir,
        platform=Platform.HUGGINGFACE,
        repo_id=repo_id_of(repo),
        revision=commit,
        limits=limits,
        allowed_roots=(os.path.realpath(repo),),
        metadata={"refs": [name for name, sha in refs.items() if sha == commit], "hf_cache": True},
        sha256_by_path=blobs,
    )


def _refs(repo: Path) -> dict[str, str]:
    refs: dict[str, str] = {}
    ref_dir = repo / "refs"
    if ref_dir.is_dir():
        for ref in ref_dir.rglob("*"):
            if ref.is_file():
                try:
                    refs[str(ref.relative_to(ref_dir))] = ref.read_text().strip()
                except OSError:
                    continue
    return refs
