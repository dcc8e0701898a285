"""``loadguard sign``: sign a model folder (OpenSSF model-signing), or make a key pair."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Private key (PEM, elliptic curve).",
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the signature (default: FOLDER/model.sig).",
)
@click.option("--sigstore", is_flag=True, help="Keyless Sigstore signing (needs a network).")
@click.option(
    "--keygen",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write a new key pair (model.key, model.pub) into this directory and exit.",
)
def sign(
    folder: Path | None,
    key: Path | None,
    signature: Path | None,
    sigstore: bool,
    keygen: Path | None,
) -> None:
    """Sign FOLDER so that `loadguard verify --signature` can detect any changed byte.

    Exit codes: 0 signed, 2 error (missing key, missing extra, unreadable folder).
    """
    from ..errors import LoadguardError
    from ..provenance.signing import generate_keypair, sign_folder

    try:
        if keygen is not None:
            private, public = generate_keypair(keygen)
            click.echo(f"private key {private}\npublic key  {public}")
            return
        if folder is None:
            raise click.UsageError("give a FOLDER to sign (or --keygen DIR)")
        written = sign_folder(folder, private_key=key, signature=signature, sigstore=sigstore)
    except LoadguardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"signed {folder} -> {written}")
