"""Cost of isolation: ``trial`` vs an unsandboxed load, and ``guard()`` vs an unguarded load.

    PYTHONPATH=src python bench/sandbox_overhead.py [--torch-python /work/venv-torch/bin/python]
        [--repeat 5]

Trial: the same load (import a small remote-code module tree; with torch, also
``torch.load`` of a 20 MB checkpoint) run (a) in a plain child process and
(b) under ``loadguard.sandbox`` with every layer on, static scan off. Both are
whole child processes, so the ratio is the sandbox's own start-up and teardown.

Guard: in one process, the same realistic load repeated with and without
``loadguard.guard()`` (block mode, nothing violates): importing a fresh
64-module package that writes into the cache, and ``torch.load(...,
weights_only=False)`` of a checkpoint with 200 tensors (every tensor is a
``pickle.find_class`` event) when torch is available, else ``pickle.load`` of
an equivalent numpy state dict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODULE_TREE = 24  # modules in the trial's remote-code tree


def make_repo(base: Path) -> Path:
    repo = base / "repo"
    repo.mkdir()
    for i in range(MODULE_TREE):
        nxt = f"from . import m{i + 1}\n" if i + 1 < MODULE_TREE else ""
        (repo / f"m{i}.py").write_text(
            f"{nxt}import json, math\nVALUE = [math.sqrt(k) for k in range(2000)]\n"
            f"def f{i}(x):\n    return json.dumps({{'x': x}})\n"
        )
    return repo


def time_plain(python: str, repo: Path, code: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([python, "-I", "-c", code], cwd=repo, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def time_trial(python: str, repo: Path, steps: list[dict[str, object]], repeat: int) -> list[float]:
    from loadguard.sandbox.launcher import SandboxConfig, run_in_sandbox

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        raw = run_in_sandbox(
            str(repo), steps, SandboxConfig(python=python, timeout=120, settle_seconds=0.0)
        )
        times.append(time.perf_counter() - started)
        assert raw.returncode == 0, raw.stderr_tail[-2000:]
    return times


GUARD_BENCH = r"""
import importlib, os, pickle, shutil, statistics, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import loadguard
repeat = int(sys.argv[2])
cache = tempfile.mkdtemp(prefix="lg-guard-bench-")
os.environ["HF_HOME"] = cache
try:
    import torch
    state = {f"layer{i}.weight": torch.randn(64, 64) for i in range(200)}
    ckpt = os.path.join(cache, "ckpt.bin")
    torch.save(state, ckpt)
    def load_weights():
        return torch.load(ckpt, weights_only=False)
    what = "torch.load(weights_only=False), 200 tensors"
except ImportError:
    import numpy as np
    from collections import OrderedDict
    state = OrderedDict((f"layer{i}.weight", np.ones((64, 64), "float32")) for i in range(200))
    ckpt = os.path.join(cache, "ckpt.pkl")
    with open(ckpt, "wb") as f:
        pickle.dump(state, f)
    def load_weights():
        with open(ckpt, "rb") as f:
            return pickle.load(f)
    what = "pickle.load of a numpy state dict, 200 arrays"

def make_package(n):
    pkg = os.path.join(cache, f"pkg{n}")
    os.makedirs(pkg)
    for i in range(64):
        with open(os.path.join(pkg, f"m{i}.py"), "w") as f:
            f.write(f"import json\nX = [k * k for k in range(500)]\ndef f(x):\n    return json.dumps(x)\n")
    open(os.path.join(pkg, "__init__.py"), "w").close()
    return f"pkg{n}"

sys.path.insert(0, cache)
def load(n):
    name = make_package(n)
    for i in range(64):
        importlib.import_module(f"{name}.m{i}")
    load_weights()

def run(guarded, base):
    times = []
    for r in range(repeat):
        started = time.perf_counter()
        if guarded:
            with loadguard.guard() as g:
                load(base + r)
            assert not g.events, g.events
        else:
            load(base + r)
        times.append(time.perf_counter() - started)
    return times

run(False, 1000); run(True, 2000)  # warm both paths (first import of loadguard.guard)
plain = run(False, 0)
guarded = run(True, 100)
shutil.rmtree(cache, ignore_errors=True)
print(what)
print(f"{statistics.median(plain):.4f} {statistics.median(guarded):.4f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default="/work/venv-torch/bin/python")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch_python = args.torch_python if os.path.exists(args.torch_python) else None
    print(f"load average {os.getloadavg()[0]:.2f}; repeat {args.repeat}; median seconds")
    print("| load | unsandboxed | trial (all layers) | ratio | + seconds |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp))
        import_code = (
            "import importlib, sys, types; pkg = types.ModuleType('r'); pkg.__path__ = ['.'];"
            "sys.modules['r'] = pkg; importlib.import_module('r.m0')"
        )
        cases: list[tuple[str, str, str, list[dict[str, object]]]] = [
            (f"import a {MODULE_TREE}-module remote-code tree", sys.executable, import_code,
             [{"kind": "modules", "modules": ["m0.py"]}]),
        ]  # fmt: skip
        if torch_python:
            subprocess.run(
                [torch_python, "-c",
                 "import torch; torch.save({f'w{i}': torch.randn(256, 256) for i in range(80)},"
                 f" {str(repo / 'pytorch_model.bin')!r})"],
                check=True,
            )  # fmt: skip
            cases.append(
                ("torch.load of a 20 MB checkpoint", torch_python,
                 "import torch; torch.load('pytorch_model.bin', weights_only=True)",
                 [{"kind": "pickle", "path": "pytorch_model.bin", "format": "torch-zip"}])
            )  # fmt: skip
        for label, python, code, steps in cases:
            plain = statistics.median(time_plain(python, repo, code, args.repeat))
            boxed = statistics.median(time_trial(python, repo, steps, args.repeat))
            print(
                f"| {label} | {plain:.3f} | {boxed:.3f} | {boxed / plain:.2f}x | {boxed - plain:+.3f} |"
            )
    print()
    python = torch_python or sys.executable
    out = subprocess.run(
        [python, "-c", GUARD_BENCH, str(ROOT / "src"), str(args.repeat)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    plain, guarded = (float(x) for x in out[1].split())
    print("| guard() on a realistic load | unguarded | guarded | overhead |")
    print("|---|---:|---:|---:|")
    print(
        f"| import a 64-module package + {out[0]} | {plain:.4f} | {guarded:.4f} | "
        f"{(guarded / plain - 1) * 100:+.1f}% |"
    )


if __name__ == "__main__":
    main()
