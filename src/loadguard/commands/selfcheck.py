"""``loadguard selfcheck``: scan targets under an audit hook and prove nothing ran."""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("targets", nargs=-1, required=True)
def selfcheck(targets: tuple[str, ...]) -> None:
    """Scan TARGETS (local paths) while recording audit events; exit 1 on any violation.

    A violation is anything that would mean repo content ran or escaped:
    a process, a connection, an unpickle, a native library load, code
    compiled from the repo, a repo module imported, a write inside the
    target, or a file opened outside it.
    """
    from ..api import iter_scan
    from ..selfcheck import recording, violations

    with recording() as events:
        repos = sum(1 for item in iter_scan(list(targets)) if not hasattr(item, "stage"))
    found = violations(events, targets)
    for violation in found:
        click.echo(f"VIOLATION {violation.event}: {violation.detail}")
    click.echo(f"scanned {repos} repositories, {len(events)} audit events, {len(found)} violations")
    sys.exit(1 if found else 0)
