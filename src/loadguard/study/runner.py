"""Run a study: enumerate the corpus, skip what the store already holds, analyse the
rest on a local process pool or a Ray cluster, and commit results as they arrive.

Workers are pure: they receive tasks and a read-only copy of the cache, and
return rows plus new cache entries. Only this (parent) process writes to
the store, so the store needs no cross-process locking of its own.
"""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import __version__
from ..analyzers import DEFAULT_ANALYZERS, REGISTRY, load_analyzer
from ..engine import CacheKey, scan_snapshot
from ..errors import LoadguardError, MissingExtra
from ..limits import DEFAULT_LIMITS, Limits
from ..sources import iter_snapshots
from .cache import LayeredCache
from .corpus import iter_tasks
from .records import RepoRows, RepoTask, error_rows, result_rows
from .store import StudyStore, settings_json

CHUNK = 8  # repos per worker call: amortises inter-process overhead
BATCH_SECONDS = 1.0  # commit at least this often ...
BATCH_REPOS = 200  # ... or every this many repos


@dataclasses.dataclass
class Progress:
    """Counters a display renders; updated in the parent as results arrive."""

    total: int = 0
    skipped: int = 0  # already in the store from an earlier run
    done: int = 0
    files_analysed: int = 0
    files_cached: int = 0
    findings: int = 0
    errors: int = 0


@dataclasses.dataclass(frozen=True)
class StudySummary:
    run_id: int
    total: int
    skipped: int
    done: int
    files_analysed: int
    files_cached: int
    findings: int
    seconds: float


# --------------------------------------------------------------------------- worker side

_STATE: dict[str, Any] = {}


def _init_worker(
    base: Mapping[CacheKey, str],
    analyzers: tuple[str, ...],
    limits: Limits,
    registry: Mapping[str, str] | None = None,
) -> None:
    # analyzers registered at run time in the parent (plugins, tests) exist in workers too
    REGISTRY.update(registry or {})
    _STATE["cache"] = LayeredCache(base)
    _STATE["analyzers"] = analyzers
    _STATE["limits"] = limits


def analyse_chunk(tasks: Sequence[RepoTask]) -> list[RepoRows]:
    return [analyse_task(task) for task in tasks]


def analyse_task(task: RepoTask) -> RepoRows:
    """One repository -> its rows. Never raises for a bad repository."""
    cache: LayeredCache = _STATE["cache"]
    limits: Limits = _STATE["limits"]
    started = time.perf_counter()
    snapshot = task.snapshot
    if snapshot is None:
        if "_source_error" in task.metadata:
            return error_rows(task, "source", str(task.metadata["_source_error"]), "source")
        try:
            snapshot = next(iter(iter_snapshots(task.target, limits)))
        except (LoadguardError, OSError, StopIteration) as exc:
            return error_rows(task, "source", f"cannot fetch {task.target}: {exc}", "source")
        except Exception as exc:  # a hub client failure is a result, not a crash
            return error_rows(task, "source", f"cannot fetch {task.target}: {exc!r}", "source")
    try:
        result = scan_snapshot(snapshot, analyzers=_STATE["analyzers"], limits=limits, cache=cache)
        rows = result_rows(task, result, snapshot)
    except Exception as exc:  # the engine promises not to raise; if it does, record it
        rows = error_rows(task, "engine", f"scan failed: {exc!r}", "internal-error")
    return dataclasses.replace(
        rows, seconds=time.perf_counter() - started, new_cache=cache.take_new()
    )


# --------------------------------------------------------------------------- executors


