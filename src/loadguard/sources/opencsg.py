"""OpenCSG / CSGHub: ``csg:namespace/name[@revision]``.

CSGHub serves a Hugging Face compatible API under ``{endpoint}/csg``
(``/csg/api/models/{id}/revision/{rev}?blobs=True``, ``/csg/{id}/resolve/...``):
``csghub-sdk`` itself parses its answers with ``huggingface_hub.ModelInfo``.
So the Hugging Face source is reused with that endpoint, through the same
client library: commits pinned, weights read by ranges, hashes checked.
Endpoint: ``CSGHUB_DOMAIN`` (default ``https://hub.opencsg.com``); token:
``CSGHUB_TOKEN``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..limits import DEFAULT_LIMITS, Limits
from ..model import Platform, Snapshot
from .huggingface import hf_snapshot, parse_hf_spec

DEFAULT_DOMAIN = "https://hub.opencsg.com"


def csg_endpoint(domain: str | None = None) -> str:
    base = (domain or os.environ.get("CSGHUB_DOMAIN") or DEFAULT_DOMAIN).rstrip("/")
    return f"{base}/csg"


def csg_snapshot(
    repo_id: str,
    revision: str | None = None,
    *,
    domain: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Snapshot:
    token = os.environ.get("CSGHUB_TOKEN") or False  # never fall back to the HF token
    return hf_snapshot(
        repo_id,
        revision,
        endpoint=csg_endpoint(domain),
        token=token,
        limits=limits,
        platform=Platform.OPENCSG,
        prefix="csg",
    )


def iter_csg_snapshots(spec: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """``HUB_SOURCES`` entry for ``csg:``."""
    repo_id, revision = parse_hf_spec(spec)
    yield csg_snapshot(repo_id, revision, limits=limits)
