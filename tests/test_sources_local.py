"""Sources: trees of repos, the HF cache layout, archives, and hostile file systems."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.engine import scan_snapshot
from loadguard.errors import SourceError
from loadguard.limits import Limits
from loadguard.model import Platform
from loadguard.sources import iter_snapshots
from loadguard.sources.local import list_folder

MakeRepo = Callable[..., Path]


def test_tree_of_repos_yields_one_snapshot_per_repo(tmp_path: Path) -> None:
    for name in ("a", "b/c"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "config.json").write_text("{}")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "config.json").write_text("{}")  # inside repo a, not a repo
    ids = sorted(s.repo_id for s in iter_snapshots(str(tmp_path)))
    assert ids == ["a", "c"]


def test_no_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no model repository"):
        list(iter_snapshots(str(tmp_path / "empty")))
    with pytest.raises(SourceError, match="no such file"):
        list(iter_snapshots(str(tmp_path / "missing")))


def test_hf_cache_layout_recovers_repo_and_commit(tmp_path: Path) -> None:
    repo = tmp_path / "hub" / "models--org--name"
    commit = "a" * 40
    blob = "b" * 64
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / blob).write_text('{"auto_map": {"AutoModel": "m.M"}}')
    (repo / "blobs" / "c" * 1).write_text("class M: pass\n") if False else None
    (repo / "blobs" / ("c" * 40)).write_text("class M: pass\n")
    snap_dir = repo / "snapshots" / commit
    snap_dir.mkdir(parents=True)
    (snap_dir / "config.json").symlink_to(f"../../blobs/{blob}")
    (snap_dir / "m.py").symlink_to(f"../../blobs/{'c' * 40}")
    (snap_dir / "stolen").symlink_to("/etc/hostname")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (snapshot,) = iter_snapshots(str(tmp_path))  # the HF_HOME folder holding hub/
    assert (snapshot.repo_id, snapshot.revision) == ("org/name", commit)
    assert snapshot.platform is Platform.HUGGINGFACE and not snapshot.platform_inferred
    assert snapshot.file("config.json").sha256 == blob  # type: ignore[union-attr]
    assert not snapshot.has("stolen")
    assert any(e.kind == "symlink-escape" for e in snapshot.skipped)
    assert snapshot.metadata["refs"] == ["main"]
    result = scan_snapshot(snapshot)
    assert result.plan.executed_files == ("m.py",)


def test_symlink_escape_loop_fifo_and_bad_names(make_repo: MakeRepo, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    root = make_repo({"config.json": {}, "ok.py": "x = 1\n"})
    (root / "escape.py").symlink_to(secret)
    (root / "loop").symlink_to(root)
    os.mkfifo(root / "pipe.py")
    (root / os.fsdecode(b"caf\xe9.py")).write_text("y = 2\n")
    (snapshot,) = iter_snapshots(str(root))
    kinds = {e.path: e.kind for e in snapshot.skipped}
    assert kinds["escape.py"] == "symlink-escape"
    assert kinds["pipe.py"] == "not-regular"
    assert kinds["loop"] == "symlink-loop"
    assert snapshot.has(os.fsdecode(b"caf\xe9.py"))
    result = scan_snapshot(snapshot)  # completes; errors are on the result
    assert {"symlink-escape", "not-regular"} <= {e.kind for e in result.errors}


def test_a_directory_linked_inside_the_repo_is_listed_under_both_names(
    make_repo: MakeRepo,
) -> None:
    # torch.hub puts the repo on sys.path: `import pkg.payload` runs hidden/payload.py.
    root = make_repo(
        {
            "hubconf.py": "from pkg.payload import model\n",
            "hidden/payload.py": "import os\nos.system('true')\ndef model(): pass\n",
        }
    )
    (root / "pkg").symlink_to("hidden", target_is_directory=True)
    (snapshot,) = iter_snapshots(str(root))
    assert snapshot.has("pkg/payload.py") and snapshot.has("hidden/payload.py")
    assert not snapshot.skipped
    result = scan_snapshot(snapshot)
    assert any(f.location.path == "pkg/payload.py" and f.reachable for f in result.findings)


def test_links_that_multiply_folders_are_bounded(make_repo: MakeRepo) -> None:
    # Ten links per level to the next level: 10**6 paths without a single file.
    root = make_repo({"config.json": {}})
    for level in range(6):
        (root / f"l{level}").mkdir()
    for level in range(5):
        for i in range(10):
            (root / f"l{level}" / f"to{i}").symlink_to(root / f"l{level + 1}")
    entries, _, skipped = list_folder(root, limits=Limits(max_files=500))
    assert [e.kind for e in skipped] == ["limit"]
    assert [e.path for e in entries] == ["config.json"]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_zip_archive_in_place_with_traversal_and_bomb(tmp_path: Path) -> None:
    bomb = b"\x00" * (8 << 20)  # compresses ~1000x: over the ratio limit
    data = _zip(
        {
            "repo-main/hubconf.py": b"def m(): pass\n",
            "repo-main/models/x.py": b"",
            "../evil.py": b"import os\n",
            "repo-main/zeros.bin": bomb,
        }
    )
    path = tmp_path / "repo.zip"
    path.write_bytes(data)
    (snapshot,) = iter_snapshots(str(path))
    assert snapshot.repo_id == "repo-main"
    assert {f.path for f in snapshot.files} == {"hubconf.py", "models/x.py"}
    kinds = {e.kind for e in snapshot.skipped}
    assert {"path-traversal", "zip-bomb"} <= kinds
    assert scan_snapshot(snapshot).plan.loaders[0].value == "torch.hub"
    assert not (tmp_path / "evil.py").exists()


def test_tar_archive_refuses_links_and_absolute_paths(tmp_path: Path) -> None:
    path = tmp_path / "repo.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in {"r/config.json": b"{}", "/etc/passwd": b"x"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("r/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        archive.addfile(link)
    (snapshot,) = iter_snapshots(str(path))
    assert [f.path for f in snapshot.files] == ["config.json"]
    assert {"path-traversal", "symlink"} <= {e.kind for e in snapshot.skipped}


def test_unparseable_python_is_reported_and_scan_goes_on(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {
                "auto_map": {
                    "AutoModel": "py2.M",
                    "AutoConfig": "nul.C",
                    "AutoTokenizer": "latin.T",
                }
            },
            "py2.py": "print 'hello'\nclass M: pass\n",
            "nul.py": b"class C: pass\x00\n",
            "latin.py": b"s = '\xe9'\nclass T: pass\n",
            "ok.py": "class Fine: pass\n",
        }
    )
    (snapshot,) = iter_snapshots(str(root))
    result = scan_snapshot(snapshot)
    kinds = {(e.path, e.kind) for e in result.errors}
    assert ("py2.py", "python2") in kinds
    assert ("nul.py", "parse") in kinds
    assert ("latin.py", "parse") in kinds


def test_oversized_file_is_an_error(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"config.json": {"auto_map": {"AutoModel": "big.M"}}, "big.py": "x = 1\n" * 10}
    )
    from loadguard.limits import Limits

    (snapshot,) = iter_snapshots(str(root))
    result = scan_snapshot(snapshot, limits=Limits(max_text_bytes=20))
    assert any(e.path == "big.py" and e.kind == "unreadable" for e in result.errors)


def test_corrupt_zip_member_header_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """Regression (fuzz/zip): a broken local header raised BadZipFile out of the scan."""
    data = bytearray(_zip({"r/config.json": b"{}", "r/m.py": b"x = 1\n"}))
    data[data.index(b"PK\x03\x04", 4)] = 0  # corrupt the second member's local header
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(data))
    (snapshot,) = iter_snapshots(str(path))
    result = scan_snapshot(snapshot)
    assert result.file_count == 2


def test_truncated_tar_keeps_listed_members(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name in ("r/config.json", "r/b.py"):
            info = tarfile.TarInfo(name)
            info.size = 600
            archive.addfile(info, io.BytesIO(b"{" + b" " * 598 + b"}"))
    path = tmp_path / "cut.tar"
    path.write_bytes(buf.getvalue()[:1500])
    snapshots = list(iter_snapshots(str(path)))
    assert (snapshots and any(e.kind == "corrupt" for s in snapshots for e in s.skipped)) or any(
        e.kind == "unreadable" for s in snapshots for e in scan_snapshot(s).errors
    )


def test_unsupported_zip_flags_are_an_error(tmp_path: Path) -> None:
    """Regression (fuzz/zip): flag bit 5 raised NotImplementedError out of the scan."""
    data = bytearray(_zip({"r/config.json": b"{}"}))
    header = data.index(b"PK\x01\x02")  # central directory: general purpose flags at +8
    data[header + 8] |= 0x20
    path = tmp_path / "flags.zip"
    path.write_bytes(bytes(data))
    (snapshot,) = iter_snapshots(str(path))
    scan_snapshot(snapshot)


def test_unsupported_zip_version_is_a_source_error(tmp_path: Path) -> None:
    """Regression (fuzz/zip): 'zip file version 19.0' raised NotImplementedError."""
    data = bytearray(_zip({"r/config.json": b"{}"}))
    header = data.index(b"PK\x01\x02")
    data[header + 5] = 190  # "version needed to extract" high byte region -> unsupported
    data[header + 6] = 190
    path = tmp_path / "version.zip"
    path.write_bytes(bytes(data))
    try:
        for snapshot in iter_snapshots(str(path)):
            scan_snapshot(snapshot)
    except SourceError as exc:
        assert "zip" in str(exc)
