"""Detection: which loaders apply to a snapshot and what each will execute -> ``LoadPlan``.

One module per loader ecosystem, each a ``detect(ctx) -> Detection``. A
detector that crashes becomes an error entry; the others still run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..errors import LoadguardError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import EntryKind, EntryPoint, FileKind, Loader, LoadPlan, ScanError, Snapshot
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
    for path in dict.fromkeys(ctx.unread):
        if _may_name_code(ctx, path):
            _unread_config(ctx, merged, path)
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


_LOADER_OF_CONFIG = {
    "modules.json": Loader.SENTENCE_TRANSFORMERS,
    "router_config.json": Loader.SENTENCE_TRANSFORMERS,
    "wordembedding_config.json": Loader.SENTENCE_TRANSFORMERS,
    "model_index.json": Loader.DIFFUSERS,
    "configuration.json": Loader.MODELSCOPE,
    "adapter_config.json": Loader.PEFT,
}


# Keys through which a transformers-family config names code; a config too large to
# parse that has none of them names none. Other loaders' configs name code by value.
_CODE_KEYS = ("auto_map", "custom_pipelines", "configuration_files")
_STREAM_LIMIT = 1 << 30  # bytes of an over-large config searched for those keys
_CHUNK = 1 << 20


def _may_name_code(ctx: DetectContext, path: str) -> bool:
    if path.rsplit("/", 1)[-1] in _LOADER_OF_CONFIG:
        return True
    pattern = re.compile(b"|".join(_json_key(key) for key in _CODE_KEYS))
    overlap = 8 * max(len(key) for key in _CODE_KEYS)
    try:
        with ctx.snapshot.store.open(path) as stream:
            tail, seen = b"", 0
            while chunk := stream.read(_CHUNK):
                if pattern.search(tail + chunk):
                    return True
                seen += len(chunk)
                if seen >= _STREAM_LIMIT:
                    return True  # past what is searched: unknown, so possibly
                tail = chunk[-overlap:]
    except (OSError, LoadguardError):
        return True
    return False


def _json_key(key: str) -> bytes:
    """A JSON string as it may be spelt: each character literal or ``\\uXXXX``.

    No ``\\s*:`` after it: whitespace before the colon is unbounded and would
    straddle the chunks; matching the string alone errs towards "possibly".
    """
    spelt = b"".join(b"(?:%s|\\\\u(?i:%04x))" % (re.escape(c.encode()), ord(c)) for c in key)
    return b'"' + spelt + b'"'  # as a key or a value: either way, possibly


def _unread_config(ctx: DetectContext, det: Detection, path: str) -> None:
    """A config the loader reads and the scan could not: any repo module may be named there.

    The loader reads a config of any size (``json.load``); past the scan's limit
    the names in it are unknown, and "nothing named" would be the downgrade an
    attacker pads the file for. So every Python file counts as possibly run.
    """
    loader = _LOADER_OF_CONFIG.get(path.rsplit("/", 1)[-1], Loader.TRANSFORMERS)
    det.use(loader)
    det.entry_points.append(
        EntryPoint(
            loader,
            EntryKind.MODULE,
            f"{path} (unread: may name any repo module)",
            None,
            None,
            "trust_remote_code=True",
            exists=False,
            notes=(
                "the loader reads this config whole; the scan could not, so every Python "
                "file of the repo is treated as possibly executed",
            ),
        )
    )
    det.execute(sorted(p for p in ctx.paths() if p.endswith(".py")))


def _unique(errors: list[ScanError]) -> tuple[ScanError, ...]:
    return tuple(dict.fromkeys(errors))


__all__ = ["DETECTORS", "build_plan"]
