"""The study store: one embedded DuckDB file, one row per repo, file, entry point,
finding and error, plus the persistent analysis cache and a run manifest.

Crash safety comes from DuckDB transactions: every repository's rows (and the
cache entries its analysis produced) are committed together, keyed by the
repository's deterministic key, so after ``kill -9`` a rerun finds each
repository either complete or absent, never half written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ..engine import CacheKey
from ..errors import LoadguardError
from .records import RepoRows

SCHEMA_VERSION = "1"

# table -> column definitions; the result tables first (compared by tests), then bookkeeping
RESULT_TABLES: dict[str, str] = {
    "repos": """repo_key VARCHAR PRIMARY KEY, platform VARCHAR, repo_id VARCHAR,
        revision VARCHAR, location VARCHAR, platform_inferred BOOLEAN, created_month VARCHAR,
        file_count INTEGER, total_bytes BIGINT, verdict VARCHAR, loaders VARCHAR,
        runs_repo_code BOOLEAN, trust_flags VARCHAR, python_files INTEGER,
        executed_python_files INTEGER, safetensors_weights INTEGER, pickle_weights INTEGER,
        weight_files INTEGER, cross_repo_refs INTEGER, findings INTEGER, errors INTEGER,
        max_severity VARCHAR""",
    "files": """repo_key VARCHAR, path VARCHAR, size BIGINT, sha256 VARCHAR, kind VARCHAR,
        executed BOOLEAN, PRIMARY KEY (repo_key, path)""",
    "entry_points": """repo_key VARCHAR, idx INTEGER, loader VARCHAR, kind VARCHAR,
        trigger VARCHAR, module VARCHAR, qualname VARCHAR, trust_flag VARCHAR,
        runs_repo_code BOOLEAN, cross_repo VARCHAR, target_exists BOOLEAN,
        PRIMARY KEY (repo_key, idx)""",
    "findings": """repo_key VARCHAR, idx INTEGER, rule_id VARCHAR, analyzer VARCHAR,
        severity VARCHAR, severity_rank INTEGER, confidence VARCHAR, path VARCHAR,
        line INTEGER, cwe VARCHAR, reachable BOOLEAN, message VARCHAR, fingerprint VARCHAR,
        also_reported_by VARCHAR, PRIMARY KEY (repo_key, idx)""",
    "errors": """repo_key VARCHAR, idx INTEGER, path VARCHAR, stage VARCHAR, kind VARCHAR,
        message VARCHAR, PRIMARY KEY (repo_key, idx)""",
}
BOOK_TABLES: dict[str, str] = {
    "manifest": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "runs": """run_id INTEGER PRIMARY KEY, started_at VARCHAR, finished_at VARCHAR,
        corpus VARCHAR, executor VARCHAR, workers INTEGER, status VARCHAR,
        repos_done INTEGER, repos_skipped INTEGER""",
    "repo_runs": """repo_key VARCHAR PRIMARY KEY, run_id INTEGER, seconds DOUBLE,
        files_analysed INTEGER, files_cached INTEGER""",
    "cache": """analyzer VARCHAR, version VARCHAR, sha256 VARCHAR, output VARCHAR,
        PRIMARY KEY (analyzer, version, sha256)""",
}
EXPORT_TABLES = (*RESULT_TABLES, "repo_runs", "runs", "manifest")


class StoreLocked(LoadguardError):
    """Another live study process owns this store."""


class ManifestMismatch(LoadguardError):
    """The store was filled with another configuration (analyzers, corpus)."""


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from ..errors import MissingExtra

        raise MissingExtra("the study store (DuckDB)", "study") from exc
    return duckdb


class StoreLock:
    """``<store>.lock`` holding the owner's pid; a lock whose pid is gone is taken over."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._held = False

    def acquire(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and _alive(owner):
                    raise StoreLocked(
                        f"{self.path.with_suffix('')}: already in use by study process {owner} "
                        f"(lock file {self.path}); wait for it to finish or stop it first"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # stale: its owner died (kill -9 leaves this behind)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            self._held = True
            return
        raise StoreLocked(f"{self.path}: could not take the lock")

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def release(self) -> None:
        if self._held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self._held = False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


class StudyStore:
    """Read/write access to a study database. Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock = None if read_only else StoreLock(self.path)
        if self._lock is not None:
            self._lock.acquire()
        duckdb = _duckdb()
        try:
            try:
                self.con = duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:  # held by a running study, or not a DuckDB file
                raise StoreLocked(f"{self.path}: cannot open the study store: {exc}") from None
            if not read_only:
                self._create()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        if self._lock is not None:
            self._lock.release()

    def _create(self) -> None:
        for name, columns in {**RESULT_TABLES, **BOOK_TABLES}.items():
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")

    # ------------------------------------------------------------------ manifest

    def check_manifest(self, settings: Mapping[str, str], *, fresh: bool = False) -> None:
        """Record the run's settings; refuse to mix results of different settings."""
        stored = dict(self.con.execute("SELECT key, value FROM manifest").fetchall())
        wanted = {"schema": SCHEMA_VERSION, **settings}
        if stored and not fresh:
            differing = sorted(k for k in wanted if stored.get(k) != wanted[k])
            if differing:
                detail = "; ".join(
                    f"{k}: stored {stored.get(k)!r}, now {wanted[k]!r}" for k in differing
                )
                raise ManifestMismatch(
                    f"{self.path} holds a study made with other settings ({detail}); "
                    "use another --db, or --fresh to discard the stored results"
                )
            return
        if fresh:
            self.clear_results()
        self.con.execute("BEGIN TRANSACTION")
        self.con.execute("DELETE FROM manifest")
        self.con.executemany("INSERT INTO manifest VALUES (?, ?)", sorted(wanted.items()))
        self.con.execute("COMMIT")

    def clear_results(self) -> None:
        self.con.execute("BEGIN TRANSACTION")
        for name in (*RESULT_TABLES, "repo_runs"):
            self.con.execute(f"DELETE FROM {name}")
        self.con.execute("COMMIT")

    # ------------------------------------------------------------------ runs

    def start_run(self, corpus: str, executor: str, workers: int) -> int:
        run_id = int(
            self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0]
        )
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, NULL, ?, ?, ?, 'running', 0, 0)",
            [run_id, _now(), corpus, executor, workers],
        )
        return run_id

    def finish_run(self, run_id: int, status: str, done: int, skipped: int) -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, repos_done = ?, repos_skipped = ? "
            "WHERE run_id = ?",
            [_now(), status, done, skipped, run_id],
        )

    def done_keys(self) -> set[str]:
        return {row[0] for row in self.con.execute("SELECT repo_key FROM repos").fetchall()}

    # ------------------------------------------------------------------ cache

    def load_cache(self, analyzers: Iterable[tuple[str, str]]) -> dict[CacheKey, str]:
        """Entries for the selected analyzer versions only (old versions stay, unused)."""
        wanted = list(analyzers)
        if not wanted:
            return {}
        clauses = " OR ".join("(analyzer = ? AND version = ?)" for _ in wanted)
        params = [v for pair in wanted for v in pair]
        rows = self.con.execute(
            f"SELECT analyzer, version, sha256, output FROM cache WHERE {clauses}", params
        ).fetchall()
        return {(a, v, s): out for a, v, s, out in rows}

    def cache_size(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM cache").fetchone()[0])

    # ------------------------------------------------------------------ writing

    def write(self, batch: list[RepoRows], run_id: int) -> None:
        """Commit several repositories' rows atomically (each complete or absent)."""
        if not batch:
            return
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            _insert(con, "repos", [r.repo for r in batch])
            _insert(con, "files", [row for r in batch for row in r.files])
            _insert(con, "entry_points", [row for r in batch for row in r.entry_points])
            _insert(con, "findings", [row for r in batch for row in r.findings])
            _insert(con, "errors", [row for r in batch for row in r.errors])
            _insert(
                con,
                "repo_runs",
                [(r.key, run_id, r.seconds, r.files_analysed, r.files_cached) for r in batch],
            )
            cache_rows = {(c[0], c[1], c[2]): c for r in batch for c in r.new_cache}
            # replace: a row is only re-sent when its stored entry no longer decodes
            _insert(con, "cache", list(cache_rows.values()), replace=True)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ reading

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.con.execute(sql, params or []).fetchall()
        return rows

    def counts(self) -> dict[str, int]:
        return {
            name: int(self.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for name in (*RESULT_TABLES, "cache")
        }

    def export(self, outdir: str | os.PathLike[str], fmt: str = "parquet") -> list[Path]:
        """Every table as Parquet or CSV (DuckDB writes both natively)."""
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"unknown export format {fmt!r} (parquet or csv)")
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in EXPORT_TABLES:
            target = out / f"{name}.{fmt}"
            option = "(FORMAT parquet)" if fmt == "parquet" else "(HEADER, DELIMITER ',')"
            order = _ORDER.get(name, "1")
            path_sql = str(target).replace("'", "''")
            self.con.execute(
                f"COPY (SELECT * FROM {name} ORDER BY {order}) TO '{path_sql}' {option}"
            )
            written.append(target)
        return written


_ORDER = {
    "repos": "repo_key",
    "files": "repo_key, path",
    "entry_points": "repo_key, idx",
    "findings": "repo_key, idx",
    "errors": "repo_key, idx",
    "repo_runs": "repo_key",
    "runs": "run_id",
    "manifest": "key",
}


def _insert(con: Any, table: str, rows: list[tuple[Any, ...]], replace: bool = False) -> None:
    if not rows:
        return
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"{verb} INTO {table} VALUES ({marks})", rows)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def open_store(path: str | os.PathLike[str], read_only: bool = False) -> Iterator[StudyStore]:
    store = StudyStore(path, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def settings_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
