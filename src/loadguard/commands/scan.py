"""``loadguard scan``: find the load-time code of repositories and judge it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from ..model import ScanError, ScanResult, Severity, Snapshot

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..policy import Gate

FORMATS = ("text", "json", "sarif", "html")
MAX_AUTO_JOBS = 8  # each worker holds its own parse and analysis caches
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
    default=None,
    help="Exit 1 when a reachable finding has at least this severity "
    "(info, low, medium, high, critical, or 'never'); overrides the policy's fail-on. "
    "[default: high]",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy file (loadguard.toml, or pyproject.toml with [tool.loadguard]). "
    "Default: one found in the current directory, else the 'balanced' preset.",
)
@click.option(
    "--preset",
    type=click.Choice(["strict", "balanced", "audit"]),
    default=None,
    help="Built-in policy: strict (CI), balanced, audit (never fails).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Accepted findings (from --write-baseline): report only new ones.",
)
@click.option(
    "--write-baseline",
    "write_baseline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record the fingerprints of the findings shown now as accepted, then exit 0.",
)
@click.option(
    "--baseline-reason",
    default="",
    help="Why the findings written by --write-baseline are accepted (required with it).",
)
@click.option(
    "--baseline-expires",
    default="90d",
    show_default=True,
    help="When entries written by --write-baseline expire: YYYY-MM-DD or a duration (90d, 12w).",
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
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Worker processes for folders of many repositories (0: one per usable core; "
    "1: scan in this process). A single repository is always scanned in this process.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def scan(
    targets: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    analyzers: str | None,
    min_severity: str,
    show_reach: bool,
    jobs: int,
    quiet: bool,
    policy_path: Path | None,
    preset: str | None,
    baseline_path: Path | None,
    write_baseline_path: Path | None,
    baseline_reason: str,
    baseline_expires: str,
) -> None:
    """Scan folders, archives, the HF cache or hub ids (hf:org/name) for load-time code.

    Exit codes (docs/gate.md): 0 the policy passed, 1 a policy violation (a finding at
    or above fail-on, a disallowed trust flag, an unpinned revision ...), 2 a usage error
    or a target/file that could not be scanned.
    """
    from ..api import iter_scan
    from ..errors import PolicyError
    from ..policy import choose_policy

    try:
        minimum = Severity.parse(min_severity)
        policy = choose_policy(policy_path, preset, fail_on, Path.cwd())
        baseline = _read_baseline(baseline_path) if baseline_path is not None else None
    except (ValueError, PolicyError) as exc:
        raise click.UsageError(str(exc)) from exc
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    results: list[ScanResult] = []
    source_errors: list[ScanError] = []
    from ..advice import RepoFacts

    # Advice needs a few file facts (tokenizer.json? model_type?) while the snapshot is open.
    facts: dict[tuple[str, str], RepoFacts] = {}

    def remember(snapshot: Snapshot) -> None:
        facts[(snapshot.repo_id, snapshot.location)] = RepoFacts.from_snapshot(snapshot)

    if jobs == 0:
        from ..parallel import usable_cores

        jobs = min(usable_cores(), MAX_AUTO_JOBS)
    items = iter_scan(list(targets), analyzers=selected, on_snapshot=remember, jobs=jobs)
    for item in _with_progress(items, enabled=not quiet and fmt == "text" and sys.stderr.isatty()):
        if isinstance(item, ScanError):
            source_errors.append(item)
        else:
            results.append(item)
    from ..policy import apply_policy

    gate = apply_policy(policy, results, source_errors, baseline=baseline)
    if write_baseline_path is not None:
        _write_baseline(gate, baseline, write_baseline_path, baseline_reason, baseline_expires)
        return
    results = [repo.result for repo in gate.repos]
    if fmt == "json":
        from ..report.gate_data import gate_document
        from ..report.json import dumps

        _emit(dumps(gate_document(gate, facts)), output)
    elif fmt == "sarif":
        from ..report.gate_data import gate_sarif
        from ..report.sarif import sarif_dumps

        _emit(sarif_dumps(gate_sarif(gate, root=Path.cwd())), output)
    elif fmt == "html":
        from ..report.html import render_html

        _emit(render_html(gate, facts), output)
    else:
        from rich.console import Console

        from ..report.gate_view import print_gate

        def render(console: Console) -> None:
            print_gate(console, gate, facts, minimum=minimum, show_reach=show_reach)

        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                render(Console(file=handle, width=140))
        else:
            render(Console() if sys.stdout.isatty() else Console(width=140))
    sys.exit(gate.exit_code)


def _read_baseline(path: Path) -> Baseline:
    from ..baseline import load_baseline  # only runs that use a baseline pay for the module

    return load_baseline(path)


def _write_baseline(
    gate: Gate, previous: Baseline | None, path: Path, reason: str, expires: str
) -> None:
    from ..baseline import build_baseline, parse_expiry, write_baseline
    from ..errors import PolicyError
    from ..policy import today_utc

    try:
        today = today_utc()
        baseline = build_baseline(
            gate.repos, reason=reason, expires=parse_expiry(expires, today), previous=previous
        )
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from exc
    write_baseline(baseline, path)
    click.echo(f"wrote {len(baseline.entries)} accepted finding(s) to {path}", err=True)


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
