"""A scan never imports, executes, unpickles or connects: checked with an audit hook."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import EXAMPLES
from loadguard.api import scan

_events: list[tuple[str, tuple[object, ...]]] = []
_recording = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _recording:
        _events.append((event, args))


sys.addaudithook(_hook)  # hooks cannot be removed; recording is switched instead


@pytest.fixture
def recorded() -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    global _recording
    _events.clear()
    _recording = True
    try:
        yield _events
    finally:
        _recording = False


def test_scanning_malicious_examples_runs_none_of_them(
    recorded: list[tuple[str, tuple[object, ...]]],
) -> None:
    results = scan(str(EXAMPLES))
    assert results
    repo_root = str(EXAMPLES.resolve())
    bad: list[str] = []
    for event, args in recorded:
        if event in (
            "subprocess.Popen",
            "os.system",
            "os.exec",
            "os.posix_spawn",
            "socket.connect",
            "pickle.find_class",
            "ctypes.dlopen",
        ):
            bad.append(f"{event} {args!r:.120}")
        elif event in ("exec", "compile"):
            source = args[0] if args else None
            filename = str(args[1]) if event == "compile" and len(args) > 1 else ""
            if repo_root in filename or (
                isinstance(source, (bytes, str)) and "os.system" in str(source)
            ):
                bad.append(f"{event} of repo content {filename}")
        elif event == "import":
            module = str(args[0])
            if any(
                module.startswith(n)
                for n in ("modeling_", "tokenization_", "hubconf", "configuration_", "setup_env")
            ):
                bad.append(f"import {module}")
        elif event == "open" and args and isinstance(args[0], (str, Path)):
            path = str(args[0])
            mode = str(args[1]) if len(args) > 1 else "r"
            if any(m in mode for m in "wax+") and repo_root in path:
                bad.append(f"write {path}")
    assert bad == []
