from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loadguard.api import iter_scan
from loadguard.model import ScanError, ScanResult
from loadguard.report.sarif import SuppressedFinding, results_to_sarif, sarif_dumps
from report_samples import COMMIT, backdoor_result, clean_result
from sarif_schema import SARIF_SCHEMA

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(SARIF_SCHEMA)


def _validate(validator: jsonschema.Draft4Validator, log: dict[str, Any]) -> None:
    # Round-trip through the serializer: what we validate is what we write.
    document = json.loads(sarif_dumps(log))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_sample_results_validate_and_carry_rule_metadata(
    validator: jsonschema.Draft4Validator, tmp_path: Path
) -> None:
    log = results_to_sarif([backdoor_result(), clean_result()], root=tmp_path)
    _validate(validator, log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"LG-CMD-001", "LG-PKL-001", "LG-NET-002", "LG-CFG-001"}
    cmd = rules["LG-CMD-001"]
    assert "external/cwe/cwe-78" in cmd["properties"]["tags"]
    assert float(cmd["properties"]["security-severity"]) >= 9.0
    assert cmd["shortDescription"]["text"] and cmd["help"]["text"]
    assert "external/cwe/cwe-502" in rules["LG-PKL-001"]["properties"]["tags"]
    assert 4.0 <= float(rules["LG-NET-002"]["properties"]["security-severity"]) < 7.0
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert len(result["partialFingerprints"]["loadguard/v1"]) == 32


def test_witness_becomes_a_code_flow_ending_at_the_finding(tmp_path: Path) -> None:
    log = results_to_sarif([backdoor_result()], root=tmp_path)
    cmd = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LG-CMD-001")
    steps = cmd["codeFlows"][0]["threadFlows"][0]["locations"]
    texts = [s["location"]["message"]["text"] for s in steps]
    assert texts[0] == "config.json auto_map.AutoModelForCausalLM"
    assert texts[2] == "kernels/loader.py::load_kernels"
    uris = [
        s["location"].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
        for s in steps
    ]
    assert uris[:3] == ["config.json", "modeling_fast.py", "kernels/loader.py"]
    final = steps[-1]["location"]["physicalLocation"]
    assert final["region"]["startLine"] == 12
    assert final["region"]["startColumn"] == 5  # AST column 4 -> SARIF 1-based
    # A finding without a witness has no code flow.
    net = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LG-NET-002")
    assert "codeFlows" not in net


