"""Audit events from the sandboxed load, and what each one means.

The child reports raw audit events (PEP 578) with the repository frames of
the Python stack and an origin: ``repo`` (a repository frame is on the stack,
or a repository module ran), ``pickle`` (raised while a pickle was being
loaded) or ``runtime`` (libraries acting on their own). Only repo and pickle
events become findings; runtime events are listed for context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import Confidence, Finding, Location, Severity

ANALYZER = "trial"

# Globals a pickle of tensors needs (torch, numpy, containers). Anything else is reported.
SAFE_PICKLE_GLOBALS = (
    "collections.OrderedDict",
    "collections.defaultdict",
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.int",
    "builtins.float",
    "builtins.complex",
    "builtins.bytes",
    "builtins.bytearray",
    "builtins.str",
    "builtins.slice",
    "builtins.range",
    "builtins.object",
    "_codecs.encode",
    "torch._utils._rebuild_*",
    "torch.*Storage",
    "torch.storage._load_from_bytes",
    "torch.Size",
    "torch.device",
    "torch.float*",
    "torch.bfloat16",
    "torch.int*",
    "torch.uint8",
    "torch.bool",
    "torch.nn.parameter.Parameter",
    "torch._tensor._rebuild_from_type_v2",
    "torch.serialization._get_layout",
    "torch.strided",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.dtypes.*",
)
# Modules whose callables in a pickle mean code execution, not data.
EXECUTION_MODULES = (
    "os",
    "posix",
    "nt",
    "subprocess",
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "builtins.__import__",
    "builtins.getattr",
    "builtins.open",
    "socket",
    "runpy",
    "pty",
    "importlib",
    "ctypes",
    "shutil",
    "sys",
    "webbrowser",
    "urllib",
    "requests",
    "http",
)


def glob_match(name: str, pattern: str) -> bool:
    if pattern.endswith("*") and "*" not in pattern[:-1]:
        return name.startswith(pattern[:-1])
    if "*" in pattern:
        head, _, tail = pattern.partition("*")
        return name.startswith(head) and name.endswith(tail) and len(name) >= len(pattern) - 1
    return name == pattern


def pickle_global_allowed(qualified: str, allowlist: Iterable[str] = SAFE_PICKLE_GLOBALS) -> bool:
    return any(glob_match(qualified, pattern) for pattern in allowlist)


@dataclass(frozen=True)
class DynamicEvent:
    """One distinct audit event from the sandbox (repeats are counted, not repeated)."""

    event: str
    detail: Mapping[str, Any]
    origin: str  # repo | pickle | runtime
    frames: tuple[tuple[str, int, str], ...]  # innermost first: (repo path, line, function)
    step: int | None
    pid: int
    count: int = 1

    @property
    def location(self) -> tuple[str, int | None]:
        if self.frames:
            return self.frames[0][0], self.frames[0][1]
        return "", None

    @property
    def summary(self) -> str:
        shown = ", ".join(f"{k}={_brief(v)}" for k, v in self.detail.items() if v is not None)
        return f"{self.event}({shown})"


def _brief(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def parse_events(records: Iterable[Mapping[str, Any]]) -> list[DynamicEvent]:
    records = list(records)
    counts: dict[str, int] = {}
    for record in records:
        if record.get("t") == "done" and isinstance(record.get("counts"), dict):
            counts = {str(k): int(v) for k, v in record["counts"].items() if isinstance(v, int)}
    events = []
    for record in records:
        if record.get("t") != "audit":
            continue
        frames = []
        for frame in record.get("frames") or ():
            if isinstance(frame, list) and len(frame) == 3:
                frames.append((str(frame[0]), int(frame[1]), str(frame[2])))
        detail = record.get("detail")
        events.append(
            DynamicEvent(
                event=str(record.get("event", "")),
                detail=detail if isinstance(detail, dict) else {},
                origin=str(record.get("origin", "runtime")),
                frames=tuple(frames),
                step=record.get("step") if isinstance(record.get("step"), int) else None,
                pid=int(record.get("pid", 0) or 0),
                count=counts.get(str(record.get("id")), 1),
            )
        )
    return events


@dataclass(frozen=True)
class Judgement:
    rule_id: str
    category: str
    severity: Severity
    cwe: tuple[str, ...]
    message: str


PROCESS_EVENTS = (
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "pty.spawn",
)
NETWORK_EVENTS = (
    "socket.connect",
    "socket.sendto",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "urllib.Request",
    "http.client.connect",
    "webbrowser.open",
)
FS_CHANGE_EVENTS = (
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.link",
    "os.truncate",
    "shutil.rmtree",
)


def judge(event: DynamicEvent) -> Judgement | None:
    """What an event means when the repository (or its pickle) caused it; None if nothing."""
    name, detail = event.event, event.detail
    if name == "module-exec":
        return Judgement(
            "LG-DYN-000", "code", Severity.INFO, (), f"repository module {detail.get('module')} ran"
        )
    if name in PROCESS_EVENTS:
        return Judgement(
            "LG-DYN-001",
            "process",
            Severity.HIGH,
            ("CWE-78",),
            f"the load tried to start a process: {event.summary}",
        )
    if name in ("os.fork", "os.forkpty"):
        return Judgement(
            "LG-DYN-002", "process", Severity.MEDIUM, ("CWE-400",), "the load forked a process"
        )
    if name in NETWORK_EVENTS:
        return Judgement(
            "LG-DYN-003",
            "network",
            Severity.HIGH,
            ("CWE-200",),
            f"the load tried to use the network: {event.summary}",
        )
    if name == "socket.bind":
        return Judgement(
            "LG-DYN-003",
            "network",
            Severity.MEDIUM,
            ("CWE-200",),
            f"the load opened a socket for listening: {event.summary}",
        )
    if name == "open-write":
        persistence = bool(detail.get("persistence"))
        return Judgement(
            "LG-DYN-004",
            "file-write",
            Severity.CRITICAL if persistence else Severity.HIGH,
            ("CWE-73",),
            (
                "the load tried to plant a start-up file: "
                if persistence
                else "the load tried to write outside its scratch space: "
            )
            + str(detail.get("path")),
        )
    if name in FS_CHANGE_EVENTS:
        return Judgement(
            "LG-DYN-004",
            "file-write",
            Severity.HIGH,
            ("CWE-73",),
            f"the load tried to change the file system: {event.summary}",
        )
    if name == "open-read":
        if detail.get("credential"):
            return Judgement(
                "LG-DYN-005",
                "credentials",
                Severity.CRITICAL,
                ("CWE-522",),
                f"the load tried to read a credential file: {detail.get('path')}",
            )
        return Judgement(
            "LG-DYN-006",
            "file-read",
            Severity.LOW,
            ("CWE-200",),
            f"the load read a file outside the model folder: {detail.get('path')}",
        )
    if name in ("os.listdir", "os.scandir"):
        return Judgement(
            "LG-DYN-006",
            "file-read",
            Severity.LOW,
            ("CWE-200",),
            f"the load listed a folder outside the model folder: {detail.get('path')}",
        )
    if name.startswith("ctypes."):
        symbol = str(detail.get("name") or "")
        internals = name == "ctypes.dlsym" and symbol.lstrip("_").startswith("Py")
        return Judgement(
            "LG-DYN-007",
            "native",
            Severity.HIGH if internals else Severity.MEDIUM,
            ("CWE-114",),
            (
                "the load reached into interpreter internals through ctypes: "
                if internals
                else "the load used native code through ctypes: "
            )
            + event.summary,
        )
    if name in ("exec", "compile", "marshal.loads", "marshal.load"):
        return Judgement(
            "LG-DYN-008",
            "dynamic-code",
            Severity.MEDIUM,
            ("CWE-95",) if name in ("exec", "compile") else ("CWE-502",),
            f"the load ran code built at run time: {event.summary}",
        )
    if name == "pickle.find_class":
        qualified = f"{detail.get('module')}.{detail.get('name')}"
        if pickle_global_allowed(qualified):
            return None
        executes = any(qualified == m or qualified.startswith(m + ".") for m in EXECUTION_MODULES)
        return Judgement(
            "LG-DYN-009",
            "pickle",
            Severity.CRITICAL if executes else Severity.HIGH,
            ("CWE-502",),
            f"the pickle imported {qualified}, which is not tensor data",
        )
    if name in ("sys.addaudithook", "sys.settrace", "sys.setprofile"):
        return Judgement(
            "LG-DYN-010",
            "tamper",
            Severity.HIGH,
            ("CWE-693",),
            f"the load tried to add its own audit/trace hook: {name}",
        )
    if name in ("os.kill", "os.killpg", "signal.pthread_kill"):
        return Judgement(
            "LG-DYN-011",
            "signal",
            Severity.MEDIUM,
            ("CWE-400",),
            f"the load sent a signal: {event.summary}",
        )
    if name in ("os.putenv", "os.unsetenv"):
        return Judgement(
            "LG-DYN-012",
            "environment",
            Severity.LOW,
            (),
            f"the load changed the environment: {event.summary}",
        )
    return None


@dataclass(frozen=True)
class JudgedEvent:
    event: DynamicEvent
    judgement: Judgement | None
    finding: Finding | None = field(default=None)


def to_finding(event: DynamicEvent, judgement: Judgement, step_paths: Mapping[int, str]) -> Finding:
    path, line = event.location
    if not path and event.step is not None:
        path = step_paths.get(event.step, "")
    witness = tuple(f"{p}:{n} in {f}" for p, n, f in reversed(event.frames))
    evidence = [f"origin: {event.origin}", f"pid {event.pid}"]
    if event.count > 1:
        evidence.append(f"seen {event.count} times")
    return Finding(
        rule_id=judgement.rule_id,
        analyzer=ANALYZER,
        message=judgement.message,
        severity=judgement.severity,
        confidence=Confidence.HIGH,
        location=Location(path or "", line),
        cwe=judgement.cwe,
        snippet=event.summary,
        reachable=True,  # it ran
        witness=witness,
        evidence=tuple(evidence),
    )
