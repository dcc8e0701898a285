"""Zip and tar archives read in place: no extraction, members checked before use.

Members with absolute or ``../`` paths, links, and members whose size or
compression ratio is out of bounds are refused and reported; the rest form
one snapshot per repository root found inside the archive.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar

from ..errors import FileTooLarge, SourceError, archive_errors
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, ScanError, Snapshot
from .local import ARCHIVE_SUFFIXES, SKIPPED_DIRS, infer_platform, is_repo_marker

T = TypeVar("T")

# errors.ARCHIVE_ERRORS plus zipfile's and tarfile's, both imported above
READ_ERRORS = archive_errors()


class _GuardedStream(io.RawIOBase):
    """A member stream whose corrupt-data errors surface as ``OSError``.

    zipfile/tarfile raise their own exceptions (bad CRC, unsupported flags)
    in the middle of reads; consumers handle ``OSError`` for unreadable input.
    """

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner

    def _call(self, method: Callable[..., T], *args: object) -> T:
        try:
            return method(*args)
        except OSError:
            raise
        except READ_ERRORS as exc:
            raise OSError(f"corrupt archive member: {exc}") from exc

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._call(self._inner.seekable))

    def readinto(self, buffer: Any) -> int:
        data = self._call(self._inner.read, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        return bytes(self._call(self._inner.read, -1 if size is None else size))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._call(self._inner.seek, offset, whence))

    def tell(self) -> int:
        return int(self._call(self._inner.tell))

    def close(self) -> None:
        self._inner.close()
        super().close()


class _ZipStore:
    def __init__(self, archive: zipfile.ZipFile, members: dict[str, str]) -> None:
        self._zip, self._members = archive, members

    def open(self, path: str) -> BinaryIO:
        try:
            return _GuardedStream(self._zip.open(self._members[path]))  # type: ignore[return-value]
        except READ_ERRORS as exc:
            raise SourceError(f"{path}: corrupt archive member: {exc}") from exc

    def read(self, path: str, limit: int) -> bytes:
        info = self._zip.getinfo(self._members[path])
        if info.file_size > limit:
            raise FileTooLarge(path, info.file_size, limit)
        try:
            with self.open(path) as stream:
                return stream.read(limit + 1)[:limit]
        except READ_ERRORS as exc:
            raise SourceError(f"{path}: corrupt archive member: {exc}") from exc


class _TarStore:
    def __init__(self, archive: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> None:
        self._tar, self._members = archive, members

    def open(self, path: str) -> BinaryIO:
        try:
            stream = self._tar.extractfile(self._members[path])
        except READ_ERRORS as exc:
            raise SourceError(f"{path}: corrupt archive member: {exc}") from exc
        if stream is None:
            raise SourceError(f"{path}: not a regular member")
        return _GuardedStream(stream)  # type: ignore[return-value]

    def read(self, path: str, limit: int) -> bytes:
        size = self._members[path].size
        if size > limit:
            raise FileTooLarge(path, size, limit)
        try:
            with self.open(path) as stream:
                return stream.read(limit)
        except READ_ERRORS as exc:
            raise SourceError(f"{path}: corrupt archive member: {exc}") from exc


def _safe_name(name: str) -> str | None:
    """The member's repo-relative path, or None when it would leave the root."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        return None
    normal = posixpath.normpath(cleaned)
    if normal.startswith("../") or normal == ".." or normal == ".":
        return None
    return normal


