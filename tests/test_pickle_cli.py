"""``python -m loadguard.analyzers.pickle``: files, folders, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pickle_samples as ps
from loadguard.analyzers.pickle import main


def test_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.pt"
    good.write_bytes(ps.torch_zip(ps.torch_like_state_dict()))
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(ps.os_system())
    assert main([str(good)]) == 0
    assert main([str(bad)]) == 1
    capsys.readouterr()
    assert main(["--json", str(tmp_path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    by_path = {item["path"]: item for item in doc}
    assert by_path[str(good)]["findings"] == []
    assert by_path[str(bad)]["findings"][0]["severity"] == "critical"
    assert main([str(tmp_path / "missing.pkl")]) == 2
    assert main([]) == 2


def test_folders_skip_files_that_are_not_pickle_containers(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("# model")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(ps.legacy_torch(ps.torch_like_state_dict()))
    assert main([str(tmp_path)]) == 0


def test_imports_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "n.pkl"
    path.write_bytes(ps.nested_pickle_loads())
    assert main(["--imports", str(path)]) == 1
    (item,) = json.loads(capsys.readouterr().out)
    rows = {(r["import"], r["nested"] is not None): r for r in item["imports"]}
    assert rows[("pickle.loads", False)]["invoked"] is True
    assert rows[("pickle.loads", False)]["verdict"] == "denied"
    assert rows[("posix.system", True)]["via"] == "REDUCE"
