"""Snapshots held in memory: for fuzzing, tests and sources that fetch into RAM."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import BinaryIO

from ..errors import FileTooLarge, SourceError
from ..model import FileEntry, Platform, Snapshot
from .local import infer_platform


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
    entries = tuple(FileEntry(path, len(data)) for path, data in sorted(files.items()))
    return Snapshot(
        platform=platform or infer_platform(tuple(files)),
        repo_id=repo_id,
        files=entries,
        store=MemoryStore(files),
        revision=revision,
        platform_inferred=platform is None,
        location=f"<memory:{repo_id}>",
    )
