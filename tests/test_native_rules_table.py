from pathlib import Path

from loadguard.rules.cwe import CWE_NAMES, cwe_name, normalize
from loadguard.rules.native_rules import CALL_RULES, RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_rule_ids_are_stable_and_documented():
    text = DOC.read_text()
    for rule_id, rule in RULES.items():
        assert rule_id.startswith("LG-") and rule_id.count("-") == 2
        assert f"`{rule_id}`" in text, f"{rule_id} missing from docs/rules.md"
        for cwe in rule.cwe:
            assert cwe in CWE_NAMES, f"{rule_id}: {cwe} has no name in rules/cwe.py"


def test_call_table_points_at_rules():
    assert set(CALL_RULES.values()) <= set(RULES)


def test_cwe_helpers():
    assert normalize(78) == normalize("cwe-78") == "CWE-78"
    assert cwe_name("CWE-502") == "Deserialization of Untrusted Data"
    assert cwe_name("CWE-99999") == "CWE-99999"
