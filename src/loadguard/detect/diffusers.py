"""diffusers: ``model_index.json`` components and custom pipelines shipped as ``.py``."""

from __future__ import annotations

import posixpath

from ..model import EntryKind, EntryPoint, Loader
from .context import DetectContext, Detection
from .transformers import TRUST

NOTES = (
    "diffusers raises without trust_remote_code=True (no prompt); DIFFUSERS_DISABLE_REMOTE_CODE "
    "blocks it; community pipelines named without '/' need no flag",
)


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    index = ctx.json("model_index.json")
    if not isinstance(index, dict):
        if _pipeline_module(ctx):
            det.use(Loader.DIFFUSERS)
            _component(ctx, det, "", ["pipeline", None], CUSTOM_PIPELINE)
        return det
    det.use(Loader.DIFFUSERS)
    class_name = index.get("_class_name")
    if isinstance(class_name, list) and len(class_name) == 2:  # [module, Class] custom pipeline
        _component(ctx, det, "", class_name, "model_index.json _class_name")
        if class_name[0] != "pipeline" and _pipeline_module(ctx):
            _component(ctx, det, "", ["pipeline", None], CUSTOM_PIPELINE)
    elif isinstance(class_name, str) and ctx.has("pipeline.py"):
        _component(ctx, det, "", ["pipeline", class_name], "model_index.json _class_name")
    if ctx.has("None.py"):
        # _resolve_custom_pipeline_and_cls (pipeline_loading_utils.py) tests
        # f"{custom_pipeline}.py" before anything else, and custom_pipeline defaults
        # to None: a root None.py is the pipeline of every from_pretrained of the folder
        _component(
            ctx, det, "", ["None", None], "model_index.json (custom_pipeline=None -> None.py)"
        )
    for key, value in index.items():
        if key.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        _component(ctx, det, key, value, f"model_index.json {key}")
    for path in (p for p in ctx.paths() if p.endswith("/config.json") or p == "config.json"):
        auto_map = ctx.json_object(path).get("auto_map") if path != "config.json" else None
        if isinstance(auto_map, dict):
            for key, ref in auto_map.items():
                if isinstance(ref, str) and "." in ref:
                    folder = posixpath.dirname(path)
                    module, _, cls = ref.rpartition(".")
                    _component(ctx, det, folder, [module, cls], f"{path} auto_map.{key}")
    return det


CUSTOM_PIPELINE = "pipeline.py (custom_pipeline=<this repo>)"


def _pipeline_module(ctx: DetectContext) -> bool:
    """A root ``pipeline.py`` that can be a custom pipeline: it imports diffusers.

    ``from_pretrained(..., custom_pipeline="org/repo" or a folder)`` loads that
    repo's ``pipeline.py`` (``_get_custom_pipeline_class``, pipeline_loading_utils.py)
    and ``find_pipeline_class`` takes its ``DiffusionPipeline`` subclass, which
    needs an import of diffusers. Such a repo may ship no ``model_index.json``.
    """
    if not ctx.has("pipeline.py"):
        return False
    facts = ctx.facts("pipeline.py")
    return facts is not None and any(
        level == 0 and (module == "diffusers" or module.startswith("diffusers."))
        for level, module, _names in facts.imports
    )


def _component(
    ctx: DetectContext, det: Detection, folder: str, spec: list[object], trigger: str
) -> None:
    module, cls = spec
    if not isinstance(module, str) or not (cls is None or isinstance(cls, str)):
        return
    # class None: get_class_from_dynamic_module runs the module, then find_pipeline_class
    # picks its one DiffusionPipeline subclass (dynamic_modules_utils.py)
    # os.path.isfile(os.path.join(component_folder, library_name + ".py")) on the local
    # folder: "../x" in the library name reaches a root file
    path = posixpath.normpath(posixpath.join(folder, f"{module}.py"))
    if not ctx.has(path):
        return  # a library module (diffusers, transformers): no repo code
    det.entry_points.append(
        EntryPoint(Loader.DIFFUSERS, EntryKind.CLASS, trigger, path, cls, TRUST, notes=NOTES)
    )
    det.execute(ctx.import_closure([path], absolute_root=False))
