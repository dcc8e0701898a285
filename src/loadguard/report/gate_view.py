"""The gate and the safe-load advice in each output format (JSON additions, SARIF, terminal).

Kept beside ``json.py``/``text.py`` rather than inside them: the JSON document
gains three keys (``gate`` at the top, ``gate`` and ``advice`` per result, see
docs/gate.md), and the terminal view gains one advice panel per repository
and a gate line, without the base views knowing about policies.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from ..advice import SafeLoadAdvice
from ..model import Severity
from ..policy import Gate, GateVerdict, RepoGate
from .gate_data import FactsMap, advice_of
from .json import clean
from .text import render_result, render_summary

GATE_STYLE = {
    GateVerdict.PASS: "bold green",
    GateVerdict.FAIL: "bold red",
    GateVerdict.ERROR: "bold magenta",
}


def render_advice(advice: SafeLoadAdvice) -> Panel:
    parts: list[Any] = []
    for component in advice.components:
        mark = "[green]✓[/]" if component.safe else "[red]✗[/]"
        parts.append(
            Text.from_markup(
                f"{mark} [bold]{escape(component.component)}[/]: {escape(clean(component.how))}"
            )
        )
    parts.append(Syntax(advice.code, "python", theme="ansi_dark", background_color="default"))
    for item in advice.remaining:
        parts.append(Text.from_markup(f"[yellow]remaining:[/] {escape(clean(item))}"))
    for note in advice.notes:
        parts.append(Text.from_markup(f"[dim]note: {escape(clean(note))}[/]"))
    if advice.needs_repo_code:
        status = "  [red](still needs repo code)[/]"
    elif advice.remaining:
        status = "  [yellow](weights need conversion)[/]"
    else:
        status = "  [green](no repo code)[/]"
    title = "the safe way to load it" + status
    return Panel(Group(*parts), title=title, title_align="left", border_style="blue")


def print_gate(
    console: Console,
    gate: Gate,
    facts: FactsMap | None = None,
    *,
    minimum: Severity = Severity.LOW,
    show_reach: bool = False,
) -> None:
    """The terminal view: per repository the scan panel, the safe load, the gate; then totals."""
    for repo in gate.repos:
        console.print(render_result(repo.result, minimum=minimum, show_reach=show_reach))
        console.print(render_advice(advice_of(repo, facts)))
        _print_repo_gate(console, gate, repo)
    for error in gate.source_errors:
        console.print(Text(f"error {clean(error.path)}: {clean(error.message)}", style="magenta"))
    if len(gate.repos) > 1 or gate.source_errors:
        console.print(render_summary([r.result for r in gate.repos], gate.source_errors))
    console.print(
        Text.assemble(
            ("exit ", "bold"),
            (str(gate.exit_code), "bold"),
            (f"  ({gate.policy.name} policy; 0 pass, 1 violation, 2 error)", "dim"),
        )
    )


def _print_repo_gate(console: Console, gate: Gate, repo: RepoGate) -> None:
    snap = repo.result.snapshot
    console.print(
        Text.assemble(
            ("gate ", "bold"),
            (f"{repo.verdict.value.upper()} ", GATE_STYLE[repo.verdict]),
            (clean(snap.repo_id), "bold"),
            (f"  policy {gate.policy.name}", "dim"),
        )
    )
    for reason in repo.reasons[:20]:
        console.print(Text("  • " + clean(reason)))
    if len(repo.reasons) > 20:
        console.print(Text(f"  … {len(repo.reasons) - 20} more", style="dim"))
    if repo.suppressed:
        console.print(
            Text(f"  {len(repo.suppressed)} finding(s) accepted by the baseline", style="dim")
        )
    for entry in repo.expired:
        console.print(
            Text(
                f"  baseline entry for {entry.rule_id} at {clean(entry.path)} expired on "
                f"{entry.expires.isoformat()} (was: {clean(entry.reason)}): reported again",
                style="yellow",
            )
        )
    if repo.ignored or repo.disabled:
        console.print(
            Text(
                f"  {len(repo.ignored)} finding(s) in ignored paths, "
                f"{len(repo.disabled)} disabled by the policy",
                style="dim",
            )
        )
    console.print()
