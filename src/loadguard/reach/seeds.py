"""Where the load starts: the plan's entry points, as the framework calls them.

Per loader (``shared/research/entrypoints.md`` §1.6, §6, §9):
- a class a config names (transformers ``auto_map``, sentence-transformers
  ``modules.json``, diffusers components): its module's top level runs, then
  the framework instantiates the class and may call any of its methods
  (``from_pretrained``, ``post_init``, ``_init_weights``, overridden
  ``nn.Module`` methods ...), so every method of the class and of its in-repo
  bases is a seed;
- a function (torch.hub entry, ``custom_generate``): module top level + that
  function (a class exported by ``hubconf`` is instantiated);
- a module (``hubconf.py``, mmengine configs and their ``_base_`` chain,
  ``custom_imports``, ModelScope ``ms_wrapper.py``): its top level; classes a
  config names by ``type=`` (mmengine registries, ModelScope
  ``configuration.json``) are instantiated once their module is reached.
"""

from __future__ import annotations

import ast
import json
import posixpath

from ..errors import LoadguardError
from ..model import EntryKind, EntryPoint, Loader, LoadPlan, Snapshot
from .graph import ReachBuilder, _Budget
from .values import ClassV, FuncV

_NO_REPO_CODE = frozenset(
    {
        EntryKind.WEIGHTS,
        EntryKind.TEMPLATE,
        EntryKind.CONFIG,
        EntryKind.KERNEL,
        EntryKind.REDIRECT,
        EntryKind.INSTALL,
    }
)


def seed(builder: ReachBuilder, snapshot: Snapshot, plan: LoadPlan) -> None:
    try:
        for entry in plan.entry_points:
            try:
                _seed_entry(builder, snapshot, plan, entry)
            except _Budget:
                raise
            except Exception as exc:  # one bad entry must not cost the others
                where = entry.module or ""
                builder.unresolve(where, 0, f"cannot seed {entry.trigger}: {exc!r}")
        _seed_registries(builder, snapshot, plan)
    except _Budget:
        pass


def _seed_entry(
    builder: ReachBuilder, snapshot: Snapshot, plan: LoadPlan, entry: EntryPoint
) -> None:
    if entry.cross_repo is not None or entry.kind in _NO_REPO_CODE or not entry.runs_repo_code:
        return
    if entry.module is None:
        if entry.kind is EntryKind.MODULE:  # ModelScope allow_remote: every .py is imported
            for path in plan.executed_files:
                builder.seed_module(path, entry.trigger)
        return
    if entry.module not in builder.py_files:
        return
    builder.seed_module(entry.module, entry.trigger)
    if entry.kind is EntryKind.MODULE and entry.loader is Loader.MMENGINE:
        _seed_bases(builder, snapshot, entry.module, entry.trigger, set())
    if entry.kind is EntryKind.MODULE and entry.loader is Loader.TORCH_HUB:
        _seed_star_exports(builder, entry.module, entry.trigger)
    if entry.loader is Loader.MODELSCOPE and posixpath.basename(entry.module) == "ms_wrapper.py":
        # ModelScope builds the custom pipeline/model this file defines and runs it at once
        for cls in builder.module(entry.module).classes:
            if cls.parent is None and "." not in cls.qualname:
                builder.seed_class(cls, entry.trigger, all_methods=True)
    if entry.kind is EntryKind.CLASS and not entry.qualname:
        # the loader picks the class itself (diffusers find_pipeline_class: the one
        # pipeline subclass the module defines): any top-level class may be it
        for cls in builder.module(entry.module).classes:
            if cls.parent is None and "." not in cls.qualname:
                builder.seed_class(cls, entry.trigger, all_methods=True)
        return
    if not entry.qualname or entry.kind not in (EntryKind.CLASS, EntryKind.FUNCTION):
        return
    info = builder.module(entry.module)
    head, *rest = entry.qualname.split(".")
    values = builder.lookup(head, info, None, 0)
    for part in rest:
        values = [v for value in values for v in builder.get_attr(value, part, 0)]
    for value in values:
        if isinstance(value, FuncV):
            builder.seed_function(value.fn, entry.trigger)
        elif isinstance(value, ClassV):
            builder.seed_class(value.cls, entry.trigger, all_methods=entry.kind is EntryKind.CLASS)


def _seed_star_exports(builder: ReachBuilder, path: str, trigger: str) -> None:
    """``from models.entry import *`` in hubconf: every public callable it brings is an entry."""
    for key in builder.module(path).stars:
        star_path = builder.file_of(key)
        if star_path is None:
            continue
        info = builder.module(star_path)
        for qualname, fn in info.functions.items():
            if "." not in qualname and not qualname.startswith("_"):
                builder.seed_function(fn, f"{trigger}: {qualname} (star import)")
        for cls in info.classes:
            if cls.parent is None and "." not in cls.qualname and not cls.qualname.startswith("_"):
                builder.seed_class(
                    cls, f"{trigger}: {cls.qualname} (star import)", all_methods=False
                )


def _seed_bases(
    builder: ReachBuilder, snapshot: Snapshot, path: str, trigger: str, seen: set[str]
) -> None:
    """mmengine runs a config's ``_base_`` files (recursively) before the config itself."""
    if path in seen:
        return
    seen.add(path)
    info = builder.module(path)
    if info.tree is None:
        return
    for base in _assigned_strings(info.tree, "_base_"):
        if "::" in base:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
        if target in builder.py_files:
            builder.seed_module(target, f"{trigger} _base_ {base}")
            _seed_bases(builder, snapshot, target, f"{trigger} _base_ {base}", seen)


def _seed_registries(builder: ReachBuilder, snapshot: Snapshot, plan: LoadPlan) -> None:
    """Classes a registry builds from ``type=`` names in configs."""
    for entry in plan.entry_points:
        if entry.loader is Loader.MMENGINE and entry.module and entry.module in builder.py_files:
            info = builder.module(entry.module)
            names = _type_names(info.tree) if info.tree is not None else set()
            if names:
                builder.watch_registry(
                    f"{entry.trigger} registry type=", frozenset(names), all_methods=False
                )
    if Loader.MODELSCOPE in plan.loaders and snapshot.has("configuration.json"):
        names = set()
        try:
            data = json.loads(snapshot.read("configuration.json", builder.limits.max_text_bytes))
        except (ValueError, UnicodeDecodeError, OSError, LoadguardError):
            data = None
        _json_types(data, names, 0)
        if names:
            builder.watch_registry("configuration.json type", frozenset(names), all_methods=True)


def _type_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call):
            values = [k.value for k in node.keywords if k.arg == "type"]
        elif isinstance(node, ast.Dict):
            values = [
                v
                for k, v in zip(node.keys, node.values)
                if isinstance(k, ast.Constant) and k.value == "type"
            ]
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                names.add(value.value.rsplit(".", 1)[-1])
                names.add(value.value)
    return names


def _json_types(data: object, names: set[str], depth: int) -> None:
    if depth > 50:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "type" and isinstance(value, str):
                names.add(value)
                names.add(value.rsplit(".", 1)[-1])
            else:
                _json_types(value, names, depth + 1)
    elif isinstance(data, list):
        for item in data:
            _json_types(item, names, depth + 1)


def _assigned_strings(tree: ast.Module, name: str) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return [value.value]
            if isinstance(value, (ast.List, ast.Tuple)):
                return [
                    e.value
                    for e in value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
    return []
