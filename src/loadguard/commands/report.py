"""``loadguard report study.duckdb -o OUTDIR``: the study's tables, figures and HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..cli import existing_file
from ..errors import LoadguardError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "db", type=existing_file, metavar="DB", help="Study store (from loadguard study)."
    )
    parser.add_argument(
        "-o",
        "--out",
        dest="outdir",
        default="study-report",
        metavar="DIR",
        help="Output folder (default: %(default)s).",
    )
    parser.add_argument(
        "--discussions",
        type=existing_file,
        metavar="FILE",
        help="JSONL of developer discussions to classify into the concern taxonomy.",
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="Tables and HTML only (no matplotlib)."
    )


def run(args: argparse.Namespace) -> int:
    """Tables (Markdown, CSV), figures (PNG, SVG) and an HTML page from a study store."""
    from ..study.report import write_report

    console = Console(stderr=True)
    try:
        written = write_report(
            args.db, args.outdir, discussions=args.discussions, figures=not args.no_figures
        )
    except LoadguardError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    console.print(
        f"{len(written['tables'])} tables, {len(written['figures'])} figure files -> "
        f"{Path(args.outdir) / 'index.html'}"
    )
    return 0
