"""Terminal view of ``check-code``: one row per unsafe load, with the fix under it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..policy import Gate
from .gate_view import GATE_STYLE
from .json import clean
from .text import SEVERITY_STYLE


def print_consumer(console: Console, gate: Gate, file_counts: Sequence[int]) -> None:
    for repo, files in zip(gate.repos, file_counts):
        result = repo.result
        console.print(
            Text.assemble(
                ("check-code ", "bold"),
                (clean(result.snapshot.location), "bold"),
                (f"  {files} Python file(s), {len(result.findings)} finding(s)", "dim"),
            )
        )
        if result.findings:
            table = Table(show_header=True, header_style="bold", expand=True)
            table.add_column("sev", no_wrap=True)
            table.add_column("rule", no_wrap=True)
            table.add_column("where", overflow="fold")
            table.add_column("what, and the fix", overflow="fold", ratio=3)
            for finding in result.findings:
                loc = finding.location
                message, _, fix = clean(finding.message).partition(". Fix: ")
                body = Text(message)
                if finding.snippet:
                    body.append("\n" + clean(finding.snippet.split("\n", 1)[0])[:160], style="dim")
                if fix:
                    body.append("\nfix: ", style="bold green")
                    body.append(fix.rstrip("."))
                table.add_row(
                    Text(finding.severity.label, style=SEVERITY_STYLE[finding.severity]),
                    finding.rule_id,
                    f"{clean(loc.path)}:{loc.line}" if loc.line else clean(loc.path),
                    body,
                )
            console.print(table)
        for error in result.errors:
            console.print(
                Text(f"error {clean(error.path)} [{error.kind}] {clean(error.message)}", "magenta")
            )
        if repo.suppressed:
            console.print(
                Text(f"{len(repo.suppressed)} finding(s) accepted by the baseline", "dim")
            )
        console.print(
            Text.assemble(
                ("gate ", "bold"),
                (repo.verdict.value.upper(), GATE_STYLE[repo.verdict]),
                (f"  policy {gate.policy.name}", "dim"),
            )
        )
    console.print(Text(f"exit {gate.exit_code}", style="bold"))
