"""ModelScope, OpenCSG and PyTorch Hub sources against the local fake hub."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

import pytest

from hubrepos import EVIL_PICKLE, custom_code_repo, torch_zip
from hubserver import HubServer
from loadguard.engine import scan_snapshot
from loadguard.errors import SourceError
from loadguard.model import Platform
from loadguard.sources import iter_snapshots, remote
from loadguard.sources.modelscope import ms_snapshot
from loadguard.sources.opencsg import csg_snapshot
from loadguard.sources.torch_hub import parse_hub_spec, torch_hub_snapshot

HUBCONF = b"dependencies = ['torch']\n\ndef model(pretrained=False):\n    return None\n"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    server = HubServer().start()
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", server.url + "/modelscope")
    monkeypatch.setenv("CSGHUB_DOMAIN", server.url)
    monkeypatch.setenv("LOADGUARD_GITHUB_API", server.url + "/github")
    monkeypatch.setenv("LOADGUARD_GITHUB_URL", server.url + "/github")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    monkeypatch.delenv("CSGHUB_TOKEN", raising=False)
    remote.set_retry_policy(remote.RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05))
    yield server
    remote.set_retry_policy(None)
    server.stop()


# --------------------------------------------------------------------------- torch hub


def test_hub_spec() -> None:
    assert parse_hub_spec("pytorch/vision:v0.10.0") == ("pytorch", "vision", "v0.10.0")
    assert parse_hub_spec("a/b") == ("a", "b", None)
    with pytest.raises(SourceError):
        parse_hub_spec("a/../b")


def test_torch_hub_main_then_master_like_torch(hub: HubServer) -> None:
    repo = hub.state.github.setdefault("owner/net", _gh("owner/net"))
    commit = repo.commit({"hubconf.py": HUBCONF, "net/model.py": b"import os\n"}, ref="master")
    snap = torch_hub_snapshot("owner", "net")
    assert snap.platform is Platform.TORCH_HUB
    assert snap.revision == commit
    assert snap.metadata["resolved_ref"] == "master"
    assert {f.path for f in snap.files} == {"hubconf.py", "net/model.py"}
    assert snap.read("hubconf.py", 1 << 20) == HUBCONF
    # archive fetched from the "codeload" host after the redirect
    assert any(p.startswith("/codeload/") for _, p, _ in hub.state.log)


def test_torch_hub_ref_is_pinned_and_scanned(hub: HubServer) -> None:
    repo = hub.state.github.setdefault("owner/net", _gh("owner/net"))
    repo.commit({"hubconf.py": HUBCONF}, ref="main")
    tagged = repo.commit({"hubconf.py": HUBCONF + b"import os\nos.system('true')\n"}, ref="v1")
    (snap,) = list(iter_snapshots("hub:owner/net:v1"))
    assert snap.revision == tagged
    result = scan_snapshot(snap)
    assert result.plan.runs_repo_code
    assert "hubconf.py" in result.plan.executed_files


def test_torch_hub_missing_ref_and_repo(hub: HubServer) -> None:
    hub.state.github["owner/net"] = _gh("owner/net")
    hub.state.github["owner/net"].commit({"hubconf.py": HUBCONF}, ref="main")
    with pytest.raises(SourceError, match="not found"):
        torch_hub_snapshot("owner", "net", "nope")
    with pytest.raises(SourceError, match="not found"):
        torch_hub_snapshot("owner", "gone")


def test_torch_hub_truncated_archive_is_an_error(hub: HubServer) -> None:
    hub.state.github["owner/net"] = _gh("owner/net")
    hub.state.github["owner/net"].commit({"hubconf.py": HUBCONF * 1000}, ref="main")
    hub.state.fault(r"^/codeload/", "truncate", times=100)
    with pytest.raises(SourceError, match=r"truncated|network"):
        torch_hub_snapshot("owner", "net")


def test_torch_hub_zip_slip_member_is_refused(hub: HubServer) -> None:
    hub.state.github["owner/net"] = _gh("owner/net")
    hub.state.github["owner/net"].commit({"hubconf.py": HUBCONF, "../evil.py": b"x"}, ref="main")
    snap = torch_hub_snapshot("owner", "net")
    assert {f.path for f in snap.files} == {"hubconf.py"}
    assert any(e.kind == "unsafe-path" for e in snap.skipped)


def _gh(name: str):  # type: ignore[no-untyped-def]
    from hubserver import Repo

    return Repo(name, tags=["vision"])


# --------------------------------------------------------------------------- ModelScope


def test_modelscope_snapshot_pins_commit_and_ranges_weights(hub: HubServer) -> None:
    from hubserver import Repo

    repo = Repo("damo/model", tags=["nlp"], downloads=3)
    hub.state.modelscope["damo/model"] = repo
    files = {
        "configuration.json": b'{"framework": "pytorch", "task": "x"}',
        "pytorch_model.bin": torch_zip(EVIL_PICKLE, tensor_bytes=8 << 20),
    }
    commit = repo.commit(files, ref="master")
    (snap,) = list(iter_snapshots("ms:damo/model"))
    assert snap.platform is Platform.MODELSCOPE and snap.revision == commit
    assert snap.file("pytorch_model.bin").sha256 == repo.sha(commit, "pytorch_model.bin")  # type: ignore[union-attr]
    assert snap.metadata["tags"] == ["nlp"]
    assert snap.metadata["created_at"].startswith("2025-01-02")  # type: ignore[union-attr]
    with snap.store.open("pytorch_model.bin") as stream, zipfile.ZipFile(stream) as zf:
        assert zf.read("archive/data.pkl") == EVIL_PICKLE
    assert snap.metadata["bytes_fetched"] < 1 << 20  # type: ignore[operator]
    assert snap.read("configuration.json", 100).startswith(b"{")


def test_modelscope_errors(hub: HubServer) -> None:
    from hubserver import Repo

    with pytest.raises(SourceError, match="not found"):
        ms_snapshot("damo/gone")
    repo = Repo("damo/model")
    hub.state.modelscope["damo/model"] = repo
    repo.commit({"configuration.json": b"{}"}, ref="master")
    with pytest.raises(SourceError, match="revision not found"):
        ms_snapshot("damo/model", "v9")
    hub.state.fault(r"/repo$", "swap", times=10, swap_with=b"[]")
    snap = ms_snapshot("damo/model")
    with pytest.raises(OSError, match=r"sha256|bytes"):
        snap.read("configuration.json", 100)
    assert snap.metadata["partial"] is True


def test_modelscope_rate_limited_listing_is_retried(hub: HubServer) -> None:
    from hubserver import Repo

    repo = Repo("damo/model")
    hub.state.modelscope["damo/model"] = repo
    repo.commit({"configuration.json": b"{}"}, ref="master")
    hub.state.fault(r"/repo/files$", status=429, times=2, retry_after="0")
    assert ms_snapshot("damo/model").file("configuration.json") is not None


# --------------------------------------------------------------------------- OpenCSG


def test_opencsg_uses_the_hub_compatible_api(hub: HubServer) -> None:
    from hubserver import Repo

    repo = Repo("OpenCSG/model", tags=["text-generation"])
    hub.state.opencsg["OpenCSG/model"] = repo
    commit = repo.commit(custom_code_repo())
    (snap,) = list(iter_snapshots("csg:OpenCSG/model"))
    assert snap.platform is Platform.OPENCSG and snap.revision == commit
    assert snap.read("modeling_foo.py", 1 << 20).startswith(b"import os")
    assert all(p.startswith("/csg/") for _, p, _ in hub.state.log if not p.startswith("/cdn/"))
    result = scan_snapshot(snap)
    assert "modeling_foo.py" in result.plan.executed_files
    with pytest.raises(SourceError, match="not found"):
        csg_snapshot("OpenCSG/gone")


# --------------------------------------------------------------------------- OpenMMLab

MODEL_INDEX = b"Import:\n  - configs/rtmdet/metafile.yml\n  - configs/missing/metafile.yml\n"


def _metafile(url: str) -> bytes:
    return (
        "Collections:\n  - Name: RTMDet\n"
        "Models:\n"
        "  - Name: rtmdet_tiny\n"
        "    In Collection: RTMDet\n"
        "    Config: configs/rtmdet/rtmdet_tiny.py\n"
        "    Results:\n      - Task: Object Detection\n"
        f"    Weights: {url}\n"
        "  - Name: rtmdet_s\n"
        "    In Collection: RTMDet\n"
        "    Config: configs/rtmdet/rtmdet_s.py\n"
    ).encode()


def test_openmmlab_model_with_bases_and_ranged_checkpoint(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubserver import Repo

    monkeypatch.setenv("LOADGUARD_GITHUB_RAW", hub.url + "/raw")
    hub.state.files["rtmdet_tiny-78e30dcc.pth"] = torch_zip(EVIL_PICKLE, tensor_bytes=8 << 20)
    repo = Repo("open-mmlab/mmdetection")
    hub.state.github["open-mmlab/mmdetection"] = repo
    commit = repo.commit(
        {
            "model-index.yml": MODEL_INDEX,
            "configs/rtmdet/metafile.yml": _metafile(hub.url + "/files/rtmdet_tiny-78e30dcc.pth"),
            "configs/rtmdet/rtmdet_tiny.py": b"_base_ = ['./rtmdet_s.py', '../_base_/rt.py']\n",
            "configs/rtmdet/rtmdet_s.py": b"custom_imports = dict(imports=['os'])\n",
            "configs/_base_/rt.py": b"model = dict(type='RTMDet')\n",
        },
        ref="main",
    )
    (snap,) = list(iter_snapshots("mmlab:mmdet/rtmdet_tiny"))
    assert snap.platform is Platform.OPENMMLAB and snap.revision == commit
    assert snap.repo_id == "mmdet/rtmdet_tiny"
    assert {f.path for f in snap.files} == {
        "model-index.yml",
        "configs/rtmdet/metafile.yml",
        "configs/rtmdet/rtmdet_tiny.py",
        "configs/rtmdet/rtmdet_s.py",
        "configs/_base_/rt.py",
        "checkpoints/rtmdet_tiny-78e30dcc.pth",
    }
    assert snap.metadata["tags"] == ["RTMDet", "Object Detection"]
    with snap.store.open("checkpoints/rtmdet_tiny-78e30dcc.pth") as s, zipfile.ZipFile(s) as zf:
        assert zf.read("archive/data.pkl") == EVIL_PICKLE
    assert snap.metadata["bytes_fetched"] < 1 << 20  # type: ignore[operator]
    result = scan_snapshot(snap)
    assert {"configs/rtmdet/rtmdet_tiny.py", "configs/_base_/rt.py"} <= set(
        result.plan.executed_files
    )

    every = list(iter_snapshots("mmlab:mmdet"))
    assert [s.repo_id for s in every] == ["mmdet/rtmdet_tiny", "mmdet/rtmdet_s"]
    with pytest.raises(SourceError, match="no model or config"):
        list(iter_snapshots("mmlab:mmdet/nope"))
    with pytest.raises(SourceError, match="unknown OpenMMLab package"):
        list(iter_snapshots("mmlab:notapackage"))


def test_openmmlab_lock_checks_the_hash_the_checkpoint_name_promises(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import hashlib

    from cli_support import run_cli
    from hubserver import Repo
    from loadguard.provenance.lockfile import read_lock

    monkeypatch.setenv("LOADGUARD_GITHUB_RAW", hub.url + "/raw")
    weights = torch_zip(tensor_bytes=1 << 20)
    good = f"tiny-{hashlib.sha256(weights).hexdigest()[:8]}.pth"
    hub.state.files[good] = weights
    hub.state.files["tiny-deadbeef.pth"] = weights
    repo = Repo("open-mmlab/mmdetection")
    hub.state.github["open-mmlab/mmdetection"] = repo
    index = b"Import:\n  - configs/m/metafile.yml\n"
    meta = (
        "Models:\n"
        f"  - Name: good\n    Config: configs/m/good.py\n    Weights: {hub.url}/files/{good}\n"
        f"  - Name: bad\n    Config: configs/m/bad.py\n    Weights: {hub.url}/files/tiny-deadbeef.pth\n"
    ).encode()
    repo.commit(
        {
            "model-index.yml": index,
            "configs/m/metafile.yml": meta,
            "configs/m/good.py": b"model = dict(type='X')\n",
            "configs/m/bad.py": b"model = dict(type='X')\n",
        },
        ref="main",
    )
    lock = f"{tmp_path}/loadguard.lock"
    out = run_cli("lock", "mmlab:mmdet/good", "--lock", lock)
    assert out.exit_code == 0, out.output
    (entry,) = read_lock(lock).models
    locked = {f.path: f.sha256 for f in entry.files}
    assert locked[f"checkpoints/{good}"] == hashlib.sha256(weights).hexdigest()
    out = run_cli("lock", "mmlab:mmdet/bad", "--lock", lock)
    assert out.exit_code == 2
    assert "as its name says" in out.output


def test_missing_client_libraries_name_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import sys

    from loadguard.errors import MissingExtra
    from loadguard.provenance.signing import sign_folder
    from loadguard.sources.huggingface import hf_snapshot

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(MissingExtra, match=r"pip install 'loadguard\[hf\]'"):
        hf_snapshot("org/model")
    monkeypatch.setitem(sys.modules, "modelscope_hub", None)
    with pytest.raises(MissingExtra, match=r"pip install 'loadguard\[modelscope\]'"):
        ms_snapshot("damo/model")
    monkeypatch.setitem(sys.modules, "model_signing", None)
    with pytest.raises(MissingExtra, match=r"pip install 'loadguard\[signing\]'"):
        sign_folder(str(tmp_path), private_key="k.pem")


def test_cli_scan_without_the_hub_client_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from cli_support import run_cli

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    out = run_cli("scan", "hf:org/model", "-q")
    assert out.exit_code == 2
    assert "loadguard[hf]" in out.output
    assert "Traceback" not in out.output


def test_github_rate_limit_is_retried_then_reported(hub: HubServer) -> None:
    hub.state.github["owner/net"] = _gh("owner/net")
    commit = hub.state.github["owner/net"].commit({"hubconf.py": HUBCONF}, ref="main")
    hub.state.fault(r"^/github/repos/owner/net/commits/", "github-rate-limit", times=1)
    assert torch_hub_snapshot("owner", "net").revision == commit
    hub.state.fault(r"^/github/repos/owner/net/commits/", "github-rate-limit", times=100)
    with pytest.raises(SourceError, match="rate limited"):
        torch_hub_snapshot("owner", "net")


def test_github_token_is_not_sent_past_the_redirect(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret")
    hub.state.github["owner/net"] = _gh("owner/net")
    hub.state.github["owner/net"].commit({"hubconf.py": HUBCONF}, ref="main")
    torch_hub_snapshot("owner", "net")
    assert any(p.startswith("/github/repos/") for p in hub.state.authorised_paths)
    assert any(p.startswith("/codeload/") for _, p, _ in hub.state.log)
    assert not [p for p in hub.state.authorised_paths if p.startswith("/codeload/")]


def test_hub_target_among_local_folders_is_scanned_in_place_with_workers(
    hub: HubServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from loadguard.api import iter_scan
    from loadguard.model import ScanResult

    repo = hub.state.github.setdefault("owner/net", _gh("owner/net"))
    repo.commit({"hubconf.py": HUBCONF + b"import os\nos.system('true')\n"}, ref="main")
    folders = tmp_path / "repos"
    for name in ("a", "b", "c"):
        (folders / name).mkdir(parents=True)
        (folders / name / "config.json").write_text('{"model_type": "bert"}')
    targets = [str(folders / "a"), "hub:owner/net", str(folders / "b"), str(folders / "c")]
    serial = list(iter_scan(targets))
    parallel = list(iter_scan(targets, jobs=2))
    assert all(isinstance(i, ScanResult) for i in parallel)
    assert [i.snapshot.repo_id for i in parallel] == [i.snapshot.repo_id for i in serial]  # type: ignore[union-attr]
    assert parallel[1].plan.runs_repo_code  # type: ignore[union-attr]
