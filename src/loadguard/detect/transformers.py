"""Hugging Face transformers (and PEFT redirects): every place a config names code.

Facts from ``shared/research/entrypoints.md`` §1: ``auto_map`` in config,
tokenizer, processor and preprocessor configs; ``custom_pipelines``;
``custom_generate/generate.py``; ``attn_implementation`` naming a hub repo;
``adapter_config.json`` redirects; class references ``module.Class`` or
``org/repo--module.Class``.
"""

from __future__ import annotations

import posixpath
import re

from ..model import (
    Confidence,
    CrossRepoRef,
    EntryKind,
    EntryPoint,
    Loader,
    Platform,
    ScanError,
    Severity,
)
from .context import DetectContext, Detection

TRUST = "trust_remote_code=True"
AUTO_MAP_FILES = (
    "config.json",
    "tokenizer_config.json",
    "processor_config.json",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "feature_extractor_config.json",
    "image_processor_config.json",
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_REVISION_IN_REF = re.compile(r"@([0-9a-f]{40})$")

NOTES = {
    "AutoTokenizer": (
        "transformers 5.x loads the fast class if set, else the slow one; 4.x used the fast "
        "class only with use_fast=True (the default) and also fell back to config.json "
        "auto_map.AutoTokenizer",
    ),
    "cross": (
        "code comes from the other repo's default-branch HEAD unless code_revision= is passed; "
        "the caller's revision= does not pin it",
    ),
    "trust": (
        "trust_remote_code=None: a built-in class for model_type wins silently, else a 15 s "
        "y/N prompt, else ValueError; True makes the repo class win even over a built-in one",
    ),
}


def class_ref_parts(ref: str) -> tuple[str | None, str, str] | None:
    """``org/repo--pkg/module.Class`` -> (repo or None, "pkg/module.py", "Class")."""
    repo: str | None = None
    if "--" in ref:
        repo, ref = ref.split("--", 1)
    module, dot, cls = ref.rpartition(".")
    if not dot or not module or not cls:
        return None
    return repo, f"{module}.py", cls


def add_class_ref(
    ctx: DetectContext,
    det: Detection,
    *,
    loader: Loader,
    trigger: str,
    ref: str,
    trust_flag: str | None = TRUST,
    notes: tuple[str, ...] = (),
    kind: EntryKind = EntryKind.CLASS,
    absolute_root: bool = False,
) -> None:
    """Record one ``module.Class`` reference: an entry point plus the files it executes."""
    parts = class_ref_parts(ref)
    if parts is None:
        det.errors.append(
            ScanError("", "detect", f"{trigger}: malformed class reference {ref!r}", "bad-ref")
        )
        return
    repo, module, cls = parts
    if repo is not None:
        pinned = bool(_REVISION_IN_REF.search(repo))
        cross = CrossRepoRef(
            repo_id=repo,
            reference=ref if "--" in ref else f"{repo}--{ref}",
            trigger=trigger,
            pinned=pinned,
            platform=_platform_of(ctx),
        )
        det.cross_repo_refs.append(cross)
        det.entry_points.append(
            EntryPoint(
                loader,
                kind,
                trigger,
                module,
                cls,
                trust_flag,
                True,
                cross,
                notes=notes + NOTES["cross"],
            )
        )
        # Code from elsewhere is code this scan never saw; unpinned, it can change
        # (or turn hostile) after any review: a classic place to park a payload.
        det.flag(
            "LG-CFG-002",
            trigger.split(" ", 1)[0],
            f"{trigger} loads code from another repository ({repo})"
            + (
                " at a pinned revision; that code was not scanned here"
                if cross.pinned
                else " at its default-branch HEAD: unscanned code that can change after you "
                "pin this repo"
            ),
            Severity.MEDIUM if cross.pinned else Severity.HIGH,
            ("CWE-829", "CWE-494"),
            snippet=f"{trigger}: {cross.reference}",
        )
        return
    exists = ctx.has(module)
    if not exists:
        det.errors.append(
            ScanError(
                module, "detect", f"{trigger} names {module}, which is missing", "missing-module"
            )
        )
    elif ctx.defines(module, cls) is False:
        det.errors.append(
            ScanError(
                module,
                "detect",
                f"{trigger} names class {cls}, which {module} does not define",
                "missing-class",
            )
        )
    det.entry_points.append(
        EntryPoint(loader, kind, trigger, module, cls, trust_flag, True, None, exists, notes)
    )
    if exists:
        det.execute(ctx.import_closure([module], absolute_root=absolute_root))


def _platform_of(ctx: DetectContext) -> Platform:
    # transformers resolves "--" references on the hub the snapshot came from
    # (ModelScope's wrapper on ModelScope; OpenCSG and local dirs on huggingface.co).
    if ctx.snapshot.platform is Platform.MODELSCOPE:
        return Platform.MODELSCOPE
    return Platform.HUGGINGFACE


def _auto_map_refs(key: str, value: object) -> list[tuple[str, str]]:
    """(trigger suffix, ref) pairs for one auto_map value: str, list or dict of backends."""
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, list):
        return [(f"{key}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
    if isinstance(value, dict):
        return [(f"{key}.{k}", v) for k, v in value.items() if isinstance(v, str)]
    return []


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    for path in _auto_map_files(ctx):
        config = ctx.json_object(path)
        folder = posixpath.dirname(path)
        for holder_path, holder in _auto_map_holders(config, path):
            auto_map = holder.get("auto_map")
            if isinstance(auto_map, list):  # legacy tokenizer form: [slow, fast]
                items = _auto_map_refs("auto_map", auto_map)
                names = ["AutoTokenizer"] * len(items)
            elif isinstance(auto_map, dict):
                items, names = [], []
                for key, value in auto_map.items():
                    for suffix, ref in _auto_map_refs(f"auto_map.{key}", value):
                        items.append((suffix, ref))
                        names.append(key)
                for suffix, ref, name in _derived_refs(auto_map):
                    items.append((suffix, ref))
                    names.append(name)
            else:
                continue
            det.use(Loader.TRANSFORMERS)
            for (suffix, ref), name in zip(items, names):
                notes = NOTES["trust"] + NOTES.get(name, ())
                _add_ref(ctx, det, folder, f"{holder_path} {suffix}", ref, notes)
    for path in _model_configs(ctx):
        _custom_pipelines(ctx, det, path)
    _custom_generate(ctx, det)
    _kernels(ctx, det)
    _adapter(ctx, det)
    _open_clip(ctx, det)
    _chat_templates(ctx, det)
    if ctx.has("config.json") and not det.loaders:
        det.use(Loader.TRANSFORMERS)  # a plain built-in architecture: loads without repo code
    return det


def _auto_map_files(ctx: DetectContext) -> list[str]:
    """Every config an Auto class may read, at the root and in sub-folders.

    A sub-folder config is what ``from_pretrained(repo, subfolder=...)`` and a
    load from the sub-folder's own path read (diffusers ``text_encoder/``,
    sentence-transformers ``0_Transformer/``, multi-model repos).
    """
    names = frozenset(AUTO_MAP_FILES)
    found = [p for p in ctx.paths() if posixpath.basename(p) in names]
    order = {name: i for i, name in enumerate(AUTO_MAP_FILES)}
    # the root's own configs first, each folder's in the order the Auto classes read them
    found.sort(key=lambda p: (p.count("/"), posixpath.dirname(p), order[posixpath.basename(p)]))
    versioned: list[str] = []
    for path in _model_configs(ctx):
        if path not in found and path not in versioned:
            versioned.append(path)
    return found + versioned


def _model_configs(ctx: DetectContext) -> list[str]:
    """``config.json`` files plus the versioned configs they hand ``AutoConfig`` to.

    ``PretrainedConfig.get_config_dict`` (configuration_utils.py) re-reads the
    config from the file ``get_configuration_file(config["configuration_files"])``
    picks: the highest ``config.<version>.json`` not newer than the installed
    transformers. Which one depends on that version, so each listed file that
    exists counts; its ``auto_map`` replaces the one in ``config.json``.
    """
    found: list[str] = []
    for path in sorted(p for p in ctx.paths() if posixpath.basename(p) == "config.json"):
        found.append(path)
        listed = ctx.json_object(path).get("configuration_files")
        if not isinstance(listed, list):
            continue
        folder = posixpath.dirname(path)
        for name in listed:
            if not (isinstance(name, str) and _VERSIONED_CONFIG.match(name)):
                continue
            target = posixpath.join(folder, name) if folder else name
            if ctx.has(target) and target not in found:
                found.append(target)
    return found


_VERSIONED_CONFIG = re.compile(r"^config\.[^/\\]+\.json$")


def _derived_refs(auto_map: dict[str, object]) -> list[tuple[str, str, str]]:
    """Refs transformers derives from another Auto key by rewriting the string.

    ``AutoImageProcessor`` without its own key takes ``auto_map.AutoFeatureExtractor``
    with "FeatureExtractor" replaced by "ImageProcessor" (image_processing_auto.py),
    and ``AutoVideoProcessor`` takes ``AutoImageProcessor`` with "ImageProcessor"
    replaced by "VideoProcessor" (video_processing_auto.py). ``str.replace``
    rewrites the module part too, so the file that runs can differ from the one named.
    """
    found: list[tuple[str, str, str]] = []
    for source, target, old, new in (
        ("AutoFeatureExtractor", "AutoImageProcessor", "FeatureExtractor", "ImageProcessor"),
        ("AutoImageProcessor", "AutoVideoProcessor", "ImageProcessor", "VideoProcessor"),
    ):
        value = auto_map.get(source)
        if target in auto_map or not isinstance(value, str) or old not in value:
            continue
        found.append((f"auto_map.{source} (as {target})", value.replace(old, new), target))
    return found


def _add_ref(
    ctx: DetectContext, det: Detection, folder: str, trigger: str, ref: str, notes: tuple[str, ...]
) -> None:
    """A ref from a config in ``folder``: the module may sit beside it or at the repo root.

    Loading the sub-folder by its own path resolves ``module.py`` there; loading
    the repo with ``subfolder=`` resolves it at the root, because
    ``get_class_from_dynamic_module`` does not pass ``subfolder`` on to
    ``get_cached_module_file`` (dynamic_module_utils.py).
    """
    parts = class_ref_parts(ref) if folder else None
    if parts is None or parts[0] is not None:
        add_class_ref(ctx, det, loader=Loader.TRANSFORMERS, trigger=trigger, ref=ref, notes=notes)
        return
    _repo, module, cls = parts
    beside = posixpath.join(folder, module)
    targets = [m for m in (beside, module) if ctx.has(m)] or [beside]
    for target in targets:
        add_class_ref(
            ctx,
            det,
            loader=Loader.TRANSFORMERS,
            trigger=trigger,
            ref=f"{target[: -len('.py')]}.{cls}",
            notes=notes,
        )


def _auto_map_holders(config: dict[str, object], path: str) -> list[tuple[str, dict[str, object]]]:
    holders: list[tuple[str, dict[str, object]]] = [(path, config)]
    for key, value in config.items():  # processor_config.json nests sub-configs
        if isinstance(value, dict) and "auto_map" in value:
            holders.append((f"{path} {key}", value))
    return holders


def _custom_pipelines(ctx: DetectContext, det: Detection, path: str) -> None:
    pipelines = ctx.json_object(path).get("custom_pipelines")
    if not isinstance(pipelines, dict):
        return
    for task, spec in pipelines.items():
        if isinstance(spec, dict) and isinstance(spec.get("impl"), str):
            det.use(Loader.TRANSFORMERS)
            _add_ref(
                ctx,
                det,
                posixpath.dirname(path),
                f"{path} custom_pipelines.{task}.impl",
                spec["impl"],
                ("pipeline() checks trust_remote_code by truthiness, no prompt",),
            )


def _custom_generate(ctx: DetectContext, det: Detection) -> None:
    # load_custom_generate (generation/utils.py) reads custom_generate/generate.py of
    # the folder being loaded: the root, or a sub-folder loaded by its own path
    found = sorted(
        (p for p in ctx.paths() if p == GENERATE or p.endswith("/" + GENERATE)),
        key=lambda p: (p.count("/"), p),
    )
    for path in found:
        det.use(Loader.TRANSFORMERS)
        det.entry_points.append(
            EntryPoint(
                Loader.TRANSFORMERS,
                EntryKind.FUNCTION,
                f"{path} (any trusted generative from_pretrained)",
                path,
                "generate",
                TRUST,
                notes=(
                    "runs on from_pretrained of any generative model with "
                    "trust_remote_code=True, even without auto_map; replaces "
                    "model.generate",
                ),
            )
        )
        det.execute(ctx.import_closure([path], absolute_root=False))
        requirements = posixpath.join(posixpath.dirname(path), "requirements.txt")
        if ctx.has(requirements):
            det.requirements += ctx.requirement_lines(requirements)


GENERATE = "custom_generate/generate.py"


def _kernels(ctx: DetectContext, det: Detection) -> None:
    value = ctx.json_object("config.json").get("attn_implementation")
    if not isinstance(value, str) or "/" not in value:
        return
    repo = value.split(":", 1)[0].split("@", 1)[0]
    cross = CrossRepoRef(repo, value, "config.json attn_implementation", "@" in value)
    det.cross_repo_refs.append(cross)
    det.entry_points.append(
        EntryPoint(
            Loader.TRANSFORMERS,
            EntryKind.KERNEL,
            "config.json attn_implementation",
            None,
            value,
            None,
            True,
            cross,
            notes=(
                "model __init__ fetches this hub kernel (compiled code) through the "
                "`kernels` package; repos outside kernels-community need "
                "allow_all_kernels=True",
            ),
        )
    )
    det.flag(
        "LG-CFG-003",
        "config.json",
        f"attn_implementation names hub kernel repo {value!r}: compiled code downloaded "
        "and loaded at model init",
        Severity.HIGH,
        ("CWE-829", "CWE-494"),
        snippet=f'"attn_implementation": "{value}"',
    )


def _adapter(ctx: DetectContext, det: Detection) -> None:
    if not ctx.has("adapter_config.json"):
        return
    config = ctx.json_object("adapter_config.json")
    det.use(Loader.PEFT)
    base = config.get("base_model_name_or_path")
    if isinstance(base, str) and _REPO_ID.match(base):
        cross = CrossRepoRef(base, base, "adapter_config.json base_model_name_or_path")
        det.cross_repo_refs.append(cross)
        det.entry_points.append(
            EntryPoint(
                Loader.PEFT,
                EntryKind.REDIRECT,
                "adapter_config.json base_model_name_or_path",
                None,
                base,
                "trust_remote_code (inherited by the base model)",
                False,
                cross,
                notes=(
                    "the whole load continues in the base repo, whose auto_map then "
                    "applies with the caller's trust_remote_code",
                ),
            )
        )
    auto_mapping = config.get("auto_mapping")
    if isinstance(auto_mapping, dict) and auto_mapping.get("parent_library"):
        det.flag(
            "LG-CFG-004",
            "adapter_config.json",
            f"adapter auto_mapping.parent_library = {auto_mapping.get('parent_library')!r} "
            "makes PEFT import that library",
            Severity.MEDIUM,
            ("CWE-829",),
            confidence=Confidence.MEDIUM,
        )


def _open_clip(ctx: DetectContext, det: Detection) -> None:
    """open_clip ``hf-hub:`` text towers load other repos through the Auto classes.

    ``model_cfg.text_cfg.hf_model_name`` goes to ``AutoConfig``/``AutoModel`` and
    ``hf_tokenizer_name`` to ``AutoTokenizer.from_pretrained(name, **tokenizer_kwargs)``
    (open_clip factory.py, tokenizer.py ``HFTokenizer``): a config-supplied
    ``trust_remote_code`` there runs that repo's code with no caller opt-in.
    """
    config = ctx.json_object("open_clip_config.json") if ctx.has("open_clip_config.json") else {}
    model_cfg = config.get("model_cfg")
    text_cfg = model_cfg.get("text_cfg") if isinstance(model_cfg, dict) else None
    if not isinstance(text_cfg, dict):
        return
    kwargs = text_cfg.get("tokenizer_kwargs")
    trusted = isinstance(kwargs, dict) and bool(kwargs.get("trust_remote_code"))
    for key in ("hf_model_name", "hf_tokenizer_name"):
        repo = text_cfg.get(key)
        if not (isinstance(repo, str) and _REPO_ID.match(repo)):
            continue
        trigger = f"open_clip_config.json model_cfg.text_cfg.{key}"
        cross = CrossRepoRef(repo, repo, trigger)
        if cross in det.cross_repo_refs:
            continue
        det.cross_repo_refs.append(cross)
        det.entry_points.append(
            EntryPoint(
                Loader.TRANSFORMERS,
                EntryKind.REDIRECT,
                trigger,
                None,
                repo,
                "trust_remote_code (set by this config)" if trusted else None,
                trusted and key == "hf_tokenizer_name",
                cross,
                notes=(
                    "open_clip loads this repo with the Auto classes; its auto_map runs "
                    "when trust_remote_code reaches them (tokenizer_kwargs are passed as is)",
                ),
            )
        )


def _chat_templates(ctx: DetectContext, det: Detection) -> None:
    sources = [
        p
        for p in ctx.paths()
        if p == "chat_template.jinja"
        or p == "chat_template.json"
        or (p.startswith("additional_chat_templates/") and p.endswith(".jinja"))
    ]
    if "chat_template" in ctx.json_object("tokenizer_config.json"):
        sources.append("tokenizer_config.json")
    for path in sources:
        det.entry_points.append(
            EntryPoint(
                Loader.TRANSFORMERS,
                EntryKind.TEMPLATE,
                f"{path} chat template",
                path,
                None,
                None,
                False,
                notes=(
                    "rendered by apply_chat_template in transformers' sandboxed Jinja; "
                    "unsandboxed runtimes (llama-cpp-python < 0.2.72, CVE-2024-34359) "
                    "execute it",
                ),
            )
        )
