"""Which isolation layers were in force, judged from what the child saw and the parent checked.

A layer is ``applied`` only when a probe confirms it (a namespace id that
differs from the parent's, a refused connection the parent's listener never
received, a canary that could not be read, a seccomp-refused system call).
Otherwise it is ``unavailable`` (tried, not in force), ``disabled`` (turned
off by configuration) or ``unverified`` (the child never reported).
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .launcher import SANDBOX_HOME, RawRun

NS_KEYS = ("user", "mount", "net", "pid", "ipc", "uts")


class LayerStatus(str, enum.Enum):
    APPLIED = "applied"
    UNAVAILABLE = "unavailable"
    DISABLED = "disabled"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Layer:
    name: str
    status: LayerStatus
    detail: str

    @property
    def applied(self) -> bool:
        return self.status is LayerStatus.APPLIED


def _ns_layer(
    name: str, key: str, probes: Mapping[str, Any] | None, run: RawRun, enabled: bool
) -> Layer:
    if not enabled:
        return Layer(name, LayerStatus.DISABLED, "turned off by configuration")
    if probes is None:
        return Layer(name, LayerStatus.UNVERIFIED, "the sandboxed process never reported")
    inside = str(probes.get("ns", {}).get(key, ""))
    outside = run.host_ns.get(key, "")
    if inside and outside and inside != outside and not inside.startswith("unreadable"):
        return Layer(name, LayerStatus.APPLIED, f"{inside} (host {outside})")
    reason = _attempt(run, key)
    return Layer(name, LayerStatus.UNAVAILABLE, reason or f"same namespace as the host ({inside})")


def _attempt(run: RawRun, key: str) -> str:
    setup_key = {"mnt": "mount"}.get(key, key)
    for kind in ("init", "setup"):
        record = run.first(kind)
        if record and setup_key in record.get("namespaces", {}):
            value = str(record["namespaces"][setup_key])
            if value != "entered":
                return value
    return ""


def _outside_uid(uid_map: str) -> int | None:
    parts = uid_map.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def evaluate_layers(run: RawRun) -> tuple[Layer, ...]:
    config = run.config
    probes = run.first("probes")
    init = run.first("init") or {}
    ns_on = config.namespaces
    layers = [
        _ns_layer("user namespace", "user", probes, run, ns_on and config.userns),
        _ns_layer("network namespace", "net", probes, run, ns_on),
        _ns_layer("mount namespace", "mnt", probes, run, ns_on),
        _ns_layer("PID namespace", "pid", probes, run, ns_on),
        _ns_layer("IPC namespace", "ipc", probes, run, ns_on),
        _ns_layer("UTS namespace", "uts", probes, run, ns_on),
    ]
    layers[1] = _network(layers[1], probes, run)
    if probes is None:
        unverified = "the sandboxed process never reported"
        for name in (
            "non-root user",
            "private root (OS and interpreter read-only, nothing else)",
            "model folder read-only",
            "private home and tmp",
            "credentials absent",
            "scrubbed environment",
            "resource limits",
            "privileges dropped (no capabilities, no_new_privs)",
            "seccomp filter",
        ):
            layers.append(Layer(name, LayerStatus.UNVERIFIED, unverified))
    else:
        layers += _file_layers(probes, init, run)
        layers.append(_environment(probes, run))
        layers.append(_rlimits(probes, run))
        layers.append(_privileges(probes))
        layers.append(_seccomp(probes, init, run))
    layers.append(_timeout(run))
    layers.append(_bubblewrap())
    return tuple(layers)


def _network(layer: Layer, probes: Mapping[str, Any] | None, run: RawRun) -> Layer:
    if layer.status is not LayerStatus.APPLIED or probes is None:
        return layer
    interfaces = probes.get("interfaces")
    connect = str(probes.get("connect", ""))
    problems = []
    if not isinstance(interfaces, list) or set(interfaces) - {"lo"}:
        problems.append(f"interfaces {interfaces}")
    if not connect.startswith("refused"):
        problems.append(f"loopback probe {connect or 'not run'}")
    if run.listener_connections:
        problems.append(f"the host listener received {run.listener_connections} connection(s)")
    if problems:
        return Layer(layer.name, LayerStatus.UNAVAILABLE, "; ".join(problems))
    return Layer(
        layer.name,
        LayerStatus.APPLIED,
        f"{layer.detail}; only {interfaces or ['no interface']}, "
        f"host loopback {connect}, host listener untouched",
    )


def _file_layers(probes: Mapping[str, Any], init: Mapping[str, Any], run: RawRun) -> list[Layer]:
    layers = []
    uid_map = str(probes.get("uid_map", ""))
    outside = _outside_uid(uid_map)
    euid = probes.get("euid")
    if outside not in (None, 0):
        layers.append(
            Layer(
                "non-root user", LayerStatus.APPLIED, f"uid {euid} inside is uid {outside} outside"
            )
        )
    elif outside is None and euid not in (None, 0):
        layers.append(Layer("non-root user", LayerStatus.APPLIED, f"uid {euid}"))
    else:
        layers.append(
            Layer("non-root user", LayerStatus.UNAVAILABLE, f"runs as host root ({uid_map})")
        )
    root = str(init.get("root", "not attempted (no mount namespace)"))
    private = root == "private"
    layers.append(
        Layer(
            "private root (OS and interpreter read-only, nothing else)",
            LayerStatus.APPLIED if private else LayerStatus.UNAVAILABLE,
            "pivot_root into a tmpfs with read-only binds" if private else root,
        )
    )
    write = str(probes.get("model_write", ""))
    layers.append(
        Layer(
            "model folder read-only",
            LayerStatus.APPLIED if write.startswith("refused") else LayerStatus.UNAVAILABLE,
            f"write probe {write}",
        )
    )
    home = str(probes.get("home", ""))
    layers.append(
        Layer(
            "private home and tmp",
            LayerStatus.APPLIED if private and home == SANDBOX_HOME else LayerStatus.UNAVAILABLE,
            f"HOME={home} on a private tmpfs"
            if private
            else f"HOME={home} is a throwaway folder, but the host's files stay visible",
        )
    )
    canary = str(probes.get("canary", ""))
    hidden = canary.startswith("unreadable")
    layers.append(
        Layer(
            "credentials absent",
            LayerStatus.APPLIED if hidden else LayerStatus.UNAVAILABLE,
            f"a canary credential file outside the model folder: {canary}"
            + (
                ""
                if private or not hidden
                else " (file permissions only; other files may be readable)"
            ),
        )
    )
    return layers


def _environment(probes: Mapping[str, Any], run: RawRun) -> Layer:
    seen = probes.get("env")
    if not isinstance(seen, list):
        return Layer("scrubbed environment", LayerStatus.UNVERIFIED, "no environment report")
    extra = sorted(set(map(str, seen)) - set(run.env_passed))
    if extra:
        return Layer("scrubbed environment", LayerStatus.UNAVAILABLE, f"unexpected: {extra}")
    return Layer(
        "scrubbed environment",
        LayerStatus.APPLIED,
        f"{len(seen)} variables, all set by loadguard (offline flags, private HOME); no tokens",
    )


def _rlimits(probes: Mapping[str, Any], run: RawRun) -> Layer:
    seen = probes.get("rlimits", {})
    wanted = {k: v for k, v in run.config.limits_spec().items() if k != "core"}
    wrong = {k: seen.get(k) for k, v in wanted.items() if seen.get(k) != v}
    detail = ", ".join(f"{k}={_human(k, v)}" for k, v in wanted.items())
    if wrong:
        return Layer("resource limits", LayerStatus.UNAVAILABLE, f"not in force: {wrong}")
    return Layer("resource limits", LayerStatus.APPLIED, detail)


def _human(key: str, value: int) -> str:
    if key in ("as", "fsize") and value >= 1 << 20:
        return f"{value / (1 << 30):g}GiB" if value >= 1 << 30 else f"{value >> 20}MiB"
    return f"{value}s" if key == "cpu" else str(value)


def _privileges(probes: Mapping[str, Any]) -> Layer:
    name = "privileges dropped (no capabilities, no_new_privs)"
    eff, bnd, nnp = probes.get("CapEff"), probes.get("CapBnd"), probes.get("NoNewPrivs")
    if eff is not None and int(str(eff), 16) == 0 and int(str(bnd or "1"), 16) == 0 and nnp == "1":
        return Layer(name, LayerStatus.APPLIED, "CapEff=0 CapBnd=0 NoNewPrivs=1")
    return Layer(name, LayerStatus.UNAVAILABLE, f"CapEff={eff} CapBnd={bnd} NoNewPrivs={nnp}")


def _seccomp(probes: Mapping[str, Any], init: Mapping[str, Any], run: RawRun) -> Layer:
    if not run.config.seccomp:
        return Layer("seccomp filter", LayerStatus.DISABLED, "turned off by configuration")
    mode, probe = probes.get("Seccomp"), probes.get("unshare_probe")
    if mode == "2" and probe == "EPERM":
        what = "mount, namespaces, ptrace, kernel modules, bpf, keyrings"
        if not run.config.allow_exec:
            what += ", execve"
        if "net" in _failed_ns(init):
            what += ", IP sockets"
        return Layer("seccomp filter", LayerStatus.APPLIED, f"refuses {what} (probe: {probe})")
    return Layer(
        "seccomp filter",
        LayerStatus.UNAVAILABLE,
        f"{init.get('seccomp', 'not attempted')} (mode {mode}, probe {probe})",
    )


def _failed_ns(init: Mapping[str, Any]) -> set[str]:
    spaces = init.get("namespaces", {})
    if not isinstance(spaces, dict):
        return set()
    return {k for k in NS_KEYS if spaces.get(k) != "entered"}


def _timeout(run: RawRun) -> Layer:
    if run.start_error:
        return Layer("wall-clock timeout", LayerStatus.UNVERIFIED, run.start_error)
    state = "fired, process tree killed" if run.timed_out else "not reached"
    gone = "no process left" if run.tree_gone else f"processes left: {list(run.leftover_pids)}"
    status = LayerStatus.APPLIED if run.tree_gone else LayerStatus.UNAVAILABLE
    return Layer("wall-clock timeout", status, f"{run.config.timeout:g}s, {state}; {gone}")


def _bubblewrap() -> Layer:
    if shutil.which("bwrap") is None:
        return Layer(
            "bubblewrap",
            LayerStatus.UNAVAILABLE,
            "bwrap is not installed (optional; the namespaces above are loadguard's own)",
        )
    return Layer(
        "bubblewrap",
        LayerStatus.UNAVAILABLE,
        "bwrap is installed but not used: loadguard applies the same namespaces itself",
    )
