from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from hubrepos import EVIL_PICKLE, custom_code_repo, safetensors, torch_zip, transformers_repo
from hubserver import HubServer
from loadguard.errors import SourceError
from loadguard.sources import remote
from loadguard.sources.huggingface import (
    HubQuery,
    hf_snapshot,
    iter_hub_listing,
    iter_hub_models,
    parse_hf_spec,
)
from loadguard.sources.remote import RemoteReadError


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    server = HubServer().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    remote.set_retry_policy(remote.RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05))
    yield server
    remote.set_retry_policy(None)
    server.stop()


def test_spec_parsing() -> None:
    assert parse_hf_spec("org/name@v1") == ("org/name", "v1")
    assert parse_hf_spec("gpt2") == ("gpt2", None)
    for bad in ("", "a/b/c", "../x", "org/"):
        with pytest.raises(SourceError):
            parse_hf_spec(bad)


def test_resolves_branch_to_commit_and_lists_hashes(hub: HubServer) -> None:
    repo = hub.state.repo("org/model", tags=["transformers"], downloads=7)
    commit = repo.commit(transformers_repo(torch_zip()))
    snap = hf_snapshot("org/model")
    assert snap.revision == commit
    assert {f.path for f in snap.files} == set(repo.commits[commit])
    weights = snap.file("model.safetensors")
    assert weights is not None and weights.sha256 == repo.sha(commit, "model.safetensors")
    assert snap.metadata["tags"] == ["transformers"]
    assert snap.metadata["downloads"] == 7
    assert snap.metadata["created_at"].startswith("2025-01-02")  # type: ignore[union-attr]
    assert snap.metadata["partial"] is False


def test_weights_are_read_by_ranges_only(hub: HubServer) -> None:
    big = torch_zip(EVIL_PICKLE, tensor_bytes=32 << 20)
    repo = hub.state.repo("org/big")
    repo.commit(
        {"config.json": b"{}", "pytorch_model.bin": big, "model.safetensors": safetensors(32 << 20)}
    )
    snap = hf_snapshot("org/big")
    with snap.store.open("pytorch_model.bin") as stream, zipfile.ZipFile(stream) as zf:
        assert zf.read("archive/data.pkl") == EVIL_PICKLE
    with snap.store.open("model.safetensors") as stream:
        n = int.from_bytes(stream.read(8), "little")
        assert stream.read(n).startswith(b"{")
    fetched = snap.metadata["bytes_fetched"]
    assert isinstance(fetched, int) and 0 < fetched < 1 << 20
    assert hub.state.bytes_served < 1 << 20
    assert all(r for m, p, r in hub.state.log if p.startswith("/cdn/"))  # every CDN hit was a range


