"""Resource bounds: each hostile shape becomes a reported error and the scan finishes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers import REGISTRY
from loadguard.analyzers.base import AnalysisContext, AnalyzerOutput
from loadguard.engine import scan_snapshot
from loadguard.limits import Limits
from loadguard.model import FileEntry, FileKind
from loadguard.sources import iter_snapshots
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]


class SlowAnalyzer:
    name = "slow"
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return entry.path.endswith(".py")

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a hostile file that makes analysis spin
            pass
        return AnalyzerOutput()


class GreedyAnalyzer:
    name = "greedy"
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return True

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        with ctx.snapshot.store.open(entry.path) as stream:
            while stream.read(1 << 16):
                pass
        return AnalyzerOutput()


@pytest.fixture
def test_analyzers(monkeypatch: pytest.MonkeyPatch) -> None:
    sys.modules.setdefault("test_hardening_bounds", sys.modules[__name__])
    monkeypatch.setitem(REGISTRY, "slow", f"{__name__}:SlowAnalyzer")
    monkeypatch.setitem(REGISTRY, "greedy", f"{__name__}:GreedyAnalyzer")


def test_per_file_time_limit(make_repo: MakeRepo, test_analyzers: None) -> None:
    root = make_repo({"hubconf.py": "def m(): pass\n"})
    started = time.monotonic()
    result = scan_snapshot(
        snapshot_from_folder(root), analyzers=["slow"], limits=Limits(per_file_seconds=0.5)
    )
    assert time.monotonic() - started < 10
    assert [e.kind for e in result.errors] == ["timeout"]


def test_total_read_budget_per_repo(make_repo: MakeRepo, test_analyzers: None) -> None:
    root = make_repo({f"w{i}.bin": b"\x00" * 50_000 for i in range(4)} | {"config.json": {}})
    result = scan_snapshot(
        snapshot_from_folder(root), analyzers=["greedy"], limits=Limits(max_repo_bytes_read=120_000)
    )
    assert any(e.kind == "read-budget" for e in result.errors)


def test_ten_thousand_deep_expression(make_repo: MakeRepo) -> None:
    deep = "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
    chain = "y = " + "-" * 100_000 + "1\n"
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoModel": "deep.M", "AutoConfig": "neg.C"}},
            "deep.py": deep,
            "neg.py": chain,
        }
    )
    result = scan_snapshot(snapshot_from_folder(root))
    kinds = {e.path: e.kind for e in result.errors}
    assert kinds.get("deep.py") in ("too-deep", "parse")


def test_hundred_thousand_line_file(make_repo: MakeRepo) -> None:
    body = "".join(f"v{i} = {i}\n" for i in range(100_000)) + "class M: pass\n"
    root = make_repo({"config.json": {"auto_map": {"AutoModel": "big.M"}}, "big.py": body})
    result = scan_snapshot(snapshot_from_folder(root))
    assert result.plan.executed_files == ("big.py",)
    assert not result.errors


def test_hundred_thousand_files_are_bounded(tmp_path: Path) -> None:
    root = tmp_path / "many"
    (root / "d").mkdir(parents=True)
    (root / "config.json").write_text("{}")
    for index in range(100_000):
        (root / "d" / f"f{index}").touch()
    (snapshot,) = iter_snapshots(str(root), Limits(max_files=50_000))
    assert len(snapshot.files) == 50_000
    assert any(e.kind == "limit" for e in snapshot.skipped)


def test_symlinks_to_etc_and_ssh_are_never_opened(make_repo: MakeRepo, tmp_path: Path) -> None:
    fake_ssh = tmp_path / "home" / ".ssh"
    fake_ssh.mkdir(parents=True)
    (fake_ssh / "id_rsa").write_text("canary-key")
    root = make_repo({"config.json": {"auto_map": {"AutoModel": "m.M"}}})
    (root / "m.py").symlink_to(fake_ssh / "id_rsa")
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "sshdir").symlink_to(fake_ssh)
    opened: list[str] = []

    def hook(event: str, args: tuple[object, ...]) -> None:
        if (
            event == "open"
            and args
            and isinstance(args[0], str)
            and ("canary" in args[0] or args[0].startswith(("/etc/passwd", str(fake_ssh))))
        ):
            opened.append(args[0])

    sys.addaudithook(hook)
    result = scan_snapshot(snapshot_from_folder(root))
    assert opened == []
    escapes = {e.path for e in result.errors if e.kind == "symlink-escape"}
    assert escapes == {"m.py", "passwd.py", "sshdir"}


def test_long_names_and_device_files(make_repo: MakeRepo) -> None:
    root = make_repo({"config.json": {}, ("a" * 250) + ".py": "x = 1\n"})
    try:
        os.mknod(root / "dev.py", 0o600 | 0o020000, os.makedev(1, 3))  # char device /dev/null
    except PermissionError:
        pytest.skip("creating a device node needs root")
    (snapshot,) = iter_snapshots(str(root))
    assert snapshot.has(("a" * 250) + ".py")
    assert {e.path: e.kind for e in snapshot.skipped}["dev.py"] == "not-regular"


def test_directory_nesting_is_bounded(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    current = root
    for index in range(80):
        current = current / f"d{index}"
    current.mkdir(parents=True)
    (root / "config.json").write_text("{}")
    (current / "x.py").write_text("")
    (snapshot,) = iter_snapshots(str(root))
    assert any(e.kind == "limit" for e in snapshot.skipped)
