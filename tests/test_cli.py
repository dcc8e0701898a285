"""The CLI contract: output formats and documented exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_support import run_cli
from conftest import EXAMPLES

MakeRepo = Callable[..., Path]


def run(*args: str) -> tuple[int, str]:
    result = run_cli(*args)
    return result.exit_code, result.output


def test_json_document_for_examples(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code, _ = run("scan", str(EXAMPLES), "--format", "json", "-o", str(out))
    doc = json.loads(out.read_text())
    assert doc["schema"] == "loadguard-scan" and doc["schema_version"]
    assert len(doc["results"]) >= 10
    first = doc["results"][0]
    assert {"repo", "verdict", "plan", "findings", "errors", "reach"} <= set(first)
    assert code == 1  # the corpus holds dangerous repos


def test_exit_codes(make_repo: MakeRepo, tmp_path: Path) -> None:
    clean = make_repo({"config.json": {"model_type": "bert"}}, name="clean")
    assert run("scan", str(clean))[0] == 0
    risky = make_repo({"config.json": {"trust_remote_code": True}}, name="risky")
    assert run("scan", str(risky))[0] == 1
    assert run("scan", str(risky), "--fail-on", "critical")[0] == 0
    assert run("scan", str(tmp_path / "nope"))[0] == 2
    broken = make_repo({"config.json": "{"}, name="broken")
    assert run("scan", str(broken))[0] == 2
    assert run("scan", str(clean), "--fail-on", "bogus")[0] == 2


def test_text_view_names_entry_points(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "tokenizer_config.json": {"auto_map": {"AutoTokenizer": [None, "t.Fast"]}},
            "t.py": "class Fast: pass\n",
        }
    )
    code, output = run("scan", str(repo))
    assert "auto_map.AutoTokenizer[1]" in output and "t.py" in output
    assert code == 0
