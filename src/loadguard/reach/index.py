"""Per-file facts reachability needs: names bound at top level, classes, functions, spans.

One pass over a module's statements (never its expressions, except for the
few that bind names) builds a ``ModuleInfo``. Statements in branches that
never run (``if False:``, ``if TYPE_CHECKING:``, the ``__main__`` guard) bind
nothing and are recorded as dead spans, so ``ReachGraph.locate`` reports a
line there as unreachable even at module level.
"""

from __future__ import annotations

import ast
import functools
import posixpath
from dataclasses import dataclass, field

from ..model import Scope
from ..pyparse import iter_statements

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Binding kinds of a top-level (or function-local) name.
#   ("function", FunctionInfo) ("class", ClassInfo) ("value", expr)
#   ("import", dotted absolute module, bound to the top package)  -- `import a.b`
#   ("module", module key)                                        -- `import a.b as x`
#   ("from", module key, name)                                    -- `from .m import name`
#   ("external", dotted)                                          -- outside the repo
#   ("unknown",)                                                  -- parameters, loop targets
Binding = tuple[object, ...]


@dataclass(eq=False)
class FunctionInfo:
    path: str
    qualname: str
    node: FunctionNode
    owner: ClassInfo | None  # the class this is a method of
    parent: FunctionInfo | None  # the enclosing function (closures)
    module: ModuleInfo

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def id(self) -> str:
        return f"{self.path}::{self.qualname}"

    @functools.cached_property
    def decorator_names(self) -> tuple[str, ...]:
        return tuple(
            dotted_name(d.func if isinstance(d, ast.Call) else d) for d in self.node.decorator_list
        )

    @functools.cached_property
    def is_property(self) -> bool:
        return any(
            n.rsplit(".", 1)[-1] in ("property", "cached_property", "setter", "getter", "deleter")
            for n in self.decorator_names
        )

    @functools.cached_property
    def first_param(self) -> str | None:
        params = param_names(self.node)
        return params[0] if params else None

    @functools.cached_property
    def kind(self) -> str:
        """How the first parameter binds: "instance", "class" or "static"."""
        names = {n.rsplit(".", 1)[-1] for n in self.decorator_names}
        if self.owner is None or "staticmethod" in names:
            return "static"
        if "classmethod" in names or self.name in (
            "__new__",
            "__init_subclass__",
            "__class_getitem__",
        ):
            return "class"
        return "instance"


@dataclass(eq=False)
class ClassInfo:
    path: str
    qualname: str
    node: ast.ClassDef
    parent: FunctionInfo | None  # enclosing function, for classes defined in functions
    module: ModuleInfo
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    nested: dict[str, ClassInfo] = field(default_factory=dict)
    attrs: dict[str, list[ast.expr]] = field(default_factory=dict)  # class-body assignments

    @property
    def name(self) -> str:
        return self.node.name


@dataclass(eq=False)
class ModuleInfo:
    path: str
    key: str  # path without ".py" / "/__init__.py": "pkg/mod", "pkg"
    package: str  # folder relative imports resolve against
    tree: ast.Module | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)  # module keys of `from m import *`
    functions: dict[str, FunctionInfo] = field(default_factory=dict)  # by qualname
    classes: list[ClassInfo] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    error: str | None = None

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


def module_key(path: str) -> str:
    stem = path[:-3] if path.endswith(".py") else path
    if stem == "__init__":
        return ""
    return stem[: -len("/__init__")] if stem.endswith("/__init__") else stem


