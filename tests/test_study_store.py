"""Study store: row counts, resumability under kill -9, export, lock refusal, manifest."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

from loadguard.errors import LoadguardError
from loadguard.study.runner import run_study
from loadguard.study.store import RESULT_TABLES, StoreLocked, StudyStore
from study_support import build_corpus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "repos"


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with StudyStore(db, read_only=True) as store:
        return {
            t: sorted(map(tuple, store.query(f"SELECT * FROM {t}")), key=repr)
            for t in RESULT_TABLES
        }


def test_rows_per_repo_file_entry_point_finding(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        summary = run_study(str(EXAMPLES), store, workers=1)
        counts = store.counts()
        n_files = sum(
            1
            for repo in store.query("SELECT location FROM repos")
            for p in Path(repo[0]).rglob("*")
            if p.is_file()
        )
        custom = store.query("SELECT count(*) FROM repos WHERE runs_repo_code")[0][0]
        eps = store.query("SELECT count(*) FROM entry_points")[0][0]
    assert summary.done == counts["repos"] == summary.total > 5
    assert counts["files"] == n_files  # one row per file of every repo
    assert 0 < custom < counts["repos"]  # the examples hold both kinds
    assert eps >= custom


def test_rerun_skips_everything_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        run_study(str(EXAMPLES), store, workers=1)
    before = dump(db)
    with StudyStore(db) as store:
        again = run_study(str(EXAMPLES), store, workers=1)
    assert again.done == 0 and again.skipped == again.total
    assert dump(db) == before


def test_changed_repo_is_rescanned(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "c", 6)
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        run_study(str(corpus), store, workers=1)
    (corpus / "m0001" / "extra.py").write_text("x = 1\n")
    with StudyStore(db) as store:
        again = run_study(str(corpus), store, workers=1)
        assert again.done == 1
        paths = store.query("SELECT count(*) FROM files WHERE path = 'extra.py'")[0][0]
    assert paths == 1


def _study_cmd(corpus: Path, db: Path, workers: int) -> list[str]:
    # the sample analyzer is registered before the CLI runs; workers get it from the parent
    code = (
        "import loadguard.analyzers as a;"
        "a.REGISTRY['evalscan']='study_support:EvalCallScan';"
        "from loadguard.cli import main; raise SystemExit(main())"
    )
    return [
        sys.executable, "-c", code, "study", str(corpus), "--db", str(db),
        "--workers", str(workers), "--analyzers", "evalscan", "--quiet",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}"}


@pytest.mark.slow
def test_kill_minus_9_then_rerun_equals_uninterrupted_run(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "corpus", 400)
    reference = tmp_path / "reference.duckdb"
    subprocess.run(_study_cmd(corpus, reference, 2), env=_env(), check=True, capture_output=True)
    expected = dump(reference)
    assert len(expected["repos"]) == 400 and expected["findings"]

    db = tmp_path / "killed.duckdb"
    killed_midway = 0
    delay = 1.0
    for _ in range(12):
        proc = subprocess.Popen(
            _study_cmd(corpus, db, 2), env=_env(), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)  # the parent only, like the OOM killer would
        proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # then the pool workers it left behind
        if finished:
            break
        stored = len(dump(db)["repos"]) if db.exists() else 0
        killed_midway += 0 < stored < 400
        delay += 0.6
    final = subprocess.run(_study_cmd(corpus, db, 2), env=_env(), capture_output=True)
    assert final.returncode == 0, final.stderr.decode()
    assert killed_midway >= 1, "the run was never interrupted part-way; grow the corpus"
    assert dump(db) == expected


def test_second_process_on_same_store_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db):
        with pytest.raises(StoreLocked, match=r"in use by study process \d+"):
            StudyStore(db)
        result = subprocess.run(
            [sys.executable, "-m", "loadguard", "study", str(EXAMPLES), "--db", str(db), "--quiet"],
            env=_env(), capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 2
        assert f"in use by study process {os.getpid()}" in result.stderr


def test_stale_lock_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "s.duckdb.lock").write_text(dead.stdout)
    with StudyStore(db) as store:
        assert store.counts()["repos"] == 0
    assert not (tmp_path / "s.duckdb.lock").exists()


def test_other_settings_are_refused_unless_fresh(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    corpus = build_corpus(tmp_path / "c", 3)
    with StudyStore(db) as store:
        run_study(str(corpus), store, workers=1)
    with StudyStore(db) as store, pytest.raises(LoadguardError, match="other settings"):
        run_study(str(EXAMPLES), store, workers=1)
    with StudyStore(db) as store:
        run_study(str(EXAMPLES), store, workers=1, fresh=True)
        assert store.query("SELECT count(*) FROM repos WHERE location LIKE ?", [f"{corpus}%"]) == [
            (0,)
        ]


def test_export_parquet_and_csv(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        run_study(str(EXAMPLES), store, workers=1)
        repos = store.counts()["repos"]
        parquet = store.export(tmp_path / "pq", "parquet")
        csv = store.export(tmp_path / "csv", "csv")
    import duckdb

    con = duckdb.connect()
    for path in parquet:
        if path.stem == "repos":
            assert con.execute(f"SELECT count(*) FROM '{path}'").fetchone() == (repos,)
    header = (tmp_path / "csv" / "repos.csv").read_text().splitlines()
    assert header[0].startswith("repo_key,platform,repo_id") and len(header) == repos + 1
    assert {p.name for p in csv} >= {"files.csv", "findings.csv", "entry_points.csv", "errors.csv"}


def test_unreadable_target_in_list_becomes_an_error_row(tmp_path: Path) -> None:
    listing = tmp_path / "targets.jsonl"
    missing = tmp_path / "nowhere"
    listing.write_text(
        f'{{"target": "{EXAMPLES / "hf-custom-clean"}", "created_at": "2024-03-05T10:00:00Z"}}\n'
        f"{missing}\n# a comment\n"
    )
    db = tmp_path / "s.duckdb"
    with StudyStore(db) as store:
        summary = run_study(str(listing), store, workers=1)
        rows = store.query("SELECT verdict, created_month FROM repos ORDER BY verdict")
        errors = store.query("SELECT stage, message FROM errors")
    assert summary.total == 2
    assert rows == [("error", None), ("review", "2024-03")]
    assert errors[0][0] == "source" and "nowhere" in errors[0][1]


def test_report_on_a_store_in_use_fails_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with StudyStore(db), pytest.raises(StoreLocked, match="cannot open the study store"):
        StudyStore(db, read_only=True)
    (tmp_path / "not.duckdb").write_text("plain text, not a database\n")
    with pytest.raises(StoreLocked, match="cannot open"):
        StudyStore(tmp_path / "not.duckdb", read_only=True)
