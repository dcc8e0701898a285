"""``loadguard scan``: find the load-time code of repositories and judge it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..cli import UsageError, add_report_arguments, existing_file, file_path, non_negative_int
from ..model import ScanError, ScanResult, Severity, Snapshot

if TYPE_CHECKING:
    from ..baseline import Baseline
    from ..policy import Gate

FORMATS = ("text", "json", "sarif", "html")
MAX_AUTO_JOBS = 8  # each worker holds its own parse and analysis caches
T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="Folder, archive, Hugging Face cache or hub id (hf:org/name).",
    )
    add_report_arguments(parser, FORMATS)
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 when a reachable finding has at least this severity "
        "(info, low, medium, high, critical, or 'never'); overrides the policy's fail-on "
        "(default: the policy's, high in the balanced preset).",
    )
    parser.add_argument(
        "--policy",
        dest="policy_path",
        type=existing_file,
        metavar="FILE",
        help="Policy file (loadguard.toml, or pyproject.toml with [tool.loadguard]). "
        "Default: one found in the current directory, else the 'balanced' preset.",
    )
    parser.add_argument(
        "--preset",
        choices=["strict", "balanced", "audit"],
        help="Built-in policy: strict (CI), balanced, audit (never fails).",
    )
    parser.add_argument(
        "--baseline",
        dest="baseline_path",
        type=existing_file,
        metavar="FILE",
        help="Accepted findings (from --write-baseline): report only new ones.",
    )
    parser.add_argument(
        "--write-baseline",
        dest="write_baseline_path",
        type=file_path,
        metavar="FILE",
        help="Record the fingerprints of the findings shown now as accepted, then exit 0.",
    )
    parser.add_argument(
        "--baseline-reason",
        default="",
        metavar="TEXT",
        help="Why the findings written by --write-baseline are accepted (required with it).",
    )
    parser.add_argument(
        "--baseline-expires",
        default="90d",
        metavar="WHEN",
        help="When entries written by --write-baseline expire: YYYY-MM-DD or a duration "
        "(90d, 12w) (default: %(default)s).",
    )
    parser.add_argument(
        "--analyzers",
        metavar="NAMES",
        help="Comma-separated analyzers to run (default: the built-in set).",
    )
    parser.add_argument(
        "--min-severity",
        default="low",
        metavar="SEVERITY",
        help="Hide findings below this severity in the terminal view (default: %(default)s).",
    )
    parser.add_argument(
        "--show-reach", action="store_true", help="Show the reach graph with witness paths."
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="Worker processes for folders of many repositories (0: one per usable core; "
        "1: scan in this process). A single repository is always scanned in this process "
        "(default: %(default)s).",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress bar.")


def run(args: argparse.Namespace) -> int:
    """Scan folders, archives, the HF cache or hub ids (hf:org/name) for load-time code.

    Exit codes (docs/gate.md): 0 the policy passed, 1 a policy violation (a finding at
    or above fail-on, a disallowed trust flag, an unpinned revision ...), 2 a usage error
    or a target/file that could not be scanned.
    """
    from ..api import iter_scan
    from ..errors import PolicyError
    from ..policy import choose_policy

    try:
        minimum = Severity.parse(args.min_severity)
        policy = choose_policy(args.policy_path, args.preset, args.fail_on, Path.cwd())
        baseline = _read_baseline(args.baseline_path) if args.baseline_path is not None else None
    except (ValueError, PolicyError) as exc:
        raise UsageError(str(exc)) from exc
    analyzers: str | None = args.analyzers
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    results: list[ScanResult] = []
    source_errors: list[ScanError] = []
    from ..advice import RepoFacts

    # Advice needs a few file facts (tokenizer.json? model_type?) while the snapshot is open.
    facts: dict[tuple[str, str], RepoFacts] = {}

    def remember(snapshot: Snapshot) -> None:
        facts[(snapshot.repo_id, snapshot.location)] = RepoFacts.from_snapshot(snapshot)

    jobs: int = args.jobs
    if jobs == 0:
        from ..parallel import usable_cores

        jobs = min(usable_cores(), MAX_AUTO_JOBS)
    fmt: str = args.fmt
    output: Path | None = args.output
    items = iter_scan(args.targets, analyzers=selected, on_snapshot=remember, jobs=jobs)
    progress = not args.quiet and fmt == "text" and sys.stderr.isatty()
    for item in _with_progress(items, enabled=progress):
        if isinstance(item, ScanError):
            source_errors.append(item)
        else:
            results.append(item)
    from ..policy import apply_policy

    gate = apply_policy(policy, results, source_errors, baseline=baseline)
    if args.write_baseline_path is not None:
        _write_baseline(
            gate, baseline, args.write_baseline_path, args.baseline_reason, args.baseline_expires
        )
        return 0
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
            print_gate(console, gate, facts, minimum=minimum, show_reach=args.show_reach)

        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                render(Console(file=handle, width=140))
        else:
            render(Console() if sys.stdout.isatty() else Console(width=140))
    return gate.exit_code


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
        raise UsageError(str(exc)) from exc
    write_baseline(baseline, path)
    print(f"wrote {len(baseline.entries)} accepted finding(s) to {path}", file=sys.stderr)


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
