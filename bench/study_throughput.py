"""Study throughput: cold run, warm rerun, cache-warm rescan, 1 vs 2 workers, Ray.

Corpus: the benign benchmark corpus' 390 Hugging Face style custom-code repos
(real ``transformers`` model code, /work/shared/bench-corpus) replicated to
N repositories the way hubs fill up:

* ~30 % byte-identical copies of a repository (re-uploads, mirrors);
* the rest derived fine-tunes: a new ``config.json`` (own name, dtype), the
  modeling files verbatim, and one in four with edited modeling code;
* platform layouts: Hugging Face, ModelScope (``configuration.json``),
  OpenCSG (HF layout mirrored), PyTorch Hub (a ``hubconf.py`` over the code);
* weights: a tiny benign pickle ``pytorch_model.bin`` in ~35 %, a tiny
  ``model.safetensors`` in ~7 %;
* a synthetic ``created_at`` per repo (for the trend figure only).

Identical files are hard links (disk), which the scanner cannot tell apart
from copies. The anchor is the parse floor: read + ``ast.parse`` of every
Python file of the corpus in one process (bench-corpus/ast_floor.py's measure).

    PYTHONPATH=src python bench/study_throughput.py --repos 5000
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BASE = Path("/work/.bench-cache/corpus/hf_repos")
PLATFORMS = (("huggingface", 0.60), ("modelscope", 0.20), ("opencsg", 0.12), ("torch_hub", 0.08))
SURGES = {"2023-03": 3.0, "2023-07": 2.5, "2024-04": 2.5, "2024-09": 1.8, "2025-01": 3.0}


def months() -> list[str]:
    return [f"{y}-{m:02d}" for y in range(2022, 2026) for m in range(1, 13)]


def build_corpus(out: Path, repos: int, copies: float, seed: int = 0) -> Path:
    marker = out / ".complete"
    if marker.exists() and json.loads(marker.read_text()) == {"repos": repos, "copies": copies}:
        return out / "targets.jsonl"
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    bases = sorted(p for p in BASE.iterdir() if p.is_dir())
    if not bases:
        raise SystemExit(
            f"{BASE} is empty: build it with /work/shared/bench-corpus/build_corpus.py"
        )
    root = out / "repos"
    root.mkdir(parents=True)
    blob = out / "blobs"
    blob.mkdir()
    pickled = blob / "pytorch_model.bin"
    pickled.write_bytes(pickle.dumps(OrderedDict(weight=[0.0] * 16, bias=[0.0] * 4), protocol=2))
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    header += b" " * (-len(header) % 8)
    safet = blob / "model.safetensors"
    safet.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 16)
    weights = [1.0 + 0.08 * i + SURGES.get(m, 0.0) for i, m in enumerate(months())]
    made: list[Path] = []
    records = []
    for i in range(repos):
        name = f"r{i:05d}"
        target = root / name
        if i >= len(bases) and rng.random() < copies:
            source = made[rng.randrange(len(made))]  # a byte-identical re-upload
            _link_tree(source, target)
            record = dict(records[made.index(source)])
        else:
            base = bases[i % len(bases)]
            _link_tree(base, target)
            _derive(target, base, i, rng, edit_code=i >= len(bases) and rng.random() < 0.25)
            platform = rng.choices([p for p, _ in PLATFORMS], [w for _, w in PLATFORMS])[0]
            _layout(target, platform, i)
            if rng.random() < 0.35:
                os.link(pickled, target / "pytorch_model.bin")
            if rng.random() < 0.07:
                os.link(safet, target / "model.safetensors")
            month = rng.choices(months(), weights)[0]
            record = {"platform": platform, "created_at": f"{month}-{rng.randint(1, 28):02d}"}
        made.append(target)
        records.append(record)
    with (out / "targets.jsonl").open("w") as handle:
        for target, record in zip(made, records):
            handle.write(json.dumps({"target": f"repos/{target.name}", **record}) + "\n")
    marker.write_text(json.dumps({"repos": repos, "copies": copies}))
    return out / "targets.jsonl"


def _link_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, dest)


def _replace(path: Path, data: bytes) -> None:
    path.unlink()  # never write through a hard link into the other copies
    path.write_bytes(data)


def _derive(target: Path, base: Path, i: int, rng: random.Random, edit_code: bool) -> None:
    config = target / "config.json"
    if config.exists():
        data = json.loads(config.read_text())
        data["_name_or_path"] = f"org{i % 97}/{base.name}-ft{i}"
        data["torch_dtype"] = rng.choice(["float16", "bfloat16", "float32"])
        _replace(config, json.dumps(data, indent=2).encode())
    if edit_code:
        code = sorted(target.glob("modeling_*.py"))
        if code:
            text = code[0].read_bytes()
            _replace(
                code[0], text + f"\n\n# fine-tune {i}: adapted defaults\nFT_ID = {i}\n".encode()
            )


def _layout(target: Path, platform: str, i: int) -> None:
    if platform == "modelscope":
        (target / "configuration.json").write_text(
            json.dumps(
                {"framework": "pytorch", "task": "text-generation", "model": {"type": "llm"}}
            )
        )
    elif platform == "torch_hub":
        modeling = sorted(target.glob("modeling_*.py"))
        module = modeling[0].stem if modeling else "model"
        (target / "hubconf.py").write_text(
            f"dependencies = ['torch']\n\nfrom {module} import *  # noqa\n\n\n"
            "def model(pretrained=False, **kwargs):\n"
            f'    """Entry point {i}."""\n    raise NotImplementedError\n'
        )


def parse_floor(root: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for path in sorted(root.rglob("*.py")):
        ast.parse(path.read_bytes())
        count += 1
    return time.perf_counter() - started, count


def study(targets: Path, db: Path, workers: int, executor: str = "local", *extra: str) -> float:
    cmd = [
        sys.executable, "-m", "loadguard", "study", str(targets), "--db", str(db),
        "--workers", str(workers), "--executor", executor, "--quiet", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(HERE / "src")}
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"study failed: {done.stderr[-2000:]}")
    print("   ", done.stderr.strip().splitlines()[-1][:160] if done.stderr.strip() else "")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=5000)
    parser.add_argument("--copies", type=float, default=0.30)
    parser.add_argument("--out", type=Path, default=Path("/work/.bench-cache/study"))
    parser.add_argument("--ray", action="store_true", help="also time the Ray executor (2 workers)")
    parser.add_argument(
        "--scaling-repos", type=int, default=1000,
        help="corpus size for the 1 vs 2 workers comparison (0: skip)",
    )  # fmt: skip
    parser.add_argument("--rescan", action="store_true", help="also time --fresh with a warm cache")
    args = parser.parse_args()

    started = time.perf_counter()
    targets = build_corpus(args.out / f"corpus-{args.repos}", args.repos, args.copies)
    print(
        f"corpus: {args.repos} repos ({targets.parent}), built/checked in "
        f"{time.perf_counter() - started:.1f}s; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    work = args.out / "dbs"
    work.mkdir(parents=True, exist_ok=True)
    n = args.repos

    def fresh(name: str) -> Path:
        db = work / f"{name}.duckdb"
        for p in (db, db.with_name(db.name + ".wal")):
            p.unlink(missing_ok=True)
        return db

    def timed(label: str, repos: int, secs: float) -> float:
        print(f"| {label} | {repos} | {secs:.1f} | {repos / secs:.2f} |", flush=True)
        return secs

    print("| run | repos | wall s | repos/s |\n|---|---:|---:|---:|", flush=True)
    db = fresh("w2")
    cold2 = timed("cold, 2 workers", n, study(targets, db, 2))
    warm = timed("warm rerun, same store", n, study(targets, db, 2))
    if args.rescan:
        timed("rescan, cache warm (--fresh)", n, study(targets, db, 2, "local", "--fresh"))
    if args.ray:
        timed("cold, 2 workers, Ray (local)", n, study(targets, fresh("ray"), 2, "ray"))
    scaling: dict[int, float] = {}
    if args.scaling_repos:
        m = args.scaling_repos
        small = build_corpus(args.out / f"corpus-{m}", m, args.copies)
        floor, files = parse_floor(small.parent / "repos")
        timed(f"anchor: read + ast.parse, {files} .py files, 1 process", m, floor)
        for workers in (1, 2):
            scaling[workers] = timed(
                f"cold, {workers} worker(s)", m, study(small, fresh(f"scale{workers}"), workers)
            )
        print(
            f"1 worker vs parse floor: {scaling[1] / floor:.1f}x; "
            f"speed-up 1 -> 2 workers: {scaling[1] / scaling[2]:.2f}x"
        )
    print(f"warm rerun = {100 * warm / cold2:.1f} % of cold (2 workers, {n} repos)")
    print(f"load average at the end {os.getloadavg()[0]:.1f} (2 cores shared)")
    per_repo = cold2 / n
    print(
        f"estimate 45,000 repos, one 2-core machine: {45000 * per_repo / 3600:.2f} h "
        "(linear in repos at this duplicate share; analysis only, downloads excluded)"
    )


if __name__ == "__main__":
    main()
