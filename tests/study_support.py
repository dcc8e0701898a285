"""Helpers for the study tests: a tiny real file analyzer and corpus builders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from loadguard.analyzers.base import AnalysisContext, AnalyzerOutput
from loadguard.model import Confidence, FileEntry, FileKind, Finding, Location, Severity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"
CALLS: list[str] = []  # sha-less record of analysed paths (inline executor only)


class EvalCallScan:
    """Flags ``eval(`` / ``exec(`` lines in Python files: a pure function of the bytes."""

    name = "evalscan"
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return kind is FileKind.PYTHON

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        CALLS.append(entry.path)
        text = ctx.read_text_bytes(entry.path).decode("utf-8", "replace")
        findings = tuple(
            Finding(
                "TEST-EVAL",
                self.name,
                "dynamic code execution",
                Severity.HIGH,
                Confidence.MEDIUM,
                Location(entry.path, number),
                ("CWE-95",),
                line.strip()[:80],
            )
            for number, line in enumerate(text.splitlines(), 1)
            if "eval(" in line or "exec(" in line
        )
        return AnalyzerOutput(findings)


MODELING = """
from transformers import PreTrainedModel


class {name}Model(PreTrainedModel):
    def forward(self, x):
        return x
"""


def write_repo(root: Path, name: str, body: str, *, created: str | None = None) -> Path:
    repo = root / name
    repo.mkdir(parents=True)
    (repo / "config.json").write_text(
        json.dumps({"model_type": name, "auto_map": {"AutoModel": f"modeling_{name}.{name}Model"}})
    )
    (repo / f"modeling_{name}.py").write_text(body)
    (repo / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    return repo


def build_corpus(root: Path, repos: int, *, copies_of: Path | None = None) -> Path:
    """``repos`` custom-code repos; every third one holds byte-identical code to another."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(repos):
        body = MODELING.format(name=f"m{i % max(1, repos // 3 * 2)}")
        if i % 5 == 0:
            body += "\n\ndef hook(s):\n    return eval(s)\n"
        write_repo(root, f"m{i:04d}", body)
    if copies_of is not None:
        for repo in sorted(copies_of.iterdir()):
            if repo.is_dir():
                shutil.copytree(repo, root / f"example-{repo.name}")
    return root


class WorkerCrashScan:
    """Ends its own worker process on files marked CRASH_WORKER (never the test process)."""

    name = "crashscan"
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return kind is FileKind.PYTHON

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        import multiprocessing
        import os

        if b"CRASH_WORKER" in ctx.read_text_bytes(entry.path):
            if multiprocessing.parent_process() is None:
                raise RuntimeError("refusing to end the main process")
            os._exit(70)  # what a segfault in a native extension looks like to the pool
        return AnalyzerOutput()
