"""``loadguard.guard()``: an in-process policy for the duration of a model load.

    with loadguard.guard():                       # block mode: violations raise
        model = AutoModel.from_pretrained(repo, revision=commit, trust_remote_code=True)

    @loadguard.guard(mode="monitor")              # only record and log
    def load(): ...

One PEP 578 audit hook is installed per process, the first time a guard is
entered (hooks cannot be removed). It does nothing unless the *current
thread* is inside a guard: a guard covers the thread that entered it and the
threads that thread starts through ``threading`` while guarded; other threads
of the process are not judged. In block mode a violation raises
``GuardViolation`` from inside the audited call, so the operation never
happens; in monitor mode it is recorded in ``guard.events`` and logged.

This is not a security boundary. Code that runs in the process can reach
around audit hooks (``ctypes`` writes to interpreter memory, native
extensions, ``_thread.start_new_thread``), and the guard allows what a
normal load needs. Use it as a tripwire for production loads of reviewed,
pinned repos; load untrusted ones with ``loadguard trial`` (namespaces,
seccomp, rlimits).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

log = logging.getLogger("loadguard.guard")

Mode = Literal["block", "monitor"]
F = TypeVar("F", bound=Callable[..., Any])

# Hosts a hub load talks to (downloads go through redirects to these CDNs).
DEFAULT_HUB_HOSTS = (
    "huggingface.co",
    "*.huggingface.co",
    "*.hf.co",
    "hf.co",
    "*.xethub.hf.co",
    "modelscope.cn",
    "*.modelscope.cn",
    "opencsg.com",
    "*.opencsg.com",
    "github.com",
    "codeload.github.com",
    "objects.githubusercontent.com",
    "download.openmmlab.com",
    "download.pytorch.org",
)
PROCESS_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
    }
)
FS_CHANGE_EVENTS = frozenset(
    {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate",
     "os.chmod", "os.chown", "shutil.rmtree", "shutil.move", "shutil.copyfile"}
)  # fmt: skip
NETWORK_EVENTS = frozenset(
    {"socket.getaddrinfo", "socket.connect", "socket.sendto", "socket.sendmsg"}
)
WATCHED_EVENTS = (
    PROCESS_EVENTS
    | FS_CHANGE_EVENTS
    | NETWORK_EVENTS
    | {"open", "ctypes.dlopen", "pickle.find_class"}
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@dataclass(frozen=True)
class GuardPolicy:
    """What a guarded load may do. The defaults fit ``from_pretrained`` from a hub."""

    hosts: tuple[str, ...] = DEFAULT_HUB_HOSTS  # fnmatch-style; HF_ENDPOINT's host is added
    write_dirs: tuple[str, ...] = ()  # plus the HF / torch / ModelScope caches and tmp
    allow_subprocess: bool = False
    allow_ctypes: bool = False  # libraries under the interpreter's prefix are always allowed
    pickle_globals: tuple[str, ...] = ()  # extra ``module.name`` (``*`` globs) beyond tensors
    allow_loopback: bool = False

    def writable(self) -> tuple[str, ...]:
        roots = [*self.write_dirs, *_cache_dirs()]
        return tuple(dict.fromkeys(os.path.realpath(os.path.expanduser(r)) for r in roots if r))

    def host_patterns(self) -> tuple[str, ...]:
        extra = []
        for variable in ("HF_ENDPOINT", "MODELSCOPE_DOMAIN", "CSGHUB_DOMAIN"):
            value = os.environ.get(variable, "")
            host = value.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
            if host:
                extra.append(host)
        return (*self.hosts, *extra)


@dataclass(frozen=True)
class GuardEvent:
    event: str  # the audit event, e.g. "socket.connect"
    category: str  # process, network, file-write, native, pickle
    detail: str
    blocked: bool
    thread: str


class GuardViolation(PermissionError):
    """Raised inside the audited call when a guard in block mode refuses it."""

    def __init__(self, event: GuardEvent) -> None:
        super().__init__(f"loadguard.guard blocked {event.category}: {event.detail}")
        self.event = event


class guard(contextlib.ContextDecorator):  # lower case: used like contextlib's helpers
    """Context manager and decorator enforcing a ``GuardPolicy`` on the current thread."""

    def __init__(
        self,
        mode: Mode = "block",
        policy: GuardPolicy | None = None,
        *,
        on_event: Callable[[GuardEvent], None] | None = None,
    ) -> None:
        if mode not in ("block", "monitor"):
            raise ValueError(f"mode must be 'block' or 'monitor', not {mode!r}")
        self.mode: Mode = mode
        self.policy = policy or GuardPolicy()
        self.on_event = on_event
        self.events: list[GuardEvent] = []
        self._writable: tuple[str, ...] = ()
        self._hosts: tuple[str, ...] = ()
        self._resolved: set[str] = set()  # addresses of allowed hosts seen in getaddrinfo
        self._lock = threading.Lock()

    # -------------------------------------------------------------- context protocol
    def __enter__(self) -> guard:
        _install()
        self._writable = self.policy.writable()
        self._hosts = self.policy.host_patterns()
        _stack().append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = _stack()
        if stack and stack[-1] is self:
            stack.pop()

    # -------------------------------------------------------------- judging
    def check(self, event: str, args: tuple[Any, ...]) -> None:
        verdict = self._judge(event, args)
        if verdict is None:
            return
        category, detail = verdict
        record = GuardEvent(
            event, category, detail, self.mode == "block", threading.current_thread().name
        )
        with self._lock:
            self.events.append(record)
        log.warning("%s %s: %s", "blocked" if record.blocked else "saw", category, detail)
        if self.on_event is not None:
            self.on_event(record)
        if record.blocked:
            raise GuardViolation(record)

    def _judge(self, event: str, args: tuple[Any, ...]) -> tuple[str, str] | None:
        if event in PROCESS_EVENTS:
            if self.policy.allow_subprocess:
                return None
            return "process", f"{event} {_brief(args[:2])}"
        if event == "socket.getaddrinfo":
            host = str(args[0]) if args and args[0] is not None else ""
            if self._host_allowed(host):
                self._remember(host, args[1] if len(args) > 1 else None)
            return None
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[1] if len(args) > 1 else None
            if self._address_allowed(address):
                return None
            return "network", f"{event} to {_brief(address)}"
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if not isinstance(path, (str, bytes)) or not _writes(mode, flags):
                return None
            return self._path_check(path, f"open for writing: {_text(path)}")
        if event in FS_CHANGE_EVENTS:
            for path in args[:2]:
                if isinstance(path, (str, bytes)):
                    problem = self._path_check(path, f"{event} {_text(path)}")
                    if problem:
                        return problem
            return None
        if event == "ctypes.dlopen":
            name = args[0] if args else None
            if self.policy.allow_ctypes or _library_allowed(name):
                return None
            return "native", f"ctypes loads {_text(name) if name else 'the process itself (libc)'}"
        if event == "pickle.find_class":
            module, name = (str(a) for a in (list(args) + ["", ""])[:2])
            if self._pickle_allowed(module, name):
                return None
            return "pickle", f"pickle imports {module}.{name}"
        return None

    def _path_check(self, path: str | bytes, detail: str) -> tuple[str, str] | None:
        real = os.path.realpath(os.fsdecode(path))
        if any(real == root or real.startswith(root + os.sep) for root in self._writable):
            return None
        return "file-write", detail

    def _host_allowed(self, host: str) -> bool:
        from fnmatch import fnmatch

        host = host.lower().rstrip(".")
        if self.policy.allow_loopback and host in ("localhost", "127.0.0.1", "::1"):
            return True
        return any(fnmatch(host, pattern.lower()) for pattern in self._hosts)

    def _remember(self, host: str, port: object) -> None:
        # The connect that follows names an address, not the host: remember what the
        # allowed host resolves to. Resolution here is the resolver the load uses anyway.
        import socket

        if host in self._resolved:  # resolved once per guard: no second lookup per request
            return
        with contextlib.suppress(OSError):
            for *_, sockaddr in socket.getaddrinfo(host, port if isinstance(port, int) else None):
                self._resolved.add(str(sockaddr[0]))
        self._resolved.add(host)

    def _address_allowed(self, address: object) -> bool:
        if not isinstance(address, tuple) or not address:
            return False  # AF_UNIX paths and the like: no hub is reached that way
        host = str(address[0])
        if host in self._resolved or self._host_allowed(host):
            return True
        if self.policy.allow_loopback:
            with contextlib.suppress(ValueError):
                return ipaddress.ip_address(host).is_loopback
        return False

    def _pickle_allowed(self, module: str, name: str) -> bool:
        from fnmatch import fnmatch

        if _tensor_data(module, name):
            return True
        qualified = f"{module}.{name}"
        return any(fnmatch(qualified, pattern) for pattern in self.policy.pickle_globals)


# ------------------------------------------------------------------ the one hook

_state = threading.local()
_installed = False
_install_lock = threading.Lock()


def _stack() -> list[guard]:
    stack: list[guard] | None = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in WATCHED_EVENTS:  # most events (imports, exec, getattr, ...) end here
        return
    stack: list[guard] | None = getattr(_state, "stack", None)
    if not stack or getattr(_state, "busy", False):
        return
    _state.busy = True  # judging may itself raise audit events (realpath, getaddrinfo)
    try:
        stack[-1].check(event, args)
    finally:
        _state.busy = False


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        sys.addaudithook(_hook)
        _propagate_to_threads()
        _installed = True


def _propagate_to_threads() -> None:
    """Threads started by a guarded thread run under the same guard."""
    original = threading.Thread.start

    @functools.wraps(original)
    def start(self: threading.Thread) -> None:
        stack = getattr(_state, "stack", None)
        if stack:
            active = list(stack)
            run = self.run

            def guarded_run() -> None:
                _state.stack = active
                run()

            self.run = guarded_run  # type: ignore[method-assign]
        original(self)

    threading.Thread.start = start  # type: ignore[method-assign]


# ------------------------------------------------------------------ helpers


def _cache_dirs() -> Iterator[str]:
    home = os.path.expanduser("~")
    yield os.environ.get("HF_HOME", os.path.join(home, ".cache", "huggingface"))
    for variable in (
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "TRANSFORMERS_CACHE",
        "HF_MODULES_CACHE",
    ):
        if os.environ.get(variable):
            yield os.environ[variable]
    yield os.environ.get("TORCH_HOME", os.path.join(home, ".cache", "torch"))
    yield os.environ.get("MODELSCOPE_CACHE", os.path.join(home, ".cache", "modelscope"))
    import tempfile

    yield tempfile.gettempdir()


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {sys.prefix, sys.base_prefix, paths["stdlib"], paths["purelib"], paths["platlib"]}
    roots |= {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib"}
    return tuple(sorted(os.path.realpath(r) for r in roots if r))


def _library_allowed(name: object) -> bool:
    """A shared library installed with the interpreter or the OS, named by absolute path."""
    if not isinstance(name, (str, bytes)):
        return False
    path = os.fsdecode(name)
    if not os.path.isabs(path):
        return False
    real = os.path.realpath(path)
    return any(real.startswith(root + os.sep) for root in _library_roots())


@functools.lru_cache(maxsize=4096)
def _tensor_data(module: str, name: str) -> bool:
    """The static pickle analyzer's allowlist: what tensors and containers need."""
    from .analyzers.pickle import judge

    return judge(module, name).category == "allowed"


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _text(value: object) -> str:
    return os.fsdecode(value) if isinstance(value, (str, bytes)) else repr(value)


def _brief(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["GuardEvent", "GuardPolicy", "GuardViolation", "guard"]
