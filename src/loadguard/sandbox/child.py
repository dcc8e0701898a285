"""The sandbox child: isolate itself, then run a loader under an audit hook.

Run as ``python -I child.py`` with a JSON spec on stdin, by
``loadguard.sandbox.launcher``. It imports nothing from loadguard and only the
standard library up front, so any interpreter (``--python``, e.g. a venv with
torch) can run it. Process layout::

    runner (unshares namespaces, sets rlimits, reports the final status)
      └── init (PID 1 of the new PID namespace: builds the file-system view,
           │     drops privileges, installs seccomp, reaps)
           └── loader (probes the layers, installs the audit hook, runs the steps)

Everything the parent learns arrives as JSON lines on the telemetry fd. Lines
written before the first step (the layer probes) come from code the repository
never controlled; later lines are advisory, since loaded code can close or
forge the channel. The namespaces and limits are the boundary, not the hook.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import importlib
import importlib.util
import io
import json
import os
import pickle
import resource
import runpy
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import types
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

# --------------------------------------------------------------------------- constants

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
NS_FLAGS = {
    "mount": CLONE_NEWNS,
    "net": CLONE_NEWNET,
    "pid": CLONE_NEWPID,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
}

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
# statvfs f_flag bits -> the mount flags a read-only remount must keep (locked in a user ns).
LOCKED_FLAGS = (
    (2, MS_NOSUID),
    (4, MS_NODEV),
    (8, MS_NOEXEC),
    (1024, MS_NOATIME),
    (2048, MS_NODIRATIME),
    (4096, MS_RELATIME),
)

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
SECCOMP_MODE_FILTER = 2
SYS_CAPSET = 126
SYS_PIVOT_ROOT = 155
AUDIT_ARCH_X86_64 = 0xC000003E
NOBODY = 65534

# x86_64 system calls the loaded code never needs and an escape would.
BLOCKED_SYSCALLS = {
    "ptrace": 101,
    "syslog": 103,
    "setpgid": 109,
    "setsid": 112,
    "personality": 135,
    "pivot_root": 155,
    "adjtimex": 159,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}
EXEC_SYSCALLS = {"execve": 59, "execveat": 322}
SYS_CLONE = 56
SYS_CLONE3 = 435
SYS_SOCKET = 41
INET_FAMILIES = (2, 10, 17)  # AF_INET, AF_INET6, AF_PACKET

MAX_EVENTS = 2000
MAX_DETAIL = 300
MAX_FRAMES = 12
# Paths that hold credentials or run at login: reads and writes of these are named as such.
CREDENTIAL_PARTS = (
    "/.ssh/",
    "/.aws/",
    "/.azure/",
    "/.gnupg/",
    "/.kube/",
    "/.docker/",
    "/.config/gcloud/",
    "/.config/gh/",
    "/.netrc",
    "/.git-credentials",
    "/.pypirc",
    "/huggingface/token",
    "/huggingface/stored_tokens",
    "/.modelscope/",
    "/etc/shadow",
    "/etc/gshadow",
    "/id_rsa",
    "/id_ed25519",
    "/credentials",
    "/.env",
)
PERSISTENCE_NAMES = (
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".bash_login",
    ".config/autostart",
    ".ssh/authorized_keys",
    ".pth",
    "sitecustomize.py",
    "usercustomize.py",
    "crontab",
)
# The loader's own functions on the stack when the hook runs (skipped when judging callers).
OWN_FUNCTIONS = frozenset(
    {
        "hook",
        "stack",
        "emit",
        "_on_import",
        "_on_exec",
        "_on_compile",
        "_on_process",
        "_on_network",
        "_on_open",
        "_on_fs_change",
        "_on_listdir",
        "_on_ctypes",
        "_on_find_class",
        "_on_generic",
        "_on_marshal",
    }
)
UNPICKLING_FILES = (
    "torch/serialization.py",
    "torch/_weights_only_unpickler.py",
    "joblib/numpy_pickle.py",
)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

# --------------------------------------------------------------------------- telemetry channel


class Channel:
    """JSON lines on an inherited pipe. Never raises: a closed channel is noted, not fatal."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lost = False

    def send(self, record: dict[str, Any]) -> None:
        if self.lost:
            return
        try:
            data = (json.dumps(record, default=repr, ensure_ascii=True) + "\n").encode()
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        except (OSError, ValueError, TypeError):
            self.lost = True


def _errno_name(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def _syscall(number: int, *args: Any) -> int:
    result = int(_libc.syscall(number, *args))
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{os.strerror(code)} ({_errno_name(code)})")
    return result


def _unshare(flags: int) -> None:
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    if (
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        )
        != 0
    ):
        code = ctypes.get_errno()
        raise OSError(code, f"mount {source or fstype} on {target}: {os.strerror(code)}")


def _prctl(option: int, arg2: int = 0, arg3: int | ctypes.c_void_p = 0) -> None:
    third = ctypes.c_ulong(arg3) if isinstance(arg3, int) else arg3
    if _libc.prctl(option, ctypes.c_ulong(arg2), third, ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}): {os.strerror(code)}")


def _write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- runner


