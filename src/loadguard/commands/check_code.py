"""``loadguard check-code``: unsafe model loading in your own Python project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import UsageError, add_report_arguments, existing_file, existing_path

FORMATS = ("text", "json", "sarif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=existing_path,
        metavar="PATH",
        help="Python file or folder (default: the current directory).",
    )
    add_report_arguments(parser, FORMATS)
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 at or above this severity (or 'never'); overrides the policy "
        "(default: the policy's, high in the balanced preset).",
    )
    parser.add_argument(
        "--policy",
        dest="policy_path",
        type=existing_file,
        metavar="FILE",
        help="Policy file; default: loadguard.toml / [tool.loadguard] in the current directory.",
    )
    parser.add_argument("--preset", choices=["strict", "balanced", "audit"])
    parser.add_argument(
        "--baseline",
        dest="baseline_path",
        type=existing_file,
        metavar="FILE",
        help="Accepted findings: report only new ones.",
    )


def run(args: argparse.Namespace) -> int:
    """Find unsafe model loading in Python code (default: the current directory).

    Flags trust_remote_code=True, diffusers custom_pipeline=, torch.hub.load with
    trust_repo=True or an unpinned ref, hub loads without revision= pinned to a
    commit, torch.load without weights_only=True, pickle/joblib loads of
    downloaded files, and snapshot_download without allow_patterns. Each finding
    says how to fix it. Exit codes as for scan: 0 pass, 1 violation, 2 error.
    """
    from ..baseline import load_baseline
    from ..consumer import check_paths
    from ..errors import PolicyError
    from ..policy import apply_policy, choose_policy

    try:
        policy = choose_policy(args.policy_path, args.preset, args.fail_on, Path.cwd())
        baseline = load_baseline(args.baseline_path) if args.baseline_path is not None else None
    except PolicyError as exc:
        raise UsageError(str(exc)) from exc
    report = check_paths(args.paths or [Path(".")], Path.cwd())
    reports = [report]
    gate = apply_policy(policy, [r.to_result() for r in reports], baseline=baseline)
    fmt: str = args.fmt
    output: Path | None = args.output
    if fmt == "json":
        from ..report.json import dumps, results_to_document

        document = results_to_document([repo.result for repo in gate.repos])
        document["gate"] = gate.to_dict()
        for entry, repo in zip(document["results"], gate.repos):
            entry["gate"] = repo.to_dict()
        text = dumps(document)
    elif fmt == "sarif":
        from ..report.gate_data import gate_sarif
        from ..report.sarif import sarif_dumps

        text = sarif_dumps(gate_sarif(gate, root=Path.cwd()))
    else:
        text = ""
    if text:
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    else:
        from rich.console import Console

        from ..report.consumer_text import print_consumer

        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                print_consumer(Console(file=handle, width=140), gate, [r.files for r in reports])
        else:
            console = Console() if sys.stdout.isatty() else Console(width=140)
            print_consumer(console, gate, [r.files for r in reports])
    return gate.exit_code
