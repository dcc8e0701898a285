#!/usr/bin/env python3
"""Pickle scanning: loadguard against picklescan, modelscan and ModelAudit, whole process.

Measures, in one run, wall time and the child's peak RSS (``wait4``) of each
tool on the benign checkpoint set (52 files, 620 MB, built by
``shared/bench-corpus/make_pickles.py``), on a 10x copy of it (hard links),
and on the 500 MB file alone; ``cat`` of the bytes is the floor. Counts the
findings each tool reports on the benign set (target for loadguard: nothing
above low), then runs every tool on the labelled samples of
``tests/pickle_samples.py`` (harmless payloads, never loaded) and prints who
catches what.

  python bench/pickle_speed.py                    # everything
  python bench/pickle_speed.py --skip-modelaudit  # ModelAudit takes ~40 s per pass
  python bench/pickle_speed.py --no-detection

Tools are looked up in their own venvs (``--anchors-venv``, ``--modelaudit-venv``);
a missing tool is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOADGUARD = str(Path(sys.executable).with_name("loadguard"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PROMPTFOO_DISABLE_TELEMETRY": "1"}
# Compare like with like: the anchors run from installed, byte-compiled packages,
# so loadguard runs from byte-compiled sources too (see ``precompile``).
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
MAKE_PICKLES = Path("/work/shared/bench-corpus/make_pickles.py")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    code: int
    stdout: str
    cpu_seconds: float = 0.0  # user + system: steadier than wall time on a shared machine


# Every tool runs in an empty folder: loadguard looks for a policy file in the working
# directory (loadguard.toml, pyproject.toml) and must not be timed parsing this repo's.
NEUTRAL_CWD = tempfile.mkdtemp(prefix="lg-bench-cwd-")


def run(cmd: Sequence[str], *, stdout_to: str | None = None) -> Run:
    """Run a whole process; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=ENV, cwd=NEUTRAL_CWD)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, text, cpu)


def fastest(runs: Sequence[Run]) -> Run:
    best = min(runs, key=lambda r: r.seconds)
    cpu = min(r.cpu_seconds for r in runs)
    return Run(best.seconds, max(r.peak_mb for r in runs), best.code, best.stdout, cpu)


def files_of(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def precompile() -> None:
    """Write loadguard's .pyc files, as ``pip install`` does for every anchor."""
    subprocess.run(
        [PY, "-m", "compileall", "-q", str(ROOT / "src" / "loadguard")], check=True, env=ENV
    )


def ensure_corpus(corpus: Path) -> None:
    if corpus.is_dir() and len(files_of(corpus)) >= 52:
        return
    venv = Path("/work/venv-torch/bin/python")
    if not venv.exists():
        sys.exit(
            "benign corpus missing: python -m venv /work/venv-torch && "
            "/work/venv-torch/bin/pip install torch==2.13.0 numpy && "
            f"/work/venv-torch/bin/python {MAKE_PICKLES} --out {corpus}"
        )
    subprocess.run([str(venv), str(MAKE_PICKLES), "--out", str(corpus)], check=True)


def ensure_copies(corpus: Path, target: Path, times: int = 10) -> None:
    if target.is_dir() and len(files_of(target)) == times * len(files_of(corpus)):
        return
    shutil.rmtree(target, ignore_errors=True)
    for n in range(times):
        folder = target / f"copy{n}"
        folder.mkdir(parents=True)
        for src in files_of(corpus):
            dst = folder / Path(src).name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)


