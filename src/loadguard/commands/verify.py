"""``loadguard verify``: local copies against the lock file (and optionally a signature)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("loadguard.lock"),
    show_default=True,
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Hugging Face cache to check when no PATH is given (default: HF_HUB_CACHE).",
)
@click.option("--remote", is_flag=True, help="Also ask the hub whether locked revisions moved.")
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Check PATH (one folder) against this model-signing signature instead of a lock.",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Public key (PEM) for --signature.",
)
def verify(
    paths: tuple[str, ...],
    lock_path: Path,
    cache_dir: Path | None,
    remote: bool,
    signature: Path | None,
    key: Path | None,
    fmt: str,
) -> None:
    """Check local model copies against the lock: changed, missing, extra files, moved revisions.

    PATH is a folder, a Hugging Face cache (root or models--org--name), or
    REPO_ID=PATH. Without PATH the default HF cache is checked.
    Exit codes: 0 everything matches, 1 a difference, 2 unusable input.
    """
    from ..errors import LoadguardError

    try:
        if signature is not None or (key is not None and len(paths) == 1):
            _verify_signature(paths, signature, key)
            return
        from ..provenance.lockfile import read_lock
        from ..provenance.verify import check_remote, verify_lock

        lock_file = read_lock(lock_path)
        diffs = verify_lock(lock_file, paths, cache_dir=cache_dir)
        if remote:
            diffs += check_remote(lock_file)
    except LoadguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    from .. import RULESET_VERSION

    stale = sorted({m.repo_id for m in lock_file.models if m.ruleset_version != RULESET_VERSION})
    if fmt == "json":
        import json
        from dataclasses import asdict

        document = {
            "lock": str(lock_path),
            "ok": not diffs,
            "differences": [asdict(d) for d in diffs],
            "stale_verdicts": stale,
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        for diff in diffs:
            click.echo(str(diff))
        if stale:
            click.echo(
                f"note: verdicts of {', '.join(stale)} come from another ruleset than "
                f"{RULESET_VERSION}; run `loadguard lock` again to re-judge them",
                err=True,
            )
        if diffs:
            click.echo(f"{len(diffs)} difference(s) from {lock_path}", err=True)
        else:
            click.echo(f"ok: {len(lock_file.models)} locked model(s) match {lock_path}")
    if diffs:
        sys.exit(1)


def _verify_signature(paths: tuple[str, ...], signature: Path | None, key: Path | None) -> None:
    from ..provenance.signing import SignatureError, verify_folder_signature

    if len(paths) != 1 or key is None:
        raise click.UsageError("signature checks need exactly one PATH and --key PUBLIC.pem")
    try:
        verify_folder_signature(paths[0], public_key=key, signature=signature)
    except SignatureError as exc:
        click.echo(str(exc))
        sys.exit(1)
    click.echo(f"ok: {paths[0]} matches its signature")
