"""The study's content-addressed analysis cache (the engine's ``AnalysisCache``).

Persistent entries live in the store's ``cache`` table. Workers never touch
the database: each gets a read-only copy of what was cached when the run
started, layered with what it analyses itself, and hands its new entries
back with the repository's rows; the parent writes both in one transaction.
So a byte-identical file costs one analysis per worker per run at most, and
none at all once a run that saw it has committed.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..analyzers.base import AnalyzerOutput
from ..engine import CacheKey
from .records import decode_output, encode_output


class LayeredCache:
    """Shared read-only base (JSON text per key) plus this worker's own new entries."""

    def __init__(self, base: Mapping[CacheKey, str]) -> None:
        self._base = base
        self._own: dict[CacheKey, str] = {}  # everything this worker analysed
        self._pending: list[CacheKey] = []  # not yet handed to the parent
        self._decoded: dict[CacheKey, AnalyzerOutput] = {}
        self._corrupt: set[CacheKey] = set()  # base entries that did not decode

    def get(self, key: CacheKey) -> AnalyzerOutput | None:
        found = self._decoded.get(key)
        if found is None:
            text = self._base.get(key) or self._own.get(key)
            if text is None:
                return None
            try:
                found = decode_output(text)
            except (ValueError, KeyError, TypeError, IndexError):
                # a torn or tampered entry is a miss: analyse again and replace it
                self._corrupt.add(key)
                return None
            if len(self._decoded) < 50_000:  # bounded: the base can be large
                self._decoded[key] = found
        return found

    def put(self, key: CacheKey, output: AnalyzerOutput) -> None:
        if key in self._own or (key in self._base and key not in self._corrupt):
            return
        self._own[key] = encode_output(output)
        self._pending.append(key)

    def take_new(self) -> tuple[tuple[str, str, str, str], ...]:
        """Entries added since the last call, as rows for the ``cache`` table."""
        rows = tuple((k[0], k[1], k[2], self._own[k]) for k in self._pending)
        self._pending = []
        return rows
