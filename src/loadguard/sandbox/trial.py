"""``loadguard trial``: run the real load in the sandbox, then join what it did with the scan.

Steps come from the ``LoadPlan`` (which loaders apply and what they execute);
each step runs the library when the sandbox interpreter has it installed and
a plain-Python equivalent otherwise (import the repo modules, unpickle with
storages stubbed), so the trial works without torch or transformers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import SourceError
from ..filekinds import classify_all
from ..model import (
    PICKLE_KINDS,
    EntryKind,
    FileKind,
    Finding,
    Loader,
    LoadPlan,
    ScanResult,
    Severity,
    Snapshot,
    Verdict,
)
from .launcher import RawRun, SandboxConfig, run_in_sandbox
from .layers import Layer, evaluate_layers
from .telemetry import DynamicEvent, judge, parse_events, to_finding

BOUNDARY_NOTE = (
    "Telemetry comes from an audit hook inside the sandbox and is advisory: loaded code can "
    "disable, flood or forge it (ctypes, closing the pipe). The isolation layers marked "
    "'applied' are the boundary; each was verified from inside the sandbox."
)
_AUTO_CLASS = re.compile(r"auto_map\.(Auto\w+)")
LIBRARY_LOADERS = {
    Loader.SENTENCE_TRANSFORMERS: "sentence-transformers",
    Loader.DIFFUSERS: "diffusers",
    Loader.MODELSCOPE: "modelscope",
}


@dataclass(frozen=True)
class Target:
    """A local folder the sandbox can mount, with its snapshot and any extra read-only folders."""

    model_dir: Path
    snapshot: Snapshot
    ro_paths: tuple[str, ...] = ()
    only_file: str | None = None  # set when the target is one file of model_dir


def resolve_target(target: str | Path) -> Target:
    """A folder, a file, an HF cache repo or snapshot folder; hub ids must be downloaded first."""
    from ..sources import single_file_snapshot
    from ..sources.hf_cache import is_cache_repo, snapshot_of
    from ..sources.local import snapshot_from_folder

    path = Path(target).expanduser()
    if not path.exists():
        raise SourceError(
            f"{target}: not a local path (trial runs a local folder; download hub repos first, "
            "e.g. with huggingface-cli download)"
        )
    if path.is_file():
        return Target(path.resolve().parent, single_file_snapshot(path), only_file=path.name)
    if is_cache_repo(path):
        snapshots = sorted((path / "snapshots").iterdir(), key=lambda p: p.stat().st_mtime)
        if not snapshots:
            raise SourceError(f"{target}: HF cache repo without snapshots")
        path = snapshots[-1]
    cache_repo = path.resolve().parent.parent
    if path.resolve().parent.name == "snapshots" and is_cache_repo(cache_repo):
        snapshot = snapshot_of(cache_repo, path, {})
        return Target(path.resolve(), snapshot, ro_paths=(str(cache_repo / "blobs"),))
    return Target(path.resolve(), snapshot_from_folder(path))


def plan_steps(
    plan: LoadPlan, kinds: Mapping[str, FileKind], only_file: str | None = None
) -> list[dict[str, Any]]:
    """The loader calls a real load would make, in order: code loaders first, then weights."""
    steps: list[dict[str, Any]] = []
    eps = [ep for ep in plan.entry_points if ep.cross_repo is None]
    transformers_eps = [ep for ep in eps if ep.loader is Loader.TRANSFORMERS and ep.module]
    if transformers_eps:
        auto: list[str] = []
        for ep in transformers_eps:
            match = _AUTO_CLASS.search(ep.trigger)
            if match and match.group(1) not in auto:
                auto.append(match.group(1))
        steps.append(
            {
                "kind": "transformers",
                "auto": auto,
                "modules": _unique(ep.module for ep in transformers_eps if ep.exists and ep.module),
            }
        )
    if any(ep.loader is Loader.TORCH_HUB for ep in eps):
        entries = [
            ep.qualname
            for ep in eps
            if ep.loader is Loader.TORCH_HUB and ep.kind is EntryKind.FUNCTION
        ]
        steps.append({"kind": "hubconf", "entries": [e for e in entries if e]})
    configs = [ep.module for ep in eps if ep.loader is Loader.MMENGINE and ep.module]
    if configs:
        steps.append({"kind": "library", "library": "mmengine", "configs": _unique(configs)})
    for loader, name in LIBRARY_LOADERS.items():
        modules = [ep.module for ep in eps if ep.loader is loader and ep.module and ep.exists]
        if modules:
            steps.append({"kind": "library", "library": name, "modules": _unique(modules)})
    for weight in plan.weights:
        if weight.kind in PICKLE_KINDS and (only_file is None or weight.path == only_file):
            steps.append({"kind": "pickle", "path": weight.path, "format": weight.kind.value})
    if only_file is not None and not steps and kinds.get(only_file) is FileKind.PYTHON:
        steps.append({"kind": "modules", "modules": [only_file]})
    return steps


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


@dataclass(frozen=True)
class StepOutcome:
    index: int
    spec: Mapping[str, Any]
    ok: bool | None  # None: never finished (killed, timed out)
    seconds: float | None
    result: Mapping[str, Any]
    error: Mapping[str, Any] | None


@dataclass(frozen=True)
class IsolationEvent:
    """Something a layer stopped or ended: the evidence beside telemetry."""

    layer: str
    message: str
    step: int | None = None


@dataclass(frozen=True)
class TrialReport:
    target: str
    repo_id: str
    verdict: Verdict
    layers: tuple[Layer, ...]
    steps: tuple[StepOutcome, ...]
    events: tuple[DynamicEvent, ...]
    findings: tuple[Finding, ...]  # from telemetry, repo/pickle origin only
    isolation_events: tuple[IsolationEvent, ...]
    static: ScanResult | None
    static_error: str | None
    confirmed: tuple[Finding, ...]  # static findings whose line (or pickle) ran
    not_observed: tuple[Finding, ...]  # static findings nothing at run time touched
    missed_by_static: tuple[Finding, ...]  # dynamic findings no static finding covers
    raw: RawRun
    notes: tuple[str, ...] = ()

    def max_severity(self) -> Severity | None:
        found = [f.severity for f in self.findings]
        if self.static is not None:
            found += [f.severity for f in self.static.findings if f.reachable is not False]
        return max(found, default=None)


def run_trial(
    target: str | Path,
    *,
    config: SandboxConfig | None = None,
    static: bool = True,
    analyzers: Sequence[str] | None = None,
    steps: list[dict[str, Any]] | None = None,
) -> TrialReport:
    """Scan (unless ``static=False``), run the planned load in the sandbox, and join both."""
    from ..detect import build_plan

    resolved = resolve_target(target)
    snapshot = resolved.snapshot
    kinds = classify_all(snapshot)
    plan = build_plan(snapshot, kinds)
    scan: ScanResult | None = None
    static_error: str | None = None
    if static:
        try:
            from ..engine import scan_snapshot

            scan = scan_snapshot(snapshot, analyzers=analyzers)
        except Exception as exc:  # the trial still runs; the report says why there is no join
            static_error = f"{type(exc).__name__}: {exc}"
    notes: list[str] = []
    planned = steps if steps is not None else plan_steps(plan, kinds, resolved.only_file)
    if not planned:
        notes.append("the load plan names nothing to run (no code loader, no pickle weights)")
    base = config or SandboxConfig()
    if resolved.ro_paths:
        from dataclasses import replace

        base = replace(base, ro_paths=base.ro_paths + resolved.ro_paths)
    raw = run_in_sandbox(str(resolved.model_dir), planned, base)
    return build_report(str(target), snapshot.repo_id, raw, scan, static_error, notes)


def build_report(
    target: str,
    repo_id: str,
    raw: RawRun,
    scan: ScanResult | None,
    static_error: str | None,
    notes: list[str],
) -> TrialReport:
    layers = evaluate_layers(raw)
    outcomes = _steps(raw)
    step_paths = {o.index: str(o.spec.get("path", "")) for o in outcomes}
    events = parse_events(raw.records)
    findings: list[Finding] = []
    for event in events:
        if event.origin == "runtime":
            continue
        judgement = judge(event)
        if judgement is not None:
            findings.append(to_finding(event, judgement, step_paths))
    findings.sort(key=lambda f: (-f.severity, f.location.path, f.location.line or 0))
    isolation = _isolation_events(raw, outcomes, layers)
    if not raw.first("done") and raw.first("probes") and not raw.timed_out:
        notes.append(
            "telemetry ended before the load finished (the loaded code closed the channel or the "
            "process died): events after that point are unknown"
        )
    if raw.first("truncated"):
        notes.append("telemetry was truncated after too many distinct events")
    if raw.malformed_lines:
        notes.append(f"{raw.malformed_lines} malformed telemetry line(s) ignored (forged?)")
    confirmed, not_observed, missed = _join(scan, findings)
    verdict = _verdict(raw, scan, findings, isolation)
    return TrialReport(
        target=target,
        repo_id=repo_id,
        verdict=verdict,
        layers=layers,
        steps=tuple(outcomes),
        events=tuple(events),
        findings=tuple(findings),
        isolation_events=tuple(isolation),
        static=scan,
        static_error=static_error,
        confirmed=confirmed,
        not_observed=not_observed,
        missed_by_static=missed,
        raw=raw,
        notes=tuple(notes),
    )


def _mapping(value: object) -> dict[str, Any]:
    """A JSON object from the child, or empty: telemetry is untrusted input."""
    return value if isinstance(value, dict) else {}


def _steps(raw: RawRun) -> list[StepOutcome]:
    started = {r["step"]: r for r in raw.all("step-start") if isinstance(r.get("step"), int)}
    ended = {r["step"]: r for r in raw.all("step-end") if isinstance(r.get("step"), int)}
    outcomes = []
    for index, start in sorted(started.items()):
        end = ended.get(index)
        spec = _mapping(start.get("spec"))
        if end is None:
            outcomes.append(StepOutcome(index, spec, None, None, {}, None))
            continue
        result = _mapping(end.get("result"))
        error = _mapping(end.get("error")) or None
        outcomes.append(
            StepOutcome(index, spec, bool(end.get("ok")), end.get("seconds"), result, error)
        )
    return outcomes


# errno / exception -> the layer that most likely stopped the attempt
_ERRNO_LAYER = {
    "ENETUNREACH": "network namespace",
    "EHOSTUNREACH": "network namespace",
    "ECONNREFUSED": "network namespace",
    "EROFS": "model folder read-only / private root",
    "EPERM": "seccomp filter / dropped privileges",
    "EACCES": "non-root user / file permissions",
    "EAGAIN": "resource limits (processes)",
    "EFBIG": "resource limits (file size)",
    "ENOENT": "private root (path absent in the sandbox)",
}


def _errors_in(value: Any) -> list[Mapping[str, Any]]:
    """Error records nested in a step result (per entry point / per class)."""
    found: list[Mapping[str, Any]] = []
    if isinstance(value, dict):
        if "type" in value and "message" in value:
            found.append(value)
        else:
            for inner in value.values():
                found += _errors_in(inner)
    return found


def _isolation_events(
    raw: RawRun, outcomes: list[StepOutcome], layers: tuple[Layer, ...]
) -> list[IsolationEvent]:
    events: list[IsolationEvent] = []
    for outcome in outcomes:
        errors = ([outcome.error] if outcome.error else []) + _errors_in(dict(outcome.result))
        for error in errors:
            kind, code = str(error.get("type", "")), str(error.get("errno", ""))
            message = f"{kind}: {error.get('message', '')}"
            if kind == "MemoryError":
                events.append(
                    IsolationEvent("resource limits (address space)", message, outcome.index)
                )
            elif code in _ERRNO_LAYER:
                events.append(IsolationEvent(_ERRNO_LAYER[code], message, outcome.index))
            elif kind == "gaierror":
                events.append(IsolationEvent("network namespace", message, outcome.index))
    exit_record = raw.first("loader-exit")
    if exit_record and exit_record.get("status") == "signal":
        name = str(exit_record.get("signal_name", ""))
        layer = {
            "SIGXCPU": "resource limits (CPU time)",
            "SIGKILL": "resource limits / kernel",
        }.get(name, "loader crashed")
        events.append(IsolationEvent(layer, f"the loader process was killed by {name}"))
    if raw.timed_out:
        gone = "the whole process tree is gone" if raw.tree_gone else "processes were left"
        events.append(
            IsolationEvent("wall-clock timeout", f"killed after {raw.config.timeout:g}s; {gone}")
        )
    if raw.listener_connections:
        events.append(
            IsolationEvent(
                "network namespace",
                f"FAILED: the host listener received {raw.listener_connections} connection(s)",
            )
        )
    return list(dict.fromkeys(events))  # an entry re-imported per call repeats its errors


def _covers(static: Finding, dynamic: Finding) -> bool:
    if static.location.path != dynamic.location.path or not static.location.path:
        return False
    if static.location.line is None or dynamic.location.line is None:
        return True  # whole-file findings (pickles) match any event of that file
    end = static.location.end_line or static.location.line
    lines = {dynamic.location.line}
    lines |= {
        int(step.rsplit(":", 1)[1].split()[0])
        for step in dynamic.witness
        if step.startswith(static.location.path + ":")
    }
    return any(static.location.line <= n <= end for n in lines)


def _join(
    scan: ScanResult | None, findings: list[Finding]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[Finding, ...]]:
    dynamic = [f for f in findings if f.severity > Severity.INFO]
    if scan is None:
        return (), (), tuple(dynamic)
    statics = [f for f in scan.findings if f.severity > Severity.INFO]
    confirmed = tuple(s for s in statics if any(_covers(s, d) for d in dynamic))
    not_observed = tuple(s for s in statics if s not in confirmed)
    missed = tuple(d for d in dynamic if not any(_covers(s, d) for s in statics))
    return confirmed, not_observed, missed


def _verdict(
    raw: RawRun, scan: ScanResult | None, findings: list[Finding], isolation: list[IsolationEvent]
) -> Verdict:
    if raw.first("probes") is None:
        return Verdict.ERROR  # nothing ran under verified isolation
    worst = max((f.severity for f in findings), default=None)
    if worst is Severity.CRITICAL:
        dynamic = Verdict.MALICIOUS_LIKELY
    elif worst is Severity.HIGH:
        dynamic = Verdict.DANGEROUS
    elif (
        worst is Severity.MEDIUM
        or raw.timed_out
        or any(e.layer.startswith("resource limits") for e in isolation)
    ):
        dynamic = Verdict.REVIEW
    elif any(f.rule_id == "LG-DYN-000" for f in findings):
        dynamic = Verdict.REVIEW  # repository code ran: someone should read it
    else:
        dynamic = Verdict.CLEAN
    if scan is not None and scan.verdict is not Verdict.ERROR and scan.verdict.rank > dynamic.rank:
        return scan.verdict
    return dynamic


# --------------------------------------------------------------------------- JSON


def report_to_dict(report: TrialReport) -> dict[str, Any]:
    from ..model import SCHEMA_VERSION
    from ..report.json import finding_to_dict, result_to_dict

    raw = report.raw
    return {
        "schema": "loadguard-trial",
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "loadguard", "version": __version__},
        "target": report.target,
        "repo_id": report.repo_id,
        "verdict": report.verdict.value,
        "boundary": BOUNDARY_NOTE,
        "layers": [
            {"name": layer.name, "status": layer.status.value, "detail": layer.detail}
            for layer in report.layers
        ],
        "steps": [
            {
                "index": s.index,
                "spec": dict(s.spec),
                "ok": s.ok,
                "seconds": s.seconds,
                "result": dict(s.result),
                "error": dict(s.error) if s.error else None,
            }
            for s in report.steps
        ],
        "findings": [finding_to_dict(f) for f in report.findings],
        "events": [
            {
                "event": e.event,
                "detail": dict(e.detail),
                "origin": e.origin,
                "frames": [list(f) for f in e.frames],
                "step": e.step,
                "pid": e.pid,
                "count": e.count,
            }
            for e in report.events
        ],
        "isolation_events": [
            {"layer": e.layer, "message": e.message, "step": e.step}
            for e in report.isolation_events
        ],
        "join": {
            "static_available": report.static is not None,
            "static_error": report.static_error,
            "confirmed_at_run_time": [f.fingerprint for f in report.confirmed],
            "not_observed": [f.fingerprint for f in report.not_observed],
            "missed_by_static": [f.fingerprint for f in report.missed_by_static],
        },
        "static": result_to_dict(report.static) if report.static is not None else None,
        "process": {
            "seconds": round(raw.seconds, 3),
            "timed_out": raw.timed_out,
            "tree_gone": raw.tree_gone,
            "runner_returncode": raw.returncode,
            "loader_exit": raw.first("loader-exit"),
            "python": raw.config.python,
            "start_error": raw.start_error,
            "stdout_tail": raw.stdout_tail,
            "stderr_tail": raw.stderr_tail,
        },
        "notes": list(report.notes),
    }
