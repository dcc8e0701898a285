"""Study store fault injection: a full disk and a corrupted cache entry.

(kill -9 during writes and a second process on the same store are in
``test_study_store.py``.) A run either recovers or fails loudly; it never
records a partial result as complete.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from loadguard.study import store as store_module
from loadguard.study.runner import run_study
from loadguard.study.store import RESULT_TABLES, StudyStore
from study_support import build_corpus


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with StudyStore(db, read_only=True) as store:
        return {
            t: sorted(map(tuple, store.query(f"SELECT * FROM {t}")), key=repr)
            for t in RESULT_TABLES
        }


def test_disk_full_mid_write_fails_loudly_and_a_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = build_corpus(tmp_path / "corpus", 30)
    reference = tmp_path / "reference.duckdb"
    with StudyStore(reference) as store:
        run_study(str(corpus), store, workers=1)
    expected = dump(reference)

    db = tmp_path / "full.duckdb"
    real_insert = store_module._insert
    calls = {"n": 0}

    def insert(con: Any, table: str, rows: Any, **kw: Any) -> None:
        calls["n"] += 1
        if table == "findings" and calls["n"] > 7:  # the second batch hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real_insert(con, table, rows, **kw)

    monkeypatch.setattr(store_module, "_insert", insert)
    monkeypatch.setattr("loadguard.study.runner.BATCH_REPOS", 5)
    with StudyStore(db) as store, pytest.raises(OSError, match="No space left"):
        run_study(str(corpus), store, workers=1)
    monkeypatch.undo()
    with StudyStore(db, read_only=True) as store:
        statuses = [row[0] for row in store.query("SELECT status FROM runs")]
        partial = store.query("SELECT count(*) FROM repos")[0][0]
        orphans = store.query(
            "SELECT count(*) FROM findings WHERE repo_key NOT IN (SELECT repo_key FROM repos)"
        )[0][0]
    assert statuses == ["interrupted"]  # never 'complete'
    assert 0 < partial < 30 and orphans == 0  # whole repositories only
    with StudyStore(db) as store:
        again = run_study(str(corpus), store, workers=1)
        assert store.query("SELECT status FROM runs ORDER BY run_id")[-1][0] == "complete"
    assert again.skipped == partial
    assert dump(db) == expected


def test_corrupted_cache_entry_is_reanalysed_not_trusted(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "corpus", 12)
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        run_study(str(corpus), store, workers=1)
    expected = dump(db)
    with StudyStore(db) as store:
        assert store.cache_size() > 0
        store.con.execute("UPDATE cache SET output = '{\"findings\": [tru'")  # torn entry
    with StudyStore(db) as store:
        summary = run_study(str(corpus), store, workers=1, fresh=True)
        assert store.query("SELECT status FROM runs ORDER BY run_id")[-1][0] == "complete"
        repaired = store.query("SELECT count(*) FROM cache WHERE output LIKE '%[tru'")[0][0]
    assert summary.done == 12
    assert dump(db) == expected  # same results as if the cache had been sound
    assert repaired == 0  # and the torn entries were replaced
