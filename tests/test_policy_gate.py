from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from loadguard.errors import PolicyError
from loadguard.model import (
    Confidence,
    CrossRepoRef,
    FileKind,
    Finding,
    Location,
    ScanError,
    ScanResult,
    Severity,
    SnapshotIdentity,
    WeightFile,
)
from loadguard.policy import (
    EXIT_ERROR,
    EXIT_PASS,
    EXIT_VIOLATION,
    GateVerdict,
    PathMatcher,
    Policy,
    RuleOverride,
    apply_policy,
    choose_policy,
    find_policy,
    gate_result,
    load_policy,
    pickle_globals,
    policy_from_mapping,
    preset,
)
from report_samples import backdoor_result, clean_result


def _with(result: ScanResult, **changes: object) -> ScanResult:
    return dataclasses.replace(result, **changes)  # type: ignore[arg-type]


def _unpinned(result: ScanResult) -> ScanResult:
    return _with(result, snapshot=dataclasses.replace(result.snapshot, revision=None))


def test_presets_differ_where_they_should() -> None:
    bad = backdoor_result()
    assert apply_policy(preset("strict"), [bad]).exit_code == EXIT_VIOLATION
    assert apply_policy(preset("balanced"), [bad]).exit_code == EXIT_VIOLATION
    assert apply_policy(preset("audit"), [bad]).exit_code == EXIT_PASS
    good = clean_result()
    assert apply_policy(preset("strict"), [good]).exit_code == EXIT_PASS
    # Strict requires a pinned commit; balanced does not.
    assert apply_policy(preset("strict"), [_unpinned(good)]).exit_code == EXIT_VIOLATION
    assert apply_policy(preset("balanced"), [_unpinned(good)]).exit_code == EXIT_PASS
    with pytest.raises(PolicyError):
        preset("lenient")


def test_strict_reports_trust_flags_pickles_and_unpinned_cross_repo_code() -> None:
    result = backdoor_result()
    plan = dataclasses.replace(
        result.plan,
        cross_repo_refs=(
            CrossRepoRef("org/code", "org/code--m.C", "config.json auto_map.AutoModel"),
        ),
    )
    gate = gate_result(preset("strict"), _with(result, plan=plan, findings=()))
    rules = {f.rule_id for f in gate.result.findings}
    assert {"LG-POL-001", "LG-POL-003", "LG-POL-004"} <= rules
    assert "LG-POL-002" not in rules  # the sample is pinned to a commit
    assert gate.verdict is GateVerdict.FAIL
    assert any("trust_remote_code=True" in r for r in gate.reasons)
    # Allowing the flag and the pickle removes those violations.
    lenient = dataclasses.replace(
        preset("strict"),
        allowed_trust_flags=frozenset({"trust_remote_code=True"}),
        require_data_only_weights=False,
    )
    rules = {
        f.rule_id
        for f in gate_result(lenient, _with(result, plan=plan, findings=())).result.findings
    }
    assert rules == {"LG-POL-003"}


def test_fail_on_threshold_and_unreachable_findings() -> None:
    result = backdoor_result()
    only_medium_unreached = _with(result, findings=(result.findings[2],))  # medium, not reached
    balanced_medium = dataclasses.replace(preset("balanced"), fail_on=Severity.MEDIUM)
    assert gate_result(balanced_medium, only_medium_unreached).verdict is not GateVerdict.FAIL
    counting = dataclasses.replace(balanced_medium, fail_on_unreachable=True)
    assert gate_result(counting, only_medium_unreached).verdict is GateVerdict.FAIL
    never = dataclasses.replace(preset("balanced"), fail_on=None)
    assert gate_result(never, result).verdict is not GateVerdict.FAIL


