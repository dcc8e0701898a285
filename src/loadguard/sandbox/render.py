"""Terminal view of a trial: layers first (the boundary), then what the load did."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..model import Finding, Severity, Verdict
from .layers import LayerStatus
from .trial import BOUNDARY_NOTE, TrialReport

_VERDICT_STYLE = {
    Verdict.CLEAN: "bold green",
    Verdict.REVIEW: "bold yellow",
    Verdict.DANGEROUS: "bold red",
    Verdict.MALICIOUS_LIKELY: "bold white on red",
    Verdict.ERROR: "bold magenta",
}
_LAYER_MARK = {
    LayerStatus.APPLIED: "[green]applied[/]",
    LayerStatus.UNAVAILABLE: "[red]unavailable[/]",
    LayerStatus.DISABLED: "[yellow]disabled[/]",
    LayerStatus.UNVERIFIED: "[magenta]unverified[/]",
}
_SEVERITY_STYLE = {
    Severity.INFO: "dim",
    Severity.LOW: "cyan",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "red",
    Severity.CRITICAL: "bold red",
}


def _where(finding: Finding) -> str:
    loc = finding.location
    if not loc.path:
        return "(runtime)"
    return f"{loc.path}:{loc.line}" if loc.line else loc.path


def print_trial(console: Console, report: TrialReport, *, minimum: Severity = Severity.LOW) -> None:
    style = _VERDICT_STYLE.get(report.verdict, "bold")
    console.print(
        f"[bold]trial[/] {escape(report.target)}  verdict: [{style}]{report.verdict.value}[/]"
        f"  ({report.raw.seconds:.2f}s, {escape(report.raw.config.python)})"
    )
    layers = Table(title="Isolation layers (the boundary)", show_lines=False, expand=False)
    layers.add_column("layer")
    layers.add_column("status")
    layers.add_column("verified by", overflow="fold")
    for layer in report.layers:
        layers.add_row(escape(layer.name), _LAYER_MARK[layer.status], escape(layer.detail))
    console.print(layers)
    console.print(f"[dim]{escape(BOUNDARY_NOTE)}[/]")
    if report.steps:
        steps = Table(title="Load steps", expand=False)
        steps.add_column("#")
        steps.add_column("step")
        steps.add_column("outcome", overflow="fold")
        for step in report.steps:
            label = escape(str(step.spec.get("kind", "")))
            target = step.spec.get("path") or step.spec.get("library") or ""
            if target:
                label += f" {escape(str(target))}"
            if step.ok is None:
                outcome = "[magenta]did not finish[/]"
            elif step.ok:
                outcome = f"[green]ok[/] {escape(str(step.result.get('loader', '')))}"
            else:
                error = step.error or {}
                outcome = (
                    f"[red]{escape(str(error.get('type')))}[/] {escape(str(error.get('message')))}"
                )
            steps.add_row(str(step.index), label, outcome)
        console.print(steps)
    shown = [f for f in report.findings if f.severity >= minimum]
    if shown:
        table = Table(title="What the load did (telemetry, advisory)", expand=False)
        table.add_column("severity")
        table.add_column("rule")
        table.add_column("where")
        table.add_column("what", overflow="fold")
        for finding in shown:
            sev = _SEVERITY_STYLE[finding.severity]
            table.add_row(
                f"[{sev}]{finding.severity.label}[/]",
                finding.rule_id,
                escape(_where(finding)),
                escape(finding.message),
            )
        console.print(table)
    else:
        console.print("telemetry: nothing at or above " + minimum.label)
    ran = [f for f in report.findings if f.rule_id == "LG-DYN-000"]
    if ran:
        modules = ", ".join(sorted({f.message.split()[2] for f in ran}))
        console.print(f"repository code that ran: {escape(modules)}")
    if report.isolation_events:
        console.print("[bold]Stopped or ended by isolation[/]")
        for event in report.isolation_events:
            where = f" (step {event.step})" if event.step is not None else ""
            console.print(f"  {escape(event.layer)}{where}: {escape(event.message)}")
    if report.static is None:
        reason = report.static_error or "static scan not run"
        console.print(f"static analysis: {escape(reason)}; every dynamic finding counts as missed")
    else:
        console.print(
            f"static vs run time: {len(report.confirmed)} static finding(s) confirmed at run "
            f"time, {len(report.not_observed)} not observed, {len(report.missed_by_static)} "
            "run-time behaviour(s) missed by static analysis"
        )
        for finding in report.missed_by_static:
            console.print(f"  missed: {escape(_where(finding))} {escape(finding.message)}")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
