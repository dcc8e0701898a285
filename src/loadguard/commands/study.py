"""``loadguard study CORPUS --db study.duckdb``: analyse a corpus into a study store."""

from __future__ import annotations

import argparse
import contextlib
import gc

from rich.console import Console

from ..errors import LoadguardError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "corpus", metavar="CORPUS", help="Folder tree, target list, or hf-query:..."
    )
    parser.add_argument(
        "--db",
        dest="db_path",
        default="study.duckdb",
        metavar="FILE",
        help="Study store (default: %(default)s).",
    )
    parser.add_argument(
        "--executor",
        choices=["local", "ray", "inline"],
        default="local",
        help="local: process pool; ray: Ray cluster (--address) or a local Ray; "
        "inline: this process (default: %(default)s).",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="Worker processes (default: all cores)."
    )
    parser.add_argument("--address", help="Ray cluster address (ray executor).")
    parser.add_argument(
        "--analyzers",
        metavar="NAMES",
        help="Comma-separated analyzers (default: the scan's defaults).",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="Discard stored results (the cache is kept)."
    )
    parser.add_argument(
        "--export", dest="export_dir", metavar="DIR", help="Also export all tables here."
    )
    parser.add_argument(
        "--export-format",
        choices=["parquet", "csv"],
        default="parquet",
        help="Format of the exported tables (default: %(default)s).",
    )
    parser.add_argument("--quiet", action="store_true", help="No progress display.")


def run(args: argparse.Namespace) -> int:
    """Analyse every repository of CORPUS (folder tree, target list, or hf-query:...).

    Resumable: rerun the same command after an interruption and only the
    repositories not yet stored are analysed.
    """
    from ..study.progress import StudyDisplay
    from ..study.runner import run_study
    from ..study.store import StudyStore

    console = Console(stderr=True)
    analyzers: str | None = args.analyzers
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    try:
        with StudyStore(args.db_path) as store:
            display = contextlib.nullcontext(None) if args.quiet else StudyDisplay(console)
            with display as shown:
                summary = run_study(
                    args.corpus,
                    store,
                    analyzers=selected,
                    executor=args.executor,
                    workers=args.workers,
                    address=args.address,
                    fresh=args.fresh,
                    on_progress=shown.update if shown is not None else None,
                )
            if args.export_dir:
                store.export(args.export_dir, args.export_format)
            counts = store.counts()
    except LoadguardError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    finally:
        # pyparse freezes parsed trees out of the GC's reach; DuckDB's bindings report
        # every object still frozen at exit as a leak, so hand them back first
        gc.unfreeze()
    console.print(
        f"run {summary.run_id}: {summary.done} repos analysed, {summary.skipped} already stored, "
        f"{summary.files_cached}/{summary.files_analysed} file analyses from cache, "
        f"{summary.findings} findings in {summary.seconds:.1f}s; store holds "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    return 0
