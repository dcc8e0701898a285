"""The safe way to load a repository: which parts load without repo code, as paste-able code.

Built from a ``ScanResult`` plus a few facts about the snapshot's files
(``RepoFacts``: which files exist, ``config.json``'s ``model_type`` and
``architectures``). Reading those facts parses JSON as data; nothing from the
repository is imported or executed. What cannot be made safe by choosing
loader arguments is listed under ``remaining``: only ``loadguard trial``
(run it in the sandbox) or ``loadguard convert`` (turn pickles into
safetensors inside the sandbox) can deal with it.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LoadguardError
from .model import EntryKind, FileKind, Loader, ScanResult, Snapshot

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
CONFIG_LIMIT = 4 << 20  # a config.json larger than this is not a config we trust to parse
MODEL_TYPES_FILE = "transformers_model_types.txt"

# architectures[0] suffix -> the auto class that builds it without repo code.
AUTO_CLASS_BY_SUFFIX = (
    ("ForCausalLM", "AutoModelForCausalLM"),
    ("ForMaskedLM", "AutoModelForMaskedLM"),
    ("ForSeq2SeqLM", "AutoModelForSeq2SeqLM"),
    ("ForSequenceClassification", "AutoModelForSequenceClassification"),
    ("ForTokenClassification", "AutoModelForTokenClassification"),
    ("ForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("ForImageClassification", "AutoModelForImageClassification"),
    ("ForSpeechSeq2Seq", "AutoModelForSpeechSeq2Seq"),
)
WEIGHT_KINDS_SAFE = frozenset({FileKind.SAFETENSORS, FileKind.GGUF, FileKind.ONNX})


@dataclass(frozen=True)
class RepoFacts:
    """What advice needs to know about a snapshot's files, read as data only."""

    files: frozenset[str]
    model_type: str | None = None
    architectures: tuple[str, ...] = ()

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> RepoFacts:
        files = frozenset(entry.path for entry in snapshot.files)
        config: object = None
        if "config.json" in files:
            try:
                config = json.loads(snapshot.read("config.json", CONFIG_LIMIT))
            except (LoadguardError, OSError, ValueError):  # unreadable config: no facts
                config = None
        return cls._with_config(files, config)

    @classmethod
    def from_folder(cls, root: Path) -> RepoFacts:
        """Facts of a plain folder: its top-level file names plus ``config.json``.

        Only the top level: advice needs ``tokenizer.json`` and the configs, and a
        model folder can be huge (no recursive walk, no symlinked folders).
        """
        try:
            with os.scandir(root) as entries:
                files = frozenset(e.name for e in entries if e.is_file(follow_symlinks=False))
        except OSError:
            files = frozenset()
        config: object = None
        path = root / "config.json"
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= CONFIG_LIMIT:
            try:
                config = json.loads(path.read_bytes())
            except ValueError:
                config = None
        return cls._with_config(files, config)

    @classmethod
    def _with_config(cls, files: frozenset[str], config: object) -> RepoFacts:
        if not isinstance(config, dict):
            return cls(files=files)
        model_type = config.get("model_type")
        archs = config.get("architectures")
        return cls(
            files=files,
            model_type=model_type if isinstance(model_type, str) else None,
            architectures=tuple(a for a in archs if isinstance(a, str))
            if isinstance(archs, list)
            else (),
        )


@dataclass(frozen=True)
class ComponentAdvice:
    """One part of a load (tokenizer, weights, architecture ...) and whether it loads safely."""

    component: str
    safe: bool
    how: str  # the argument or class that makes it safe, or why it cannot be

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "safe": self.safe, "how": self.how}


@dataclass(frozen=True)
class SafeLoadAdvice:
    """How to load this repository safely: the pin, the flags and the code to use."""

    repo_id: str
    platform: str
    revision: str | None  # the commit to pin; None when the scan did not know it
    runs_repo_code_by_default: bool  # the naive load (trust flags on) runs repo code
    needs_repo_code: bool  # even the safest load still needs repo code
    components: tuple[ComponentAdvice, ...]
    code: str  # paste-able Python
    remaining: tuple[str, ...]  # what only ``loadguard trial`` / ``convert`` can make safe
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "platform": self.platform,
            "revision": self.revision,
            "runs_repo_code_by_default": self.runs_repo_code_by_default,
            "needs_repo_code": self.needs_repo_code,
            "components": [c.to_dict() for c in self.components],
            "code": self.code,
            "remaining": list(self.remaining),
            "notes": list(self.notes),
        }


@functools.lru_cache(maxsize=1)
def shipped_model_types() -> frozenset[str]:
    text = (Path(__file__).parent / "rules" / MODEL_TYPES_FILE).read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


