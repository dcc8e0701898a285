"""Detection quality on the labelled corpus: loadguard vs Bandit vs Semgrep.

    PYTHONPATH=src python bench/detection.py [--analyzers native,yara] [--keep DIR]

Builds ``tests/corpus/build.py`` into a temp dir, scans every repo, and prints
recall on malicious repos and the high-severity false-positive rate on benign
ones, overall and per technique, per tool. A repo counts as detected by
loadguard when it reports a finding >= HIGH that is reachable (``reachable is
True``); Bandit and Semgrep have no notion of reach, so for them any finding
>= HIGH in the repo counts (their most favourable reading). Bandit runs as
``bandit -r`` and Semgrep with loadguard's shipped ruleset, once over the
whole corpus each.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
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
from loadguard.engine import MemoryCache, scan_snapshot  # noqa: E402
from loadguard.model import Severity  # noqa: E402
from loadguard.sources.local import snapshot_from_folder  # noqa: E402


def load_builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("corpus_build", ROOT / "tests/corpus/build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_build"] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def run_loadguard(
    corpus: Path, labels: dict, analyzers: list[str] | None
) -> tuple[dict, float, dict]:
    detected: dict[str, bool] = {}
    located: dict[str, bool] = {}  # detected in the labelled file, not only somewhere
    cache = MemoryCache()
    started = time.perf_counter()
    for repo in labels:
        snapshot = snapshot_from_folder(corpus / repo, repo_id=repo)
        result = scan_snapshot(snapshot, analyzers=analyzers, cache=cache)
        strong = [f for f in result.findings if f.severity >= Severity.HIGH and f.reachable is True]
        detected[repo] = bool(strong)
        expected = labels[repo]["expected_file"]
        located[repo] = any(f.location.path.split("!", 1)[0] == expected for f in strong)
    return detected, time.perf_counter() - started, located


def _repo_of(path: str, corpus: Path) -> str:
    rel = os.path.relpath(os.path.join(corpus, path) if not os.path.isabs(path) else path, corpus)
    return rel.split(os.sep, 1)[0]


def run_bandit(
    corpus: Path, labels: dict, levels: tuple[str, ...] = ("HIGH",)
) -> tuple[dict, float] | None:
    binary = shutil.which("bandit")
    if binary is None:
        return None
    started = time.perf_counter()
    proc = subprocess.run([binary, "-r", "-q", "-f", "json", str(corpus)], capture_output=True)
    elapsed = time.perf_counter() - started
    results = json.loads(proc.stdout or b"{}").get("results", [])
    hit = dict.fromkeys(labels, False)
    for item in results:
        if item.get("issue_severity") in levels:
            hit[_repo_of(item["filename"], corpus)] = True
    return hit, elapsed


def run_semgrep(corpus: Path, labels: dict) -> tuple[dict, float] | None:
    binary = shutil.which("semgrep")
    if binary is None:
        return None
    (corpus / ".semgrepignore").write_text("")  # scan tests/, scripts/ ... too
    started = time.perf_counter()
    proc = subprocess.run(
        semgrep_command(binary, ["."]), cwd=corpus, env=semgrep_env(), capture_output=True
    )
    elapsed = time.perf_counter() - started
    hit = dict.fromkeys(labels, False)
    for item in json.loads(proc.stdout or b"{}").get("results", []):
        meta = item.get("extra", {}).get("metadata", {})
        if str(meta.get("lg_severity", "")).lower() in ("high", "critical"):
            hit[_repo_of(item["path"], corpus)] = True
    return hit, elapsed


def report(name: str, hit: dict, labels: dict, elapsed: float) -> dict:
    mal = [r for r, v in labels.items() if v["malicious"]]
    ben = [r for r, v in labels.items() if not v["malicious"]]
    recall = sum(hit.get(r, False) for r in mal) / len(mal)
    fp = sum(hit.get(r, False) for r in ben) / len(ben)
    per = collections.defaultdict(lambda: [0, 0])
    for r in mal:
        per[labels[r]["technique"]][0] += hit.get(r, False)
        per[labels[r]["technique"]][1] += 1
    missed = sorted(r for r in mal if not hit.get(r, False))
    flagged = sorted(r for r in ben if hit.get(r, False))
    print(f"\n## {name}  ({elapsed:.1f} s)")
    print(
        f"recall {recall:.3f} ({len(mal) - len(missed)}/{len(mal)})   "
        f"high-severity FP rate {fp:.3f} ({len(flagged)}/{len(ben)})"
    )
    if missed:
        print("missed:", ", ".join(missed[:15]) + (" ..." if len(missed) > 15 else ""))
    if flagged:
        print("false positives:", ", ".join(flagged[:15]))
    return {"recall": recall, "fp": fp, "per": dict(per)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--analyzers", default=None, help="comma list (default: loadguard's defaults)"
    )
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()
    analyzers = args.analyzers.split(",") if args.analyzers else None
    tmp = tempfile.mkdtemp(prefix="lg-detect-")
    corpus = args.keep or Path(tmp) / "corpus"
    try:
        labels = load_builder().build(corpus)
        tools: dict[str, dict] = {}
        lg_hit, lg_time, lg_located = run_loadguard(corpus, labels, analyzers)
        tools["loadguard"] = report(
            f"loadguard ({args.analyzers or 'default analyzers'})", lg_hit, labels, lg_time
        )
        mal = [r for r, v in labels.items() if v["malicious"]]
        print(f"found in the labelled file: {sum(lg_located[r] for r in mal)}/{len(mal)}")

        def bandit_medium(corpus: Path, labels: dict) -> tuple[dict, float] | None:
            return run_bandit(corpus, labels, ("MEDIUM", "HIGH"))

        runners = (
            ("bandit", run_bandit),
            ("bandit>=medium", bandit_medium),
            ("semgrep", run_semgrep),
        )
        for name, runner in runners:
            out = runner(corpus, labels)
            if out is None:
                print(f"\n## {name}: not on PATH, skipped")
                continue
            tools[name] = report(name, out[0], labels, out[1])
        techniques = sorted({v["technique"] for v in labels.values() if v["malicious"]})
        print("\n| technique | n | " + " | ".join(tools) + " |")
        print("|---|---:|" + "---:|" * len(tools))
        for t in techniques:
            n = next(iter(tools.values()))["per"][t][1]
            cells = " | ".join(f"{tools[k]['per'][t][0]}" for k in tools)
            print(f"| {t} | {n} | {cells} |")
        print("| **recall** | | " + " | ".join(f"{tools[k]['recall']:.3f}" for k in tools) + " |")
        print("| **high FP rate** | | " + " | ".join(f"{tools[k]['fp']:.3f}" for k in tools) + " |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