def tools(anchors: Path, modelaudit: Path, skip_modelaudit: bool) -> dict[str, object]:
    """name -> function(folder, files) -> command (or None when the tool is missing)."""

    def have(path: Path) -> bool:
        return path.exists()

    table: dict[str, object] = {
        "cat (floor)": lambda folder, files: ["sh", "-c", 'cat "$@" > /dev/null', "sh", *files],
        "loadguard pickle": lambda folder, files: [
            PY,
            "-m",
            "loadguard.analyzers.pickle",
            "--json",
            *files,
        ],
        # The console script, as users (and the anchors' own scripts) run it: ``python -m``
        # would add runpy's imports (~5 ms) that no installed command pays.
        "loadguard scan": lambda folder, files: [
            LOADGUARD,
            "scan",
            "-q",
            "--format",
            "json",
            "--analyzers",
            "pickle,weights",
            "--fail-on",
            "never",
            folder,
        ],
    }
    if have(anchors / "picklescan"):
        table["picklescan"] = lambda folder, files: [str(anchors / "picklescan"), "-p", folder]
    if have(anchors / "modelscan"):
        table["modelscan"] = lambda folder, files: [
            str(anchors / "modelscan"),
            "-p",
            folder,
            "-r",
            "json",
        ]
    if have(modelaudit / "modelaudit") and not skip_modelaudit:
        table["modelaudit"] = lambda folder, files: [
            str(modelaudit / "modelaudit"),
            "scan",
            "--no-cache",
            "--format",
            "json",
            folder,
        ]
    return table


