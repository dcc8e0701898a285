"""``loadguard convert``: pickle weights to safetensors, unpickled only inside the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .trial import build_config, sandbox_options


@click.command()
@click.argument("target")
@click.option(
    "--to",
    "to_format",
    type=click.Choice(["safetensors"]),
    default="safetensors",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the converted model (created; must not overlap the model folder).",
)
@sandbox_options
@click.option(
    "--weights-only",
    is_flag=True,
    help="Refuse files torch's weights_only loader rejects instead of unpickling them in the sandbox.",
)
@click.option("--overwrite", is_flag=True, help="Write into a non-empty output folder.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def convert(
    target: str,
    to_format: str,
    out_dir: Path,
    python: str,
    timeout: float,
    memory: str,
    cpu_seconds: int,
    max_processes: int,
    allow_exec: bool,
    no_seccomp: bool,
    weights_only: bool,
    overwrite: bool,
    fmt: str,
) -> None:
    """Convert TARGET's pickle weights (.bin .pt .pth .ckpt) to .safetensors in OUTPUT.

    The pickles are loaded by torch inside the sandbox (the interpreter given by
    --python must have torch); tensors come back over a pipe, are validated, and
    are written here with the metadata transformers expects ({"format": "pt"}).
    Configs and tokenizer files are copied; Python files are not. Exit codes: 0
    every pickle converted, 2 something could not be converted.
    """
    from ..errors import LoadguardError, SourceError
    from ..sandbox.convert import convert_report_to_dict, convert_to_safetensors
    from ..sandbox.launcher import SandboxConfig

    config = build_config(
        python, timeout, memory, cpu_seconds, max_processes, allow_exec, no_seccomp
    )
    assert isinstance(config, SandboxConfig)
    try:
        report = convert_to_safetensors(
            target, out_dir, config=config, weights_only=weights_only, overwrite=overwrite
        )
    except (SourceError, LoadguardError) as exc:
        click.echo(f"loadguard convert: {exc}", err=True)
        sys.exit(2)
    if fmt == "json":
        from ..report.json import dumps

        sys.stdout.write(dumps(convert_report_to_dict(report)))
    else:
        for item in report.converted:
            click.echo(
                f"converted {item.source} -> {item.output} ({item.tensors} tensors, {item.bytes} bytes)"
            )
            if item.skipped:
                click.echo(f"  not tensors, left out: {len(item.skipped)} entries")
        for source, why in report.failed:
            click.echo(f"FAILED {source}: {why}", err=True)
        if report.copied:
            click.echo(f"copied {len(report.copied)} config/tokenizer file(s)")
        for path, why in report.not_copied:
            click.echo(f"not copied {path}: {why}")
        off = [layer for layer in report.trial.layers if not layer.applied]
        if off:
            click.echo("isolation layers not in force: " + ", ".join(layer.name for layer in off))
        for finding in report.trial.findings:
            if finding.severity.label not in ("info",):
                click.echo(f"during unpickling: {finding.severity.label} {finding.message}")
        for note in report.notes:
            click.echo(f"note: {note}")
    sys.exit(0 if report.ok else 2)
