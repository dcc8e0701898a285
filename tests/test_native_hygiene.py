from loadguard.model import Severity
from native_helpers import rules, scan


def test_asserts_are_one_info_finding_per_file():
    found = [f for f in scan("assert a\nassert b\nassert c\n") if f.rule_id == "LG-HYG-001"]
    assert len(found) == 1 and found[0].severity == Severity.INFO
    assert "3 assert" in found[0].message


def test_broad_except_pass():
    assert "LG-HYG-002" in rules("try:\n    f()\nexcept:\n    pass\n")
    assert "LG-HYG-002" in rules("try:\n    f()\nexcept Exception:\n    pass\n")
    assert "LG-HYG-002" not in rules("try:\n    f()\nexcept ValueError:\n    pass\n")
    assert "LG-HYG-002" not in rules("try:\n    f()\nexcept Exception:\n    log()\n")


def test_weak_hash_only_for_security():
    assert "LG-HYG-003" in rules("import hashlib\nhashlib.md5(password.encode())\n")
    assert "LG-HYG-003" not in rules("import hashlib\nhashlib.md5(file_bytes)\n")
    assert "LG-HYG-003" not in rules(
        "import hashlib\nhashlib.md5(password, usedforsecurity=False)\n"
    )


def test_random_for_secret():
    assert "LG-HYG-004" in rules("import random\napi_key = str(random.getrandbits(64))\n")
    assert "LG-HYG-004" not in rules("import random\ntoken = random.choice(vocab)\n")


def test_hygiene_never_high():
    source = "import hashlib\nassert x\ntry:\n    f()\nexcept:\n    pass\nhashlib.sha1(secret)\n"
    assert all(f.severity <= Severity.LOW for f in scan(source))
