"""ModelScope: ``configuration.json`` ``allow_remote``/``plugins``, ``ms_wrapper.py``."""

from __future__ import annotations

import json

from ..model import EntryKind, EntryPoint, Loader, Platform, Severity
from .context import DetectContext, Detection

TRUST_NOTE = (
    "trust_remote_code=False by default; repos of the owners damo/iic are implicitly trusted; "
    "releases before modelscope PR #1703 (e.g. 1.36.3) honoured allow_remote without the flag",
)


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    if not ctx.has("configuration.json"):
        return det
    config = ctx.json_object("configuration.json")
    det.use(Loader.MODELSCOPE)
    allow_remote = config.get("allow_remote")
    if allow_remote:  # ModelScope tests truthiness: "false", 1 and [0] enable it too
        py_files = sorted(p for p in ctx.paths() if p.endswith(".py"))
        det.entry_points.append(
            EntryPoint(
                Loader.MODELSCOPE,
                EntryKind.MODULE,
                "configuration.json allow_remote",
                None,
                None,
                "trust_remote_code=True",
                notes=TRUST_NOTE
                + ("every .py file of the repo is imported and requirements.txt is pip-installed",),
            )
        )
        det.execute(py_files)
        det.flag(
            "LG-CFG-010",
            "configuration.json",
            f"allow_remote imports all {len(py_files)} Python files of the repo and "
            "pip-installs its requirements at load",
            Severity.HIGH,
            ("CWE-829", "CWE-494"),
            snippet=f'"allow_remote": {json.dumps(allow_remote)[:80]}',
        )
        det.requirements += [
            line for path in _requirement_files(ctx) for line in ctx.requirement_lines(path)
        ]
    plugins = config.get("plugins")
    if isinstance(plugins, str) and plugins:
        plugins = [plugins]  # filter_plugin_in_whitelist wraps a string, the installer iterates it
    if isinstance(plugins, list) and plugins:
        for plugin in plugins:
            det.entry_points.append(
                EntryPoint(
                    Loader.MODELSCOPE,
                    EntryKind.INSTALL,
                    "configuration.json plugins",
                    None,
                    str(plugin),
                    "trust_remote_code=True",
                    notes=("pip-installed and imported at load",),
                )
            )
        det.requirements += [str(p) for p in plugins]
        det.flag(
            "LG-CFG-011",
            "configuration.json",
            f"plugins {plugins!r} are pip-installed and imported at load",
            Severity.HIGH,
            ("CWE-494", "CWE-829"),
            snippet=f'"plugins": {plugins!r}',
        )
    if ctx.has("ms_wrapper.py"):
        det.entry_points.append(
            EntryPoint(
                Loader.MODELSCOPE,
                EntryKind.MODULE,
                "ms_wrapper.py custom pipeline",
                "ms_wrapper.py",
                None,
                "trust_remote_code=True",
                notes=TRUST_NOTE,
            )
        )
        det.execute(ctx.import_closure(["ms_wrapper.py"], absolute_root=True))
    if ctx.has("requirements.txt") and ctx.snapshot.platform is Platform.MODELSCOPE:
        det.requirements += [
            r for r in ctx.requirement_lines("requirements.txt") if r not in det.requirements
        ]
    return det


def _requirement_files(ctx: DetectContext) -> list[str]:
    """Files ``import_module_from_model_dir`` pip-installs under ``allow_remote``.

    ``FilesAstScanning._traversal_files`` (modelscope/utils/ast_utils.py) walks the
    whole snapshot, skips names starting with ``__`` and ``.json``/``.md`` files,
    and installs every file whose name merely contains "requirement".
    """
    found = []
    for path in sorted(ctx.paths()):
        parts = path.split("/")
        if any(p.startswith("__") for p in parts) or path.endswith((".json", ".md", ".py")):
            continue
        if "requirement" in parts[-1]:
            found.append(path)
    return found