def benign_findings(name: str, out: str) -> str:
    """What a tool reports on the benign set, in its own terms."""
    if name == "loadguard pickle":
        try:
            doc = json.loads(out[out.index("[") :])
        except ValueError:
            return "?"
        counts: dict[str, int] = {}
        for item in doc:
            for f in item["findings"]:
                counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    if name == "loadguard scan":
        try:
            doc = json.loads(out[out.index("{") :])
        except ValueError:
            return "?"
        counts = {}
        for result in doc.get("results", []):
            for f in result.get("findings", []):
                counts[f["severity"]] = counts.get(f["severity"], 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    if name == "picklescan":
        sus = re.search(r"Suspicious globals: (\d+)", out)
        dan = re.search(r"Dangerous globals: (\d+)", out)
        return (
            f"dangerous {dan.group(1) if dan else '?'}, suspicious {sus.group(1) if sus else '?'}"
        )
    if name == "modelscan":
        total = re.search(r'"total_issues":\s*(\d+)', out)
        return f"issues {total.group(1)}" if total else "?"
    if name == "modelaudit":
        try:
            doc = json.loads(out[out.index("{") :])
            issues = doc.get("issues", [])
            sev: dict[str, int] = {}
            for issue in issues:
                sev[issue.get("severity", "?")] = sev.get(issue.get("severity", "?"), 0) + 1
            return ", ".join(f"{k} {v}" for k, v in sorted(sev.items())) or "none"
        except ValueError:
            return "?"
    return ""


def speed(table: dict[str, object], corpus: Path, copies: Path, large: Path, repeat: int) -> None:
    sets = [
        ("benign set (52 files)", corpus, files_of(corpus)),
        ("10x copy (520 files)", copies, files_of(copies)),
        ("500 MB file alone", large, [str(large)]),
    ]
    for label, folder, files in sets:
        print(f"\n## {label}: {sum(os.path.getsize(f) for f in files) / 1e6:.0f} MB")
        print(
            f"{'tool':18} {'wall s':>8} {'cpu s':>7} {'peak MB':>8} {'x floor':>8} "
            f"{'vs picklescan':>14} {'cpu vs ps':>9}  findings"
        )
        commands: dict[str, list[str]] = {}
        for name, make in table.items():
            if name == "modelaudit" and label.startswith("10x"):
                print(f"{name:18} {'skipped (~10x its 52-file time)':>40}")
                continue
            commands[name] = make(str(folder), files)  # type: ignore[operator]
        # Rounds interleave the tools, so a load that drifts during the run hits all alike.
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for round_number in range(repeat):
            for name, cmd in commands.items():
                if name != "modelaudit" or round_number == 0:
                    runs[name].append(run(cmd))
        results = {name: fastest(r) for name, r in runs.items()}
        floor = results["cat (floor)"].seconds
        ref = results.get("picklescan")
        for name, r in results.items():
            vs = f"{r.seconds / ref.seconds:.2f}" if ref else "-"
            cpu_vs = f"{r.cpu_seconds / ref.cpu_seconds:.2f}" if ref else "-"
            found = benign_findings(name, r.stdout) if not label.startswith("500") else ""
            print(
                f"{name:18} {r.seconds:8.2f} {r.cpu_seconds:7.2f} {r.peak_mb:8.0f} "
                f"{r.seconds / floor:8.1f} {vs:>14} {cpu_vs:>9}  {found}"
            )


def detection(table: dict[str, object], anchors: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import pickle_samples as ps

    folder = Path(tempfile.mkdtemp(prefix="lg-pickle-samples-"))
    names = [n for n in table if n not in ("cat (floor)", "loadguard scan")]
    fickling = anchors / "fickling"
    if fickling.exists():
        names.append("fickling")
    print("\n## detection on labelled samples (caught = exit code 1 / unsafe verdict)")
    print(f"{'sample':28} {'label':9} " + " ".join(f"{n[:12]:>12}" for n in names))
    misses: dict[str, list[str]] = {n: [] for n in names}
    false_alarms: dict[str, list[str]] = {n: [] for n in names}
    for sample in ps.SAMPLES:
        path = folder / sample.name / sample.filename
        path.parent.mkdir(parents=True)
        path.write_bytes(sample.build())
        row = []
        caught_by: dict[str, bool] = {}
        for name in names:
            if name == "fickling":
                r = run([str(fickling), "--check-safety", str(path)])
                caught = r.code != 0
            elif name == "loadguard pickle":
                r = run([PY, "-m", "loadguard.analyzers.pickle", str(path)])
                caught = r.code == 1  # something above low
            elif name == "picklescan":
                r = run([str(anchors / "picklescan"), "-p", str(path)])
                caught = r.code == 1
            elif name == "modelscan":
                r = run([str(anchors / "modelscan"), "-p", str(path)])
                caught = r.code == 1
            else:
                make = table[name]
                r = run(make(str(path), [str(path)]))  # type: ignore[operator]
                caught = r.code == 1
            caught_by[name] = caught
            row.append("caught" if caught else ("-" if sample.malicious else "clean"))
            if sample.malicious and not caught:
                misses[name].append(sample.name)
            if not sample.malicious and caught:
                false_alarms[name].append(sample.name)
        label = "malicious" if sample.malicious else "benign"
        print(f"{sample.name:28} {label:9} " + " ".join(f"{c:>12}" for c in row))
    total = sum(s.malicious for s in ps.SAMPLES)
    print()
    for name in names:
        print(
            f"{name:18} caught {total - len(misses[name])}/{total}, "
            f"false alarms {len(false_alarms[name])}: {', '.join(false_alarms[name]) or '-'}"
        )
    ours = set(misses["loadguard pickle"])
    others = {
        m
        for n in names
        if n != "loadguard pickle"
        for m in ps.SAMPLES_BY_NAME
        if m not in misses[n]
    }
    print(f"loadguard misses caught by an anchor: {sorted(ours & others) or 'none'}")
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cache", type=Path, default=Path("/work/.bench-cache"))
    ap.add_argument("--anchors-venv", type=Path, default=Path("/work/venv-anchors/bin"))
    ap.add_argument("--modelaudit-venv", type=Path, default=Path("/work/venv-modelaudit/bin"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-modelaudit", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-detection", action="store_true")
    a = ap.parse_args()
    corpus = a.cache / "pickles"
    ensure_corpus(corpus)
    precompile()
    copies = a.cache / "pickles-x10"
    ensure_copies(corpus, copies)
    table = tools(a.anchors_venv, a.modelaudit_venv, a.skip_modelaudit)
    missing = {"picklescan", "modelscan", "modelaudit"} - set(table)
    if missing:
        print(f"not installed (skipped): {', '.join(sorted(missing))}")
    if not a.no_speed:
        speed(table, corpus, copies, corpus / "large_500MB_pytorch_model.bin", a.repeat)
    if not a.no_detection:
        detection(table, a.anchors_venv)


if __name__ == "__main__":
    main()
