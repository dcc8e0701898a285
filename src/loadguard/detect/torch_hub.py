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
    for name, origin in _public_callables(parsed.tree):
        det.entry_points.append(
            EntryPoint(
                Loader.TORCH_HUB,
                EntryKind.FUNCTION,
                f"hubconf.py entry point {name}",
                "hubconf.py",
                name,
                "trust_repo",
                notes=(f"imported from {origin}",) if origin else (),
            )
        )
    det.requirements += _dependencies(parsed.tree)
    return det


def _public_callables(tree: ast.Module) -> list[tuple[str, str | None]]:
    """Names torch.hub.list() would show: public top-level functions, classes, imports."""
    names: dict[str, str | None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{'.' * node.level}{node.module}"
    return [(n, o) for n, o in names.items() if not n.startswith("_") and n != "dependencies"]


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
