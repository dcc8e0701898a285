"""Exception hierarchy: one base, one subclass per axis. The CLI catches only these."""

from __future__ import annotations

import sys
import zlib

# What the stdlib raises on corrupt archives, beyond OSError. zipfile's and
# tarfile's own errors are added by archive_errors() once those modules are loaded.
ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    zlib.error,
    EOFError,
    ValueError,
    OSError,
    NotImplementedError,  # unsupported compression method, version or flags
    RuntimeError,  # encrypted members
)


def archive_errors() -> tuple[type[BaseException], ...]:
    """``ARCHIVE_ERRORS`` with ``zipfile.BadZipFile`` and ``tarfile.TarError`` once loaded.

    A weights scan imports neither module (start-up time), and an exception
    class whose module was never imported cannot have been raised.
    """
    loaded = [
        getattr(sys.modules[name], error)
        for name, error in (("zipfile", "BadZipFile"), ("tarfile", "TarError"))
        if name in sys.modules
    ]
    return (*ARCHIVE_ERRORS, *loaded)


class LoadguardError(Exception):
    """Base of every error loadguard raises on purpose."""


class SourceError(LoadguardError):
    """A target could not be opened or listed (missing path, bad archive, hub error)."""


class FileTooLarge(SourceError):
    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path}: {size} bytes exceeds the {limit}-byte limit")
        self.path, self.size, self.limit = path, size, limit


class UnsafePath(SourceError):
    """A path that would leave the repository root (symlink escape, ``../`` member)."""


class MissingExtra(LoadguardError):
    """An optional dependency is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs an optional dependency: pip install 'loadguard[{extra}]'"
        )
        self.extra = extra


class PolicyError(LoadguardError):
    """A policy or baseline file is malformed."""
