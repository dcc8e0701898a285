"""``loadguard trial``: load a model inside the sandbox and report what the load did."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..model import Severity, Verdict

FORMATS = ("text", "json", "html")


def parse_size(text: str) -> int:
    """``512M``, ``8G``, ``1024`` (bytes) -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    if cleaned and cleaned[-1] in units:
        return int(float(cleaned[:-1]) * units[cleaned[-1]])
    return int(cleaned)


def sandbox_options(func: click.decorators.FC) -> click.decorators.FC:
    """Options shared by trial and convert."""
    options = [
        click.option(
            "--python",
            "python",
            default=sys.executable,
            show_default="this interpreter",
            help="Interpreter that runs the load inside the sandbox (e.g. a venv with torch).",
        ),
        click.option(
            "--timeout", type=float, default=120.0, show_default=True, help="Wall-clock seconds."
        ),
        click.option(
            "--memory", default="8G", show_default=True, help="Address-space limit per process."
        ),
        click.option(
            "--cpu", "cpu_seconds", type=int, default=300, show_default=True, help="CPU seconds."
        ),
        click.option("--max-processes", type=int, default=64, show_default=True),
        click.option(
            "--allow-exec",
            is_flag=True,
            help="Let the loaded code run programs (seccomp refuses execve by default).",
        ),
        click.option("--no-seccomp", is_flag=True, help="Do not install the seccomp filter."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_config(
    python: str,
    timeout: float,
    memory: str,
    cpu_seconds: int,
    max_processes: int,
    allow_exec: bool,
    no_seccomp: bool,
) -> object:
    from ..sandbox.launcher import SandboxConfig

    try:
        memory_bytes = parse_size(memory)
    except ValueError as exc:
        raise click.UsageError(f"--memory: {exc}") from exc
    return SandboxConfig(
        python=python,
        timeout=timeout,
        memory_bytes=memory_bytes,
        cpu_seconds=cpu_seconds,
        max_processes=max_processes,
        allow_exec=allow_exec,
        seccomp=not no_seccomp,
    )


@click.command()
@click.argument("target")
@sandbox_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-scan", is_flag=True, help="Skip the static scan (no confirmed/missed join).")
@click.option("--analyzers", default=None, help="Comma-separated analyzers for the static scan.")
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    help="Exit 1 when a run-time or reachable static finding has at least this severity "
    "(or 'never').",
)
@click.option("--min-severity", default="low", show_default=True, help="Hide lower findings.")
def trial(
    target: str,
    python: str,
    timeout: float,
    memory: str,
    cpu_seconds: int,
    max_processes: int,
    allow_exec: bool,
    no_seccomp: bool,
    fmt: str,
    output: Path | None,
    no_scan: bool,
    analyzers: str | None,
    fail_on: str,
    min_severity: str,
) -> None:
    """Load TARGET (a local folder, file or HF cache snapshot) in the sandbox and report.

    The load runs in a child process with user, network, mount, PID and IPC
    namespaces, a read-only model folder, no credentials, a scrubbed environment,
    resource limits, a timeout and seccomp; each layer is verified and reported.
    An audit hook records what the load did (advisory telemetry). Exit codes: 0
    nothing at or above --fail-on, 1 findings at or above it, 2 the trial could not run.
    """
    from ..errors import SourceError
    from ..sandbox.launcher import SandboxConfig
    from ..sandbox.trial import report_to_dict, run_trial

    try:
        threshold = None if fail_on == "never" else Severity.parse(fail_on)
        minimum = Severity.parse(min_severity)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    config = build_config(
        python, timeout, memory, cpu_seconds, max_processes, allow_exec, no_seccomp
    )
    assert isinstance(config, SandboxConfig)
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    try:
        report = run_trial(target, config=config, static=not no_scan, analyzers=selected)
    except SourceError as exc:
        click.echo(f"loadguard trial: {exc}", err=True)
        sys.exit(2)
    if fmt in ("json", "html"):
        if fmt == "json":
            from ..report.json import dumps

            text = dumps(report_to_dict(report))
        else:
            from ..sandbox.html import render_trial_html

            text = render_trial_html(report)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    else:
        from rich.console import Console

        from ..sandbox.render import print_trial

        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                print_trial(Console(file=handle, width=140), report, minimum=minimum)
        else:
            print_trial(
                Console() if sys.stdout.isatty() else Console(width=140), report, minimum=minimum
            )
    if report.verdict is Verdict.ERROR:
        sys.exit(2)
    worst = report.max_severity()
    sys.exit(1 if threshold is not None and worst is not None and worst >= threshold else 0)