def main() -> None:
    spec = json.loads(sys.stdin.read())
    channel = Channel(int(spec["telemetry_fd"]))
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    setup: dict[str, Any] = {"uid": os.getuid(), "namespaces": {}, "notes": []}
    if spec["isolation"].get("namespaces", True):
        _enter_namespaces(spec, setup)
    else:
        setup["notes"].append("namespaces disabled by configuration")
    with contextlib.suppress(OSError):
        _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans stay ours, so we can end them
    channel.send({"t": "setup", **setup})
    pid = os.fork()
    if pid == 0:
        try:
            _init(spec, setup, channel)
        except BaseException as exc:  # init must never return into the runner's code
            channel.send({"t": "fatal", "where": "init", "error": _describe(exc)})
            os._exit(70)
    status = _wait_for(pid)
    _end_descendants()
    channel.send({"t": "exit", **status})
    os._exit(0)


def _enter_namespaces(spec: dict[str, Any], setup: dict[str, Any]) -> None:
    spaces = setup["namespaces"]
    if os.geteuid() != 0 and spec["isolation"].get("userns", True):
        uid, gid = os.geteuid(), os.getegid()
        try:
            _unshare(CLONE_NEWUSER)
            _write_file("/proc/self/setgroups", "deny")
            _write_file("/proc/self/uid_map", f"0 {uid} 1")
            _write_file("/proc/self/gid_map", f"0 {gid} 1")
            spaces["user"] = "entered"
        except OSError as exc:
            spaces["user"] = f"failed: {exc}"
    wanted = [n for n in NS_FLAGS if spec["isolation"].get(n, True)]
    combined = 0
    for name in wanted:
        combined |= NS_FLAGS[name]
    try:
        _unshare(combined)
        spaces.update(dict.fromkeys(wanted, "entered"))
        return
    except OSError:
        pass
    for name in wanted:  # one at a time: apply what the kernel allows
        try:
            _unshare(NS_FLAGS[name])
            spaces[name] = "entered"
        except OSError as exc:
            spaces[name] = f"failed: {exc}"


def _wait_for(pid: int) -> dict[str, Any]:
    while True:
        try:
            done, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return {"status": "lost"}
        if done == pid:
            return _status_dict(status)


def _status_dict(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return {"status": "signal", "signal": sig, "signal_name": signal.Signals(sig).name}
    return {"status": "exit", "code": os.WEXITSTATUS(status)}


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry))
    return found


def _end_descendants() -> None:
    """Kill every process left below us (orphans reparent to us: we are a subreaper)."""
    for _ in range(50):
        children = _children_of(os.getpid())
        if not children:
            return
        for child in children:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        for _child in children:
            try:
                os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
        time.sleep(0.01)


# --------------------------------------------------------------------------- init (PID 1)


def _init(spec: dict[str, Any], setup: dict[str, Any], channel: Channel) -> None:
    report: dict[str, Any] = {"t": "init", "pid": os.getpid()}
    spaces = setup["namespaces"]
    if spaces.get("mount") == "entered":
        try:
            _build_root(spec, pid_ns=spaces.get("pid") == "entered")
            report["root"] = "private"
        except OSError as exc:
            report["root"] = f"failed: {exc}"
    if report.get("root") != "private":
        spec["home"] = spec["fallback_home"]
    os.environ["HOME"] = spec["home"]
    os.environ["HF_HOME"] = spec["home"] + "/.cache/huggingface"
    os.environ["TORCH_HOME"] = spec["home"] + "/.cache/torch"
    if spaces.get("uts") == "entered":
        with contextlib.suppress(OSError):
            socket.sethostname("sandbox")
    report["rlimits"] = _set_rlimits(spec["limits"])
    report["privileges"] = _drop_privileges(spec, spaces)
    if spec["isolation"].get("seccomp", True):
        report["seccomp"] = _install_seccomp(
            allow_exec=bool(spec["isolation"].get("allow_exec", False)),
            block_inet=spaces.get("net") != "entered",
        )
    else:
        report["seccomp"] = "disabled by configuration"
    report["namespaces"] = dict(spaces)
    channel.send(report)
    loader = os.fork()
    if loader == 0:
        with contextlib.suppress(OSError):
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        code = 0
        try:
            Loader(spec, channel).run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            channel.send({"t": "fatal", "where": "loader", "error": _describe(exc)})
            code = 71
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    while True:  # PID 1 reaps everything until the loader is done
        try:
            done, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            channel.send({"t": "loader-exit", "status": "lost"})
            os._exit(0)
        if done == loader:
            channel.send({"t": "loader-exit", **_status_dict(status)})
            _end_descendants()
            os._exit(0)


