"""Constant folding and name resolution over the AST, so rules see what code means.

Attackers write ``getattr(__import__('o'+'s'), 'sys'+'tem')`` or
``exec(zlib.decompress(base64.b64decode(...)))``; rules written against
``os.system`` and ``exec`` must see through that. This module folds literal
expressions to their values and resolves callees to canonical dotted names
(``builtins.exec``, ``os.system``), recording how it got there.

It never evaluates anything: every operation is re-implemented on literal
values with the standard codecs, with size, depth and element caps, and
decompression is bounded by a maximum output size.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from ..rules.native_rules import INSTANCE_FACTORIES, NAME_RESOLVERS, WELL_KNOWN_MODULES

MAX_VALUE = 1 << 20  # bytes/characters of any folded value
MAX_DEPTH = 48  # nested folding/resolution steps
MAX_ELEMENTS = 200_000  # list literal elements turned into chr()/bytes()
MAX_MODULE_VALUES = 32 << 20  # bytes/characters of all values one module's folding builds
SMALL_VALUE = 256  # values this short are folded even over that budget

# Steps that transform content (evidence of encoding), as opposed to plain joining.
DECODING_STEPS = frozenset(
    {"base64", "base32", "base16", "base85", "hex", "zlib", "gzip", "bz2", "lzma", "rot13",
     "chr-sequence", "byte-list", "reverse", "unicode-escape", "xor", "slice"}
)  # fmt: skip
# Resolution steps that only exist to hide a name.
DYNAMIC_STEPS = (
    "getattr",
    "__import__",
    "import_module",
    "namespace lookup",
    "eval of name",
    "locate",
)

Value = str | bytes


@dataclass(frozen=True)
class Folded:
    """A literal value and the steps that produced it."""

    value: Value
    chain: tuple[str, ...] = ()

    @property
    def decoded(self) -> bool:
        return any(step.split(" ", 1)[0] in DECODING_STEPS for step in self.chain)

    def text(self) -> str | None:
        if isinstance(self.value, str):
            return self.value
        try:
            return self.value.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class Resolved:
    """A canonical dotted name (``os.system``) and the steps that led to it."""

    name: str
    via: tuple[str, ...] = ()
    namespace: bool = False  # globals()/vars()/locals(): subscripts look names up

    @property
    def dynamic(self) -> bool:
        return any(step.startswith(DYNAMIC_STEPS) for step in self.via)


MODULE_CANON = {"posix": "os", "nt": "os", "cPickle": "pickle", "_pickle": "pickle",
                "__builtin__": "builtins", "__builtins__": "builtins", "_io": "io",
                "numpy": "numpy", "pathlib": "pathlib"}  # fmt: skip
_BUILTIN_NAMES = frozenset(dir(__import__("builtins")))
# x.get("k") / x.__getattribute__("k"): lookups by name on a namespace or module
_LOOKUP_METHODS = frozenset({"__getattribute__", "__getattr__", "get", "pop", "setdefault",
                             "__getitem__"})  # fmt: skip
# object.__getattribute__(os, "system") is getattr(os, "system")
_GETATTRIBUTES = frozenset(
    {"builtins.object.__getattribute__", "builtins.type.__getattribute__",
     "inspect.getattr_static"}
)  # fmt: skip
_TEXT_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "utf-16", "utf-32"})
MAP_CHR = ("builtins.map", "builtins.chr")
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\*|\d{4,})")


def canonical(name: str) -> str:
    head, dot, rest = name.partition(".")
    head = MODULE_CANON.get(head, head)
    return f"{head}{dot}{rest}"


@dataclass
class Scope:
    """Names bound in one function/class/module body (lookups fall back to the parent)."""

    parent: Scope | None = None
    aliases: dict[str, Resolved] = field(default_factory=dict)
    consts: dict[str, Folded] = field(default_factory=dict)
    shadowed: set[str] = field(default_factory=set)
    tainted: dict[str, str] = field(default_factory=dict)  # name -> fetch source
    sockets: set[str] = field(default_factory=set)
    files: dict[str, Folded | None] = field(default_factory=dict)  # handle -> opened path
    star_modules: tuple[str, ...] = ()
    marks: dict[str, int] = field(default_factory=dict)  # "secret"/"egress" -> first line
    sequences: dict[str, list[Folded]] = field(default_factory=dict)  # k = [chr(c) for c ...]
    # d = {"run": os.system} / fs = [print, os.system]: callables held by key or index
    members: dict[str, dict[str | int, Resolved]] = field(default_factory=dict)
    classes: dict[str, Scope] = field(default_factory=dict)  # class name -> its body's scope
    owner: Scope | None = None  # for a method: the body scope of its class
    self_name: str | None = None  # for a method: its first parameter (self, cls)
    attributes: dict[str, Resolved] = field(default_factory=dict)  # self.x = os.system
    returns: dict[str, Resolved] = field(default_factory=dict)  # def f(): return os.system
    function: str | None = None  # for a function body: the function's name

    def lookup_alias(self, name: str) -> Resolved | None:
        scope: Scope | None = self
        while scope is not None:
            hit = scope.aliases.get(name)
            if hit is not None:
                return hit
            if name in scope.shadowed or name in scope.consts:
                return None
            scope = scope.parent
        return None

    def lookup_const(self, name: str) -> Folded | None:
        scope: Scope | None = self
        while scope is not None:
            hit = scope.consts.get(name)
            if hit is not None:
                return hit
            if name in scope.shadowed or name in scope.aliases:
                return None
            scope = scope.parent
        return None

    def lookup_sequence(self, name: str) -> list[Folded] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.sequences:
                return scope.sequences[name]
            if name in scope.shadowed or name in scope.aliases or name in scope.consts:
                return None
            scope = scope.parent
        return None

    def lookup_members(self, name: str) -> dict[str | int, Resolved] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.members:
                return scope.members[name]
            if name in scope.shadowed or name in scope.aliases or name in scope.consts:
                return None
            scope = scope.parent
        return None

    def lookup_returns(self, name: str) -> Resolved | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.returns:
                return scope.returns[name]
            if name in scope.aliases or name in scope.consts:
                return None
            scope = scope.parent
        return None

    def lookup_class(self, name: str) -> Scope | None:
        """The body scope of the class ``name`` refers to (``C`` or ``self``/``cls``)."""
        scope: Scope | None = self
        while scope is not None:
            if scope.owner is not None and name == scope.self_name:
                return scope.owner
            if name in scope.classes:
                return scope.classes[name]
            if name in scope.aliases or name in scope.consts or name in scope.shadowed:
                return None
            scope = scope.parent
        return None

    def shadows(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.shadowed:
                return True
            scope = scope.parent
        return False

    def taint_of(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            hit = scope.tainted.get(name)
            if hit is not None:
                return hit
            scope = scope.parent
        return None

    def is_socket(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.sockets:
                return True
            scope = scope.parent
        return False

    def opened(self, name: str) -> tuple[bool, Folded | None]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.files:
                return True, scope.files[name]
            scope = scope.parent
        return False, None

    def bind(self, name: str, alias: Resolved | None, const: Folded | None) -> None:
        self.aliases.pop(name, None)
        self.consts.pop(name, None)
        self.sequences.pop(name, None)
        if self.members:
            self.members.pop(name, None)
        if self.classes:
            self.classes.pop(name, None)
        self.tainted.pop(name, None)
        self.shadowed.discard(name)
        if alias is not None:
            self.aliases[name] = alias
        elif const is not None:
            self.consts[name] = const
        else:
            self.shadowed.add(name)


class Deobfuscator:
    """Folds and resolves expressions of one module; stateless apart from a memo."""

    def __init__(
        self,
        star_names: Callable[[str, str], bool] | None = None,
        prefer: Callable[[str], bool] | None = None,
    ) -> None:
        # star_names(module, name): is ``name`` worth resolving through ``from module import *``
        self._star_names = star_names or (lambda module, name: False)
        # prefer(name): of ``a if c else b`` / ``a or b``, the alternative rules care about
        self._prefer = prefer or (lambda name: False)
        # Handlers of one statement ask about the same nodes; answers cannot change in between.
        self._resolved: dict[int, Resolved | None] = {}
        self._folded: dict[int, Folded | None] = {}
        # built values are kept (memo, scope constants): bound their total, or
        # 100k lines of ``v = 'x' * 99999`` would hold gigabytes
        self._built = 0
        self.class_members = False  # set once a class body or method binds a callable

    # ------------------------------------------------------------------ binding

    def bind_import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.bind(alias.asname, Resolved(canonical(alias.name)), None)
                else:
                    head = alias.name.split(".", 1)[0]
                    scope.bind(head, Resolved(canonical(head)), None)
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                if node.level == 0 and module:
                    scope.star_modules = (*scope.star_modules, canonical(module))
                continue
            local = alias.asname or alias.name
            if node.level:  # relative import: a repo module, not a library
                scope.bind(local, None, None)
            else:
                via = (f"from {module} import {alias.name} as {local}",) if alias.asname else ()
                scope.bind(local, Resolved(canonical(f"{module}.{alias.name}"), via), None)

    def bind_value(self, name: str, value: ast.expr, scope: Scope) -> None:
        """``name = value``: remember aliases of callables/modules and folded constants."""
        alias = self.resolve(value, scope)
        if alias is not None and alias.name.endswith(".__file__"):  # p = torch.__file__: a path
            scope.bind(name, None, _installed_file(alias.name))
            return
        if alias is not None:
            alias = Resolved(alias.name, (*alias.via, f"alias {name} = {alias.name}"),
                             alias.namespace)  # fmt: skip
            scope.bind(name, alias, None)
            return
        scope.bind(name, None, self.fold(value, scope))
        if type(value) in (ast.List, ast.Tuple, ast.ListComp) and name not in scope.consts:
            items = self._fold_iterable(value, scope, 0)
            if items is not None:
                scope.shadowed.discard(name)
                scope.sequences[name] = items
        if isinstance(value, ast.Dict | ast.List | ast.Tuple):
            members = self._members(value, scope) if _names_something(value) else None
            if members:
                scope.members[name] = members

    def bind_member(self, name: str, key: ast.expr, value: ast.expr, scope: Scope) -> None:
        """``d["run"] = os.system``: remember a callable stored in a container."""
        if scope.lookup_members(name) is None and name in scope.aliases:
            return
        resolved = self.resolve(value, scope)
        index = self._key(key, scope)
        if resolved is not None and index is not None:
            scope.members.setdefault(name, {})[index] = resolved

    def _members(
        self, node: ast.Dict | ast.List | ast.Tuple, scope: Scope
    ) -> dict[str | int, Resolved]:
        """The resolvable callables/modules of a literal container, by key or index."""
        out: dict[str | int, Resolved] = {}
        if isinstance(node, ast.Dict):
            if len(node.keys) > 64:
                return out
            for key, value in zip(node.keys, node.values, strict=True):
                index = self._key(key, scope) if key is not None else None
                resolved = self.resolve(value, scope) if index is not None else None
                if resolved is not None and index is not None:
                    out[index] = resolved
            return out
        if len(node.elts) > 64 or any(isinstance(e, ast.Starred) for e in node.elts):
            return out
        for position, element in enumerate(node.elts):
            resolved = self.resolve(element, scope)
            if resolved is not None:
                out[position] = resolved
                out[position - len(node.elts)] = resolved
        return out

    def _key(self, node: ast.AST, scope: Scope) -> str | int | None:
        number = self.fold_int(node)
        if number is not None:
            return number
        folded = self.fold(node, scope)
        return folded.value if folded is not None and isinstance(folded.value, str) else None

    # ------------------------------------------------------------------ resolution

    def resolve(self, node: ast.AST, scope: Scope, depth: int = 0) -> Resolved | None:
        """The canonical dotted name ``node`` refers to, if it can be told statically."""
        key = id(node)
        if key in self._resolved:
            return self._resolved[key]
        result = self._resolve(node, scope, depth)
        self._resolved[key] = result
        return result

    def _resolve(self, node: ast.AST, scope: Scope, depth: int) -> Resolved | None:
        if depth > MAX_DEPTH:
            return None
        kind = type(node)
        if kind is ast.Name:
            return self._resolve_name(node.id, scope)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            assert isinstance(node, ast.Attribute)
            base = self.resolve(node.value, scope, depth + 1)
            if base is None:
                return self._class_attribute(node, scope)
            if node.attr == "__dict__":
                return Resolved(base.name, base.via, namespace=True)
            if node.attr == "__call__":  # f.__call__ is f
                return base
            return Resolved(canonical(f"{base.name}.{node.attr}"), base.via)
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            return self._resolve_call(node, scope, depth)
        if kind is ast.Subscript:
            assert isinstance(node, ast.Subscript)
            return self._resolve_subscript(node, scope, depth)
        if kind is ast.Lambda:
            assert isinstance(node, ast.Lambda)
            return self._resolve_lambda(node, scope, depth)
        if kind is ast.IfExp or kind is ast.BoolOp:
            # print if False else os.system: either may be the one called
            options = (
                [node.body, node.orelse]  # type: ignore[attr-defined]
                if kind is ast.IfExp
                else node.values  # type: ignore[attr-defined]
            )
            found = [self.resolve(o, scope, depth + 1) for o in options[:8]]
            named = [r for r in found if r is not None]
            preferred = [r for r in named if self._prefer(r.name)]
            return (preferred or named)[0] if named else None
        return None

    def _class_attribute(self, node: ast.Attribute, scope: Scope) -> Resolved | None:
        """``C.run`` / ``self.run`` where the class body or a method bound ``run = os.system``."""
        if not self.class_members or type(node.value) is not ast.Name:
            return None
        body = scope.lookup_class(node.value.id)
        if body is None:
            return None
        hit = body.aliases.get(node.attr) or body.attributes.get(node.attr)
        if hit is None:
            return None
        return Resolved(hit.name, (*hit.via, f"class attribute {node.value.id}.{node.attr}"))

    def _resolve_name(self, name: str, scope: Scope) -> Resolved | None:
        hit = scope.lookup_alias(name)
        if hit is not None:
            return hit
        if scope.shadows(name) or scope.lookup_const(name) is not None:
            return None
        if name in ("__builtins__", "__builtin__"):
            return Resolved("builtins")
        root: Scope | None = scope
        while root is not None:
            for module in root.star_modules:
                if self._star_names(module, name):
                    return Resolved(f"{module}.{name}", (f"from {module} import *",))
            root = root.parent
        if name in _BUILTIN_NAMES:
            return Resolved(f"builtins.{name}")
        if name in WELL_KNOWN_MODULES:
            return Resolved(canonical(name))
        return None

    def _resolve_call(self, node: ast.Call, scope: Scope, depth: int) -> Resolved | None:
        if isinstance(node.func, ast.Lambda) and not node.args and not node.keywords:
            return self.resolve(node.func.body, scope, depth + 1)
        func = node.func
        args = node.args
        if type(func) is ast.Attribute and func.attr in _LOOKUP_METHODS and args:
            method = func.attr
            if method in ("__getattribute__", "__getattr__") and len(args) == 1:
                return self._getattr(func.value, args[0], scope, depth)
            if method in ("get", "pop", "setdefault", "__getitem__"):
                owner = self.resolve(func.value, scope, depth + 1)
                if owner is not None and (
                    owner.namespace or owner.name in ("builtins", "sys.modules")
                ):
                    return self._lookup(owner, args[0], scope, depth)
        callee = self.resolve(func, scope, depth + 1)
        if callee is None:
            if type(func) is ast.Name:  # a repo function that returns a callable
                held = scope.lookup_returns(func.id)
                if held is not None:
                    return Resolved(held.name, (*held.via, f"returned by {func.id}()"))
            return None
        name = callee.name
        if name == "builtins.getattr" and len(args) >= 2:
            return self._getattr(args[0], args[1], scope, depth)
        if name in _GETATTRIBUTES and len(args) == 2:
            return self._getattr(args[0], args[1], scope, depth)
        if name == "functools.reduce" and len(args) == 3:
            return self._reduce_getattr(node, scope, depth)
        if name in NAME_RESOLVERS and args:
            dotted = self.fold(args[0], scope, depth + 1)
            if dotted is None or not isinstance(dotted.value, str):
                return None
            target = dotted.value.replace(":", ".")
            return Resolved(canonical(target), (f"locate {name}({dotted.value!r})",))
        if name in INSTANCE_FACTORIES:
            return Resolved(f"{name}()", callee.via)
        if name in ("builtins.__import__", "importlib.import_module", "importlib.__import__"):
            if not args:
                return None
            module = self.fold(args[0], scope, depth + 1)
            if module is None or not isinstance(module.value, str):
                return None
            target = module.value
            if name == "builtins.__import__" and not self._has_fromlist(node):
                target = target.split(".", 1)[0]
            tag = "__import__" if name.endswith("__import__") else "import_module"
            return Resolved(canonical(target), (f"{tag}({module.value!r})",))
        if name in ("builtins.globals", "builtins.locals") and not args:
            return Resolved("<globals>", (), namespace=True)
        if name == "builtins.vars":
            if not args:
                return Resolved("<globals>", (), namespace=True)
            base = self.resolve(args[0], scope, depth + 1)
            return Resolved(base.name, base.via, namespace=True) if base else None
        if name == "builtins.eval" and args:
            # eval("__import__('os').system") names a callable
            source = self.fold(args[0], scope, depth + 1)
            text = source.text() if source else None
            if text is not None and len(text) < 512:
                try:
                    expr = ast.parse(text.strip(), mode="eval").body
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    return None
                inner = self.resolve(expr, scope, depth + 1)
                if inner is not None:
                    return Resolved(inner.name, (*inner.via, f"eval of name {text!r}"))
        return None

    def _getattr(
        self, owner: ast.AST, attr_node: ast.AST, scope: Scope, depth: int
    ) -> Resolved | None:
        base = self.resolve(owner, scope, depth + 1)
        attr = self.fold(attr_node, scope, depth + 1)
        if base is None or attr is None or not isinstance(attr.value, str):
            return None
        step = f"getattr({base.name}, {attr.value!r})"
        return Resolved(canonical(f"{base.name}.{attr.value}"), (*base.via, step))

    def _reduce_getattr(self, node: ast.Call, scope: Scope, depth: int) -> Resolved | None:
        """``functools.reduce(getattr, ["path", "system"], os)``: a getattr chain."""
        function = self.resolve(node.args[0], scope, depth + 1)
        if function is None or function.name != "builtins.getattr":
            return None
        names = node.args[1]
        if not isinstance(names, ast.List | ast.Tuple) or len(names.elts) > 16:
            return None
        current = self.resolve(node.args[2], scope, depth + 1)
        for element in names.elts:
            attr = self.fold(element, scope, depth + 1)
            if current is None or attr is None or not isinstance(attr.value, str):
                return None
            step = f"getattr({current.name}, {attr.value!r})"
            current = Resolved(canonical(f"{current.name}.{attr.value}"), (*current.via, step))
        return current

    @staticmethod
    def _has_fromlist(node: ast.Call) -> bool:
        if len(node.args) >= 4:
            return True
        return any(k.arg == "fromlist" for k in node.keywords)

    def _resolve_subscript(self, node: ast.Subscript, scope: Scope, depth: int) -> Resolved | None:
        held = self._held(node, scope, depth)
        if held is not None:
            return held
        base = self.resolve(node.value, scope, depth + 1)
        if base is None:
            return None
        return self._lookup(base, node.slice, scope, depth)

    def _held(self, node: ast.Subscript, scope: Scope, depth: int) -> Resolved | None:
        """``{"run": os.system}["run"]``, ``fs[1]`` of ``fs = [print, os.system]``."""
        container = node.value
        kind = type(container)
        if kind is ast.Name:
            members = scope.lookup_members(container.id)  # type: ignore[attr-defined]
        elif kind in (ast.Dict, ast.List, ast.Tuple):
            members = self._members(container, scope)  # type: ignore[arg-type]
        else:
            return None
        if not members:
            return None
        index = self._key(node.slice, scope)
        hit = members.get(index) if index is not None else None
        if hit is None:
            return None
        return Resolved(hit.name, (*hit.via, f"container lookup [{index!r}]"))

    def _lookup(
        self, base: Resolved, key_node: ast.AST, scope: Scope, depth: int
    ) -> Resolved | None:
        """``base[key]`` for namespaces: ``sys.modules``, ``globals()``, ``vars(x)``, builtins."""
        key = self.fold(key_node, scope, depth + 1)
        if key is None or not isinstance(key.value, str):
            return None
        name = key.value
        if base.name == "sys.modules":
            return Resolved(canonical(name), (f"namespace lookup sys.modules[{name!r}]",))
        if base.name == "<globals>":
            inner = self._resolve_name(name, scope)
            if inner is None:
                return None
            return Resolved(inner.name, (*inner.via, f"namespace lookup globals()[{name!r}]"))
        if base.namespace or base.name == "builtins":
            step = f"namespace lookup {base.name}[{name!r}]"
            return Resolved(canonical(f"{base.name}.{name}"), (*base.via, step))
        return None

    def _resolve_lambda(self, node: ast.Lambda, scope: Scope, depth: int) -> Resolved | None:
        """``lambda *a: exec(*a)`` or ``lambda c: os.system(c)`` stand for their callee."""
        body = node.body
        if not isinstance(body, ast.Call):
            return None
        params = [a.arg for a in node.args.posonlyargs + node.args.args]
        passed: list[str] = []
        for arg in body.args:
            if isinstance(arg, ast.Name):
                passed.append(arg.id)
            elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                passed.append("*" + arg.value.id)
            else:
                return None
        vararg = node.args.vararg.arg if node.args.vararg else None
        if passed != params and not (vararg and passed == ["*" + vararg]):
            return None
        inner = self.resolve(body.func, scope, depth + 1)
        if inner is None:
            return None
        return Resolved(inner.name, (*inner.via, f"lambda wrapper of {inner.name}"))

    # ------------------------------------------------------------------ folding

    def fold(self, node: ast.AST, scope: Scope, depth: int = 0) -> Folded | None:
        """The literal str/bytes value of ``node``, or None if it is not a constant."""
        key = id(node)
        if key in self._folded:
            return self._folded[key]
        result = self._fold(node, scope, depth)
        if result is not None and type(node) not in (ast.Constant, ast.Name):
            self._built += len(result.value)
            if self._built > MAX_MODULE_VALUES and len(result.value) > SMALL_VALUE:
                # over budget: large values become unknown; short ones (names,
                # commands, hosts) still fold, so spending the budget hides nothing
                result = None
        if type(node) is not ast.Name:  # a name's value changes as the walk goes on
            self._folded[key] = result
        return result

    def _fold(self, node: ast.AST, scope: Scope, depth: int) -> Folded | None:
        if depth > MAX_DEPTH:
            return None
        kind = type(node)
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str | bytes) and len(value) <= MAX_VALUE:
                return Folded(value)
            return None
        if kind is ast.Name:
            const = scope.lookup_const(node.id)  # type: ignore[attr-defined]
            if const is None and node.id.isupper():  # type: ignore[attr-defined]
                alias = scope.lookup_alias(node.id)  # type: ignore[attr-defined]
                known = _KNOWN_PATHS.get(alias.name) if alias is not None else None
                return Folded(known) if known is not None else None
            return const
        if kind is ast.Attribute:
            attr = node.attr  # type: ignore[attr-defined]
            if attr != "__file__" and not attr.isupper():
                return None
            module = self.resolve(node, scope, depth + 1)
            if module is None:
                return None
            known = _KNOWN_PATHS.get(module.name)
            return Folded(known) if known is not None else _installed_file(module.name)
        if kind is ast.BinOp:
            assert isinstance(node, ast.BinOp)
            return self._fold_binop(node, scope, depth)
        if kind is ast.JoinedStr:
            assert isinstance(node, ast.JoinedStr)
            return self._fold_fstring(node, scope, depth)
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            return self._fold_call(node, scope, depth)
        if kind is ast.Subscript:
            assert isinstance(node, ast.Subscript)
            return self._fold_subscript(node, scope, depth)
        return None

    def fold_int(self, node: ast.AST, depth: int = 0) -> int | None:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.fold_int(node.operand, depth + 1)
            return -inner if inner is not None else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.BitXor):
            left = self.fold_int(node.left, depth + 1)
            right = self.fold_int(node.right, depth + 1)
            if left is None or right is None or abs(left) > 1 << 32 or abs(right) > 1 << 32:
                return None
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            return left ^ right
        return None

    def _ints(self, node: ast.AST) -> list[int] | None:
        if not isinstance(node, ast.List | ast.Tuple) or len(node.elts) > MAX_ELEMENTS:
            return None
        out: list[int] = []
        for elt in node.elts:
            value = self.fold_int(elt)
            if value is None:
                return None
            out.append(value)
        return out

    def _fold_binop(self, node: ast.BinOp, scope: Scope, depth: int) -> Folded | None:
        if isinstance(node.op, ast.Add):
            # flatten left-leaning chains iteratively: "a"+"b"+... may be thousands long
            parts: list[ast.expr] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
                parts.append(current.right)
                current = current.left
                if len(parts) > MAX_ELEMENTS:
                    return None
            parts.append(current)
            parts.reverse()
            folded = [self.fold(p, scope, depth + 1) for p in parts]
            return _concat(folded, "concat")
        left = self.fold(node.left, scope, depth + 1)
        if left is None:
            return None
        if isinstance(node.op, ast.Mult):
            times = self.fold_int(node.right)
            if times is None or times < 0 or len(left.value) * times > MAX_VALUE:
                return None
            return Folded(left.value * times, left.chain)
        if isinstance(node.op, ast.Mod) and isinstance(left.value, str):
            if _FORMAT_WIDTH.search(left.value):
                return None
            values: list[object] = []
            elts = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            chain = list(left.chain)
            for elt in elts:
                number = self.fold_int(elt)
                if number is not None:
                    values.append(number)
                    continue
                part = self.fold(elt, scope, depth + 1)
                if part is None:
                    return None
                values.append(part.value)
                chain.extend(part.chain)
            try:
                result = left.value % tuple(values)
            except (TypeError, ValueError, KeyError, OverflowError):
                return None
            return _capped(result, (*chain, "%-format"))
        if isinstance(node.op, ast.Div):  # pathlib: Path.home() / ".ssh" / "id_rsa"
            right = self.fold(node.right, scope, depth + 1)
            if right is None or not isinstance(left.value, str) or not isinstance(right.value, str):
                return None
            return _capped(f"{left.value.rstrip('/')}/{right.value}", left.chain + right.chain)
        return None

    def _fold_fstring(self, node: ast.JoinedStr, scope: Scope, depth: int) -> Folded | None:
        parts: list[Folded | None] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion not in (-1, 115):
                    return None
                number = self.fold_int(value.value)
                parts.append(
                    Folded(str(number)) if number is not None
                    else self.fold(value.value, scope, depth + 1)
                )  # fmt: skip
            else:
                parts.append(self.fold(value, scope, depth + 1))
        if parts and all(p is not None and isinstance(p.value, bytes) for p in parts):
            return None
        return _concat(parts, "f-string")

    def _fold_subscript(self, node: ast.Subscript, scope: Scope, depth: int) -> Folded | None:
        target = node.slice
        if not isinstance(target, ast.Slice):
            # sysconfig.get_paths()["purelib"], site.getsitepackages()[0]
            if type(node.value) is not ast.Call:
                return None
            source = self.resolve(node.value.func, scope, depth + 1)
            if source is None or source.name not in (*_SITE_DIRS, "sysconfig.get_paths"):
                return None
            key = self._key(target, scope)
            if source.name in _SITE_DIRS or key in _PACKAGE_DIRS:
                return Folded(INSTALLED)
            return None
        step = self.fold_int(target.step) if target.step is not None else None
        if step == -1 and target.lower is None and target.upper is None:
            inner = self.fold(node.value, scope, depth + 1)
            if inner is not None:
                return Folded(inner.value[::-1], (*inner.chain, "reverse"))
            return None
        # "xsystemx"[1:-1], "sxyxsxtxexmx"[::2]: constant bounds over a constant
        bounds = [self.fold_int(b) if b is not None else None for b in (target.lower, target.upper)]
        if any(b is None and e is not None for b, e in zip(bounds, (target.lower, target.upper))):
            return None
        if (step is None and target.step is not None) or step == 0:
            return None
        inner = self.fold(node.value, scope, depth + 1)
        if inner is None:
            return None
        sliced = inner.value[bounds[0] : bounds[1] : step]
        return Folded(sliced, (*inner.chain, "slice") if step not in (None, 1) else inner.chain)

    def _fold_call(self, node: ast.Call, scope: Scope, depth: int) -> Folded | None:
        func = node.func
        args = node.args
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _METHODS:
                receiver = self.fold(func.value, scope, depth + 1)
                if receiver is not None:
                    return self._fold_method(receiver, method, node, scope, depth)
        callee = self.resolve(func, scope, depth + 1)
        if callee is None:
            return None
        name = callee.name
        if name == "builtins.chr" and len(args) == 1:
            code = self.fold_int(args[0])
            if code is None or not 0 <= code < 0x110000:
                return None
            return Folded(chr(code), ("chr-sequence",))
        if name in ("builtins.bytes", "builtins.bytearray") and args:
            codes = self._ints(args[0])
            if codes is not None:
                if not all(0 <= c < 256 for c in codes):
                    return None
                return Folded(bytes(codes), ("byte-list",))
            text = self.fold(args[0], scope, depth + 1)
            if text is not None and isinstance(text.value, str):
                return _capped(text.value.encode("utf-8", "surrogatepass"), text.chain)
            return text if text is not None and isinstance(text.value, bytes) else None
        if name in ("builtins.str",) and len(args) == 1:
            return self.fold(args[0], scope, depth + 1)
        if name in ("os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath",
                    "pathlib.PosixPath", "os.path.expanduser", "os.path.abspath",
                    "os.path.realpath", "os.path.normpath"):  # fmt: skip
            if not args:
                return None
            pieces = [self.fold(a, scope, depth + 1) for a in args]
            if any(p is None or not isinstance(p.value, str) for p in pieces):
                return None
            joined = "/".join(str(p.value).rstrip("/") for p in pieces if p)
            return _capped(joined, tuple(s for p in pieces if p for s in p.chain))
        if name in ("pathlib.Path.home", "os.path.expanduser.home"):
            return Folded("~")
        if name in ("os.path.dirname", "posixpath.dirname") and len(args) == 1:
            path = self.fold(args[0], scope, depth + 1)
            if path is None or not isinstance(path.value, str) or "/" not in path.value:
                return None
            return Folded(path.value.rstrip("/").rsplit("/", 1)[0], path.chain)
        if name in _SITE_DIRS:
            return Folded(INSTALLED)
        if name == "torch.hub.get_dir" and not args:
            return Folded("~/.cache/torch/hub")
        if name in ("sysconfig.get_path", "distutils.sysconfig.get_python_lib") and args:
            which = self.fold(args[0], scope, depth + 1)
            return Folded(INSTALLED) if which and which.value in _PACKAGE_DIRS else None
        if name in ("inspect.getfile", "inspect.getsourcefile") and len(args) == 1:
            module = self.resolve(args[0], scope, depth + 1)
            return _installed_file(f"{module.name}.__file__") if module is not None else None
        decoder = _DECODERS.get(name)
        if decoder is not None and args:
            data = self.fold(args[0], scope, depth + 1)
            if data is None:
                return None
            step, function = decoder
            return _decode(data, step, function)
        if name in ("codecs.decode", "codecs.encode") and len(args) >= 1:
            data = self.fold(args[0], scope, depth + 1)
            encoding = self.fold(args[1], scope, depth + 1) if len(args) > 1 else Folded("utf-8")
            if data is None or encoding is None or not isinstance(encoding.value, str):
                return None
            return _codec(data, encoding.value)
        if name in ("builtins.bytes.fromhex", "builtins.bytearray.fromhex") and args:
            data = self.fold(args[0], scope, depth + 1)
            if data is None or not isinstance(data.value, str):
                return None
            try:
                return Folded(bytes.fromhex(data.value), (*data.chain, "hex"))
            except ValueError:
                return None
        return None

    def _fold_method(
        self, receiver: Folded, method: str, node: ast.Call, scope: Scope, depth: int
    ) -> Folded | None:
        args = node.args
        value = receiver.value
        if method == "join" and len(args) == 1:
            items = self._fold_iterable(args[0], scope, depth + 1)
            if items is None:
                return None
            if any(type(i.value) is not type(value) for i in items):
                return None
            if sum(len(i.value) for i in items) + len(value) * len(items) > MAX_VALUE:
                return None
            chain = (*receiver.chain, *(s for i in items for s in i.chain), "join")
            if isinstance(value, str):
                joined_text = value.join(str(i.value) for i in items)
                return Folded(joined_text, _dedupe(chain))
            return Folded(value.join(bytes(i.value) for i in items), _dedupe(chain))  # type: ignore[arg-type]
        if method == "decode" and isinstance(value, bytes):
            encoding = self.fold(args[0], scope, depth + 1) if args else Folded("utf-8")
            if encoding is None or not isinstance(encoding.value, str):
                return None
            return _codec(receiver, encoding.value)
        if method == "encode" and isinstance(value, str):
            encoding = self.fold(args[0], scope, depth + 1) if args else Folded("utf-8")
            if encoding is None or not isinstance(encoding.value, str):
                return None
            if encoding.value.lower().replace("_", "") in ("rot13",):
                return Folded(codecs.encode(value, "rot13"), (*receiver.chain, "rot13"))
            try:
                return Folded(value.encode(encoding.value), receiver.chain)
            except (LookupError, UnicodeError):
                return None
        if method in ("upper", "lower", "strip", "lstrip", "rstrip") and not args:
            return Folded(getattr(value, method)(), receiver.chain)
        if method == "replace" and len(args) == 2:
            old = self.fold(args[0], scope, depth + 1)
            new = self.fold(args[1], scope, depth + 1)
            if old is None or new is None or type(old.value) is not type(value):
                return None
            if type(new.value) is not type(value) or not old.value:
                return None
            if len(new.value) > len(old.value) and len(value) * len(new.value) > MAX_VALUE:
                return None
            return _capped(value.replace(old.value, new.value), receiver.chain)  # type: ignore[arg-type]
        if method == "format" and isinstance(value, str):
            return self._fold_format(receiver, node, scope, depth)
        return None

    def _fold_iterable(self, node: ast.AST, scope: Scope, depth: int) -> list[Folded] | None:
        if isinstance(node, ast.List | ast.Tuple):
            if len(node.elts) > MAX_ELEMENTS:
                return None
            items = [self.fold(e, scope, depth + 1) for e in node.elts]
            return None if any(i is None for i in items) else items  # type: ignore[return-value]
        # map(chr, [..]) and (chr(c) for c in [..])
        if isinstance(node, ast.Call) and len(node.args) == 2:
            callee = self.resolve(node.func, scope, depth + 1)
            function = self.resolve(node.args[0], scope, depth + 1)
            if callee and function and (callee.name, function.name) == MAP_CHR:
                return _chrs(self._ints(node.args[1]))
            return None
        if isinstance(node, ast.Call) and len(node.args) == 1:
            callee = self.resolve(node.func, scope, depth + 1)
            if callee and callee.name == "builtins.reversed":
                inner = self._fold_iterable(node.args[0], scope, depth + 1)
                if inner is None:
                    return None
                return [Folded(f.value, (*f.chain, "reverse")) for f in reversed(inner)]
        if isinstance(node, ast.GeneratorExp | ast.ListComp) and len(node.generators) == 1:
            gen = node.generators[0]
            elt = node.elt
            if gen.ifs or not isinstance(gen.target, ast.Name) or not isinstance(elt, ast.Call):
                return None
            callee = self.resolve(elt.func, scope, depth + 1)
            if callee is None or callee.name != "builtins.chr" or len(elt.args) != 1:
                return None
            codes = self._ints(gen.iter)
            if codes is None:
                return None
            arg = elt.args[0]
            if isinstance(arg, ast.Name) and arg.id == gen.target.id:
                return _chrs(codes)
            # chr(c ^ key) / chr(c - key): a one-byte cipher over literals
            if (
                isinstance(arg, ast.BinOp)
                and isinstance(arg.left, ast.Name)
                and arg.left.id == gen.target.id
            ):
                key = self.fold_int(arg.right)
                if key is None:
                    return None
                if isinstance(arg.op, ast.BitXor):
                    out = _chrs([c ^ key for c in codes])
                elif isinstance(arg.op, ast.Sub):
                    out = _chrs([c - key for c in codes])
                elif isinstance(arg.op, ast.Add):
                    out = _chrs([c + key for c in codes])
                else:
                    return None
                return [Folded(f.value, (*f.chain, "xor")) for f in out] if out else None
            return None
        if isinstance(node, ast.Name):
            sequence = scope.lookup_sequence(node.id)
            if sequence is not None:
                return sequence
        folded = self.fold(node, scope, depth + 1)
        if folded is not None and isinstance(folded.value, str):
            return [Folded(ch, folded.chain) for ch in folded.value]
        return None

    def _fold_format(
        self, receiver: Folded, node: ast.Call, scope: Scope, depth: int
    ) -> Folded | None:
        template = str(receiver.value)
        positional: list[Folded] = []
        for arg in node.args:
            folded = self._fold_or_int(arg, scope, depth)
            if folded is None:
                return None
            positional.append(folded)
        named: dict[str, Folded] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            folded = self._fold_or_int(keyword.value, scope, depth)
            if folded is None:
                return None
            named[keyword.arg] = folded
        out: list[str] = []
        chain = list(receiver.chain)
        auto = 0
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            return None
        for literal, field_name, spec, conversion in parsed:
            out.append(literal)
            if field_name is None:
                continue
            if spec or conversion:
                return None
            if field_name == "":
                if auto >= len(positional):
                    return None
                piece = positional[auto]
                auto += 1
            elif field_name.isdigit():
                index = int(field_name)
                if index >= len(positional):
                    return None
                piece = positional[index]
            elif field_name in named:
                piece = named[field_name]
            else:
                return None
            if not isinstance(piece.value, str):
                return None
            out.append(piece.value)
            chain.extend(piece.chain)
        return _capped("".join(out), (*chain, "format"))

    def _fold_or_int(self, node: ast.AST, scope: Scope, depth: int) -> Folded | None:
        number = self.fold_int(node)
        if number is not None:
            return Folded(str(number))
        return self.fold(node, scope, depth + 1)


# ---------------------------------------------------------------------- helpers

# Where installed packages live, as far as folding can tell (paths built from
# ``torch.__file__``, ``site.getsitepackages()``, ``sysconfig.get_path("purelib")``).
INSTALLED = "<installed packages>"
_SITE_DIRS = frozenset({"site.getsitepackages", "site.getusersitepackages"})
# Where loaders keep code they import later (defaults; the environment may move them).
_KNOWN_PATHS = {
    "transformers.utils.HF_MODULES_CACHE": "~/.cache/huggingface/modules",
    "transformers.dynamic_module_utils.HF_MODULES_CACHE": "~/.cache/huggingface/modules",
    "transformers.utils.hub.HF_MODULES_CACHE": "~/.cache/huggingface/modules",
    "huggingface_hub.constants.HF_HUB_CACHE": "~/.cache/huggingface/hub",
    "huggingface_hub.constants.HUGGINGFACE_HUB_CACHE": "~/.cache/huggingface/hub",
    "transformers.utils.TRANSFORMERS_CACHE": "~/.cache/huggingface/hub",
}
_PACKAGE_DIRS = frozenset({"purelib", "platlib"})


def _names_something(node: ast.Dict | ast.List | ast.Tuple) -> bool:
    """Whether a literal container holds a name or attribute (a callable it may keep)."""
    values = node.values if isinstance(node, ast.Dict) else node.elts
    return any(type(v) is ast.Name or type(v) is ast.Attribute for v in values[:64])


def _installed_file(name: str) -> Folded | None:
    """``torch.__file__`` -> ``<installed packages>/torch/__init__.py``."""
    module, _, attr = name.rpartition(".")
    if attr != "__file__" or not module or module.startswith("<"):
        return None
    return Folded(f"{INSTALLED}/{module.replace('.', '/')}/__init__.py")


_METHODS = frozenset(
    {"join", "decode", "encode", "upper", "lower", "strip", "lstrip", "rstrip", "replace",
     "format"}
)  # fmt: skip


def _capped(value: Value, chain: tuple[str, ...]) -> Folded | None:
    return Folded(value, _dedupe(chain)) if len(value) <= MAX_VALUE else None


def _dedupe(chain: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for step in chain:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def _concat(parts: list[Folded | None], step: str) -> Folded | None:
    if any(p is None for p in parts) or not parts:
        return None
    values = [p.value for p in parts if p is not None]
    kind = type(values[0])
    if any(type(v) is not kind for v in values):
        return None
    if sum(len(v) for v in values) > MAX_VALUE:
        return None
    chain = [s for p in parts if p is not None for s in p.chain]
    if len(parts) > 1:
        chain.append(step)
    joined: Value = "".join(values) if kind is str else b"".join(values)  # type: ignore[arg-type]
    return _capped(joined, tuple(chain))


def _chrs(codes: list[int] | None) -> list[Folded] | None:
    if codes is None or not all(0 <= c < 0x110000 for c in codes):
        return None
    return [Folded(chr(c), ("chr-sequence",)) for c in codes]


def _bounded_decompress(factory: Callable[[], object], data: bytes) -> bytes | None:
    decompressor = factory()
    try:
        out: bytes = decompressor.decompress(data, MAX_VALUE + 1)  # type: ignore[attr-defined]
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    return out if len(out) <= MAX_VALUE else None


def _zlib(data: bytes) -> bytes | None:
    return _bounded_decompress(lambda: zlib.decompressobj(), data)


def _gzip(data: bytes) -> bytes | None:
    return _bounded_decompress(lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), data)


def _bz2(data: bytes) -> bytes | None:
    return _bounded_decompress(bz2.BZ2Decompressor, data)


def _lzma(data: bytes) -> bytes | None:
    return _bounded_decompress(lzma.LZMADecompressor, data)


def _b64(data: bytes) -> bytes | None:
    return base64.b64decode(data + b"=" * (-len(data) % 4))


def _b64url(data: bytes) -> bytes | None:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


_DECODERS: dict[str, tuple[str, Callable[[bytes], bytes | None]]] = {
    "base64.b64decode": ("base64", _b64),
    "base64.decodebytes": ("base64", _b64),
    "base64.decodestring": ("base64", _b64),
    "base64.standard_b64decode": ("base64", _b64),
    "base64.urlsafe_b64decode": ("base64", _b64url),
    "base64.b32decode": ("base32", base64.b32decode),
    "base64.b16decode": ("base16", lambda d: base64.b16decode(d, casefold=True)),
    "base64.b85decode": ("base85", base64.b85decode),
    "base64.a85decode": ("base85", base64.a85decode),
    "binascii.a2b_base64": ("base64", binascii.a2b_base64),
    "binascii.unhexlify": ("hex", binascii.unhexlify),
    "binascii.a2b_hex": ("hex", binascii.a2b_hex),
    "zlib.decompress": ("zlib", _zlib),
    "gzip.decompress": ("gzip", _gzip),
    "bz2.decompress": ("bz2", _bz2),
    "lzma.decompress": ("lzma", _lzma),
}


def _decode(data: Folded, step: str, function: Callable[[bytes], bytes | None]) -> Folded | None:
    raw = data.value.encode("latin-1", "replace") if isinstance(data.value, str) else data.value
    try:
        out = function(raw)
    except (binascii.Error, ValueError, TypeError):
        return None
    if out is None or len(out) > MAX_VALUE:
        return None
    return Folded(out, (*data.chain, step))


def _codec(data: Folded, encoding: str) -> Folded | None:
    name = encoding.lower().replace("-", "_")
    compact = name.replace("_", "")
    value = data.value
    if compact == "rot13" and isinstance(value, str):
        return Folded(codecs.decode(value, "rot13"), (*data.chain, "rot13"))
    if compact in ("base64", "base64codec"):
        return _decode(data, "base64", _b64)
    if compact in ("hex", "hexcodec"):
        return _decode(data, "hex", binascii.unhexlify)
    if compact in ("zlib", "zip", "zlibcodec"):
        return _decode(data, "zlib", _zlib)
    if compact in ("bz2", "bz2codec"):
        return _decode(data, "bz2", _bz2)
    if compact in ("unicodeescape", "rawunicodeescape") and isinstance(value, bytes):
        try:
            return Folded(value.decode(name), (*data.chain, "unicode-escape"))
        except UnicodeDecodeError:
            return None
    if isinstance(value, bytes) and name.replace("_", "-") in _TEXT_CODECS | {"utf8"}:
        try:
            return Folded(value.decode(name.replace("_", "-")), data.chain)
        except (UnicodeDecodeError, LookupError):
            return None
    if isinstance(value, str) and name.replace("_", "-") in _TEXT_CODECS:
        return Folded(value, data.chain)
    return None
