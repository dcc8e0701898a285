"""Baselines: findings accepted in repos you do not own, each with a reason and an expiry.

Inline suppressions are impossible in someone else's repository, so accepted
findings are recorded by fingerprint (``--write-baseline``) and the gate
(``loadguard.policy``) reports only new ones. An expired entry stops
suppressing and is reported. Kept apart from the policy so a run without a
baseline does not pay for it at start-up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PolicyError
from .policy import today_utc

if TYPE_CHECKING:
    from .policy import RepoGate

BASELINE_SCHEMA = "loadguard-baseline"
BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineEntry:
    """One accepted finding, by fingerprint: why it was accepted, when, and until when."""

    fingerprint: str
    rule_id: str
    repo_id: str
    path: str
    reason: str
    expires: date
    added: date

    def expired(self, today: date) -> bool:
        return today > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "repo_id": self.repo_id,
            "path": self.path,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "added": self.added.isoformat(),
        }


@dataclass(frozen=True)
class Baseline:
    """Accepted findings (``--write-baseline``): the gate reports only new ones."""

    entries: tuple[BaselineEntry, ...]

    def lookup(self, repo_id: str, fingerprint: str) -> BaselineEntry | None:
        index: dict[tuple[str, str], BaselineEntry] | None = self.__dict__.get("_index")
        if index is None:
            index = {(e.repo_id, e.fingerprint): e for e in self.entries}
            object.__setattr__(self, "_index", index)
        return index.get((repo_id, fingerprint)) or index.get(("*", fingerprint))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": BASELINE_SCHEMA,
            "version": BASELINE_VERSION,
            "entries": [e.to_dict() for e in self.entries],
        }


def load_baseline(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PolicyError(f"{path}: cannot read baseline: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != BASELINE_SCHEMA:
        raise PolicyError(f"{path}: not a loadguard baseline (schema {BASELINE_SCHEMA!r})")
    if data.get("version") != BASELINE_VERSION:
        raise PolicyError(f"{path}: unsupported baseline version {data.get('version')!r}")
    entries = []
    for number, raw in enumerate(data.get("entries", [])):
        try:
            entries.append(
                BaselineEntry(
                    fingerprint=str(raw["fingerprint"]),
                    rule_id=str(raw["rule_id"]),
                    repo_id=str(raw.get("repo_id", "*")),
                    path=str(raw.get("path", "")),
                    reason=str(raw["reason"]),
                    expires=date.fromisoformat(str(raw["expires"])),
                    added=date.fromisoformat(str(raw.get("added", raw["expires"]))),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"{path}: entry {number}: {exc!r}") from exc
    return Baseline(tuple(entries))


def parse_expiry(text: str, today: date) -> date:
    """``2027-01-31`` or a duration like ``90d`` / ``12w`` from today."""
    match = re.fullmatch(r"(\d+)([dw])", text.strip())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        return today + timedelta(days=days)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PolicyError(f"expiry {text!r}: use YYYY-MM-DD or a duration like 90d") from None


def build_baseline(
    gates: Sequence[RepoGate],
    *,
    reason: str,
    expires: date,
    today: date | None = None,
    previous: Baseline | None = None,
) -> Baseline:
    """Accept every finding the gate shows now; keep unexpired earlier entries."""
    today = today or today_utc()
    if not reason.strip():
        raise PolicyError("a baseline needs a reason (--baseline-reason)")
    entries: dict[tuple[str, str], BaselineEntry] = {}
    if previous is not None:
        for entry in previous.entries:
            if not entry.expired(today):
                entries[(entry.repo_id, entry.fingerprint)] = entry
    for gate in gates:
        repo_id = gate.result.snapshot.repo_id
        for finding in gate.result.findings:
            key = (repo_id, finding.fingerprint)
            if key not in entries:
                entries[key] = BaselineEntry(
                    fingerprint=finding.fingerprint,
                    rule_id=finding.rule_id,
                    repo_id=repo_id,
                    path=finding.location.path,
                    reason=reason,
                    expires=expires,
                    added=today,
                )
    return Baseline(tuple(sorted(entries.values(), key=lambda e: (e.repo_id, e.path, e.rule_id))))


def write_baseline(baseline: Baseline, path: Path) -> None:
    path.write_text(json.dumps(baseline.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
