"""Each hiding technique must lead back to the rule the plain call triggers."""

import base64
import codecs
import zlib

from loadguard.model import Severity
from native_helpers import rules, scan

PAYLOAD = "import os\nos.system('true')\n"  # harmless if it ever ran


def _critical(source: str, rule: str = "LG-OBF-001") -> None:
    found = scan(source)
    assert any(f.rule_id == rule and f.severity == Severity.CRITICAL for f in found), found
    nested = [f for f in found if f.rule_id == "LG-CMD-001"]
    assert nested, "the decoded code must be analysed as code"
    assert any(e.startswith("decoding chain:") for e in nested[0].evidence)


def test_base64_exec():
    blob = base64.b64encode(PAYLOAD.encode()).decode()
    _critical(f"import base64\nexec(base64.b64decode('{blob}'))\n")


def test_base64_zlib_chain_through_variables():
    blob = base64.b64encode(zlib.compress(PAYLOAD.encode())).decode()
    found = scan(
        f"import base64, zlib\ndata = '{blob}'\ncode = zlib.decompress(base64.b64decode(data))\n"
        "exec(code.decode())\n"
    )
    chain = next(f for f in found if f.rule_id == "LG-OBF-001").evidence[0]
    assert "base64" in chain and "zlib" in chain


def test_hex_rot13_and_codecs():
    hexed = PAYLOAD.encode().hex()
    _critical(f"exec(bytes.fromhex('{hexed}').decode())\n")
    rot = codecs.encode(PAYLOAD, "rot13")
    _critical(f"import codecs\nexec(codecs.decode({rot!r}, 'rot13'))\n")


def test_chr_sequences_and_byte_lists():
    codes = [ord(c) for c in PAYLOAD]
    _critical(f"exec(''.join(chr(c) for c in {codes}))\n")
    _critical(f"exec(''.join(map(chr, {codes})))\n")
    _critical(f"exec(bytes({codes}).decode())\n")
    xored = [c ^ 7 for c in codes]
    _critical(f"exec(''.join(chr(c ^ 7) for c in {xored}))\n")


def test_reversed_string():
    _critical(f"exec({PAYLOAD[::-1]!r}[::-1])\n")


def test_concat_join_and_format_names():
    assert "LG-CMD-001" in rules("getattr(__import__('o'+'s'), 'sys'+'tem')('true')\n")
    assert "LG-OBF-003" in rules("getattr(__import__('o'+'s'), 'sys'+'tem')('true')\n")
    assert "LG-CMD-001" in rules("getattr(__import__(''.join(['o', 's'])), 'system')('true')\n")
    assert "LG-CMD-001" in rules(
        "m = '%s%s' % ('o', 's')\ngetattr(__import__(m), 'system')('true')\n"
    )
    assert "LG-CMD-001" in rules(
        "n = '{}{}'.format('sys', 'tem')\nimport os\ngetattr(os, n)('true')\n"
    )
    assert "LG-CMD-001" in rules("a = 'sys'\nb = f'{a}tem'\nimport os\ngetattr(os, b)('true')\n")
    assert "LG-CMD-001" in rules("c = 'sys'\nc += 'tem'\nimport os\ngetattr(os, c)('true')\n")


def test_builtins_and_globals_lookups():
    assert "LG-EXEC-001" in rules("def f(x):\n    __builtins__['exec'](x)\n")
    assert "LG-EXEC-001" in rules(
        "import builtins\ndef f(x):\n    getattr(builtins, 'ex' + 'ec')(x)\n"
    )
    assert "LG-EXEC-001" in rules("def f(x):\n    globals()['__builtins__']['exec'](x)\n") or (
        "LG-EXEC-001" in rules("def f(x):\n    vars(__builtins__)['exec'](x)\n")
    )
    assert "LG-CMD-001" in rules("import os\nglobals()['os'].system('true')\n")
    assert "LG-CMD-001" in rules("import sys\nsys.modules['os'].system('true')\n")
    assert "LG-CMD-001" in rules(
        "import importlib\nimportlib.import_module('o' + 's').system('true')\n"
    )
    assert "LG-CMD-001" in rules("eval('__import__(\"os\").sys' + 'tem')('true')\n")


def test_aliasing_of_exec():
    found = scan("e = exec\ndef f(x):\n    e(x)\n")
    assert [f.rule_id for f in found] == ["LG-EXEC-001"]
    assert any("alias e = builtins.exec" in step for step in found[0].evidence)


def test_lambda_and_wrapper_of_exec():
    assert "LG-EXEC-001" in rules("run = lambda *a: exec(*a)\ndef f(x):\n    run(x)\n")
    assert "LG-EXEC-001" in rules("def f(x):\n    (lambda: exec)()(x)\n")


def test_encoded_code_not_executed_is_reported_medium():
    blob = base64.b64encode(PAYLOAD.encode()).decode()
    found = scan(f"import base64\nstage = base64.b64decode('{blob}')\n")
    by_rule = {f.rule_id: f for f in found}
    assert by_rule["LG-OBF-002"].severity == Severity.MEDIUM
    assert by_rule["LG-CMD-001"].severity == Severity.CRITICAL  # hidden: raised one level


def test_nested_encoding_inside_decoded_payload():
    inner = base64.b64encode(PAYLOAD.encode()).decode()
    outer_code = f"import base64\nexec(base64.b64decode('{inner}'))\n"
    outer = base64.b64encode(outer_code.encode()).decode()
    found = scan(f"import base64\nexec(base64.b64decode('{outer}'))\n")
    cmd = [f for f in found if f.rule_id == "LG-CMD-001"]
    assert cmd and cmd[0].location.line == 2


def test_plain_base64_data_is_not_code():
    blob = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
    assert rules(f"import base64\nimg = base64.b64decode('{blob}')\n") == set()
    word = base64.b64encode(b"hello world").decode()
    assert rules(f"import base64\nx = base64.b64decode('{word}')\n") == set()


def test_exec_of_runtime_decoded_data():
    found = scan(
        "import base64, zlib\ndef f(blob):\n    exec(zlib.decompress(base64.b64decode(blob)).decode())\n"
    )
    assert any(f.rule_id == "LG-OBF-001" and f.severity == Severity.CRITICAL for f in found)


def test_dangerous_callables_handed_over():
    assert "LG-CMD-001" in rules(
        "import os, threading\nthreading.Thread(target=os.system, args=('true',)).start()\n"
    )
    assert "LG-CMD-001" in rules("import os, atexit\natexit.register(os.system, 'true')\n")
    assert "LG-EXEC-001" in rules("list(map(exec, chunks))\n")
    assert rules("import threading\nthreading.Thread(target=worker).start()\n") == set()


def test_sequences_bound_to_names():
    assert "LG-EXEC-001" in rules(
        "k = [chr(x) for x in [101, 120, 101, 99]]\n"
        "def f(c):\n    getattr(__builtins__, ''.join(k))(c)\n"
    )
    assert "LG-CMD-001" in rules(
        "parts = ['sys', 'tem']\nimport os\ngetattr(os, ''.join(parts))('true')\n"
    )
    assert "LG-DESER-007" not in rules("import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n")
