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
    argv = [
        sys.argv[0],
        str(corpus),
        f"-max_total_time={args.seconds}",
        "-print_final_stats=1",
        "-rss_limit_mb=2048",
        "-timeout=20",
        *rest,
    ]
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
