"""OpenMMLab: ``mmlab:package[/config][@ref]`` -> the configs and checkpoints mim would use.

``mim download pkg --config X`` reads the package's ``model-index.yml``,
which imports ``metafile.yml`` files listing models (``Name``, ``Config``,
``Weights`` URL). mmengine then executes the config and its ``_base_``
chain, and ``torch.load``s the checkpoint. This source pins the package's
GitHub repo to a commit (torch.hub's ref rules), reads the index, and builds
one snapshot per model: ``model-index.yml``, the metafile, the config with
every base it pulls in, and the checkpoint as ``checkpoints/<name>`` read by
HTTP ranges from its download URL.

YAML is parsed with ``yaml.safe_load`` only; configs are parsed, never run.
Raw files come from ``LOADGUARD_GITHUB_RAW`` (default raw.githubusercontent.com).
"""

from __future__ import annotations

import ast
import hashlib
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import yaml

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, ScanError, Snapshot
from .http import NotFound, UrlFetcher, content_length, get
from .local import safe_repo_path
from .remote import LiveMetadata, RemoteReadError, RemoteStore
from .torch_hub import _auth, resolve_ref

# package (as imported and as mim names it) -> GitHub repository
PACKAGE_REPOS: Mapping[str, str] = {
    "mmdet": "open-mmlab/mmdetection",
    "mmdet3d": "open-mmlab/mmdetection3d",
    "mmpretrain": "open-mmlab/mmpretrain",
    "mmcls": "open-mmlab/mmclassification",
    "mmseg": "open-mmlab/mmsegmentation",
    "mmpose": "open-mmlab/mmpose",
    "mmocr": "open-mmlab/mmocr",
    "mmaction": "open-mmlab/mmaction2",
    "mmaction2": "open-mmlab/mmaction2",
    "mmagic": "open-mmlab/mmagic",
    "mmedit": "open-mmlab/mmediting",
    "mmrotate": "open-mmlab/mmrotate",
    "mmyolo": "open-mmlab/mmyolo",
    "mmtrack": "open-mmlab/mmtracking",
    "mmflow": "open-mmlab/mmflow",
    "mmfewshot": "open-mmlab/mmfewshot",
    "mmselfsup": "open-mmlab/mmselfsup",
    "mmrazor": "open-mmlab/mmrazor",
}
MAX_TEXT = 4 << 20
MAX_BASES = 200


def raw_base() -> str:
    return os.environ.get("LOADGUARD_GITHUB_RAW", "https://raw.githubusercontent.com").rstrip("/")


@dataclass(frozen=True)
class MmModel:
    name: str
    config: str | None
    weights: tuple[str, ...]
    metafile: str
    collection: str | None
    task: str | None


_HASH_SUFFIX = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def hash_prefix(name: str) -> str | None:
    """The sha256 prefix in an OpenMMLab/torch.hub file name (``…_20220902-78e30dcc.pth``)."""
    match = _HASH_SUFFIX.search(posixpath.basename(name))
    return match.group(1) if match else None


def parse_mmlab_spec(spec: str) -> tuple[str, str, str | None, str | None]:
    """``package[/config][@ref]`` -> (package, owner/repo, config or None, ref or None)."""
    body, _, ref = spec.strip().partition("@")
    package, _, config = body.partition("/")
    repo = PACKAGE_REPOS.get(package) or next(
        (r for r in PACKAGE_REPOS.values() if r.split("/")[1] == package), None
    )
    if repo is None:
        known = ", ".join(sorted(PACKAGE_REPOS))
        raise SourceError(f"mmlab:{spec}: unknown OpenMMLab package {package!r} (known: {known})")
    return package, repo, (config or None), (ref or None)


class _Raw:
    """Whole small files of one pinned commit, fetched once, kept with their hashes."""

    def __init__(self, repo: str, commit: str) -> None:
        self.repo, self.commit = repo, commit
        self.bodies: dict[str, bytes] = {}

    def url(self, path: str) -> str:
        return f"{raw_base()}/{self.repo}/{self.commit}/{path}"

    def fetch(self, path: str) -> bytes:
        if path not in self.bodies:
            self.bodies[path] = get(
                self.url(path),
                secret_headers=_auth(),
                max_bytes=MAX_TEXT,
                what=f"mmlab:{self.repo}@{self.commit[:12]}/{path}",
            ).body
        return self.bodies[path]


def _yaml(data: bytes, what: str) -> object:
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise SourceError(f"{what}: not valid YAML ({exc})") from None


def read_model_index(raw: _Raw) -> list[MmModel]:
    index = _yaml(raw.fetch("model-index.yml"), "model-index.yml")
    imports = index.get("Import") if isinstance(index, dict) else None
    models: list[MmModel] = []
    for metafile in imports if isinstance(imports, list) else []:
        path = posixpath.normpath(str(metafile))
        if not safe_repo_path(path):
            continue
        try:
            meta = _yaml(raw.fetch(path), path)
        except NotFound:
            continue  # an index naming a missing metafile: mim skips it too
        if not isinstance(meta, dict):
            continue
        for item in meta.get("Models") or []:
            if not isinstance(item, dict) or not item.get("Name"):
                continue
            weights = item.get("Weights")
            urls = weights if isinstance(weights, list) else [weights] if weights else []
            collection = item.get("In Collection")
            results = item.get("Results")
            task = None
            if isinstance(results, list) and results and isinstance(results[0], dict):
                task = results[0].get("Task")
            models.append(
                MmModel(
                    name=str(item["Name"]),
                    config=str(item["Config"]) if item.get("Config") else None,
                    weights=tuple(
                        str(u) for u in urls if str(u).startswith(("http://", "https://"))
                    ),
                    metafile=path,
                    collection=str(collection) if collection else None,
                    task=str(task) if task else None,
                )
            )
    return models


