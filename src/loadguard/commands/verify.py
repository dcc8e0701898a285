"""``loadguard verify``: local copies against the lock file (and optionally a signature)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import UsageError, directory_path, existing_file, file_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="Folder, Hugging Face cache or REPO_ID=PATH (default: the default cache).",
    )
    parser.add_argument(
        "--lock",
        dest="lock_path",
        type=file_path,
        default="loadguard.lock",
        metavar="FILE",
        help="Lock file (default: %(default)s).",
    )
    parser.add_argument(
        "--cache-dir",
        type=directory_path,
        metavar="DIR",
        help="Hugging Face cache to check when no PATH is given (default: HF_HUB_CACHE).",
    )
    parser.add_argument(
        "--remote", action="store_true", help="Also ask the hub whether locked revisions moved."
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=("text", "json"),
        default="text",
        help="Output format (default: %(default)s).",
    )
    parser.add_argument(
        "--signature",
        type=file_path,
        metavar="FILE",
        help="Check PATH (one folder) against this model-signing signature instead of a lock.",
    )
    parser.add_argument(
        "--key",
        type=existing_file,
        metavar="FILE",
        help="Public key (PEM) for --signature.",
    )


def run(args: argparse.Namespace) -> int:
    """Check local model copies against the lock: changed, missing, extra files, moved revisions.

    PATH is a folder, a Hugging Face cache (root or models--org--name), or
    REPO_ID=PATH. Without PATH the default HF cache is checked.
    Exit codes: 0 everything matches, 1 a difference, 2 unusable input.
    """
    from ..errors import LoadguardError

    paths: list[str] = args.paths
    lock_path: Path = args.lock_path
    try:
        if args.signature is not None or (args.key is not None and len(paths) == 1):
            return _verify_signature(paths, args.signature, args.key)
        from ..provenance.lockfile import read_lock
        from ..provenance.verify import check_remote, verify_lock

        lock_file = read_lock(lock_path)
        diffs = verify_lock(lock_file, paths, cache_dir=args.cache_dir)
        if args.remote:
            diffs += check_remote(lock_file)
    except LoadguardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .. import RULESET_VERSION

    stale = sorted({m.repo_id for m in lock_file.models if m.ruleset_version != RULESET_VERSION})
    if args.fmt == "json":
        import json
        from dataclasses import asdict

        document = {
            "lock": str(lock_path),
            "ok": not diffs,
            "differences": [asdict(d) for d in diffs],
            "stale_verdicts": stale,
        }
        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        for diff in diffs:
            print(diff)
        if stale:
            print(
                f"note: verdicts of {', '.join(stale)} come from another ruleset than "
                f"{RULESET_VERSION}; run `loadguard lock` again to re-judge them",
                file=sys.stderr,
            )
        if diffs:
            print(f"{len(diffs)} difference(s) from {lock_path}", file=sys.stderr)
        else:
            print(f"ok: {len(lock_file.models)} locked model(s) match {lock_path}")
    return 1 if diffs else 0


def _verify_signature(paths: list[str], signature: Path | None, key: Path | None) -> int:
    from ..provenance.signing import SignatureError, verify_folder_signature

    if len(paths) != 1 or key is None:
        raise UsageError("signature checks need exactly one PATH and --key PUBLIC.pem")
    try:
        verify_folder_signature(paths[0], public_key=key, signature=signature)
    except SignatureError as exc:
        print(exc)
        return 1
    print(f"ok: {paths[0]} matches its signature")
    return 0