def _set_rlimits(limits: dict[str, int]) -> dict[str, Any]:
    applied: dict[str, Any] = {}
    names = {
        "as": resource.RLIMIT_AS,
        "cpu": resource.RLIMIT_CPU,
        "nproc": resource.RLIMIT_NPROC,
        "fsize": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for key, value in limits.items():
        which = names.get(key)
        if which is None:
            continue
        try:
            soft = int(value)
            # CPU: a soft limit one second below the hard one gives SIGXCPU before SIGKILL.
            hard = soft + 1 if key == "cpu" else soft
            resource.setrlimit(which, (soft, hard))
            applied[key] = soft
        except (OSError, ValueError) as exc:
            applied[key] = f"failed: {exc}"
    return applied


def _statvfs_flags(path: str) -> int:
    try:
        flags = os.statvfs(path).f_flag
    except OSError:
        return 0
    return sum(mount_flag for bit, mount_flag in LOCKED_FLAGS if flags & bit)


def _bind(source: str, target: str, *, writable: bool = False) -> None:
    _mount(source, target, None, MS_BIND | MS_REC, None)
    if not writable:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | _statvfs_flags(source)
        _mount(None, target, None, flags, None)


def _mkdirs(path: str, mode: int = 0o755) -> None:
    os.makedirs(path, mode=mode, exist_ok=True)


def _runtime_paths() -> list[str]:
    """What this interpreter needs: its prefixes, its real executable and its sys.path."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    paths.add(os.path.dirname(os.path.abspath(sys.executable)))
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            paths.add(entry)
    resolved = set()
    for path in paths:
        if os.path.isdir(path):
            resolved.add(os.path.abspath(path))
            resolved.add(os.path.realpath(path))
    return sorted(resolved)


def _covered(path: str, bound: list[str]) -> bool:
    return any(path == b or path.startswith(b.rstrip("/") + "/") for b in bound)


def _build_root(spec: dict[str, Any], *, pid_ns: bool) -> None:
    """A new root with only the OS, the interpreter and the model (read-only) plus scratch."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # nothing propagates to the host
    root = spec["stage_dir"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    bound: list[str] = []
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"):
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, name))
        elif os.path.isdir(host):
            _mkdirs(root + host)
            _bind(host, root + host)
            bound.append(host)
    # Scratch first: the model or the runtime may live below /tmp or /home.
    scratch = f"size={int(spec['isolation'].get('scratch_mb', 256))}m"
    for mount_point, mode in (("/tmp", "1777"), ("/home", "0755")):
        _mkdirs(root + mount_point)
        _mount("tmpfs", root + mount_point, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},{scratch}")
    wanted = [*_runtime_paths(), *spec.get("ro_paths", ()), spec["model_dir"]]
    for path in sorted(set(wanted), key=len):
        if not os.path.isdir(path) or _covered(path, bound):
            continue
        _mkdirs(root + path)
        _bind(path, root + path)
        bound.append(path)
    _mkdirs(root + "/dev")
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for node in ("null", "zero", "full", "random", "urandom"):
        target = f"{root}/dev/{node}"
        with open(target, "w"):
            pass
        _mount("/dev/" + node, target, None, MS_BIND, None)
    _mkdirs(root + "/dev/shm")
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink("/proc/self/fd/1", f"{root}/dev/stdout")
    os.symlink("/proc/self/fd/2", f"{root}/dev/stderr")
    home = root + spec["home"]
    _mkdirs(home)
    os.chmod(home, 0o777)  # the loader runs as nobody when we started as root
    _mkdirs(root + "/proc")
    try:
        if not pid_ns:
            raise OSError(errno.EINVAL, "no PID namespace")
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    except OSError:  # e.g. an unprivileged user under a masked /proc (containers)
        _bind("/proc", root + "/proc", writable=True)
    _mkdirs(root + "/.oldroot")
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
    os.chdir(root)
    _syscall(SYS_PIVOT_ROOT, root.encode(), (root + "/.oldroot").encode())
    os.chdir("/")
    if _libc.umount2(b"/.oldroot", MNT_DETACH) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"umount old root: {os.strerror(code)}")


def _empty_bounding_set() -> str:
    try:
        for cap in range(64):
            try:
                _prctl(PR_CAPBSET_DROP, cap)
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # past the last capability this kernel knows
                    break
                raise
    except OSError as exc:
        return f"kept: {exc}"
    return "emptied"


def _drop_privileges(spec: dict[str, Any], spaces: dict[str, str]) -> dict[str, Any]:
    """Become nobody (as root) or drop every capability (in a user namespace)."""
    result: dict[str, Any] = {}
    want_userns = spec["isolation"].get("userns", True) and spec["isolation"].get(
        "namespaces", True
    )
    result["bounding_set"] = _empty_bounding_set()
    if os.getuid() == 0 and spaces.get("user") != "entered":
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            _prctl(PR_SET_DUMPABLE, 1)  # else /proc/self/uid_map stays root's after the switch
            result["uid"] = NOBODY
        except OSError as exc:
            result["uid"] = f"failed to drop root: {exc}"
        if want_userns:
            try:  # a user namespace on top: uid 0 inside is nobody outside
                _unshare(CLONE_NEWUSER)
                _write_file("/proc/self/setgroups", "deny")
                _write_file("/proc/self/uid_map", f"0 {NOBODY} 1")
                _write_file("/proc/self/gid_map", f"0 {NOBODY} 1")
                spaces["user"] = "entered"
            except OSError as exc:
                spaces["user"] = f"failed: {exc}"
            else:  # a new user namespace starts with a full bounding set
                result["bounding_set"] = _empty_bounding_set()
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        result["no_new_privs"] = True
    except OSError as exc:
        result["no_new_privs"] = f"failed: {exc}"
    header = ctypes.create_string_buffer(struct.pack("Ii", 0x20080522, 0))  # v3, this thread
    data = ctypes.create_string_buffer(24)  # two zeroed cap_user_data structs
    try:
        _syscall(SYS_CAPSET, header, data)
        result["capabilities"] = "dropped"
    except OSError as exc:
        result["capabilities"] = f"failed: {exc}"
    return result


