"""The GitHub Action's script part and the pre-commit hook definitions, run locally."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from cli_support import run_cli
from loadguard.cli import COMMANDS
from sarif_schema import SARIF_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "action_run.sh"
EXAMPLES = ROOT / "examples" / "repos"
SCHEMA = SARIF_SCHEMA

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")


def _run_action(tmp_path: Path, **env: str) -> tuple[int, dict[str, str], Path, str]:
    output = tmp_path / "github_output"
    summary = tmp_path / "summary.md"
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "LOADGUARD": f"{shlex.quote(sys.executable)} -m loadguard",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "LG_SARIF": str(tmp_path / "out.sarif"),
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env=full_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outputs = (
        dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if output.exists()
        else {}
    )
    return (
        done.returncode,
        outputs,
        Path(full_env["LG_SARIF"]),
        summary.read_text() if summary.exists() else "",
    )


def test_failing_gate_still_writes_sarif_and_reports_exit_1(tmp_path: Path) -> None:
    code, outputs, sarif, summary = _run_action(
        tmp_path, LG_TARGETS=str(EXAMPLES / "hf-cross-repo"), LG_HTML=str(tmp_path / "r.html")
    )
    assert code == 0  # the job fails later, after the upload step
    assert outputs["exit-code"] == "1" and outputs["sarif"] == str(sarif)
    log = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"]
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert "policy violation" in summary and "preset strict" in summary


def test_passing_gate(tmp_path: Path) -> None:
    code, outputs, _, summary = _run_action(
        tmp_path, LG_TARGETS=str(EXAMPLES / "hf-builtin-bert"), LG_PRESET="balanced"
    )
    assert code == 0 and outputs["exit-code"] == "0" and "passed" in summary


def test_policy_and_baseline_inputs(tmp_path: Path) -> None:
    policy = tmp_path / "loadguard.toml"
    policy.write_text('preset = "audit"\n')
    code, outputs, _, _ = _run_action(
        tmp_path, LG_TARGETS=str(EXAMPLES / "hf-cross-repo"), LG_POLICY=str(policy)
    )
    assert code == 0 and outputs["exit-code"] == "0"
    baseline = tmp_path / "accepted.json"
    target = str(EXAMPLES / "hf-cross-repo")
    written = run_cli(
        "scan",
        target,
        "--preset",
        "balanced",
        "--write-baseline",
        str(baseline),
        "--baseline-reason",
        "reviewed",
    )
    assert written.exit_code == 0
    code, outputs, sarif, _ = _run_action(
        tmp_path, LG_TARGETS=target, LG_PRESET="balanced", LG_BASELINE=str(baseline)
    )
    assert outputs["exit-code"] == "0"
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert results and all("suppressions" in r for r in results)


def test_loadguard_failing_early_leaves_a_valid_sarif(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("fail-on = 'severe'\n")
    code, outputs, sarif, summary = _run_action(
        tmp_path, LG_TARGETS=str(EXAMPLES / "hf-builtin-bert"), LG_POLICY=str(bad)
    )
    assert code == 0 and outputs["exit-code"] == "2" and "error" in summary
    log = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_check_code_mode(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "load.py").write_text("import torch\ntorch.load('w.pt', weights_only=False)\n")
    code, outputs, sarif, _ = _run_action(
        tmp_path, LG_MODE="check-code", LG_TARGETS=str(project), LG_PRESET="balanced"
    )
    assert code == 0 and outputs["exit-code"] == "1"
    log = json.loads(sarif.read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["LG-CODE-006"]


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    code, outputs, _, _ = _run_action(tmp_path, LG_MODE="deploy")
    assert code == 2 and outputs == {}


def test_action_definition_matches_the_script() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    run_step = next(s for s in steps if s.get("id") == "run")
    assert "scripts/action_run.sh" in run_step["run"]
    script = SCRIPT.read_text()
    for name in run_step["env"]:
        assert name in script, name
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"]
    assert set(action["outputs"]) == {"exit-code", "sarif-file"}


def test_pre_commit_hooks_name_real_commands(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    ids = {h["id"] for h in hooks}
    assert ids == {"loadguard-check-code", "loadguard-scan-models"}
    for hook in hooks:
        program, command, *_ = hook["entry"].split()
        assert program == "loadguard" and command in COMMANDS
    # pre-commit passes staged file names to check-code: several files, one project.
    (tmp_path / "a.py").write_text("import torch\ntorch.load('w.pt')\n")
    (tmp_path / "b.py").write_text("x = 1\n")
    check = next(h for h in hooks if h["id"] == "loadguard-check-code")
    args = check["entry"].split()[1:] + [str(tmp_path / "a.py"), str(tmp_path / "b.py")]
    result = run_cli(*args, "--preset", "strict")
    assert result.exit_code == 1 and "LG-CODE-006" in result.output
