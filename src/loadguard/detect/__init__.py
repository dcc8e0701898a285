"""Detection: which loaders apply to a snapshot and what each will execute -> ``LoadPlan``.

One module per loader ecosystem, each a ``detect(ctx) -> Detection``. A
detector that crashes becomes an error entry; the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileKind, LoadPlan, ScanError, Snapshot
from . import (
    compiled,
    diffusers,
    mmengine,
    modelscope,
    sentence_transformers,
    torch_hub,
    transformers,
    trust_keys,
    weights,
)
from .context import DetectContext, Detection

DETECTORS: tuple[tuple[str, Callable[[DetectContext], Detection]], ...] = (
    ("transformers", transformers.detect),
    ("sentence-transformers", sentence_transformers.detect),
    ("diffusers", diffusers.detect),
    ("torch.hub", torch_hub.detect),
    ("mmengine", mmengine.detect),
    ("modelscope", modelscope.detect),
    ("weights", weights.detect),
    ("trust-keys", trust_keys.detect),
    ("compiled", compiled.detect),
)


def build_plan(
    snapshot: Snapshot, kinds: Mapping[str, FileKind], limits: Limits = DEFAULT_LIMITS
) -> LoadPlan:
    ctx = DetectContext(snapshot, kinds, limits)
    merged = Detection()
    for name, detector in DETECTORS:
        try:
            found = detector(ctx)
        except Exception as exc:
            kind = "too-deep" if isinstance(exc, RecursionError) else "internal-error"
            ctx.errors.append(ScanError("", "detect", f"{name} detector failed: {exc!r}", kind))
            continue
        for loader in found.loaders:
            merged.use(loader)
        merged.entry_points += found.entry_points
        merged.execute(found.executed_files)
        merged.cross_repo_refs += [
            r for r in found.cross_repo_refs if r not in merged.cross_repo_refs
        ]
        merged.requirements += [r for r in found.requirements if r not in merged.requirements]
        merged.findings += found.findings
        merged.errors += found.errors
    errors = _unique(merged.errors + ctx.errors)
    return LoadPlan(
        loaders=tuple(merged.loaders),
        entry_points=tuple(merged.entry_points),
        executed_files=tuple(merged.executed_files),
        cross_repo_refs=tuple(merged.cross_repo_refs),
        weights=weights.weight_files(ctx),
        requirements=tuple(merged.requirements),
        config_findings=tuple(merged.findings),
        errors=errors,
    )


def _unique(errors: list[ScanError]) -> tuple[ScanError, ...]:
    return tuple(dict.fromkeys(errors))


__all__ = ["DETECTORS", "build_plan"]
