"""PyTorch Hub: ``hubconf.py`` runs whole on load/list/help, then the chosen entry."""

from __future__ import annotations

import ast

from ..model import EntryKind, EntryPoint, Loader
from .context import DetectContext, Detection

NOTES = (
    "torch.hub.load trust_repo: default 'check' in torch >= 2.11 (prompt for unknown owners), "
    "None in <= 2.10 (warn and load); source='local' is never checked",
    "hubconf.py runs top to bottom on load(), list() and help(), with the repo root on sys.path",
)


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    if not ctx.has("hubconf.py"):
        return det
    det.use(Loader.TORCH_HUB)
    det.entry_points.append(
        EntryPoint(
            Loader.TORCH_HUB,
            EntryKind.MODULE,
            "hubconf.py module top level",
            "hubconf.py",
            None,
            "trust_repo",
            notes=NOTES,
        )
    )
    det.execute(ctx.import_closure(["hubconf.py"], absolute_root=True))
    parsed = ctx.python("hubconf.py")
    if parsed is None:
        return det
    entries = _public_callables(parsed.tree)
    for module in _star_modules(ctx, parsed.tree):
        star = ctx.python(module)
        if star is not None:
            for name in _public_callables(star.tree, exported=True):
                entries.setdefault(name, f"star-imported from {module}")
    for name, origin in entries.items():
        det.entry_points.append(
            EntryPoint(
                Loader.TORCH_HUB,
                EntryKind.FUNCTION,
                f"hubconf.py entry point {name}",
                "hubconf.py",
                name,
                "trust_repo",
                notes=(origin,) if origin else (),
            )
        )
    det.requirements += _dependencies(parsed.tree)
    return det


def _public_callables(tree: ast.Module, *, exported: bool = False) -> dict[str, str | None]:
    """Names torch.hub.list() would show: public top-level callables.

    ``list()`` keeps every public attribute of the hubconf module that is
    callable, and ``load(repo, name)`` only checks ``callable(getattr(m, name))``
    (torch/hub.py): functions, classes, imported callables, and names bound to
    one by assignment (``resnet = _make``, ``functools.partial(...)``, a lambda,
    an instance with ``__call__``). ``exported``: a star import brings ``__all__``
    when the module sets it.
    """
    names: dict[str, str | None] = {}
    exports: list[str] | None = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = (
                        f"imported from {'.' * node.level}{node.module}"
                    )
        elif isinstance(node, ast.Assign) and isinstance(
            node.value, (ast.Name, ast.Attribute, ast.Call, ast.Lambda)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, "bound by an assignment in hubconf.py")
        elif (
            exported
            and isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, (ast.List, ast.Tuple))
        ):
            exports = [
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    public = {n: o for n, o in names.items() if not n.startswith("_") and n != "dependencies"}
    if exports is not None:
        public = {n: names.get(n) for n in exports if not n.startswith("_")}
    return public


def _star_modules(ctx: DetectContext, tree: ast.Module) -> list[str]:
    """Repo files hubconf star-imports (the repo root is on sys.path)."""
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            stem = ("." * node.level + (node.module or "")).lstrip(".").replace(".", "/")
            for path in (f"{stem}.py", f"{stem}/__init__.py"):
                if stem and ctx.has(path):
                    found.append(path)
                    break
    return found


def _dependencies(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "dependencies" for t in node.targets)
            and isinstance(node.value, (ast.List, ast.Tuple))
        ):
            return [
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    return []