def test_binary_offset_and_archive_member(tmp_path: Path) -> None:
    log = results_to_sarif([backdoor_result()], root=tmp_path)
    pkl = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LG-PKL-001")
    physical = pkl["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "training_args.bin"
    assert physical["region"] == {"byteOffset": 57, "byteLength": 1}
    assert pkl["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "training_args.bin!archive/data.pkl"
    )


def test_local_repo_paths_are_relative_to_the_checkout_root(tmp_path: Path) -> None:
    repo = tmp_path / "models" / "fast lm"
    repo.mkdir(parents=True)
    log = results_to_sarif([backdoor_result(repo)], root=tmp_path)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "models/fast%20lm/kernels/loader.py" in uris
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file://")


def test_errors_become_tool_execution_notifications(
    validator: jsonschema.Draft4Validator, tmp_path: Path
) -> None:
    source_error = ScanError("hf:missing/repo", "source", "repository not found", "source")
    log = results_to_sarif([backdoor_result()], [source_error], root=tmp_path)
    _validate(validator, log)
    invocation = log["runs"][0]["invocations"][0]
    notes = invocation["toolExecutionNotifications"]
    assert invocation["executionSuccessful"] is False
    ids = {n["descriptor"]["id"] for n in notes}
    assert {"parse/parse", "source/symlink-escape", "source/source"} <= ids
    levels = {n["descriptor"]["id"]: n["level"] for n in notes}
    assert levels["source/source"] == "error" and levels["parse/parse"] == "warning"
    hostile = next(n for n in notes if n["descriptor"]["id"] == "source/symlink-escape")
    # Non-UTF-8 names are kept visible, and the JSON stays valid UTF-8.
    uri = hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert "%5Cxff" in uri and "<" not in uri
    ok = results_to_sarif([clean_result()], root=tmp_path)["runs"][0]["invocations"][0]
    assert ok["executionSuccessful"] is True and ok["toolExecutionNotifications"] == []


def test_suppressed_and_baseline_state(
    validator: jsonschema.Draft4Validator, tmp_path: Path
) -> None:
    result = backdoor_result()
    accepted = result.findings[3]
    kept = ScanResult(**{**result.__dict__, "findings": result.findings[:3]})
    log = results_to_sarif(
        [kept],
        root=tmp_path,
        suppressed=[SuppressedFinding(0, accepted, "reviewed by secteam, ticket SEC-1")],
        baseline_state={result.findings[0].fingerprint: "new"},
    )
    _validate(validator, log)
    results = log["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["ruleId"] == "LG-CFG-001"
    assert suppressed[0]["suppressions"][0]["justification"].startswith("reviewed")
    assert results[0]["baselineState"] == "new"


def test_properties_name_repository_and_revision(tmp_path: Path) -> None:
    log = results_to_sarif([backdoor_result()], root=tmp_path)
    repos = log["runs"][0]["properties"]["repositories"]
    assert repos[0]["revision"] == COMMIT and repos[0]["verdict"] == "malicious-likely"


def test_sarif_from_the_example_corpus_validates(validator: jsonschema.Draft4Validator) -> None:
    items = list(iter_scan([str(EXAMPLES)]))
    results = [i for i in items if isinstance(i, ScanResult)]
    errors = [i for i in items if isinstance(i, ScanError)]
    assert len(results) >= 10
    log = results_to_sarif(results, errors, root=EXAMPLES.parent.parent)
    _validate(validator, log)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]
    assert uris and all(u.startswith("examples/repos/") for u in uris)


def test_repository_level_findings_point_at_the_repository(tmp_path: Path) -> None:
    from loadguard.policy import gate_result, preset

    repo_dir = tmp_path / "models" / "bert"
    repo_dir.mkdir(parents=True)
    result = backdoor_result(repo_dir)
    unpinned = _unpin(result)
    gated = gate_result(preset("strict"), unpinned).result
    log = results_to_sarif([gated], root=tmp_path)
    pol = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LG-POL-002")
    assert pol["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/bert"
    top = results_to_sarif(
        [gate_result(preset("strict"), _unpin(clean_result())).result], root=tmp_path
    )
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in top["runs"][0]["results"]
    ]
    assert uris == ["."]


def _unpin(result: ScanResult) -> ScanResult:
    import dataclasses

    return dataclasses.replace(result, snapshot=dataclasses.replace(result.snapshot, revision=None))


def test_expired_baseline_entries_are_notifications(
    validator: jsonschema.Draft4Validator, tmp_path: Path
) -> None:
    from datetime import date, timedelta

    from loadguard.baseline import build_baseline
    from loadguard.policy import apply_policy, preset
    from loadguard.report.gate_data import gate_sarif

    result = backdoor_result()
    today = date(2026, 11, 22)
    baseline = build_baseline(
        apply_policy(preset("balanced"), [result]).repos, reason="old", expires=today, today=today
    )
    gate = apply_policy(
        preset("balanced"), [result], baseline=baseline, today=today + timedelta(days=2)
    )
    log = gate_sarif(gate, root=tmp_path)
    _validate(validator, log)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert sum(n["descriptor"]["id"] == "baseline/expired" for n in notes) == len(result.findings)
    assert {r["baselineState"] for r in log["runs"][0]["results"]} == {"unchanged"}


def test_the_built_schema_rejects_invalid_logs() -> None:
    """The schema is ours (built from the SARIF 2.1.0 standard): prove it can fail."""
    good = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [{"message": {"text": "m"}, "level": "error"}],
            }
        ],
    }
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(good)
    for bad in (
        {**good, "version": "2.0.0"},
        {"version": "2.1.0", "runs": [{"tool": {}}]},
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "x"}},
                    "results": [{"message": {"text": "m"}, "level": "high"}],
                }
            ],
        },
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "x"}},
                    "results": [{"message": {"text": "m"}, "codeFlows": [{"threadFlows": []}]}],
                }
            ],
        },
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rulez": []}}}]},
    ):
        assert not jsonschema.Draft4Validator(SARIF_SCHEMA).is_valid(bad)
