"""``loadguard lock``: scan targets and pin them (commit, file hashes, verdict) in a lock file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..model import Verdict

FAILING_VERDICTS = (Verdict.DANGEROUS, Verdict.MALICIOUS_LIKELY, Verdict.ERROR)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("loadguard.lock"),
    show_default=True,
    help="Lock file to write (entries for other models already in it are kept).",
)
@click.option(
    "--allow-dangerous",
    is_flag=True,
    help="Exit 0 even when a locked model's verdict is dangerous or worse.",
)
def lock(targets: tuple[str, ...], lock_path: Path, allow_dangerous: bool) -> None:
    """Resolve, scan and pin TARGETS (hf:org/name[@rev], folders, caches) in a lock file.

    Exit codes: 0 written and every verdict below 'dangerous'; 1 written but a
    verdict is dangerous or worse; 2 a target could not be read completely
    (nothing is written for it: a partial read is never locked).
    """
    from ..engine import scan_snapshot
    from ..errors import LoadguardError
    from ..provenance.lockfile import LockError, lock_model, merge, read_lock, write_lock
    from ..sources import iter_snapshots

    fresh = []
    failed = False
    for target in targets:
        try:
            for snapshot in iter_snapshots(target):
                result = scan_snapshot(snapshot)
                entry = lock_model(target, snapshot, result)
                fresh.append(entry)
                click.echo(
                    f"locked  {entry.repo_id} @ {str(entry.revision or 'local')[:12]}  "
                    f"{len(entry.files)} files  verdict {entry.verdict}"
                )
        except LoadguardError as exc:
            failed = True
            click.echo(f"error   {target}: {exc}", err=True)
    if not fresh:
        sys.exit(2)
    try:
        old = read_lock(lock_path) if lock_path.exists() else None
    except LockError as exc:
        click.echo(f"error   {exc}", err=True)
        sys.exit(2)
    write_lock(merge(old, fresh), lock_path)
    click.echo(f"wrote   {lock_path}")
    if failed:
        sys.exit(2)
    if not allow_dangerous and any(Verdict(m.verdict) in FAILING_VERDICTS for m in fresh):
        sys.exit(1)