def dotted_label(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg.mod`` for witness steps."""
    key = module_key(path)
    return key.replace("/", ".") if key else posixpath.basename(path)


def dotted_name(expr: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    elif isinstance(expr, ast.Call):
        parts.append(dotted_name(expr.func) + "()")
    else:
        parts.append("?")
    return ".".join(reversed(parts))


# --------------------------------------------------------------------------- static tests

_MAIN = "__main__"


def static_truth(test: ast.expr, depth: int = 0) -> bool | None:
    """What an ``if``/``while`` test evaluates to at load time, when that is knowable."""
    if depth > 20:
        return None
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = static_truth(test.operand, depth + 1)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [static_truth(v, depth + 1) for v in test.values]
        if isinstance(test.op, ast.And):
            if any(v is False for v in values):
                return False
            return True if all(v is True for v in values) else None
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Eq, ast.NotEq))
    ):
        sides = (test.left, test.comparators[0])
        names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
        mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == _MAIN]
        if names and mains:  # the loader imports modules under their own names
            return isinstance(test.ops[0], ast.NotEq)
    return None


def dead_reason(test: ast.expr) -> str:
    text = ast.unparse(test) if hasattr(ast, "unparse") else "?"
    if "__main__" in text:
        return "<dead: __main__ guard>"
    if "TYPE_CHECKING" in text:
        return "<dead: TYPE_CHECKING>"
    return f"<dead: if {text[:40]}>"


def live_branches(node: ast.If | ast.While) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """(live statements, dead statements) of an ``if``/``while`` by its static test."""
    truth = static_truth(node.test)
    if truth is None:
        return node.body + node.orelse, []
    if truth:
        return node.body, node.orelse
    return node.orelse, node.body


def span(statements: list[ast.stmt]) -> tuple[int, int]:
    first, last = statements[0], statements[-1]
    start = first.lineno
    if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        start = min([start] + [d.lineno for d in first.decorator_list])
    return start, getattr(last, "end_lineno", None) or last.lineno


def body_start(node: FunctionNode) -> int:
    """First line of a function that runs only when it is called.

    Defaults, annotations and decorators run at definition time, so they
    stay outside the function's span; if one shares the body's first line,
    that line is left to the enclosing scope (reached more often: the safe side).
    """
    start = node.body[0].lineno
    header: list[ast.expr] = [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
    header += [a.annotation for a in _all_args(node.args) if a.annotation is not None]
    if node.returns is not None:
        header.append(node.returns)
    if any((getattr(e, "end_lineno", None) or e.lineno) >= start for e in header):
        start += 1
    return start


def _all_args(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg:
        found.append(args.vararg)
    if args.kwarg:
        found.append(args.kwarg)
    return found


def param_names(node: FunctionNode) -> list[str]:
    return [a.arg for a in _all_args(node.args)]


# --------------------------------------------------------------------------- building


_COMPOUND = (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try)


def build_module_info(path: str, tree: ast.Module | None, error: str | None = None) -> ModuleInfo:
    key = module_key(path)
    package = posixpath.dirname(path)
    info = ModuleInfo(path=path, key=key, package=package, tree=tree, error=error)
    if tree is None:
        return info
    _collect(info, tree.body, owner=None, parent=None, prefix="", namespace="module")
    return info


def _collect(
    info: ModuleInfo,
    body: list[ast.stmt],
    *,
    owner: ClassInfo | None,
    parent: FunctionInfo | None,
    prefix: str,
    namespace: str,
) -> None:
    """Walk the statements of one namespace: "module", "class" (``owner``) or "function".

    Iterative over statement lists; recursion only for nested defs/classes,
    whose depth Python's own parser already bounds.
    """
    stack: list[tuple[list[ast.stmt], bool]] = [(body, True)]
    while stack:
        statements, live = stack.pop()
        binds = live and namespace != "function"
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = f"{prefix}{stmt.name}"
                method_of = owner if namespace == "class" else None
                fn = FunctionInfo(info.path, qual, stmt, method_of, parent, info)
                info.functions[qual] = fn
                info.scopes.append(
                    Scope(info.path, qual, body_start(stmt), stmt.end_lineno or stmt.lineno)
                )
                if binds and owner is not None and namespace == "class":
                    owner.methods[stmt.name] = fn
                elif binds:
                    info.bind(stmt.name, ("function", fn))
                _collect(
                    info,
                    stmt.body,
                    owner=None,
                    parent=fn,
                    prefix=f"{qual}.<locals>.",
                    namespace="function",
                )
            elif isinstance(stmt, ast.ClassDef):
                qual = f"{prefix}{stmt.name}"
                cls = ClassInfo(info.path, qual, stmt, parent, info)
                info.classes.append(cls)
                if binds and owner is not None and namespace == "class":
                    owner.nested[stmt.name] = cls
                elif binds:
                    info.bind(stmt.name, ("class", cls))
                _collect(
                    info, stmt.body, owner=cls, parent=parent, prefix=f"{qual}.", namespace="class"
                )
            elif isinstance(stmt, (ast.If, ast.While)):
                live_part, dead_part = live_branches(stmt)
                if dead_part:
                    start, end = span(dead_part)
                    info.scopes.append(Scope(info.path, dead_reason(stmt.test), start, end))
                stack.append((dead_part, False))
                stack.append((live_part, live))
            elif isinstance(stmt, _COMPOUND):
                for name in ("body", "orelse", "finalbody"):
                    stack.append((getattr(stmt, name, []) or [], live))
                for handler in getattr(stmt, "handlers", []):
                    stack.append((handler.body, live))
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    stack.append((case.body, live))
            elif binds and namespace == "module":
                _bind_module_statement(info, stmt)
            elif binds and owner is not None:
                _bind_class_statement(owner, stmt)


def _bind_module_statement(info: ModuleInfo, stmt: ast.stmt) -> None:
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                info.bind(alias.asname, ("module", alias.name.replace(".", "/")))
            else:
                top = alias.name.split(".", 1)[0]
                info.bind(top, ("module", top))
    elif isinstance(stmt, ast.ImportFrom):
        base = import_from_key(info, stmt)
        for alias in stmt.names:
            if alias.name == "*":
                if base is not None:
                    info.stars.append(base)
            elif base is not None:
                info.bind(alias.asname or alias.name, ("from", base, alias.name))
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            _bind_target(info.bind, target, stmt.value)
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        _bind_target(info.bind, stmt.target, stmt.value)


def _bind_class_statement(cls: ClassInfo, stmt: ast.stmt) -> None:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                cls.attrs.setdefault(target.id, []).append(stmt.value)
    elif (
        isinstance(stmt, ast.AnnAssign)
        and stmt.value is not None
        and isinstance(stmt.target, ast.Name)
    ):
        cls.attrs.setdefault(stmt.target.id, []).append(stmt.value)


def _bind_target(bind: object, target: ast.expr, value: ast.expr) -> None:
    assert callable(bind)
    if isinstance(target, ast.Name):
        bind(target.id, ("value", value))
    elif isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for t, v in zip(target.elts, value.elts):
                _bind_target(bind, t, v)
        else:
            for t in target.elts:
                if isinstance(t, ast.Name):
                    bind(t.id, ("unknown",))


def import_from_key(info: ModuleInfo, stmt: ast.ImportFrom) -> str | None:
    """The module key ``from X import ...`` reads names from (``None``: above the repo)."""
    if not stmt.level:
        return (stmt.module or "").replace(".", "/") or None
    base = info.package
    for _ in range(stmt.level - 1):
        if not base:
            return None
        base = posixpath.dirname(base)
    if stmt.module:
        return (
            posixpath.join(base, stmt.module.replace(".", "/"))
            if base
            else stmt.module.replace(".", "/")
        )
    return base  # "" is the repo root package


def function_locals(fn: FunctionInfo) -> dict[str, list[Binding]]:
    """Names a function body binds, with what (parameters and loop targets: unknown)."""
    found: dict[str, list[Binding]] = {}

    def bind(name: str, binding: Binding) -> None:
        found.setdefault(name, []).append(binding)

    for name in param_names(fn.node):
        bind(name, ("unknown",))
    stack: list[list[ast.stmt]] = [fn.node.body]
    while stack:
        for stmt in stack.pop():
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = fn.module.functions.get(f"{fn.qualname}.<locals>.{stmt.name}")
                bind(stmt.name, ("function", inner) if inner else ("unknown",))
            elif isinstance(stmt, ast.ClassDef):
                found_cls = next(
                    (c for c in fn.module.classes if c.node is stmt),
                    None,
                )
                bind(stmt.name, ("class", found_cls) if found_cls else ("unknown",))
            elif isinstance(stmt, (ast.If, ast.While)):
                live, _dead = live_branches(stmt)
                stack.append(live)
            elif isinstance(stmt, _COMPOUND):
                for name in ("body", "orelse", "finalbody"):
                    stack.append(getattr(stmt, name, []) or [])
                for handler in getattr(stmt, "handlers", []):
                    if handler.name:
                        bind(handler.name, ("unknown",))
                    stack.append(handler.body)
                if isinstance(stmt, (ast.For, ast.AsyncFor)):
                    _bind_unknown(bind, stmt.target)
                if isinstance(stmt, (ast.With, ast.AsyncWith)):
                    for item in stmt.items:
                        if item.optional_vars is not None:
                            _bind_unknown(bind, item.optional_vars)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    stack.append(case.body)
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        bind(alias.asname, ("module", alias.name.replace(".", "/")))
                    else:
                        top = alias.name.split(".", 1)[0]
                        bind(top, ("module", top))
            elif isinstance(stmt, ast.ImportFrom):
                base = import_from_key(fn.module, stmt)
                for alias in stmt.names:
                    if alias.name != "*" and base is not None:
                        bind(alias.asname or alias.name, ("from", base, alias.name))
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    _bind_target(bind, target, stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                _bind_target(bind, stmt.target, stmt.value)
            elif isinstance(stmt, ast.AugAssign):
                _bind_unknown(bind, stmt.target)
    return found


def _bind_unknown(bind: object, target: ast.expr) -> None:
    assert callable(bind)
    if isinstance(target, ast.Name):
        bind(target.id, ("unknown",))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for t in target.elts:
            _bind_unknown(bind, t)
    elif isinstance(target, ast.Starred):
        _bind_unknown(bind, target.value)


def instance_attributes(cls: ClassInfo) -> dict[str, list[tuple[ast.expr, FunctionInfo]]]:
    """``self.x = value`` assignments in the class's methods (cheap receiver typing)."""
    found: dict[str, list[tuple[ast.expr, FunctionInfo]]] = {}
    for method in cls.methods.values():
        me = method.first_param
        if me is None or method.kind != "instance":
            continue
        for node in iter_statements(method.node):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == me
                    ):
                        found.setdefault(target.attr, []).append((node.value, method))
    return found
