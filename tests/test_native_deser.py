from loadguard.model import Confidence
from native_helpers import rules, scan


def test_pickle_family():
    assert "LG-DESER-001" in rules("import pickle\npickle.load(open(p, 'rb'))\n")
    assert "LG-DESER-001" in rules("import cPickle\ncPickle.loads(b)\n")
    assert "LG-DESER-006" in rules("import joblib\njoblib.load(p)\n")
    assert "LG-DESER-006" in rules("import dill\ndill.loads(b)\n")
    assert "LG-DESER-006" in rules("import pandas as pd\npd.read_pickle(p)\n")
    assert "LG-DESER-006" in rules("import shelve\nshelve.open(p)\n")


def test_torch_load_weights_only_semantics():
    assert "LG-DESER-002" not in rules("import torch\ntorch.load(p, weights_only=True)\n")
    missing = [f for f in scan("import torch\ntorch.load(p)\n") if f.rule_id == "LG-DESER-002"]
    explicit = [
        f
        for f in scan("import torch\ntorch.load(p, weights_only=False)\n")
        if f.rule_id == "LG-DESER-002"
    ]
    assert missing and explicit
    assert explicit[0].confidence == Confidence.HIGH


def test_torch_env_override():
    assert "LG-DESER-003" in rules(
        "import os\nos.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'\n"
    )
    assert "LG-DESER-003" in rules(
        "import os\nos.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')\n"
    )


def test_numpy_and_yaml():
    assert "LG-DESER-004" in rules("import numpy as np\nnp.load(p, allow_pickle=True)\n")
    assert "LG-DESER-004" not in rules("import numpy as np\nnp.load(p)\n")
    assert "LG-DESER-005" in rules("import yaml\nyaml.load(s, Loader=yaml.Loader)\n")
    assert "LG-DESER-005" in rules("import yaml\nyaml.unsafe_load(s)\n")
    assert "LG-DESER-005" not in rules("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\n")
    assert "LG-DESER-005" not in rules("import yaml\nyaml.safe_load(s)\n")


def test_embedded_pickle_blob():
    import base64
    import pickle

    blob = base64.b64encode(pickle.dumps({"harmless": 1})).decode()
    found = [
        f
        for f in scan(f"import pickle, base64\npickle.loads(base64.b64decode('{blob}'))\n")
        if f.rule_id == "LG-DESER-007"
    ]
    assert found and found[0].severity.name == "CRITICAL"