def test_errors_give_exit_2_and_violations_win() -> None:
    clean = clean_result()
    broken = _with(clean, errors=(ScanError("a.py", "parse", "bad", "parse"),))
    gate = apply_policy(preset("balanced"), [broken])
    assert gate.repos[0].verdict is GateVerdict.ERROR and gate.exit_code == EXIT_ERROR
    source = ScanError("hf:x/y", "source", "not found", "source")
    assert apply_policy(preset("balanced"), [clean], [source]).exit_code == EXIT_ERROR
    assert apply_policy(preset("audit"), [broken], [source]).exit_code == EXIT_PASS
    assert apply_policy(preset("balanced"), [broken, backdoor_result()]).exit_code == EXIT_VIOLATION


def test_rule_overrides_change_severity_or_disable() -> None:
    result = backdoor_result()
    policy = dataclasses.replace(
        preset("balanced"),
        rules={
            "LG-CMD-001": RuleOverride(severity=Severity.LOW),
            "LG-PKL-*": RuleOverride(enabled=False),
        },
    )
    gate = gate_result(policy, result)
    by_rule = {f.rule_id: f for f in gate.result.findings}
    assert by_rule["LG-CMD-001"].severity is Severity.LOW
    assert "LG-PKL-001" not in by_rule and len(gate.disabled) == 1
    # No finding reaches high any more; the sample's unreadable files still give an error.
    assert gate.verdict is GateVerdict.ERROR and not gate.reasons[0].startswith("LG-")


def test_ignored_paths_are_gitignore_style() -> None:
    matcher = PathMatcher(("kernels/", "*.bin", "/top.py", "docs/**/*.py", "!keep.bin"))
    assert matcher.matches("kernels/loader.py")
    assert matcher.matches("a/kernels/x.py")  # no leading slash: any depth
    assert matcher.matches("training_args.bin!archive/data.pkl")  # archive member -> outer file
    assert matcher.matches("deep/w.bin")
    assert not matcher.matches("keep.bin")  # re-included
    assert matcher.matches("top.py") and not matcher.matches("sub/top.py")
    assert matcher.matches("docs/a/b/c.py") and matcher.matches("docs/c.py")
    assert not matcher.matches("kernelsx/loader.py")
    gate = gate_result(
        dataclasses.replace(preset("balanced"), ignore_paths=("kernels/",)), backdoor_result()
    )
    assert len(gate.ignored) == 1 and all(
        not f.location.path.startswith("kernels/") for f in gate.result.findings
    )


def test_allowed_pickle_globals_drop_only_fully_allowed_findings() -> None:
    def pickle_finding(*evidence: str) -> Finding:
        return Finding(
            "LG-PKL-002",
            "pickle",
            "pickle imports non-allow-listed globals",
            Severity.MEDIUM,
            Confidence.HIGH,
            Location("model.ckpt!archive/data.pkl", offset=10),
            evidence=evidence,
        )

    allowed_only = pickle_finding(
        "GLOBAL collections OrderedDict", "GLOBAL torch._utils _rebuild_tensor_v2"
    )
    mixed = pickle_finding("GLOBAL collections OrderedDict", "STACK_GLOBAL 'os' 'system'")
    assert pickle_globals(mixed) == {"collections.OrderedDict", "os.system"}
    # The pickle analyzer's shape: qualname in the snippet, opcode trail in the evidence.
    analyzer_style = dataclasses.replace(
        allowed_only, snippet="os.system", evidence=("GLOBAL at offset 5, invoked by REDUCE",)
    )
    assert pickle_globals(analyzer_style) == {"os.system"}
    policy = dataclasses.replace(
        preset("balanced"),
        fail_on=Severity.MEDIUM,
        allowed_pickle_globals=("collections.OrderedDict", "torch._utils.*"),
    )
    result = _with(clean_result(), findings=(allowed_only, mixed))
    gate = gate_result(policy, result)
    assert [f.evidence for f in gate.result.findings] == [mixed.evidence]
    assert gate.verdict is GateVerdict.FAIL


