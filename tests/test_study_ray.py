"""The Ray executor on a local Ray instance gives the same store as the process pool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'loadguard[ray]'")

import study_support
from loadguard.analyzers import REGISTRY
from loadguard.study.runner import run_study
from loadguard.study.store import RESULT_TABLES, StudyStore


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with StudyStore(db, read_only=True) as store:
        return {
            t: sorted(map(tuple, store.query(f"SELECT * FROM {t}")), key=repr)
            for t in RESULT_TABLES
        }


@pytest.mark.slow
def test_ray_and_local_pool_store_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(REGISTRY, "evalscan", "study_support:EvalCallScan")
    tests_dir = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]))
    corpus = study_support.build_corpus(tmp_path / "c", 40, copies_of=study_support.EXAMPLES)
    local_db, ray_db = tmp_path / "local.duckdb", tmp_path / "ray.duckdb"
    with StudyStore(local_db) as store:
        local = run_study(str(corpus), store, workers=2, analyzers=["evalscan"])
    with StudyStore(ray_db) as store:
        ray = run_study(str(corpus), store, workers=2, executor="ray", analyzers=["evalscan"])
    assert ray.done == local.done == local.total > 40
    assert dump(ray_db) == dump(local_db), _diff(dump(ray_db), dump(local_db))
    assert dump(local_db)["findings"]


def _diff(a: dict[str, list[tuple[object, ...]]], b: dict[str, list[tuple[object, ...]]]) -> str:
    lines = []
    for table in a:
        left, right = set(a[table]), set(b[table])
        lines += [f"{table} only ray: {row}" for row in sorted(left - right, key=repr)[:3]]
        lines += [f"{table} only local: {row}" for row in sorted(right - left, key=repr)[:3]]
    return "\n".join(lines)
