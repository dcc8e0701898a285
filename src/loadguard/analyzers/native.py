"""The native analyzer: one AST walk per file, rules from ``loadguard.rules.native_rules``.

The walk is iterative (10k-deep expressions do not recurse) and visits each
node once. Names are resolved through the module's imports and assignments
and literal expressions are folded first (``deobfuscate``), so
``getattr(__import__('o'+'s'), 'sys'+'tem')(c)`` is judged as ``os.system(c)``.
Strings that decode to Python are analysed as code of their own; their
findings carry the decoding chain as evidence and sit on the outer line.
A small intraprocedural taint pass follows names assigned from network
fetches into ``exec``, deserializers and code files.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..model import Confidence, FileEntry, FileKind, Finding, Location, ScanError, Severity
from ..pyparse import ParseFailure, parse_python
from ..rules import native_rules as R
from .base import AnalysisContext, AnalyzerOutput
from .deobfuscate import INSTALLED, Deobfuscator, Folded, Resolved, Scope

ANALYZER = "native"
MAX_PAYLOAD_CHARS = 256 * 1024
MAX_PAYLOAD_DEPTH = 3
MAX_PAYLOADS = 64
MAX_TAINT_NODES = 400

# Files that mention none of these cannot fetch anything: skip the taint pass.
_FETCH_IMPORT = re.compile(
    r"(?m)^[ \t]*(?:import|from)[ \t][^\n]*\b(?:requests|urllib|urllib2|urllib3|httpx|socket"
    r"|http|aiohttp|pycurl|wget|huggingface_hub|ftplib|torch\.hub)\b"
)
_FETCH_WORDS = (
    "urlopen",
    "urlretrieve",
    "hf_hub_download",
    "__import__",
    "import_module",
    "download_url_to_file",
    "load_state_dict_from_url",
)


def _fetchy(text: str) -> bool:
    """Whether a module may fetch data (taint tracking is worth it).

    Substring tests first: one regex with these words as top-level
    alternatives tried them at every position and cost 0.5 ms per file.
    """
    return any(word in text for word in _FETCH_WORDS) or _FETCH_IMPORT.search(text) is not None


# Literal anchors, one of which every string pattern below needs; the precise
# patterns (slow alternations) run only on strings that contain one.
_STRING_HINT = re.compile(
    r"aws|ssh|netrc|huggingface|credentials|docker|kube|pypirc|gcloud|azure|npmrc|gnupg|shadow"
    r"|Login Data|firefox|wallet|_history|169\.254|metadata\.|100\.100\.100|fd00:ec2|bash|zsh"
    r"|profile|cshrc|fish|customize|cron|systemd|authorized_keys|autostart|preload|rc\.local"
    r"|LaunchAgents|init\.d|CurrentVersion|-packages|ipython|jupyter|gitconfig|git/hooks|pip\.conf"
    r"|pip\.ini|pydistutils|condarc|sudoers|/etc/environment|cgroup|TracerPid|/proc/self|VBOX|VirtualBox"
    r"|VMware|vmware|QEMU|qemu|KVM|Xen|hypervisor|/sys/class/dmi|sandboxie|wireshark|dbg"
    r"|GITHUB_ACTIONS|GITLAB_CI|JENKINS_URL|TRAVIS|BUILDKITE|CIRCLECI"
)
_CODE_SUFFIX = re.compile(r"\.(py|pyc|pth|so|sh|bash|pyd|dll|dylib)$")
_SAFE_WRITE_ROOTS = ("/tmp", "/dev/null", "/dev/shm", "/dev/stdout", "/dev/stderr", "~/.cache")
_DANGEROUS = (
    frozenset(R.CALL_RULES)
    | R.SUBPROCESS_CALLS
    | R.EXEC_CALLS
    | R.EVAL_CALLS
    | R.COMPILE_CALLS
    | R.DYNAMIC_IMPORT_CALLS
    | R.NETWORK_CALLS
    | R.DESERIALIZE_SINKS
    | R.TORCH_LOAD
)
_SENSITIVE_MODULES = frozenset({"os", "subprocess", "builtins", "pty", "pickle", "marshal"})
_ENV_READS = frozenset({"os.getenv", "os.environ.get", "os.environ.pop", "os.getenvb"})
_ENV_WRITES = frozenset({"os.putenv", "os.environ.setdefault"})
_DUMPERS = frozenset(
    {"json.dumps", "json.dump", "builtins.str", "builtins.repr", "builtins.print", "pickle.dumps",
     "base64.b64encode", "yaml.dump", "pprint.pprint", "pprint.pformat"}
)  # fmt: skip
_OPENERS = frozenset({"builtins.open", "io.open", "codecs.open", "os.open"})
_STAR_TABLE = frozenset(
    name for name in _DANGEROUS if name.count(".") == 1 and not name.startswith("builtins.")
)


def _star_names(module: str, name: str) -> bool:
    return f"{module}.{name}" in _STAR_TABLE


@dataclass
class _Origin:
    """Where a decoded payload sits in the outer file."""

    line: int
    column: int
    snippet: str
    chain: tuple[str, ...]
    decoded: bool


@dataclass
class _Shared:
    """State of one file's analysis, shared by the scans of its decoded payloads."""

    path: str
    findings: dict[tuple[str, int], Finding] = field(default_factory=dict)
    payloads_seen: set[int] = field(default_factory=set)
    scopes: list[Scope] = field(default_factory=list)
    credential_line: int | None = None  # a credential file or the whole environment is read
    egress_line: int | None = None
    downloaded: set[str] = field(default_factory=set)  # paths a download wrote to
    native_handles: set[str] = field(default_factory=set)  # names bound to ctypes libraries


class NativeAnalyzer:
    name = ANALYZER
    version = "1"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        return kind is FileKind.PYTHON

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        try:
            parsed = ctx.parse(entry.path)
        except ParseFailure as exc:
            return AnalyzerOutput(errors=(ScanError(entry.path, ANALYZER, str(exc), exc.kind),))
        return AnalyzerOutput(findings=analyze_tree(parsed.tree, parsed.text, entry.path))


def analyze_source(data: bytes, path: str = "<source>") -> AnalyzerOutput:
    """Analyse Python source bytes (tests, benchmarks, ``check-code`` style callers)."""
    try:
        parsed = parse_python(data, path)
    except ParseFailure as exc:
        return AnalyzerOutput(errors=(ScanError(path, ANALYZER, str(exc), exc.kind),))
    return AnalyzerOutput(findings=analyze_tree(parsed.tree, parsed.text, path))


def analyze_tree(tree: ast.Module, text: str, path: str) -> tuple[Finding, ...]:
    shared = _Shared(path)
    module = Scope()
    doc = ast.get_docstring(tree, clean=False)
    if doc:  # exec(__doc__) runs the docstring the walk skips as prose
        module.consts["__doc__"] = Folded(doc)
    scan = _Scan(shared, text.splitlines(), module, None, 0, _fetchy(text))
    scan.run(tree.body)
    scan.finish()
    return tuple(sorted(shared.findings.values(), key=lambda f: (f.location.line or 0, f.rule_id)))


