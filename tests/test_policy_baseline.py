from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from cli_support import run_cli
from loadguard.baseline import (
    Baseline,
    build_baseline,
    load_baseline,
    parse_expiry,
    write_baseline,
)
from loadguard.errors import PolicyError
from loadguard.model import Confidence, Finding, Location, Severity
from loadguard.policy import EXIT_PASS, EXIT_VIOLATION, apply_policy, preset
from report_samples import backdoor_result

TODAY = date(2026, 11, 22)
MakeRepo = Callable[..., Path]


def test_baseline_suppresses_accepted_findings_and_reports_new_ones(tmp_path: Path) -> None:
    result = backdoor_result()
    policy = preset("balanced")
    first = apply_policy(policy, [result], today=TODAY)
    baseline = build_baseline(
        first.repos,
        reason="vendored, reviewed in SEC-12",
        expires=TODAY + timedelta(days=30),
        today=TODAY,
    )
    path = tmp_path / "baseline.json"
    write_baseline(baseline, path)
    loaded = load_baseline(path)
    assert loaded == baseline and len(loaded.entries) == len(result.findings)

    again = apply_policy(policy, [result], baseline=loaded, today=TODAY)
    repo = again.repos[0]
    assert repo.result.findings == () and len(repo.suppressed) == len(result.findings)
    assert all(entry.reason.startswith("vendored") for _, entry in repo.suppressed)

    new = Finding(
        "LG-CMD-001",
        "native",
        "os.system at load",
        Severity.HIGH,
        Confidence.HIGH,
        Location("modeling_fast.py", line=3),
        snippet="os.system(cmd)",
        reachable=True,
    )
    changed = dataclasses.replace(result, findings=(*result.findings, new))
    gate = apply_policy(policy, [changed], baseline=loaded, today=TODAY)
    assert [f.snippet for f in gate.repos[0].result.findings] == ["os.system(cmd)"]
    assert gate.exit_code == EXIT_VIOLATION


def test_line_shifts_keep_suppressing() -> None:
    result = backdoor_result()
    baseline = build_baseline(
        apply_policy(preset("balanced"), [result]).repos,
        reason="ok",
        expires=TODAY + timedelta(1),
        today=TODAY,
    )
    shifted = tuple(
        dataclasses.replace(
            f, location=dataclasses.replace(f.location, line=(f.location.line or 0) + 7)
        )
        for f in result.findings
    )
    gate = apply_policy(
        preset("balanced"),
        [dataclasses.replace(result, findings=shifted)],
        baseline=baseline,
        today=TODAY,
    )
    assert gate.repos[0].result.findings == ()


def test_expired_entries_stop_suppressing_and_are_reported() -> None:
    result = backdoor_result()
    baseline = build_baseline(
        apply_policy(preset("balanced"), [result]).repos,
        reason="temporary",
        expires=TODAY,
        today=TODAY,
    )
    on_the_day = apply_policy(preset("balanced"), [result], baseline=baseline, today=TODAY)
    assert on_the_day.repos[0].result.findings == ()
    later = apply_policy(
        preset("balanced"), [result], baseline=baseline, today=TODAY + timedelta(days=1)
    )
    repo = later.repos[0]
    assert len(repo.result.findings) == len(result.findings)
    assert len(repo.expired) == len(result.findings) and repo.suppressed == ()
    assert later.exit_code == EXIT_VIOLATION
    assert repo.to_dict()["expired_baseline_entries"][0]["reason"] == "temporary"


def test_baselines_are_per_repository() -> None:
    result = backdoor_result()
    baseline = build_baseline(
        apply_policy(preset("balanced"), [result]).repos,
        reason="ok",
        expires=TODAY + timedelta(9),
        today=TODAY,
    )
    other = dataclasses.replace(
        result, snapshot=dataclasses.replace(result.snapshot, repo_id="someone/else")
    )
    gate = apply_policy(preset("balanced"), [other], baseline=baseline, today=TODAY)
    assert len(gate.repos[0].result.findings) == len(result.findings)


def test_rewriting_keeps_live_entries_and_drops_expired(tmp_path: Path) -> None:
    result = backdoor_result()
    repos = apply_policy(preset("balanced"), [result]).repos
    old = build_baseline(
        repos, reason="first", expires=TODAY - timedelta(days=1), today=TODAY - timedelta(days=5)
    )
    fresh = build_baseline(
        repos, reason="second", expires=TODAY + timedelta(days=5), previous=old, today=TODAY
    )
    assert {e.reason for e in fresh.entries} == {"second"}
    kept = build_baseline(
        (), reason="third", expires=TODAY + timedelta(days=5), previous=fresh, today=TODAY
    )
    assert kept.entries == fresh.entries


def test_expiry_parsing_and_validation() -> None:
    assert parse_expiry("90d", TODAY) == TODAY + timedelta(days=90)
    assert parse_expiry("2w", TODAY) == TODAY + timedelta(days=14)
    assert parse_expiry("2027-01-31", TODAY) == date(2027, 1, 31)
    with pytest.raises(PolicyError):
        parse_expiry("soon", TODAY)
    with pytest.raises(PolicyError):
        build_baseline((), reason="  ", expires=TODAY)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"schema": "other", "version": 1, "entries": []}),
        json.dumps({"schema": "loadguard-baseline", "version": 99, "entries": []}),
        json.dumps(
            {"schema": "loadguard-baseline", "version": 1, "entries": [{"fingerprint": "x"}]}
        ),
        json.dumps(
            {
                "schema": "loadguard-baseline",
                "version": 1,
                "entries": [
                    {"fingerprint": "x", "rule_id": "r", "reason": "y", "expires": "someday"}
                ],
            }
        ),
    ],
)
def test_malformed_baselines_are_policy_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(PolicyError):
        load_baseline(path)


def test_cli_write_baseline_then_scan_with_it(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(
        {"config.json": {"trust_remote_code": True, "model_type": "bert"}}, name="risky"
    )
    assert run_cli("scan", str(repo), "--preset", "balanced").exit_code == EXIT_VIOLATION
    baseline = tmp_path / "accepted.json"
    written = run_cli(
        "scan",
        str(repo),
        "--preset",
        "balanced",
        "--write-baseline",
        str(baseline),
        "--baseline-reason",
        "our own model",
        "--baseline-expires",
        "30d",
    )
    assert written.exit_code == EXIT_PASS, written.output
    data = json.loads(baseline.read_text())
    assert data["schema"] == "loadguard-baseline" and data["entries"]
    assert all(e["reason"] == "our own model" for e in data["entries"])
    result = run_cli("scan", str(repo), "--preset", "balanced", "--baseline", str(baseline))
    assert result.exit_code == EXIT_PASS, result.output
    assert "accepted by the baseline" in result.output
    missing_reason = run_cli("scan", str(repo), "--write-baseline", str(tmp_path / "x.json"))
    assert missing_reason.exit_code == 2


def test_empty_baseline_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    write_baseline(Baseline(()), path)
    assert load_baseline(path).entries == ()