def _install_seccomp(*, allow_exec: bool, block_inet: bool) -> str:
    if os.uname().machine != "x86_64":
        return f"unavailable: no filter for {os.uname().machine}"
    ld_w_abs, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    deny = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
    allow = 0x7FFF0000
    prog: list[tuple[int, int, int, int]] = [
        (ld_w_abs, 0, 0, 4),  # arch
        (jeq, 1, 0, AUDIT_ARCH_X86_64),
        (ret, 0, 0, deny),
        (ld_w_abs, 0, 0, 0),  # syscall number
        (0x35, 0, 1, 0x40000000),  # jge: x32 ABI numbers
        (ret, 0, 0, deny),
    ]
    numbers = list(BLOCKED_SYSCALLS.values())
    if not allow_exec:
        numbers += list(EXEC_SYSCALLS.values())
    for number in numbers:
        prog += [(jeq, 0, 1, number), (ret, 0, 0, deny)]
    # clone3 hides its flags in memory: ENOSYS makes libc fall back to clone.
    prog += [(jeq, 0, 1, SYS_CLONE3), (ret, 0, 0, 0x00050000 | errno.ENOSYS)]
    ns_bits = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
    ns_bits |= CLONE_NEWUTS | CLONE_NEWCGROUP
    prog += [
        (jeq, 0, 4, SYS_CLONE),
        (ld_w_abs, 0, 0, 16),  # args[0], low word
        (jset, 0, 1, ns_bits),
        (ret, 0, 0, deny),
        (ret, 0, 0, allow),
    ]
    if block_inet:  # no network namespace: refuse IP sockets instead
        prog += [(jeq, 0, 1 + 2 * len(INET_FAMILIES) + 1, SYS_SOCKET), (ld_w_abs, 0, 0, 16)]
        for family in INET_FAMILIES:
            prog += [(jeq, 0, 1, family), (ret, 0, 0, deny)]
        prog += [(ret, 0, 0, allow)]
    prog.append((ret, 0, 0, allow))
    raw = b"".join(struct.pack("HBBI", *insn) for insn in prog)
    buffer = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buffer))
    fprog_buffer = ctypes.create_string_buffer(fprog)
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_void_p(ctypes.addressof(fprog_buffer)))
    except OSError as exc:
        return f"failed: {exc}"
    return "installed"


# --------------------------------------------------------------------------- loader


def _describe(exc: BaseException) -> dict[str, Any]:
    info: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)[:MAX_DETAIL]}
    code = getattr(exc, "errno", None)
    if isinstance(code, int):
        info["errno"] = _errno_name(code)
    tb = traceback.extract_tb(exc.__traceback__)[-6:]
    info["traceback"] = [f"{f.filename}:{f.lineno} {f.name}" for f in tb]
    return info


def _short(value: object) -> object:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[:MAX_DETAIL]).decode("utf-8", "replace")
    if isinstance(value, str):
        return value[:MAX_DETAIL]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_short(v) for v in list(value)[:12]]
    return repr(value)[:MAX_DETAIL]


