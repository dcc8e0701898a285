"""Reproduce the table of docs/security.md: fuzzing, bounds, and the never-executes check.

    python bench/security_table.py [--seconds N] [--corpus DIR ...]

Fuzz executions come from fuzz/stats.json, which ``bench/fuzz.sh`` appends to
after every atheris run; with ``--seconds N`` every target is first run again
for N seconds (through bench/fuzz.sh). Crashes found and fixed come from
fuzz/crashes.json. The resource-bomb cases are the tests listed in BOUND_CASES,
run now. The never-executes check runs ``loadguard selfcheck`` now over the
examples, the test tree, the generated labelled corpus, every labelled pickle
sample and any extra --corpus folders.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# one entry per hostile shape of issue 10 (test node ids, run by pytest)
BOUND_CASES = {
    "per-file time limit": "tests/test_hardening_bounds.py::test_per_file_time_limit",
    "per-file size limit": "tests/test_sources_local.py::test_oversized_file_is_an_error",
    "bytes read per repo": "tests/test_hardening_bounds.py::test_total_read_budget_per_repo",
    "zip bomb (ratio)": "tests/test_sources_local.py::test_zip_archive_in_place_with_traversal_and_bomb",
    "zip bomb (absolute)": "tests/test_hardening_bounds.py::test_zip_absolute_member_and_total_limits",
    "zip lying about size": "tests/test_hardening_bounds.py::test_zip_member_lying_about_its_size_is_not_inflated",
    "zip bomb in a checkpoint": "tests/test_weights_containers.py::test_zip_bomb_member_is_not_inflated",
    "compression bomb (joblib)": "tests/test_weights_containers.py::test_compression_bomb_is_capped",
    "pickle memo bomb": "tests/test_hardening_bounds.py::test_pickle_memo_bomb_is_bounded",
    "pickle nesting bomb": "tests/test_hardening_bounds.py::test_pickle_nesting_bomb_is_walked_without_recursion",
    "nested pickles": "tests/test_pickle_machine.py::test_nested_depth_is_bounded",
    "100k-line file": "tests/test_hardening_bounds.py::test_hundred_thousand_line_file",
    "10k-deep expressions": "tests/test_hardening_bounds.py::test_ten_thousand_deep_expressions_of_every_shape",
    "folded-value memory": "tests/test_hardening_bounds.py::test_folded_values_of_one_module_are_bounded_in_total",
    "100k files": "tests/test_hardening_bounds.py::test_hundred_thousand_files_are_bounded",
    "deep directories": "tests/test_hardening_bounds.py::test_directory_nesting_is_bounded",
    "symlink loop, FIFO, non-UTF-8 name": "tests/test_sources_local.py::test_symlink_escape_loop_fifo_and_bad_names",
    "symlinks to /etc and ~/.ssh": "tests/test_hardening_bounds.py::test_symlinks_to_etc_and_ssh_are_never_opened",
    "device file, 250-char name": "tests/test_hardening_bounds.py::test_long_names_and_device_files",
    "non-UTF-8 names (reach)": "tests/test_reach_loaders.py::test_reach_command_survives_non_utf8_file_names",
    "peak RSS of a hostile scan": "tests/test_hardening_bounds.py::test_peak_memory_of_a_hostile_scan_stays_under_the_cap",
}  # fmt: skip


def _env() -> dict[str, str]:
    paths = [str(ROOT / "src"), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def run_fuzzers(seconds: int) -> None:
    env = {**_env(), "PYTHON": sys.executable}
    subprocess.run(["bash", "bench/fuzz.sh", str(seconds)], cwd=ROOT, env=env, check=False)


def bound_results() -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         *BOUND_CASES.values()],
        cwd=ROOT, capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    outcome: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"(PASSED|FAILED|SKIPPED|ERROR) (\S+?)(\[.*\])?( |$)", line)
        if match:
            node = match.group(2)
            if outcome.get(node) in (None, "PASSED"):
                outcome[node] = match.group(1)
    return {case: outcome.get(node, "NOT RUN") for case, node in BOUND_CASES.items()}


def selfcheck(targets: list[str]) -> tuple[int, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "loadguard", "selfcheck", *targets],
        cwd=ROOT, capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    match = re.search(
        r"scanned (\d+) repositories, \d+ audit events, (\d+) violations", proc.stdout
    )
    if not match:
        raise SystemExit(f"selfcheck failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return int(match.group(1)), int(match.group(2))


def build_corpora(base: Path) -> list[str]:
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "corpus")]
    import build as corpus_build

    import pickle_samples as ps

    corpus_build.build(base / "labelled", seed=0)
    samples = base / "pickles" / "samples"
    samples.mkdir(parents=True)
    (samples / "config.json").write_text("{}")
    for sample in ps.SAMPLES:
        (samples / f"{sample.name}-{sample.filename}").write_bytes(sample.build())
    return [str(base / "labelled"), str(base / "pickles")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=0, help="run every fuzzer this long first")
    parser.add_argument("--corpus", action="append", default=[])
    args = parser.parse_args()
    if args.seconds:
        run_fuzzers(args.seconds)
    sys.path.insert(0, str(ROOT / "fuzz"))
    from targets import TARGETS

    stats_path = ROOT / "fuzz" / "stats.json"
    runs = json.loads(stats_path.read_text()) if stats_path.exists() else []
    executions: dict[str, int] = defaultdict(int)
    seconds: dict[str, int] = defaultdict(int)
    crashed: dict[str, int] = defaultdict(int)
    for run in runs:
        executions[run["target"]] += run["executions"]
        seconds[run["target"]] += run["seconds"]
        crashed[run["target"]] += run["crashed"]
    crashes = json.loads((ROOT / "fuzz" / "crashes.json").read_text())
    fixed: dict[str, int] = defaultdict(int)
    for crash in crashes:
        fixed[crash["target"]] += 1

    print("| fuzz target | atheris executions | seconds | runs ending in a crash | crashes found and fixed |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for name in TARGETS:
        print(
            f"| {name} | {executions[name]} | {seconds[name]} | {crashed[name]} | {fixed[name]} |"
        )
    total_s = sum(seconds.values())
    print(f"| **all** | {sum(executions.values())} | {total_s} ({total_s / 3600:.2f} h) "
          f"| {sum(crashed.values())} | {len(crashes)} |")  # fmt: skip
    others = {c["target"] for c in crashes} - set(TARGETS)
    for other in sorted(others):
        print(f"\nfound outside the fuzzers ({other}): {fixed[other]} fixed")

    results = bound_results()
    print("\n| resource-bomb case | result |\n|---|---|")
    for case, result in results.items():
        print(f"| {case} | {result} |")
    passed = sum(r == "PASSED" for r in results.values())
    print(f"\nresource-bomb cases: {passed} of {len(results)} passed")

    with tempfile.TemporaryDirectory() as tmp:
        targets = [str(ROOT / "examples" / "repos"), str(ROOT / "tests")]
        targets += build_corpora(Path(tmp)) + args.corpus
        repos, found = selfcheck(targets)
    print(f"never-executes check: {repos} repositories scanned, {found} violations")


if __name__ == "__main__":
    main()
