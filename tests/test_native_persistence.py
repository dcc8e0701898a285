from native_helpers import rules


def test_shell_rc_and_pth():
    assert "LG-PERS-001" in rules("import os\nopen(os.path.expanduser('~/.bashrc'), 'a')\n")
    assert "LG-PERS-001" in rules("p = '/tmp/x/site-packages/sitecustomize.py'\nopen(p, 'w')\n")
    assert "LG-PERS-003" in rules("open('/usr/lib/python3/site-packages/evil.pth', 'w')\n")
    assert "LG-PERS-003" in rules("import site\nsite.getsitepackages()\n")


def test_cron_systemd_authorized_keys():
    assert "LG-PERS-001" in rules("import os\nos.system('crontab -l')\n")
    assert "LG-PERS-001" in rules("open('/home/u/.config/systemd/user/x.service', 'w')\n")
    assert "LG-PERS-001" in rules("open('/home/u/.ssh/authorized_keys', 'a')\n")


def test_writes_outside_model_dir():
    assert "LG-PERS-002" in rules("open('/etc/hosts', 'w')\n")
    assert "LG-PERS-002" not in rules("open('/tmp/cache.bin', 'w')\n")
    assert "LG-PERS-002" not in rules("open('config.json', 'w')\n")
    assert "LG-PERS-002" not in rules("open('/etc/hosts')\n")


def test_checkpoint_names_are_not_pth_persistence():
    assert rules("import torch\nstate = 'model.pth'\ntorch.save(m, 'model.pth')\n") == set()


def test_evasion_probes():
    assert "LG-EVADE-001" in rules("import os\nos.path.exists('/.dockerenv')\n")
    assert "LG-EVADE-001" in rules("import sys\nif sys.gettrace():\n    pass\n")
    assert "LG-EVADE-001" in rules("import os\nos.environ.get('GITHUB_ACTIONS')\n")


def test_import_hooks_and_replaced_builtins():
    assert "LG-PERS-004" in rules("import sys\nsys.meta_path.insert(0, Finder())\n")
    assert "LG-PERS-004" in rules("import builtins\nbuiltins.open = my_open\n")
    assert "LG-PERS-004" in rules("import torch\ntorch.load = patched\n")
    assert "LG-PERS-004" not in rules("self.load = patched\nconfig.open = 1\n")


def test_ctypes_library():
    assert "LG-EXEC-008" in rules("import ctypes\nctypes.CDLL('./libx.so')\n")


def test_injecting_environment_variables():
    assert "LG-PERS-004" in rules("import os\nos.environ['LD_PRELOAD'] = '/tmp/x.so'\n")
    assert "LG-PERS-004" not in rules("import os\nos.environ['OMP_NUM_THREADS'] = '1'\n")


def test_ordinary_torch_monkeypatching_is_not_a_hook():
    assert "LG-PERS-004" not in rules("import torch\ntorch.linspace = safe_linspace\n")
