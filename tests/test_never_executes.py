"""A scan never imports, executes, unpickles or connects: checked with an audit hook.

Over every corpus the project has: the example repositories, the test tree,
the generated labelled corpus (``tests/corpus/build.py``) and every labelled
pickle sample, with all default analyzers and with the ``reach`` command.
"""

from __future__ import annotations

import importlib.util
import pickle
import socket
import sys
from pathlib import Path

import pytest

import pickle_samples as ps
from cli_support import run_cli
from conftest import EXAMPLES, ROOT
from loadguard.analyzers import DEFAULT_ANALYZERS
from loadguard.api import scan
from loadguard.selfcheck import recording, violations

sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import build as corpus_build


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("corpora")
    labelled = base / "labelled"
    assert len(corpus_build.build(labelled, seed=0)) >= 100
    samples = base / "pickles" / "samples"
    samples.mkdir(parents=True)
    (samples / "config.json").write_text("{}")
    for sample in ps.SAMPLES:
        (samples / f"{sample.name}-{sample.filename}").write_bytes(sample.build())
    return [EXAMPLES, ROOT / "tests", labelled, base / "pickles"]


def test_default_analyzers_are_the_ones_checked() -> None:
    assert set(DEFAULT_ANALYZERS) >= {"native", "yara", "pickle", "weights", "templates"}


def test_scanning_every_corpus_runs_none_of_it(corpora: list[Path]) -> None:
    targets = [str(c) for c in corpora]
    with recording() as events:
        results = [r for t in targets for r in scan(t)]
    labelled = sum(1 for p in corpora[2].iterdir() if p.is_dir())
    examples = sum(1 for p in EXAMPLES.iterdir() if p.is_dir())
    assert len(results) >= labelled + examples + 1  # + the tests tree and the samples
    ran = {f.analyzer for r in results for f in r.findings}
    assert {"native", "yara", "pickle", "weights"} <= ran  # the analyzers really ran
    assert events, "the audit hook recorded nothing: the check itself is broken"
    assert violations(events, targets) == []


def test_the_reach_command_runs_none_of_it(corpora: list[Path]) -> None:
    targets = [str(c) for c in corpora[:3]]
    with recording() as events:
        outputs = [run_cli("reach", t, "--format", "json") for t in targets]
    assert [o.exit_code for o in outputs] == [0] * len(targets)
    assert all('"reach"' in o.output for o in outputs)
    assert violations(events, targets) == []


def test_the_check_catches_each_kind_of_violation(tmp_path: Path) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    module = repo / "evil_mod.py"
    module.write_text("X = 1\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    with recording() as events:
        subprocess.run(["true"], check=True)
        exec(compile(module.read_text(), str(module), "exec"), {})
        sys.path.insert(0, str(repo))
        try:
            importlib.import_module("evil_mod")
        finally:
            sys.path.remove(str(repo))
        pickle.loads(pickle.dumps(Path("x")))  # find_class
        with socket.socket() as sock, pytest.raises(OSError):
            sock.settimeout(0.2)
            sock.connect(("127.0.0.1", 9))
        outside.read_text()
    sys.modules.pop("evil_mod", None)
    kinds = {v.event for v in violations(events, [str(repo)])}
    assert kinds >= {
        "subprocess.Popen", "compile", "exec", "import", "pickle.find_class", "socket.connect", "open"
    }  # fmt: skip