class Loader:
    """Probe the layers, then run each step of the spec under the audit hook."""

    def __init__(self, spec: dict[str, Any], channel: Channel) -> None:
        self.spec = spec
        self.channel = channel
        self.model_dir = os.path.realpath(spec["model_dir"])
        self.model_prefix = self.model_dir.rstrip("/") + "/"
        self.home = spec["home"]
        self.scratch = (os.path.realpath(self.home), "/tmp", "/dev/", "/proc/self/")
        self.runtime = tuple(p.rstrip("/") + "/" for p in _runtime_paths())
        self.step: int | None = None
        self.step_kind = ""
        self.seen: dict[tuple[Any, ...], int] = {}
        self.counts: dict[int, int] = {}
        self.busy: set[int] = set()
        self.truncated = False
        self.this_file = os.path.abspath(__file__)

    # ----------------------------------------------------------- probes
    def probes(self) -> dict[str, Any]:
        probe = self.spec.get("probe", {})
        found: dict[str, Any] = {"pid": os.getpid(), "ppid": os.getppid()}
        found["uid"], found["euid"] = os.getuid(), os.geteuid()
        for name in ("uid_map", "gid_map"):
            try:
                with open(f"/proc/self/{name}") as handle:
                    found[name] = " ".join(handle.read().split())
            except OSError as exc:
                found[name] = f"unreadable: {exc}"
        found["ns"] = {}
        for name in ("user", "mnt", "net", "pid", "ipc", "uts"):
            try:
                found["ns"][name] = os.readlink(f"/proc/self/ns/{name}")
            except OSError as exc:
                found["ns"][name] = f"unreadable: {exc}"
        try:
            with open("/proc/net/dev") as handle:
                found["interfaces"] = [
                    line.split(":", 1)[0].strip() for line in handle.read().splitlines()[2:]
                ]
        except OSError as exc:
            found["interfaces"] = f"unreadable: {exc}"
        if probe.get("port"):
            try:
                with socket.create_connection((probe["host"], int(probe["port"])), timeout=1.0):
                    found["connect"] = "connected"
            except OSError as exc:
                found["connect"] = f"refused: {_errno_name(exc.errno or 0)}"
        if probe.get("canary"):
            try:
                with open(probe["canary"], "rb") as handle:
                    handle.read(1)
                found["canary"] = "readable"
            except OSError as exc:
                found["canary"] = f"unreadable: {_errno_name(exc.errno or 0)}"
        target = os.path.join(self.model_dir, ".loadguard-write-probe")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(target)
            found["model_write"] = "writable"
        except OSError as exc:
            found["model_write"] = f"refused: {_errno_name(exc.errno or 0)}"
        try:
            with open("/proc/self/status") as handle:
                for line in handle:
                    key, _, value = line.partition(":")
                    if key in ("Seccomp", "NoNewPrivs", "CapEff", "CapBnd", "CapPrm"):
                        found[key] = value.strip()
        except OSError:
            pass
        if _libc.unshare(ctypes.c_int(0)) != 0:
            found["unshare_probe"] = _errno_name(ctypes.get_errno())
        else:
            found["unshare_probe"] = "allowed"
        found["rlimits"] = {
            name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))[0]
            for name in ("as", "cpu", "nproc", "fsize", "nofile")
        }
        found["env"] = sorted(os.environ)
        found["home"] = os.environ.get("HOME", "")
        found["python"] = sys.version.split()[0]
        return found

    # ----------------------------------------------------------- audit hook
    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        handler = AUDIT_HANDLERS.get(event)
        if handler is None:
            return
        ident = threading.get_ident()
        if ident in self.busy:
            return
        self.busy.add(ident)
        try:
            handler(self, event, args)
        except Exception:  # telemetry must never change the program's behaviour
            pass
        finally:
            self.busy.discard(ident)

    def stack(self) -> tuple[list[list[Any]], str, bool]:
        """Repo frames (innermost first), the origin, and whether the caller is direct.

        Origin: ``repo`` when a repository frame is reached before any import
        machinery frame (an import boundary means a library is being imported,
        whatever imported it); ``pickle`` likewise for an unpickling call site;
        else ``runtime``. ``direct``: the innermost foreign frame itself is a
        repo or unpickling frame (used for exec/compile, which libraries call
        internally all the time, e.g. dataclasses and namedtuple).
        """
        frames: list[list[Any]] = []
        origin = ""
        boundary = False
        direct: bool | None = None
        frame: types.FrameType | None = sys._getframe(1)
        depth = 0
        while frame is not None and depth < 400:
            code = frame.f_code
            filename = code.co_filename
            depth += 1
            if filename == self.this_file and code.co_name in OWN_FUNCTIONS:
                frame = frame.f_back
                continue
            is_repo = filename.startswith(self.model_prefix)
            is_unpickling = filename.endswith(UNPICKLING_FILES) or (
                filename == self.this_file and code.co_name.startswith("_unpickle")
            )
            if direct is None:
                direct = is_repo or is_unpickling
            if is_repo:
                if len(frames) < MAX_FRAMES:
                    frames.append(
                        [filename[len(self.model_prefix) :], frame.f_lineno, code.co_name]
                    )
                origin = origin or ("runtime" if boundary else "repo")
            elif is_unpickling:
                origin = origin or ("runtime" if boundary else "pickle")
            elif filename.startswith("<frozen importlib"):
                boundary = True
            frame = frame.f_back
        if not origin:
            origin = "pickle" if self.step_kind == "pickle" and not boundary else "runtime"
        return frames, origin, bool(direct)

    def emit(
        self,
        event: str,
        detail: dict[str, Any],
        *,
        repo_only: bool = False,
        direct_only: bool = False,
        origin: str = "",
    ) -> None:
        frames, found_origin, direct = self.stack()
        origin = origin or found_origin
        if repo_only and origin == "runtime":
            return
        if direct_only and not direct:
            return
        top = tuple(frames[0]) if frames else ()
        key = (event, json.dumps(detail, default=repr, sort_keys=True), top, origin)
        known = self.seen.get(key)
        if known is not None:
            self.counts[known] = self.counts.get(known, 1) + 1
            return
        if len(self.seen) >= MAX_EVENTS:
            if not self.truncated:
                self.truncated = True
                self.channel.send({"t": "truncated", "after": MAX_EVENTS})
            return
        number = len(self.seen)
        self.seen[key] = number
        self.channel.send(
            {
                "t": "audit",
                "id": number,
                "event": event,
                "detail": detail,
                "origin": origin,
                "frames": frames,
                "step": self.step,
                "pid": os.getpid(),
            }
        )

    def classify_path(self, path: object) -> str | None:
        if isinstance(path, int):
            return None
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if not isinstance(path, str):
            path = str(path)
        return os.path.abspath(path)

    def in_scratch(self, path: str) -> bool:
        return any(
            path == s.rstrip("/") or path.startswith(s.rstrip("/") + "/") for s in self.scratch
        )

    # ----------------------------------------------------------- steps
    def run(self) -> None:
        self.channel.send({"t": "probes", **self.probes()})
        os.chdir(self.model_dir)
        sys.addaudithook(self.hook)
        self.channel.send({"t": "hook", "installed": True})
        for index, step in enumerate(self.spec["steps"]):
            self.step = index
            self.step_kind = step["kind"]
            self.channel.send({"t": "step-start", "step": index, "spec": step})
            started = time.monotonic()
            try:
                outcome = STEP_RUNNERS[step["kind"]](self, step)
                record: dict[str, Any] = {"ok": True, "result": outcome}
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                record = {"ok": False, "error": _describe(exc)}
                if isinstance(exc, SystemExit):
                    record["error"]["type"] = "SystemExit"
            record["seconds"] = round(time.monotonic() - started, 4)
            self.channel.send({"t": "step-end", "step": index, **record})
        self.step = None
        self.step_kind = ""
        self.settle(float(self.spec.get("settle_seconds", 1.0)))
        self.channel.send(
            {"t": "done", "counts": {str(k): v for k, v in self.counts.items() if v > 1}}
        )

    def settle(self, seconds: float) -> None:
        """Give threads the load started (a reverse shell in a daemon thread ...) time to act."""
        deadline = time.monotonic() + seconds
        me = threading.current_thread()
        while time.monotonic() < deadline:
            others = [t for t in threading.enumerate() if t is not me and t.is_alive()]
            if not others:
                return
            others[0].join(timeout=max(0.0, min(0.05, deadline - time.monotonic())))

    def note(self, step: dict[str, Any], text: str) -> None:
        self.channel.send({"t": "note", "step": self.step, "text": text})


