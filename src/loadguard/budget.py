"""Per-repository read budget and per-file time limit, enforced around every analyzer.

A hostile repository can be crafted to make a scanner read forever or spin
on one file; these two bounds turn both into reported errors.
"""

from __future__ import annotations

import contextlib
import io
import signal
from collections.abc import Iterator
from typing import Any, BinaryIO

from .errors import LoadguardError
from .model import FileStore


class ReadBudgetExceeded(LoadguardError):
    pass


class FileTimeout(LoadguardError):
    pass


class BudgetedStore:
    """Wraps a snapshot's store and counts every byte handed out."""

    def __init__(self, inner: FileStore, budget: int) -> None:
        self._inner = inner
        self.remaining = budget
        self.budget = budget

    def charge(self, count: int) -> None:
        self.remaining -= count
        if self.remaining < 0:
            raise ReadBudgetExceeded(
                f"read budget of {self.budget} bytes for this repository is exhausted"
            )

    def open(self, path: str) -> BinaryIO:
        if self.remaining <= 0:
            self.charge(1)
        return _CountingStream(self._inner.open(path), self)  # type: ignore[return-value]

    def read(self, path: str, limit: int) -> bytes:
        if self.remaining <= 0:
            self.charge(1)
        data = self._inner.read(path, limit)
        self.charge(len(data))
        return data

    def fetch_failed(self, path: str) -> bool:
        """Did the wrapped (remote) store fail to fetch part of ``path``?"""
        failed = getattr(self._inner, "fetch_failed", None)
        return bool(failed(path)) if callable(failed) else False


class _CountingStream(io.RawIOBase):
    def __init__(self, inner: BinaryIO, store: BudgetedStore) -> None:
        super().__init__()
        self._inner, self._store = inner, store

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        self._store.charge(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def fileno(self) -> int:
        # Weight analyzers memory-map big files and touch only zip directories and
        # pickle members; those page reads are bounded by the analyzers' own limits.
        return self._inner.fileno()

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        self._inner.close()
        super().close()


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise ``FileTimeout`` in this (main) thread after ``seconds``; elsewhere, no limit.

    Signals only reach the main thread; worker processes of the study mode
    run their scans there, so the bound holds where it matters.
    """
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise FileTimeout(f"{what}: analysis exceeded {seconds:g} s")

    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except ValueError:  # not the main thread (asking threading would cost its import)
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
