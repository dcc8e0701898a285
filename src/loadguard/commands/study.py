"""``loadguard study CORPUS --db study.duckdb``: analyse a corpus into a study store."""

from __future__ import annotations

import contextlib
import gc
import sys

import click
from rich.console import Console

from ..errors import LoadguardError


@click.command("study")
@click.argument("corpus")
@click.option("--db", "db_path", default="study.duckdb", show_default=True, help="Study store.")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray", "inline"]),
    default="local",
    show_default=True,
    help="local: process pool; ray: Ray cluster (--address) or a local Ray; inline: this process.",
)
@click.option("--workers", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--address", default=None, help="Ray cluster address (ray executor).")
@click.option(
    "--analyzers",
    default=None,
    help="Comma-separated analyzers (default: the scan's defaults).",
)
@click.option("--fresh", is_flag=True, help="Discard stored results (the cache is kept).")
@click.option("--export", "export_dir", default=None, help="Also export all tables here.")
@click.option(
    "--export-format", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True
)
@click.option("--quiet", is_flag=True, help="No progress display.")
def study(
    corpus: str,
    db_path: str,
    executor: str,
    workers: int | None,
    address: str | None,
    analyzers: str | None,
    fresh: bool,
    export_dir: str | None,
    export_format: str,
    quiet: bool,
) -> None:
    """Analyse every repository of CORPUS (folder tree, target list, or hf-query:...).

    Resumable: rerun the same command after an interruption and only the
    repositories not yet stored are analysed.
    """
    from ..study.progress import StudyDisplay
    from ..study.runner import run_study
    from ..study.store import StudyStore

    console = Console(stderr=True)
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    try:
        with StudyStore(db_path) as store:
            display = contextlib.nullcontext(None) if quiet else StudyDisplay(console)
            with display as shown:
                summary = run_study(
                    corpus,
                    store,
                    analyzers=selected,
                    executor=executor,
                    workers=workers,
                    address=address,
                    fresh=fresh,
                    on_progress=shown.update if shown is not None else None,
                )
            if export_dir:
                store.export(export_dir, export_format)
            counts = store.counts()
    except LoadguardError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
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
