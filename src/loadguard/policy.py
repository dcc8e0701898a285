"""The CI gate: a policy turns scan results into a pass/fail verdict per repo and an exit code.

A policy comes from a preset (``strict``, ``balanced``, ``audit``), a
``loadguard.toml`` file, or ``[tool.loadguard]`` in ``pyproject.toml``; a file
starts from a preset (``preset = "balanced"``) and overrides keys. Applying a
policy never mutates a ``ScanResult``: it returns a new one whose findings have
per-rule overrides applied, ignored paths and baselined findings removed, and
policy violations (trust flags, unpinned revisions, pickle weights) added as
findings of analyzer ``policy`` so every report format shows them.

Baselines (accepted findings, ``loadguard.baseline``) are applied here too; that
module is imported only when a run reads or writes one.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import PolicyError
from .model import (
    Confidence,
    EntryKind,
    EntryPoint,
    Finding,
    Location,
    ScanError,
    ScanResult,
    Severity,
    Verdict,
)

if TYPE_CHECKING:
    from .baseline import Baseline, BaselineEntry

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")

EXIT_PASS = 0
EXIT_VIOLATION = 1
EXIT_ERROR = 2

# Policy findings: stable ids so they can be overridden and baselined like any other.
RULE_TRUST_FLAG = "LG-POL-001"
RULE_UNPINNED = "LG-POL-002"
RULE_UNPINNED_CROSS = "LG-POL-003"
RULE_PICKLE_WEIGHTS = "LG-POL-004"


class GateVerdict(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class RuleOverride:
    """A policy's change to one rule: another severity, or off."""

    severity: Severity | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Policy:
    """What fails the gate: severity threshold, trust flags, pinning, weight formats, paths."""

    name: str
    fail_on: Severity | None  # None: findings never fail the gate
    fail_on_unreachable: bool = False  # count findings reach analysis proved unreachable
    allowed_trust_flags: frozenset[str] | None = None  # None: any flag is allowed
    require_pinned_revision: bool = False
    require_data_only_weights: bool = False
    allowed_pickle_globals: tuple[str, ...] = ()  # "module.name" globs a pickle may import
    ignore_paths: tuple[str, ...] = ()  # gitignore-style
    rules: Mapping[str, RuleOverride] = field(default_factory=dict)
    fail_on_errors: bool = True  # a file that could not be scanned fails with exit 2
    never_fail: bool = False  # audit: report everything, exit 0

    def override_for(self, rule_id: str) -> RuleOverride | None:
        exact = self.rules.get(rule_id)
        if exact is not None:
            return exact
        import fnmatch  # only policies with rule overrides get here

        for pattern, override in self.rules.items():
            if fnmatch.fnmatchcase(rule_id, pattern):
                return override
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fail_on": self.fail_on.label if self.fail_on is not None else "never",
            "fail_on_unreachable": self.fail_on_unreachable,
            "allowed_trust_flags": sorted(self.allowed_trust_flags)
            if self.allowed_trust_flags is not None
            else None,
            "require_pinned_revision": self.require_pinned_revision,
            "require_data_only_weights": self.require_data_only_weights,
            "allowed_pickle_globals": list(self.allowed_pickle_globals),
            "ignore_paths": list(self.ignore_paths),
            "rules": {
                k: {
                    "severity": v.severity.label if v.severity is not None else None,
                    "enabled": v.enabled,
                }
                for k, v in sorted(self.rules.items())
            },
            "fail_on_errors": self.fail_on_errors,
            "never_fail": self.never_fail,
        }


PRESETS: dict[str, Policy] = {
    # CI default: no trust flags, pinned commits, data-only weights, medium and up fails.
    "strict": Policy(
        name="strict",
        fail_on=Severity.MEDIUM,
        fail_on_unreachable=True,
        allowed_trust_flags=frozenset(),
        require_pinned_revision=True,
        require_data_only_weights=True,
    ),
    # Day to day: reachable high findings fail; trust flags and pickles are reported only.
    "balanced": Policy(name="balanced", fail_on=Severity.HIGH),
    # Inventory runs: report everything, never fail.
    "audit": Policy(name="audit", fail_on=None, fail_on_errors=False, never_fail=True),
}

