"""Every output format through ``loadguard scan``, with the gate and advice carried in each."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cli_support import run_cli
from sarif_schema import SARIF_SCHEMA

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"


def _scan(*args: str) -> tuple[int, str]:
    result = run_cli("scan", *args)
    return result.exit_code, result.output


def test_json_carries_gate_and_advice(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _ = _scan(str(EXAMPLES), "--preset", "strict", "--format", "json", "-o", str(out))
    doc = json.loads(out.read_text())
    assert code == 1 and doc["gate"]["exit_code"] == 1
    assert doc["gate"]["policy"]["name"] == "strict"
    by_repo = {r["repo"]["repo_id"]: r for r in doc["results"]}
    bert = by_repo["hf-builtin-bert"]
    assert bert["advice"]["needs_repo_code"] is False
    assert "PreTrainedTokenizerFast" in bert["advice"]["code"]
    assert bert["gate"]["verdict"] == "fail"  # strict: the folder is not pinned to a commit
    assert any(f["rule_id"] == "LG-POL-002" for f in bert["findings"])


def test_sarif_from_the_cli_validates(tmp_path: Path) -> None:
    out = tmp_path / "r.sarif"
    code, _ = _scan(str(EXAMPLES), "--format", "sarif", "-o", str(out))
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    assert run["properties"]["gate"]["exit_code"] == code
    assert {p["gate"] for p in run["properties"]["repositories"]} <= {"pass", "fail", "error"}


def test_html_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    _scan(str(EXAMPLES / "hf-backdoor-helper"), "--format", "html", "-o", str(out))
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "hf-backdoor-helper" in page


def test_text_view_ends_with_advice_and_gate() -> None:
    code, output = _scan(str(EXAMPLES / "hf-builtin-bert"), "--preset", "balanced")
    assert code == 0
    assert "the safe way to load it" in output and "gate PASS" in output


@pytest.mark.parametrize(("preset", "expected"), [("strict", 1), ("balanced", 1), ("audit", 0)])
def test_presets_drive_the_exit_code(preset: str, expected: int) -> None:
    code, _ = _scan(str(EXAMPLES / "hf-cross-repo"), "--preset", preset, "--format", "json")
    assert code == expected


def test_policy_file_and_fail_on_override(tmp_path: Path) -> None:
    policy = tmp_path / "loadguard.toml"
    policy.write_text('preset = "balanced"\n[rules."LG-CFG-*"]\nenabled = false\n')
    code, _ = _scan(str(EXAMPLES / "hf-cross-repo"), "--policy", str(policy), "--format", "json")
    assert code == 0
    code, _ = _scan(
        str(EXAMPLES / "hf-cross-repo"),
        "--preset",
        "balanced",
        "--fail-on",
        "never",
        "--format",
        "json",
    )
    assert code == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "loadguard.toml"
    bad.write_text("fail-on = 'severe'\n")
    assert _scan(str(EXAMPLES / "hf-builtin-bert"), "--policy", str(bad))[0] == 2
    assert _scan(str(EXAMPLES / "hf-builtin-bert"), "--preset", "lax")[0] == 2
    assert (
        _scan(str(EXAMPLES / "hf-builtin-bert"), "--policy", str(bad), "--preset", "strict")[0] == 2
    )
    garbage = tmp_path / "b.json"
    garbage.write_text("[]")
    assert _scan(str(EXAMPLES / "hf-builtin-bert"), "--baseline", str(garbage))[0] == 2
