"""sentence-transformers: ``modules.json`` (and router configs) name module classes."""

from __future__ import annotations

import posixpath

from ..model import Loader
from .context import DetectContext, Detection
from .transformers import TRUST, add_class_ref

ST_NOTES = (
    "sentence-transformers 6.x requires trust_remote_code=True for classes outside "
    "sentence_transformers.*; 5.x and older imported them from local dirs without asking",
)


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    modules = ctx.json("modules.json")
    if modules is None:
        return det
    det.use(Loader.SENTENCE_TRANSFORMERS)
    entries = modules if isinstance(modules, list) else []
    for index, module in enumerate(entries):
        if not isinstance(module, dict) or not isinstance(module.get("type"), str):
            continue
        ref = module["type"]
        if ref.startswith("sentence_transformers."):
            continue  # a class of the library itself
        add_class_ref(
            ctx,
            det,
            loader=Loader.SENTENCE_TRANSFORMERS,
            trigger=f"modules.json [{index}].type",
            ref=ref,
            trust_flag=TRUST,
            notes=ST_NOTES,
        )
    for path in _router_configs(ctx, entries):
        types = ctx.json_object(path).get("types")
        if isinstance(types, dict):
            for key, ref in types.items():
                if isinstance(ref, str) and not ref.startswith("sentence_transformers."):
                    add_class_ref(
                        ctx,
                        det,
                        loader=Loader.SENTENCE_TRANSFORMERS,
                        trigger=f"{path} types.{key}",
                        ref=ref,
                        notes=ST_NOTES,
                    )
    for path in (p for p in ctx.paths() if posixpath.basename(p) == "wordembedding_config.json"):
        # WordEmbeddings.load resolves tokenizer_class through import_module_class,
        # the same gate (and repo-root module lookup) as a modules.json type
        ref = ctx.json_object(path).get("tokenizer_class")
        if isinstance(ref, str) and not ref.startswith("sentence_transformers."):
            add_class_ref(
                ctx,
                det,
                loader=Loader.SENTENCE_TRANSFORMERS,
                trigger=f"{path} tokenizer_class",
                ref=ref,
                notes=ST_NOTES,
            )
    return det


def _router_configs(ctx: DetectContext, entries: list[object]) -> list[str]:
    """Router module configs: ``router_config.json``, else the legacy ``config.json``.

    ``Router.load`` (sentence_transformers/base/modules/router.py) falls back to
    ``config.json`` in the module's folder when ``router_config.json`` is absent.
    """
    found = [p for p in ctx.paths() if p.endswith("router_config.json")]
    for module in entries:
        if not isinstance(module, dict):
            continue
        kind, folder = module.get("type"), module.get("path")
        if not (isinstance(kind, str) and kind.endswith("Router") and isinstance(folder, str)):
            continue
        folder = posixpath.normpath(folder).lstrip("/") if folder else ""
        folder = "" if folder == "." else folder
        if ctx.has(posixpath.join(folder, "router_config.json")):
            continue
        legacy = posixpath.join(folder, "config.json")
        if ctx.has(legacy) and legacy not in found:
            found.append(legacy)
    return found
