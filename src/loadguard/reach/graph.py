"""Breadth-first reachability over modules and functions of one snapshot.

A node is a module (its top level runs on import) or a function. Walking a
reached node's own statements (never nested function bodies) emits edges:
imports, references to repo functions and classes (a reference may be a
call or a callback handed to the framework), constructors of instantiated
classes, decorators, ``__init_subclass__`` and metaclasses at class
definition. Each node keeps the witness path of the first edge that reached
it; with a FIFO queue that is a shortest path.
"""

from __future__ import annotations

import ast
import builtins
import posixpath
from collections import deque
from collections.abc import Iterable, Iterator

from ..errors import LoadguardError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import ReachGraph, ReachNode, Scope, Snapshot, Unresolved
from ..pyparse import ParseFailure, parse_python
from .index import (
    Binding,
    ClassInfo,
    FunctionInfo,
    ModuleInfo,
    build_module_info,
    dotted_label,
    dotted_name,
    function_locals,
    import_from_key,
    instance_attributes,
    live_branches,
)
from .values import ClassV, ExternalV, FuncV, InstanceV, ModuleV, SuperV, Value

_BUILTINS = frozenset(dir(builtins))
_MAX_DEPTH = 12  # resolution chains (aliases of aliases) longer than this are given up
_MAX_VALUES = 16

