"""Prove the "never executes" guarantee on a target: scan it under an audit hook.

Records every PEP 578 event raised while loadguard scans, and reports each
one that would mean repo content ran or escaped: process creation, network
connections, unpickling, native library loads, exec/compile of repo bytes,
imports of repo modules, writes inside the target, or opening a path
outside the target other than the interpreter's own files.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

FORBIDDEN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "pty.spawn",
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "pickle.find_class",
        "ctypes.dlopen",
    }
)


@dataclass(frozen=True)
class Violation:
    event: str
    detail: str


@dataclass
class _Recorder:
    events: list[tuple[str, tuple[object, ...]]]
    active: bool = False


_recorder = _Recorder(events=[])
_installed = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recorder.active:
        _recorder.events.append((event, args))


@contextmanager
def recording() -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    """Record audit events raised in this process while the block runs."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)  # hooks cannot be removed; recording is switched instead
        _installed = True
    _recorder.events = []
    _recorder.active = True
    before = set(sys.modules)
    try:
        yield _recorder.events
    finally:
        _recorder.active = False
        # the "import" audit event fires before the module is found (no file yet):
        # name the file of every module that appeared while recording instead
        for name in sorted(set(sys.modules) - before):
            module_file = getattr(sys.modules.get(name), "__file__", None)
            _recorder.events.append(("import", (name, module_file)))


def _allowed_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *paths.values()}
    roots |= {os.path.dirname(os.path.abspath(__file__))}
    roots |= {p for p in sys.path if p and os.path.isdir(p)}
    return tuple(sorted(os.path.realpath(r) for r in roots if r))


def violations(
    events: Sequence[tuple[str, tuple[object, ...]]], targets: Sequence[str]
) -> list[Violation]:
    roots = tuple(os.path.realpath(t) for t in targets)
    allowed = _allowed_roots() + roots + ("/dev/null", "/proc/self", "/etc/localtime")
    found: list[Violation] = []
    for event, args in events:
        if event in FORBIDDEN_EVENTS:
            found.append(Violation(event, repr(args)[:200]))
        elif event in ("exec", "compile"):
            if event == "compile":
                filename = str(args[1]) if len(args) > 1 else ""
            else:  # exec: the code object names the file it was compiled from
                filename = str(getattr(args[0], "co_filename", "")) if args else ""
            if any(filename.startswith(r) for r in roots):
                found.append(Violation(event, f"code from {filename}"))
        elif event == "import":
            module_file = str(args[1]) if len(args) > 1 and args[1] else ""
            if any(module_file.startswith(r) for r in roots):
                found.append(Violation(event, f"import of repo module {args[0]}"))
        elif event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            mode = str(args[1]) if len(args) > 1 and args[1] is not None else "r"
            writes = any(m in mode for m in "wax+")
            inside = any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
            if writes and inside:
                found.append(Violation(event, f"write to {path}"))
            elif not inside and not any(path.startswith(a) for a in allowed):
                found.append(Violation(event, f"open outside the target: {path}"))
    return found
