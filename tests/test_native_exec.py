from loadguard.model import Severity
from native_helpers import high, rules, scan


def test_dynamic_exec_and_eval():
    assert "LG-EXEC-001" in rules("def f(code):\n    exec(code)\n")
    assert "LG-EXEC-002" in rules("def f(expr):\n    return eval(expr)\n")
    assert "LG-EXEC-004" in rules("def f(src):\n    return compile(src, 'x', 'exec')\n")


def test_constant_exec_is_low_and_analysed():
    found = scan("exec(\"import os\\nos.system('true')\")\n")
    by_rule = {f.rule_id: f for f in found}
    assert by_rule["LG-EXEC-003"].severity == Severity.LOW
    assert "LG-CMD-001" in by_rule
    assert any("payload line" in e for e in by_rule["LG-CMD-001"].evidence)


def test_code_objects_and_runpy():
    assert "LG-EXEC-005" in rules("import marshal\nexec(marshal.loads(blob))\n")
    assert "LG-EXEC-005" in rules("import types\ntypes.FunctionType(code, {})\n")
    assert "LG-EXEC-006" in rules("import runpy\nrunpy.run_path(p)\n")


def test_dynamic_import():
    assert "LG-EXEC-007" in rules("import importlib\nimportlib.import_module(name)\n")
    assert "LG-EXEC-007" not in rules("import importlib\nimportlib.import_module('json')\n")


def test_model_eval_re_compile_torch_compile_are_not_code_injection():
    source = """
    import re, torch
    model.eval()
    self.eval()
    pattern = re.compile(r"\\d+")
    fast = torch.compile(model)
    from re import compile
    compile("x+")
    '''Never eval(user_input); call model.eval() before inference.'''
    # eval(x) would be bad
    message = f"cannot eval {name}"
    """
    assert rules(source) == set()


def test_shadowed_builtin_is_not_flagged():
    assert not high("def exec(x):\n    return x\nexec(y)\n")


def test_copying_a_function_is_not_code_construction():
    source = "import types\ng = types.FunctionType(f.__code__, f.__globals__, name='g')\n"
    assert "LG-EXEC-005" not in rules(source)
