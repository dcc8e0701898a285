"""``loadguard selfcheck``: scan targets under an audit hook and prove nothing ran."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="Local path.")


def run(args: argparse.Namespace) -> int:
    """Scan TARGETS (local paths) while recording audit events; exit 1 on any violation.

    A violation is anything that would mean repo content ran or escaped:
    a process, a connection, an unpickle, a native library load, code
    compiled from the repo, a repo module imported, a write inside the
    target, or a file opened outside it.
    """
    from ..api import iter_scan
    from ..selfcheck import recording, violations

    targets: list[str] = args.targets
    with recording() as events:
        repos = sum(1 for item in iter_scan(targets) if not hasattr(item, "stage"))
    found = violations(events, targets)
    for violation in found:
        print(f"VIOLATION {violation.event}: {violation.detail}")
    print(f"scanned {repos} repositories, {len(events)} audit events, {len(found)} violations")
    return 1 if found else 0
