"""Sign and verify a model folder with the OpenSSF ``model-signing`` library.

Key-based (elliptic curve, PEM) signing works offline; keyless Sigstore
signing is passed through when a network is available. The signature is a
Sigstore bundle over a manifest of every file's hash (``model.sig`` in the
folder by default, which the manifest itself ignores).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LoadguardError, MissingExtra

DEFAULT_SIGNATURE = "model.sig"


class SignatureError(LoadguardError):
    """The signature does not match the folder, or cannot be checked."""


def _lib() -> tuple[object, object, object]:
    try:
        from model_signing import hashing, signing, verifying
    except ImportError:
        raise MissingExtra("model signing", "signing") from None
    return hashing, signing, verifying


def signature_path(folder: Path, signature: str | os.PathLike[str] | None) -> Path:
    return Path(signature) if signature else folder / DEFAULT_SIGNATURE


def _hashing_config(folder: Path, sig: Path) -> object:
    hashing, _, _ = _lib()
    ignored = [sig.resolve()] if sig.resolve().is_relative_to(folder.resolve()) else []
    return hashing.Config().set_ignored_paths(paths=ignored, ignore_git_paths=True)  # type: ignore[attr-defined]


def generate_keypair(directory: str | os.PathLike[str], name: str = "model") -> tuple[Path, Path]:
    """A new P-256 key pair as ``<name>.key`` (private, mode 600) and ``<name>.pub``."""
    _lib()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private = out / f"{name}.key"
    public = out / f"{name}.pub"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def sign_folder(
    folder: str | os.PathLike[str],
    *,
    private_key: str | os.PathLike[str] | None = None,
    signature: str | os.PathLike[str] | None = None,
    sigstore: bool = False,
) -> Path:
    """Sign ``folder``; returns the signature path. ``sigstore=True`` needs a network."""
    _, signing, _ = _lib()
    root = Path(folder)
    if not root.is_dir():
        raise SignatureError(f"{root}: not a directory")
    sig = signature_path(root, signature)
    config = signing.Config()  # type: ignore[attr-defined]
    if sigstore:
        config = config.use_sigstore_signer()
    elif private_key is not None:
        config = config.use_elliptic_key_signer(private_key=os.fspath(private_key))
    else:
        raise SignatureError("give a private key (--key) or choose keyless Sigstore signing")
    config = config.set_hashing_config(_hashing_config(root, sig))
    try:
        config.sign(root, sig)
    except (OSError, ValueError) as exc:
        raise SignatureError(f"{root}: signing failed: {exc}") from None
    return sig


def verify_folder_signature(
    folder: str | os.PathLike[str],
    *,
    public_key: str | os.PathLike[str] | None = None,
    signature: str | os.PathLike[str] | None = None,
    identity: str | None = None,
    oidc_issuer: str | None = None,
) -> None:
    """Raise ``SignatureError`` unless ``folder`` matches its signature exactly."""
    _, _, verifying = _lib()
    root = Path(folder)
    sig = signature_path(root, signature)
    if not sig.is_file():
        raise SignatureError(f"{sig}: no signature file")
    config = verifying.Config()  # type: ignore[attr-defined]
    if public_key is not None:
        config = config.use_elliptic_key_verifier(public_key=os.fspath(public_key))
    elif identity and oidc_issuer:
        config = config.use_sigstore_verifier(identity=identity, oidc_issuer=oidc_issuer)
    else:
        raise SignatureError("give a public key (--key) or a Sigstore identity and issuer")
    config = config.set_hashing_config(_hashing_config(root, sig))
    try:
        config.verify(root, sig)
    except Exception as exc:  # the library raises ValueError and its own errors alike
        raise SignatureError(f"{root}: signature verification failed: {exc}") from None
