"""OpenMMLab / mmengine: Python configs run whole; ``_base_``, ``custom_imports``, ``type=``."""

from __future__ import annotations

import ast
import posixpath
import re

from ..errors import LoadguardError
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
    return (
        bool(top & {"_base_", "custom_imports"})
        or (path.startswith("configs/") and bool(top & {"model", "train_cfg", "test_cfg", "data"}))
        or ("model" in top and len(top & RUNNER_KEYS) >= 2)
    )


# Top-level names of a full (flattened) OpenMMLab config, as `mim download` and
# Config.dump write them beside a checkpoint: the file inference APIs such as
# mmdet's init_detector(config, checkpoint) hand to Config.fromfile.
RUNNER_KEYS = frozenset(
    {
        "default_scope",
        "data_preprocessor",
        "train_cfg",
        "val_cfg",
        "test_cfg",
        "train_dataloader",
        "val_dataloader",
        "test_dataloader",
        "train_pipeline",
        "test_pipeline",
        "optim_wrapper",
        "param_scheduler",
        "default_hooks",
        "env_cfg",
        "log_processor",
        "visualizer",
        "load_from",
    }
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
    data_configs = _data_configs(ctx)
    if not configs and not data_configs:
        return det
    det.use(Loader.MMENGINE)
    for path, data in data_configs:
        _data_config(ctx, det, path, data, configs)
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
        # the file runs whole: its imports too (lazy-import configs resolve relative ones)
        det.execute(ctx.import_closure([path], absolute_root=True))
        parsed = ctx.python(path)
        if parsed is None:
            continue
        for base in _bases(parsed.tree):
            _follow_base(ctx, det, path, base)
        named = _custom_imports(parsed.tree)
        for module in named:
            _custom_import(ctx, det, path, module)
        for module in _custom_imports_computed(ctx, parsed.tree):
            if module not in named:
                _custom_import(ctx, det, path, module)
        for line, dotted in _registry_types(parsed.tree):
            _registry_type(ctx, det, path, dotted, f"type='{dotted}'", line)
    return det


def _registry_type(
    ctx: DetectContext, det: Detection, path: str, dotted: str, snippet: str, line: int | None
) -> None:
    """A registry ``type`` naming a dotted callable: mmengine imports whatever it names."""
    if dotted.startswith(DANGEROUS_MODULES):
        det.flag(
            "LG-CFG-030",
            path,
            f"registry type={dotted!r}: mmengine falls back to importing any "
            "dotted callable, and this one runs system code",
            Severity.HIGH,
            ("CWE-470", "CWE-94"),
            snippet=snippet,
            line=line,
        )
    elif imported := _repo_module_of(ctx, dotted):
        _custom_import(ctx, det, path, imported, via=f"registry type={dotted}")


def _repo_module_of(ctx: DetectContext, dotted: str) -> str | None:
    """The repo module a registry ``type`` string imports, if any.

    An unregistered dotted name falls back to ``get_object_from_string``
    (mmengine/utils/misc.py), which imports its longest importable prefix: a repo
    package when the repo is on ``sys.path`` (an editable install, the working
    directory of OpenMMLab's tools).
    """
    parts = dotted.split(".")
    for end in range(len(parts) - 1, 0, -1):
        stem = "/".join(parts[:end])
        if ctx.has(f"{stem}.py") or ctx.has(f"{stem}/__init__.py"):
            return ".".join(parts[:end])
    return None


def _data_configs(ctx: DetectContext) -> list[tuple[str, dict[str, object]]]:
    """JSON/YAML configs: ``Config.fromfile`` honours ``_base_`` and ``custom_imports`` there too.

    ``Config._get_base_files`` reads ``_base_`` from a ``.json``/``.yml``/``.yaml``
    config, and ``Config.fromfile`` imports ``cfg_dict["custom_imports"]`` whatever
    the format (mmengine/config/config.py). Those two keys name nothing outside
    mmengine, so a data file with either at its top level is a config.
    """
    found: list[tuple[str, dict[str, object]]] = []
    for entry in ctx.snapshot.files:
        path = entry.path
        if not path.endswith((".json", ".yaml", ".yml")) or entry.size > ctx.limits.max_text_bytes:
            continue
        try:
            raw = ctx.snapshot.read(path, ctx.limits.max_text_bytes)
        except (OSError, LoadguardError):
            continue
        if b"custom_imports" not in raw and b"_base_" not in raw:
            continue
        data = ctx.json(path) if path.endswith(".json") else _yaml(raw)
        if isinstance(data, dict) and {"_base_", "custom_imports"} & data.keys():
            found.append((path, data))
    return found


def _yaml(raw: bytes) -> object:
    import yaml  # only for YAML configs that mention the keys

    class _Loader(yaml.SafeLoader):
        """Safe loading that turns unknown tags (``!!python/...``) into plain values."""

    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        return yaml.load(raw, Loader=_Loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def _data_config(
    ctx: DetectContext, det: Detection, path: str, data: dict[str, object], py_configs: list[str]
) -> None:
    det.entry_points.append(
        EntryPoint(
            Loader.MMENGINE,
            EntryKind.CONFIG,
            f"Config.fromfile({path})",
            path,
            None,
            None,
            runs_repo_code=False,
            notes=NOTES,
        )
    )
    bases = data.get("_base_")
    for base in [bases] if isinstance(bases, str) else bases if isinstance(bases, list) else []:
        if not isinstance(base, str):
            continue
        _follow_base(ctx, det, path, base)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
        if target.endswith(".py") and ctx.has(target) and target not in py_configs:
            py_configs.append(target)  # a Python base runs whole: it is a config itself
    custom = data.get("custom_imports")
    imports = custom.get("imports") if isinstance(custom, dict) else None
    for module in [imports] if isinstance(imports, str) else imports or []:
        if isinstance(module, str):
            _custom_import(ctx, det, path, module)
    for dotted in _data_types(data, 0):
        _registry_type(ctx, det, path, dotted, f'"type": "{dotted}"', None)


def _data_types(data: object, depth: int) -> list[str]:
    """Dotted ``type`` values anywhere in a JSON/YAML config."""
    if depth > 50:
        return []
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k == "type" and isinstance(v, str) and "." in v]
        return found + [t for v in data.values() for t in _data_types(v, depth + 1)]
    if isinstance(data, list):
        return [t for v in data for t in _data_types(v, depth + 1)]
    return []


def _mentions_config_keys(ctx: DetectContext, path: str) -> bool:
    text = ctx.text(path)
    return text is not None and (
        "_base_" in text
        or "custom_imports" in text
        or ("model" in text and ("default_scope" in text or "_cfg" in text))
    )


def _follow_base(ctx: DetectContext, det: Detection, path: str, base: str) -> None:
    if "::" in base:  # "mmdet::faster_rcnn/..." lives in an installed package
        det.requirements.append(base.split("::", 1)[0])
        return
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
    if ctx.has(target):
        det.execute([target])
    else:
        det.errors.append(_missing(path, f"_base_ {base!r} not found in the repo"))


def _custom_import(
    ctx: DetectContext, det: Detection, path: str, module: str, via: str = "custom_imports"
) -> None:
    files = ctx.import_closure(
        [f"{module.replace('.', '/')}.py", f"{module.replace('.', '/')}/__init__.py"],
        absolute_root=True,
    )
    det.entry_points.append(
        EntryPoint(
            Loader.MMENGINE,
            EntryKind.MODULE,
            f"{path} {via} {module}" if via == "custom_imports" else f"{path} {via}",
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


def _custom_imports_computed(ctx: DetectContext, tree: ast.Module) -> list[str]:
    """Repo modules a config adds to ``custom_imports`` by code, not by literal.

    The whole config runs before ``Config.fromfile`` reads ``custom_imports``, so
    ``custom_imports["imports"].append("plug")`` or ``imports=MODS`` count. Any
    string in a top-level statement that mentions ``custom_imports`` (or in the
    assignment of a name such a statement uses) that names a repo module is one.
    """
    assigned: dict[str, list[ast.stmt]] = {}
    mentioning: list[ast.stmt] = []
    for node in tree.body:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if "custom_imports" in names:
            mentioning.append(node)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for bound in ast.walk(target):
                    if isinstance(bound, ast.Name):
                        assigned.setdefault(bound.id, []).append(node)
    statements = list(mentioning)
    for node in mentioning:
        for used in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
            if used != "custom_imports":
                statements += assigned.get(used, [])
    found: list[str] = []
    for node in statements:
        for const in ast.walk(node):
            value = const.value if isinstance(const, ast.Constant) else None
            if not isinstance(value, str) or not _DOTTED.match(value) or value in found:
                continue
            stem = value.replace(".", "/")
            if ctx.has(f"{stem}.py") or ctx.has(f"{stem}/__init__.py"):
                found.append(value)
    return found


_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


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
