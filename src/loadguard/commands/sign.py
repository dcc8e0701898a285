"""``loadguard sign``: sign a model folder (OpenSSF model-signing), or make a key pair."""

from __future__ import annotations

import argparse
import sys

from ..cli import UsageError, directory_path, existing_file, file_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", nargs="?", type=directory_path, metavar="FOLDER", help="Model folder to sign."
    )
    parser.add_argument(
        "--key",
        type=existing_file,
        metavar="FILE",
        help="Private key (PEM, elliptic curve).",
    )
    parser.add_argument(
        "--signature",
        type=file_path,
        metavar="FILE",
        help="Where to write the signature (default: FOLDER/model.sig).",
    )
    parser.add_argument(
        "--sigstore", action="store_true", help="Keyless Sigstore signing (needs a network)."
    )
    parser.add_argument(
        "--keygen",
        type=directory_path,
        metavar="DIR",
        help="Write a new key pair (model.key, model.pub) into this directory and exit.",
    )


def run(args: argparse.Namespace) -> int:
    """Sign FOLDER so that `loadguard verify --signature` can detect any changed byte.

    Exit codes: 0 signed, 2 error (missing key, missing extra, unreadable folder).
    """
    from ..errors import LoadguardError
    from ..provenance.signing import generate_keypair, sign_folder

    folder = args.folder
    try:
        if args.keygen is not None:
            private, public = generate_keypair(args.keygen)
            print(f"private key {private}\npublic key  {public}")
            return 0
        if folder is None:
            raise UsageError("give a FOLDER to sign (or --keygen DIR)")
        written = sign_folder(
            folder, private_key=args.key, signature=args.signature, sigstore=args.sigstore
        )
    except LoadguardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"signed {folder} -> {written}")
    return 0
