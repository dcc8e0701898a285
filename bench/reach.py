"""Benchmark reachability on a corpus of model repos, against the scan and against jarviscg.

    PYTHONPATH=src python bench/reach.py /work/.bench-cache/corpus/hf_repos \
        [--jarviscg /work/venv-jarvis/bin/jarviscg] [--limit N] [--disagreements 10]

Reports files in (.py), execution-relevant files out (reach graph vs the
plan's import closure), functions reached of all function spans, and time:
reachability alone, the whole scan (classify, plan, reach and the registered
analyzers; the ``native`` analyzer when it is registered), and a native-rule
proxy (read + parse + one full AST walk of every .py file, the least any
rule engine over the AST pays). The quality bar: reach <= 25 % of the scan.
Times are CPU seconds of this process (``time.process_time``): the machine
is shared, and wall time swings with other load. jarviscg runs as a child
process; its time is wall time.

With ``--jarviscg`` the same seeds (entry modules, plus every method of the
classes the configs name) are closed over jarviscg's call graph of the same
files, and the function sets are compared.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from loadguard import engine
from loadguard.analyzers import REGISTRY
from loadguard.model import ReachGraph, ReachNode, Snapshot
from loadguard.reach import clear_cache
from loadguard.reach.index import dotted_label
from loadguard.sources.local import snapshot_from_folder


def repos_of(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir())


def native_proxy(root: Path, snapshot: Snapshot) -> float:
    """Read, parse (uncached) and walk every .py file once: a floor for AST rule engines."""
    started = time.process_time()
    for entry in snapshot.files:
        if entry.path.endswith(".py"):
            try:
                tree = ast.parse((root / entry.path).read_bytes())
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for _ in ast.walk(tree):
                pass
    return time.process_time() - started


def normalise(name: str) -> str:
    return name.replace(".<locals>", "")


def jarvis_reach(
    jarviscg: str, root: Path, snapshot: Snapshot, graph_nodes: tuple[ReachNode, ...]
) -> tuple[set[str], float, str | None]:
    """Functions reachable over jarviscg's call graph from loadguard's seeds."""
    files = sorted(e.path for e in snapshot.files if e.path.endswith(".py"))
    if not files:
        return set(), 0.0, None
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        output = out.name
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [jarviscg, "--package", ".", *files, "-o", output],
            cwd=root,
            capture_output=True,
            timeout=300,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            return set(), elapsed, (proc.stderr.strip().splitlines() or ["failed"])[-1][:120]
        graph: dict[str, list[str]] = json.loads(Path(output).read_text())
    except (subprocess.TimeoutExpired, ValueError, OSError) as exc:
        return set(), time.perf_counter() - started, repr(exc)[:120]
    finally:
        Path(output).unlink(missing_ok=True)
    # the same seeds as loadguard's graph: entry modules and the functions the
    # framework calls directly (witness = trigger -> node), so only the call
    # graphs differ
    seeds = [
        dotted_label(n.path) + (f".{n.qualname}" if n.qualname else "")
        for n in graph_nodes
        if len(n.witness) == 2
    ]
    seen: set[str] = set()
    stack = list(seeds)  # a seed without calls is absent from their JSON, still reached
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack += [c for c in graph.get(node, ()) if c not in seen]
    return {normalise(n) for n in seen}, elapsed, None


def ours(graph: ReachGraph) -> set[str]:
    return {normalise(f"{dotted_label(n.path)}.{n.qualname}") for n in graph.functions}


def function_names(graph: ReachGraph) -> set[str]:
    """Every function of the analysed files (jarviscg also has class and module nodes)."""
    return {
        normalise(f"{dotted_label(s.path)}.{s.qualname}")
        for s in graph.scopes
        if not s.qualname.startswith("<")
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--jarviscg", default=None)
    parser.add_argument("--disagreements", type=int, default=8)
    parser.add_argument(
        "--cold", action="store_true", help="no graph reuse between byte-identical repos"
    )
    args = parser.parse_args()

    repos = repos_of(args.corpus)[: args.limit or None]
    analyzers = [a for a in ("native",) if a in REGISTRY]
    reach_time = 0.0
    original = engine.build_reach_graph

    def timed(*a: object, **k: object) -> ReachGraph:
        nonlocal reach_time
        started = time.process_time()
        try:
            return original(*a, **k)  # type: ignore[arg-type]
        finally:
            reach_time += time.process_time() - started

    engine.build_reach_graph = timed  # type: ignore[assignment]
    totals: Counter[str] = Counter()
    scan_time = proxy_time = jarvis_time = 0.0
    only_ours: Counter[str] = Counter()
    only_jarvis: Counter[str] = Counter()
    jarvis_errors: list[str] = []
    examples: list[str] = []
    for root in repos:
        if args.cold:
            clear_cache()
        snapshot = snapshot_from_folder(root)
        started = time.process_time()
        result = engine.scan_snapshot(snapshot, analyzers=analyzers)
        scan_time += time.process_time() - started
        proxy_time += native_proxy(root, snapshot)
        graph = result.reach
        assert graph is not None
        totals["repos"] += 1
        totals["py_in"] += sum(1 for f in snapshot.files if f.path.endswith(".py"))
        totals["plan_files"] += sum(1 for p in result.plan.executed_files if p.endswith(".py"))
        totals["reach_files"] += len(graph.files)
        totals["functions"] += sum(1 for s in graph.scopes if not s.qualname.startswith("<"))
        totals["reached"] += len(graph.functions)
        totals["unresolved"] += len(graph.unresolved)
        totals["truncated"] += graph.truncated
        if args.jarviscg:
            theirs, elapsed, error = jarvis_reach(args.jarviscg, root, snapshot, graph.nodes)
            jarvis_time += elapsed
            if error:
                jarvis_errors.append(f"{root.name}: {error}")
                continue
            mine = ours(graph)
            theirs &= function_names(graph)
            totals["jarvis_reached"] += len(theirs)
            totals["both"] += len(mine & theirs)
            for name in mine - theirs:
                only_ours[name.rsplit(".", 1)[-1]] += 1
            for name in theirs - mine:
                only_jarvis[name.rsplit(".", 1)[-1]] += 1
            if (mine ^ theirs) and len(examples) < args.disagreements:
                examples.append(
                    f"{root.name}: only loadguard {sorted(mine - theirs)[:4]}, "
                    f"only jarviscg {sorted(theirs - mine)[:4]}"
                )
    engine.build_reach_graph = original  # type: ignore[assignment]
    whole = scan_time + (0.0 if analyzers else proxy_time)
    print(
        f"corpus: {args.corpus} ({totals['repos']} repos), analyzers in scan: {analyzers or 'none registered'}"
    )
    print(f"files in (.py): {totals['py_in']}")
    print(
        f"execution-relevant files out: {totals['reach_files']} "
        f"(detect's import closure: {totals['plan_files']})"
    )
    print(
        f"functions reached: {totals['reached']} of {totals['functions']} "
        f"({100 * totals['reached'] / max(totals['functions'], 1):.1f} %), "
        f"unresolved points: {totals['unresolved']}, truncated graphs: {totals['truncated']}"
    )
    print(
        f"time: reach {reach_time:.2f} s, scan {scan_time:.2f} s, native proxy {proxy_time:.2f} s"
    )
    label = "scan" if analyzers else "scan + native proxy"
    print(f"reach share of {label}: {100 * reach_time / max(whole, 1e-9):.1f} % (bar: <= 25 %)")
    if args.jarviscg:
        print(
            f"jarviscg: {jarvis_time:.2f} s ({jarvis_time / max(reach_time, 1e-9):.1f}x loadguard reach), "
            f"functions reached {totals['jarvis_reached']}, both {totals['both']}, "
            f"errors {len(jarvis_errors)}"
        )
        print("  only loadguard (by function name):", only_ours.most_common(12))
        print("  only jarviscg (by function name):", only_jarvis.most_common(12))
        for line in examples:
            print("  e.g.", line)
        for line in jarvis_errors[:5]:
            print("  error", line)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of cached trees


if __name__ == "__main__":
    main()
