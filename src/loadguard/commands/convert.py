"""``loadguard convert``: pickle weights to safetensors, unpickled only inside the sandbox."""

from __future__ import annotations

import argparse
import sys

from ..cli import directory_path
from .trial import add_sandbox_arguments, sandbox_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="TARGET", help="Model folder or file with pickle weights."
    )
    parser.add_argument(
        "--to",
        dest="to_format",
        choices=["safetensors"],
        default="safetensors",
        help="Target format (default: %(default)s).",
    )
    parser.add_argument(
        "-o",
        "--output",
        dest="out_dir",
        required=True,
        type=directory_path,
        metavar="DIR",
        help="Folder for the converted model (created; must not overlap the model folder).",
    )
    add_sandbox_arguments(parser)
    parser.add_argument(
        "--weights-only",
        action="store_true",
        help="Refuse files torch's weights_only loader rejects instead of unpickling them "
        "in the sandbox.",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="Write into a non-empty output folder."
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=["text", "json"],
        default="text",
        help="Output format (default: %(default)s).",
    )


def run(args: argparse.Namespace) -> int:
    """Convert TARGET's pickle weights (.bin .pt .pth .ckpt) to .safetensors in OUTPUT.

    The pickles are loaded by torch inside the sandbox (the interpreter given by
    --python must have torch); tensors come back over a pipe, are validated, and
    are written here with the metadata transformers expects ({"format": "pt"}).
    Configs and tokenizer files are copied; Python files are not. Exit codes: 0
    every pickle converted, 2 something could not be converted.
    """
    from ..errors import LoadguardError, SourceError
    from ..sandbox.convert import convert_report_to_dict, convert_to_safetensors

    try:
        report = convert_to_safetensors(
            args.target,
            args.out_dir,
            config=sandbox_config(args),
            weights_only=args.weights_only,
            overwrite=args.overwrite,
        )
    except (SourceError, LoadguardError) as exc:
        print(f"loadguard convert: {exc}", file=sys.stderr)
        return 2
    if args.fmt == "json":
        from ..report.json import dumps

        sys.stdout.write(dumps(convert_report_to_dict(report)))
    else:
        for item in report.converted:
            print(
                f"converted {item.source} -> {item.output} ({item.tensors} tensors, {item.bytes} bytes)"
            )
            if item.skipped:
                print(f"  not tensors, left out: {len(item.skipped)} entries")
        for source, why in report.failed:
            print(f"FAILED {source}: {why}", file=sys.stderr)
        if report.copied:
            print(f"copied {len(report.copied)} config/tokenizer file(s)")
        for path, why in report.not_copied:
            print(f"not copied {path}: {why}")
        off = [layer for layer in report.trial.layers if not layer.applied]
        if off:
            print("isolation layers not in force: " + ", ".join(layer.name for layer in off))
        for finding in report.trial.findings:
            if finding.severity.label not in ("info",):
                print(f"during unpickling: {finding.severity.label} {finding.message}")
        for note in report.notes:
            print(f"note: {note}")
    return 0 if report.ok else 2