# --------------------------------------------------------------------------- audit handlers

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _on_import(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    loader.emit("import", {"module": _short(args[0])}, repo_only=True)


def _on_exec(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    code = args[0]
    filename = getattr(code, "co_filename", "")
    if isinstance(filename, str) and filename.startswith(loader.model_prefix):
        if getattr(code, "co_name", "") == "<module>":
            rel = filename[len(loader.model_prefix) :]
            loader.emit("module-exec", {"module": rel}, origin="repo")
        return
    loader.emit(
        "exec",
        {"filename": _short(filename), "names": _short(list(getattr(code, "co_names", ()))[:12])},
        repo_only=True,
        direct_only=True,
    )


def _on_compile(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    source, filename = args[0], args[1]
    if source is None:
        return
    if isinstance(filename, str) and filename.startswith(loader.model_prefix):
        return  # the import of a repo module, reported by module-exec
    loader.emit(
        "compile",
        {"source": _short(source), "filename": _short(filename)},
        repo_only=True,
        direct_only=True,
    )


def _on_process(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    detail: dict[str, Any] = {}
    if event == "subprocess.Popen":
        detail = {"executable": _short(args[0]), "args": _short(args[1])}
    elif event == "os.system":
        detail = {"command": _short(args[0])}
    elif event in ("os.exec", "os.posix_spawn", "os.spawn"):
        detail = {"path": _short(args[0]), "args": _short(args[1]) if len(args) > 1 else None}
    loader.emit(event, detail)


def _on_network(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" or event == "socket.sendto" or event == "socket.bind":
        loader.emit(event, {"address": _short(args[1])})
    elif event == "socket.getaddrinfo":
        loader.emit(event, {"host": _short(args[0]), "port": _short(args[1])})
    elif event == "socket.gethostbyname":
        loader.emit(event, {"host": _short(args[0])})
    elif event == "urllib.Request":
        loader.emit(event, {"url": _short(args[0]), "method": _short(args[3])})
    elif event == "http.client.connect":
        loader.emit(event, {"host": _short(args[1]), "port": _short(args[2])})
    else:
        loader.emit(event, {"args": _short(list(args[1:3]))})


def _on_open(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    path = loader.classify_path(args[0])
    if path is None:
        return
    mode, flags = args[1], args[2]
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & WRITE_FLAGS != 0 and mode is None
    )
    if writing:
        persistence = any(path.endswith(name) or f"/{name}/" in path for name in PERSISTENCE_NAMES)
        if loader.in_scratch(path) and not persistence:
            return
        loader.emit("open-write", {"path": path, "persistence": persistence})
        return
    if path.startswith(loader.model_prefix) or path == loader.model_dir:
        return
    credential = any(part in path + "/" for part in CREDENTIAL_PARTS)
    if credential:
        loader.emit("open-read", {"path": path, "credential": True})
    elif not path.startswith(loader.runtime) and not loader.in_scratch(path):
        loader.emit("open-read", {"path": path, "credential": False}, repo_only=True)


def _on_fs_change(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    path = loader.classify_path(args[0]) if args else None
    if path is None or (loader.in_scratch(path) and not path.endswith(PERSISTENCE_NAMES)):
        return
    loader.emit(event, {"path": path})


def _on_listdir(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    path = loader.classify_path(args[0] if args else ".")
    if path is None or path.startswith(loader.model_prefix) or path == loader.model_dir:
        return
    if path.startswith(loader.runtime) or loader.in_scratch(path):
        return
    loader.emit(event, {"path": path}, repo_only=True)


def _on_ctypes(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    if event == "ctypes.dlopen":
        loader.emit(event, {"name": _short(args[0])}, repo_only=True)
    elif event == "ctypes.dlsym":
        loader.emit(event, {"name": _short(args[1]) if len(args) > 1 else None}, repo_only=True)
    else:
        loader.emit(event, {"address": _short(args[0]) if args else None}, repo_only=True)


def _on_find_class(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    loader.emit(event, {"module": _short(args[0]), "name": _short(args[1])})


def _on_generic(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    loader.emit(event, {"args": _short(list(args[:3]))}, repo_only=True)


def _on_marshal(loader: Loader, event: str, args: tuple[Any, ...]) -> None:
    loader.emit(
        event,
        {"bytes": len(args[0]) if args and hasattr(args[0], "__len__") else None},
        repo_only=True,
        direct_only=True,
    )


AUDIT_HANDLERS: dict[str, Callable[[Loader, str, tuple[Any, ...]], None]] = {
    "import": _on_import,
    "exec": _on_exec,
    "compile": _on_compile,
    "subprocess.Popen": _on_process,
    "os.system": _on_process,
    "os.exec": _on_process,
    "os.posix_spawn": _on_process,
    "os.spawn": _on_process,
    "os.fork": _on_process,
    "os.forkpty": _on_process,
    "pty.spawn": _on_process,
    "socket.connect": _on_network,
    "socket.sendto": _on_network,
    "socket.bind": _on_network,
    "socket.getaddrinfo": _on_network,
    "socket.gethostbyname": _on_network,
    "urllib.Request": _on_network,
    "http.client.connect": _on_network,
    "open": _on_open,
    "os.remove": _on_fs_change,
    "os.rmdir": _on_fs_change,
    "os.rename": _on_fs_change,
    "os.mkdir": _on_fs_change,
    "os.chmod": _on_fs_change,
    "os.chown": _on_fs_change,
    "os.symlink": _on_fs_change,
    "os.link": _on_fs_change,
    "os.truncate": _on_fs_change,
    "shutil.rmtree": _on_fs_change,
    "os.listdir": _on_listdir,
    "os.scandir": _on_listdir,
    "ctypes.dlopen": _on_ctypes,
    "ctypes.dlsym": _on_ctypes,
    "ctypes.cdata": _on_ctypes,
    "pickle.find_class": _on_find_class,
    "marshal.loads": _on_marshal,
    "marshal.load": _on_marshal,
    "sys.addaudithook": _on_generic,
    "sys.settrace": _on_generic,
    "sys.setprofile": _on_generic,
    "os.kill": _on_generic,
    "os.killpg": _on_generic,
    "signal.pthread_kill": _on_generic,
    "os.putenv": _on_generic,
    "os.unsetenv": _on_generic,
    "webbrowser.open": _on_network,
}


# --------------------------------------------------------------------------- steps


def _try_import(name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class _StubUnpickler(pickle.Unpickler):
    """Runs a pickle's program but answers persistent ids (tensor storages) with None."""

    def persistent_load(self, pid: Any) -> None:
        return None


def _unpickle_stream(stream: io.BufferedIOBase | io.BytesIO) -> str:
    obj = _StubUnpickler(stream).load()
    return type(obj).__name__


def _unpickle_plain(path: str) -> dict[str, Any]:
    """Without torch: execute the pickle programs a loader would (data.pkl, legacy records)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if not names:
                raise ValueError("zip without a data.pkl")
            with archive.open(names[0]) as member:
                data = io.BytesIO(member.read())
            return {
                "loader": "pickle (torch zip data.pkl, storages stubbed)",
                "type": _unpickle_stream(data),
            }
    with open(path, "rb") as handle:
        types_seen = []
        for _ in range(5):  # legacy torch files are several pickles in a row
            if not handle.peek(1)[:1]:
                break
            types_seen.append(_unpickle_stream(handle))
            if len(types_seen) == 1 and types_seen[0] != "int":
                break
    return {"loader": "pickle.load (storages stubbed)", "types": types_seen}


def _unpickle_with_torch(torch: Any, path: str, fmt: str) -> dict[str, Any]:
    result: dict[str, Any] = {"loader": f"torch {torch.__version__}"}
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        result["weights_only"] = "loads"
    except Exception as exc:
        result["weights_only"] = f"refused: {type(exc).__name__}: {str(exc)[:MAX_DETAIL]}"
    kwargs: dict[str, Any] = {"map_location": "cpu", "weights_only": False}
    if fmt == "torch-zip":
        kwargs["mmap"] = True
    obj = torch.load(path, **kwargs)
    result["type"] = type(obj).__name__
    return result


def _step_pickle(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    path = os.path.join(loader.model_dir, step["path"])
    torch = _try_import("torch") if step.get("use_torch", True) else None
    if torch is not None and step.get("format") in ("torch-zip", "torch-legacy", "pickle"):
        return _unpickle_with_torch(torch, path, step.get("format", ""))
    if step.get("format") == "joblib":
        joblib = _try_import("joblib")
        if joblib is not None:
            return {"loader": "joblib.load", "type": type(joblib.load(path)).__name__}
    return _unpickle_plain(path)


def _ensure_repo_package(loader: Loader) -> str:
    name = "loadguard_trial_repo"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [loader.model_dir]
        sys.modules[name] = package
    return name


def _import_repo_modules(loader: Loader, modules: list[str]) -> dict[str, Any]:
    """Import repo files as a package, as dynamic-module loaders do (relative imports work)."""
    package = _ensure_repo_package(loader)
    imported, failed = [], {}
    first_error: BaseException | None = None
    for module in modules:
        dotted = module[:-3].replace("/", ".") if module.endswith(".py") else module
        try:
            importlib.import_module(f"{package}.{dotted}")
            imported.append(module)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            failed[module] = _describe(exc)
            first_error = first_error or exc
    if first_error is not None and not imported:
        # the step fails with the module's own error, so MemoryError, OSError errnos
        # and SystemExit reach the report as what they are
        raise first_error
    return {"imported": imported, "failed": failed}


def _step_modules(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    return {"loader": "import of repo modules", **_import_repo_modules(loader, step["modules"])}


def _step_hubconf(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    torch = _try_import("torch") if step.get("use_torch", True) else None
    entries = list(step.get("entries", ()))
    results: dict[str, Any] = {}
    if torch is not None:
        for entry in entries or [None]:
            if entry is None:
                torch.hub.list(loader.model_dir, source="local")
                results["list"] = "ok"
                continue
            try:
                model = torch.hub.load(loader.model_dir, entry, source="local")
                results[entry] = type(model).__name__
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results[entry] = _describe(exc)
        return {
            "loader": f"torch.hub.load(source='local') torch {torch.__version__}",
            "entries": results,
        }
    sys.path.insert(0, loader.model_dir)  # what torch.hub does before importing hubconf
    spec = importlib.util.spec_from_file_location(
        "hubconf", os.path.join(loader.model_dir, "hubconf.py")
    )
    if spec is None or spec.loader is None:
        raise ImportError("hubconf.py cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hubconf"] = module
    spec.loader.exec_module(module)
    for entry in entries if step.get("call", True) else ():
        try:
            value = getattr(module, entry)()
            results[entry] = type(value).__name__
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            results[entry] = _describe(exc)
    return {
        "loader": "import hubconf.py and call its entries (torch not installed)",
        "entries": results,
    }


def _step_transformers(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    transformers = _try_import("transformers")
    if transformers is None:
        result = _import_repo_modules(loader, step.get("modules", []))
        return {"loader": "import of repo modules (transformers not installed)", **result}
    results: dict[str, Any] = {"loader": f"transformers {transformers.__version__}"}
    classes = list(step.get("auto", ())) or ["AutoConfig"]
    if "AutoConfig" not in classes:
        classes.insert(0, "AutoConfig")
    for name in classes:
        cls = getattr(transformers, name, None)
        if cls is None:
            results[name] = "not in this transformers version"
            continue
        try:
            obj = cls.from_pretrained(
                loader.model_dir, trust_remote_code=True, local_files_only=True
            )
            results[name] = type(obj).__name__
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            results[name] = _describe(exc)
    return results


def _step_library(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    """sentence-transformers, diffusers, modelscope, mmengine: the library when installed."""
    kind = step["library"]
    if kind == "mmengine":
        mmengine = _try_import("mmengine")
        results: dict[str, Any] = {}
        for config in step.get("configs", ()):
            path = os.path.join(loader.model_dir, config)
            try:
                if mmengine is not None:
                    mmengine.Config.fromfile(path)
                else:
                    runpy.run_path(path)
                results[config] = "ok"
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results[config] = _describe(exc)
        how = (
            "mmengine Config.fromfile"
            if mmengine
            else "runpy of the configs (mmengine not installed)"
        )
        return {"loader": how, "configs": results}
    module = _try_import({"sentence-transformers": "sentence_transformers"}.get(kind, kind))
    if module is not None and kind == "sentence-transformers":
        model = module.SentenceTransformer(
            loader.model_dir, trust_remote_code=True, local_files_only=True
        )
        return {
            "loader": f"sentence-transformers {module.__version__}",
            "type": type(model).__name__,
        }
    if module is not None and kind == "diffusers":
        pipe = module.DiffusionPipeline.from_pretrained(loader.model_dir, trust_remote_code=True)
        return {"loader": f"diffusers {module.__version__}", "type": type(pipe).__name__}
    result = _import_repo_modules(loader, step.get("modules", []))
    return {"loader": f"import of repo modules ({kind} not installed)", **result}


# --------------------------------------------------------------------------- convert


TORCH_DTYPES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}


def _flatten(obj: Any, torch: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, torch, name)
    elif hasattr(obj, "state_dict") and callable(obj.state_dict):
        yield from _flatten(obj.state_dict(), torch, prefix)


def _state_dict_of(obj: Any, torch: Any) -> Any:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model", "module"):
            inner = obj.get(key)
            if isinstance(inner, dict) and any(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
    return obj


def _unpickle_for_convert(torch: Any, path: str, extra: dict[str, Any]) -> Any:
    return torch.load(path, map_location="cpu", weights_only=False, **extra)


def _step_convert(loader: Loader, step: dict[str, Any]) -> dict[str, Any]:
    torch = _try_import("torch")
    if torch is None:
        raise ImportError("convert needs torch in the sandbox interpreter (--python)")
    data_fd = int(loader.spec["data_fd"])
    path = os.path.join(loader.model_dir, step["path"])
    how = "weights_only=True"
    # mmap keeps big zip checkpoints out of the address-space limit until each tensor is sent.
    extra = {"mmap": True} if zipfile.is_zipfile(path) else {}
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, **extra)
    except Exception as exc:
        if step.get("weights_only"):
            raise
        loader.note(
            step,
            f"weights_only=True refused ({type(exc).__name__}: {str(exc)[:200]}); "
            "unpickling fully inside the sandbox",
        )
        how = "weights_only=False (inside the sandbox)"
        obj = _unpickle_for_convert(torch, path, extra)
    tensors, skipped = [], []
    for name, tensor in _flatten(_state_dict_of(obj, torch), torch):
        dtype = str(tensor.dtype).replace("torch.", "")
        if dtype not in TORCH_DTYPES or tensor.layout != torch.strided:
            skipped.append([name, f"{dtype} {tensor.layout}"])
            continue
        tensors.append((name, tensor.detach().to("cpu").contiguous()))
    manifest = {
        "file": step["path"],
        "tensors": [
            {
                "name": name,
                "dtype": TORCH_DTYPES[str(t.dtype).replace("torch.", "")],
                "shape": list(t.shape),
                "nbytes": t.numel() * t.element_size(),
            }
            for name, t in tensors
        ],
        "skipped": skipped,
    }
    _write_all(data_fd, (json.dumps(manifest) + "\n").encode())
    for _name, t in tensors:
        if t.numel():
            raw = t.reshape(-1).view(torch.uint8).numpy()
            _write_all(data_fd, memoryview(raw).cast("B"))
    return {"how": how, "tensors": len(tensors), "skipped": len(skipped)}


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[: 1 << 20])
        view = view[written:]


STEP_RUNNERS: dict[str, Callable[[Loader, dict[str, Any]], dict[str, Any]]] = {
    "pickle": _step_pickle,
    "modules": _step_modules,
    "hubconf": _step_hubconf,
    "transformers": _step_transformers,
    "library": _step_library,
    "convert": _step_convert,
}


if __name__ == "__main__":
    main()
