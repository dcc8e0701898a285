"""Local folders: one repo, or a tree of many; never following a link out of bounds.

A folder is a repository when it holds a loader marker (a config a loader
reads, a hubconf, weights, Python code). The walk stops descending at a
repository root, so ``examples/repos/`` yields one snapshot per repo.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import FileTooLarge, SourceError
from ..filekinds import suffix_of
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot

MARKER_FILES = frozenset(
    {
        "config.json",
        "tokenizer_config.json",
        "preprocessor_config.json",
        "processor_config.json",
        "video_preprocessor_config.json",
        "adapter_config.json",
        "modules.json",
        "model_index.json",
        "configuration.json",
        "hubconf.py",
        "model-index.yml",
        "metafile.yml",
        "ms_wrapper.py",
    }
)
WEIGHT_SUFFIXES = frozenset(
    {
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".pkl",
        ".pickle",
        ".safetensors",
        ".gguf",
        ".onnx",
        ".h5",
        ".keras",
        ".npy",
        ".npz",
        ".joblib",
        ".dill",
        ".msgpack",
    }
)
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})

# Files read as archives of repositories (``sources.archive``); by name, so that a
# single weight file given as a target does not make the scan import zipfile/tarfile.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(ARCHIVE_SUFFIXES)


def is_repo_marker(name: str) -> bool:
    suffix = suffix_of(name)
    return name in MARKER_FILES or suffix in WEIGHT_SUFFIXES or suffix == ".py"


def safe_repo_path(path: str) -> bool:
    """A listed path (hub listing, in-memory mapping) is relative, clean, inside the repo."""
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


class LocalStore:
    """Reads files of one repo by their vetted real paths only."""

    def __init__(self, real_paths: dict[str, str]) -> None:
        self._real = real_paths

    def _path(self, path: str) -> str:
        try:
            return self._real[path]
        except KeyError:
            raise SourceError(f"{path}: not a file of this snapshot") from None

    def open(self, path: str) -> BinaryIO:
        real = self._path(path)
        # O_NONBLOCK: a file swapped for a FIFO after listing must not hang us.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SourceError(f"{path}: no longer a regular file")
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "rb")

    def read(self, path: str, limit: int) -> bytes:
        with self.open(path) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(path, os.path.getsize(self._path(path)), limit)
        return data


def _within(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def list_folder(
    root: Path, *, allowed_roots: tuple[str, ...] | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[tuple[FileEntry, ...], dict[str, str], tuple[ScanError, ...]]:
    """Every regular file under ``root`` whose real path stays inside the allowed roots."""
    real_root = os.path.realpath(root)
    roots = allowed_roots or (real_root,)
    entries: list[FileEntry] = []
    real_paths: dict[str, str] = {}
    skipped: list[ScanError] = []
    # A directory linked from inside the repo is listed under each of its names (a
    # loader imports through any of them); only a link back to an ancestor is a loop.
    stack: list[tuple[str, str, tuple[str, ...]]] = [(str(root), "", (real_root,))]
    listed_dirs = 0
    while stack:
        directory, prefix, ancestors = stack.pop()
        listed_dirs += 1
        if listed_dirs > limits.max_files:  # links can multiply directories, not only files
            skipped.append(ScanError(prefix, "source", f"over {limits.max_files} folders", "limit"))
            break
        try:
            with os.scandir(directory) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(ScanError(prefix or ".", "source", f"cannot list: {exc}", "unreadable"))
            continue
        for child in children:
            rel = f"{prefix}{child.name}"
            if child.name in SKIPPED_DIRS:
                continue
            try:
                real = os.path.realpath(child.path)
                if child.is_symlink() and not _within(real, roots):
                    skipped.append(
                        ScanError(
                            rel, "source", "symlink points outside the repo", "symlink-escape"
                        )
                    )
                    continue
                info = os.stat(child.path)  # follows links that stayed inside
            except OSError as exc:  # broken link, loop, permission
                kind = "symlink-loop" if "loop" in str(exc).lower() else "unreadable"
                skipped.append(ScanError(rel, "source", f"cannot stat: {exc}", kind))
                continue
            if stat.S_ISDIR(info.st_mode):
                if real in ancestors:
                    skipped.append(
                        ScanError(rel, "source", "link to a directory above it", "symlink-loop")
                    )
                elif len(ancestors) > limits.max_depth:
                    skipped.append(ScanError(rel, "source", "directory too deep", "limit"))
                else:
                    stack.append((child.path, rel + "/", (*ancestors, real)))
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.append(
                    ScanError(
                        rel, "source", "not a regular file (FIFO/device/socket)", "not-regular"
                    )
                )
                continue
            if len(entries) >= limits.max_files:
                skipped.append(ScanError(rel, "source", f"over {limits.max_files} files", "limit"))
                return tuple(entries), real_paths, tuple(skipped)
            entries.append(FileEntry(rel, info.st_size))
            real_paths[rel] = real
    entries.sort(key=lambda e: e.path)
    return tuple(entries), real_paths, tuple(skipped)


def snapshot_from_folder(
    path: str | os.PathLike[str],
    *,
    platform: Platform | None = None,
    repo_id: str | None = None,
    revision: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    allowed_roots: tuple[str, ...] | None = None,
    metadata: dict[str, object] | None = None,
    sha256_by_path: dict[str, str] | None = None,
) -> Snapshot:
    root = Path(path)
    if not root.is_dir():
        raise SourceError(f"{root}: not a directory")
    files, real_paths, skipped = list_folder(root, allowed_roots=allowed_roots, limits=limits)
    if sha256_by_path:
        files = tuple(FileEntry(f.path, f.size, sha256_by_path.get(f.path)) for f in files)
    inferred = platform is None
    return Snapshot(
        platform=platform or infer_platform(f.path for f in files),
        repo_id=repo_id or root.resolve().name,
        files=files,
        store=LocalStore(real_paths),
        revision=revision,
        platform_inferred=inferred,
        location=str(root),
        metadata=metadata or {},
        skipped=skipped,
    )


def infer_platform(paths: Iterator[str] | tuple[str, ...]) -> Platform:
    """Best guess from the layout alone; callers mark the result as inferred."""
    names = set(paths)
    top = {p for p in names if "/" not in p}
    if "hubconf.py" in top:
        return Platform.TORCH_HUB
    if "configuration.json" in top or "ms_wrapper.py" in top:
        return Platform.MODELSCOPE
    if any(p.startswith("configs/") or p.endswith("model-index.yml") for p in names) or (
        top and all(p.endswith(".py") for p in top) and not any(p.endswith(".json") for p in top)
    ):
        return Platform.OPENMMLAB
    if top & {
        "config.json",
        "tokenizer_config.json",
        "modules.json",
        "model_index.json",
        "adapter_config.json",
    }:
        return Platform.HUGGINGFACE
    return Platform.LOCAL


def is_repo_dir(directory: Path) -> bool:
    try:
        with os.scandir(directory) as it:
            for child in it:
                if child.is_file() and is_repo_marker(child.name):
                    return True
                if child.name == "configs" and child.is_dir():
                    return True
    except OSError:
        return False
    return False


def iter_repo_dirs(target: Path, max_depth: int = 6) -> Iterator[Path]:
    """Repository roots under ``target`` (itself, if it is one), in sorted order."""
    if is_repo_dir(target):
        yield target
        return
    if max_depth <= 0:
        return
    try:
        children = sorted(p for p in target.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return
    for child in children:
        if child.name in SKIPPED_DIRS:
            continue
        yield from iter_repo_dirs(child, max_depth - 1)
