"""``loadguard scan``: find the load-time code of repositories and judge it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import click

from ..model import ScanError, ScanResult, Severity

FORMATS = ("text", "json")
T = TypeVar("T")


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of standard output.",
)
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    help="Exit 1 when a reachable finding has at least this severity "
    "(info, low, medium, high, critical, or 'never').",
)
@click.option(
    "--analyzers",
    default=None,
    help="Comma-separated analyzers to run (default: the built-in set).",
)
@click.option(
    "--min-severity",
    default="low",
    show_default=True,
    help="Hide findings below this severity in the terminal view.",
)
@click.option("--show-reach", is_flag=True, help="Show the reach graph with witness paths.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def scan(
    targets: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    analyzers: str | None,
    min_severity: str,
    show_reach: bool,
    quiet: bool,
) -> None:
    """Scan folders, archives, the HF cache or hub ids (hf:org/name) for load-time code.

    Exit codes: 0 clean, 1 a reachable finding at or above --fail-on,
    2 usage error or a target/file that could not be scanned.
    """
    from ..api import iter_scan

    try:
        threshold = None if fail_on == "never" else Severity.parse(fail_on)
        minimum = Severity.parse(min_severity)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    results: list[ScanResult] = []
    source_errors: list[ScanError] = []
    items = iter_scan(list(targets), analyzers=selected)
    for item in _with_progress(items, enabled=not quiet and fmt == "text" and sys.stderr.isatty()):
        if isinstance(item, ScanError):
            source_errors.append(item)
        else:
            results.append(item)
    if fmt == "json":
        from ..report.json import dumps, results_to_document

        _emit(dumps(results_to_document(results, source_errors)), output)
    else:
        from rich.console import Console

        from ..report.text import print_results

        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                print_results(
                    Console(file=handle, width=140),
                    results,
                    source_errors,
                    minimum=minimum,
                    show_reach=show_reach,
                )
        else:
            console = Console() if sys.stdout.isatty() else Console(width=140)
            print_results(console, results, source_errors, minimum=minimum, show_reach=show_reach)
    sys.exit(exit_code(results, source_errors, threshold))


def exit_code(
    results: list[ScanResult], source_errors: list[ScanError], threshold: Severity | None
) -> int:
    """1 beats 2: a dangerous finding matters more than an unreadable file."""
    if threshold is not None and any(
        f.severity >= threshold and f.reachable is not False for r in results for f in r.findings
    ):
        return 1
    if source_errors or any(r.errors for r in results):
        return 2
    return 0


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _with_progress(items: Iterator[T], *, enabled: bool) -> Iterator[T]:
    if not enabled:
        yield from items
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    ) as progress:
        task = progress.add_task("scanning", total=None)
        for count, item in enumerate(items, 1):
            progress.update(task, description=f"scanned {count} repositories")
            yield item
