"""Scan many local repositories on several cores, one worker process per core.

A folder of hundreds of repositories is scanned by forked workers; results
come back in the order a serial scan yields them. Only local snapshots cross
the process boundary (their store is a table of vetted paths); hub targets
hold live sessions and are scanned in this process, in their place.

Byte-identical repositories (forks, re-uploads) are sent to one worker as one
task, so its content caches serve the copies as a serial scan's would. A
worker that dies (a native crash, the OOM killer) costs only the repositories
that kill a worker on their own: the others are redone one at a time in a
fresh pool.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from .engine import AnalysisCache, MemoryCache, scan_snapshot
from .errors import SourceError
from .limits import Limits
from .model import ScanError, ScanResult, Snapshot
from .sources import iter_snapshots
from .sources.local import LocalStore

# multiprocessing and concurrent.futures cost ~25 ms to import: only a real pool pays it.
if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

Item = ScanResult | ScanError
_WORKER_CACHE: dict[str, AnalysisCache] = {}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


class _Job(NamedTuple):
    """What a worker needs besides the snapshots (a NamedTuple: cheaper to define at start-up)."""

    analyzers: tuple[str, ...] | None
    limits: Limits
    options: Mapping[str, object]


def _scan_group(job: _Job, snapshots: list[Snapshot]) -> list[ScanResult]:
    """Worker side: scan a group of snapshots with this worker's own content cache."""
    cache = _WORKER_CACHE.setdefault("cache", MemoryCache())
    return [_scan_here(snapshot, job, cache) for snapshot in snapshots]


def parallel_scan(
    targets: Sequence[str],
    *,
    jobs: int,
    analyzers: Sequence[str] | None,
    limits: Limits,
    cache: AnalysisCache,
    options: Mapping[str, object],
    on_snapshot: Callable[[Snapshot], None] | None,
) -> Iterator[Item]:
    """``iter_scan`` on ``jobs`` worker processes (fewer if there are fewer repositories).

    Local targets are listed now, before any worker is forked, so the pool is
    made only when there are at least two repositories to share out.
    """
    plan: list[Snapshot | ScanError | str] = []  # str: a hub target, expanded in place
    for target in targets:
        if not os.path.exists(target):
            plan.append(target)
            continue
        try:
            plan.extend(iter_snapshots(target, limits))
        except SourceError as exc:
            plan.append(ScanError(target, "source", str(exc), "source"))
    job = _Job(tuple(analyzers) if analyzers is not None else None, limits, dict(options))
    workers = min(jobs, sum(1 for entry in plan if _crosses_processes(entry)))
    if workers < 2 or not can_fork():
        return _serial(plan, job, cache, on_snapshot)
    return _Parallel(plan, job, workers, on_snapshot).results(cache)


def _serial(
    plan: list[Snapshot | ScanError | str],
    job: _Job,
    cache: AnalysisCache,
    on_snapshot: Callable[[Snapshot], None] | None,
) -> Iterator[Item]:
    for entry in plan:
        yield from _in_place(entry, job, cache, on_snapshot)


def _in_place(
    entry: Snapshot | ScanError | str,
    job: _Job,
    cache: AnalysisCache,
    on_snapshot: Callable[[Snapshot], None] | None,
) -> Iterator[Item]:
    """One plan entry handled in this process: an error as is, a hub target, a snapshot."""
    if isinstance(entry, ScanError):
        yield entry
    elif isinstance(entry, str):
        yield from _scan_target_here(entry, job, cache, on_snapshot)
    else:
        if on_snapshot is not None:
            on_snapshot(entry)
        yield _scan_here(entry, job, cache)


def _scan_here(snapshot: Snapshot, job: _Job, cache: AnalysisCache) -> ScanResult:
    return scan_snapshot(
        snapshot, analyzers=job.analyzers, limits=job.limits, cache=cache, options=job.options
    )


def _scan_target_here(
    target: str, job: _Job, cache: AnalysisCache, on_snapshot: Callable[[Snapshot], None] | None
) -> Iterator[Item]:
    from .api import serial_scan

    return serial_scan([target], job.analyzers, job.limits, cache, job.options, on_snapshot)


def _crosses_processes(entry: Snapshot | ScanError | str) -> TypeGuard[Snapshot]:
    """Local snapshots only: their store is a table of paths; hub stores hold sessions."""
    return isinstance(entry, Snapshot) and isinstance(entry.store, LocalStore)


def affinity(snapshot: Snapshot) -> tuple[tuple[str, int], ...]:
    """Repositories with the same file names and sizes (copies, in practice) share a worker."""
    return tuple(sorted((f.path, f.size) for f in snapshot.files))


