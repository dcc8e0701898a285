"""Scanning a folder of repositories on worker processes: same results, same order, crashes contained."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

import loadguard.analyzers as analyzers_registry
from loadguard.analyzers.base import AnalysisContext, AnalyzerOutput
from loadguard.api import iter_scan
from loadguard.model import FileEntry, FileKind, ScanError, ScanResult, Snapshot
from loadguard.parallel import can_fork

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "repos"

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes are forked")


def comparable(item: ScanResult | ScanError) -> object:
    if isinstance(item, ScanError):
        return item
    return dataclasses.replace(item, stats=())  # timings and cache hits differ by design


def copy_examples(tmp_path: Path) -> Path:
    root = tmp_path / "repos"
    shutil.copytree(EXAMPLES, root)
    shutil.copytree(
        root / "hf-tokenizer-stealer", root / "zz-stealer-copy"
    )  # a byte-identical copy
    return root


def test_workers_give_the_serial_results_in_the_serial_order(tmp_path: Path) -> None:
    root = copy_examples(tmp_path)
    targets = [str(root), str(tmp_path / "missing"), str(root / "hf-builtin-bert")]
    seen_serial: list[str] = []
    seen_parallel: list[str] = []
    serial = list(iter_scan(targets, on_snapshot=lambda s: seen_serial.append(s.location)))
    parallel = list(
        iter_scan(targets, jobs=2, on_snapshot=lambda s: seen_parallel.append(s.location))
    )
    assert [comparable(i) for i in parallel] == [comparable(i) for i in serial]
    assert sorted(seen_parallel) == sorted(seen_serial)  # every snapshot, in this process
    assert isinstance(parallel[len(os.listdir(root))], ScanError)  # the missing target, in place
    assert any(i.verdict.value != "clean" for i in parallel if isinstance(i, ScanResult))


def test_a_single_repository_is_scanned_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loadguard.parallel as parallel

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker pool for one repository")

    monkeypatch.setattr(parallel._Parallel, "__init__", no_pool)
    results = list(iter_scan(str(EXAMPLES / "hf-tokenizer-stealer"), jobs=4))
    assert len(results) == 1 and isinstance(results[0], ScanResult)


class WorkerKiller:
    """Test analyzer: ends its process on a file named KILL, as a native crash would."""

    name = "killer"
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return entry.path == "KILL"

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        os._exit(70)


def test_a_repository_that_kills_its_worker_costs_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(analyzers_registry.REGISTRY, "killer", f"{__name__}:WorkerKiller")
    root = tmp_path / "repos"
    for name in ("a-clean", "b-deadly", "c-clean", "d-clean"):
        repo = root / name
        repo.mkdir(parents=True)
        (repo / "config.json").write_text('{"model_type": "bert"}')
        (repo / "notes.txt").write_text(name)
    (root / "b-deadly" / "KILL").write_text("boom")
    items = list(iter_scan(str(root), jobs=2, analyzers=["native", "killer"]))
    assert [type(i) for i in items] == [ScanResult, ScanError, ScanResult, ScanResult]
    crash = items[1]
    assert isinstance(crash, ScanError) and crash.kind == "worker-crash"
    assert crash.path.endswith("b-deadly")


def test_snapshots_sent_to_workers_are_local(tmp_path: Path) -> None:
    from loadguard.parallel import _crosses_processes
    from loadguard.sources.local import snapshot_from_folder

    snapshot = snapshot_from_folder(EXAMPLES / "hf-builtin-bert")
    assert _crosses_processes(snapshot)
    remote = Snapshot(platform=snapshot.platform, repo_id="x", files=(), store=object())  # type: ignore[arg-type]
    assert not _crosses_processes(remote)
    assert not _crosses_processes("hf:org/name")


def test_big_repositories_are_submitted_first_the_rest_in_order() -> None:
    from loadguard.parallel import submission_order

    # a folder of packages: one giant, several small -> the giant starts at once
    assert submission_order({0: 5, 1: 7, 2: 90, 3: 6, 4: 80}, workers=2) == [2, 4, 0, 1, 3]
    # many similar repositories keep the serial order
    assert submission_order({i: 10 + i % 3 for i in range(20)}, workers=2) == list(range(20))
