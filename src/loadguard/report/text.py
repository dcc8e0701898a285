"""The terminal view (rich): one panel per repository, then a summary table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import ScanError, ScanResult, Severity, Verdict
from ..reach.render import summary as reach_summary
from .json import clean

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
VERDICT_STYLE = {
    Verdict.CLEAN: "bold green",
    Verdict.REVIEW: "bold yellow",
    Verdict.DANGEROUS: "bold red",
    Verdict.MALICIOUS_LIKELY: "bold white on red",
    Verdict.ERROR: "bold magenta",
}


def _e(text: str) -> str:
    return escape(clean(text))


def render_result(
    result: ScanResult, *, minimum: Severity = Severity.LOW, show_reach: bool = False
) -> Panel:
    plan, snap = result.plan, result.snapshot
    parts: list[RenderableType] = []
    platform = snap.platform.value + (" (inferred)" if snap.platform_inferred else "")
    head = Text.from_markup(
        f"platform [bold]{platform}[/]  revision {snap.revision or '[dim]unknown[/]'}  "
        f"files {result.file_count}"
    )
    parts.append(head)
    loaders = ", ".join(loader.value for loader in plan.loaders) or "none detected"
    parts.append(Text.from_markup(f"loaders: [bold]{_e(loaders)}[/]"))
    if plan.runs_repo_code:
        flags = ", ".join(plan.trust_flags) or "no flag"
        parts.append(
            Text.from_markup(f"loading runs repo code: [bold red]yes[/] (behind {_e(flags)})")
        )
    else:
        parts.append(Text.from_markup("loading runs repo code: [green]no[/]"))
    if plan.entry_points:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("loader")
        table.add_column("trigger")
        table.add_column("runs")
        table.add_column("flag", style="dim")
        for entry in plan.entry_points:
            missing = "" if entry.exists else " [red](missing)[/]"
            table.add_row(
                entry.loader.value,
                _e(entry.trigger),
                _e(entry.label) + missing,
                _e(entry.trust_flag or ""),
            )
        parts.append(table)
    if plan.executed_files:
        parts.append(
            Text.from_markup(
                f"executed files ({len(plan.executed_files)}): "
                + _e(", ".join(plan.executed_files[:30]))
                + (" …" if len(plan.executed_files) > 30 else "")
            )
        )
    for ref in plan.cross_repo_refs:
        pin = "pinned" if ref.pinned else "[yellow]unpinned[/]"
        parts.append(
            Text.from_markup(
                f"cross-repo: [bold]{_e(ref.reference)}[/] via {_e(ref.trigger)} ({pin})"
            )
        )
    if plan.weights:
        census = Counter(w.kind.value for w in plan.weights)
        pickles = sum(1 for w in plan.weights if w.pickle_based)
        line = ", ".join(f"{kind} {n}" for kind, n in sorted(census.items()))
        style = "red" if pickles else "green"
        parts.append(Text.from_markup(f"weights: {_e(line)}  [{style}]pickle-based {pickles}[/]"))
    if result.reach is not None and (result.reach.nodes or result.reach.unresolved):
        parts.append(Text("reach: " + reach_summary(result.reach), style="dim"))
    if show_reach and result.reach is not None:
        parts.append(_reach_table(result))
    # worst first; within a severity, by rank (confidence x reachability)
    shown = sorted(
        (f for f in result.findings if f.severity >= minimum), key=lambda f: (-f.severity, -f.rank)
    )
    if shown:
        table = Table(show_header=True, header_style="bold", expand=True)
        table.add_column("sev", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("where", overflow="fold")
        table.add_column("what", overflow="fold", ratio=3)
        table.add_column("reach", overflow="fold", ratio=2)
        for finding in shown:
            loc = finding.location
            where = loc.path + (f":{loc.line}" if loc.line else "")
            where += f"@{loc.offset}" if loc.offset is not None else ""
            reach = {
                True: "[red]reached[/]",
                False: "[dim]not reached[/]",
                None: "[yellow]unknown[/]",
            }[finding.reachable]
            if finding.witness:
                reach += "\n[dim]" + _e(" → ".join(finding.witness)) + "[/]"
            cwe = ",".join(finding.cwe)
            also = f" (+{','.join(finding.also_reported_by)})" if finding.also_reported_by else ""
            table.add_row(
                Text(finding.severity.label, style=SEVERITY_STYLE[finding.severity]),
                _e(finding.rule_id) + f"\n[dim]{cwe}{also}[/]",
                _e(where),
                _e(finding.message)
                + (f"\n[dim]{_e(finding.snippet[:160])}[/]" if finding.snippet else ""),
                reach,
            )
        parts.append(table)
    hidden = len(result.findings) - len(shown)
    if hidden:
        parts.append(Text(f"{hidden} finding(s) below {minimum.label} not shown", style="dim"))
    for error in result.errors:
        parts.append(
            Text.from_markup(
                f"[magenta]error[/] {_e(error.path or '-')} [{error.stage}/{error.kind}] "
                f"{_e(error.message)}"
            )
        )
    verdict = result.verdict
    title = f"[bold]{_e(snap.repo_id)}[/]  [{VERDICT_STYLE[verdict]}] {verdict.value.upper()} [/]"
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        subtitle=_e(snap.location),
        subtitle_align="right",
        border_style=VERDICT_STYLE[verdict].split()[-1],
    )


REACH_ROWS = 200  # the full graph is `loadguard reach`'s job


def _reach_table(result: ScanResult) -> Table:
    assert result.reach is not None
    table = Table(
        title=f"reach ({result.reach.precision} level)",
        show_header=True,
        header_style="bold",
        expand=True,
    )
    table.add_column("node", overflow="fold")
    table.add_column("witness path", overflow="fold", ratio=2)
    nodes = sorted(result.reach.nodes, key=lambda n: (len(n.witness), n.id))
    for node in nodes[:REACH_ROWS]:
        table.add_row(_e(node.id), _e(" → ".join(node.witness)))
    if len(nodes) > REACH_ROWS:
        table.add_row(f"[dim]… {len(nodes) - REACH_ROWS} more (loadguard reach)[/]", "")
    for item in sorted(result.reach.unresolved, key=lambda u: (u.path, u.line)):
        where = f"{item.path}:{item.line}" if item.line else item.path
        table.add_row(
            f"[yellow]? {_e(where)}[/]", f"[yellow]unknown past here: {_e(item.reason)}[/]"
        )
    return table


def render_summary(results: Sequence[ScanResult], source_errors: Sequence[ScanError]) -> Table:
    table = Table(title="loadguard summary", header_style="bold")
    table.add_column("repository", overflow="fold")
    table.add_column("platform")
    table.add_column("loaders", overflow="fold")
    table.add_column("repo code")
    table.add_column("findings (crit/high/med)")
    table.add_column("verdict")
    for result in results:
        counts = Counter(f.severity for f in result.findings if f.reachable is not False)
        table.add_row(
            _e(result.snapshot.repo_id),
            result.snapshot.platform.value,
            ", ".join(loader.value for loader in result.plan.loaders),
            "yes" if result.plan.runs_repo_code else "no",
            f"{counts[Severity.CRITICAL]}/{counts[Severity.HIGH]}/{counts[Severity.MEDIUM]}",
            Text(result.verdict.value, style=VERDICT_STYLE[result.verdict]),
        )
    for error in source_errors:
        table.add_row(_e(error.path), "-", "-", "-", "-", Text("error", style="magenta"))
    return table


def print_results(
    console: Console,
    results: Sequence[ScanResult],
    source_errors: Sequence[ScanError] = (),
    *,
    minimum: Severity = Severity.LOW,
    show_reach: bool = False,
) -> None:
    for result in results:
        console.print(render_result(result, minimum=minimum, show_reach=show_reach))
    for error in source_errors:
        console.print(f"[magenta]error[/] {_e(error.path)}: {_e(error.message)}")
    if len(results) > 1 or source_errors:
        console.print(render_summary(results, source_errors))