def config_bases(source: bytes, config_path: str) -> list[str]:
    """Repo paths a config pulls in: ``_base_`` strings and relative ``read_base`` imports."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    directory = posixpath.dirname(config_path)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_base_" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            )
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    if "::" in value.value:
                        continue  # another installed package's config (pkg::path)
                    found.append(posixpath.normpath(posixpath.join(directory, value.value)))
        elif isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
            up = directory
            for _ in range(node.level - 1):
                up = posixpath.dirname(up)
            found.append(posixpath.join(up, *node.module.split(".")) + ".py")
    return [p for p in found if safe_repo_path(p)]


class _MixedFetcher:
    """Prefetched text files from memory; checkpoints by ranges from their URLs."""

    def __init__(self, bodies: Mapping[str, bytes], remote: UrlFetcher) -> None:
        self._bodies, self._remote = bodies, remote

    def fetch_range(self, path: str, start: int, end: int) -> bytes:
        if path in self._bodies:
            return self._bodies[path][start:end]
        return self._remote.fetch_range(path, start, end)

    def fetch_whole(self, path: str, size: int) -> bytes:
        if path in self._bodies:
            return self._bodies[path]
        return self._remote.fetch_whole(path, size)


def model_snapshot(
    raw: _Raw, package: str, model: MmModel, ref: str, limits: Limits = DEFAULT_LIMITS
) -> Snapshot:
    skipped: list[ScanError] = []
    paths = ["model-index.yml", model.metafile]
    queue = [posixpath.normpath(model.config)] if model.config else []
    seen: set[str] = set()
    while queue and len(seen) < MAX_BASES:
        path = queue.pop()
        if path in seen or not safe_repo_path(path):
            continue
        seen.add(path)
        try:
            body = raw.fetch(path)
        except NotFound:
            skipped.append(ScanError(path, "source", "config named but missing", "missing"))
            continue
        except RemoteReadError as exc:
            skipped.append(ScanError(path, "source", str(exc), "remote-read"))
            continue
        paths.append(path)
        if path.endswith(".py"):
            queue.extend(config_bases(body, path))
    bodies = {p: raw.bodies[p] for p in paths if p in raw.bodies}
    files = [FileEntry(p, len(b), hashlib.sha256(b).hexdigest()) for p, b in bodies.items()]
    urls: dict[str, str] = {}
    for url in model.weights:
        name = "checkpoints/" + posixpath.basename(url.split("?", 1)[0])
        try:
            size = content_length(url, what=f"mmlab:{model.name} weights")
        except RemoteReadError as exc:
            skipped.append(ScanError(name, "source", str(exc), "remote-read"))
            continue
        if size is None:
            skipped.append(ScanError(name, "source", "server hides the size", "remote-read"))
            continue
        urls[name] = url
        files.append(FileEntry(name, size))
    fetcher = _MixedFetcher(bodies, UrlFetcher(urls.__getitem__, {f.path: f.size for f in files}))
    store = RemoteStore(
        {f.path: f for f in files},
        fetcher,
        hash_prefixes={p: h for p in urls if (h := hash_prefix(p))},
        per_file_budget=limits.max_pickle_bytes,
    )
    static: dict[str, object] = {
        "source": "openmmlab",
        "package": package,
        "github": raw.repo,
        "requested_revision": ref,
        "model": model.name,
        "config": model.config,
        "weights_urls": list(model.weights),
        "tags": [t for t in (model.collection, model.task) if t],
        "partial": bool(skipped),
    }
    return Snapshot(
        platform=Platform.OPENMMLAB,
        repo_id=f"{package}/{model.name}",
        files=tuple(sorted(files, key=lambda f: f.path)),
        store=store,
        revision=raw.commit,
        location=f"https://github.com/{raw.repo}/blob/{raw.commit}/{model.config or ''}",
        metadata=LiveMetadata(static, store.ledger),
        skipped=tuple(skipped),
    )


def iter_mmlab_snapshots(spec: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """``HUB_SOURCES`` entry for ``mmlab:``: one snapshot per model (or the one named)."""
    package, repo, config, ref = parse_mmlab_spec(spec)
    owner, name = repo.split("/")
    used_ref, commit = resolve_ref(owner, name, ref)
    raw = _Raw(repo, commit)
    try:
        models = read_model_index(raw)
    except NotFound:
        raise SourceError(f"mmlab:{spec}: {repo}@{commit[:12]} has no model-index.yml") from None
    except RemoteReadError as exc:
        raise SourceError(str(exc)) from None
    if config is not None:
        wanted = config.removesuffix(".py")
        models = [
            m
            for m in models
            if m.name == wanted
            or (m.config and posixpath.basename(m.config).removesuffix(".py") == wanted)
            or (m.config and m.config.removesuffix(".py") == wanted)
        ]
        if not models:
            raise SourceError(f"mmlab:{spec}: no model or config named {config!r} in the index")
    for model in models:
        yield model_snapshot(raw, package, model, ref or used_ref, limits)
