"""Time to a verdict for a code-heavy hub repo when every request pays a round trip.

A fake hub on 127.0.0.1 (tests/hubserver.py) adds ``--latency`` seconds to
each request; the repo has ``--modules`` Python files (a custom-code model
with a package of modules). Compared: the remote scan with parallel prefetch
of code/config files (default) and without (one request after the other,
as the analyzers ask).

    PYTHONPATH=src /work/venv/bin/python bench/hub_latency.py [--modules 200] [--latency 0.03]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hubserver import HubServer
from loadguard.engine import scan_snapshot
from loadguard.sources.huggingface import hf_snapshot


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.03)
    args = parser.parse_args()
    files = {
        "config.json": json.dumps(
            {"model_type": "m", "auto_map": {"AutoModel": "modeling_m.Model"}}
        ).encode(),
        "modeling_m.py": b"".join(
            f"from pkg import mod_{i}\n".encode() for i in range(args.modules)
        )
        + b"class Model:\n    pass\n",
        "pkg/__init__.py": b"",
    }
    for i in range(args.modules):
        files[f"pkg/mod_{i}.py"] = f"def f_{i}(x):\n    return x + {i}\n".encode()
    server = HubServer().start()
    try:
        server.state.repo("bench/code").commit(files)
        server.state.latency = args.latency
        timings = {}
        for label, prefetch in (("prefetch", True), ("sequential", False)):
            t0 = time.perf_counter()
            snap = hf_snapshot("bench/code", endpoint=server.url, prefetch=prefetch)
            result = scan_snapshot(snap)
            timings[label] = time.perf_counter() - t0
            print(
                f"{label:>10}: {timings[label]:6.2f}s  verdict {result.verdict.value}  "
                f"{snap.metadata['requests']} file requests, {len(result.plan.executed_files)} "
                "executed files"
            )
        print(
            f"ratio     : {timings['sequential'] / timings['prefetch']:.1f}x faster with prefetch"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
