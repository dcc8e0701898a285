"""Format census: formats present, and whether data-only files cover every pickle."""

from __future__ import annotations

from pathlib import Path

import pickle_samples as ps
from loadguard.census import COVERED, NO_TENSORS, NOT_COVERED, PARTIAL, weight_census
from loadguard.filekinds import classify_all
from loadguard.sources.local import snapshot_from_folder


def safetensors_for(names: list[str]) -> bytes:
    header = {
        n: {"dtype": "F32", "shape": [1], "data_offsets": [4 * k, 4 * k + 4]}
        for k, n in enumerate(names)
    }
    return ps.safetensors(header, b"\x00" * (4 * len(names)))


def census(tmp_path: Path, files: dict[str, bytes]):
    root = tmp_path / "repo"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "config.json").write_text("{}")
    snap = snapshot_from_folder(root)
    return weight_census(snap, classify_all(snap))


def test_covered_by_same_tensor_names(tmp_path: Path) -> None:
    names = ("layer.weight", "layer.bias")
    result = census(
        tmp_path,
        {
            "pytorch_model.bin": ps.torch_zip(ps.torch_like_state_dict(names)),
            "model.safetensors": safetensors_for(list(names)),
            "training_args.bin": ps.namespace_checkpoint(),
        },
    )
    assert result.formats == {"torch-zip": 1, "safetensors": 1, "pickle": 1}
    status = {c.path: c.status for c in result.coverage}
    assert status == {"pytorch_model.bin": COVERED, "training_args.bin": NO_TENSORS}
    assert result.all_pickles_covered is True and not result.pickle_only
    doc = result.to_dict()
    assert doc["has_safetensors"] is True and doc["all_pickles_covered"] is True


def test_not_covered_and_partial(tmp_path: Path) -> None:
    many = tuple(f"l{i}.weight" for i in range(40))
    result = census(
        tmp_path,
        {
            "a/pytorch_model.bin": ps.torch_zip(ps.torch_like_state_dict(many)),
            "a/model.safetensors": safetensors_for(list(many[:-1])),  # a tied weight dropped
            "b/pytorch_model.bin": ps.torch_zip(ps.torch_like_state_dict(("x.weight",))),
            "b/model.safetensors": safetensors_for(["y.weight"]),
            "c/old.bin": ps.legacy_torch(ps.torch_like_state_dict(("z",))),
        },
    )
    status = {c.path: c.status for c in result.coverage}
    assert status == {
        "a/pytorch_model.bin": PARTIAL,
        "b/pytorch_model.bin": NOT_COVERED,
        "c/old.bin": NOT_COVERED,
    }
    assert result.all_pickles_covered is False


def test_pickle_only_repo(tmp_path: Path) -> None:
    result = census(tmp_path, {"model.pt": ps.torch_zip(ps.torch_like_state_dict())})
    assert result.pickle_only and not result.has_safetensors
    assert result.coverage[0].status == NOT_COVERED and result.coverage[0].tensors == 2


def test_checkpoint_wrapper_prefix_matches(tmp_path: Path) -> None:
    body = ps.EMPTY_DICT + ps.s("model") + ps.torch_like_state_dict()[2:-1] + ps.SETITEM
    result = census(
        tmp_path,
        {
            "ckpt.pt": ps.torch_zip(ps.proto(2) + body + ps.STOP),
            "model.safetensors": safetensors_for(["layer.weight", "layer.bias"]),
        },
    )
    assert result.coverage[0].status == COVERED


def test_scan_reuses_the_pickle_analyzers_reading(tmp_path: Path) -> None:
    """The census a scan reports (from the pickle analyzer's scans) equals its own reading."""
    from loadguard.engine import MemoryCache, scan_snapshot

    many = tuple(f"l{i}.weight" for i in range(40))
    files = {
        "a/pytorch_model.bin": ps.torch_zip(ps.torch_like_state_dict(many)),
        "a/model.safetensors": safetensors_for(list(many[:-1])),
        "b/pytorch_model.bin": ps.torch_zip(ps.torch_like_state_dict(("x.weight",))),
        "c/old.bin": ps.legacy_torch(ps.torch_like_state_dict(("z",))),
        "c/whole.pt": ps.torch_zip(ps.os_system()),
        "d/training_args.bin": ps.namespace_checkpoint(),
        "d/copy.bin": ps.namespace_checkpoint(),  # byte-identical: served from the cache
    }
    alone = census(tmp_path, files).to_dict()
    snap = snapshot_from_folder(tmp_path / "repo")
    for analyzers in (["pickle"], ["weights"], ["pickle", "weights"]):
        result = scan_snapshot(snap, analyzers=analyzers, cache=MemoryCache())
        assert result.weight_census == alone, analyzers
