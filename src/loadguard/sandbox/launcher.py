"""Parent side of the sandbox: start the child, collect its telemetry, enforce the timeout.

The child (``child.py``) isolates itself; this side prepares what the child
cannot (a scrubbed environment, a scratch folder, a canary file and a
loopback listener the child must not reach), reads JSON lines from the
telemetry pipe, and kills the whole process tree on timeout. Verification of
the layers lives in ``layers.py``; it needs both the child's probes and the
facts gathered here (did the listener see a connection? is the tree gone?).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..limits import GiB, MiB

CHILD_SCRIPT = Path(__file__).with_name("child.py")
SANDBOX_HOME = "/home/sandbox"
MAX_TELEMETRY_BYTES = 64 * MiB
TAIL_BYTES = 8192
# The only variables the child sees, plus ``SandboxConfig.env``.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TMPDIR": "/tmp",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


@dataclass(frozen=True)
class SandboxConfig:
    """How to isolate one run. Defaults are strict; each layer can be turned off for tests."""

    python: str = sys.executable  # the interpreter that runs the loader (needs torch for some)
    timeout: float = 120.0  # wall clock, seconds; the whole process tree is killed after it
    memory_bytes: int = 8 * GiB  # RLIMIT_AS per process
    cpu_seconds: int = 300  # RLIMIT_CPU per process
    max_processes: int = 64  # RLIMIT_NPROC (counts threads) for the sandbox user
    max_file_bytes: int = 1 * GiB  # RLIMIT_FSIZE
    max_open_files: int = 1024
    scratch_mb: int = 512  # size of each private tmpfs (/tmp and /home)
    namespaces: bool = True
    userns: bool = True
    seccomp: bool = True
    allow_exec: bool = False  # seccomp refuses execve unless set
    env: Mapping[str, str] = field(default_factory=dict)
    ro_paths: tuple[str, ...] = ()  # extra host folders the child may read
    settle_seconds: float = 1.0  # after the last step, wait this long for threads it started

    def limits_spec(self) -> dict[str, int]:
        return {
            "as": self.memory_bytes,
            "cpu": self.cpu_seconds,
            "nproc": self.max_processes,
            "fsize": self.max_file_bytes,
            "nofile": self.max_open_files,
            "core": 0,
        }


@dataclass(frozen=True)
class RawRun:
    """What one sandboxed run produced, before interpretation."""

    records: tuple[dict[str, Any], ...]
    host_ns: dict[str, str]
    env_passed: tuple[str, ...]
    canary: str
    timed_out: bool
    returncode: int | None
    seconds: float
    listener_connections: int
    tree_gone: bool
    leftover_pids: tuple[int, ...]
    stdout_tail: str
    stderr_tail: str
    malformed_lines: int
    telemetry_dropped_bytes: int
    config: SandboxConfig
    start_error: str | None = None
    sink_error: str | None = None

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r.get("t") == kind), None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("t") == kind]


def host_namespaces() -> dict[str, str]:
    found = {}
    for name in ("user", "mnt", "net", "pid", "ipc", "uts"):
        try:
            found[name] = os.readlink(f"/proc/self/ns/{name}")
        except OSError:
            found[name] = ""
    return found


def sandbox_env(config: SandboxConfig, home: str) -> dict[str, str]:
    env = dict(BASE_ENV)
    env["HOME"] = home
    env["HF_HOME"] = f"{home}/.cache/huggingface"
    env["TORCH_HOME"] = f"{home}/.cache/torch"
    env.update(config.env)
    return env


class _Collector:
    """Reads the telemetry pipe into records, bounded."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.records: list[dict[str, Any]] = []
        self.malformed = 0
        self.dropped = 0
        self.total = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for line in self.stream:
            self.total += len(line)
            if self.total > MAX_TELEMETRY_BYTES:
                self.dropped += len(line)
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.malformed += 1
                continue
            if isinstance(record, dict):
                self.records.append(record)
            else:
                self.malformed += 1


