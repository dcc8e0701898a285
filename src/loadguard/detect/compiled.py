"""Compiled code shipped in a repo: bytecode and native libraries escape source review.

A ``.pyc`` beside (or instead of) a module is what Python imports when the
source is missing or older; a ``.so`` in a package folder is imported as an
extension module. Neither can be read by the source analyzers, so their mere
presence where the loader imports from is a finding.
"""

from __future__ import annotations

import posixpath

from ..model import Confidence, Severity
from .context import DetectContext, Detection

BYTECODE = (".pyc", ".pyo")
NATIVE = (".so", ".pyd", ".dll", ".dylib")


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    code_dirs = {posixpath.dirname(p) for p in ctx.paths() if p.endswith(".py")}
    for path in ctx.paths():
        name = path.rsplit("/", 1)[-1]
        folder = posixpath.dirname(path)
        if name.endswith(BYTECODE):
            near_code = folder in code_dirs or posixpath.dirname(folder) in code_dirs
            det.flag(
                "LG-CFG-040",
                path,
                "compiled Python bytecode in the repo: Python imports it when the source is "
                "missing or stale, and no source analyzer can read it",
                Severity.HIGH if near_code else Severity.MEDIUM,
                ("CWE-829", "CWE-506"),
                confidence=Confidence.MEDIUM,
            )
        elif name.endswith(NATIVE) or ".so." in name:
            det.flag(
                "LG-CFG-041",
                path,
                "native library in the repo: importable as an extension module or loadable "
                "with ctypes, opaque to source analysis",
                Severity.HIGH if folder in code_dirs else Severity.MEDIUM,
                ("CWE-829",),
                confidence=Confidence.MEDIUM,
            )
    return det
