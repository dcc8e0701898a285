from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "repos"

# Compiled YARA rules are cached per user; tests (and the processes they start)
# keep theirs in a temporary directory, never in the real home.
os.environ["LOADGUARD_CACHE_DIR"] = tempfile.mkdtemp(prefix="loadguard-test-cache-")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, object]], Path]:
    """Write a repo from {relative path: text | bytes | JSON-able object}."""

    def build(files: dict[str, object], name: str = "repo") -> Path:
        root = tmp_path / name
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            elif isinstance(content, str):
                path.write_text(content)
            else:
                path.write_text(json.dumps(content))
        root.mkdir(parents=True, exist_ok=True)
        return root

    return build


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pyparse freezes parsed trees out of the cyclic GC; release them before
    # interpreter exit so native extensions (DuckDB's nanobind) see no leaks.
    import gc
    import shutil

    gc.unfreeze()
    gc.collect()
    shutil.rmtree(os.environ["LOADGUARD_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 that attacks must never reach."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    yield sock
    sock.close()


def received_connection(sock: socket.socket) -> bool:
    """Whether anything connected to ``listener`` (waits its 0.2 s timeout)."""
    try:
        conn, _ = sock.accept()
    except (TimeoutError, OSError):
        return False
    conn.close()
    return True
