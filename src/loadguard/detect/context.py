"""What every per-ecosystem detector receives, and what it gives back."""

from __future__ import annotations

import ast
import dataclasses
import json
import posixpath
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import LoadguardError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import (
    Confidence,
    CrossRepoRef,
    EntryPoint,
    FileKind,
    Finding,
    Loader,
    Location,
    ScanError,
    Severity,
    Snapshot,
)
from ..pyparse import ParsedModule, ParseFailure, iter_statements, parse_python


@dataclass
class Detection:
    """A detector's contribution to the plan (mutable while one detector builds it)."""

    loaders: list[Loader] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)
    executed_files: list[str] = field(default_factory=list)
    cross_repo_refs: list[CrossRepoRef] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)

    def use(self, loader: Loader) -> None:
        if loader not in self.loaders:
            self.loaders.append(loader)

    def execute(self, paths: Iterable[str]) -> None:
        for path in paths:
            if path not in self.executed_files:
                self.executed_files.append(path)

    def flag(
        self,
        rule_id: str,
        path: str,
        message: str,
        severity: Severity,
        cwe: tuple[str, ...],
        snippet: str = "",
        confidence: Confidence = Confidence.HIGH,
        line: int | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                rule_id=rule_id,
                analyzer="config",
                message=message,
                severity=severity,
                confidence=confidence,
                location=Location(path, line),
                cwe=cwe,
                snippet=snippet,
                reachable=True,  # configs are read by the loader itself
                witness=(f"loader reads {path}",),
            )
        )


@dataclass
class DetectContext:
    """What the detectors share: the snapshot, file kinds and a parsed-JSON cache."""

    snapshot: Snapshot
    kinds: Mapping[str, FileKind]
    limits: Limits = DEFAULT_LIMITS
    _json: dict[str, object] = field(default_factory=dict)
    _parsed: dict[str, ParsedModule | None] = field(default_factory=dict)
    _imports: dict[tuple[str, bool], list[str]] = field(default_factory=dict)
    _facts: dict[str, ModuleFacts | None] = field(default_factory=dict)
    errors: list[ScanError] = field(default_factory=list)
    # loader configs that exist but could not be read (size limit, I/O): what they name is unknown
    unread: list[str] = field(default_factory=list)

    def has(self, path: str) -> bool:
        return self.snapshot.has(path)

    def paths(self) -> Iterable[str]:
        return (f.path for f in self.snapshot.files)

    def json(self, path: str) -> object | None:
        """Parsed JSON of a repo file; a broken file is an error entry and ``None``."""
        if path in self._json:
            return self._json[path]
        value: object | None = None
        if self.has(path):
            try:
                value = loads_json(self.snapshot.read(path, self.limits.max_text_bytes))
            except (ValueError, UnicodeDecodeError) as exc:
                self.errors.append(ScanError(path, "detect", f"invalid JSON: {exc}", "bad-json"))
            except RecursionError:
                # nested deeper than the loader's own json.load could go: the loader fails
                # on this file alone, so it is an error here, never the end of detection
                self.errors.append(ScanError(path, "detect", "JSON nested too deep", "too-deep"))
            except (OSError, LoadguardError) as exc:
                self.errors.append(ScanError(path, "detect", f"cannot read: {exc}", "unreadable"))
                self.unread.append(path)
        self._json[path] = value
        return value

    def json_object(self, path: str) -> dict[str, object]:
        value = self.json(path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.errors.append(ScanError(path, "detect", "JSON is not an object", "bad-json"))
            return {}
        return value

    def python(self, path: str) -> ParsedModule | None:
        """Parsed module, or ``None`` with an error entry when it cannot be parsed."""
        if path not in self._parsed:
            parsed: ParsedModule | None = None
            try:
                parsed = parse_python(self.snapshot.read(path, self.limits.max_text_bytes), path)
            except ParseFailure as exc:
                self.errors.append(ScanError(path, "detect", str(exc), exc.kind))
            except (OSError, LoadguardError) as exc:
                self.errors.append(ScanError(path, "detect", f"cannot read: {exc}", "unreadable"))
            self._parsed[path] = parsed
        return self._parsed[path]

    def facts(self, path: str) -> ModuleFacts | None:
        """What detection needs of a module, parsed once per distinct content.

        Hubs are full of byte-identical copies of the same modeling files; the
        facts are keyed by content hash, so a copy costs a read and a hash.
        """
        if path in self._facts:
            return self._facts[path]
        facts: ModuleFacts | None = None
        try:
            data = self.snapshot.read(path, self.limits.max_text_bytes)
        except (OSError, LoadguardError) as exc:
            self.errors.append(ScanError(path, "detect", f"cannot read: {exc}", "unreadable"))
        else:
            import hashlib  # here, not at the top: a pickle-only scan never needs it

            digest = hashlib.sha256(data).hexdigest()
            cached = _FACTS.get(digest)
            if cached is None:
                parsed = self.python(path)
                cached = _module_facts(parsed) if parsed is not None else self._parse_error(path)
                _FACTS[digest] = cached
                if len(_FACTS) > 4096:
                    _FACTS.popitem(last=False)
            elif isinstance(cached, ScanError):
                self.errors.append(dataclasses.replace(cached, path=path))
            facts = cached if isinstance(cached, ModuleFacts) else None
        self._facts[path] = facts
        return facts

    def _parse_error(self, path: str) -> ScanError | None:
        return next((e for e in reversed(self.errors) if e.path == path), None)

    def defines(self, path: str, name: str) -> bool | None:
        """Whether module ``path`` binds ``name`` at top level (None: cannot tell)."""
        facts = self.facts(path)
        if facts is None:
            return None
        if name in facts.names:
            return True
        return None if facts.star_import else False

    def text(self, path: str) -> str | None:
        try:
            return self.snapshot.read(path, self.limits.max_text_bytes).decode("utf-8", "replace")
        except (OSError, LoadguardError) as exc:
            self.errors.append(ScanError(path, "detect", f"cannot read: {exc}", "unreadable"))
            return None

    def requirement_lines(self, path: str) -> list[str]:
        """Requirement specifiers of a requirements file, comments dropped."""
        text = self.text(path) or ""
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        return [line for line in lines if line]

    def import_closure(self, start: Iterable[str], *, absolute_root: bool) -> list[str]:
        """Repo files reachable by imports from ``start`` (module top level and nested).

        Relative imports resolve against the importing file's folder, and also
        by transformers' copying rule (``from .a.b import c`` -> ``a.b.py``).
        With ``absolute_root`` (torch.hub, mmengine: the repo root is on
        ``sys.path``) absolute imports of repo modules are followed too.
        """
        seen: list[str] = []
        queue = [p for p in start if self.has(p)]
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.append(path)
            facts = self.facts(path)
            if facts is None:
                continue
            for target in self._imports_of(path, facts, absolute_root):
                if target not in seen:
                    queue.append(target)
        return seen

    def _imports_of(self, path: str, facts: ModuleFacts, absolute_root: bool) -> list[str]:
        key = (path, absolute_root)
        cached = self._imports.get(key)
        if cached is None:
            cached = self._imports[key] = self._find_imports(path, facts, absolute_root)
        return cached

    def _find_imports(self, path: str, facts: ModuleFacts, absolute_root: bool) -> list[str]:
        folder = posixpath.dirname(path)
        found: list[str] = []
        for level, module_name, names in facts.imports:
            if level:
                base = folder
                for _ in range(level - 1):
                    base = posixpath.dirname(base)
                module = (module_name or "").replace(".", "/")
                candidates = [posixpath.join(base, module)] if module else []
                if module_name and "." in module_name:  # transformers' literal file rule
                    candidates.append(posixpath.join(base, module_name))
                if not module:  # from . import x
                    candidates += [posixpath.join(base, n) for n in names or ()]
                else:
                    candidates += [posixpath.join(base, module, n) for n in names or ()]
                found += self._module_files(candidates)
            elif not absolute_root:
                continue
            elif names is None:  # import a.b.c: runs a, a.b and a.b.c
                parts = module_name.split(".")
                found += self._module_files(["/".join(parts[: i + 1]) for i in range(len(parts))])
            elif module_name:
                name = module_name.replace(".", "/")
                found += self._module_files([name] + [f"{name}/{n}" for n in names])
        return found

    def _module_files(self, candidates: Iterable[str]) -> list[str]:
        files: list[str] = []
        for candidate in candidates:
            candidate = posixpath.normpath(candidate) if candidate else candidate
            if not candidate or candidate.startswith(".."):
                continue
            for path in (f"{candidate}.py", f"{candidate}/__init__.py"):
                if self.has(path):
                    files.append(path)
            # importing a.b runs a/__init__.py first
            parent = posixpath.dirname(candidate)
            while parent:
                if self.has(f"{parent}/__init__.py"):
                    files.append(f"{parent}/__init__.py")
                parent = posixpath.dirname(parent)
        return files


def loads_json(data: bytes) -> object:
    """``json.loads`` with at least the nesting depth a loader gets at its shallower stack.

    json's decoder recurses once per nesting level against the interpreter's
    recursion limit, so the depth it accepts shrinks with the caller's stack.
    A loader calls it a few frames from the top; a scan calls it deeper. Without
    headroom a config nested just under the loader's limit would parse for the
    loader and fail here, hiding the ``auto_map`` beside the nesting.
    """
    try:
        return json.loads(data)
    except RecursionError:
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + _JSON_HEADROOM)
    try:
        return json.loads(data)
    finally:
        sys.setrecursionlimit(limit)