class _Scan:
    def __init__(
        self,
        shared: _Shared,
        lines: list[str],
        module: Scope,
        origin: _Origin | None,
        depth: int,
        fetchy: bool,
    ) -> None:
        self.shared = shared
        self.lines = lines
        self.module = module
        self.origin = origin
        self.depth = depth
        self.fetchy = fetchy
        self.deob = Deobfuscator(_star_names, _DANGEROUS.__contains__)
        self.asserts: list[ast.Assert] = []
        self.class_bodies: set[int] = set()  # ids of class body scopes
        self.docstrings: list[ast.Constant] = []  # prose that doctest would run
        self.doctest: ast.Call | None = None  # a call that runs docstring examples
        self.synthetic: list[ast.AST] = []  # nodes built here, kept alive for the memo ids
        self.token_names: set[str] = set()  # names bound to a stored access token
        shared.scopes.append(module)
        self._handlers = {
            ast.Call: self._call,
            ast.Assign: self._assign,
            ast.NamedExpr: self._namedexpr,
            ast.AnnAssign: self._annassign,
            ast.AugAssign: self._augassign,
            ast.Import: self._import,
            ast.ImportFrom: self._import,
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.Lambda: self._lambda,
            ast.ClassDef: self._class,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.For: self._for,
            ast.AsyncFor: self._for,
            ast.Subscript: self._subscript,
            ast.Constant: self._constant,
            ast.Assert: self._assert,
            ast.ExceptHandler: self._except,
            ast.Return: self._return,
        }

    # ------------------------------------------------------------------ walk

    def run(self, body: Iterable[ast.AST]) -> None:
        stack: list[tuple[ast.AST, Scope]] = [(n, self.module) for n in reversed(list(body))]
        handlers = self._handlers
        fields_of = _CHILD_FIELDS
        leaves = _LEAVES
        push = stack.append
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            if kind is ast.Expr and type(node.value) is ast.Constant:  # type: ignore[attr-defined]
                if ">>>" in str(node.value.value):  # type: ignore[attr-defined]
                    self.docstrings.append(node.value)  # type: ignore[attr-defined]
                continue  # docstrings and bare strings: prose, not code
            handler = handlers.get(kind)
            inner = scope
            if handler is not None:
                inner = handler(node, scope) or scope  # type: ignore[operator]
            fields = fields_of.get(kind)
            if fields is None:
                fields = fields_of[kind] = _child_fields(kind)
            # children pushed last-first so they pop in source order
            for name in fields:
                value = getattr(node, name, None)
                if value is None:
                    continue
                if type(value) is list:
                    for child in reversed(value):
                        if child is not None and type(child) not in leaves:
                            push((child, inner))
                elif type(value) not in leaves:
                    push((value, inner))

    def finish(self) -> None:
        if self.doctest is not None:
            self._doctests(self.doctest)
        if self.asserts:
            first = self.asserts[0]
            count = len(self.asserts)
            self.add("LG-HYG-001", first, f"{count} assert statement(s); first here")
        shared = self.shared
        if self.depth == 0 and shared.credential_line and shared.egress_line:
            self.add_at(
                "LG-CRED-004",
                shared.egress_line,
                0,
                f"credentials collected (line {shared.credential_line}) in a module that sends "
                "data over the network",
                severity=Severity.CRITICAL,
            )
        for scope in self.shared.scopes:
            secret = scope.marks.get("secret")
            egress = scope.marks.get("egress")
            if secret is not None and egress is not None:
                self.add_at(
                    "LG-CRED-004",
                    egress,
                    0,
                    f"secret read (line {secret}) and network call in the same scope",
                )

    # ------------------------------------------------------------------ findings

    def add(
        self,
        rule_id: str,
        node: ast.AST,
        message: str,
        *,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        evidence: tuple[str, ...] = (),
    ) -> None:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0)
        self.add_at(rule_id, line, column, message, severity, confidence, evidence)

    def add_at(
        self,
        rule_id: str,
        line: int,
        column: int,
        message: str,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        evidence: tuple[str, ...] = (),
    ) -> None:
        rule = R.RULES[rule_id]
        sev = rule.severity if severity is None else severity
        conf = rule.confidence if confidence is None else confidence
        snippet = self._line(line)
        origin = self.origin
        if origin is not None:
            evidence = (
                f"decoding chain: {' -> '.join(origin.chain) or 'literal code'}",
                f"payload line {line}: {snippet}",
                *evidence,
            )
            message = f"in code decoded from a string ({' -> '.join(origin.chain)}): {message}"
            if origin.decoded and sev < Severity.CRITICAL and sev >= Severity.MEDIUM:
                sev = Severity(sev + 1)  # hiding it is evidence of intent
            conf = max(conf, Confidence.MEDIUM)
            line, column, snippet = origin.line, origin.column, origin.snippet
        key = (rule_id, line)
        current = self.shared.findings.get(key)
        if current is not None and current.severity >= sev:
            return
        self.shared.findings[key] = Finding(
            rule_id=rule_id,
            analyzer=ANALYZER,
            message=message,
            severity=sev,
            confidence=conf,
            location=Location(self.shared.path, line, column + 1),
            cwe=rule.cwe,
            snippet=snippet,
            evidence=evidence,
        )

    def _outer_line(self, node: ast.AST) -> int:
        return self.origin.line if self.origin else getattr(node, "lineno", 1)

    def _credential_read(self, node: ast.AST) -> None:
        if self.shared.credential_line is None:
            self.shared.credential_line = self._outer_line(node)

    def _line(self, number: int) -> str:
        if 0 < number <= len(self.lines):
            return self.lines[number - 1].strip()[:240]
        return ""

    # ------------------------------------------------------------------ scopes and binding

    def _new_scope(self, parent: Scope, args: ast.arguments | None) -> Scope:
        scope = Scope(parent=parent)
        if args is not None:
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                scope.shadowed.add(arg.arg)
            for extra in (args.vararg, args.kwarg):
                if extra is not None:
                    scope.shadowed.add(extra.arg)
        self.shared.scopes.append(scope)
        return scope

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> Scope:
        scope.bind(node.name, None, None)
        inner = self._new_scope(scope, node.args)
        inner.function = node.name
        if id(scope) in self.class_bodies:  # a method: self.x / cls.x look in the class
            params = (*node.args.posonlyargs, *node.args.args)
            if params:
                inner.owner = scope
                inner.self_name = params[0].arg
        return inner

    def _lambda(self, node: ast.Lambda, scope: Scope) -> Scope:
        return self._new_scope(scope, node.args)

    def _class(self, node: ast.ClassDef, scope: Scope) -> Scope:
        scope.bind(node.name, None, None)
        body = self._new_scope(scope, None)
        scope.classes[node.name] = body
        self.class_bodies.add(id(body))
        return body

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        self.deob.bind_import(node, scope)

    def _assign(self, node: ast.Assign, scope: Scope) -> None:
        value = node.value
        for target in node.targets:
            self._bind_target(target, value, scope, node)

    def _namedexpr(self, node: ast.NamedExpr, scope: Scope) -> None:
        self._bind_target(node.target, node.value, scope, node)

    def _annassign(self, node: ast.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value, scope, node)

    def _augassign(self, node: ast.AugAssign, scope: Scope) -> None:
        target = node.target
        if not isinstance(target, ast.Name):
            return
        current = scope.lookup_const(target.id)
        if current is not None and isinstance(node.op, ast.Add):
            addition = self.deob.fold(node.value, scope)
            if addition is not None and type(addition.value) is type(current.value):
                joined = Folded(
                    current.value + addition.value,  # type: ignore[operator]
                    (*current.chain, *addition.chain, "concat"),
                )
                if len(joined.value) <= 1 << 20:
                    scope.consts[target.id] = joined
                    return
        taint = scope.taint_of(target.id)
        scope.bind(target.id, None, None)
        if taint is not None or (self.fetchy and self._taint(node.value, scope)):
            scope.tainted[target.id] = taint or "network data"

    def _bind_target(self, target: ast.expr, value: ast.expr, scope: Scope, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            name = target.id
            self.deob.bind_value(name, value, scope)
            if name in scope.aliases and id(scope) in self.class_bodies:
                self.deob.class_members = True  # class C: run = os.system
            if self.fetchy:
                source = self._taint(value, scope)
                if source is not None:
                    scope.tainted[name] = source
                if self._is_socket(value, scope):
                    scope.sockets.add(name)
            opened = self._opened_path(value, scope)
            if opened is not None:
                scope.files[name] = opened[0]
            if isinstance(value, ast.Call) and self._is_native_library(value, scope):
                self.shared.native_handles.add(name)
            if _secretish(name):
                self._secret_assignment(name, value, scope)
            if self.token_names:
                self.token_names.discard(name)
            if type(value) is ast.Call and _leaf(value.func) in _TOKEN_LEAVES:
                getter = self.deob.resolve(value.func, scope)
                if getter is not None and getter.name in R.TOKEN_READS:
                    self.token_names.add(name)
            return
        if isinstance(target, ast.Tuple | ast.List):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) else None
            for index, element in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self._bind_target(element, values[index], scope, node)
                elif isinstance(element, ast.Name):
                    scope.bind(element.id, None, None)
            return
        if isinstance(target, ast.Attribute):
            self._replaces(target.value, target.attr, node, scope)
            if type(value) in _NAMING and isinstance(target.value, ast.Name):
                body = scope.lookup_class(target.value.id)
                held = self.deob.resolve(value, scope) if body is not None else None
                if body is not None and held is not None:
                    body.attributes[target.attr] = held  # self.run = os.system
                    self.deob.class_members = True
            return
        if isinstance(target, ast.Subscript):
            if isinstance(target.value, ast.Name):
                self.deob.bind_member(target.value.id, target.slice, value, scope)
            base = self.deob.resolve(target.value, scope)
            if base is not None and base.name == "os.environ":
                key = self.deob.fold(target.slice, scope)
                if key is not None and key.value == "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD":
                    self.add("LG-DESER-003", node, "sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
                elif key is not None and isinstance(key.value, str):
                    self._env_hook(key.value, node)

    def _replaces(self, owner_node: ast.expr, attr: str, node: ast.AST, scope: Scope) -> None:
        """``os.system = f`` / ``setattr(torch, "load", f)``: a hook on what others call."""
        owner = self.deob.resolve(owner_node, scope)
        if owner is None:
            return
        target = f"{owner.name}.{attr}"
        if target in R.DESERIALIZE_SINKS or target in R.TORCH_LOAD:  # every later load runs it
            self.add(
                "LG-PERS-004",
                node,
                f"replaces the loader {target}",
                severity=Severity.HIGH,
                confidence=Confidence.HIGH,
            )
        elif (
            owner.name in _HOOKABLE
            or attr in _HOOKABLE_ATTRS.get(owner.name, ())
            or (owner.name.startswith(_HUB_PACKAGES) and attr in _HUB_LOADERS)
        ):
            self.add("LG-PERS-004", node, f"replaces {target}")

    def _secret_assignment(self, name: str, value: ast.expr, scope: Scope) -> None:
        for sub in _bounded_walk(value, 64):
            if isinstance(sub, ast.Call):
                callee = self.deob.resolve(sub.func, scope)
                if callee is not None and callee.name in R.RANDOM_CALLS:
                    self.add("LG-HYG-004", sub, f"{callee.name} used for {name!r}; use secrets")
                    return

    def _with(self, node: ast.With | ast.AsyncWith, scope: Scope) -> None:
        for item in node.items:
            var = item.optional_vars
            if not isinstance(var, ast.Name):
                continue
            scope.bind(var.id, None, None)
            opened = self._opened_path(item.context_expr, scope)
            if opened is not None:
                scope.files[var.id] = opened[0]
            if self.fetchy:
                source = self._taint(item.context_expr, scope)
                if source is not None:
                    scope.tainted[var.id] = source
                if self._is_socket(item.context_expr, scope):
                    scope.sockets.add(var.id)

    def _for(self, node: ast.For | ast.AsyncFor, scope: Scope) -> None:
        for sub in _bounded_walk(node.target, 32):
            if isinstance(sub, ast.Name):
                scope.bind(sub.id, None, None)
        iterated = node.iter
        if (
            isinstance(iterated, ast.Call)
            and isinstance(iterated.func, ast.Attribute)
            and iterated.func.attr in ("items", "keys", "values")
        ):
            base = self.deob.resolve(iterated.func.value, scope)
            if base is not None and base.name == "os.environ":
                self.add("LG-CRED-003", node, "iterates over the whole environment")
                self._credential_read(node)
                scope.marks.setdefault("secret", node.lineno)

    # ------------------------------------------------------------------ simple nodes

    def _return(self, node: ast.Return, scope: Scope) -> None:
        """``def pick(): return os.system``: ``pick()`` names os.system."""
        if node.value is None or scope.function is None or scope.parent is None:
            return
        value = node.value
        if scope.function in ("__reduce__", "__reduce_ex__"):
            self._reducer(value, node, scope)
        if type(value) in _NAMING or (type(value) is ast.Call and type(value.func) is ast.Name):
            held = self.deob.resolve(value, scope)
            if held is not None:
                scope.parent.returns[scope.function] = held

    def _assert(self, node: ast.Assert, scope: Scope) -> None:
        self.asserts.append(node)

    def _except(self, node: ast.ExceptHandler, scope: Scope) -> None:
        broad = node.type is None or (
            isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException")
        )
        if broad and len(node.body) == 1 and isinstance(node.body[0], ast.Pass):
            self.add("LG-HYG-002", node, "broad exception handler that does nothing")
        if node.name:
            scope.bind(node.name, None, None)

    def _constant(self, node: ast.Constant, scope: Scope) -> None:
        value = node.value
        if type(value) is not str or not 4 <= len(value) <= 400:
            return
        if value.count(" ") > 2:  # prose: only a URL to a metadata host matters
            if "169.254." in value or "metadata." in value or "100.100.100.200" in value:
                self._check_string(value, node, scope)
        elif _STRING_HINT.search(value):
            self._check_string(value, node, scope)

    def _check_string(self, value: str, node: ast.AST, scope: Scope) -> None:
        """Paths and hosts in code (not prose): credentials, persistence, metadata, evasion."""
        if value.count(" ") > 2 or len(value) > 400:
            if R.METADATA_HOST.search(value) and "http" in value:
                self.add("LG-NET-003", node, "cloud metadata endpoint in a command or URL")
            return
        match = R.CREDENTIAL_PATH.search(value)
        if match:
            self.add("LG-CRED-001", node, f"credential location {match.group(0)!r}")
            scope.marks.setdefault("secret", getattr(node, "lineno", 1))
            self._credential_read(node)
        match = R.METADATA_HOST.search(value)
        if match:
            self.add("LG-NET-003", node, f"cloud metadata endpoint {match.group(0)!r}")
        match = R.PERSISTENCE_PATH.search(value)
        if match:
            self.add("LG-PERS-001", node, f"persistence location {match.group(0)!r}")
        if R.SITE_PACKAGES.search(value) and _CODE_SUFFIX.search(value):
            self.add("LG-PERS-003", node, f"file in installed packages {value!r}")
        match = R.EVASION_STRINGS.search(value)
        if match:
            self.add("LG-EVADE-001", node, f"environment probe {match.group(0)!r}")

    def _subscript(self, node: ast.Subscript, scope: Scope) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        base = node.value
        if (isinstance(base, ast.Attribute) and base.attr == "environ") or (
            isinstance(base, ast.Name) and base.id == "environ"
        ):
            resolved = self.deob.resolve(base, scope)
            if resolved is not None and resolved.name == "os.environ":
                self._env_read(node.slice, node, scope)

    def _env_read(self, key_node: ast.AST, node: ast.AST, scope: Scope) -> None:
        key = self.deob.fold(key_node, scope)
        if key is None or not isinstance(key.value, str):
            return
        name = key.value
        if R.SECRET_ENV.match(name):
            self.add("LG-CRED-002", node, f"reads secret environment variable {name}")
            scope.marks.setdefault("secret", getattr(node, "lineno", 1))
        elif name in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TRAVIS", "BUILDKITE"):
            self.add("LG-EVADE-001", node, f"checks CI environment variable {name}")

    # ------------------------------------------------------------------ calls

    def _call(self, node: ast.Call, scope: Scope) -> None:
        deob = self.deob
        callee = deob.resolve(node.func, scope)
        self._keywords(node)
        if callee is None:
            self._callable_arguments(node, scope, all_rules=False)
            self._method_call(self._named_method(node, scope), scope)
            return
        name = callee.name
        rule = R.CALL_RULES.get(name)
        if rule == "LG-EXEC-005" and node.args and _reuses_code(node.args[0]):
            rule = None  # FunctionType(f.__code__, ...) copies a function, builds nothing new
        if rule is not None:
            self.add(rule, node, f"calls {name}", evidence=callee.via)
        elif name.startswith(_NATIVE_HANDLES) and name.rsplit(".", 1)[-1] in _LIBC_EXEC:
            self.add("LG-EXEC-009", node, f"{name} through ctypes", evidence=callee.via)
        elif name == "mmap.mmap" and any(
            isinstance(sub, ast.Attribute) and sub.attr == "PROT_EXEC"
            for sub in _bounded_walk(node, 64)
        ):
            self.add("LG-EXEC-009", node, "maps executable memory (mmap PROT_EXEC)")
        if callee.dynamic and name in _DANGEROUS:
            self.add(
                "LG-OBF-003",
                node,
                f"{name} reached through {' -> '.join(callee.via)}",
                evidence=callee.via,
            )
        args = node.args
        self._callable_arguments(node, scope, all_rules=name in _CALLBACK_TAKERS)
        if name in R.SUBPROCESS_CALLS:
            self._subprocess(node, name, callee, scope)
        elif name in ("os.system", "os.popen", "subprocess.getoutput", "commands.getoutput"):
            self._command_text(node, args[0] if args else None, scope)
        elif name in R.EXEC_CALLS or name in R.EVAL_CALLS or name in R.COMPILE_CALLS:
            self._exec(node, name, callee, scope)
        elif name in R.CODE_RUNNERS:
            position, keyword = R.CODE_RUNNERS[name]
            code = args[position] if len(args) > position else _kw(node, keyword)
            if code is not None and not isinstance(code, ast.Lambda):
                self._exec(node, name, callee, scope, code)
        elif name in ("copyreg.pickle", "copy_reg.pickle") and len(args) > 1:
            if isinstance(args[1], ast.Lambda):
                self._reducer(args[1].body, node, scope)
        elif name in R.DOCTEST_RUNNERS:
            self.doctest = self.doctest or node
        elif name == "builtins.setattr" and len(args) >= 2:
            attr = deob.fold(args[1], scope)
            if attr is not None and isinstance(attr.value, str):
                self._replaces(args[0], attr.value, node, scope)
        elif name in R.TOKEN_READS:
            self.add("LG-CRED-002", node, f"{name}: reads the stored access token")
        elif name in R.DYNAMIC_IMPORT_CALLS or name in R.NAME_RESOLVERS:
            if args and deob.fold(args[0], scope) is None:
                self._computed_name(
                    args[0],
                    node,
                    scope,
                    f"{name} of a module name computed from literals only",
                    ("LG-EXEC-007", f"{name} of a computed module name"),
                )
        elif name in R.TORCH_LOAD:
            self._torch_load(node)
        elif name in R.NUMPY_LOAD:
            if _kw_true(node, "allow_pickle"):
                self.add("LG-DESER-004", node, "numpy.load(allow_pickle=True)")
        elif name in R.YAML_LOAD:
            self._yaml_load(node, scope)
        elif name in R.NETWORK_CALLS:
            self._egress(node, name, scope)
        elif name == "os.dup2" and args and _is_fileno(args[0]):
            self.add("LG-NET-002", node, "os.dup2 of a socket onto standard streams")
        elif name in _ENV_READS and args:
            self._env_read(args[0], node, scope)
        elif name in _ENV_WRITES or name == "os.environ.update":
            self._env_write(node, scope)
        elif name == "builtins.getattr" and len(args) >= 2:
            base = deob.resolve(args[0], scope)
            if (
                base is not None
                and base.name.split(".")[0] in _SENSITIVE_MODULES
                and deob.fold(args[1], scope) is None
            ):
                self._computed_name(
                    args[1],
                    node,
                    scope,
                    f"getattr({base.name}, <name computed from literals only>)",
                    ("LG-OBF-004", f"getattr({base.name}, <computed name>)"),
                )
        elif name in _OPENERS or name in ("pathlib.Path", "os.path.expanduser"):
            opened = self._opened_path(node, scope)
            if opened is not None and opened[1]:
                self._written_path(opened[0], node)
        elif name in R.FILE_COPY_CALLS and len(args) >= 2:
            self._written_path(deob.fold(args[1], scope), node)
        elif name in R.HASH_WEAK:
            self._weak_hash(node, name, scope)
        elif name in ("site.getsitepackages", "site.getusersitepackages"):
            self.add("LG-PERS-003", node, f"{name}: locates installed packages")
        elif name in _DUMPERS and args:
            environ = deob.resolve(args[0], scope)
            if environ is not None and environ.name == "os.environ":
                self.add("LG-CRED-003", node, f"{name}(os.environ)")
                self._credential_read(node)
                scope.marks.setdefault("secret", node.lineno)
        elif name in ("operator.methodcaller", "operator.attrgetter") and args:
            method = deob.fold(args[0], scope)
            if method is not None and str(method.value).split(".")[-1] in _DANGEROUS_METHODS:
                self.add("LG-OBF-005", node, f"{name}({str(method.value)!r})")
        elif name.endswith(("spec_from_file_location", "SourceFileLoader")) and len(args) > 1:
            location = deob.fold(args[1], scope)
            if location is not None and _outside_repo(str(location.value)):
                self.add(
                    "LG-EXEC-006",
                    node,
                    f"{name} loads code from {location.value!r}, outside the repository",
                    severity=Severity.HIGH,
                )
        elif name == "sys.settrace" or name == "builtins.breakpoint":
            pass
        if name in ("urllib.request.urlretrieve", "urllib.urlretrieve") and len(args) > 1:
            target = deob.fold(args[1], scope)
            if target is not None and _CODE_SUFFIX.search(str(target.value)):
                self.add("LG-DL-003", node, f"downloads straight into {target.value!r}")
            if target is not None:
                self.shared.downloaded.add(str(target.value))
        if (
            args
            and self.shared.downloaded
            and (name in R.DESERIALIZE_SINKS or name in _PATH_RUNNERS)
        ):
            path = deob.fold(args[0], scope)
            if path is not None and str(path.value) in self.shared.downloaded:
                rule_id = "LG-DL-002" if name in R.DESERIALIZE_SINKS else "LG-DL-001"
                self.add(rule_id, node, f"{name} of {path.value!r}, a file downloaded above")
        if self.fetchy and (
            name in R.DESERIALIZE_SINKS or name.endswith("spec_from_file_location")
        ):
            source = self._taint_args(node, scope)
            safe = _safe_loader_call(node, name)
            if source is not None and safe is not True:
                rule_id = "LG-DL-002" if name in R.DESERIALIZE_SINKS else "LG-DL-001"
                self.add(
                    rule_id,
                    node,
                    f"{name} of data from {source}",
                    severity=Severity.MEDIUM if safe is None else None,
                    confidence=Confidence.LOW if safe is None else None,
                )
        if name in _BLOB_LOADERS and args:
            blob = deob.fold(args[0], scope)
            if blob is not None and isinstance(blob.value, bytes) and len(blob.value) > 8:
                chain = " -> ".join(blob.chain) or "literal"
                self.add(
                    "LG-DESER-007",
                    node,
                    f"{name} of a {len(blob.value)}-byte blob in the source ({chain})",
                    severity=Severity.CRITICAL if blob.decoded else None,
                    evidence=(f"decoding chain: {chain}",),
                )
        if name in _PATH_JOINS and len(args) > 1 and deob.fold(args[0], scope) is None:
            # join(<home from anywhere>, ".ssh", "id_rsa"): the known tail names the target
            tail = [deob.fold(arg, scope) for arg in args[1:]]
            if all(part is not None and isinstance(part.value, str) for part in tail):
                self._check_string(
                    "/" + "/".join(str(part.value) for part in tail if part), node, scope
                )
        if name in _DECODE_CALLS:
            self._maybe_payload(node, scope, executed=False)
        elif name not in R.EXEC_CALLS and name not in R.EVAL_CALLS:
            for arg in args:
                if type(arg) is not ast.Constant:
                    folded = deob.fold(arg, scope)
                    if folded is not None and isinstance(folded.value, str):
                        self._check_folded(folded, node, scope)

    def _computed_name(
        self, arg: ast.AST, node: ast.AST, scope: Scope, hidden: str, otherwise: tuple[str, str]
    ) -> None:
        """A name folding could not compute: a constant hidden in literals (LG-OBF-003),
        or a value from outside (``otherwise``: rule id and message)."""
        if self._from_literals(arg, scope):
            self.add("LG-OBF-003", node, hidden)
        else:
            rule_id, message = otherwise
            self.add(rule_id, node, message)

    def _from_literals(self, node: ast.AST, scope: Scope) -> bool:
        """Whether ``node`` is built from literals only (names bound to constants, names
        its own comprehensions bind, pure builtins and codecs): a constant the code hides
        rather than a value that comes from outside, even where folding gives up."""
        bound: set[str] = set()
        names: list[ast.Name] = []
        literal = False
        for sub in _bounded_walk(node, 400):
            kind = type(sub)
            if kind is ast.Name:
                names.append(sub)  # type: ignore[arg-type]
            elif kind is ast.comprehension:
                bound.update(n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name))  # type: ignore[attr-defined]
            elif kind is ast.Constant:
                literal = True
            elif kind in (ast.Starred, ast.Lambda, ast.Await, ast.Yield):
                return False
        if not literal:
            return False
        for name in names:
            if name.id in bound:
                continue
            if name.id.startswith("__") or name.id in _IMPURE_BUILTINS:
                return False  # __name__, __package__, input(), open() ...: not literals
            if scope.lookup_const(name.id) is not None or scope.lookup_sequence(name.id):
                continue
            resolved = self.deob.resolve(name, scope)
            if resolved is None or not f"{resolved.name}.".startswith(_PURE_MODULES):
                return False
        return True

    def _check_folded(self, folded: Folded, node: ast.AST, scope: Scope) -> None:
        value = folded.value
        if isinstance(value, str) and len(value) >= 4 and _STRING_HINT.search(value):
            self._check_string(value, node, scope)

    def _named_method(self, node: ast.Call, scope: Scope) -> ast.Call:
        """``getattr(x, "system")(...)`` on a receiver we cannot name reads as ``x.system(...)``."""
        func = node.func
        if not isinstance(func, ast.Call) or len(func.args) != 2 or func.keywords:
            return node
        getter = self.deob.resolve(func.func, scope)
        attr = self.deob.fold(func.args[1], scope)
        if getter is None or getter.name != "builtins.getattr" or attr is None:
            return node
        if not isinstance(attr.value, str) or not attr.value.isidentifier():
            return node
        method = ast.copy_location(ast.Attribute(func.args[0], attr.value, ast.Load()), func)
        call = ast.copy_location(ast.Call(method, node.args, node.keywords), node)
        self.synthetic += (method, call)
        return call

    def _method_call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            if isinstance(func, ast.Call | ast.Subscript):
                return
            return
        attr = func.attr
        base = func.value
        if attr in _LIBC_EXEC and self._is_native_library(base, scope):
            self.add("LG-EXEC-009", node, f"libc {attr}() through ctypes")
        if attr in R.SOCKET_METHODS and self.fetchy and self._is_socket(base, scope):
            self._egress(node, f"socket.{attr}", scope)
            self._hardcoded_peer(node, scope)
        elif attr in R.WRITE_METHODS:
            self._write(node, attr, base, scope)
        elif attr in _CALLBACK_METHODS:
            self._callable_arguments(node, scope)
        elif attr in ("subprocess_shell", "create_subprocess_shell"):
            self.add("LG-CMD-002", node, f".{attr}() runs a shell command")
            position = 1 if attr == "subprocess_shell" else 0
            command = node.args[position] if len(node.args) > position else None
            self._command_text(node, command, scope)
        elif attr in R.EXEC_MODULE_ATTRS:
            self.add("LG-EXEC-006", node, f".{attr}() runs a module's code")
        elif attr in ("decode", "join", "format", "replace"):
            self._maybe_payload(node, scope, executed=False)
        elif attr in ("open", "read_text", "read_bytes", "touch", "mkdir", "symlink_to"):
            path = self.deob.fold(base, scope)
            if path is not None and isinstance(path.value, str):
                self._check_folded(path, node, scope)
                if attr in ("open", "touch", "symlink_to") and (
                    attr != "open" or _write_mode(node, 0)
                ):
                    self._written_path(path, node)

    def _callable_arguments(self, node: ast.Call, scope: Scope, *, all_rules: bool = True) -> None:
        """``Thread(target=os.system, args=(...))``: a dangerous callable handed over.

        Known callback takers report every rule; any other call (a lambda, a
        helper that calls its argument) only callables that run commands or
        code, and never type checks (``isinstance(f, FunctionType)``).
        """
        func = node.func
        if isinstance(func, ast.Name) and func.id in _TYPE_CHECKS:
            return
        for arg in (*node.args, *(k.value for k in node.keywords)):
            kind = type(arg)
            if kind is ast.Attribute:
                # x.y.system: only a name that ends like a dangerous callable can be one
                if not all_rules and arg.attr not in _DANGEROUS_LEAVES:  # type: ignore[attr-defined]
                    continue
            elif kind is ast.Call:
                # Thread(target=getattr(os, "system")): only calls that look a name up
                inner = arg.func  # type: ignore[attr-defined]
                if _leaf(inner) not in _LOOKUP_CALLS:
                    continue
            elif kind is not ast.Name and kind is not ast.Subscript:
                continue
            target = self.deob.resolve(arg, scope)
            if target is None:
                continue
            name = target.name
            rule = _callable_rule(name)
            if rule is not None and (all_rules or rule in _RUNS_WHAT_IT_GETS):
                self.add(rule, node, f"{name} passed as a callable", evidence=target.via)

    def _reducer(self, value: ast.AST, node: ast.AST, scope: Scope) -> None:
        """``return (os.system, ("id",))`` from ``__reduce__``: unpickling calls it."""
        if not isinstance(value, ast.Tuple) or not value.elts:
            return
        target = self.deob.resolve(value.elts[0], scope)
        rule = _callable_rule(target.name) if target is not None else None
        if target is not None and rule in _RUNS_WHAT_IT_GETS:
            self.add(
                rule,
                node,
                f"pickle reduction to {target.name}: unpickling the object calls it",
                evidence=target.via,
            )

    def _keywords(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            arg = keyword.arg
            if arg in R.TRUST_KWARGS and _is_true(keyword.value):
                if _pinned_to_commit(node) or not _loads_a_model(node):
                    self.add("LG-DL-005", node, f"{arg}=True: loads code from another repository")
                else:  # unpinned: whatever that repo's HEAD holds at load time runs
                    self.add(
                        "LG-DL-005",
                        node,
                        f"{arg}=True without a pinned commit: runs another repository's "
                        "current code",
                        severity=Severity.HIGH,
                    )
            elif arg in ("stdin", "stdout", "stderr") and _is_fileno(keyword.value):
                self.add("LG-NET-002", node, f"{arg} wired to a socket")

    def _subprocess(self, node: ast.Call, name: str, callee: Resolved, scope: Scope) -> None:
        command = node.args[0] if node.args else _kw(node, "args")
        shell = name in R.SHELL_ALWAYS
        shell_kw = _kw(node, "shell")
        if shell_kw is not None and not (isinstance(shell_kw, ast.Constant) and not shell_kw.value):
            shell = True
        string_command = command is not None and (
            isinstance(command, ast.JoinedStr | ast.BinOp)
            or isinstance(self.deob.fold(command, scope), Folded)
        )
        interpreter = self._interpreter_command(command, scope)
        if shell or string_command or interpreter:
            why = "shell=True" if shell else interpreter if interpreter else "a command string"
            self.add("LG-CMD-002", node, f"{name} with {why}", evidence=callee.via)
        else:
            self.add("LG-CMD-003", node, f"{name} starts a program", evidence=callee.via)
        self._command_text(node, command, scope)

    def _split_command(self, command: ast.AST | None, scope: Scope) -> str | None:
        """The text of ``shlex.split(text)`` or ``text.split()``: an argument list from a string."""
        if not isinstance(command, ast.Call) or len(command.args) > 1:
            return None
        func = command.func
        if isinstance(func, ast.Attribute) and func.attr == "split" and not command.args:
            text = self.deob.fold(func.value, scope)
        else:
            splitter = self.deob.resolve(func, scope)
            if splitter is None or splitter.name != "shlex.split" or not command.args:
                return None
            text = self.deob.fold(command.args[0], scope)
        return text.text() if text is not None else None

    def _interpreter_command(self, command: ast.AST | None, scope: Scope) -> str | None:
        """``["/bin/sh", "-c", ...]``, ``[sys.executable, "-c", ...]``, also behind wrappers
        (``env``, ``nohup``, ``timeout 5``) and with combined flags (``bash -lc``): a shell
        in disguise."""
        split = self._split_command(command, scope)
        words: list[str | None]
        if split is not None:
            words = list(split.split()[:8])
        elif isinstance(command, ast.List | ast.Tuple):
            words = []
            for element in command.elts[:8]:
                folded = self.deob.fold(element, scope)
                if folded is not None:
                    words.append(str(folded.value))
                    continue
                resolved = self.deob.resolve(element, scope)
                executable = resolved is not None and resolved.name == "sys.executable"
                words.append("sys.executable" if executable else None)
        else:
            return None
        for program, flag in itertools.pairwise(words[:6]):
            if program is None or flag is None:
                continue
            name = program.rsplit("/", 1)[-1].removesuffix(".exe")
            pattern = _INLINE_FLAGS.get("python" if name == "sys.executable" else name)
            if pattern is not None and pattern.fullmatch(flag):
                return f"an interpreter running inline code ({name} {flag})"
        return None

    def _command_text(self, node: ast.Call, command: ast.AST | None, scope: Scope) -> None:
        if command is None:
            return
        text = self._command_string(command, scope)
        if self.fetchy:
            source = self._taint(command, scope)
            if source is not None:
                self.add("LG-DL-001", node, f"runs a command built from {source}")
        if text is None:
            return
        if R.SHELL_PAYLOAD.search(text):
            self.add("LG-CMD-005", node, f"command {_short(text)!r}")
        if R.PIP_INSTALL.search(text):
            self.add("LG-DL-004", node, f"installs packages at run time: {_short(text)!r}")
        if R.PERSISTENCE_PATH.search(text):
            self.add(
                "LG-PERS-001", node, f"command touches a persistence location: {_short(text)!r}"
            )
        if R.CREDENTIAL_PATH.search(text):
            self.add("LG-CRED-001", node, f"command reads credentials: {_short(text)!r}")
            scope.marks.setdefault("secret", node.lineno)
        if R.METADATA_HOST.search(text):
            self.add("LG-NET-003", node, f"command queries cloud metadata: {_short(text)!r}")

    def _command_string(self, command: ast.AST, scope: Scope) -> str | None:
        split = self._split_command(command, scope)
        if split is not None:
            return split
        if isinstance(command, ast.List | ast.Tuple):
            parts = []
            for element in command.elts[:64]:
                folded = self.deob.fold(element, scope)
                parts.append(str(folded.value) if folded is not None else "?")
            return " ".join(parts)
        folded = self.deob.fold(command, scope)
        if folded is None:
            return None
        return folded.text()

    def _exec(
        self,
        node: ast.Call,
        name: str,
        callee: Resolved,
        scope: Scope,
        source: ast.AST | None = None,
    ) -> None:
        short = name.split(".")[-1]
        if source is None and not node.args:
            return
        runner = source is not None  # timeit/cProfile/code...: exec under another name
        source_node: ast.AST = source if source is not None else node.args[0]
        # exec(compile(src, ...)): judge src
        if isinstance(source_node, ast.Call):
            inner = self.deob.resolve(source_node.func, scope)
            if inner is not None and inner.name in R.COMPILE_CALLS and source_node.args:
                source_node = source_node.args[0]
        if self.fetchy:
            fetched = self._taint(source_node, scope)
            if fetched is not None:
                self.add("LG-DL-001", node, f"{short} of data from {fetched}")
                return
        folded = self.deob.fold(source_node, scope)
        if folded is not None:
            text = folded.text()
            if folded.decoded:
                self.add(
                    "LG-OBF-001",
                    node,
                    f"{short} of text decoded by {' -> '.join(folded.chain)}",
                    evidence=(f"decoding chain: {' -> '.join(folded.chain)}",),
                )
            elif name not in R.COMPILE_CALLS:
                self.add("LG-EXEC-003", node, f"{short} of a constant string")
            if text is not None:
                self._payload(text, folded, node, scope)
            return
        if isinstance(source_node, ast.Call):
            inner = self.deob.resolve(source_node.func, scope)
            if inner is not None and inner.name in ("marshal.loads", "marshal.load"):
                return  # LG-EXEC-005 already reports the code object
        decoder = self._runtime_decoder(source_node, scope)
        if decoder is not None and name not in R.COMPILE_CALLS:
            self.add(
                "LG-OBF-001",
                node,
                f"{short} of data decoded at run time by {decoder}",
                confidence=Confidence.MEDIUM,
            )
            return
        if runner:  # a callable or a computed string: medium, these also time functions
            self.add(
                "LG-EXEC-001",
                node,
                f"{name} runs dynamic code",
                severity=Severity.MEDIUM,
                confidence=Confidence.LOW,
                evidence=callee.via,
            )
        elif name in R.EXEC_CALLS:
            self.add("LG-EXEC-001", node, "exec of dynamic code", evidence=callee.via)
        elif name in R.EVAL_CALLS:
            self.add("LG-EXEC-002", node, "eval of a dynamic expression", evidence=callee.via)
        else:
            mode = self.deob.fold(node.args[2], scope) if len(node.args) > 2 else None
            if mode is None or mode.value != "eval":
                self.add("LG-EXEC-004", node, "compile of dynamic source", evidence=callee.via)

    def _runtime_decoder(self, node: ast.AST, scope: Scope) -> str | None:
        """``exec(zlib.decompress(b64decode(blob_from_elsewhere)).decode())``: which decoder."""
        for _ in range(4):
            if not isinstance(node, ast.Call):
                return None
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "decode":
                node = func.value
                continue
            callee = self.deob.resolve(func, scope)
            if callee is not None and callee.name in _DECODE_CALLS - _BYTES_CALLS:
                return callee.name
            return None
        return None

    def _doctests(self, runner: ast.Call) -> None:
        """doctest runs the ``>>>`` examples of docstrings: analyse them as code."""
        self.add("LG-EXEC-006", runner, "runs the examples in docstrings as code")
        lines: list[str] = []
        for doc in self.docstrings:
            for line in str(doc.value).splitlines():
                stripped = line.strip()
                if stripped.startswith((">>>", "...")):
                    lines.append(stripped[4:])
        if lines:
            text = "\n".join(lines)
            self._payload(text, Folded(text, ("doctest examples",)), runner, self.module)

    def _maybe_payload(self, node: ast.Call, scope: Scope, executed: bool) -> None:
        folded = self.deob.fold(node, scope)
        if folded is None or not folded.decoded:
            return
        text = folded.text()
        if text is not None and len(text) >= 8:
            self._payload(text, folded, node, scope, report=True)

    def _payload(
        self, text: str, folded: Folded, node: ast.AST, scope: Scope, report: bool = False
    ) -> None:
        """Analyse literal code (decoded or not) as a module of its own."""
        key = hash(text)
        if (
            key in self.shared.payloads_seen
            or len(text) > MAX_PAYLOAD_CHARS
            or self.depth >= MAX_PAYLOAD_DEPTH
            or len(self.shared.payloads_seen) >= MAX_PAYLOADS
        ):
            return
        try:
            tree = parse_python(text.encode("utf-8", "surrogatepass"), "<decoded>").tree
        except (ParseFailure, UnicodeError):
            return
        if not any(type(n) in _CODE_NODES for n in _bounded_walk(tree, 10_000)):
            return
        self.shared.payloads_seen.add(key)
        if report:
            self.add(
                "LG-OBF-002",
                node,
                f"string decodes ({' -> '.join(folded.chain)}) to Python code",
                evidence=(f"decoding chain: {' -> '.join(folded.chain)}",),
            )
        outer = self.origin
        line = getattr(node, "lineno", 1)
        origin = _Origin(
            line=outer.line if outer else line,
            column=outer.column if outer else getattr(node, "col_offset", 0),
            snippet=outer.snippet if outer else self._line(line),
            chain=(*(outer.chain if outer else ()), *folded.chain),
            decoded=folded.decoded or bool(outer and outer.decoded),
        )
        sub = _Scan(
            self.shared,
            text.splitlines(),
            Scope(parent=scope),
            origin,
            self.depth + 1,
            self.fetchy or _fetchy(text),
        )
        sub.run(tree.body)
        sub.finish()

    def _torch_load(self, node: ast.Call) -> None:
        weights_only = _kw(node, "weights_only")
        if weights_only is None:
            splat = any(k.arg is None for k in node.keywords)
            self.add(
                "LG-DESER-002",
                node,
                "torch.load without weights_only=True (full unpickling before torch 2.6)",
                confidence=Confidence.LOW if splat else None,
            )
        elif isinstance(weights_only, ast.Constant):
            if weights_only.value is not True:
                self.add(
                    "LG-DESER-002",
                    node,
                    "torch.load(weights_only=False): full unpickling",
                    confidence=Confidence.HIGH,
                )
        else:
            self.add(
                "LG-DESER-002",
                node,
                "torch.load with a computed weights_only",
                confidence=Confidence.LOW,
            )

    def _yaml_load(self, node: ast.Call, scope: Scope) -> None:
        loader = _kw(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
        if loader is None:
            self.add("LG-DESER-005", node, "yaml.load without Loader", confidence=Confidence.MEDIUM)
            return
        name = loader.attr if isinstance(loader, ast.Attribute) else getattr(loader, "id", None)
        if name is None or name in R.YAML_SAFE_LOADERS or name == "FullLoader":
            return
        self.add("LG-DESER-005", node, f"yaml.load with {name}")

    def _is_native_library(self, base: ast.expr, scope: Scope) -> bool:
        """``ctypes.CDLL(...)``, ``cdll.LoadLibrary(...)``, ``cdll.libc`` or a name bound to one."""
        if isinstance(base, ast.Name) and base.id in self.shared.native_handles:
            return True
        if isinstance(base, ast.Call):
            loader = self.deob.resolve(base.func, scope)
            return loader is not None and loader.name.startswith(("ctypes.", "_ctypes."))
        if isinstance(base, ast.Subscript):  # ctypes.cdll["libc.so.6"]
            base = base.value
        resolved = self.deob.resolve(base, scope)
        return resolved is not None and resolved.name.startswith(_NATIVE_HANDLES)

    def _hardcoded_peer(self, node: ast.Call, scope: Scope) -> None:
        """A raw socket to a host written in the code: model code talks to no one."""
        if not node.args or not isinstance(node.args[0], ast.Tuple) or not node.args[0].elts:
            return
        host = self.deob.fold(node.args[0].elts[0], scope)
        if host is None or not isinstance(host.value, str) or _loopback(host.value):
            return
        self.add(
            "LG-NET-001",
            node,
            f"raw socket to the hard-coded host {host.value!r}",
            severity=Severity.HIGH,
        )

    def _egress(self, node: ast.Call, name: str, scope: Scope) -> None:
        self.add("LG-NET-001", node, f"network call {name}")
        self._token_sent(node, scope)
        scope.marks.setdefault("egress", node.lineno)
        if self.shared.egress_line is None:
            self.shared.egress_line = self._outer_line(node)
        for sub in _bounded_walk(node, 200):
            if isinstance(sub, ast.Attribute) and sub.attr == "environ":
                resolved = self.deob.resolve(sub, scope)
                if resolved is not None and resolved.name == "os.environ":
                    self.add("LG-CRED-003", node, "sends the environment over the network")
                    scope.marks.setdefault("secret", node.lineno)
                    return

    def _token_sent(self, node: ast.Call, scope: Scope) -> None:
        """A stored access token in a request's URL or body (headers authenticate: not counted)."""
        carriers = [*node.args, *(k.value for k in node.keywords if k.arg not in _AUTH_KEYWORDS)]
        for carrier in carriers:
            for sub in _bounded_walk(carrier, 200):
                held = isinstance(sub, ast.Name) and sub.id in self.token_names
                if not held and isinstance(sub, ast.Call):
                    getter = self.deob.resolve(sub.func, scope)
                    held = getter is not None and getter.name in R.TOKEN_READS
                if held:
                    self.add(
                        "LG-CRED-004",
                        node,
                        "sends the stored access token in a request's URL or body",
                        severity=Severity.CRITICAL,
                    )
                    return

    def _env_write(self, node: ast.Call, scope: Scope) -> None:
        keys: list[ast.AST] = list(node.args[:1])
        if node.args and isinstance(node.args[0], ast.Dict):
            keys = [k for k in node.args[0].keys if k is not None]
        keys.extend(ast.Constant(k.arg) for k in node.keywords if k.arg)
        for key in keys:
            folded = self.deob.fold(key, scope)
            if folded is not None and folded.value == "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD":
                self.add("LG-DESER-003", node, "sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
            elif folded is not None and isinstance(folded.value, str):
                self._env_hook(folded.value, node)

    def _env_hook(self, variable: str, node: ast.AST) -> None:
        """An environment variable that injects code into, or redirects, what runs next."""
        if variable in _PRELOAD_ENV:  # every later process loads the named library/script
            self.add(
                "LG-PERS-004",
                node,
                f"sets {variable}: later processes load what it names",
                severity=Severity.HIGH,
            )
        elif variable in _INJECTING_ENV:
            self.add("LG-PERS-004", node, f"sets {variable}")

    def _weak_hash(self, node: ast.Call, name: str, scope: Scope) -> None:
        if any(k.arg == "usedforsecurity" for k in node.keywords):
            return
        if name == "hashlib.new":
            algo = self.deob.fold(node.args[0], scope) if node.args else None
            if algo is None or str(algo.value).lower() not in ("md5", "sha1"):
                return
        for sub in _bounded_walk(node, 64):
            label = (
                sub.id
                if isinstance(sub, ast.Name)
                else sub.attr
                if isinstance(sub, ast.Attribute)
                else None
            )
            if label and _secretish(label):
                self.add("LG-HYG-003", node, f"{name} over {label!r}")
                return

    # ------------------------------------------------------------------ files

    def _opened_path(self, node: ast.AST, scope: Scope) -> tuple[Folded | None, bool] | None:
        """For ``open(path, mode)``-like calls: (folded path or None, opened for writing)."""
        if not isinstance(node, ast.Call):
            return None
        callee = self.deob.resolve(node.func, scope)
        if callee is not None and callee.name in _OPENERS and node.args:
            path = self.deob.fold(node.args[0], scope)
            return path, _write_mode(node, 1)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "open":
            return self.deob.fold(func.value, scope), _write_mode(node, 0)
        return None

    def _write(self, node: ast.Call, method: str, base: ast.expr, scope: Scope) -> None:
        path: Folded | None = None
        if isinstance(base, ast.Name) and scope.opened(base.id)[0]:
            path = scope.opened(base.id)[1]
        elif isinstance(base, ast.Call) and (opened := self._opened_path(base, scope)):
            path = opened[0]  # open("x.py", "w").write(...)
        else:
            path = self.deob.fold(base, scope)  # Path("...").write_text(...)
            if path is not None and method.startswith("write_"):
                self._written_path(path, node)
        if self.fetchy and node.args and path is not None and isinstance(path.value, str):
            source = self._taint(node.args[0], scope)
            if source is not None and _CODE_SUFFIX.search(path.value):
                self.add("LG-DL-003", node, f"writes {source} to {path.value!r}")

    def _written_path(self, path: Folded | None, node: ast.AST) -> None:
        if path is None or not isinstance(path.value, str):
            return
        value = path.value
        if R.PERSISTENCE_PATH.search(value):
            self.add("LG-PERS-001", node, f"writes persistence location {value!r}")
        elif R.SITE_PACKAGES.search(value) or value.startswith(INSTALLED):
            self.add("LG-PERS-003", node, f"writes into installed packages {value!r}")
        elif R.LOADER_CACHE.search(value) and _CODE_SUFFIX.search(value):
            self.add("LG-PERS-003", node, f"writes code into another loader's cache {value!r}")
        elif R.HIJACK_PATH.search(value):
            self.add("LG-PERS-001", node, f"writes a system or PATH location {value!r}")
        elif value.startswith(("/", "~")) and not value.startswith(_SAFE_WRITE_ROOTS):
            self.add("LG-PERS-002", node, f"writes {value!r}")

    # ------------------------------------------------------------------ taint

    def _taint(self, node: ast.AST, scope: Scope) -> str | None:
        """The fetch source ``node`` carries data from, if any (bounded walk)."""
        for sub in _bounded_walk(node, MAX_TAINT_NODES):
            kind = type(sub)
            if kind is ast.Name:
                source = scope.taint_of(sub.id)  # type: ignore[attr-defined]
                if source is not None:
                    return source
            elif kind is ast.Call:
                func = sub.func  # type: ignore[attr-defined]
                if isinstance(func, ast.Attribute) and func.attr in R.FETCH_METHODS:
                    if self._is_socket(func.value, scope):
                        return f"socket.{func.attr}"
                    continue
                callee = self.deob.resolve(func, scope)
                if callee is not None and callee.name in R.FETCH_SOURCES:
                    return callee.name
        return None

    def _taint_args(self, node: ast.Call, scope: Scope) -> str | None:
        for arg in (*node.args, *(k.value for k in node.keywords)):
            source = self._taint(arg, scope)
            if source is not None:
                return source
        return None

    def _is_socket(self, node: ast.AST, scope: Scope) -> bool:
        if isinstance(node, ast.Name):
            return scope.is_socket(node.id)
        if isinstance(node, ast.Call):
            callee = self.deob.resolve(node.func, scope)
            return callee is not None and callee.name in (
                "socket.socket",
                "socket.create_connection",
                "ssl.wrap_socket",
            )
        return False


# ---------------------------------------------------------------------- helpers

_DECODE_CALLS = frozenset(
    {"base64.b64decode", "base64.decodebytes", "base64.urlsafe_b64decode", "base64.b32decode",
     "base64.b16decode", "base64.b85decode", "base64.a85decode", "base64.standard_b64decode",
     "binascii.a2b_base64", "binascii.unhexlify", "binascii.a2b_hex", "zlib.decompress",
     "gzip.decompress", "bz2.decompress", "lzma.decompress", "codecs.decode", "codecs.encode",
     "builtins.bytes.fromhex", "builtins.bytes", "builtins.bytearray"}
)  # fmt: skip
_CALLBACK_TAKERS = frozenset(
    {"threading.Thread", "threading.Timer", "multiprocessing.Process", "atexit.register",
     "builtins.map", "functools.partial", "signal.signal", "weakref.finalize",
     "multiprocessing.Pool"}
)  # fmt: skip
# Names that run programs or code, as methods of os/subprocess/builtins/pty.
_DANGEROUS_METHODS = frozenset(
    {"system", "popen", "Popen", "run", "call", "check_call", "check_output", "getoutput",
     "spawn", "spawnl", "spawnv", "spawnve", "spawnlp", "spawnvp", "execl", "execle", "execlp",
     "execv", "execve", "execvp", "execvpe", "posix_spawn", "posix_spawnp", "startfile",
     "eval", "exec", "__import__", "import_module", "load", "loads"}
)  # fmt: skip
# Per interpreter, the flags that make it run the next argument as code.
_SHELL_FLAG = re.compile(r"-[a-zA-Z]*c")
_SCRIPT_FLAG = re.compile(r"-c|-[a-zA-Z]*e")
_INLINE_FLAGS: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(("sh", "bash", "zsh", "dash", "ksh", "fish", "ash", "busybox"), _SHELL_FLAG),
    **dict.fromkeys(("cmd",), re.compile(r"/[cCkK]")),
    **dict.fromkeys(
        ("powershell", "pwsh"),
        re.compile(r"(?i)-(c|command|e|ec|enc|encodedcommand)"),
    ),
    **dict.fromkeys(("python", "python3", "python2", "perl", "ruby", "node", "php"), _SCRIPT_FLAG),
}
# Names of ctypes library handles: attributes of these are native functions.
_NATIVE_HANDLES = ("ctypes.cdll", "ctypes.CDLL", "ctypes.pydll", "ctypes.PyDLL", "ctypes.pythonapi",
                   "ctypes.windll", "ctypes.WinDLL")  # fmt: skip
_LIBC_EXEC = frozenset(
    {"system", "popen", "execve", "execv", "execvp", "execl", "execlp", "posix_spawn", "fork",
     "dlopen", "mprotect", "PyRun_SimpleString", "PyRun_String", "PyRun_SimpleStringFlags",
     "PyRun_StringFlags", "Py_CompileString", "PyEval_EvalCode", "VirtualAlloc",
     "VirtualProtect", "CreateThread", "WinExec", "ShellExecuteA", "ShellExecuteW",
     "CreateProcessA", "CreateProcessW"}
)  # fmt: skip
_PATH_RUNNERS = frozenset({"runpy.run_path", "builtins.execfile"})
_PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"})
# Rules for callables that run what they are given: worth reporting wherever they are passed.
_RUNS_WHAT_IT_GETS = frozenset(
    {"LG-CMD-001", "LG-CMD-002", "LG-CMD-003", "LG-CMD-004", "LG-EXEC-001", "LG-EXEC-002"}
)
_TYPE_CHECKS = frozenset({"isinstance", "issubclass", "cast", "type"})
# Last name segments of every callable that runs commands or code.
_DANGEROUS_LEAVES = frozenset(
    name.rsplit(".", 1)[-1]
    for name in (*R.CALL_RULES, *R.EXEC_CALLS, *R.EVAL_CALLS, *R.SUBPROCESS_CALLS)
)
# Calls that load a model (and its remote code) themselves; a dict of options does not.
_MODEL_LOADERS = frozenset(
    {"from_pretrained", "from_config", "pipeline", "load", "load_model", "SentenceTransformer",
     "CrossEncoder", "snapshot_download", "get_class_from_dynamic_module"}
)  # fmt: skip


def _loads_a_model(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _MODEL_LOADERS


def _outside_repo(path: str) -> bool:
    return path.startswith(("/", "~", "\\")) or (len(path) > 1 and path[1] == ":") or ".." in path


def _loopback(host: str) -> bool:
    return host in ("localhost", "", "0.0.0.0", "::1") or host.startswith("127.")


# Modules whose functions compute values from their arguments alone.
_PURE_MODULES = ("builtins.", "operator.", "codecs.", "base64.", "binascii.", "zlib.", "bz2.",
                 "lzma.", "gzip.", "string.", "functools.", "itertools.")  # fmt: skip
_IMPURE_BUILTINS = frozenset(
    {"open", "input", "vars", "globals", "locals", "getattr", "eval", "exec", "id", "hash",
     "print", "iter", "next", "compile", "dir"}
)  # fmt: skip
# Calls that return an object named by strings (getattr(os, "system"), __import__("os")).
_LOOKUP_CALLS = frozenset(
    {"getattr", "__import__", "import_module", "__getattribute__", "__getattr__", "get",
     "locate", "resolve_name", "reduce", "eval"}
)  # fmt: skip
_TOKEN_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in R.TOKEN_READS)


def _callable_rule(name: str) -> str | None:
    """The rule a call of ``name`` triggers, for ``name`` handed over rather than called."""
    rule = R.CALL_RULES.get(name)
    if rule is None and name in R.EXEC_CALLS:
        rule = "LG-EXEC-001"
    elif rule is None and name in R.EVAL_CALLS:
        rule = "LG-EXEC-002"
    elif rule is None and name in R.SUBPROCESS_CALLS:
        rule = "LG-CMD-002"
    return rule


def _leaf(node: ast.AST) -> str | None:
    """The last name of ``a.b.c`` or ``c``."""
    if type(node) is ast.Attribute:
        return node.attr
    return node.id if type(node) is ast.Name else None


# Keywords of request calls that authenticate rather than carry data.
_AUTH_KEYWORDS = frozenset({"headers", "auth", "token", "cookies", "use_auth_token"})
_CALLBACK_METHODS = frozenset({"submit", "apply_async", "run_in_executor", "call_soon", "map"})
_PRELOAD_ENV = frozenset({"LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PYTHONSTARTUP",
                          "BASH_ENV", "PROMPT_COMMAND"})  # fmt: skip
# Also set by benign code (mirrors, proxies, paths): reported, not ranked high.
_INJECTING_ENV = frozenset({"PYTHONINSPECT", "ENV", "PYTHONPATH", "PYTHONHOME", "PIP_INDEX_URL",
                            "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "HF_ENDPOINT",
                            "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy",
                            "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"})  # fmt: skip
# Replacing anything in these modules intercepts security-relevant calls; elsewhere
# (torch.linspace = patched, common in model code) only the loaders themselves.
_HOOKABLE = frozenset({"builtins", "os", "subprocess", "pickle", "importlib", "marshal"})
_HOOKABLE_ATTRS = {"torch": ("load", "hub"), "torch.serialization": ("load",)}
_HUB_PACKAGES = ("transformers", "huggingface_hub", "safetensors", "diffusers")
_HUB_LOADERS = frozenset(
    {"from_pretrained", "hf_hub_download", "snapshot_download", "load_file", "safe_open",
     "load_state_dict", "get_class_from_dynamic_module"}
)  # fmt: skip
_BLOB_LOADERS = frozenset({"pickle.loads", "marshal.loads", "dill.loads", "cloudpickle.loads"})
_BYTES_CALLS = frozenset({"builtins.bytes", "builtins.bytearray"})
_CODE_NODES = frozenset({ast.Call, ast.Import, ast.ImportFrom})
# Expressions that can name a callable held elsewhere (os.system, mods["x"], f).
_NAMING = frozenset({ast.Name, ast.Attribute, ast.Subscript})


# Fields that never hold a node a rule looks at: names, numbers, contexts, operators.
_SKIPPED_FIELDS = frozenset(
    {"ctx", "op", "ops", "type_ignores", "type_comment", "kind", "id", "attr", "name", "arg",
     "module", "level", "conversion", "is_async", "asname", "kwd_attrs", "rest"}
)  # fmt: skip
# Nodes no handler looks at and that have no children worth visiting.
_LEAVES = frozenset({ast.Name, ast.Pass, ast.Break, ast.Continue, ast.alias})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: (), ast.Global: (), ast.Nonlocal: ()}


def _child_fields(kind: type) -> tuple[str, ...]:
    """The node-valued fields of an AST type, reversed (children go on a stack)."""
    names = [f for f in getattr(kind, "_fields", ()) if f not in _SKIPPED_FIELDS]
    return tuple(reversed(names))


def _bounded_walk(node: ast.AST, limit: int) -> Iterable[ast.AST]:
    stack = [node]
    seen = 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        yield current
        stack.extend(ast.iter_child_nodes(current))


# A cheap anchor every secret-looking name contains; the precise pattern runs on hits only.
_SECRET_HINT = re.compile("pass|secret|key|salt|nonce|otp|auth|csrf|token", re.IGNORECASE)


def _secretish(name: str) -> bool:
    return _SECRET_HINT.search(name) is not None and bool(R.SECRETISH_NAME.search(name.lower()))


def _reuses_code(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "__code__"


def _safe_loader_call(node: ast.Call, name: str) -> bool | None:
    """Is this loader call in its data-only mode? None when a flag is computed."""
    flag = {"torch.load": "weights_only", "numpy.load": "allow_pickle"}.get(name)
    if flag is None:
        return False
    value = _kw(node, flag)
    if value is None:
        return name == "numpy.load"  # numpy refuses pickles by default; torch < 2.6 does not
    if not isinstance(value, ast.Constant):
        return None
    return bool(value.value) if flag == "weights_only" else not value.value


def _kw(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
        if keyword.arg is None and isinstance(keyword.value, ast.Dict):  # f(**{"shell": True})
            for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == name:
                    return value
    return None


_COMMIT = re.compile(r"[0-9a-f]{40}")


def _pinned_to_commit(node: ast.Call) -> bool:
    """A ``revision=`` (or ``code_revision=``) that is a literal commit hash."""
    for keyword in node.keywords:
        if keyword.arg in ("revision", "code_revision") and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            if isinstance(value, str) and _COMMIT.fullmatch(value):
                return True
    return False


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _kw_true(node: ast.Call, name: str) -> bool:
    value = _kw(node, name)
    return value is not None and _is_true(value)


def _is_fileno(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fileno"
    )


def _write_mode(node: ast.Call, position: int) -> bool:
    mode = _kw(node, "mode")
    if mode is None and len(node.args) > position:
        mode = node.args[position]
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and (any(flag in mode.value for flag in "wax+"))
    )


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
