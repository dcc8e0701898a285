"""Inputs the fuzzers found that once crashed or hung loadguard (see fuzz/crashes.json)."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from loadguard.engine import scan_snapshot
from loadguard.model import Verdict
from loadguard.sources.memory import snapshot_from_mapping

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))

from targets import TARGETS


def test_auto_map_naming_a_root_level_module_does_not_hang() -> None:
    # atheris, auto_map target: "/." made the reach builder walk dirname("/") forever
    TARGETS["auto_map"](base64.b64decode("CgD/AC8uAAE="))


def test_absolute_snapshot_paths_are_refused_and_never_passed_as_clean() -> None:
    # once a hang in reach ("/x" walked up through dirname("/")); in-memory sources now
    # refuse paths that leave the repository, as the hub sources do
    files = {
        "config.json": b'{"auto_map": {"AutoModel": "/x.M"}}',
        "/x.py": b"import os\nclass M:\n    os.system('id')\n",
        "/a/b.py": b"",
    }
    result = scan_snapshot(snapshot_from_mapping(files))
    assert {("/x.py", "unsafe-path"), ("/a/b.py", "unsafe-path")} <= {
        (e.path, e.kind) for e in result.errors
    }
    assert result.plan.runs_repo_code and result.verdict is not Verdict.CLEAN