_KEYS = {
    "preset",
    "fail_on",
    "fail_on_unreachable",
    "allowed_trust_flags",
    "require_pinned_revision",
    "require_data_only_weights",
    "allowed_pickle_globals",
    "ignore_paths",
    "rules",
    "fail_on_errors",
}


def preset(name: str) -> Policy:
    try:
        return PRESETS[name]
    except KeyError:
        raise PolicyError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})") from None


def load_policy(path: Path) -> Policy:
    """A policy from ``loadguard.toml`` (top level) or ``pyproject.toml`` (``[tool.loadguard]``)."""
    tomllib = _tomllib()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("loadguard") if isinstance(tool, dict) else None
        if not isinstance(section, dict):
            raise PolicyError(f"{path}: no [tool.loadguard] section")
        data = section
    return policy_from_mapping(data, source=str(path))


def choose_policy(
    path: Path | None, preset_name: str | None, fail_on: str | None, cwd: Path
) -> Policy:
    """The CLI's choice: --policy, else --preset, else a policy file in ``cwd``, else balanced.

    An explicit ``fail_on`` ("never" or a severity) overrides the chosen policy's.
    """
    if path is not None and preset_name is not None:
        raise PolicyError("use --policy or --preset, not both (a file can say preset = ...)")
    if path is not None:
        policy = load_policy(path)
    elif preset_name is not None:
        policy = preset(preset_name)
    else:
        found = find_policy(cwd)
        policy = load_policy(found) if found is not None else preset("balanced")
    if fail_on is not None:
        threshold = None if fail_on.strip().lower() == "never" else _severity(fail_on, "--fail-on")
        policy = dataclasses.replace(policy, fail_on=threshold)
    return policy


def find_policy(directory: Path) -> Path | None:
    """``loadguard.toml``, else a ``pyproject.toml`` with ``[tool.loadguard]``, in ``directory``."""
    candidate = directory / "loadguard.toml"
    if candidate.is_file():
        return candidate
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        tomllib = _tomllib()
        try:
            text = pyproject.read_text(encoding="utf-8")
            if "loadguard" not in text:  # most projects: no need to parse the file
                return None
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        tool = data.get("tool")
        if isinstance(tool, dict) and isinstance(tool.get("loadguard"), dict):
            return pyproject
    return None


