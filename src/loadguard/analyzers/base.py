"""The one small protocol every analyzer implements, and the context it receives.

There are two shapes. A ``FileAnalyzer`` looks at one file at a time; its
output is a pure function of the file's bytes and its own ``version``, so the
engine caches it by content hash (hubs are full of byte-identical copies).
A ``SnapshotAnalyzer`` needs the whole snapshot at once (external tools that
take a directory, config cross-checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, FileKind, Finding, LoadPlan, ReachGraph, ScanError, Snapshot
from ..pyparse import ParsedModule, ParseFailure, parse_python


@dataclass(frozen=True)
class FileFact:
    """Something an analyzer learned about a file that a later stage reuses (not a finding).

    The census takes the tensor names the pickle analyzer already read, so a
    checkpoint's pickle is parsed once per scan, not twice.
    """

    path: str
    key: str
    value: object


TENSOR_NAMES = "tensor-names"  # value: tuple[str, ...] | None (None: not cheaply known)


@dataclass(frozen=True)
class AnalyzerOutput:
    """What an analyzer returns for a file or a snapshot; outputs add up."""

    findings: tuple[Finding, ...] = ()
    errors: tuple[ScanError, ...] = ()
    facts: tuple[FileFact, ...] = ()

    def __add__(self, other: AnalyzerOutput) -> AnalyzerOutput:
        return AnalyzerOutput(
            self.findings + other.findings,
            self.errors + other.errors,
            self.facts + other.facts,
        )


EMPTY = AnalyzerOutput()


@dataclass(frozen=True)
class AnalysisContext:
    """What analyzers may look at. They must not execute or import any of it."""

    snapshot: Snapshot
    plan: LoadPlan
    kinds: Mapping[str, FileKind]
    reach: ReachGraph | None = None
    limits: Limits = DEFAULT_LIMITS
    options: Mapping[str, object] = field(default_factory=dict)

    def read_text_bytes(self, path: str) -> bytes:
        return self.snapshot.read(path, self.limits.max_text_bytes)

    def parse(self, path: str) -> ParsedModule:
        """Parsed source of a repo file (shared cache); raises ``ParseFailure``/``OSError``."""
        return parse_python(self.read_text_bytes(path), path)

    def is_executed(self, path: str) -> bool:
        if self.reach is not None:
            return path in self.reach.files
        return path in self.plan.executed_files


@runtime_checkable
class FileAnalyzer(Protocol):
    name: str
    version: str

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        """Whether this analyzer looks at this file at all (cheap, no I/O)."""

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        """Findings for one file. Must depend only on the file's bytes (cacheable)."""


@runtime_checkable
class SnapshotAnalyzer(Protocol):
    name: str
    version: str

    def analyze_snapshot(self, ctx: AnalysisContext) -> AnalyzerOutput:
        """Findings for the whole snapshot at once."""


Analyzer = FileAnalyzer | SnapshotAnalyzer

__all__ = [
    "EMPTY",
    "TENSOR_NAMES",
    "AnalysisContext",
    "Analyzer",
    "AnalyzerOutput",
    "FileAnalyzer",
    "FileFact",
    "ParseFailure",
    "SnapshotAnalyzer",
]
