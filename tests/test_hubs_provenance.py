from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import run_cli
from hubrepos import custom_code_repo, torch_zip, transformers_repo
from hubserver import HubServer
from loadguard.provenance.lockfile import LockError, read_lock
from loadguard.provenance.verify import check_remote, verify_lock
from loadguard.sources import remote


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    server = HubServer().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    remote.set_retry_policy(remote.RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05))
    yield server
    remote.set_retry_policy(None)
    server.stop()


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def run(*args: str) -> tuple[int, str]:
    result = run_cli(*args)
    return result.exit_code, result.output


def test_lock_and_verify_a_folder(tmp_path: Path) -> None:
    model = write(tmp_path / "model", transformers_repo(torch_zip()))
    lock_path = tmp_path / "loadguard.lock"
    code, out = run("lock", str(model), "--lock", str(lock_path))
    assert code == 0, out
    lock = read_lock(lock_path)
    (entry,) = lock.models
    assert {f.path for f in entry.files} == {
        "config.json",
        "README.md",
        "model.safetensors",
        "pytorch_model.bin",
    }
    assert entry.ruleset_version and entry.verdict
    assert json.loads(lock_path.read_text())["version"] == 1

    code, out = run("verify", "--lock", str(lock_path), str(model))
    assert code == 0, out

    data = bytearray((model / "pytorch_model.bin").read_bytes())
    data[100] ^= 1
    (model / "pytorch_model.bin").write_bytes(bytes(data))
    (model / "README.md").unlink()
    (model / "extra.py").write_text("print(1)\n")
    code, out = run("verify", "--lock", str(lock_path), str(model))
    assert code == 1
    assert "changed" in out and "pytorch_model.bin" in out
    assert "missing" in out and "README.md" in out
    assert "extra" in out and "extra.py" in out


def test_verify_rejects_bad_lock_files(tmp_path: Path) -> None:
    bad = tmp_path / "loadguard.lock"
    bad.write_text('{"version": 99, "models": []}')
    with pytest.raises(LockError, match="version"):
        read_lock(bad)
    bad.write_text("{not json")
    code, _out = run("verify", "--lock", str(bad), str(tmp_path))
    assert code == 2


def test_lock_hub_model_then_verify_cache_and_moved_revision(
    hub: HubServer, tmp_path: Path
) -> None:
    import huggingface_hub

    repo = hub.state.repo("org/model", tags=["transformers"])
    commit = repo.commit(transformers_repo(torch_zip()))
    lock_path = tmp_path / "loadguard.lock"
    code, out = run("lock", "hf:org/model", "--lock", str(lock_path))
    assert code == 0, out
    (entry,) = read_lock(lock_path).models
    assert entry.revision == commit and entry.requested_revision == "main"
    assert {f.path: f.sha256 for f in entry.files} == {
        p: repo.sha(commit, p) for p in repo.commits[commit]
    }

    cache = tmp_path / "cache"
    huggingface_hub.snapshot_download("org/model", cache_dir=cache, endpoint=hub.url)
    code, out = run("verify", "--lock", str(lock_path), "--cache-dir", str(cache))
    assert code == 0, out

    # the branch moves on the hub: --remote notices; the cache's ref moving is noticed too
    new = repo.commit({**repo.commits[commit], "config.json": b'{"model_type": "evil"}'})
    lock = read_lock(lock_path)
    moved = check_remote(lock)
    assert [d.kind for d in moved] == ["revision-moved"]
    huggingface_hub.snapshot_download("org/model", cache_dir=cache, endpoint=hub.url)
    diffs = verify_lock(lock, cache_dir=cache)
    assert any(d.kind == "revision-moved" and new[:12] in d.detail for d in diffs)

    # a tampered blob keeps its name; verify hashes bytes, not names
    blob = next(
        (cache / "models--org--model" / "blobs").glob(repo.sha(commit, "pytorch_model.bin"))
    )
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x01")
    diffs = verify_lock(lock, [str(cache / "models--org--model")])
    assert any(d.kind == "changed" and d.path == "pytorch_model.bin" for d in diffs)


def test_partial_remote_read_is_never_locked(hub: HubServer, tmp_path: Path) -> None:
    hub.state.repo("org/model").commit(custom_code_repo())
    hub.state.fault(r"/resolve/.*/modeling_foo.py$", status=500, times=100)
    lock_path = tmp_path / "loadguard.lock"
    code, _out = run("lock", "hf:org/model", "--lock", str(lock_path))
    assert code == 2
    assert not lock_path.exists()