def test_pinned_revision_and_missing_revision(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    first = repo.commit({"config.json": b'{"a": 1}'})
    repo.commit({"config.json": b'{"a": 2}'})
    snap = hf_snapshot("org/model", first)
    assert snap.read("config.json", 100) == b'{"a": 1}'
    with pytest.raises(SourceError, match="revision not found"):
        hf_snapshot("org/model", "no-such-branch")


def test_vanished_and_private_repos(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SourceError, match="repository not found"):
        hf_snapshot("org/gone")
    repo = hub.state.repo("org/secret", private=True)
    repo.commit({"config.json": b"{}"})
    with pytest.raises(SourceError, match="repository not found"):
        hf_snapshot("org/secret")
    snap = hf_snapshot("org/secret", token="good-token")
    assert snap.read("config.json", 10) == b"{}"


def test_file_vanishing_mid_scan_marks_partial(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    commit = repo.commit(custom_code_repo())
    snap = hf_snapshot("org/model", prefetch=False)  # read lazily, after the file is gone
    del repo.commits[commit]["modeling_foo.py"]
    with pytest.raises(RemoteReadError, match="vanished"):
        snap.read("modeling_foo.py", 1 << 20)
    assert snap.metadata["partial"] is True
    assert any("modeling_foo.py" in e for e in snap.metadata["fetch_errors"])  # type: ignore[union-attr]


def test_rate_limit_is_retried_with_backoff(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    repo.commit({"config.json": b"{}"})
    hub.state.fault(r"^/api/models/org/model", status=429, times=2, retry_after="0")
    hub.state.fault(r"/resolve/.*/config.json$", status=503, times=2)
    snap = hf_snapshot("org/model")
    assert snap.read("config.json", 10) == b"{}"
    assert snap.metadata["partial"] is False


def test_rate_limit_gives_up_after_bounded_attempts(hub: HubServer) -> None:
    hub.state.repo("org/model").commit({"config.json": b"{}"})
    hub.state.fault(r"^/api/models/org/model", status=429, times=100)
    with pytest.raises(SourceError, match="gave up after 3 attempts"):
        hf_snapshot("org/model")


@pytest.mark.parametrize("kind", ["truncate", "swap"])
def test_wrong_bytes_for_a_whole_file_are_refused(hub: HubServer, kind: str) -> None:
    repo = hub.state.repo("org/model")
    repo.commit({"modeling_x.py": b"x = 1\n" * 100})
    hub.state.fault(r"/resolve/.*/modeling_x.py$", kind, times=10, swap_with=b"y = 2\n" * 100)
    snap = hf_snapshot("org/model")
    with pytest.raises(RemoteReadError):
        snap.read("modeling_x.py", 1 << 20)
    assert snap.metadata["partial"] is True
    # the bad body was not cached as if it were complete: a clean retry succeeds
    hub.state.faults.clear()
    assert snap.read("modeling_x.py", 1 << 20) == b"x = 1\n" * 100


def test_swapped_lfs_file_fails_its_sha256(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    repo.commit({"small.pkl": EVIL_PICKLE})
    hub.state.fault(
        r"^/cdn/", "swap", times=10, swap_with=b"\x80\x02N." + b" " * (len(EVIL_PICKLE) - 4)
    )
    snap = hf_snapshot("org/model")
    with pytest.raises(RemoteReadError, match="sha256"):
        snap.read("small.pkl", 1 << 20)


def test_server_lying_about_size_in_range_reads(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    repo.commit({"pytorch_model.bin": torch_zip(tensor_bytes=4 << 20)})
    hub.state.fault(r"^/cdn/", "lie-size", times=10)
    snap = hf_snapshot("org/model")
    with pytest.raises(OSError, match="server reports"), snap.store.open("pytorch_model.bin") as s:
        s.seek(-100, 2)
        s.read()
    assert snap.metadata["partial"] is True


def test_server_ignoring_range_is_still_correct(hub: HubServer) -> None:
    payload = torch_zip(EVIL_PICKLE, tensor_bytes=1 << 20)
    hub.state.repo("org/model").commit({"pytorch_model.bin": payload})
    hub.state.fault(r"^/cdn/", "ignore-range", times=100)
    snap = hf_snapshot("org/model")
    with snap.store.open("pytorch_model.bin") as stream, zipfile.ZipFile(stream) as zf:
        assert zf.read("archive/data.pkl") == EVIL_PICKLE


def test_per_file_read_budget(hub: HubServer) -> None:
    from loadguard.limits import Limits

    hub.state.repo("org/model").commit({"huge.pkl": bytes(8 << 20)})
    snap = hf_snapshot("org/model", limits=Limits(max_pickle_bytes=1 << 20))
    with pytest.raises(OSError, match="budget"), snap.store.open("huge.pkl") as s:
        s.read()
    assert snap.metadata["bytes_fetched"] <= 1 << 20  # type: ignore[operator]


def test_listing_for_studies(hub: HubServer) -> None:
    hub.state.repo("a/custom", tags=["custom_code", "transformers"], downloads=50).commit(
        custom_code_repo()
    )
    hub.state.repo("b/plain", tags=["transformers"], downloads=90).commit(transformers_repo())
    targets = list(iter_hub_listing(HubQuery(custom_code=True)))
    assert len(targets) == 1 and targets[0].startswith("hf:a/custom@")
    assert {"createdAt", "downloads", "tags", "sha"} <= set(hub.state.listing_expand)
    models = list(iter_hub_models(HubQuery(tags=("transformers",), min_downloads=60)))
    assert [m.repo_id for m in models] == ["b/plain"]
    assert models[0].created_at is not None and models[0].downloads == 90
    hub.state.repos["b/plain"].created_at = "2026-06-01T00:00:00.000Z"
    recent = HubQuery(created_after=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert [m.repo_id for m in iter_hub_models(recent)] == ["b/plain"]


def test_scan_reports_fetch_failures_as_errors(hub: HubServer) -> None:
    from loadguard.engine import scan_snapshot

    hub.state.repo("org/model").commit(custom_code_repo())
    hub.state.fault(r"/resolve/.*/modeling_foo.py$", status=500, times=100)
    result = scan_snapshot(hf_snapshot("org/model"))
    assert any(e.path == "modeling_foo.py" and e.stage == "source" for e in result.errors)


def test_cli_scan_of_a_hub_target(hub: HubServer) -> None:
    from cli_support import run_cli

    hub.state.repo("org/custom").commit(custom_code_repo())
    out = run_cli("scan", "hf:org/custom", "--format", "json", "-q")
    assert out.exit_code in (0, 1), out.output
    assert "modeling_foo.py" in out.output
    out = run_cli("scan", "hf:org/nothere", "-q")
    assert out.exit_code == 2
    assert "repository not found" in out.output


def test_token_never_appears_in_errors_or_locks(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    import huggingface_hub.constants

    from cli_support import run_cli

    monkeypatch.setenv("HF_TOKEN", "good-token")  # found the usual way, never passed by us
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)
    repo = hub.state.repo("org/secret", private=True)
    repo.commit(custom_code_repo())
    hub.state.fault(r"/resolve/.*/config.json$", status=401, times=100)
    lock = f"{tmp_path}/loadguard.lock"
    out = run_cli("lock", "hf:org/secret", "--lock", lock)
    assert "good-token" not in out.output
    hub.state.faults.clear()
    out = run_cli("lock", "hf:org/secret", "--lock", lock)
    assert out.exit_code in (0, 1), out.output
    with open(lock) as fh:
        assert "good-token" not in fh.read()


def test_renamed_repo_is_followed_and_noted(hub: HubServer) -> None:
    repo = hub.state.repo("new-org/model")
    commit = repo.commit({"config.json": b"{}"})
    hub.state.renamed["old-org/model"] = "new-org/model"
    snap = hf_snapshot("old-org/model")
    assert snap.revision == commit
    assert snap.metadata["renamed_to"] == "new-org/model"
    assert snap.read("config.json", 10) == b"{}"


def test_gated_repo_message(hub: HubServer) -> None:
    hub.state.repo("org/gated").commit({"config.json": b"{}"})
    hub.state.fault(r"^/api/models/org/gated", status=403, times=1)
    with pytest.raises(SourceError, match="not authorised"):
        hf_snapshot("org/gated")


def test_non_lfs_file_is_checked_against_its_git_blob_id(hub: HubServer) -> None:
    body = b"# vocabulary\n" * 40_000  # ~520 kB, above the small-file size, not LFS
    hub.state.repo("org/model").commit({"vocab.txt": body})
    hub.state.fault(r"/resolve/.*/vocab.txt$", "swap", times=10, swap_with=body.upper())
    snap = hf_snapshot("org/model")
    with pytest.raises(OSError, match="git blob id"), snap.store.open("vocab.txt") as stream:
        stream.read(16)


def test_sizes_missing_from_model_info_come_from_the_tree(hub: HubServer) -> None:
    repo = hub.state.repo("org/model", hide_sizes=True)
    commit = repo.commit({"config.json": b"{}", "sub/model.safetensors": safetensors()})
    snap = hf_snapshot("org/model")
    entry = snap.file("sub/model.safetensors")
    assert entry is not None and entry.sha256 == repo.sha(commit, "sub/model.safetensors")
    assert entry.size == len(safetensors())
    assert any("/tree/" in p for _, p, _ in hub.state.log)


def test_stalled_server_times_out_and_is_retried(hub: HubServer) -> None:
    remote.set_retry_policy(
        remote.RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05, timeout_seconds=0.3)
    )
    hub.state.repo("org/model").commit({"config.json": b"{}", "m.safetensors": safetensors()})
    hub.state.fault(r"^/api/models/org/model", "stall", times=1, seconds=1.0)
    snap = hf_snapshot("org/model")  # first answer stalls, the retry succeeds
    hub.state.fault(r"^/cdn/", "stall", times=100, seconds=1.0)
    with pytest.raises(OSError, match="gave up"), snap.store.open("m.safetensors") as stream:
        stream.read(8)
    assert snap.metadata["partial"] is True


def test_unsafe_and_unusual_paths_in_a_listing(hub: HubServer) -> None:
    repo = hub.state.repo("org/model")
    repo.commit({"../evil.py": b"x", "dir/naïve file #1.py": b"y = 1\n", "a//b.py": b"z"})
    snap = hf_snapshot("org/model")
    assert [f.path for f in snap.files] == ["dir/naïve file #1.py"]
    assert {e.path for e in snap.skipped if e.kind == "unsafe-path"} == {"../evil.py", "a//b.py"}
    assert snap.read("dir/naïve file #1.py", 100) == b"y = 1\n"


def test_code_and_configs_are_prefetched_and_verified(hub: HubServer) -> None:
    files = {f"pkg/mod_{i}.py": f"x = {i}\n".encode() for i in range(30)}
    files["config.json"] = b"{}"
    files["pytorch_model.bin"] = torch_zip()
    repo = hub.state.repo("org/many")
    repo.commit(files)
    hub.state.fault(r"/resolve/.*/pkg/mod_3.py$", "swap", times=1, swap_with=b"x = 9\n")
    snap = hf_snapshot("org/many")
    seen = len(hub.state.log)
    for i in range(30):
        assert snap.read(f"pkg/mod_{i}.py", 100) == f"x = {i}\n".encode()
    # only the file whose prefetch was refused (wrong hash) is fetched again
    again = [p for _, p, _ in hub.state.log[seen:]]
    assert len(again) == 1 and again[0].endswith("pkg/mod_3.py")
    assert snap.metadata["partial"] is False
    assert not [p for _, p, _ in hub.state.log if p.startswith("/cdn/")][
        1:
    ]  # weights not prefetched


def test_a_longer_body_than_listed_is_cut_and_refused(hub: HubServer) -> None:
    hub.state.repo("org/model").commit({"modeling_x.py": b"x = 1\n"})
    hub.state.fault(r"/resolve/.*/modeling_x.py$", "swap", times=10, swap_with=b"#" * (4 << 20))
    snap = hf_snapshot("org/model", prefetch=False)
    with pytest.raises(RemoteReadError, match="server sent 7 bytes"):
        snap.read("modeling_x.py", 1 << 20)
    assert snap.metadata["bytes_fetched"] <= 7  # type: ignore[operator]


def test_analysis_of_a_partly_fetched_file_is_not_cached(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loadguard.analyzers import REGISTRY
    from loadguard.engine import MemoryCache, scan_snapshot

    monkeypatch.setitem(REGISTRY, "readall", "hubrepos:ReadAllAnalyzer")
    hub.state.repo("org/model").commit({"pytorch_model.bin": torch_zip(tensor_bytes=2 << 20)})
    cache = MemoryCache()
    hub.state.fault(r"^/cdn/", status=500, times=100)
    first = scan_snapshot(hf_snapshot("org/model"), analyzers=["readall"], cache=cache)
    assert any(e.stage == "readall" for e in first.errors)
    hub.state.faults.clear()
    second = scan_snapshot(hf_snapshot("org/model"), analyzers=["readall"], cache=cache)
    assert not second.errors  # analysed afresh, not served the failed run from the cache
    third = scan_snapshot(hf_snapshot("org/model"), analyzers=["readall"], cache=cache)
    assert third.stats[0].cached == 1  # a complete analysis is cached as usual


def test_token_is_not_sent_to_the_cdn(hub: HubServer) -> None:
    repo = hub.state.repo("org/secret", private=True)
    repo.commit({"config.json": b"{}", "pytorch_model.bin": torch_zip(EVIL_PICKLE)})
    snap = hf_snapshot("org/secret", token="good-token")
    with snap.store.open("pytorch_model.bin") as stream, zipfile.ZipFile(stream) as zf:
        assert zf.read("archive/data.pkl") == EVIL_PICKLE
    assert any(p.startswith("/api/models/org/secret") for p in hub.state.authorised_paths)
    assert any(p.startswith("/org/secret/resolve/") for p in hub.state.authorised_paths)
    assert [p for _, p, _ in hub.state.log if p.startswith("/cdn/")]
    assert not [p for p in hub.state.authorised_paths if p.startswith("/cdn/")]


def test_json_reports_fetch_accounting_and_weight_census(hub: HubServer) -> None:
    import json

    from cli_support import run_cli

    hub.state.repo("org/mixed").commit(
        {
            "config.json": b"{}",
            "pytorch_model.bin": torch_zip(EVIL_PICKLE, tensor_bytes=4 << 20),
            "model.safetensors": safetensors(4 << 20),
        }
    )
    out = run_cli("scan", "hf:org/mixed", "--format", "json", "-q")
    (result,) = json.loads(out.stdout)["results"]
    source = result["repo"]["source"]
    # 8 MiB of weights; the scan fetches configs, two zip directories' worth and headers
    assert 0 < source["bytes_fetched"] < 512 * 1024, source["bytes_fetched"]
    assert source["partial"] is False and source["endpoint"] == hub.url
    assert any(
        f["analyzer"] == "pickle" and f["severity"] == "critical" for f in result["findings"]
    )
    assert source["requests"] >= 1
    census = result["weight_census"]
    assert census["pickle_files"] == ["pytorch_model.bin"]
    assert census["has_safetensors"] is True and census["pickle_only"] is False
    (coverage,) = census["coverage"]
    assert coverage["path"] == "pytorch_model.bin" and coverage["status"] in {
        "covered",
        "partial",
        "not-covered",
        "unknown",
        "no-tensors",
    }
