"""The public Python API. The CLI is a thin layer over these functions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from .engine import AnalysisCache, MemoryCache, scan_snapshot
from .errors import SourceError
from .limits import DEFAULT_LIMITS, Limits
from .model import ScanError, ScanResult, Snapshot
from .sources import iter_snapshots


def iter_scan(
    targets: str | Sequence[str],
    *,
    analyzers: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cache: AnalysisCache | None = None,
    options: Mapping[str, object] | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    jobs: int = 1,
) -> Iterator[ScanResult | ScanError]:
    """Scan every repository the targets name, yielding results in target order.

    A target that cannot be opened yields a ``ScanError`` (stage ``source``);
    the remaining targets are still scanned. With ``jobs`` > 1, local
    repositories are scanned by that many worker processes (``parallel``);
    ``on_snapshot`` still runs here, before the snapshot's result is yielded.
    """
    cache = cache if cache is not None else MemoryCache()
    names = [targets] if isinstance(targets, str) else list(targets)
    if jobs > 1:
        from .parallel import parallel_scan

        return parallel_scan(
            names,
            jobs=jobs,
            analyzers=analyzers,
            limits=limits,
            cache=cache,
            options=options or {},
            on_snapshot=on_snapshot,
        )
    return serial_scan(names, analyzers, limits, cache, options, on_snapshot)


def serial_scan(
    targets: list[str],
    analyzers: Sequence[str] | None,
    limits: Limits,
    cache: AnalysisCache,
    options: Mapping[str, object] | None,
    on_snapshot: Callable[[Snapshot], None] | None,
) -> Iterator[ScanResult | ScanError]:
    """``iter_scan`` in this process, one target after the other."""
    for target in targets:
        try:
            for snapshot in iter_snapshots(target, limits):
                if on_snapshot is not None:
                    on_snapshot(snapshot)
                yield scan_snapshot(
                    snapshot, analyzers=analyzers, limits=limits, cache=cache, options=options
                )
        except SourceError as exc:
            yield ScanError(target, "source", str(exc), "source")


def scan(target: str | Sequence[str], **options: object) -> list[ScanResult]:
    """Scan and return all results; raises ``SourceError`` if a target cannot be read."""
    results: list[ScanResult] = []
    for item in iter_scan(target, **options):  # type: ignore[arg-type]
        if isinstance(item, ScanError):
            raise SourceError(item.message)
        results.append(item)
    return results
