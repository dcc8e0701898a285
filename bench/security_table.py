"""Reproduce the table of docs/security.md: fuzzing, bounds, and the never-executes check.

    python bench/security_table.py --seconds 60 [--corpus DIR ...]

Runs every fuzz target with atheris for --seconds each, the resource-bound
and regression tests, and `loadguard selfcheck` over the examples, the test
tree and any extra corpora; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fuzz(target: str, seconds: int) -> tuple[int, int]:
    proc = subprocess.run(
        [sys.executable, "fuzz/run.py", target, "--seconds", str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"stat::number_of_executed_units: (\d+)", proc.stdout + proc.stderr)
    return (int(match.group(1)) if match else 0), proc.returncode


def pytest_count(*selection: str) -> tuple[int, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    passed = re.search(r"(\d+) passed", proc.stdout)
    failed = re.search(r"(\d+) failed", proc.stdout)
    return (int(passed.group(1)) if passed else 0), (int(failed.group(1)) if failed else 0)


def selfcheck(targets: list[str]) -> tuple[int, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "loadguard", "selfcheck", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(
        r"scanned (\d+) repositories, \d+ audit events, (\d+) violations", proc.stdout
    )
    if not match:
        raise SystemExit(f"selfcheck failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return int(match.group(1)), int(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--corpus", action="append", default=[])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "fuzz"))
    from targets import TARGETS

    crashes = json.loads((ROOT / "fuzz" / "crashes.json").read_text())
    print(f"| fuzz target | executions ({args.seconds} s) | result | crashes found and fixed |")
    print("|---|---:|---|---:|")
    for name in TARGETS:
        executions, code = fuzz(name, args.seconds)
        fixed = sum(1 for c in crashes if c["target"] == name)
        print(
            f"| {name} | {executions} | {'clean' if code == 0 else f'CRASH (exit {code})'} "
            f"| {fixed} |"
        )
    regressions = sorted({c["test"] for c in crashes})
    passed, failed = pytest_count("tests/test_hardening_bounds.py", *regressions)
    print(f"\nresource-bound and regression tests: {passed} passed, {failed} failed")
    targets = [str(ROOT / "examples" / "repos"), str(ROOT / "tests"), *args.corpus]
    repos, found = selfcheck(targets)
    print(f"never-executes check: {repos} repositories scanned, {found} violations")


if __name__ == "__main__":
    main()