def submission_order(costs: Mapping[int, int], workers: int) -> list[int]:
    """Serial order, except that groups bigger than a worker's fair share go first.

    One big repository submitted last runs alone at the end while the other
    workers idle (a folder of unpacked packages: 16 s instead of 24 s); among
    many small ones the serial order measured faster. ``costs`` maps a group's
    first position to its expected cost; results are yielded in serial order
    either way.
    """
    share = sum(costs.values()) / (workers * 4)
    big = sorted((first for first in costs if costs[first] > share), key=lambda f: -costs[f])
    return big + [first for first in sorted(costs) if costs[first] <= share]


def _warm_up(analyzers: Sequence[str] | None) -> None:
    """Import the analyzers (and compile the YARA rules) once, before the workers fork."""
    from .analyzers import DEFAULT_ANALYZERS, load_analyzer

    for name in analyzers if analyzers is not None else DEFAULT_ANALYZERS:
        with contextlib.suppress(Exception):  # every scan reports its own load failure
            load_analyzer(name)


class _Parallel:
    """The local snapshots of ``plan`` on a pool of forked workers; ``results`` keeps plan order."""

    def __init__(
        self,
        plan: list[Snapshot | ScanError | str],
        job: _Job,
        workers: int,
        on_snapshot: Callable[[Snapshot], None] | None,
    ) -> None:
        self.plan = plan
        self.local = {i: e for i, e in enumerate(plan) if _crosses_processes(e)}
        self.job = job
        self.workers = workers
        self.on_snapshot = on_snapshot
        _warm_up(job.analyzers)
        # Forked now, while this process runs no other thread (a progress display
        # starts only once results are asked for).
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        pool.submit(int).result()  # with fork, the first submit starts every worker
        return pool

    def results(self, cache: AnalysisCache) -> Iterator[Item]:
        groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
        for index, snapshot in self.local.items():
            groups.setdefault(affinity(snapshot), []).append(index)
        futures: dict[int, Future[list[ScanResult]] | None] = {}
        members = {indexes[0]: indexes for indexes in groups.values()}  # first index -> group
        costs = {first: self._cost(indexes) for first, indexes in members.items()}
        for first in submission_order(costs, self.workers):
            futures[first] = self._submit(members[first])
        owner = {i: first for first, indexes in members.items() for i in indexes}
        done: dict[int, Item] = {}
        try:
            for index, entry in enumerate(self.plan):
                if index not in owner:  # errors, hub targets, snapshots that stay here
                    yield from _in_place(entry, self.job, cache, self.on_snapshot)
                    continue
                if index not in done:
                    done.update(self._collect(owner[index], members, futures))
                yield done.pop(index)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _cost(self, indexes: list[int]) -> int:
        """Expected scan cost of a group: its Python bytes (copies are cache hits)."""
        return sum(f.size for f in self.local[indexes[0]].files if f.path.endswith(".py"))

    def _submit(self, indexes: list[int]) -> Future[list[ScanResult]]:
        snapshots = [self.local[i] for i in indexes]
        if self.on_snapshot is not None:
            for snapshot in snapshots:
                self.on_snapshot(snapshot)
        return self.pool.submit(_scan_group, self.job, snapshots)

    def _collect(
        self,
        first: int,
        members: dict[int, list[int]],
        futures: dict[int, Future[list[ScanResult]] | None],
    ) -> dict[int, Item]:
        indexes = members[first]
        future = futures[first]
        if future is None:  # its pool died before it finished
            return self._alone(indexes)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return dict(zip(indexes, future.result()))
        except BrokenProcessPool:
            self._recover(futures)
            return self._alone(indexes)
        except Exception as exc:  # the engine promises not to raise; if it does, say so
            return {i: self._failure(i, f"scan failed in a worker: {exc!r}") for i in indexes}

    def _recover(self, futures: dict[int, Future[list[ScanResult]] | None]) -> None:
        """A worker died: every unfinished group will be redone alone, in a fresh pool."""
        for first, future in futures.items():
            if future is not None and not _succeeded(future):
                futures[first] = None
        self._restart()

    def _restart(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._new_pool()

    def _alone(self, indexes: list[int]) -> dict[int, Item]:
        from concurrent.futures.process import BrokenProcessPool

        results: dict[int, Item] = {}
        for index in indexes:
            try:
                alone = [self.local[index]]
                results[index] = self.pool.submit(_scan_group, self.job, alone).result()[0]
            except BrokenProcessPool:
                self._restart()
                message = "the scan crashed its worker process (native crash or out of memory)"
                results[index] = self._failure(index, message)
        return results

    def _failure(self, index: int, message: str) -> ScanError:
        snapshot = self.local[index]
        return ScanError(snapshot.location or snapshot.repo_id, "scan", message, "worker-crash")


def _succeeded(future: Future[list[ScanResult]]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
