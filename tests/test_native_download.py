from loadguard.model import Severity
from native_helpers import rules, scan


def test_fetch_then_exec_is_critical():
    source = """
    import requests
    def load():
        body = requests.get("http://127.0.0.1:9/x").text
        code = body.strip()
        exec(code)
    """
    found = [f for f in scan(source) if f.rule_id == "LG-DL-001"]
    assert found and found[0].severity == Severity.CRITICAL


def test_urlopen_then_pickle():
    source = """
    import pickle
    from urllib.request import urlopen
    with urlopen("http://127.0.0.1:9/p") as response:
        obj = pickle.loads(response.read())
    """
    assert "LG-DL-002" in rules(source)


def test_hub_download_then_exec():
    source = """
    from huggingface_hub import hf_hub_download
    path = hf_hub_download("org.invalid/repo", "extra.py")
    exec(open(path).read())
    """
    assert "LG-DL-001" in rules(source)


def test_download_written_to_code_file():
    source = """
    import requests
    data = requests.get("http://127.0.0.1:9/m").content
    with open("helper.py", "wb") as handle:
        handle.write(data)
    """
    assert "LG-DL-003" in rules(source)


def test_untainted_exec_is_not_download():
    source = """
    import requests
    def f(code):
        requests.get("http://127.0.0.1:9/ping")
        exec(code)
    """
    assert "LG-DL-001" not in rules(source)


def test_pip_install_at_runtime():
    assert "LG-DL-004" in rules(
        "import subprocess, sys\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'x'])\n"
    )
    assert "LG-DL-004" in rules("import os\nos.system('pip install x')\n")
    assert "LG-DL-004" in rules("import pip\npip.main(['install', 'x'])\n")


def test_trust_remote_code_in_repo_code():
    found = rules(
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('org/other', trust_remote_code=True)\n"
    )
    assert "LG-DL-005" in found
    passthrough = (
        "def f(path, trust_remote_code=False):\n"
        "    return AutoModel.from_pretrained(path, trust_remote_code=trust_remote_code)\n"
    )
    assert "LG-DL-005" not in rules(passthrough)
    assert "LG-DL-005" in rules("import torch\ntorch.hub.load('o/r', 'm', trust_repo=True)\n")


def test_downloaded_weights_in_safe_mode_are_not_deserialization_risks():
    source = """
    import io, requests, torch
    response = requests.get("http://127.0.0.1:9/w")
    torch.load(io.BytesIO(response.content), weights_only=True)
    """
    assert "LG-DL-002" not in rules(source)
    assert "LG-DL-002" in rules(source.replace("weights_only=True", "weights_only=False"))


def test_open_write_chain():
    source = """
    import requests
    data = requests.get("http://127.0.0.1:9/m").text
    open("plugin.py", "w").write(data)
    """
    assert "LG-DL-003" in rules(source)
