"""Snapshots held in memory: for fuzzing, tests and sources that fetch into RAM."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import BinaryIO

from ..errors import FileTooLarge, SourceError
from ..model import FileEntry, Platform, ScanError, Snapshot
from .local import infer_platform, safe_repo_path


class MemoryStore:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = dict(files)

    def open(self, path: str) -> BinaryIO:
        try:
            return io.BytesIO(self._files[path])
        except KeyError:
            raise SourceError(f"{path}: not a file of this snapshot") from None

    def read(self, path: str, limit: int) -> bytes:
        data = self._files.get(path)
        if data is None:
            raise SourceError(f"{path}: not a file of this snapshot")
        if len(data) > limit:
            raise FileTooLarge(path, len(data), limit)
        return data


def snapshot_from_mapping(
    files: Mapping[str, bytes],
    *,
    repo_id: str = "memory",
    platform: Platform | None = None,
    revision: str | None = None,
) -> Snapshot:
    safe = {path: data for path, data in files.items() if safe_repo_path(path)}
    skipped = tuple(
        ScanError(path, "source", "path leaves the repository", "unsafe-path")
        for path in sorted(files)
        if path not in safe
    )
    entries = tuple(FileEntry(path, len(data)) for path, data in sorted(safe.items()))
    return Snapshot(
        platform=platform or infer_platform(tuple(safe)),
        repo_id=repo_id,
        files=entries,
        store=MemoryStore(safe),
        revision=revision,
        platform_inferred=platform is None,
        location=f"<memory:{repo_id}>",
        skipped=skipped,
    )
