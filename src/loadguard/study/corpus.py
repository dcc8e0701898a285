"""What a study runs over: a folder tree of repos, a list of targets, or a hub query.

* a folder (or archive, or HF cache): every repository ``iter_snapshots`` finds;
* a list file (``.txt``, ``.lst``, ``.list``, ``.jsonl``): one target per line
  (``hf:org/name@sha``, ``ms:...``, local paths relative to the list), or JSON
  objects ``{"target": ..., "created_at": ..., "platform": ...}`` whose other
  keys become the repository's metadata (the study's trends use
  ``created_at``; ``platform`` overrides the platform guessed from a local
  copy's layout);
* ``hf-query:key=value&key=value``: a Hugging Face listing (fields of
  ``loadguard.sources.huggingface.HubQuery``, e.g.
  ``hf-query:custom_code=true&created_after=2024-01-01&limit=500``).

Local repositories are listed here, in the parent (cheap, and their key
depends on the listing); hub targets are fetched by the worker that
analyses them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import Platform
from ..sources import HUB_SOURCES, iter_snapshots
from .records import RepoTask, repo_key, target_key

LIST_SUFFIXES = frozenset({".txt", ".lst", ".list", ".jsonl"})
QUERY_PREFIX = "hf-query:"


def iter_tasks(corpus: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[RepoTask]:
    """Every repository of the corpus as a task (in a stable order)."""
    if corpus.startswith(QUERY_PREFIX):
        yield from _hub_query_tasks(corpus[len(QUERY_PREFIX) :])
        return
    path = Path(corpus).expanduser()
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        yield from _list_tasks(path, limits)
        return
    yield from _target_tasks(corpus, {}, limits)


def _target_tasks(target: str, metadata: dict[str, object], limits: Limits) -> Iterator[RepoTask]:
    prefix, sep, _ = target.partition(":")
    if sep and prefix in HUB_SOURCES and not Path(target).exists():
        yield RepoTask(target_key(target), None, target, metadata)
        return
    platform = _platform_of(metadata)
    try:
        for snapshot in iter_snapshots(target, limits):
            if platform is not None:  # the list knows where the repo was crawled from
                snapshot = dataclasses.replace(snapshot, platform=platform, platform_inferred=False)
            yield RepoTask(repo_key(snapshot), snapshot, target, metadata)
    except SourceError as exc:
        # a target that cannot be read is a result of the study, not a crash
        yield RepoTask(target_key(target), None, target, {**metadata, "_source_error": str(exc)})


def _platform_of(metadata: dict[str, object]) -> Platform | None:
    value = metadata.get("platform")
    if value is None:
        return None
    try:
        return Platform(str(value))
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise SourceError(
            f"unknown platform {value!r} in the target list (known: {known})"
        ) from None


def _list_tasks(path: Path, limits: Limits) -> Iterator[RepoTask]:
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            metadata: dict[str, object] = {}
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                    target = str(record.pop("target"))
                except (ValueError, KeyError, AttributeError) as exc:
                    raise SourceError(f"{path}:{number}: not a target record: {exc}") from None
                metadata = {k: v for k, v in record.items() if isinstance(k, str)}
            else:
                target = line
            prefix, sep, _ = target.partition(":")
            local = Path(target).expanduser()
            if not (sep and prefix in HUB_SOURCES) and not local.is_absolute():
                target = str(path.parent / local)
            yield from _target_tasks(target, metadata, limits)


def parse_query(spec: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for part in filter(None, spec.split("&")):
        key, sep, value = part.partition("=")
        if not sep:
            raise SourceError(f"hub query: {part!r} is not key=value")
        fields[key.strip()] = value.strip()
    return fields


def _hub_query_tasks(spec: str) -> Iterator[RepoTask]:
    try:
        module = importlib.import_module("loadguard.sources.huggingface")
        query_cls = module.HubQuery
    except (ImportError, AttributeError):
        raise SourceError(
            "hub listing queries need loadguard.sources.huggingface (not available in this "
            "installation); list the targets in a file instead"
        ) from None
    query = query_cls(**_coerce(query_cls, parse_query(spec)))
    lister = getattr(module, "iter_hub_models", None)
    if lister is not None:
        for model in lister(query):
            meta = {
                k: getattr(model, k)
                for k in ("created_at", "last_modified", "downloads", "likes", "library_name")
                if getattr(model, k, None) is not None
            }
            yield RepoTask(target_key(model.target), None, model.target, meta)
        return
    for target in module.iter_hub_listing(query):
        yield RepoTask(target_key(target), None, target, {})


def _coerce(query_cls: Any, raw: dict[str, str]) -> dict[str, Any]:
    """Strings from the command line into the query dataclass' field types."""
    known = {f.name: f for f in dataclasses.fields(query_cls)}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise SourceError(f"hub query: unknown field {key!r} (known: {', '.join(known)})")
        kind = str(known[key].type)
        if "bool" in kind:
            out[key] = value.lower() in ("1", "true", "yes")
        elif "datetime" in kind:
            out[key] = dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
        elif "tuple" in kind:
            out[key] = tuple(v for v in value.split(",") if v)
        elif "int" in kind:
            out[key] = int(value)
        else:
            out[key] = value
    return out