CONSTRUCTORS = ("__new__", "__init__", "__post_init__")
# What transformers calls on a class its config names, in call order (readable witnesses).
HOOK_ORDER = (
    "from_pretrained",
    "_from_pretrained",
    "from_dict",
    "from_config",
    "_from_config",
    "__new__",
    "__init__",
    "__post_init__",
    "post_init",
    "init_weights",
    "_init_weights",
    "tie_weights",
)
# Methods Python itself calls on any live object (truth tests, hashing, printing,
# attribute access, garbage collection): reachable once a class is instantiated.
IMPLICIT_DUNDERS = (
    "__del__",
    "__bool__",
    "__len__",
    "__eq__",
    "__hash__",
    "__iter__",
    "__getitem__",
    "__contains__",
    "__str__",
    "__repr__",
    "__format__",
    "__getattr__",
    "__getattribute__",
    "__setattr__",
    "__delattr__",
    "__set_name__",
    "__get__",
    "__set__",
    "__enter__",
    "__exit__",
)
# What torch / transformers call on module objects while loading (moving devices,
# loading state dicts, initialising weights), for classes with a framework base.
FRAMEWORK_HOOKS = (
    "_apply",
    "to",
    "cuda",
    "cpu",
    "float",
    "half",
    "train",
    "eval",
    "state_dict",
    "load_state_dict",
    "_load_from_state_dict",
    "_save_to_state_dict",
    "named_parameters",
    "parameters",
    "named_buffers",
    "buffers",
    "named_modules",
    "modules",
    "children",
    "named_children",
    "apply",
    "register_buffer",
    "register_parameter",
    "add_module",
    "_init_weights",
    "init_weights",
    "reset_parameters",
    "tie_weights",
    "_tie_weights",
    "__setstate__",
    "__getstate__",
    "__reduce__",
    "__reduce_ex__",
    "__deepcopy__",
    "__copy__",
    "extra_repr",
)
# Decorators known to wrap or register a function without calling it.
INERT_DECORATORS = frozenset(
    {
        "property",
        "cached_property",
        "setter",
        "getter",
        "deleter",
        "staticmethod",
        "classmethod",
        "abstractmethod",
        "abstractproperty",
        "wraps",
        "lru_cache",
        "cache",
        "overload",
        "override",
        "final",
        "dataclass",
        "no_grad",
        "inference_mode",
        "enable_grad",
        "script",
        "ignore",
        "unused",
        "export",
        "contextmanager",
        "asynccontextmanager",
        "total_ordering",
        "singledispatch",
        "singledispatchmethod",
        "register_module",
        "register",
        "deprecated",
        "compile",
        "jit",
        "autocast",
    }
)
# External decorators that call the function they decorate (now or at exit).
CALLING_DECORATORS = frozenset({"atexit.register", "register_at_fork"})
_CODE_RUNNERS = frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec"})
_IMPORTERS = frozenset(
    {"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"}
)
_PATH_LOADERS = frozenset(
    {
        "importlib.util.spec_from_file_location",
        "importlib.machinery.SourceFileLoader",
        "runpy.run_path",
        "imp.load_source",
        "imp.load_module",
    }
)
_DYNAMIC_LOOKUPS = frozenset({"globals", "locals", "vars"})
# Calls that add a folder to sys.path: absolute imports then also resolve in that
# repo folder (``roots``); a folder computed at run time is an unresolved edge.
_PATH_EXTENDERS = frozenset({"sys.path.insert", "sys.path.append", "site.addsitedir"})
# Nodes with nothing to resolve below them.
_LEAVES = frozenset(
    {ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal}
    | {
        t
        for base in (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
        for t in base.__subclasses__()
    }
)
_FIELDS: dict[type, tuple[str, ...]] = {}
_NOT_CHILDREN = frozenset(
    {"ctx", "op", "ops", "name", "id", "attr", "arg", "module", "level", "kind"}
    | {"type_comment", "conversion", "is_async", "lineno", "col_offset"}
)


def _child_fields(kind: type) -> tuple[str, ...]:
    """Fields of a node type that can hold child nodes (not names, not operators)."""
    found = _FIELDS.get(kind)
    if found is None:
        fields = getattr(kind, "_fields", ())
        found = _FIELDS[kind] = tuple(f for f in fields if f not in _NOT_CHILDREN)
    return found


class _Budget(Exception):
    """The node budget is spent."""


class ReachBuilder:
    def __init__(self, snapshot: Snapshot, limits: Limits = DEFAULT_LIMITS) -> None:
        self.snapshot = snapshot
        self.limits = limits
        self.py_files = frozenset(f.path for f in snapshot.files if f.path.endswith(".py"))
        self.dirs = frozenset(d for p in self.py_files for d in _parents(posixpath.dirname(p)) if d)
        self.modules: dict[str, ModuleInfo] = {}
        self.nodes: dict[str, ReachNode] = {}
        self.edges: dict[tuple[str, str], None] = {}
        self.unresolved: dict[tuple[str, int, str], None] = {}
        self.truncated = False
        # repo folders the code puts on sys.path (sys.path.insert(0, <dir>/src)): absolute
        # imports resolve there too, after the root
        self.roots: list[str] = []
        self._queue: deque[str] = deque()
        self._targets: dict[str, tuple[ModuleInfo, FunctionInfo | None]] = {}
        self._fn_by_node: dict[int, FunctionInfo] = {}
        self._cls_by_node: dict[int, ClassInfo] = {}
        self._locals: dict[int, dict[str, list[Binding]]] = {}
        self._lookups: dict[tuple[int, str], list[Value]] = {}
        self._instantiation: dict[int, list[tuple[FunctionInfo, str]]] = {}
        self._attr_owners: dict[int, dict[str, list[ClassInfo]]] = {}
        self._attr_memo: dict[tuple[type, object, str], list[Value]] = {}
        self._module_memo: dict[tuple[str, str], list[Value]] = {}
        self._resolving: set[tuple[int, str]] = set()
        self._cuts = 0  # resolutions cut short (depth, cycles): their results are not memoised
        self._mro: dict[int, tuple[list[ClassInfo], bool]] = {}
        self._inst_attrs: dict[int, dict[str, list[tuple[ast.expr, FunctionInfo]]]] = {}
        self._own_inst_attrs: dict[int, dict[str, list[tuple[ast.expr, FunctionInfo]]]] = {}
        self._subclasses: dict[int, list[ClassInfo]] = {}
        self._methods_by_name: dict[str, list[FunctionInfo]] = {}
        # method names called on receivers of unknown type -> the first node that did;
        # one hub per name keeps edges linear (not sources x methods)
        self._live_names: dict[tuple[str, bool], str] = {}
        self._class_hooks: list[
            tuple[str, frozenset[str], bool]
        ] = []  # trigger, names, all methods

    # ------------------------------------------------------------------ files

    def file_of(self, key: str) -> str | None:
        found = self._file_at(key)
        for root in self.roots if found is None and key else ():
            found = self._file_at(f"{root}/{key}")
            if found is not None:
                break
        return found

    def _file_at(self, key: str) -> str | None:
        for path in (f"{key}.py", f"{key}/__init__.py" if key else "__init__.py"):
            if path in self.py_files:
                return path
        return None

    def in_repo(self, key: str) -> bool:
        # "" is the repo root, the package ``from . import x`` reads from at top level
        return (
            key == ""
            or self.file_of(key) is not None
            or key in self.dirs
            or any(f"{root}/{key}" in self.dirs for root in self.roots)
        )

    def module(self, path: str) -> ModuleInfo:
        info = self.modules.get(path)
        if info is not None:
            return info
        error: str | None = None
        tree: ast.Module | None = None
        try:
            tree = parse_python(self.snapshot.read(path, self.limits.max_text_bytes), path).tree
        except ParseFailure as exc:
            error = f"not analysable ({exc.kind}): {exc}"
        except (OSError, LoadguardError) as exc:
            error = f"unreadable: {exc}"
        try:
            info = build_module_info(path, tree, error)
        except RecursionError:
            info = build_module_info(path, None, "nested too deeply to analyse")
        if info.error:
            self.unresolve(path, 0, f"reach unknown in this file: {info.error}")
        self.modules[path] = info
        for fn in info.functions.values():
            self._fn_by_node[id(fn.node)] = fn
        for cls in info.classes:
            self._cls_by_node[id(cls.node)] = cls
        return info

    # ------------------------------------------------------------------ nodes

    def unresolve(self, path: str, line: int, reason: str) -> None:
        self.unresolved.setdefault((path, line, reason), None)

    def seed_module(self, path: str, trigger: str) -> None:
        if path in self.py_files:
            self._add(None, path, (trigger, path), self.module(path), None)

    def seed_function(self, fn: FunctionInfo, trigger: str) -> None:
        self._add(None, fn.id, (trigger, _label(fn)), fn.module, fn)

    def reach_module(self, src: str, path: str) -> None:
        self._add(src, path, (path,), self.module(path), None)

    def reach_function(self, src: str, fn: FunctionInfo, note: str = "") -> None:
        self._add(src, fn.id, (_label(fn) + note,), fn.module, fn)

    def _add(
        self,
        src: str | None,
        node_id: str,
        steps: tuple[str, ...],
        module: ModuleInfo,
        fn: FunctionInfo | None,
    ) -> None:
        if src is not None and src != node_id:
            self.edges.setdefault((src, node_id), None)
        if node_id in self.nodes:
            return
        if len(self.nodes) >= self.limits.max_reach_nodes:
            self.truncated = True
            raise _Budget
        parent = self.nodes[src].witness if src is not None else ()
        self.nodes[node_id] = ReachNode(
            node_id, module.path, fn.qualname if fn else None, parent + steps
        )
        self._targets[node_id] = (module, fn)
        self._queue.append(node_id)
        if fn is None:
            self._module_reached(node_id, module)

    def _module_reached(self, node_id: str, info: ModuleInfo) -> None:
        """Late edges: name-matched method calls and registry classes in a new module."""
        for cls in info.classes:
            for name, method in cls.methods.items():
                self._methods_by_name.setdefault(name, []).append(method)
                for is_call in (True, False):
                    src = self._live_names.get((name, is_call))
                    if src is not None and (is_call or method.is_property):
                        self.reach_function(src, method, " (by method name)")
            for base in self.mro(cls)[0][1:]:
                self._subclasses.setdefault(id(base), []).append(cls)
                self._attr_memo.clear()
            for trigger, names, all_methods in self._class_hooks:
                if _registered_names(cls) & names:
                    self.seed_class(cls, trigger, all_methods=all_methods)

    def seed_class(self, cls: ClassInfo, trigger: str, *, all_methods: bool) -> None:
        """The framework instantiates ``cls`` (and, for ``all_methods``, may call any method)."""
        mro, external = self.mro(cls)
        names = list((HOOK_ORDER if all_methods else ()) + CONSTRUCTORS + IMPLICIT_DUNDERS)
        names += self.dunders(cls)
        if external:
            names += FRAMEWORK_HOOKS
        if all_methods:
            names += [name for klass in mro for name in klass.methods]
        for name in dict.fromkeys(names):
            for value in self.class_attr(cls, name, 0):
                if isinstance(value, FuncV):
                    self.seed_function(value.fn, trigger)

    def watch_registry(self, trigger: str, names: frozenset[str], *, all_methods: bool) -> None:
        """Seed classes registered or named as ``names`` in modules reached from now on."""
        self._class_hooks.append((trigger, names, all_methods))
        for info in list(self.modules.values()):
            if info.path in self.nodes:
                for cls in info.classes:
                    if _registered_names(cls) & names:
                        self.seed_class(cls, trigger, all_methods=all_methods)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        try:
            while self._queue:
                node_id = self._queue.popleft()
                module, fn = self._targets[node_id]
                if module.tree is None:
                    continue
                body = fn.node.body if fn is not None else module.tree.body
                line = fn.node.lineno if fn else 0
                try:
                    _Walker(self, node_id, module, fn).walk(body)
                except _Budget:
                    raise
                except RecursionError:
                    self.unresolve(module.path, line, "nested too deeply to analyse")
                except Exception as exc:  # a resolver bug must not cost the whole graph
                    self.unresolve(module.path, line, f"reach analysis failed here: {exc!r}")
        except _Budget:
            pass

    def graph(self) -> ReachGraph:
        scopes: list[Scope] = []
        for info in self.modules.values():
            scopes += info.scopes
        return ReachGraph(
            nodes=tuple(self.nodes.values()),
            edges=tuple(e for e in self.edges if e[0] in self.nodes and e[1] in self.nodes),
            scopes=tuple(scopes),
            unresolved=tuple(Unresolved(p, line, r) for p, line, r in self.unresolved),
            truncated=self.truncated,
            precision="function",
        )

    # ------------------------------------------------------------------ resolution

    def locals_of(self, fn: FunctionInfo) -> dict[str, list[Binding]]:
        found = self._locals.get(id(fn))
        if found is None:
            found = function_locals(fn)
            self._locals[id(fn)] = found
        return found

    def lookup(
        self, name: str, module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        if depth > _MAX_DEPTH:
            self._cuts += 1
            return []
        key = (id(fn) if fn is not None else id(module), name)
        cached = self._lookups.get(key)
        if cached is None:
            if key in self._resolving:  # a name defined through itself: cut the cycle
                self._cuts += 1
                return []
            cuts = self._cuts
            self._resolving.add(key)
            try:
                cached = self._lookup(name, module, fn, depth)
            finally:
                self._resolving.discard(key)
            if cuts == self._cuts:
                self._lookups[key] = cached
        return cached

    def _lookup(
        self, name: str, module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        scope = fn
        while scope is not None:
            if scope.owner is not None and name == scope.first_param:
                kind = scope.kind
                if kind == "instance":
                    return [InstanceV(scope.owner)]
                if kind == "class":
                    return [ClassV(scope.owner)]
            if name == "__class__" and scope.owner is not None:
                return [ClassV(scope.owner)]
            bindings = self.locals_of(scope).get(name)
            if bindings is not None:
                return self.resolve_bindings(bindings, module, scope, depth + 1)
            scope = scope.parent
        found = self.module_attr(module, name, depth + 1, seen=set())
        if not found and name in _BUILTINS:
            return [ExternalV(name)]
        return found

    def module_attr(self, module: ModuleInfo, name: str, depth: int, seen: set[str]) -> list[Value]:
        if not seen:  # a fresh query: module-level names resolve the same from every scope
            memo_key = (module.path, name)
            found = self._module_memo.get(memo_key)
            if found is None:
                cuts = self._cuts
                found = self._module_attr(module, name, depth, seen)
                if cuts == self._cuts:  # complete, not cut short by depth or a cycle
                    self._module_memo[memo_key] = found
            return found
        return self._module_attr(module, name, depth, seen)

    def _module_attr(
        self, module: ModuleInfo, name: str, depth: int, seen: set[str]
    ) -> list[Value]:
        if module.path in seen or depth > _MAX_DEPTH:
            self._cuts += 1
            return []
        seen.add(module.path)
        bindings = module.bindings.get(name)
        if bindings is not None:
            return self.resolve_bindings(bindings, module, None, depth + 1)
        for star in module.stars:
            path = self.file_of(star)
            if path is not None:
                found = self.module_attr(self.module(path), name, depth + 1, seen)
                if found:
                    return found
        return []

    def resolve_bindings(
        self, bindings: Iterable[Binding], module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        values: list[Value] = []
        for binding in bindings:
            values += self.resolve_binding(binding, module, fn, depth)
            if len(values) >= _MAX_VALUES:
                break
        return _unique(values)

    def resolve_binding(
        self, binding: Binding, module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        kind = binding[0]
        if kind == "function":
            target = binding[1]
            return [FuncV(target)] if isinstance(target, FunctionInfo) else []
        if kind == "class":
            target = binding[1]
            return [ClassV(target)] if isinstance(target, ClassInfo) else []
        if kind == "module":
            key = str(binding[1])
            return [ModuleV(key)] if self.in_repo(key) else [ExternalV(key.replace("/", "."))]
        if kind == "from":
            return self.attr_of_key(str(binding[1]), str(binding[2]), depth)
        if kind == "value":
            expr = binding[1]
            return self.eval(expr, module, fn, depth) if isinstance(expr, ast.expr) else []
        return []

    def attr_of_key(self, key: str, name: str, depth: int) -> list[Value]:
        if not self.in_repo(key):
            dotted = key.replace("/", ".")
            return [ExternalV(f"{dotted}.{name}" if dotted else name)]
        path = self.file_of(key)
        if path is not None:
            found = self.module_attr(self.module(path), name, depth + 1, seen=set())
            if found:
                return found
        sub = posixpath.join(key, name) if key else name
        if self.in_repo(sub):
            return [ModuleV(sub)]
        return []

    def eval(
        self, expr: ast.expr, module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        """What ``expr`` may evaluate to, as far as the repo's own code tells."""
        if depth > _MAX_DEPTH:
            self._cuts += 1
            return []
        if isinstance(expr, ast.Name):
            return self.lookup(expr.id, module, fn, depth + 1)
        if isinstance(expr, ast.Attribute):
            found: list[Value] = []
            for base in self.eval(expr.value, module, fn, depth + 1):
                found += self.get_attr(base, expr.attr, depth + 1)
            return _unique(found)
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name) and func.id == "super" and fn is not None:
                owner = _owner_of(fn)
                return [SuperV(owner)] if owner is not None else []
            results: list[Value] = []
            for value in self.eval(func, module, fn, depth + 1):
                if isinstance(value, ClassV):
                    results.append(InstanceV(value.cls))
                elif isinstance(value, ExternalV):
                    if value.name in _IMPORTERS and expr.args:
                        name = fold(expr.args[0], self, module, fn)
                        key = self.import_key(name, module, expr) if name else None
                        if key is not None and self.in_repo(key):
                            results.append(ModuleV(key))
                            continue
                    if value.name == "getattr" and len(expr.args) >= 2:
                        attr = fold(expr.args[1], self, module, fn)
                        if attr is not None:  # getattr(x, "name") is x.name
                            for base in self.eval(expr.args[0], module, fn, depth + 1):
                                results += self.get_attr(base, attr, depth + 1)
                            continue
                    results.append(ExternalV(value.name + "()"))
            return results
        if isinstance(expr, ast.Subscript):
            return self._namespace_item(expr, module, fn, depth)
        if isinstance(expr, (ast.IfExp,)):
            return self.eval(expr.body, module, fn, depth + 1) + self.eval(
                expr.orelse, module, fn, depth + 1
            )
        if isinstance(expr, ast.BoolOp):
            out: list[Value] = []
            for item in expr.values:
                out += self.eval(item, module, fn, depth + 1)
            return out
        if isinstance(expr, (ast.Constant, ast.JoinedStr, ast.List, ast.Tuple, ast.Dict, ast.Set)):
            return [ExternalV(type(expr).__name__.lower())]
        if isinstance(expr, (ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp)):
            return [ExternalV("comprehension")]
        return []

    def _namespace_item(
        self, expr: ast.Subscript, module: ModuleInfo, fn: FunctionInfo | None, depth: int
    ) -> list[Value]:
        """``globals()["f"]``, ``vars(m)["f"]``, ``m.__dict__["f"]``, ``sys.modules[__name__]``."""
        base = expr.value
        if (
            isinstance(expr.slice, ast.Name)
            and expr.slice.id == "__name__"
            and dotted_name(base) == "sys.modules"
        ):
            return [ModuleV(module.key)]  # the running module itself
        key = fold(expr.slice, self, module, fn)
        if key is None:
            return []
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name):
            if base.func.id in _DYNAMIC_LOOKUPS and not base.args:
                return self.lookup(key, module, fn, depth + 1)
            if base.func.id == "vars" and len(base.args) == 1:
                owners = self.eval(base.args[0], module, fn, depth + 1)
                return _unique([v for o in owners for v in self.get_attr(o, key, depth + 1)])
            return []
        if isinstance(base, ast.Attribute) and base.attr == "__dict__":
            owners = self.eval(base.value, module, fn, depth + 1)
            return _unique([v for o in owners for v in self.get_attr(o, key, depth + 1)])
        if dotted_name(base) == "sys.modules":
            repo_key = key.replace(".", "/")
            return [ModuleV(repo_key)] if self.in_repo(repo_key) else []
        return []

    def get_attr(self, value: Value, name: str, depth: int) -> list[Value]:
        if isinstance(value, ExternalV):
            return [ExternalV(f"{value.name}.{name}")]
        # resolution is static; only subclass overrides grow as modules load
        # (the memo is dropped then, in _module_reached)
        memo_key = (type(value), _identity(value), name)
        found = self._attr_memo.get(memo_key)
        if found is None:
            cuts = self._cuts
            found = self._get_attr(value, name, depth)
            if cuts == self._cuts:
                self._attr_memo[memo_key] = found
        return found

    def _get_attr(self, value: Value, name: str, depth: int) -> list[Value]:
        if isinstance(value, ModuleV):
            return self.attr_of_key(value.key, name, depth + 1)
        if isinstance(value, ClassV):
            return self.class_attr(value.cls, name, depth + 1)
        if isinstance(value, InstanceV):
            found = self.class_attr(value.cls, name, depth + 1)
            if not found:
                for expr, method in self.instance_attrs(value.cls).get(name, ()):
                    found += self.eval(expr, method.module, method, depth + 1)
            # dynamic dispatch: ``self.x()`` may run a subclass override
            for sub in self._subclasses.get(id(value.cls), ()):
                if name in sub.methods:
                    found.append(FuncV(sub.methods[name]))
            return _unique(found)
        if isinstance(value, SuperV):
            mro, _ = self.mro(value.cls)
            for klass in mro[1:]:
                found = self._own_attr(klass, name, depth + 1)
                if found:
                    return found
            return []
        if isinstance(value, ExternalV):
            return [ExternalV(f"{value.name}.{name}")]
        return []

    def class_attr(self, cls: ClassInfo, name: str, depth: int) -> list[Value]:
        owners = self._attr_owners.get(id(cls))
        if owners is None:  # name -> in-repo classes defining it, in MRO order
            owners = {}
            for klass in self.mro(cls)[0]:
                for own in (klass.methods, klass.nested, klass.attrs):
                    for key in own:
                        owners.setdefault(key, [])
                        if klass not in owners[key]:
                            owners[key].append(klass)
            self._attr_owners[id(cls)] = owners
        for klass in owners.get(name, ()):
            found = self._own_attr(klass, name, depth)
            if found:
                return found
        return []

    def _own_attr(self, cls: ClassInfo, name: str, depth: int) -> list[Value]:
        if name in cls.methods:
            return [FuncV(cls.methods[name])]
        if name in cls.nested:
            return [ClassV(cls.nested[name])]
        if name in cls.attrs and depth <= _MAX_DEPTH:
            values: list[Value] = []
            for expr in cls.attrs[name]:
                values += self.eval(expr, cls.module, cls.parent, depth + 1)
            return values
        return []

    def instance_attrs(self, cls: ClassInfo) -> dict[str, list[tuple[ast.expr, FunctionInfo]]]:
        found = self._inst_attrs.get(id(cls))
        if found is None:
            found = {}
            for klass in self.mro(cls)[0]:
                own = self._own_inst_attrs.get(id(klass))
                if own is None:
                    own = self._own_inst_attrs[id(klass)] = instance_attributes(klass)
                for name, items in own.items():
                    found.setdefault(name, []).extend(items)
            self._inst_attrs[id(cls)] = found
        return found

    def mro(self, cls: ClassInfo) -> tuple[list[ClassInfo], bool]:
        """In-repo classes in lookup order, and whether a base comes from outside the repo."""
        cached = self._mro.get(id(cls))
        if cached is not None:
            return cached
        self._mro[id(cls)] = ([cls], False)  # cycle guard
        order: list[ClassInfo] = [cls]
        external = False
        for base in cls.node.bases:
            values = self.eval(base, cls.module, cls.parent, 0)
            if not values:
                external = True  # unresolvable base: assume the framework's
            for value in values:
                if isinstance(value, ClassV):
                    sub, ext = self.mro(value.cls)
                    external = external or ext
                    order += [c for c in sub if c not in order]
                elif not (isinstance(value, ExternalV) and value.name == "object"):
                    external = True
        result = (order, external)
        self._mro[id(cls)] = result
        return result

    def dunders(self, cls: ClassInfo) -> tuple[str, ...]:
        """Special methods the classes of ``cls``'s MRO define: operators, conversions,
        ``__call__``, ``__fspath__``, ``__missing__`` ... Python calls them on a live
        object without a call site naming them."""
        names: dict[str, None] = {}
        for klass in self.mro(cls)[0]:
            for name in klass.methods:
                if len(name) > 4 and name.startswith("__") and name.endswith("__"):
                    names.setdefault(name, None)
        return tuple(names)

    def metaclasses(self, cls: ClassInfo) -> list[ClassInfo]:
        found: list[ClassInfo] = []
        for klass in self.mro(cls)[0]:
            for keyword in klass.node.keywords:
                if keyword.arg == "metaclass":
                    for value in self.eval(keyword.value, klass.module, klass.parent, 0):
                        if isinstance(value, ClassV) and value.cls not in found:
                            found.append(value.cls)
        return found

    def import_key(self, name: str, module: ModuleInfo, call: ast.Call | None = None) -> str | None:
        """Module key of a dotted name given to ``import_module`` (relative: leading dots)."""
        if not name or name.endswith(".") or "/" in name:
            return None
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            package = module.package
            if call is not None:
                for keyword in call.keywords:
                    if keyword.arg == "package":
                        folded = fold(keyword.value, self, module, None)
                        if folded is not None:
                            package = folded.replace(".", "/")
                if len(call.args) > 1:
                    folded = fold(call.args[1], self, module, None)
                    if folded is not None:
                        package = folded.replace(".", "/")
            stmt = ast.ImportFrom(module=name.lstrip(".") or None, names=[], level=level)
            fake = ModuleInfo(module.path, module.key, package, None)
            return import_from_key(fake, stmt)
        return name.replace(".", "/")

    def reach_import(self, src: str, key: str) -> None:
        """Importing ``key`` runs its parent packages' ``__init__`` then the module itself."""
        parts = key.split("/") if key else []
        for i in range(1, len(parts) + 1):
            path = self.file_of("/".join(parts[:i]))
            if path is not None:
                self.reach_module(src, path)

    def instantiation(self, cls: ClassInfo) -> list[tuple[FunctionInfo, str]]:
        """What creating an instance of ``cls`` runs (and Python or the framework then calls)."""
        found = self._instantiation.get(id(cls))
        if found is None:
            _mro, external = self.mro(cls)
            names = CONSTRUCTORS + IMPLICIT_DUNDERS + (FRAMEWORK_HOOKS if external else ())
            names += tuple(n for n in self.dunders(cls) if n not in names)
            found = []
            for name in names:
                found += [(v.fn, "") for v in self.class_attr(cls, name, 0) if isinstance(v, FuncV)]
            for meta in self.metaclasses(cls):
                for value in self.class_attr(meta, "__call__", 0):
                    if isinstance(value, FuncV):
                        found.append((value.fn, " (metaclass)"))
            self._instantiation[id(cls)] = found
        return found

    def name_match(self, src: str, name: str, is_call: bool) -> None:
        """A call on a receiver of unknown type: every repo method of that name may run."""
        if (name, is_call) in self._live_names:
            return  # reached already from an earlier caller (that witness is as short)
        self._live_names[(name, is_call)] = src
        for method in list(self._methods_by_name.get(name, ())):
            if is_call or method.is_property:
                self.reach_function(src, method, " (by method name)")


# --------------------------------------------------------------------------- walking


class _Walker:
    """Emits the edges of one node's own statements."""

    def __init__(
        self, builder: ReachBuilder, node_id: str, module: ModuleInfo, fn: FunctionInfo | None
    ) -> None:
        self.b = builder
        self.src = node_id
        self.module = module
        self.fn = fn
        self._done: dict[tuple[str, bool, bool], list[Value]] = {}

    def eval(self, expr: ast.expr) -> list[Value]:
        return self.b.eval(expr, self.module, self.fn, 0)

    def walk(self, body: list[ast.stmt]) -> None:
        # Hot loop: exact type tests, most frequent node types first.
        stack: list[ast.AST] = list(reversed(body))
        load = ast.Load
        done = self._done
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is load and (node.id, False, False) not in done:  # type: ignore[attr-defined]
                    self.reference(node, is_call=False)  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                if type(node.ctx) is load:  # type: ignore[attr-defined]
                    stack += self.reference(node, is_call=False)[0]  # type: ignore[arg-type]
                else:
                    stack.append(node.value)  # type: ignore[attr-defined]
            elif kind is ast.Call:
                stack += self.call(node)  # type: ignore[arg-type]
            elif kind in _LEAVES:
                continue
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                stack += self.definition(node)  # type: ignore[arg-type]
            elif kind is ast.ClassDef:
                stack += self.class_definition(node)  # type: ignore[arg-type]
            elif kind is ast.If or kind is ast.While:
                live, _dead = live_branches(node)  # type: ignore[arg-type]
                stack += reversed(live)
                stack.append(node.test)  # type: ignore[attr-defined]
            elif kind is ast.Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    self.b.reach_import(self.src, alias.name.replace(".", "/"))
            elif kind is ast.ImportFrom:
                self.import_from(node)  # type: ignore[arg-type]
            else:
                for name in _child_fields(kind):
                    child = getattr(node, name, None)
                    if type(child) is list:
                        stack += [c for c in child if c is not None]
                    elif child is not None:
                        stack.append(child)

    # -- definitions

    def definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
        """A ``def`` runs its decorators, defaults and annotations now, its body later."""
        header: list[ast.AST] = list(node.decorator_list)
        header += [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        fn = self.b._fn_by_node.get(id(node))
        if (
            fn is not None
            and fn.owner is None
            and fn.parent is None
            and node.name in ("__getattr__", "__dir__")  # PEP 562: module attribute hooks
        ):
            self.b.reach_function(self.src, fn, " (module attribute hook)")
        if fn is not None and node.decorator_list:
            calling = [d for d in node.decorator_list if self.decorator_may_call(d)]
            if calling:
                note = f" (decorated by @{dotted_name(calling[0])})"
                self.b.reach_function(self.src, fn, note)
        return header

    def decorator_may_call(self, decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = dotted_name(target)
        values = self.eval(target)
        if not values:
            return name.rsplit(".", 1)[-1] not in INERT_DECORATORS
        for value in values:
            if isinstance(value, (FuncV, ClassV, InstanceV)):
                return True  # repo code receives the function: it may call it
            if isinstance(value, ExternalV) and value.name in CALLING_DECORATORS:
                return True
        return False

    def class_definition(self, node: ast.ClassDef) -> list[ast.AST]:
        """A ``class`` statement runs its bases, decorators and body now, and hooks of its bases."""
        cls = self.b._cls_by_node.get(id(node))
        todo: list[ast.AST] = list(node.decorator_list)
        todo += [k.value for k in node.keywords if k.arg != "metaclass"]
        todo += [b for b in node.bases if not isinstance(b, (ast.Name, ast.Attribute))]
        if cls is not None:
            mro, _ = self.b.mro(cls)
            for base in mro[1:]:
                if "__init_subclass__" in base.methods:
                    self.b.reach_function(
                        self.src, base.methods["__init_subclass__"], " (subclassed)"
                    )
                    break
            for meta in self.b.metaclasses(cls):
                # the class object is an instance of its metaclass: any special method
                # of the metaclass (__getitem__, __instancecheck__ ...) may run on it
                names = ("__prepare__", "__new__", "__init__", "__call__", *self.b.dunders(meta))
                for name in dict.fromkeys(names):
                    for value in self.b.class_attr(meta, name, 0):
                        if isinstance(value, FuncV):
                            self.b.reach_function(self.src, value.fn, " (metaclass)")
            if "__class_getitem__" in cls.methods:  # Cls[...] in an annotation or alias
                self.b.reach_function(self.src, cls.methods["__class_getitem__"], " (class hook)")
        return todo + list(reversed(node.body))

    # -- imports

    def import_from(self, node: ast.ImportFrom) -> None:
        key = import_from_key(self.module, node)
        if key is None:
            return
        if node.level and node.module and "." in node.module:  # transformers' a.b.py rule
            parent = key[: len(key) - len(node.module)].rstrip("/")
            literal = posixpath.join(parent, node.module) if parent else node.module
            path = f"{literal}.py"
            if path in self.b.py_files:
                self.b.reach_module(self.src, path)
        self.b.reach_import(self.src, key)
        for alias in node.names:
            if alias.name == "*":
                continue
            sub = posixpath.join(key, alias.name) if key else alias.name
            sub_path = self.b.file_of(sub)
            if sub_path is not None:
                self.b.reach_module(self.src, sub_path)

    # -- references and calls

    def reference(
        self, node: ast.Name | ast.Attribute, *, is_call: bool, intermediate: bool = False
    ) -> tuple[list[ast.AST], list[Value]]:
        """Edges for a name or attribute chain: (sub-expressions still to walk, its values).

        A plain load runs property getters and hands out functions and classes
        that may be called later (callbacks), so it counts like a call; the
        inner links of a chain (``a.b`` in ``a.b.c``) only run properties.
        """
        key = node.id if type(node) is ast.Name else _chain_key(node)
        if key is not None:
            memo = (key, is_call, intermediate)
            done = self._done.get(memo)
            if done is not None:
                return [], done  # same chain in the same scope: same edges, already emitted
            found = self._reference(node, is_call=is_call, intermediate=intermediate)
            self._done[memo] = found[1]
            return found
        return self._reference(node, is_call=is_call, intermediate=intermediate)

    def _reference(
        self, node: ast.Name | ast.Attribute, *, is_call: bool, intermediate: bool
    ) -> tuple[list[ast.AST], list[Value]]:
        if isinstance(node, ast.Name):
            named = self.b.lookup(node.id, self.module, self.fn, 0)
            if not intermediate:
                self.emit(named, is_call=is_call)
            return [], named
        receiver = node.value
        rest: list[ast.AST] = []
        receiver_values: list[Value]
        if isinstance(receiver, (ast.Attribute, ast.Name)):
            rest, receiver_values = self.reference(receiver, is_call=False, intermediate=True)
        else:
            rest.append(receiver)
            receiver_values = self.eval(receiver)
        if not receiver_values:
            self.b.name_match(self.src, node.attr, is_call and not intermediate)
            return rest, []
        values: list[Value] = []
        for value in receiver_values:
            values += self.b.get_attr(value, node.attr, 0)
        if intermediate:
            self.emit(
                [v for v in values if isinstance(v, FuncV) and v.fn.is_property], is_call=False
            )
        else:
            self.emit(values, is_call=is_call)
        return rest, values

    def emit(self, values: list[Value], *, is_call: bool) -> None:
        for value in values:
            if isinstance(value, FuncV):
                self.b.reach_function(self.src, value.fn)
            elif isinstance(value, ClassV):
                self.instantiate(value.cls)
            elif isinstance(value, InstanceV) and is_call:
                for name in ("__call__", "forward"):
                    for target in self.b.class_attr(value.cls, name, 0):
                        if isinstance(target, FuncV):
                            self.b.reach_function(self.src, target.fn, " (instance called)")

    def instantiate(self, cls: ClassInfo) -> None:
        for fn, note in self.b.instantiation(cls):
            self.b.reach_function(self.src, fn, note)

    def call(self, node: ast.Call) -> list[ast.AST]:
        rest: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
        func = node.func
        if isinstance(func, ast.Name) and func.id == "super":
            return rest
        if isinstance(func, (ast.Name, ast.Attribute)):
            more, values = self.reference(func, is_call=True)
            rest += more
        else:
            self.dynamic_callee(node)
            rest.append(func)
            values = self.eval(func)
            self.emit(values, is_call=True)
        for value in values:
            if isinstance(value, ExternalV):
                self.external_call(value.name, node)
        return rest

    def dynamic_callee(self, node: ast.Call) -> None:
        """Calls whose target is computed at run time: say so rather than guess."""
        func = node.func
        if (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Name)
            and func.func.id == "getattr"
        ):
            if len(func.args) >= 2 and fold(func.args[1], self.b, self.module, self.fn) is None:
                self.b.unresolve(
                    self.module.path, node.lineno, "call through getattr with a non-constant name"
                )
        elif isinstance(func, ast.Subscript):
            inner = func.value
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in _DYNAMIC_LOOKUPS
                and fold(func.slice, self.b, self.module, self.fn) is None
            ):
                self.b.unresolve(
                    self.module.path, node.lineno, f"call through {inner.func.id}()[...] lookup"
                )

    def external_call(self, name: str, node: ast.Call) -> None:
        path, line = self.module.path, node.lineno
        if name in _CODE_RUNNERS:
            if not node.args:
                return
            code = fold(node.args[0], self.b, self.module, self.fn)
            if code is None:
                self.b.unresolve(path, line, f"{name}() of code computed at run time")
                return
            try:
                tree = parse_python(code.encode("utf-8", "surrogateescape"), path).tree
            except ParseFailure:
                return
            self.walk(tree.body)  # constant code runs in this scope: analyse it here
        elif name in _IMPORTERS:
            if not node.args:
                return
            target = fold(node.args[0], self.b, self.module, self.fn)
            key = self.b.import_key(target, self.module, node) if target else None
            if key is None:
                self.b.unresolve(path, line, f"{name}() of a module name computed at run time")
            elif self.b.in_repo(key):
                self.b.reach_import(self.src, key)
        elif name in _PATH_LOADERS:
            arg = (
                node.args[1]
                if name.endswith("spec_from_file_location") and len(node.args) > 1
                else None
            )
            if arg is None and node.args:
                arg = node.args[-1] if name.startswith("imp.") else node.args[0]
            for keyword in node.keywords:
                if keyword.arg in ("location", "path", "pathname", "path_name"):
                    arg = keyword.value
            target = fold(arg, self.b, self.module, self.fn) if arg is not None else None
            file = _repo_file(target, self.module.path, self.b.py_files) if target else None
            if file is None:
                self.b.unresolve(
                    path, line, f"{name}() loads code from a path outside the analysis"
                )
            else:
                self.b.reach_module(self.src, file)
        elif name in _PATH_EXTENDERS and node.args:
            target = fold(node.args[-1], self.b, self.module, self.fn)
            folder = posixpath.normpath(target) if target is not None else None
            if folder is None:
                self.b.unresolve(
                    path,
                    line,
                    f"{name}() adds a folder computed at run time: absolute imports may "
                    "load repo files from it",
                )
            elif folder in self.b.dirs and folder not in self.b.roots:
                self.b.roots.append(folder)
        elif name == "getattr" and len(node.args) >= 2:
            attr = fold(node.args[1], self.b, self.module, self.fn)
            receivers = self.eval(node.args[0])
            if attr is not None:  # getattr(x, "name") is x.name: a reference
                found = [v for r in receivers for v in self.b.get_attr(r, attr, 0)]
                self.emit(found, is_call=False)
                if not receivers:
                    self.b.name_match(self.src, attr, True)
                return
            if any(isinstance(v, (ModuleV, ClassV, InstanceV)) for v in receivers):
                self.b.unresolve(path, line, "getattr with a non-constant name on repo code")


# --------------------------------------------------------------------------- helpers


def fold(
    expr: ast.expr | None,
    builder: ReachBuilder,
    module: ModuleInfo,
    fn: FunctionInfo | None,
    depth: int = 0,
) -> str | None:
    """The string an expression always evaluates to, when constant folding can tell."""
    if expr is None or depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left = fold(expr.left, builder, module, fn, depth + 1)
        right = fold(expr.right, builder, module, fn, depth + 1) if left is not None else None
        return left + right if left is not None and right is not None else None
    if isinstance(expr, ast.JoinedStr):
        parts: list[str] = []
        for value in expr.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion not in (-1, 115):
                    return None
                inner = fold(value.value, builder, module, fn, depth + 1)
            else:
                inner = fold(value, builder, module, fn, depth + 1)
            if inner is None:
                return None
            parts.append(inner)
        return "".join(parts)
    if isinstance(expr, ast.Name):
        if expr.id == "__file__":
            return module.path
        if expr.id == "__name__" or expr.id == "__package__":
            return None
        bindings = _name_bindings(builder, expr.id, module, fn)
        if bindings is None or len(bindings) != 1 or bindings[0][0] != "value":
            return None
        bound = bindings[0][1]
        return fold(bound, builder, module, fn, depth + 1) if isinstance(bound, ast.expr) else None
    if isinstance(expr, ast.Call):
        func = expr.func
        name = dotted_name(func)
        args = [fold(a, builder, module, fn, depth + 1) for a in expr.args]
        if isinstance(func, ast.Attribute) and func.attr == "join" and name.endswith("path.join"):
            if args and all(a is not None for a in args):
                return posixpath.join(*[a for a in args if a is not None])
            return None
        if isinstance(func, ast.Attribute) and name.rsplit(".", 1)[-1] in (
            "dirname",
            "abspath",
            "realpath",
            "normpath",
        ):
            if len(args) == 1 and args[0] is not None:
                return posixpath.dirname(args[0]) if func.attr == "dirname" else args[0]
            return None
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(expr.args) == 1:
            sep = fold(func.value, builder, module, fn, depth + 1)
            items = expr.args[0]
            if sep is not None and isinstance(items, (ast.List, ast.Tuple)):
                folded = [fold(e, builder, module, fn, depth + 1) for e in items.elts]
                if all(f is not None for f in folded):
                    return sep.join(f for f in folded if f is not None)
            return None
        if isinstance(func, ast.Name) and func.id == "str" and len(args) == 1:
            return args[0]
    return None


def _name_bindings(
    builder: ReachBuilder, name: str, module: ModuleInfo, fn: FunctionInfo | None
) -> list[Binding] | None:
    scope = fn
    while scope is not None:
        found = builder.locals_of(scope).get(name)
        if found is not None:
            return found
        scope = scope.parent
    return module.bindings.get(name)


def _repo_file(target: str, importer: str, py_files: frozenset[str]) -> str | None:
    if target.startswith("/"):
        return None
    for candidate in (
        posixpath.normpath(target),
        posixpath.normpath(posixpath.join(posixpath.dirname(importer), target)),
    ):
        if candidate in py_files:
            return candidate
    return None


def _registered_names(cls: ClassInfo) -> frozenset[str]:
    """Names a registry knows ``cls`` by: its own, and ``name=``/``module_name=`` of a decorator."""
    names = {cls.name}
    for decorator in cls.node.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg in ("name", "module_name") and isinstance(
                    keyword.value, ast.Constant
                ):
                    names.add(str(keyword.value.value))
    return frozenset(names)


def _identity(value: Value) -> object:
    if isinstance(value, ModuleV):
        return value.key
    if isinstance(value, ExternalV):
        return value.name
    if isinstance(value, FuncV):
        return id(value.fn)
    return id(value.cls)


def _chain_key(node: ast.expr) -> str | None:
    """``a.b.c`` for a pure name/attribute chain, else ``None``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _owner_of(fn: FunctionInfo) -> ClassInfo | None:
    scope: FunctionInfo | None = fn
    while scope is not None:
        if scope.owner is not None:
            return scope.owner
        scope = scope.parent
    return None


def _label(fn: FunctionInfo) -> str:
    return f"{dotted_label(fn.path)}.{fn.qualname}"


def _parents(folder: str) -> Iterator[str]:
    while folder:
        yield folder
        parent = posixpath.dirname(folder)
        if parent == folder:  # "/" (a snapshot path may be absolute): stop, not spin
            return
        folder = parent


def _unique(values: list[Value]) -> list[Value]:
    seen: set[object] = set()
    out: list[Value] = []
    for value in values:
        key: object
        if isinstance(value, ExternalV):
            key = ("ext", value.name)
        elif isinstance(value, ModuleV):
            key = ("mod", value.key)
        elif isinstance(value, FuncV):
            key = ("fn", id(value.fn))
        else:
            key = (type(value).__name__, id(value.cls))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out[:_MAX_VALUES]
