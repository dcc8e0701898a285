"""``loadguard trial``: load a model inside the sandbox and report what the load did."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..cli import UsageError, add_report_arguments
from ..model import Severity, Verdict

if TYPE_CHECKING:
    from ..sandbox.launcher import SandboxConfig

FORMATS = ("text", "json", "html")


def parse_size(text: str) -> int:
    """``512M``, ``8G``, ``1024`` (bytes) -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    if cleaned and cleaned[-1] in units:
        return int(float(cleaned[:-1]) * units[cleaned[-1]])
    return int(cleaned)


def byte_size(text: str) -> int:
    """argparse type for sizes such as ``8G``."""
    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 512M, 8G)") from None


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by trial and convert."""
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PATH",
        help="Interpreter that runs the load inside the sandbox (e.g. a venv with torch) "
        "(default: this interpreter).",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="Wall-clock seconds (default: %(default)s).",
    )
    parser.add_argument(
        "--memory",
        type=byte_size,
        default="8G",
        metavar="SIZE",
        help="Address-space limit per process (default: %(default)s).",
    )
    parser.add_argument(
        "--cpu",
        dest="cpu_seconds",
        type=int,
        default=300,
        metavar="SECONDS",
        help="CPU seconds (default: %(default)s).",
    )
    parser.add_argument(
        "--max-processes",
        type=int,
        default=64,
        metavar="N",
        help="Process limit (default: %(default)s).",
    )
    parser.add_argument(
        "--allow-exec",
        action="store_true",
        help="Let the loaded code run programs (seccomp refuses execve by default).",
    )
    parser.add_argument(
        "--no-seccomp", action="store_true", help="Do not install the seccomp filter."
    )


def sandbox_config(args: argparse.Namespace) -> SandboxConfig:
    """The sandbox options of ``add_sandbox_arguments`` as a config."""
    from ..sandbox.launcher import SandboxConfig

    return SandboxConfig(
        python=args.python,
        timeout=args.timeout,
        memory_bytes=args.memory,
        cpu_seconds=args.cpu_seconds,
        max_processes=args.max_processes,
        allow_exec=args.allow_exec,
        seccomp=not args.no_seccomp,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="TARGET", help="Local folder, file or Hugging Face cache snapshot."
    )
    add_sandbox_arguments(parser)
    add_report_arguments(parser, FORMATS)
    parser.add_argument(
        "--no-scan",
        action="store_true",
        help="Skip the static scan (no confirmed/missed join).",
    )
    parser.add_argument(
        "--analyzers", metavar="NAMES", help="Comma-separated analyzers for the static scan."
    )
    parser.add_argument(
        "--fail-on",
        default="high",
        metavar="SEVERITY",
        help="Exit 1 when a run-time or reachable static finding has at least this severity "
        "(or 'never') (default: %(default)s).",
    )
    parser.add_argument(
        "--min-severity",
        default="low",
        metavar="SEVERITY",
        help="Hide lower findings (default: %(default)s).",
    )


def run(args: argparse.Namespace) -> int:
    """Load TARGET (a local folder, file or HF cache snapshot) in the sandbox and report.

    The load runs in a child process with user, network, mount, PID and IPC
    namespaces, a read-only model folder, no credentials, a scrubbed environment,
    resource limits, a timeout and seccomp; each layer is verified and reported.
    An audit hook records what the load did (advisory telemetry). Exit codes: 0
    nothing at or above --fail-on, 1 findings at or above it, 2 the trial could not run.
    """
    from ..errors import SourceError
    from ..sandbox.trial import report_to_dict, run_trial

    try:
        threshold = None if args.fail_on == "never" else Severity.parse(args.fail_on)
        minimum = Severity.parse(args.min_severity)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    analyzers: str | None = args.analyzers
    selected = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    try:
        report = run_trial(
            args.target, config=sandbox_config(args), static=not args.no_scan, analyzers=selected
        )
    except SourceError as exc:
        print(f"loadguard trial: {exc}", file=sys.stderr)
        return 2
    fmt: str = args.fmt
    output: Path | None = args.output
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
        return 2
    worst = report.max_severity()
    return 1 if threshold is not None and worst is not None and worst >= threshold else 0