@functools.lru_cache(maxsize=1)
def installed_model_types() -> frozenset[str]:
    """The model types the installed transformers knows (its ``CONFIG_MAPPING_NAMES``).

    Read from the library's source, never imported: importing transformers takes
    seconds, and a scanner runs no code it does not need to.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("transformers")  # a top-level name: not imported
    except (ImportError, ValueError):
        return frozenset()
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    auto = Path(next(iter(spec.submodule_search_locations))) / "models" / "auto"
    names: set[str] = set()
    for source in ("configuration_auto.py", "auto_mappings.py"):  # older, newer layout
        names |= _mapping_keys(auto / source, "CONFIG_MAPPING_NAMES")
    return frozenset(names)


def _mapping_keys(path: Path, target: str) -> set[str]:
    """String keys of the mappings assigned to, or merged into, ``target`` in a source file.

    Covers ``OrderedDict([("bert", "BertConfig"), ...])``, ``OrderedDict({...})``,
    ``target.update({...})`` and ``OrderedDict(**{...}, **target)``.
    """
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == target for t in node.targets
        ):
            value: ast.AST = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == target
        ):
            value = node
        else:
            continue
        for inner in ast.walk(value):
            if isinstance(inner, ast.Dict):
                keys.update(_strings(inner.keys))
            elif isinstance(inner, ast.Tuple) and len(inner.elts) == 2:
                keys.update(_strings(inner.elts[:1]))
    return keys


def _strings(nodes: Iterable[ast.expr | None]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def builtin_model_type(model_type: str | None) -> bool:
    if not model_type:
        return False
    return model_type in shipped_model_types() or model_type in installed_model_types()


def facts_for(result: ScanResult) -> RepoFacts | None:
    """Facts read back from a local folder scan; None for hubs and archives."""
    location = Path(result.snapshot.location) if result.snapshot.location else None
    if location is not None and location.is_dir():
        return RepoFacts.from_folder(location)
    return None


def advice_for(result: ScanResult, facts: RepoFacts | None = None) -> SafeLoadAdvice:
    """The safest way to load ``result``'s repository, and what stays unsafe."""
    facts = facts if facts is not None else facts_for(result)
    files = facts.files if facts is not None else frozenset()
    plan = result.plan
    snap = result.snapshot
    revision = snap.revision if snap.revision and COMMIT_RE.match(snap.revision) else None
    components: list[ComponentAdvice] = []
    remaining: list[str] = []
    notes: list[str] = []
    blocks: list[str] = []
    pin = "REVISION"
    header = (
        f'REVISION = "{revision}"  # the commit loadguard scanned'
        if revision
        else 'REVISION = "<commit>"  # unknown to the scan: resolve it with `loadguard lock`'
    )
    if revision is None:
        notes.append(
            "the scan did not know the commit: resolve and pin it with `loadguard lock`, "
            "otherwise the repo can change between this scan and your load"
        )
    repo = json.dumps(snap.repo_id)
    loaders = set(plan.loaders)
    weights = plan.weights
    safe_weights = [w for w in weights if w.kind in WEIGHT_KINDS_SAFE]
    pickle_weights = [w for w in weights if w.pickle_based]
    by_loader = _entries_by_loader(result)

    # sentence-transformers and diffusers wrap transformers: their own block says it all.
    wrapped = loaders & {Loader.SENTENCE_TRANSFORMERS, Loader.DIFFUSERS}
    hf_like = bool(loaders & {Loader.TRANSFORMERS, Loader.PEFT}) or (
        "config.json" in files and not loaders - {Loader.PICKLE}
    )
    if hf_like and not wrapped:
        blocks.append(_transformers_advice(result, facts, pin, repo, components, remaining, notes))
    if Loader.SENTENCE_TRANSFORMERS in loaders:
        custom = [e for e in by_loader.get(Loader.SENTENCE_TRANSFORMERS, []) if e.runs_repo_code]
        if custom:
            components.append(
                ComponentAdvice(
                    "sentence-transformers modules",
                    False,
                    "modules.json names repo code: " + ", ".join(sorted({e.label for e in custom})),
                )
            )
            remaining.append(
                "custom sentence-transformers modules run repo code: `loadguard trial` it"
            )
        else:
            components.append(
                ComponentAdvice("sentence-transformers modules", True, "built-in modules only")
            )
        blocks.append(
            "from sentence_transformers import SentenceTransformer\n\n"
            f"model = SentenceTransformer({repo}, revision={pin}, trust_remote_code=False)"
        )
    if Loader.DIFFUSERS in loaders:
        custom = [e for e in by_loader.get(Loader.DIFFUSERS, []) if e.runs_repo_code]
        if custom:
            components.append(
                ComponentAdvice(
                    "diffusers pipeline",
                    False,
                    "the pipeline or a component class lives in repo code: "
                    + ", ".join(sorted({e.label for e in custom})),
                )
            )
            remaining.append("the custom diffusers pipeline runs repo code: `loadguard trial` it")
        blocks.append(
            "from diffusers import DiffusionPipeline\n\n"
            f"pipe = DiffusionPipeline.from_pretrained(\n    {repo},\n    revision={pin},\n"
            + ("    use_safetensors=True,\n" if safe_weights else "")
            + "    trust_remote_code=False,  # and no custom_pipeline=\n)"
        )
    if Loader.TORCH_HUB in loaders:
        components.append(
            ComponentAdvice(
                "hubconf.py",
                False,
                "torch.hub.load always imports hubconf.py: there is no data-only path",
            )
        )
        remaining.append("torch.hub.load runs hubconf.py: `loadguard trial` it, pinned")
        ref = f"{snap.repo_id}:{revision}" if revision else f"{snap.repo_id}:<commit>"
        blocks.append(
            "import torch\n\n"
            "# hubconf.py still runs: load only a pinned ref you have reviewed or trialled\n"
            f'model = torch.hub.load("{ref}", "<entry>", trust_repo="check")'
        )
    if loaders & {Loader.MMENGINE, Loader.MODELSCOPE}:
        names = sorted(loader.value for loader in loaders & {Loader.MMENGINE, Loader.MODELSCOPE})
        components.append(
            ComponentAdvice(
                "configs",
                False,
                f"{', '.join(names)} execute repository configs or code on load",
            )
        )
        remaining.append(
            f"{', '.join(names)} configs/plugins execute at load: `loadguard trial` them"
        )
        blocks.append(
            f"# {', '.join(names)} run repository code while loading; there are no arguments\n"
            "# that turn this off. Run the load in the sandbox and read its telemetry:\n"
            f"#   loadguard trial {snap.location or snap.repo_id}"
        )
    for entry in plan.entry_points:
        if entry.kind is EntryKind.REDIRECT and entry.cross_repo is not None:
            notes.append(
                f"the load continues in {entry.cross_repo.repo_id} ({entry.trigger}): "
                "scan and pin that repository too"
            )

    # Weights: the part users most often can make data-only.
    if safe_weights:
        components.append(
            ComponentAdvice(
                "weights",
                True,
                f"{safe_weights[0].kind.value} present: use_safetensors=True "
                "(never falls back to pickle)"
                if any(w.kind is FileKind.SAFETENSORS for w in safe_weights)
                else f"data-only format {safe_weights[0].kind.value}",
            )
        )
        if pickle_weights:
            notes.append(
                "pickle weights also present ("
                + ", ".join(w.path for w in pickle_weights[:5])
                + "): never load them; use_safetensors=True skips them"
            )
    elif pickle_weights:
        components.append(
            ComponentAdvice(
                "weights",
                False,
                "only pickle-based weights: unpickling can call any function",
            )
        )
        remaining.append(
            "pickle-only weights: `loadguard convert` them to safetensors in the sandbox, "
            "or torch.load(..., weights_only=True) as a weaker stopgap"
        )
        if not blocks:
            blocks.append(
                "import torch\n\n"
                "# the allow-list unpickler; refuses arbitrary callables\n"
                f'state = torch.load("{pickle_weights[0].path}", weights_only=True)'
            )

    needs_code = bool(remaining) and any(
        not c.safe for c in components if c.component not in {"weights"}
    )
    if not blocks:
        blocks.append("# no loader recognised this repository: nothing to load safely")
    code = header + "\n\n" + "\n\n".join(blocks)
    return SafeLoadAdvice(
        repo_id=snap.repo_id,
        platform=snap.platform.value,
        revision=revision,
        runs_repo_code_by_default=plan.runs_repo_code,
        needs_repo_code=needs_code,
        components=tuple(components),
        code=code + "\n",
        remaining=tuple(dict.fromkeys(remaining)),
        notes=tuple(dict.fromkeys(notes)),
    )


