"""Whole-process speed of a loadguard scan against Bandit, Semgrep and the parse floor.

    PATH=/work/venv/bin:/work/venv-semgrep/bin:$PATH PYTHONPATH=src \
        python bench/speed.py [--corpus DIR] [--sets hf_repos,packages] [--analyzers LIST] \
        [--repeat N] [--skip bandit,semgrep]

The benign corpus is the one ``/work/shared/bench-corpus/build_corpus.py``
builds (``--cache .bench-cache`` -> ``.bench-cache/corpus/{hf_repos,packages}``).
Each tool runs as a separate process, ``--repeat`` interleaved rounds per set,
keeping its best wall time and its peak RSS (``wait4``: the largest of the process and
its waited-for workers, not their sum): ``python -m loadguard scan DIR --format
json -o /dev/null`` (its default analyzers unless ``--analyzers``; once with its
default of one worker process per usable core, once with ``--jobs 1``),
``bandit -r -q -f json``, Semgrep with loadguard's shipped ruleset (version
check and metrics off), and ``ast_floor.py`` (read + ``ast.parse`` of every
file). Ratios are printed against loadguard.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from loadguard.analyzers.semgrep import semgrep_command, semgrep_env  # noqa: E402

FLOOR = Path("/work/shared/bench-corpus/ast_floor.py")
DEFAULT_CORPUS = Path("/work/.bench-cache/corpus")


def timed(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one child process."""
    # stderr goes to a file: a tool that logs a lot must not block on a full pipe
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            sys.stderr.write(errors.read().decode("utf-8", "replace")[-500:])
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sets", default="hf_repos,packages")
    parser.add_argument("--analyzers", default=None)
    parser.add_argument("--skip", default="", help="comma list of tools to skip")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; each tool's best wall time is kept"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for name in args.sets.split(","):
        target = args.corpus / name
        if not target.is_dir():
            print(f"{target}: missing (build it with build_corpus.py --cache)")
            continue
        files = sum(1 for _ in target.rglob("*.py"))
        lg = [sys.executable, "-m", "loadguard", "scan", str(target), "--format", "json",
              "-o", os.devnull, "-q", "--preset", "audit"]  # fmt: skip
        if args.analyzers:
            lg += ["--analyzers", args.analyzers]
        tools: dict[str, tuple[list[str], Path | None, dict[str, str]]] = {
            "loadguard": (lg, None, env),  # one worker per usable core (its default)
            "loadguard -j 1": ([*lg, "--jobs", "1"], None, env),  # in one process
            "parse floor": ([sys.executable, str(FLOOR), str(target)], None, env),
        }
        bandit = shutil.which("bandit")
        if bandit:
            tools["bandit -r"] = ([bandit, "-r", "-q", "-f", "json", str(target)], None, env)
        semgrep = shutil.which("semgrep")
        if semgrep:
            tools["semgrep (local rules)"] = (
                semgrep_command(semgrep, ["."]),
                target,
                semgrep_env(),
            )
        print(f"\n## {name}: {files} .py files ({target})")
        print("| tool | wall s | peak RSS MiB | exit | vs loadguard |")
        print("|---|---:|---:|---:|---:|")
        chosen = {t: v for t, v in tools.items() if t.split()[0] not in skip and t not in skip}
        # Rounds interleave the tools, so a load that drifts during the run hits all alike.
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeat):
            for tool, (cmd, cwd, tool_env) in chosen.items():
                wall, rss, code = timed(cmd, cwd, tool_env)
                old = best.get(tool)
                best[tool] = (
                    (min(wall, old[0]), max(rss, old[1]), code) if old else (wall, rss, code)
                )
        base = best["loadguard"][0] if "loadguard" in best else None
        for tool, (wall, rss, code) in best.items():
            ratio = f"{wall / base:.2f}x" if base else "-"
            print(f"| {tool} | {wall:.2f} | {rss:.0f} | {code} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
