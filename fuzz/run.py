"""Run one fuzz target with atheris for a bounded time: python fuzz/run.py TARGET --seconds N."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


INSTRUMENTED = (
    "loadguard.detect",
    "loadguard.reach",
    "loadguard.sources.archive",
    "loadguard.analyzers.native",
    "loadguard.analyzers.deobfuscate",
    "loadguard.analyzers.pickle",
    "loadguard.analyzers.containers",
    "loadguard.analyzers.sparse",
    "loadguard.analyzers.weights",
    "loadguard.analyzers.templates",
    "loadguard.census",
)


def _seeds(target: str) -> list[bytes]:
    """Valid starting inputs for the binary formats (serializing only, never loading)."""
    import json
    import pickle

    if target == "pickle":
        values: list[object] = [{"a": [1, 2.5, "x", b"y"]}, (None, True), {1, 2}]
        return [pickle.dumps(v, protocol=p) for v in values for p in (0, 2, 4, 5)]
    if target == "safetensors":
        header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
        return [header.encode() + b"\x00" + b"\x00" * 8]
    return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--corpus", type=Path, default=None)
    args, rest = parser.parse_known_args()
    import importlib

    import atheris

    with atheris.instrument_imports():
        # modules the pipeline imports lazily must be imported here to be instrumented
        for module in INSTRUMENTED:
            importlib.import_module(module)
        from targets import TARGETS

    target = TARGETS[args.target]
    corpus = args.corpus or Path(__file__).resolve().parent / "corpus" / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    (Path(__file__).resolve().parent / "artifacts").mkdir(exist_ok=True)
    if not any(corpus.iterdir()):
        for index, seed in enumerate(_seeds(args.target)):
            (corpus / f"seed-{index}").write_bytes(seed)
    argv = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={args.seconds}",
        "-print_final_stats=1",
        "-rss_limit_mb=2048",
        "-timeout=20",
        f"-artifact_prefix={Path(__file__).resolve().parent / 'artifacts'}/",
        *rest,
    ]
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
