"""Content-addressed cache: identical files analysed once, across repos and across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("duckdb")

import study_support
from loadguard.analyzers import REGISTRY
from loadguard.analyzers.base import AnalyzerOutput
from loadguard.model import Confidence, Finding, Location, ScanError, Severity
from loadguard.study.cache import LayeredCache
from loadguard.study.records import decode_output, encode_output
from loadguard.study.runner import run_study
from loadguard.study.store import StudyStore


@pytest.fixture(autouse=True)
def evalscan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, "evalscan", "study_support:EvalCallScan")
    study_support.CALLS.clear()


def findings(db: Path) -> list[tuple[object, ...]]:
    with StudyStore(db, read_only=True) as store:
        return store.query("SELECT repo_key, path, line, rule_id FROM findings ORDER BY ALL")


def test_identical_files_are_analysed_once_per_run_and_never_again(tmp_path: Path) -> None:
    corpus = study_support.build_corpus(tmp_path / "c", 30)
    bodies = {p.read_bytes() for p in corpus.rglob("*.py")}
    assert len(bodies) < 30  # the corpus really holds byte-identical copies

    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        cold = run_study(str(corpus), store, workers=1, analyzers=["evalscan"])
        assert store.counts()["cache"] == len(bodies)
    assert len(study_support.CALLS) == len(bodies)
    assert cold.files_analysed == 30 and cold.files_cached == 30 - len(bodies)
    first = findings(db)
    assert first  # every fifth repo calls eval

    # a new store result set (fresh) reuses the persisted cache: nothing is analysed again
    study_support.CALLS.clear()
    with StudyStore(db) as store:
        warm = run_study(str(corpus), store, workers=1, analyzers=["evalscan"], fresh=True)
    assert study_support.CALLS == []
    assert warm.files_cached == warm.files_analysed == 30
    assert findings(db) == first  # cached outputs relocated to each copy's own path


def test_cached_findings_carry_the_copy_path(tmp_path: Path) -> None:
    corpus = study_support.build_corpus(tmp_path / "c", 15)
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        summary = run_study(str(corpus), store, workers=1, analyzers=["evalscan"])
        rows = store.query(
            "SELECT r.repo_id, f.path FROM findings f JOIN repos r USING (repo_key) ORDER BY 1"
        )
    assert summary.files_cached > 0
    # m0010 holds the same bytes as m0000 (served from cache) under its own file name
    assert rows == [(f"m{i:04d}", f"modeling_m{i:04d}.py") for i in (0, 5, 10)]


def test_layered_cache_returns_new_entries_once() -> None:
    out = AnalyzerOutput(errors=(ScanError("\x00file", "evalscan", "boom", "parse"),))
    base = {("a", "1", "s0"): encode_output(AnalyzerOutput())}
    cache = LayeredCache(base)
    assert cache.get(("a", "1", "s0")) == AnalyzerOutput()
    assert cache.get(("a", "1", "s1")) is None
    cache.put(("a", "1", "s1"), out)
    cache.put(("a", "1", "s0"), out)  # already persisted: not returned again
    assert cache.get(("a", "1", "s1")) == out
    assert [row[:3] for row in cache.take_new()] == [("a", "1", "s1")]
    assert cache.take_new() == ()


def test_codec_round_trips_findings() -> None:
    finding = Finding(
        "LG-X", "native", "m", Severity.CRITICAL, Confidence.HIGH,
        Location("\x00file", 3, 4, 5, None), ("CWE-78",), "os.system(x)", True,
        ("a", "b"), ("e",), ("bandit",),
    )  # fmt: skip
    output = AnalyzerOutput((finding,), (ScanError("p", "s", "m", "k"),))
    assert decode_output(encode_output(output)) == output


@pytest.mark.slow
def test_a_repo_that_kills_its_worker_is_recorded_and_the_study_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "crashscan", "study_support:WorkerCrashScan")
    tests_dir = str(Path(study_support.__file__).resolve().parent)
    monkeypatch.syspath_prepend(tests_dir)
    corpus = study_support.build_corpus(tmp_path / "c", 20)
    (corpus / "m0007" / "modeling_m0007.py").write_text("# CRASH_WORKER\n")
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        summary = run_study(str(corpus), store, workers=2, analyzers=["crashscan"])
        verdicts = dict(store.query("SELECT repo_id, verdict FROM repos"))
        errors = store.query(
            "SELECT kind FROM errors e JOIN repos r USING (repo_key) WHERE repo_id = 'm0007'"
        )
    assert summary.done == 20 and len(verdicts) == 20
    assert verdicts.pop("m0007") == "error" and errors == [("worker-crash",)]
    assert "error" not in verdicts.values()
