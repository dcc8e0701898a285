"""loadguard: find, trace and judge the code a model load runs."""

from __future__ import annotations

__version__ = "0.1.0"
RULESET_VERSION = "2026.11.0"

# Public names imported on first use, so ``import loadguard`` stays cheap.
_LAZY = {
    "safe_snapshot_download": "loadguard.provenance.download:safe_snapshot_download",
    "guard": "loadguard.inprocess_guard:guard",
    "GuardPolicy": "loadguard.inprocess_guard:GuardPolicy",
    "GuardViolation": "loadguard.inprocess_guard:GuardViolation",
    "scan": "loadguard.api:scan",
}


def __getattr__(name: str) -> object:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'loadguard' has no attribute {name!r}")
    import importlib

    module_name, _, attr = target.partition(":")
    value: object = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value
