"""Resource bounds: each hostile shape becomes a reported error and the scan finishes."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers import REGISTRY
from loadguard.analyzers.base import AnalysisContext, AnalyzerOutput
from loadguard.engine import scan_snapshot
from loadguard.limits import Limits
from loadguard.model import FileEntry, FileKind, ScanResult
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


def test_scans_outside_the_main_thread_run_without_the_time_limit(
    make_repo: MakeRepo, test_analyzers: None
) -> None:
    # Signals reach only the main thread: elsewhere the bound is off, and nothing fails.
    root = make_repo({"hubconf.py": "def m(): pass\n"})
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(
            scan_snapshot(
                snapshot_from_folder(root), analyzers=["native"], limits=Limits(per_file_seconds=1)
            )
        )
    )
    worker.start()
    worker.join(60)
    assert len(results) == 1
    result = results[0]
    assert isinstance(result, ScanResult) and result.errors == ()


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


@pytest.mark.parametrize(
    "shape",
    [" + 1" * 10_000, ".a" * 10_000, "()" * 10_000, "[0]" * 10_000, " + 'b'" * 10_000],
    ids=["binop", "attribute", "call", "subscript", "concat"],
)
def test_ten_thousand_deep_expressions_of_every_shape(shape: str) -> None:
    from loadguard.model import Verdict
    from loadguard.sources.memory import snapshot_from_mapping

    files = {
        "config.json": b'{"auto_map": {"AutoModel": "deep.M"}}',
        "deep.py": f"x = y{shape}\nexec(x)\nclass M: pass\n".encode(),
    }
    result = scan_snapshot(snapshot_from_mapping(files))
    assert ("deep.py", "too-deep") in {(e.path, e.kind) for e in result.errors}
    assert result.verdict is not Verdict.CLEAN  # unreadable code is never passed as clean


def test_pickle_nesting_bomb_is_walked_without_recursion() -> None:
    from loadguard.analyzers.pickle import findings_for_scans, scan_pickles

    depth = 1_000_000
    # ((((...)))) as a million nested lists: EMPTY_LIST then APPEND into the outer one
    data = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    (scan,) = scan_pickles(data)
    assert scan.error is None and scan.end == len(data)
    findings_for_scans("nest.pkl", (scan,))  # describing the value does not recurse either
    marks = b"\x80\x02" + b"(" * depth + b"."  # a million open MARKs
    (scan,) = scan_pickles(marks, limits=Limits(max_pickle_opcodes=10_000))
    assert scan.error is not None and "opcodes" in scan.error


def test_pickle_memo_bomb_is_bounded() -> None:
    from loadguard.analyzers.pickle import scan_pickles

    data = b"\x80\x04N" + b"\x94" * 2_000_000 + b"."  # MEMOIZE two million times
    (scan,) = scan_pickles(data, limits=Limits(max_pickle_memo=100_000))
    assert scan.error is not None and "memo" in scan.error


def _stored_zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_zip_absolute_member_and_total_limits(tmp_path: Path) -> None:
    blob = os.urandom(1 << 20)  # incompressible: only the absolute limits can stop it
    path = tmp_path / "repo.zip"
    path.write_bytes(
        _stored_zip({"r/config.json": b"{}", **{f"r/w{i}.bin": blob for i in range(4)}})
    )
    (snapshot,) = iter_snapshots(str(path), Limits(max_archive_member_bytes=1 << 19))
    assert {e.path for e in snapshot.skipped if e.kind == "zip-bomb"} == {
        f"r/w{i}.bin" for i in range(4)
    }
    (snapshot,) = iter_snapshots(str(path), Limits(max_archive_total_bytes=(5 << 20) // 2))
    assert len([e for e in snapshot.skipped if e.kind == "zip-bomb"]) == 2  # the 3rd and 4th


def test_zip_member_lying_about_its_size_is_not_inflated(tmp_path: Path) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("r/config.json", b"{}")
        archive.writestr("r/m.py", b"x = 1\n" * 2_000_000)  # 12 MB, deflates ~1000x
    raw = bytearray(out.getvalue())
    # rewrite the declared size (central directory and local header) to 100 bytes
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):
        at = raw.find(sig, raw.find(b"r/m.py") - 60 if sig == b"PK\x03\x04" else 0)
        while at != -1:
            name_off = at + (46 if sig == b"PK\x01\x02" else 30)
            if raw[name_off : name_off + 6] == b"r/m.py":
                size_off = at + (24 if sig == b"PK\x01\x02" else 22)
                raw[size_off : size_off + 4] = (100).to_bytes(4, "little")
            at = raw.find(sig, at + 4)
    path = tmp_path / "liar.zip"
    path.write_bytes(bytes(raw))
    (snapshot,) = iter_snapshots(str(path))
    result = scan_snapshot(snapshot)  # completes; nothing inflates past the declared size
    assert result.snapshot.repo_id


PEAK_RSS_CAP_MIB = 768  # documented in docs/security.md (the AST of big.py is most of it)


def test_peak_memory_of_a_hostile_scan_stays_under_the_cap(tmp_path: Path) -> None:
    """A repo of large and hostile files scanned in a child; its ru_maxrss is bounded."""
    import subprocess

    root = tmp_path / "big"
    root.mkdir()
    (root / "config.json").write_text('{"auto_map": {"AutoModel": "big.M"}}')
    (root / "big.py").write_text(
        "".join(f"v{i} = 'x' * {i}\n" for i in range(100_000)) + "class M: pass\n"
    )
    with open(root / "model.safetensors", "wb") as f:  # 1 GiB sparse: header says so
        header = b'{"w": {"dtype": "F32", "shape": [268435456], "data_offsets": [0, 1073741824]}}'
        f.write(len(header).to_bytes(8, "little") + header)
        f.truncate(8 + len(header) + (1 << 30))
    with open(root / "pytorch_model.bin", "wb") as f:  # a 200 MB pickle of one BINBYTES
        f.write(b"\x80\x04B" + (200 << 20).to_bytes(4, "little"))
        f.truncate(7 + (200 << 20))
        f.seek(0, 2)
        f.write(b".")
    (root / "lines.txt").write_bytes(b"a" * (64 << 20))
    script = (
        "import resource, sys\n"
        "from loadguard.api import scan\n"
        "(r,) = scan(sys.argv[1])\n"
        "print(len(r.findings), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak_mib = int(proc.stdout.split()[-1]) / 1024  # ru_maxrss is KiB on Linux
    print(f"peak RSS {peak_mib:.0f} MiB")
    assert peak_mib < PEAK_RSS_CAP_MIB


def test_folded_values_of_one_module_are_bounded_in_total() -> None:
    """Regression: 100k lines of ``v = 'x' * 99999`` made the de-obfuscator hold ~5 GB."""
    import ast

    from loadguard.analyzers.deobfuscate import (
        MAX_MODULE_VALUES,
        MAX_VALUE,
        Deobfuscator,
        Scope,
    )

    lines = [f"v{i} = 'x' * {MAX_VALUE}" for i in range(100)]
    tree = ast.parse("\n".join(lines))
    deob, scope = Deobfuscator(), Scope()
    kept = 0
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        deob.bind_value(node.targets[0].id, node.value, scope)
        kept += scope.lookup_const(node.targets[0].id) is not None
    assert 0 < kept <= MAX_MODULE_VALUES // MAX_VALUE
    small = ast.parse("'sy' + 'stem'").body[0]
    assert isinstance(small, ast.Expr)
    folded = deob.fold(small.value, scope)  # spending the budget does not hide short names
    assert folded is not None and folded.value == "system"


def test_in_memory_paths_that_leave_the_repository_are_refused() -> None:
    from loadguard.sources.memory import snapshot_from_mapping

    files = {
        "config.json": b"{}",
        "/etc/passwd": b"root:x:0:0",
        "../outside.py": b"import os\n",
        "a/./b.py": b"",
        "ok/model.py": b"x = 1\n",
    }
    snapshot = snapshot_from_mapping(files)
    assert {f.path for f in snapshot.files} == {"config.json", "ok/model.py"}
    assert {(e.path, e.kind) for e in snapshot.skipped} == {
        ("/etc/passwd", "unsafe-path"),
        ("../outside.py", "unsafe-path"),
        ("a/./b.py", "unsafe-path"),
    }
    result = scan_snapshot(snapshot)
    assert {e.path for e in result.errors} >= {"/etc/passwd", "../outside.py"}