class Executor:
    """Maps chunks of tasks to rows, yielding results as they complete."""

    name = "base"

    def run(self, chunks: Iterable[list[RepoTask]]) -> Iterator[list[RepoRows]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InlineExecutor(Executor):
    """One worker: analyse in this process (no pickling, easiest to debug)."""

    name = "inline"

    def __init__(self, base: Mapping[CacheKey, str], analyzers: tuple[str, ...], limits: Limits):
        _init_worker(base, analyzers, limits)

    def run(self, chunks: Iterable[list[RepoTask]]) -> Iterator[list[RepoRows]]:
        for chunk in chunks:
            yield analyse_chunk(chunk)


class LocalExecutor(Executor):
    """A process pool. ``forkserver`` so workers never inherit the open database.

    A worker that dies (a native crash, the OOM killer) breaks the pool and
    every chunk in flight. The pool is rebuilt and those chunks are redone
    one repository at a time; the repository that kills a worker on its own
    is recorded as a ``worker-crash`` error instead of stopping the study
    (and would otherwise crash every resumed run again).
    """

    name = "local"

    def __init__(
        self,
        base: Mapping[CacheKey, str],
        analyzers: tuple[str, ...],
        limits: Limits,
        workers: int,
    ) -> None:
        self.workers = workers
        self._initargs = (dict(base), analyzers, limits, _registry_of(analyzers))
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=self._initargs,
        )

    def _restart(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def run(self, chunks: Iterable[list[RepoTask]]) -> Iterator[list[RepoRows]]:
        pending: dict[Future[list[RepoRows]], list[RepoTask]] = {}
        source = iter(chunks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.workers * 3:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                pending[self._pool.submit(analyse_chunk, chunk)] = chunk
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                try:
                    rows = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                del pending[future]
                yield rows
            if broken:
                redo = [task for chunk in pending.values() for task in chunk]
                pending.clear()
                self._restart()
                yield from self._isolated(redo)

    def _isolated(self, tasks: list[RepoTask]) -> Iterator[list[RepoRows]]:
        for task in tasks:
            try:
                yield self._pool.submit(analyse_chunk, [task]).result()
            except BrokenProcessPool:
                self._restart()
                message = "the analysis crashed its worker process (native crash or out of memory)"
                yield [error_rows(task, "worker", message, "worker-crash")]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor(Executor):
    """Actors on a Ray cluster (``address``) or a local Ray instance (no address).

    Each actor holds the cache copy once. Local snapshots name files by path,
    so on a multi-node cluster the corpus must be on a shared filesystem, or
    the corpus should be hub targets that each worker fetches itself.
    """

    name = "ray"

    def __init__(
        self,
        base: Mapping[CacheKey, str],
        analyzers: tuple[str, ...],
        limits: Limits,
        workers: int,
        address: str | None,
    ) -> None:
        try:
            ray: Any = importlib.import_module("ray")  # optional extra, typed loosely
        except ImportError as exc:
            raise MissingExtra("the Ray executor", "ray") from exc
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = workers
            src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            # workers import loadguard (and any plugin analyzers) the way this process does
            path = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
            ray.init(**kwargs)
        if address:
            workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        self.workers = workers
        actor_cls = ray.remote(num_cpus=1)(_RayWorker)
        base_ref = ray.put(dict(base))
        registry = _registry_of(analyzers)
        self._actors: list[Any] = [
            actor_cls.remote(base_ref, analyzers, limits, registry) for _ in range(workers)
        ]

    def run(self, chunks: Iterable[list[RepoTask]]) -> Iterator[list[RepoRows]]:
        ray = self._ray
        idle = list(self._actors)
        pending: dict[Any, Any] = {}
        source = iter(chunks)
        exhausted = False
        while True:
            while not exhausted and idle:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                actor = idle.pop()
                pending[actor.analyse.remote(chunk)] = actor
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                idle.append(pending.pop(ref))
                rows: list[RepoRows] = ray.get(ref)
                yield rows

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        if self._started:
            self._ray.shutdown()


class _RayWorker:
    def __init__(
        self,
        base: Mapping[CacheKey, str],
        analyzers: tuple[str, ...],
        limits: Limits,
        registry: Mapping[str, str],
    ):
        _init_worker(base, analyzers, limits, registry)

    def analyse(self, tasks: list[RepoTask]) -> list[RepoRows]:
        return analyse_chunk(tasks)


# --------------------------------------------------------------------------- the run


def _registry_of(analyzers: Sequence[str]) -> dict[str, str]:
    return {name: REGISTRY[name] for name in analyzers if name in REGISTRY}


def analyzer_versions(analyzers: Sequence[str]) -> list[tuple[str, str]]:
    """(name, version) of each selected analyzer that can be loaded here."""
    versions = []
    for name in analyzers:
        try:
            analyzer = load_analyzer(name)
        except (MissingExtra, ImportError):
            continue  # the engine records the missing extra per repo
        versions.append((analyzer.name, analyzer.version))
    return versions


def run_study(
    corpus: str,
    store: StudyStore,
    *,
    analyzers: Sequence[str] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    fresh: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> StudySummary:
    started = time.perf_counter()
    selected = tuple(analyzers) if analyzers is not None else tuple(DEFAULT_ANALYZERS)
    for name in selected:
        load_analyzer_or_fail(name)
    versions = analyzer_versions(selected)
    store.check_manifest(
        {
            "corpus": corpus,
            "analyzers": settings_json(sorted(selected)),
            "analyzer_versions": settings_json(sorted(versions)),
        },
        fresh=fresh,
    )
    workers = workers or os.cpu_count() or 1
    progress = Progress()
    done = store.done_keys()
    todo: list[RepoTask] = []
    queued: set[str] = set()
    for task in iter_tasks(corpus, limits):
        progress.total += 1
        if task.key in done or task.key in queued:
            progress.skipped += 1  # committed by an earlier run (or listed twice)
            continue
        queued.add(task.key)
        todo.append(task)
    if on_progress:
        on_progress(progress)
    run_id = store.start_run(corpus, executor, workers)
    if not todo:
        store.finish_run(run_id, "complete", 0, progress.skipped)
        return _summary(run_id, progress, started)
    base = store.load_cache(versions)
    runner = _make_executor(executor, base, selected, limits, workers, address)
    status = "interrupted"
    try:
        batch: list[RepoRows] = []
        last = time.monotonic()
        chunks = (todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK))
        for rows in runner.run(chunks):
            batch += rows
            for r in rows:
                progress.done += 1
                progress.files_analysed += r.files_analysed
                progress.files_cached += r.files_cached
                progress.findings += len(r.findings)
                progress.errors += len(r.errors)
            if len(batch) >= BATCH_REPOS or time.monotonic() - last >= BATCH_SECONDS:
                store.write(batch, run_id)
                batch, last = [], time.monotonic()
            if on_progress:
                on_progress(progress)
        store.write(batch, run_id)
        status = "complete"
    finally:
        runner.close()
        store.finish_run(run_id, status, progress.done, progress.skipped)
    return _summary(run_id, progress, started)


def load_analyzer_or_fail(name: str) -> None:
    try:
        load_analyzer(name)
    except ValueError as exc:
        raise LoadguardError(str(exc)) from None
    except (MissingExtra, ImportError):
        pass  # reported per repository by the engine, like a scan does


def _make_executor(
    kind: str,
    base: Mapping[CacheKey, str],
    analyzers: tuple[str, ...],
    limits: Limits,
    workers: int,
    address: str | None,
) -> Executor:
    if kind == "ray":
        return RayExecutor(base, analyzers, limits, workers, address)
    if kind == "inline" or (kind == "local" and workers <= 1):
        return InlineExecutor(base, analyzers, limits)
    if kind == "local":
        return LocalExecutor(base, analyzers, limits, workers)
    raise LoadguardError(f"unknown executor {kind!r} (local, ray or inline)")


def _summary(run_id: int, p: Progress, started: float) -> StudySummary:
    return StudySummary(
        run_id,
        p.total,
        p.skipped,
        p.done,
        p.files_analysed,
        p.files_cached,
        p.findings,
        time.perf_counter() - started,
    )


__all__ = ["Progress", "StudySummary", "__version__", "run_study"]