def _entries_by_loader(result: ScanResult) -> dict[Loader, list[Any]]:
    grouped: dict[Loader, list[Any]] = {}
    for entry in result.plan.entry_points:
        grouped.setdefault(entry.loader, []).append(entry)
    return grouped


def _transformers_advice(
    result: ScanResult,
    facts: RepoFacts | None,
    pin: str,
    repo: str,
    components: list[ComponentAdvice],
    remaining: list[str],
    notes: list[str],
) -> str:
    plan = result.plan
    files = facts.files if facts is not None else frozenset()
    entries = [e for e in plan.entry_points if e.loader in (Loader.TRANSFORMERS, Loader.PEFT)]
    tokenizer_code = [e for e in entries if _is_tokenizer(e.trigger) and e.runs_repo_code]
    model_code = [
        e
        for e in entries
        if e.runs_repo_code and not _is_tokenizer(e.trigger) and e.kind is not EntryKind.WEIGHTS
    ]
    lines = ["from transformers import"]
    imports: list[str] = []
    body: list[str] = []
    safetensors = any(w.kind is FileKind.SAFETENSORS for w in plan.weights)

    # Tokenizer: tokenizer.json is a data file the Rust tokenizer reads without repo code.
    if "tokenizer.json" in files:
        components.append(
            ComponentAdvice(
                "tokenizer",
                True,
                "tokenizer.json present: PreTrainedTokenizerFast reads it without repo code",
            )
        )
        imports.append("PreTrainedTokenizerFast")
        body.append(f"tokenizer = PreTrainedTokenizerFast.from_pretrained({repo}, revision={pin})")
    elif tokenizer_code:
        components.append(
            ComponentAdvice(
                "tokenizer",
                False,
                "the tokenizer class is repo code ("
                + ", ".join(sorted({e.label for e in tokenizer_code}))
                + ") and there is no tokenizer.json",
            )
        )
        remaining.append("the custom tokenizer has no data-only form: `loadguard trial` it")
    elif "tokenizer_config.json" in files or facts is None:
        components.append(
            ComponentAdvice("tokenizer", True, "built-in tokenizer class, trust_remote_code=False")
        )
        imports.append("AutoTokenizer")
        body.append(
            f"tokenizer = AutoTokenizer.from_pretrained({repo}, revision={pin}, "
            "trust_remote_code=False)"
        )

    # Architecture: a model_type built into transformers needs no repo code at all.
    model_type = facts.model_type if facts is not None else None
    builtin = builtin_model_type(model_type)
    auto_class = _auto_class(facts.architectures if facts is not None else ())
    cross = [ref for ref in plan.cross_repo_refs if not ref.pinned]
    if builtin or not model_code:
        how = (
            f'model_type "{model_type}" is built into transformers: trust_remote_code=False'
            if builtin
            else "no repo code named for the model: trust_remote_code=False"
        )
        components.append(ComponentAdvice("architecture", True, how))
        if builtin and model_code:
            notes.append(
                "the repo also names its own code ("
                + ", ".join(sorted({e.label for e in model_code}))
                + "); with trust_remote_code=False the built-in class is used and that code "
                "never runs: check the outputs match the model card"
            )
        imports.append(auto_class)
        body.append(
            f"model = {auto_class}.from_pretrained(\n    {repo},\n    revision={pin},\n"
            + ("    use_safetensors=True,\n" if safetensors else "")
            + "    trust_remote_code=False,\n)"
        )
    else:
        labels = ", ".join(sorted({e.label for e in model_code}))
        components.append(
            ComponentAdvice(
                "architecture",
                False,
                f"model_type {model_type or '(none)'} is not built into transformers; "
                f"the model class is repo code: {labels}",
            )
        )
        remaining.append(
            "the model architecture exists only as repo code: review it, then "
            "`loadguard trial` the load before trusting it"
        )
        code_rev = ""
        if cross:
            code_rev = '    code_revision="<commit of ' + cross[0].repo_id + '>",\n'
            notes.append(
                "code comes from another repo ("
                + ", ".join(sorted({r.repo_id for r in cross}))
                + "): pin it with code_revision= as well"
            )
        imports.append(auto_class)
        body.append(
            "# repo code runs here: only after review or `loadguard trial`, and pinned\n"
            f"model = {auto_class}.from_pretrained(\n    {repo},\n    revision={pin},\n"
            + code_rev
            + ("    use_safetensors=True,\n" if safetensors else "")
            + "    trust_remote_code=True,\n)"
        )
    lines[0] += " " + ", ".join(dict.fromkeys(imports))
    return "\n".join(lines) + "\n\n" + "\n".join(body)


def _is_tokenizer(trigger: str) -> bool:
    return trigger.startswith("tokenizer_config.json") or "AutoTokenizer" in trigger


def _auto_class(architectures: Iterable[str]) -> str:
    for arch in architectures:
        for suffix, auto in AUTO_CLASS_BY_SUFFIX:
            if arch.endswith(suffix):
                return auto
    return "AutoModel"