def iter_archive_snapshots(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    if path.name.lower().endswith(".zip"):
        yield from _zip_snapshots(path, limits)
    else:
        yield from _tar_snapshots(path, limits)


def _zip_snapshots(path: Path, limits: Limits) -> Iterator[Snapshot]:
    try:
        archive = zipfile.ZipFile(path)
    except READ_ERRORS as exc:
        raise SourceError(f"{path}: not a readable zip archive: {exc}") from exc
    sizes: dict[str, int] = {}
    names: dict[str, str] = {}
    skipped: list[ScanError] = []
    total = 0
    for info in archive.infolist()[: limits.max_archive_members]:
        if info.is_dir():
            continue
        safe = _safe_name(info.filename)
        mode = (info.external_attr >> 16) & 0o170000
        if safe is None:
            skipped.append(
                ScanError(
                    info.filename, "source", "member path leaves the archive root", "path-traversal"
                )
            )
        elif mode == 0o120000:
            skipped.append(ScanError(safe, "source", "symlink member not followed", "symlink"))
        elif _too_big(info.file_size, info.compress_size, total, limits):
            skipped.append(
                ScanError(
                    safe,
                    "source",
                    f"member size {info.file_size} / ratio out of bounds (possible zip bomb)",
                    "zip-bomb",
                )
            )
        elif safe in names:
            skipped.append(ScanError(safe, "source", "duplicate member name", "duplicate"))
        else:
            names[safe], sizes[safe] = info.filename, info.file_size
            total += info.file_size
    if len(archive.infolist()) > limits.max_archive_members:
        skipped.append(ScanError("", "source", "too many archive members", "limit"))
    store = _ZipStore(archive, names)
    yield from _split(path, sizes, store, tuple(skipped))


def _tar_snapshots(path: Path, limits: Limits) -> Iterator[Snapshot]:
    try:
        archive = tarfile.open(path)
    except READ_ERRORS as exc:
        raise SourceError(f"{path}: not a readable tar archive: {exc}") from exc
    members: dict[str, tarfile.TarInfo] = {}
    sizes: dict[str, int] = {}
    skipped: list[ScanError] = []
    try:
        _list_tar(archive, members, sizes, skipped, limits)
    except READ_ERRORS as exc:  # truncated or corrupt: keep what was listed
        skipped.append(ScanError("", "source", f"archive listing stopped: {exc}", "corrupt"))
    yield from _split(path, sizes, _TarStore(archive, members), tuple(skipped))


def _list_tar(
    archive: tarfile.TarFile,
    members: dict[str, tarfile.TarInfo],
    sizes: dict[str, int],
    skipped: list[ScanError],
    limits: Limits,
) -> None:
    total = 0
    for count, info in enumerate(archive):
        if count >= limits.max_archive_members:
            skipped.append(ScanError("", "source", "too many archive members", "limit"))
            break
        if info.isdir():
            continue
        safe = _safe_name(info.name)
        if safe is None:
            skipped.append(
                ScanError(
                    info.name, "source", "member path leaves the archive root", "path-traversal"
                )
            )
        elif info.issym() or info.islnk():
            skipped.append(ScanError(safe, "source", "link member not followed", "symlink"))
        elif not info.isfile():
            skipped.append(ScanError(safe, "source", "not a regular member", "not-regular"))
        elif (
            info.size > limits.max_archive_member_bytes
            or total + info.size > limits.max_archive_total_bytes
        ):
            skipped.append(
                ScanError(safe, "source", f"member size {info.size} out of bounds", "limit")
            )
        else:
            members[safe], sizes[safe] = info, info.size
            total += info.size


def _too_big(size: int, compressed: int, total: int, limits: Limits) -> bool:
    ratio = size / max(compressed, 1)
    return (
        size > limits.max_archive_member_bytes
        or total + size > limits.max_archive_total_bytes
        or (size > 1 << 20 and ratio > limits.max_archive_ratio)
    )


def _split(
    path: Path, sizes: dict[str, int], store: _ZipStore | _TarStore, skipped: tuple[ScanError, ...]
) -> Iterator[Snapshot]:
    """One snapshot per repository root inside the archive (the top one if none is nested)."""
    roots = _repo_roots(sizes)
    owned = {e: next((r for r in roots if r and e.path.startswith(f"{r}/")), None) for e in skipped}
    for index, root in enumerate(roots):
        prefix = f"{root}/" if root else ""
        # errors outside every repo root (../x, /etc/x) go to the first snapshot
        mine = tuple(e for e, r in owned.items() if r == root or (r is None and index == 0))
        files = tuple(
            FileEntry(name[len(prefix) :], size)
            for name, size in sorted(sizes.items())
            if name.startswith(prefix) and not any(part in SKIPPED_DIRS for part in name.split("/"))
        )
        yield Snapshot(
            platform=infer_platform(tuple(f.path for f in files)),
            repo_id=root.rsplit("/", 1)[-1] if root else _stem(path),
            files=files,
            store=_PrefixedStore(store, prefix),
            platform_inferred=True,
            location=f"{path}!{root}" if root else str(path),
            metadata={"archive": str(path)},
            skipped=mine,
        )


class _PrefixedStore:
    def __init__(self, inner: _ZipStore | _TarStore, prefix: str) -> None:
        self._inner, self._prefix = inner, prefix

    def open(self, path: str) -> BinaryIO:
        return self._inner.open(self._prefix + path)

    def read(self, path: str, limit: int) -> bytes:
        return self._inner.read(self._prefix + path, limit)


def _repo_roots(sizes: dict[str, int]) -> list[str]:
    dirs: dict[str, list[str]] = {}
    for name in sizes:
        parent, _, base = name.rpartition("/")
        dirs.setdefault(parent, []).append(base)
    marked = sorted(d for d, names in dirs.items() if any(is_repo_marker(n) for n in names))
    roots: list[str] = []
    for directory in marked:
        if (
            not any(directory == r or directory.startswith(r + "/") for r in roots if r)
            and "" not in roots
        ):
            roots.append(directory)
    if not roots:
        return [""]
    # A single wrapping folder (repo-main/...) is the usual layout: that folder is the repo.
    return roots


def _stem(path: Path) -> str:
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
