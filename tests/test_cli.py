"""The CLI contract: output formats and documented exit codes."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cli_support import run_cli
from conftest import EXAMPLES, ROOT
from loadguard import __version__
from loadguard.cli import COMMANDS
from pickle_samples import torch_like_state_dict, torch_zip

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


def _modules_after(code: str, cwd: Path | None = None) -> set[str]:
    """Module names loaded by a fresh interpreter running ``code`` (its stdout is discarded)."""
    probe = f"import sys\n{code}\nsys.stderr.write(repr(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(ast.literal_eval(done.stderr.splitlines()[-1]))


def test_help_lists_every_command_without_importing_any() -> None:
    loaded = _modules_after("from loadguard.cli import main\nmain(['--help'])")
    assert not {m for m in loaded if m.startswith("loadguard.commands")}
    result = run_cli("--help")
    assert result.exit_code == 0
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name}  " in result.stdout and summary in result.stdout


def test_importing_the_cli_imports_neither_click_nor_commands() -> None:
    loaded = _modules_after("import loadguard.cli")
    assert "click" not in loaded
    assert not {m for m in loaded if m.startswith("loadguard.commands")}


@pytest.mark.parametrize("target", ["repo", "repo/pytorch_model.bin"])
def test_a_weights_only_scan_imports_only_what_it_uses(tmp_path: Path, target: str) -> None:
    # Start-up is most of the time of a pickle scan (the speed target is picklescan's
    # whole process); each of these costs milliseconds and has no use here.
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "pytorch_model.bin").write_bytes(torch_zip(torch_like_state_dict()))
    argv = ["scan", "-q", "--format", "json", "--analyzers", "pickle,weights", target]
    loaded = _modules_after(f"from loadguard.cli import main\nmain({argv!r})", cwd=tmp_path)
    unneeded = {"click", "shutil", "zipfile", "tarfile", "tomllib", "hashlib", "rich"}
    unneeded |= {"multiprocessing", "concurrent.futures", "loadguard.reach", "loadguard.baseline"}
    assert loaded & unneeded == set()
    assert "loadguard.analyzers.pickle" in loaded  # the probe did scan


def test_every_command_module_provides_the_protocol() -> None:
    for name, (module, _) in COMMANDS.items():
        command = importlib.import_module(f"loadguard.commands.{module}")
        assert callable(command.add_arguments) and callable(command.run), name
        result = run_cli(name, "--help")
        assert result.exit_code == 0, name
        assert result.stdout.startswith(f"usage: loadguard {name} "), name
        # the docstring of run() is the description
        assert command.run.__doc__.split("\n")[0] in result.stdout, name


def test_version() -> None:
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"loadguard {__version__}\n")


def test_usage_errors_exit_2_with_a_message() -> None:
    missing = run_cli()
    assert missing.exit_code == 2 and "required: COMMAND" in missing.stderr
    unknown = run_cli("scna", str(EXAMPLES))
    assert unknown.exit_code == 2 and "invalid choice: 'scna'" in unknown.stderr
    no_target = run_cli("scan")
    assert no_target.exit_code == 2
    assert "loadguard scan: error: the following arguments are required: TARGET" in (
        no_target.stderr
    )
    bad_choice = run_cli("scan", str(EXAMPLES), "--format", "xml")
    assert bad_choice.exit_code == 2 and "argument --format: invalid choice" in bad_choice.stderr
    negative = run_cli("scan", str(EXAMPLES), "--jobs", "-1")
    assert negative.exit_code == 2 and "argument -j/--jobs: -1 is negative" in negative.stderr
    assert run_cli("scan", str(EXAMPLES), "--formt", "json").exit_code == 2  # no abbreviations


def test_missing_policy_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("scan", str(EXAMPLES), "--policy", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and result.stdout == ""
    assert f"argument --policy: file '{tmp_path / 'nope.toml'}' does not exist" in result.stderr
    folder = run_cli("scan", str(EXAMPLES), "--policy", str(tmp_path))
    assert folder.exit_code == 2 and "is a directory, not a file" in folder.stderr


def test_errors_found_after_parsing_are_usage_errors(make_repo: MakeRepo) -> None:
    clean = make_repo({"config.json": {"model_type": "bert"}})
    result = run_cli("scan", str(clean), "--fail-on", "bogus")
    assert result.exit_code == 2
    assert result.stderr.startswith("usage: loadguard scan ")
    assert "loadguard scan: error: " in result.stderr and "bogus" in result.stderr


def test_options_may_come_between_targets(make_repo: MakeRepo) -> None:
    clean = make_repo({"config.json": {"model_type": "bert"}}, name="clean")
    risky = make_repo({"config.json": {"trust_remote_code": True}}, name="risky")
    result = run_cli("scan", str(clean), "--format", "json", str(risky))
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["results"]) == 2


def test_a_closed_pipe_exits_1_without_a_traceback() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = ["reach", str(EXAMPLES / "torchhub-installer"), "--format", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadguard", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # long before the interpreter has started: `loadguard ... | head -c 0`
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and stderr == b""
