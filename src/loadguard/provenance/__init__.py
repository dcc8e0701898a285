"""Provenance: pin what was scanned (lock), check what is on disk (verify), sign folders."""

from __future__ import annotations

from .lockfile import LOCK_VERSION, LockedFile, LockedModel, LockFile, read_lock, write_lock
from .verify import Difference, verify_lock

__all__ = [
    "LOCK_VERSION",
    "Difference",
    "LockFile",
    "LockedFile",
    "LockedModel",
    "read_lock",
    "verify_lock",
    "write_lock",
]
