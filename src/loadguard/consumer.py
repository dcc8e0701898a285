"""``loadguard check-code``: find unsafe model loading in the code that LOADS models.

The other side of a scan: not the repository on the hub, but the project that
calls ``from_pretrained``, ``torch.hub.load`` or ``torch.load``. Each file is
parsed (never imported); calls are resolved through the file's imports to
dotted names (``AM.from_pretrained`` -> ``transformers.AutoModel.from_pretrained``),
then checked against the rules below. Every finding says how to fix it.

A tiny per-scope taint pass marks names assigned from download calls
(``hf_hub_download``, ``snapshot_download``, ``urlretrieve`` ...) so that
``pickle.load(open(path))`` on a downloaded file is told apart from one on a
file of unknown origin.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .limits import DEFAULT_LIMITS, Limits
from .model import (
    Confidence,
    Finding,
    LoadPlan,
    Location,
    Platform,
    ScanError,
    ScanResult,
    Severity,
    SnapshotIdentity,
    Verdict,
)
from .pyparse import ParseFailure, parse_python

ANALYZER = "check-code"
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "build",
        "dist",
    }
)

FIX_PIN = (
    'pin revision="<40-hex commit>" (the commit `loadguard scan` judged; `loadguard lock` '
    "records it in loadguard.lock)"
)
FIX_GUARD = "or load through loadguard.guard(), which checks the lock before anything runs"

# Calls that load from a hub by id and accept ``revision=``.
HUB_LOADERS = (
    "transformers.pipeline",
    "transformers.pipelines.pipeline",
    "huggingface_hub.file_download.hf_hub_download",
    "huggingface_hub._snapshot_download.snapshot_download",
    "sentence_transformers.SentenceTransformer",
    "sentence_transformers.CrossEncoder",
    "huggingface_hub.hf_hub_download",
    "huggingface_hub.snapshot_download",
    "modelscope.snapshot_download",
    "modelscope.hub.snapshot_download.snapshot_download",
    "modelscope.pipelines.pipeline",
)
DOWNLOADERS = (
    "huggingface_hub.hf_hub_download",
    "huggingface_hub.file_download.hf_hub_download",
    "huggingface_hub._snapshot_download.snapshot_download",
    "urllib.request.urlopen",
    "requests.post",
    "huggingface_hub.snapshot_download",
    "huggingface_hub.cached_download",
    "modelscope.snapshot_download",
    "modelscope.hub.snapshot_download.snapshot_download",
    "urllib.request.urlretrieve",
    "torch.hub.download_url_to_file",
    "torch.hub.load_state_dict_from_url",
    "requests.get",
    "wget.download",
)
PICKLE_LOADS = (
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "_pickle.load",
    "cPickle.load",
    "dill.load",
    "dill.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "joblib.load",
    "sklearn.externals.joblib.load",
    "pandas.read_pickle",
    "numpy.load",
    "torch.serialization.load",
)
SNAPSHOT_DOWNLOADS = (
    "huggingface_hub.snapshot_download",
    "huggingface_hub._snapshot_download.snapshot_download",
    "modelscope.snapshot_download",
    "modelscope.hub.snapshot_download.snapshot_download",
)


@dataclass(frozen=True)
class ConsumerRule:
    rule_id: str
    title: str
    cwe: tuple[str, ...]


RULES = {
    r.rule_id: r
    for r in (
        ConsumerRule("LG-CODE-001", "trust_remote_code enabled", ("CWE-829", "CWE-94")),
        ConsumerRule("LG-CODE-002", "diffusers custom_pipeline", ("CWE-829", "CWE-94")),
        ConsumerRule("LG-CODE-003", "torch.hub.load trusts the repo", ("CWE-829", "CWE-94")),
        ConsumerRule("LG-CODE-004", "torch.hub.load without a pinned ref", ("CWE-494",)),
        ConsumerRule("LG-CODE-005", "hub load without a pinned commit", ("CWE-494",)),
        ConsumerRule("LG-CODE-006", "torch.load without weights_only=True", ("CWE-502",)),
        ConsumerRule("LG-CODE-007", "pickle load of a downloaded file", ("CWE-502",)),
        ConsumerRule("LG-CODE-008", "snapshot_download without allow_patterns", ("CWE-494",)),
    )
}


@dataclass(frozen=True)
class ConsumerReport:
    root: Path
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    files: int

    def to_result(self) -> ScanResult:
        """The project as a ``ScanResult``, so every report format and the gate apply."""
        worst = max((f.severity for f in self.findings), default=None)
        verdict = (
            Verdict.DANGEROUS
            if worst is not None and worst >= Severity.HIGH
            else Verdict.REVIEW
            if worst is not None and worst >= Severity.MEDIUM
            else Verdict.CLEAN
        )
        return ScanResult(
            snapshot=SnapshotIdentity(
                Platform.LOCAL,
                self.root.resolve().name or str(self.root),
                None,
                False,
                str(self.root),
            ),
            plan=LoadPlan(loaders=(), entry_points=(), executed_files=()),
            findings=self.findings,
            errors=self.errors,
            verdict=verdict,
            file_count=self.files,
        )


def iter_python_files(root: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                count += 1
                if count > limits.max_files:
                    return
                yield Path(dirpath) / name


def check_code(root: Path, limits: Limits = DEFAULT_LIMITS) -> ConsumerReport:
    """Check one project folder (paths relative to it) or one file."""
    base = root if root.is_dir() else root.parent
    return _check(base, list(iter_python_files(root, limits)), limits)


def check_paths(
    paths: Sequence[Path], base: Path, limits: Limits = DEFAULT_LIMITS
) -> ConsumerReport:
    """Check files and folders as one project rooted at ``base`` (pre-commit passes files)."""
    if len(paths) == 1 and paths[0].is_dir():
        return check_code(paths[0], limits)
    files: list[Path] = []
    for path in paths:
        files.extend(iter_python_files(path, limits))
    return _check(base, files, limits)


def _check(base: Path, paths: Sequence[Path], limits: Limits) -> ConsumerReport:
    findings: list[Finding] = []
    errors: list[ScanError] = []
    files = 0
    for path in paths:
        try:
            rel = path.absolute().relative_to(base.absolute()).as_posix()
        except ValueError:
            rel = path.as_posix()
        files += 1
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(base.resolve()):
                errors.append(
                    ScanError(rel, ANALYZER, "symlink leaves the project", "symlink-escape")
                )
                continue
            size = path.stat().st_size
            if size > limits.max_text_bytes:
                errors.append(ScanError(rel, ANALYZER, f"{size} bytes: too large", "too-large"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            errors.append(ScanError(rel, ANALYZER, str(exc), "io"))
            continue
        findings.extend(check_source(data, rel, errors))
    findings.sort(key=lambda f: (-f.severity, f.location.path, f.location.line or 0))
    return ConsumerReport(base, tuple(findings), tuple(errors), files)


def check_source(data: bytes, path: str, errors: list[ScanError] | None = None) -> list[Finding]:
    try:
        parsed = parse_python(data, path)
    except ParseFailure as exc:
        if errors is not None:
            errors.append(ScanError(path, ANALYZER, str(exc), exc.kind))
        return []
    checker = _Checker(path, parsed.text)
    try:
        checker.visit(parsed.tree)
    except RecursionError:
        if errors is not None:
            errors.append(ScanError(path, ANALYZER, "expression nesting too deep", "too-deep"))
    return checker.findings


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.aliases: dict[str, str] = {}
        self.tainted: list[set[str]] = [set()]
        # name -> keyword arguments of a dict literal / dict(...) bound to it, per scope
        self.kwdicts: list[dict[str, dict[str, ast.expr]]] = [{}]
        self.findings: list[Finding] = []

    # ---------------------------------------------------------------- imports and scopes

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".", 1)[0]
                self.aliases[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is None or node.level:
            return
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def _scoped(self, node: ast.AST) -> None:
        self.tainted.append(set())
        self.kwdicts.append({})
        self.generic_visit(node)
        self.kwdicts.pop()
        self.tainted.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scoped(node)

    def _forget(self, name: str) -> None:
        """A keyword dict changed in a way we do not follow: treat it as opaque from here on."""
        for scope in self.kwdicts:
            scope.pop(name, None)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            self._forget(node.target.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        literal = self._dict_literal(node.value)
        for target in node.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                self._forget(target.value.id)  # kw["weights_only"] = ...
            if isinstance(target, ast.Name):
                if literal is not None:
                    self.kwdicts[-1][target.id] = literal
                else:
                    self.kwdicts[-1].pop(target.id, None)
        if self._is_tainted(node.value):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        self.tainted[-1].add(name.id)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None and self._is_tainted(item.context_expr):
                for name in ast.walk(item.optional_vars):
                    if isinstance(name, ast.Name):
                        self.tainted[-1].add(name.id)
        self.generic_visit(node)

    # ---------------------------------------------------------------- resolution

    def qualname(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            head = self.aliases.get(node.id, node.id)
            return ".".join([head, *reversed(parts)])
        if isinstance(node, ast.Call):  # AutoModel.from_config(...).something: keep the tail
            inner = self.qualname(node.func)
            return ".".join([inner or "?", "()", *reversed(parts)])
        return None

    def _is_tainted(self, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and any(sub.id in scope for scope in self.tainted):
                return True
            if isinstance(sub, ast.Call):
                name = self.qualname(sub.func) or ""
                if _matches(name, DOWNLOADERS):
                    return True
        return False

    def _dict_literal(self, node: ast.expr) -> dict[str, ast.expr] | None:
        """``{"k": v}`` or ``dict(k=v)`` with constant keys; None for anything else."""
        if isinstance(node, ast.Dict):
            if all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
                return {k.value: v for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "dict"
        ):
            if node.args:
                return None
            return {k.arg: k.value for k in node.keywords if k.arg is not None}
        if isinstance(node, ast.Name):
            for scope in reversed(self.kwdicts):
                if node.id in scope:
                    return scope[node.id]
        return None

    def _keywords(self, node: ast.Call) -> tuple[dict[str, ast.expr], bool]:
        """Keyword arguments, with ``**known_dict`` and nested ``*_kwargs={...}`` unfolded.

        Returns the keywords and whether some came from a ``**`` we could not see into.
        """
        kwargs: dict[str, ast.expr] = {}
        opaque = False
        for keyword in node.keywords:
            if keyword.arg is None:
                unfolded = self._dict_literal(keyword.value)
                if unfolded is None:
                    opaque = True
                else:
                    for key, value in unfolded.items():
                        kwargs.setdefault(key, value)
            else:
                kwargs[keyword.arg] = keyword.value
        # pipeline(model_kwargs={...}), SentenceTransformer(config_kwargs={...}) forward these.
        for key in ("model_kwargs", "config_kwargs", "tokenizer_kwargs"):
            nested = self._dict_literal(kwargs[key]) if key in kwargs else None
            if nested is not None and "trust_remote_code" in nested:
                kwargs.setdefault("trust_remote_code", nested["trust_remote_code"])
        return kwargs, opaque

    # ---------------------------------------------------------------- rules

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        mutators = ("update", "setdefault", "pop", "clear", "__setitem__")
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.attr in mutators
        ):
            self._forget(func.value.id)
        name = self.qualname(node.func) or ""
        kwargs, splat = self._keywords(node)
        tail = name.rsplit(".", 1)[-1]
        is_from_pretrained = tail in ("from_pretrained", "from_single_file")
        is_hub_loader = is_from_pretrained or _matches(name, HUB_LOADERS)

        trust = kwargs.get("trust_remote_code")
        if trust is not None and _truthy(trust) is not False:
            certain = _truthy(trust) is True
            self.add(
                "LG-CODE-001",
                node,
                f"{_short(name)} with trust_remote_code="
                + ("True" if certain else "<variable>")
                + ": the repository's Python code runs in this process",
                Severity.HIGH if certain else Severity.MEDIUM,
                Confidence.HIGH if certain else Confidence.MEDIUM,
                "drop trust_remote_code where the architecture is built into transformers "
                "(`loadguard scan` prints the safe call); otherwise pin revision= and "
                "code_revision= to the commit you reviewed, " + FIX_GUARD,
            )
        custom = kwargs.get("custom_pipeline")
        if custom is not None and not _is_none(custom):
            self.add(
                "LG-CODE-002",
                node,
                f"{_short(name)} with custom_pipeline=: downloads and runs pipeline code "
                "from the hub or a community repository",
                Severity.HIGH,
                Confidence.HIGH,
                "vendor the reviewed pipeline file into your project and import it, or pin "
                "custom_revision= to a commit, " + FIX_GUARD,
            )
        if _matches(name, ("torch.hub.load",)):
            self.check_torch_hub(node, kwargs)
        elif is_hub_loader:
            self.check_revision(node, name, kwargs, splat)
        if _matches(name, ("torch.load", "torch.serialization.load")):
            self.check_torch_load(node, kwargs, splat)
        elif _matches(name, PICKLE_LOADS):
            self.check_pickle(node, name, kwargs)
        if _matches(name, SNAPSHOT_DOWNLOADS) and "allow_patterns" not in kwargs and not splat:
            self.add(
                "LG-CODE-008",
                node,
                f"{_short(name)} without allow_patterns downloads every file of the repo, "
                "including Python code and pickle weights",
                Severity.MEDIUM,
                Confidence.HIGH,
                'pass allow_patterns=["*.json", "*.safetensors", "tokenizer.*"] '
                "(only data files) and " + FIX_PIN,
            )

    def check_revision(
        self, node: ast.Call, name: str, kwargs: dict[str, ast.expr], splat: bool
    ) -> None:
        target: ast.expr | None
        if name.endswith(".pipeline"):  # pipeline(task, model=...): the model comes second
            target = kwargs.get("model") or (node.args[1] if len(node.args) > 1 else None)
            if target is None:
                return  # the task's default model: no repository named here
        elif node.args:
            target = node.args[0]
        else:
            target = kwargs.get(
                "pretrained_model_name_or_path", kwargs.get("repo_id", kwargs.get("model"))
            )
        literal = target.value if isinstance(target, ast.Constant) else None
        if isinstance(literal, str) and not HUB_ID_RE.match(literal):
            return  # a local path or a bare canonical name: nothing to pin on a hub
        revision = kwargs.get("revision")
        if revision is None:
            if splat:
                return  # revision may come through **kwargs
            if isinstance(literal, str):
                self.add(
                    "LG-CODE-005",
                    node,
                    f"{_short(name)}({literal!r}) without revision=: loads whatever the "
                    "repository holds at load time, not what was reviewed",
                    Severity.MEDIUM,
                    Confidence.HIGH,
                    FIX_PIN + ", " + FIX_GUARD,
                )
            elif target is not None:
                self.add(
                    "LG-CODE-005",
                    node,
                    f"{_short(name)} without revision=: if the id names a hub repo, "
                    "the load is not pinned",
                    Severity.LOW,
                    Confidence.LOW,
                    FIX_PIN,
                )
            return
        value = revision.value if isinstance(revision, ast.Constant) else None
        if isinstance(value, str) and not COMMIT_RE.match(value):
            self.add(
                "LG-CODE-005",
                node,
                f"revision={value!r} is a branch or tag, which the repository owner can move",
                Severity.MEDIUM,
                Confidence.HIGH,
                FIX_PIN,
            )

    def check_torch_hub(self, node: ast.Call, kwargs: dict[str, ast.expr]) -> None:
        trust = kwargs.get("trust_repo")
        # "check" and "ask" prompt; only a literal True skips the prompt (False prompts too).
        if isinstance(trust, ast.Constant) and trust.value is True:
            self.add(
                "LG-CODE-003",
                node,
                "torch.hub.load(trust_repo=True) imports the repository's hubconf.py "
                "without asking",
                Severity.HIGH,
                Confidence.HIGH,
                'use trust_repo="check" and a ref pinned to a commit ("owner/repo:<commit>"), '
                + FIX_GUARD,
            )
        source = kwargs.get("source")
        if isinstance(source, ast.Constant) and source.value == "local":
            return
        repo = node.args[0] if node.args else kwargs.get("repo_or_dir")
        if isinstance(repo, ast.Constant) and isinstance(repo.value, str):
            _, _, ref = repo.value.partition(":")
            if not COMMIT_RE.match(ref):
                what = f"ref {ref!r} is a branch or tag" if ref else "no ref: the default branch"
                self.add(
                    "LG-CODE-004",
                    node,
                    f"torch.hub.load({repo.value!r}): {what}; hubconf.py can change under you",
                    Severity.MEDIUM,
                    Confidence.HIGH,
                    'pin the ref to a commit: "owner/repo:<40-hex commit>", ' + FIX_GUARD,
                )

    def check_torch_load(self, node: ast.Call, kwargs: dict[str, ast.expr], splat: bool) -> None:
        weights_only = kwargs.get("weights_only")
        if weights_only is not None and _truthy(weights_only) is True:
            return
        if weights_only is None and splat:
            return  # weights_only may come through **kwargs we cannot see into
        explicit_off = weights_only is not None and _truthy(weights_only) is False
        downloaded = bool(node.args) and self._is_tainted(node.args[0])
        severity = Severity.HIGH if explicit_off or downloaded else Severity.MEDIUM
        reason = (
            "weights_only=False: unpickling runs any callable the file names"
            if explicit_off
            else "without weights_only=True: on torch < 2.6 this unpickles arbitrary objects"
        )
        self.add(
            "LG-CODE-006",
            node,
            f"torch.load {reason}" + (" (the file is downloaded)" if downloaded else ""),
            severity,
            Confidence.HIGH if explicit_off else Confidence.MEDIUM,
            "pass weights_only=True, or better load safetensors "
            "(safetensors.torch.load_file); `loadguard convert` turns pickles into safetensors",
        )

    def check_pickle(self, node: ast.Call, name: str, kwargs: dict[str, ast.expr]) -> None:
        if _matches(name, ("numpy.load",)):
            allow = kwargs.get("allow_pickle")
            if allow is None or _truthy(allow) is not True:
                return  # numpy refuses pickles by default
        downloaded = any(self._is_tainted(arg) for arg in node.args) or any(
            self._is_tainted(v) for v in kwargs.values()
        )
        if not downloaded:
            self.add(
                "LG-CODE-007",
                node,
                f"{_short(name)} deserializes a file of unknown origin: unpickling runs code",
                Severity.LOW,
                Confidence.LOW,
                "make sure the file never comes from a download; prefer safetensors or JSON",
            )
            return
        self.add(
            "LG-CODE-007",
            node,
            f"{_short(name)} of a downloaded file: unpickling runs any callable the file names",
            Severity.HIGH,
            Confidence.HIGH,
            "load a data-only format (safetensors, JSON, ONNX) instead; if you must, pin the "
            "download to a commit and verify its sha256 from loadguard.lock",
        )

    def add(
        self,
        rule_id: str,
        node: ast.Call,
        message: str,
        severity: Severity,
        confidence: Confidence,
        fix: str,
    ) -> None:
        snippet = ast.get_source_segment(self.text, node) or ""
        if len(snippet) > 300:
            snippet = snippet[:300] + " …"
        self.findings.append(
            Finding(
                rule_id=rule_id,
                analyzer=ANALYZER,
                message=f"{message}. Fix: {fix}.",
                severity=severity,
                confidence=confidence,
                location=Location(
                    self.path,
                    line=node.lineno,
                    column=node.col_offset,
                    end_line=node.end_lineno,
                ),
                cwe=RULES[rule_id].cwe,
                snippet=snippet,
                evidence=(f"fix: {fix}",),
            )
        )


def _matches(name: str, targets: Sequence[str]) -> bool:
    """Exact dotted names; the lists spell out the re-export paths they accept."""
    return name in targets


def _truthy(node: ast.expr) -> bool | None:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _short(name: str) -> str:
    parts = [p for p in name.split(".") if p != "()"]
    return ".".join(parts[-2:]) if len(parts) > 1 else name