def test_sign_then_tamper_one_byte(tmp_path: Path) -> None:
    model = write(tmp_path / "model", transformers_repo(torch_zip()))
    keys = tmp_path / "keys"
    assert run("sign", "--keygen", str(keys))[0] == 0
    code, out = run("sign", str(model), "--key", str(keys / "model.key"))
    assert code == 0, out
    assert (model / "model.sig").is_file()
    code, out = run("verify", str(model), "--key", str(keys / "model.pub"))
    assert code == 0, out
    data = bytearray((model / "model.safetensors").read_bytes())
    data[-1] ^= 0x01
    (model / "model.safetensors").write_bytes(bytes(data))
    code, out = run("verify", str(model), "--key", str(keys / "model.pub"))
    assert code == 1
    assert "model.safetensors" in out


def test_signature_from_another_key_fails(tmp_path: Path) -> None:
    model = write(tmp_path / "model", {"config.json": b"{}"})
    run("sign", "--keygen", str(tmp_path / "a"))
    run("sign", "--keygen", str(tmp_path / "b"))
    assert run("sign", str(model), "--key", str(tmp_path / "a" / "model.key"))[0] == 0
    code, _ = run("verify", str(model), "--key", str(tmp_path / "b" / "model.pub"))
    assert code == 1


def test_moved_revisions_on_every_platform(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubserver import Repo

    monkeypatch.setenv("MODELSCOPE_ENDPOINT", hub.url + "/modelscope")
    monkeypatch.setenv("CSGHUB_DOMAIN", hub.url)
    monkeypatch.setenv("LOADGUARD_GITHUB_API", hub.url + "/github")
    monkeypatch.setenv("LOADGUARD_GITHUB_URL", hub.url + "/github")
    gh = hub.state.github["owner/net"] = Repo("owner/net")
    gh.commit({"hubconf.py": b"def model():\n    return None\n"}, ref="main")
    ms = hub.state.modelscope["damo/m"] = Repo("damo/m")
    ms.commit({"configuration.json": b"{}"}, ref="master")
    csg = hub.state.opencsg["ns/m"] = Repo("ns/m")
    csg.commit({"config.json": b"{}"})
    lock_path = tmp_path / "loadguard.lock"
    code, out = run("lock", "hub:owner/net", "ms:damo/m", "csg:ns/m", "--lock", str(lock_path))
    assert code == 0, out
    lock = read_lock(lock_path)
    assert {m.platform for m in lock.models} == {"torch_hub", "modelscope", "opencsg"}
    assert check_remote(lock) == []
    gh.commit({"hubconf.py": b"import os\n"}, ref="main")
    ms.commit({"configuration.json": b'{"allow_remote": true}'}, ref="master")
    csg.commit({"config.json": b'{"auto_map": {}}'})
    moved = check_remote(lock)
    assert sorted(d.repo_id for d in moved if d.kind == "revision-moved") == [
        "damo/m",
        "ns/m",
        "owner/net",
    ]
    code, out = run("verify", "--lock", str(lock_path), "--remote", "owner/net=" + str(tmp_path))
    assert code == 1 and "revision-moved" in out


def test_safe_download_into_a_local_dir_then_verify(hub: HubServer, tmp_path: Path) -> None:
    import loadguard

    hub.state.repo("org/model").commit(transformers_repo(torch_zip()))
    target = tmp_path / "model"
    path = loadguard.safe_snapshot_download("org/model", local_dir=target)
    assert Path(path) == target
    lock_path = tmp_path / "loadguard.lock"
    assert run("lock", "hf:org/model", "--lock", str(lock_path))[0] == 0
    code, out = run("verify", "--lock", str(lock_path), f"org/model={target}")
    assert code == 0, out


def test_verify_json_output_and_stale_ruleset_note(tmp_path: Path) -> None:
    model = write(tmp_path / "model", {"config.json": b"{}", "w.safetensors": b"x" * 10})
    lock_path = tmp_path / "loadguard.lock"
    assert run("lock", str(model), "--lock", str(lock_path))[0] == 0
    data = json.loads(lock_path.read_text())
    data["models"][0]["ruleset_version"] = "1999.1.0"
    lock_path.write_text(json.dumps(data))
    (model / "w.safetensors").write_bytes(b"y" * 10)
    result = run_cli("verify", "--lock", str(lock_path), str(model), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [(d["kind"], d["path"]) for d in document["differences"]] == [
        ("changed", "w.safetensors")
    ]
    assert document["stale_verdicts"] == ["model"]
