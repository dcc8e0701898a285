"""``loadguard lock``: scan targets and pin them (commit, file hashes, verdict) in a lock file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import file_path
from ..model import Verdict

FAILING_VERDICTS = (Verdict.DANGEROUS, Verdict.MALICIOUS_LIKELY, Verdict.ERROR)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="+", metavar="TARGET", help="hf:org/name[@rev], folder or cache."
    )
    parser.add_argument(
        "--lock",
        dest="lock_path",
        type=file_path,
        default="loadguard.lock",
        metavar="FILE",
        help="Lock file to write (entries for other models already in it are kept) "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--allow-dangerous",
        action="store_true",
        help="Exit 0 even when a locked model's verdict is dangerous or worse.",
    )


def run(args: argparse.Namespace) -> int:
    """Resolve, scan and pin TARGETS (hf:org/name[@rev], folders, caches) in a lock file.

    Exit codes: 0 written and every verdict below 'dangerous'; 1 written but a
    verdict is dangerous or worse; 2 a target could not be read completely
    (nothing is written for it: a partial read is never locked).
    """
    from ..engine import scan_snapshot
    from ..errors import LoadguardError
    from ..provenance.lockfile import LockError, lock_model, merge, read_lock, write_lock
    from ..sources import iter_snapshots

    lock_path: Path = args.lock_path
    fresh = []
    failed = False
    for target in args.targets:
        try:
            for snapshot in iter_snapshots(target):
                result = scan_snapshot(snapshot)
                entry = lock_model(target, snapshot, result)
                fresh.append(entry)
                print(
                    f"locked  {entry.repo_id} @ {str(entry.revision or 'local')[:12]}  "
                    f"{len(entry.files)} files  verdict {entry.verdict}"
                )
        except LoadguardError as exc:
            failed = True
            print(f"error   {target}: {exc}", file=sys.stderr)
    if not fresh:
        return 2
    try:
        old = read_lock(lock_path) if lock_path.exists() else None
    except LockError as exc:
        print(f"error   {exc}", file=sys.stderr)
        return 2
    write_lock(merge(old, fresh), lock_path)
    print(f"wrote   {lock_path}")
    if failed:
        return 2
    if not args.allow_dangerous and any(Verdict(m.verdict) in FAILING_VERDICTS for m in fresh):
        return 1
    return 0
