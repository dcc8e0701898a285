from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import loadguard
from hubrepos import custom_code_repo, torch_zip, transformers_repo
from hubserver import HubServer
from loadguard.errors import SourceError
from loadguard.model import Verdict
from loadguard.provenance.download import IntegrityError, UnsafeModelError
from loadguard.sources import remote


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    server = HubServer().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    remote.set_retry_policy(remote.RetryPolicy(attempts=3, base_seconds=0.01, cap_seconds=0.05))
    yield server
    remote.set_retry_policy(None)
    server.stop()


def test_clean_repo_downloads_the_pinned_commit(hub: HubServer, tmp_path: Path) -> None:
    repo = hub.state.repo("org/model")
    commit = repo.commit(transformers_repo(torch_zip()))
    path = loadguard.safe_snapshot_download("org/model", cache_dir=tmp_path)
    assert Path(path).name == commit
    assert (Path(path) / "pytorch_model.bin").read_bytes() == repo.commits[commit][
        "pytorch_model.bin"
    ]


def test_refused_repo_downloads_nothing(hub: HubServer, tmp_path: Path) -> None:
    hub.state.repo("org/custom").commit(custom_code_repo())
    with pytest.raises(UnsafeModelError) as info:
        loadguard.safe_snapshot_download("org/custom", policy="clean", cache_dir=tmp_path)
    assert info.value.result.verdict is not Verdict.CLEAN
    assert "nothing was downloaded" in str(info.value)
    assert not any(tmp_path.rglob("modeling_foo.py"))
    assert not [log for log in hub.state.log if log[0] == "HEAD"]  # no download started


def test_callable_policy(hub: HubServer, tmp_path: Path) -> None:
    hub.state.repo("org/custom").commit(custom_code_repo())
    with pytest.raises(UnsafeModelError):
        loadguard.safe_snapshot_download(
            "org/custom", policy=lambda r: not r.plan.runs_repo_code, cache_dir=tmp_path
        )


def test_download_differing_from_the_scan_is_removed(hub: HubServer, tmp_path: Path) -> None:
    repo = hub.state.repo("org/model")
    commit = repo.commit(transformers_repo(torch_zip()))
    original = repo.commits[commit]["pytorch_model.bin"]
    assert isinstance(original, bytes)
    # after the scan, the "CDN" serves different bytes of the same length for full downloads
    swapped = original[:-1] + b"\x00" if original[-1:] != b"\x00" else original[:-1] + b"\x01"
    sha = repo.sha(commit, "pytorch_model.bin")
    hub.state.fault(rf"^/cdn/{sha}", "swap", times=0, swap_with=swapped)
    fault = hub.state.faults[-1]
    real_resolve = hub.state.take_fault

    def arm_after_scan(path: str):  # type: ignore[no-untyped-def]
        if any(m == "HEAD" for m, _, _ in hub.state.log):  # snapshot_download started
            fault.times = 1_000
        return real_resolve(path)

    hub.state.take_fault = arm_after_scan  # type: ignore[method-assign]
    with pytest.raises(IntegrityError, match=r"pytorch_model\.bin"):
        loadguard.safe_snapshot_download("org/model", cache_dir=tmp_path)
    bad = list(tmp_path.rglob("pytorch_model.bin"))
    assert not [p for p in bad if p.exists()]


def test_download_failure_is_a_source_error(hub: HubServer, tmp_path: Path) -> None:
    repo = hub.state.repo("org/model")
    commit = repo.commit(transformers_repo(torch_zip()))
    sha = repo.sha(commit, "pytorch_model.bin")
    hub.state.fault(rf"^/cdn/{sha}", "swap", times=0, swap_with=b"short")
    fault = hub.state.faults[-1]
    real = hub.state.take_fault

    def arm_after_scan(path: str):  # type: ignore[no-untyped-def]
        if any(m == "HEAD" for m, _, _ in hub.state.log):
            fault.times = 1_000
        return real(path)

    hub.state.take_fault = arm_after_scan  # type: ignore[method-assign]
    with pytest.raises(SourceError, match="download"):
        loadguard.safe_snapshot_download("org/model", cache_dir=tmp_path)


def test_unknown_revision_is_a_clear_error(hub: HubServer, tmp_path: Path) -> None:
    hub.state.repo("org/model").commit(transformers_repo())
    with pytest.raises(SourceError, match="revision not found"):
        loadguard.safe_snapshot_download("org/model", revision="v9", cache_dir=tmp_path)
