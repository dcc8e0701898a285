"""``loadguard check-code``: unsafe model loading in your own Python project."""

from __future__ import annotations

import sys
from pathlib import Path

import click

FORMATS = ("text", "json", "sarif")


@click.command("check-code")
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--fail-on",
    default=None,
    help="Exit 1 at or above this severity (or 'never'); overrides the policy. [default: high]",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy file; default: loadguard.toml / [tool.loadguard] in the current directory.",
)
@click.option("--preset", type=click.Choice(["strict", "balanced", "audit"]), default=None)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Accepted findings: report only new ones.",
)
def check_code(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    fail_on: str | None,
    policy_path: Path | None,
    preset: str | None,
    baseline_path: Path | None,
) -> None:
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
        policy = choose_policy(policy_path, preset, fail_on, Path.cwd())
        baseline = load_baseline(baseline_path) if baseline_path is not None else None
    except PolicyError as exc:
        raise click.UsageError(str(exc)) from exc
    report = check_paths(list(paths or (Path("."),)), Path.cwd())
    reports = [report]
    gate = apply_policy(policy, [r.to_result() for r in reports], baseline=baseline)
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
    sys.exit(gate.exit_code)