def test_policy_file_loadguard_toml(tmp_path: Path) -> None:
    path = tmp_path / "loadguard.toml"
    path.write_text(
        """
preset = "balanced"
fail-on = "medium"
allowed-trust-flags = ["trust_remote_code=True"]
require-pinned-revision = true
ignore-paths = ["tests/**"]
allowed-pickle-globals = ["collections.OrderedDict"]

[rules."LG-NET-002"]
severity = "critical"

[rules."LG-CFG-*"]
enabled = false
"""
    )
    policy = load_policy(path)
    assert policy.fail_on is Severity.MEDIUM and policy.require_pinned_revision
    assert policy.allowed_trust_flags == frozenset({"trust_remote_code=True"})
    assert policy.override_for("LG-CFG-003") == RuleOverride(enabled=False)
    assert policy.override_for("LG-NET-002") == RuleOverride(severity=Severity.CRITICAL)
    assert policy.override_for("LG-CMD-001") is None
    assert find_policy(tmp_path) == path
    assert policy.to_dict()["fail_on"] == "medium"


def test_policy_in_pyproject_and_discovery(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n')
    assert find_policy(tmp_path) is None
    assert choose_policy(None, None, None, tmp_path).name == "balanced"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.loadguard]\npreset = "audit"\n')
    assert find_policy(tmp_path) == pyproject
    chosen = choose_policy(None, None, None, tmp_path)
    assert chosen.never_fail
    # --fail-on overrides the chosen policy; --preset beats discovery.
    assert choose_policy(None, "strict", "critical", tmp_path).fail_on is Severity.CRITICAL
    assert choose_policy(None, None, "never", tmp_path).fail_on is None
    with pytest.raises(PolicyError):
        choose_policy(pyproject, "strict", None, tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        'fail-on = "severe"',
        "fail-on = 3",
        'typo-key = "x"',
        'preset = "nope"',
        "require-pinned-revision = 1",
        'ignore-paths = "tests"',
        '[rules."LG-X-1"]\nseverity = "high"\nbogus = 1',
        'rules = "x"',
        "not toml ===",
    ],
)
def test_malformed_policies_are_policy_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "loadguard.toml"
    path.write_text(text)
    with pytest.raises(PolicyError):
        load_policy(path)


def test_pyproject_without_section_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    with pytest.raises(PolicyError):
        load_policy(path)


def test_policy_never_mutates_the_result() -> None:
    result = backdoor_result()
    before = result.findings
    gate_result(preset("strict"), result)
    assert result.findings is before


def test_policy_findings_are_stable_for_baselines() -> None:
    weights = (WeightFile("w.pt", FileKind.TORCH_ZIP, 1),)
    result = _with(clean_result(), plan=dataclasses.replace(clean_result().plan, weights=weights))
    first = gate_result(preset("strict"), result).result.findings
    second = gate_result(preset("strict"), result).result.findings
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]


def test_custom_policy_dataclass_defaults() -> None:
    policy = Policy(name="x", fail_on=Severity.HIGH)
    assert policy.allowed_trust_flags is None  # any flag allowed unless stated
    gate = gate_result(
        policy,
        _with(
            backdoor_result(),
            snapshot=SnapshotIdentity(backdoor_result().snapshot.platform, "r", None, False, ""),
        ),
    )
    assert not any(f.analyzer == "policy" for f in gate.result.findings)
    assert policy_from_mapping({}, source="empty").name.startswith("strict")


def test_weights_flags_are_left_to_the_data_only_requirement() -> None:
    from loadguard.model import EntryKind, EntryPoint, Loader

    weights = (WeightFile("pytorch_model.bin", FileKind.TORCH_ZIP, 10),)
    entry = EntryPoint(
        Loader.PICKLE,
        EntryKind.WEIGHTS,
        "unpickling pytorch_model.bin",
        module="pytorch_model.bin",
        trust_flag="weights_only=False",
        runs_repo_code=False,
    )
    plan = dataclasses.replace(clean_result().plan, entry_points=(entry,), weights=weights)
    findings = gate_result(preset("strict"), _with(clean_result(), plan=plan)).result.findings
    assert [(f.rule_id, f.location.path) for f in findings] == [("LG-POL-004", "pytorch_model.bin")]