class _Tail:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.data = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        read = getattr(self.stream, "read1", self.stream.read)  # a pipe is a BufferedReader
        for chunk in iter(lambda: read(65536), b""):
            self.data = (self.data + chunk)[-TAIL_BYTES:]

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def _proc_ppid_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[-1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    parents = _proc_ppid_map()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found.append(child)
                frontier.append(child)
    return found


def marked_pids(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line carries the run's marker."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if needle not in handle.read():
                    continue
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != b"Z":
            found.append(int(entry))
    return found


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group and every descendant (found through /proc)."""
    for pid in descendants(process.pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)


def run_in_sandbox(
    model_dir: str,
    steps: list[dict[str, Any]],
    config: SandboxConfig,
    *,
    data_sink: Callable[[IO[bytes]], None] | None = None,
) -> RawRun:
    """Run ``steps`` on ``model_dir`` in the sandboxed child; never raises for child failures."""
    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix="loadguard-sandbox-")
    os.chmod(scratch, 0o711)  # nobody (the sandbox user when we are root) may traverse
    stage = os.path.join(scratch, "root")
    home = os.path.join(scratch, "home")
    os.mkdir(stage)
    os.mkdir(home)
    os.chmod(home, 0o777)
    canary = os.path.join(scratch, "canary-credentials")
    with open(canary, "w") as handle:
        handle.write(secrets.token_hex(16))
    os.chmod(canary, 0o600)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    marker = f"loadguard-sandbox-{secrets.token_hex(8)}"
    telemetry_r, telemetry_w = os.pipe()
    data_r, data_w = os.pipe() if data_sink is not None else (-1, -1)
    env = sandbox_env(config, home)
    spec = {
        "telemetry_fd": telemetry_w,
        "data_fd": data_w if data_sink is not None else None,
        "model_dir": os.path.realpath(model_dir),
        "ro_paths": [os.path.realpath(p) for p in config.ro_paths],
        "stage_dir": stage,
        "home": SANDBOX_HOME,
        "fallback_home": home,
        "steps": steps,
        "settle_seconds": config.settle_seconds,
        "limits": config.limits_spec(),
        "isolation": {
            "namespaces": config.namespaces,
            "userns": config.userns,
            "seccomp": config.seccomp,
            "allow_exec": config.allow_exec,
            "scratch_mb": config.scratch_mb,
        },
        "probe": {"host": "127.0.0.1", "port": listener.getsockname()[1], "canary": canary},
    }
    host_ns = host_namespaces()
    pass_fds = (telemetry_w,) if data_sink is None else (telemetry_w, data_w)
    command = [config.python, "-I", "-B", str(CHILD_SCRIPT), marker]
    process: subprocess.Popen[bytes] | None = None
    start_error: str | None = None
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=pass_fds,
            env=env,
            cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        start_error = f"cannot start {config.python}: {exc}"
    finally:
        os.close(telemetry_w)
        if data_w >= 0:
            os.close(data_w)
    collector = _Collector(os.fdopen(telemetry_r, "rb"))
    timed_out = False
    sink_error: str | None = None
    returncode: int | None = None
    stdout = stderr = None
    if process is not None:
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        stdout, stderr = _Tail(process.stdout), _Tail(process.stderr)
        try:
            process.stdin.write(json.dumps(spec).encode())
            process.stdin.close()
        except OSError as exc:
            start_error = f"child refused its spec: {exc}"
        fired = threading.Event()

        def on_timeout() -> None:
            fired.set()
            kill_tree(process)

        timer = threading.Timer(config.timeout, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            if data_sink is not None:
                with os.fdopen(data_r, "rb") as data_stream:
                    try:
                        data_sink(data_stream)
                    except Exception as exc:  # a refused stream ends the child, not us
                        sink_error = f"{type(exc).__name__}: {exc}"
                        kill_tree(process)
            returncode = process.wait()
        finally:
            timer.cancel()
        timed_out = fired.is_set()
        kill_tree(process)  # anything that outlived the runner (without a PID namespace)
        collector.thread.join(timeout=5)
        stdout.thread.join(timeout=2)
        stderr.thread.join(timeout=2)
    elif data_r >= 0:
        os.close(data_r)
    leftover = _wait_gone(marker)
    connections = _count_connections(listener)
    listener.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return RawRun(
        records=tuple(collector.records),
        host_ns=host_ns,
        env_passed=tuple(sorted(env)),
        canary=canary,
        timed_out=timed_out,
        returncode=returncode,
        seconds=time.monotonic() - started,
        listener_connections=connections,
        tree_gone=not leftover,
        leftover_pids=tuple(leftover),
        stdout_tail=stdout.text if stdout else "",
        stderr_tail=stderr.text if stderr else "",
        malformed_lines=collector.malformed,
        telemetry_dropped_bytes=collector.dropped,
        config=config,
        start_error=start_error,
        sink_error=sink_error,
    )


def _wait_gone(marker: str, seconds: float = 3.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = marked_pids(marker)
        if not left or time.monotonic() > deadline:
            for pid in left:  # last resort; reported as not gone regardless
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            return left
        time.sleep(0.05)


def _count_connections(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, OSError):
            return count
        conn.close()
        count += 1
