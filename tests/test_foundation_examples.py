"""The demo corpus: every repo's plan matches the reviewed expectation file."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES, ROOT
from loadguard.api import scan
from loadguard.model import ScanResult

EXPECTED = json.loads((ROOT / "tests" / "data" / "expected_plans.json").read_text())


@pytest.fixture(scope="module")
def results() -> dict[str, ScanResult]:
    return {r.snapshot.repo_id: r for r in scan(str(EXAMPLES))}


def test_every_example_repo_is_found(results: dict[str, ScanResult]) -> None:
    assert sorted(results) == sorted(EXPECTED)
    assert len(results) >= 10
    platforms = {r.snapshot.platform.value for r in results.values()}
    assert {"huggingface", "modelscope", "openmmlab", "torch_hub"} <= platforms


@pytest.mark.parametrize("repo", sorted(EXPECTED))
def test_plan_matches_expectation(results: dict[str, ScanResult], repo: str) -> None:
    result, want = results[repo], EXPECTED[repo]
    plan = result.plan
    assert result.snapshot.platform.value == want["platform"]
    assert [loader.value for loader in plan.loaders] == want["loaders"]
    assert plan.runs_repo_code == want["runs_repo_code"]
    got_entries = sorted(
        [e.loader.value, e.trigger, e.module, e.qualname] for e in plan.entry_points
    )
    assert got_entries == want["entry_points"]
    assert sorted(plan.executed_files) == want["executed_files"]
    assert sorted(c.reference for c in plan.cross_repo_refs) == want["cross_repo_refs"]
    assert sorted([w.path, w.kind.value] for w in plan.weights) == want["weights"]


def test_benign_builtin_model_is_clean(results: dict[str, ScanResult]) -> None:
    assert results["hf-builtin-bert"].verdict.value == "clean"
    assert not results["hf-builtin-bert"].plan.runs_repo_code


def test_config_borne_risks_are_flagged(results: dict[str, ScanResult]) -> None:
    rules = {repo: {f.rule_id for f in r.findings} for repo, r in results.items()}
    assert "LG-CFG-001" in rules["hf-cross-repo"]  # repo turns trust_remote_code on itself
    assert "LG-CFG-002" in rules["hf-cross-repo"]  # unpinned cross-repo code
    assert "LG-CFG-003" in rules["hf-generate-kernel"]  # hub kernel
    assert {"LG-CFG-010", "LG-CFG-011", "LG-CFG-021"} <= rules["ms-allow-remote"]
    assert {"LG-CFG-020", "LG-CFG-030"} <= rules["mmlab-det-config"]
