"""OpenMMLab / mmengine: Python configs run whole; ``_base_``, ``custom_imports``, ``type=``."""

from __future__ import annotations

import ast
import posixpath

from ..model import EntryKind, EntryPoint, Loader, ScanError, Severity
from ..pyparse import ParsedModule
from .context import DetectContext, Detection

NOTES = ("mmengine Config.fromfile executes the whole file (and its _base_ chain); no trust flag",)
# Module prefixes whose callables a registry `type=` must never name.
DANGEROUS_MODULES = (
    "os.",
    "posix.",
    "subprocess.",
    "builtins.",
    "shutil.",
    "socket.",
    "importlib.",
    "runpy.",
    "pty.",
    "ctypes.",
    "pickle.",
    "marshal.",
    "sys.",
)


def is_mm_config(path: str, parsed: ParsedModule) -> bool:
    top = {
        t.id
        for node in parsed.tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    return bool(top & {"_base_", "custom_imports"}) or (
        path.startswith("configs/") and bool(top & {"model", "train_cfg", "test_cfg", "data"})
    )


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    candidates = [p for p in ctx.paths() if p.endswith(".py") and p != "hubconf.py"]
    configs: list[str] = []
    for path in candidates:
        if not (path.startswith("configs/") or _mentions_config_keys(ctx, path)):
            continue
        parsed = ctx.python(path)
        if parsed is not None and is_mm_config(path, parsed):
            configs.append(path)
    if not configs:
        return det
    det.use(Loader.MMENGINE)
    for path in configs:
        det.entry_points.append(
            EntryPoint(
                Loader.MMENGINE,
                EntryKind.MODULE,
                f"Config.fromfile({path})",
                path,
                None,
                None,
                notes=NOTES,
            )
        )
        det.execute([path])
        parsed = ctx.python(path)
        if parsed is None:
            continue
        for base in _bases(parsed.tree):
            _follow_base(ctx, det, path, base)
        for module in _custom_imports(parsed.tree):
            _custom_import(ctx, det, path, module)
        for line, dotted in _registry_types(parsed.tree):
            if dotted.startswith(DANGEROUS_MODULES):
                det.flag(
                    "LG-CFG-030",
                    path,
                    f"registry type={dotted!r}: mmengine falls back to importing any "
                    "dotted callable, and this one runs system code",
                    Severity.HIGH,
                    ("CWE-470", "CWE-94"),
                    snippet=f"type='{dotted}'",
                    line=line,
                )
    return det


def _mentions_config_keys(ctx: DetectContext, path: str) -> bool:
    text = ctx.text(path)
    return text is not None and ("_base_" in text or "custom_imports" in text)


def _follow_base(ctx: DetectContext, det: Detection, path: str, base: str) -> None:
    if "::" in base:  # "mmdet::faster_rcnn/..." lives in an installed package
        det.requirements.append(base.split("::", 1)[0])
        return
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
    if ctx.has(target):
        det.execute([target])
    else:
        det.errors.append(_missing(path, f"_base_ {base!r} not found in the repo"))


def _custom_import(ctx: DetectContext, det: Detection, path: str, module: str) -> None:
    files = ctx.import_closure(
        [f"{module.replace('.', '/')}.py", f"{module.replace('.', '/')}/__init__.py"],
        absolute_root=True,
    )
    det.entry_points.append(
        EntryPoint(
            Loader.MMENGINE,
            EntryKind.MODULE,
            f"{path} custom_imports {module}",
            files[0] if files else None,
            None,
            None,
            exists=bool(files),
            notes=("imported by Config.fromfile / build; an installed package if not in the repo",),
        )
    )
    det.execute(files)


def _missing(path: str, message: str) -> ScanError:
    return ScanError(path, "detect", message, "missing-module")


def _assigned(tree: ast.Module, name: str) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    return None


def _strings(node: ast.expr | None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _bases(tree: ast.Module) -> list[str]:
    return _strings(_assigned(tree, "_base_"))


def _custom_imports(tree: ast.Module) -> list[str]:
    value = _assigned(tree, "custom_imports")
    if isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg == "imports":
                return _strings(keyword.value)
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values):
            if isinstance(key, ast.Constant) and key.value == "imports":
                return _strings(item)
    return []


def _registry_types(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "type":
                    found += [(node.lineno, s) for s in _strings(keyword.value) if "." in s]
        elif isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "type":
                    found += [(node.lineno, s) for s in _strings(item) if "." in s]
    return found
