"""``loadguard report study.duckdb -o OUTDIR``: the study's tables, figures and HTML page."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import LoadguardError


@click.command("report")
@click.argument("db", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", "outdir", default="study-report", show_default=True)
@click.option(
    "--discussions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSONL of developer discussions to classify into the concern taxonomy.",
)
@click.option("--no-figures", is_flag=True, help="Tables and HTML only (no matplotlib).")
def report(db: str, outdir: str, discussions: Path | None, no_figures: bool) -> None:
    """Tables (Markdown, CSV), figures (PNG, SVG) and an HTML page from a study store."""
    from ..study.report import write_report

    console = Console(stderr=True)
    try:
        written = write_report(db, outdir, discussions=discussions, figures=not no_figures)
    except LoadguardError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    console.print(
        f"{len(written['tables'])} tables, {len(written['figures'])} figure files -> "
        f"{Path(outdir) / 'index.html'}"
    )