_JSON_HEADROOM = 512  # frames; a few hundred bytes of C stack each


@dataclass(frozen=True)
class ModuleFacts:
    """A module as detection sees it: names it binds at top level, and its imports."""

    names: frozenset[str]
    star_import: bool
    # (level, module, imported names); names None for ``import a.b``
    imports: tuple[tuple[int, str, tuple[str, ...] | None], ...]


_FACTS: OrderedDict[str, ModuleFacts | ScanError | None] = OrderedDict()


def _module_facts(parsed: ParsedModule) -> ModuleFacts:
    names, star = _bound_names(parsed)
    imports: list[tuple[int, str, tuple[str, ...] | None]] = []
    for node in iter_statements(parsed.tree):
        if isinstance(node, ast.ImportFrom):
            imports.append((node.level, node.module or "", tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            imports += [(0, alias.name, None) for alias in node.names]
    return ModuleFacts(names, star, tuple(imports))


def _bound_names(parsed: ParsedModule) -> tuple[frozenset[str], bool]:
    """Names a module's top-level statements bind anywhere inside them, and ``import *``."""
    names: set[str] = set()
    star = False
    for node in parsed.tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            star = True
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)  # its body binds locals, not module names
            continue
        for child in ast.walk(node):  # if/try/with blocks at top level bind module names
            kind = type(child)
            if kind in (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef):
                names.add(child.name)  # type: ignore[attr-defined]
            elif kind is ast.alias:
                names.add(child.asname or child.name.split(".")[0])  # type: ignore[attr-defined]
            elif kind is ast.Name and type(child.ctx) is ast.Store:  # type: ignore[attr-defined]
                names.add(child.id)  # type: ignore[attr-defined]
    return frozenset(names), star