def _tomllib() -> Any:
    """tomllib (tomli before 3.11), imported only when a policy file is read."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    return tomllib


def policy_from_mapping(raw: Mapping[str, Any], *, source: str = "policy") -> Policy:
    data = {str(k).replace("-", "_"): v for k, v in raw.items()}
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise PolicyError(f"{source}: unknown key(s) {', '.join(unknown)}")
    base = preset(_str(data.get("preset", "strict"), "preset", source))
    changes: dict[str, Any] = {"name": f"{base.name}+{Path(source).name}"}
    if "fail_on" in data:
        text = _str(data["fail_on"], "fail-on", source)
        changes["fail_on"] = None if text == "never" else _severity(text, source)
    for key in ("fail_on_unreachable", "require_pinned_revision", "require_data_only_weights"):
        if key in data:
            changes[key] = _bool(data[key], key, source)
    if "fail_on_errors" in data:
        changes["fail_on_errors"] = _bool(data["fail_on_errors"], "fail_on_errors", source)
    if "allowed_trust_flags" in data:
        flags = data["allowed_trust_flags"]
        changes["allowed_trust_flags"] = (
            None if flags == "any" else frozenset(_strs(flags, "allowed-trust-flags", source))
        )
    if "allowed_pickle_globals" in data:
        changes["allowed_pickle_globals"] = tuple(
            _strs(data["allowed_pickle_globals"], "allowed-pickle-globals", source)
        )
    if "ignore_paths" in data:
        changes["ignore_paths"] = tuple(_strs(data["ignore_paths"], "ignore-paths", source))
    if "rules" in data:
        changes["rules"] = _rules(data["rules"], source)
    return dataclasses.replace(base, **changes)


def _rules(raw: object, source: str) -> dict[str, RuleOverride]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: rules must be a table of rule id -> settings")
    rules: dict[str, RuleOverride] = {}
    for rule_id, settings in raw.items():
        if not isinstance(settings, dict):
            raise PolicyError(f"{source}: rules.{rule_id} must be a table")
        extra = set(settings) - {"severity", "enabled"}
        if extra:
            raise PolicyError(
                f"{source}: rules.{rule_id}: unknown key(s) {', '.join(sorted(extra))}"
            )
        severity = settings.get("severity")
        rules[str(rule_id)] = RuleOverride(
            severity=_severity(_str(severity, "severity", source), source)
            if severity is not None
            else None,
            enabled=_bool(settings.get("enabled", True), f"rules.{rule_id}.enabled", source),
        )
    return rules


def _str(value: object, key: str, source: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"{source}: {key} must be a string")
    return value


def _bool(value: object, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"{source}: {key} must be true or false")
    return value


def _strs(value: object, key: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{source}: {key} must be a list of strings")
    return list(value)


def _severity(text: str, source: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise PolicyError(f"{source}: {exc}") from None


# --------------------------------------------------------------------------- ignore globs


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-style: no slash matches at any depth; ``**`` spans folders; ``dir/`` a tree."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    directory = pattern.endswith("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    core = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(f"^{prefix}{core}{suffix}$")


class PathMatcher(NamedTuple):
    """Gitignore-style path patterns; the last match wins (a NamedTuple: cheap to define)."""

    patterns: tuple[str, ...]

    def matches(self, path: str) -> bool:
        """Last matching pattern wins; ``!pattern`` re-includes."""
        path = path.split("!", 1)[0] if "!" in path and not path.startswith("!") else path
        ignored = False
        for pattern in self.patterns:
            negate = pattern.startswith("!")
            core = pattern[1:] if negate else pattern
            if core and _compiled(core).match(path):
                ignored = not negate
        return ignored


_GLOB_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _GLOB_CACHE.get(pattern)
    if compiled is None:
        compiled = _GLOB_CACHE[pattern] = _glob_regex(pattern)
    return compiled


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class RepoGate:
    """One repository after the policy: what is reported, what was set aside, and why it fails."""

    result: ScanResult  # findings after overrides, ignores and baseline; policy findings added
    verdict: GateVerdict
    reasons: tuple[str, ...]
    suppressed: tuple[tuple[Finding, BaselineEntry], ...] = ()
    ignored: tuple[Finding, ...] = ()
    disabled: tuple[Finding, ...] = ()
    expired: tuple[BaselineEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "suppressed": [
                {
                    "fingerprint": f.fingerprint,
                    "rule_id": f.rule_id,
                    "path": f.location.path,
                    "reason": e.reason,
                    "expires": e.expires.isoformat(),
                }
                for f, e in self.suppressed
            ],
            "ignored": len(self.ignored),
            "disabled": len(self.disabled),
            "expired_baseline_entries": [e.to_dict() for e in self.expired],
        }


@dataclass(frozen=True)
class Gate:
    """The policy's judgement of a whole run: one ``RepoGate`` per scanned repository."""

    policy: Policy
    repos: tuple[RepoGate, ...]
    source_errors: tuple[ScanError, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 pass, 1 a policy violation, 2 an error; a violation outranks an error."""
        if self.policy.never_fail:
            return EXIT_PASS
        if any(r.verdict is GateVerdict.FAIL for r in self.repos):
            return EXIT_VIOLATION
        if any(r.verdict is GateVerdict.ERROR for r in self.repos) or (
            self.source_errors and self.policy.fail_on_errors
        ):
            return EXIT_ERROR
        return EXIT_PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "exit_code": self.exit_code,
            "passed": sum(r.verdict is GateVerdict.PASS for r in self.repos),
            "failed": sum(r.verdict is GateVerdict.FAIL for r in self.repos),
            "errored": sum(r.verdict is GateVerdict.ERROR for r in self.repos),
        }


def apply_policy(
    policy: Policy,
    results: Iterable[ScanResult],
    source_errors: Iterable[ScanError] = (),
    *,
    baseline: Baseline | None = None,
    today: date | None = None,
) -> Gate:
    today = today or today_utc()
    repos = tuple(gate_result(policy, r, baseline=baseline, today=today) for r in results)
    return Gate(policy, repos, tuple(source_errors))


def gate_result(
    policy: Policy,
    result: ScanResult,
    *,
    baseline: Baseline | None = None,
    today: date | None = None,
) -> RepoGate:
    today = today or today_utc()
    ignore = PathMatcher(policy.ignore_paths)
    kept: list[Finding] = []
    ignored: list[Finding] = []
    disabled: list[Finding] = []
    suppressed: list[tuple[Finding, BaselineEntry]] = []
    expired: list[BaselineEntry] = []
    repo_id = result.snapshot.repo_id
    for finding in [*result.findings, *policy_findings(policy, result)]:
        if ignore.matches(finding.location.path):
            ignored.append(finding)
            continue
        override = policy.override_for(finding.rule_id)
        if override is not None and not override.enabled:
            disabled.append(finding)
            continue
        if override is not None and override.severity is not None:
            finding = dataclasses.replace(finding, severity=override.severity)
        if _allowed_pickle(finding, policy.allowed_pickle_globals):
            disabled.append(finding)
            continue
        entry = baseline.lookup(repo_id, finding.fingerprint) if baseline is not None else None
        if entry is not None and not entry.expired(today):
            suppressed.append((finding, entry))
            continue
        if entry is not None:
            expired.append(entry)
        kept.append(finding)
    kept.sort(key=lambda f: -f.rank)
    reasons = _failures(policy, kept)
    errors = result.errors if policy.fail_on_errors else ()
    if policy.never_fail:
        verdict = GateVerdict.PASS
    elif reasons:
        verdict = GateVerdict.FAIL
    elif errors or result.verdict is Verdict.ERROR:
        verdict = GateVerdict.ERROR
        reasons = [f"{len(result.errors)} file(s) could not be scanned"]
    else:
        verdict = GateVerdict.PASS
    return RepoGate(
        result=dataclasses.replace(result, findings=tuple(kept)),
        verdict=verdict,
        reasons=tuple(reasons),
        suppressed=tuple(suppressed),
        ignored=tuple(ignored),
        disabled=tuple(disabled),
        expired=tuple(expired),
    )


def _failures(policy: Policy, kept: list[Finding]) -> list[str]:
    reasons: list[str] = []
    for finding in kept:
        if finding.analyzer == "policy":
            if policy.fail_on is None or finding.severity >= policy.fail_on:
                reasons.append(finding.message)
            continue
        if policy.fail_on is None or finding.severity < policy.fail_on:
            continue
        if finding.reachable is False and not policy.fail_on_unreachable:
            continue
        where = finding.location.path + (
            f":{finding.location.line}" if finding.location.line else ""
        )
        summary = finding.message.split(". ", 1)[0]
        summary = summary if len(summary) <= 120 else summary[:117] + "..."
        reasons.append(f"{finding.rule_id} ({finding.severity.label}) at {where}: {summary}")
    return list(dict.fromkeys(reasons))


def policy_findings(policy: Policy, result: ScanResult) -> list[Finding]:
    """Requirements of the policy the repo does not meet, as findings every report shows."""
    findings: list[Finding] = []
    plan = result.plan
    if policy.allowed_trust_flags is not None:
        # Pickle weights' weights_only=False is require-data-only-weights' business (POL-004).
        flagged: dict[str, list[EntryPoint]] = {}
        for entry in plan.entry_points:
            if entry.trust_flag and entry.kind is not EntryKind.WEIGHTS:
                flagged.setdefault(entry.trust_flag, []).append(entry)
        for flag, entries in sorted(flagged.items()):
            if flag in policy.allowed_trust_flags:
                continue
            triggers = sorted({e.trigger for e in entries})
            first = triggers[0].split(" ", 1)[0]
            where = first if "." in first else (entries[0].module or "")
            findings.append(
                _policy_finding(
                    RULE_TRUST_FLAG,
                    f"loading needs {flag}, which the policy does not allow "
                    f"({', '.join(triggers[:3])})",
                    where,
                    ("CWE-829",),
                )
            )
    if policy.require_pinned_revision:
        revision = result.snapshot.revision
        if not (revision and COMMIT_RE.match(revision)):
            findings.append(
                _policy_finding(
                    RULE_UNPINNED,
                    "the scanned revision is not a pinned commit: pin it with `loadguard lock` "
                    "and load with revision=<commit>",
                    "",
                    ("CWE-494",),
                )
            )
        for ref in plan.cross_repo_refs:
            if not ref.pinned:
                findings.append(
                    _policy_finding(
                        RULE_UNPINNED_CROSS,
                        f"code from {ref.repo_id} ({ref.trigger}) is not pinned: "
                        "load with code_revision=<commit>",
                        ref.trigger.split(" ", 1)[0],
                        ("CWE-494",),
                    )
                )
    if policy.require_data_only_weights:
        for weight in plan.weights:
            if weight.pickle_based:
                findings.append(
                    _policy_finding(
                        RULE_PICKLE_WEIGHTS,
                        f"{weight.path} is {weight.kind.value}, a pickle-based format: convert it "
                        "with `loadguard convert` or load safetensors only",
                        weight.path,
                        ("CWE-502",),
                    )
                )
    return findings


def _policy_finding(rule_id: str, message: str, path: str, cwe: tuple[str, ...]) -> Finding:
    return Finding(
        rule_id=rule_id,
        analyzer="policy",
        message=message,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        location=Location(path),
        cwe=cwe,
        reachable=True,  # no snippet: the message is the fingerprint anchor
    )


_QUALNAME_RE = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+")
_GLOBAL_OPCODE_RE = re.compile(
    r"(?:STACK_)?GLOBAL\s+(?:'([\w.]+)'\s+'([\w.]+)'|([\w.]+)\s+([\w.]+))"
)


def pickle_globals(finding: Finding) -> set[str]:
    """The ``module.name`` globals a pickle finding names.

    The pickle analyzer puts the qualified name in the snippet (and, for class
    lists, in the evidence); opcode trails like ``GLOBAL 'os' 'system'`` count too.
    """
    names: set[str] = set()
    for text in (finding.snippet, *finding.evidence):
        stripped = text.strip()
        if _QUALNAME_RE.fullmatch(stripped):
            names.add(stripped)
            continue
        match = _GLOBAL_OPCODE_RE.fullmatch(stripped)
        if match:
            module = match.group(1) or match.group(3)
            name = match.group(2) or match.group(4)
            names.add(f"{module}.{name}")
    return names


def _allowed_pickle(finding: Finding, allowed: Sequence[str]) -> bool:
    """A pickle finding is dropped when every global it names is allowed by the policy."""
    if not allowed or not (finding.analyzer == "pickle" or finding.rule_id.startswith("LG-PKL")):
        return False
    import fnmatch

    names = pickle_globals(finding)
    return bool(names) and all(any(fnmatch.fnmatchcase(n, p) for p in allowed) for n in names)
