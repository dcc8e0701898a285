"""The labelled corpus generator: deterministic, consistent labels, harmless payloads."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

BUILD = Path(__file__).resolve().parent / "corpus" / "build.py"


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_build", BUILD)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_build"] = module
    spec.loader.exec_module(module)
    return module


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_deterministic(builder: ModuleType, tmp_path: Path) -> None:
    builder.build(tmp_path / "a")
    builder.build(tmp_path / "b")
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    builder.build(tmp_path / "c", seed=1)
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_labels_consistent(builder: ModuleType, tmp_path: Path) -> None:
    labels = builder.build(tmp_path)
    malicious = {k: v for k, v in labels.items() if v["malicious"]}
    benign = {k: v for k, v in labels.items() if not v["malicious"]}
    assert len(malicious) >= 60 and len(benign) >= 60
    assert {v["platform"] for v in labels.values()} >= {
        "huggingface", "modelscope", "openmmlab", "torch_hub"
    }  # fmt: skip
    layouts = Counter(v["layout"] for v in malicious.values())
    assert set(layouts) == set(builder.LAYOUTS)
    assert {v["technique"] for v in malicious.values()} == set(builder.TECHNIQUES)
    assert {v["obfuscation"] for v in malicious.values()} == set(builder.OBFUSCATIONS)
    for name, label in malicious.items():
        assert (tmp_path / name / label["expected_file"]).is_file(), name
    for name, label in benign.items():
        assert label["expected_file"] is None and label["traps"], name
    assert (tmp_path / "labels.json").is_file()


def test_code_parses_and_is_harmless(builder: ModuleType, tmp_path: Path) -> None:
    builder.build(tmp_path)
    for path in tmp_path.rglob("*.py"):
        text = path.read_text()
        ast.parse(text, str(path))
        for host in re.findall(r"https?://([\w.-]+)", text):
            assert host.endswith(".invalid"), (path, host)
        for addr in re.findall(r"(?:connect|create_connection)\(\(\"([^\"]+)\"", text):
            assert addr == "127.0.0.1", path
        assert "expanduser" not in text  # credential paths are fake, never the real home
