"""Sources turn a target string into snapshots. One module per kind of source.

Local targets (folders, trees of repos, archives, the HF cache, single
files) are handled here; hub prefixes dispatch to their own modules, which
are imported only when used (their client libraries are optional extras).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import FileEntry, Platform, Snapshot
from .hf_cache import is_cache_repo, is_cache_root, iter_cache_snapshots
from .local import LocalStore, infer_platform, is_archive, iter_repo_dirs, snapshot_from_folder

# prefix -> "module:function(spec: str, limits: Limits) -> Iterator[Snapshot]"
HUB_SOURCES: dict[str, str] = {
    "hf": "loadguard.sources.huggingface:iter_hf_snapshots",
    "ms": "loadguard.sources.modelscope:iter_ms_snapshots",
    "csg": "loadguard.sources.opencsg:iter_csg_snapshots",
    "hub": "loadguard.sources.torch_hub:iter_torch_hub_snapshots",
    "mmlab": "loadguard.sources.openmmlab:iter_mmlab_snapshots",
}


def iter_snapshots(target: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Snapshot]:
    """Every repository snapshot a target names. Raises ``SourceError`` if none can be read."""
    prefix, sep, spec = target.partition(":")
    if sep and prefix in HUB_SOURCES and not os.path.exists(target):
        yield from _hub_source(prefix)(spec, limits)
        return
    path = Path(target).expanduser()
    if not path.exists():
        known = ", ".join(f"{p}:" for p in sorted(HUB_SOURCES)) or "none installed"
        raise SourceError(f"{target}: no such file or directory (hub prefixes: {known})")
    if path.is_file():
        if is_archive(path):
            from .archive import iter_archive_snapshots  # zipfile, tarfile: only for archives

            yield from iter_archive_snapshots(path, limits)
        else:
            yield single_file_snapshot(path)
        return
    if is_cache_repo(path) or is_cache_root(path) or is_cache_root(path / "hub"):
        root = path / "hub" if is_cache_root(path / "hub") else path
        yield from iter_cache_snapshots(root, limits)
        return
    found = False
    for repo_dir in iter_repo_dirs(path):
        found = True
        yield snapshot_from_folder(repo_dir, limits=limits)
    if not found:
        raise SourceError(
            f"{target}: no model repository found (no loader config, code or weights)"
        )


def single_file_snapshot(path: Path) -> Snapshot:
    """A lone file (``model.pt``, ``hubconf.py``) as a one-file repository."""
    name = path.name
    return Snapshot(
        platform=infer_platform((name,)),
        repo_id=name,
        files=(FileEntry(name, path.stat().st_size),),
        store=LocalStore({name: os.path.realpath(path)}),
        platform_inferred=True,
        location=str(path),
    )


def _hub_source(prefix: str) -> Callable[[str, Limits], Iterator[Snapshot]]:
    module_name, _, func = HUB_SOURCES[prefix].partition(":")
    source: Callable[[str, Limits], Iterator[Snapshot]] = getattr(
        importlib.import_module(module_name), func
    )
    return source


__all__ = [
    "HUB_SOURCES",
    "Platform",
    "iter_snapshots",
    "single_file_snapshot",
    "snapshot_from_folder",
]
