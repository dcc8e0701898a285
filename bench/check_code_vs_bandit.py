"""``loadguard check-code`` against bandit (the anchor tool with B614/B615/B301) in one run.

Two measurements:

1. Detection on labelled consumer-code cases, written in many spellings
   (aliases, method chains, keyword/positional forms, indirections we do not
   resolve). Each case is one file whose LAST line holds the call; a tool
   detects it when it reports anything on that line. Safe cases measure false
   positives the same way.
2. Speed over a body of real Python code (installed packages of the venv).

    PYTHONPATH=src python bench/check_code_vs_bandit.py [--code-root DIR ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

C = "0123456789abcdef0123456789abcdef01234567"

# (category, unsafe?, code). The risky (or safe) call is on the last line.
CASES: list[tuple[str, bool, str]] = [
    # trust_remote_code
    (
        "trust_remote_code",
        True,
        f"from transformers import AutoModel\nm = AutoModel.from_pretrained('o/m', revision='{C}', trust_remote_code=True)",
    ),
    (
        "trust_remote_code",
        True,
        f"import transformers as tf\nm = tf.AutoModelForCausalLM.from_pretrained('o/m', revision='{C}', trust_remote_code=True)",
    ),
    (
        "trust_remote_code",
        True,
        f"from transformers import AutoTokenizer as T\nt = T.from_pretrained('o/m', revision='{C}', trust_remote_code=True)",
    ),
    (
        "trust_remote_code",
        True,
        f"from transformers import pipeline\np = pipeline('text-generation', model='o/m', revision='{C}', trust_remote_code=True)",
    ),
    (
        "trust_remote_code",
        True,
        f"from sentence_transformers import SentenceTransformer\ne = SentenceTransformer('o/m', revision='{C}', trust_remote_code=True)",
    ),
    (
        "trust_remote_code",
        True,
        f"from transformers import AutoConfig\nc = AutoConfig.from_pretrained('o/m', revision='{C}', trust_remote_code=flag)",
    ),
    (
        "trust_remote_code",
        True,
        f"from transformers import AutoModel\nkw = dict(trust_remote_code=True)\nm = AutoModel.from_pretrained('o/m', revision='{C}', **kw)",
    ),
    (
        "trust_remote_code",
        False,
        f"from transformers import AutoModel\nm = AutoModel.from_pretrained('o/m', revision='{C}', trust_remote_code=False)",
    ),
    # unpinned hub loads
    (
        "unpinned_revision",
        True,
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model')",
    ),
    (
        "unpinned_revision",
        True,
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model', revision='main')",
    ),
    (
        "unpinned_revision",
        True,
        "from transformers import pipeline\np = pipeline('fill-mask', model='org/model')",
    ),
    (
        "unpinned_revision",
        True,
        "from huggingface_hub import hf_hub_download\np = hf_hub_download('org/model', 'config.json')",
    ),
    (
        "unpinned_revision",
        True,
        "from diffusers import StableDiffusionPipeline as SD\np = SD.from_pretrained('org/sd', revision='v1.0')",
    ),
    (
        "unpinned_revision",
        True,
        "from sentence_transformers import SentenceTransformer\ne = SentenceTransformer('org/model')",
    ),
    (
        "unpinned_revision",
        False,
        f"from transformers import AutoModel\nm = AutoModel.from_pretrained('org/model', revision='{C}')",
    ),
    (
        "unpinned_revision",
        False,
        "from transformers import AutoModel\nm = AutoModel.from_pretrained('./checkpoints/best')",
    ),
    # torch.load
    ("torch_load", True, "import torch\nsd = torch.load('model.pt')"),
    (
        "torch_load",
        True,
        "import torch\nsd = torch.load(path, weights_only=False, map_location='cpu')",
    ),
    ("torch_load", True, "from torch import load\nsd = load('model.pt')"),
    ("torch_load", False, "import torch\nsd = torch.load('model.pt', weights_only=True)"),
    # pickle of downloaded files
    (
        "pickle_download",
        True,
        f"import pickle\nfrom huggingface_hub import hf_hub_download\np = hf_hub_download('o/m', 'x.pkl', revision='{C}')\nobj = pickle.load(open(p, 'rb'))",
    ),
    (
        "pickle_download",
        True,
        "import joblib, urllib.request\nurllib.request.urlretrieve('https://x.invalid/m.joblib', 'm.joblib')\np, _ = urllib.request.urlretrieve('https://x.invalid/m.joblib')\nclf = joblib.load(p)",
    ),
    (
        "pickle_download",
        True,
        "import pickle, requests\nobj = pickle.loads(requests.get('https://x.invalid/m.pkl').content)",
    ),
    (
        "pickle_download",
        True,
        "import pandas as pd\nfrom huggingface_hub import hf_hub_download\ndf = pd.read_pickle(hf_hub_download('o/m', 'd.pkl'))",
    ),
    ("pickle_download", False, "import json\nobj = json.load(open('config.json'))"),
    # known limits: indirections check-code does not follow (kept to show them)
    ("torch_load", True, "import torch\nloader = torch.load\nsd = loader('model.pt')"),
    (
        "pickle_download",
        True,
        "import pickle\nfrom huggingface_hub import hf_hub_download\n"
        "def fetch():\n    return hf_hub_download('o/m', 'x.pkl')\n"
        "def use():\n    return pickle.load(open(fetch(), 'rb'))",
    ),
    # torch.hub
    (
        "torch_hub_trust",
        True,
        f"import torch\nm = torch.hub.load('owner/repo:{C}', 'net', trust_repo=True)",
    ),
    ("torch_hub_unpinned", True, "import torch\nm = torch.hub.load('owner/repo', 'net')"),
    (
        "torch_hub_unpinned",
        True,
        "from torch import hub\nm = hub.load('owner/repo:main', 'net', trust_repo='check')",
    ),
    (
        "torch_hub_unpinned",
        False,
        f"import torch\nm = torch.hub.load('owner/repo:{C}', 'net', trust_repo='check')",
    ),
    # diffusers community pipelines
    (
        "custom_pipeline",
        True,
        f"from diffusers import DiffusionPipeline\np = DiffusionPipeline.from_pretrained('o/sd', revision='{C}', custom_pipeline='lpw_stable_diffusion')",
    ),
    # snapshot_download of everything
    (
        "snapshot_all",
        True,
        f"from huggingface_hub import snapshot_download\nd = snapshot_download('o/m', revision='{C}')",
    ),
    (
        "snapshot_all",
        False,
        f"from huggingface_hub import snapshot_download\nd = snapshot_download('o/m', revision='{C}', allow_patterns=['*.json', '*.safetensors'])",
    ),
]


def write_cases(root: Path) -> list[tuple[str, bool, Path, int]]:
    out = []
    for index, (category, unsafe, code) in enumerate(CASES):
        path = root / f"case_{index:03d}.py"
        path.write_text(code + "\n")
        out.append((category, unsafe, path, code.count("\n") + 1))
    return out


def loadguard_lines(root: Path) -> tuple[dict[str, set[int]], float]:
    from loadguard.consumer import check_code

    start = time.perf_counter()
    report = check_code(root)
    seconds = time.perf_counter() - start
    hits: dict[str, set[int]] = defaultdict(set)
    for finding in report.findings:
        hits[finding.location.path].add(finding.location.line or 0)
    return hits, seconds


def bandit_lines(root: Path, tests: str | None) -> tuple[dict[str, set[int]], float]:
    bandit = shutil.which("bandit") or str(Path(sys.executable).parent / "bandit")
    command = [bandit, "-r", "-q", "-f", "json", str(root)]
    if tests:
        command[1:1] = ["-t", tests]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    hits: dict[str, set[int]] = defaultdict(set)
    for result in json.loads(done.stdout or "{}").get("results", []):
        rel = Path(result["filename"]).resolve().relative_to(root.resolve()).as_posix()
        hits[rel].add(int(result["line_number"]))
    return hits, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code-root", action="append", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases = write_cases(root)
        ours, _ = loadguard_lines(root)
        theirs, _ = bandit_lines(root, None)
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # unsafe, lg, bandit, safe
    fp: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # false positives: lg, bandit
    for category, unsafe, path, last in cases:
        rel = path.name
        lg = last in ours.get(rel, set())
        bd = last in theirs.get(rel, set())
        row = table[category]
        if unsafe:
            row[0] += 1
            row[1] += lg
            row[2] += bd
        else:
            row[3] += 1
            fp[category][0] += lg
            fp[category][1] += bd
    print(
        f"{'category':22} {'unsafe':>6} {'loadguard':>9} {'bandit':>6} | {'safe':>4} {'lg FP':>5} {'bandit FP':>9}"
    )
    totals = [0, 0, 0, 0, 0, 0]
    for category, row in table.items():
        print(
            f"{category:22} {row[0]:>6} {row[1]:>9} {row[2]:>6} | {row[3]:>4} "
            f"{fp[category][0]:>5} {fp[category][1]:>9}"
        )
        for i, v in enumerate((row[0], row[1], row[2], row[3], fp[category][0], fp[category][1])):
            totals[i] += v
    print(
        f"{'TOTAL':22} {totals[0]:>6} {totals[1]:>9} {totals[2]:>6} | {totals[3]:>4} "
        f"{totals[4]:>5} {totals[5]:>9}"
    )
    roots = args.code_root or [
        Path(p)
        for p in (Path(sys.executable).parent.parent / "lib").glob(
            "python3*/site-packages/huggingface_hub"
        )
    ]
    for code_root in roots:
        files = sum(1 for _ in code_root.rglob("*.py"))
        _, lg_s = loadguard_lines(code_root)
        _, bd_s = bandit_lines(code_root, "B301,B614,B615")
        _, bd_all = bandit_lines(code_root, None)
        print(
            f"speed on {code_root} ({files} files): loadguard {lg_s:.2f} s, "
            f"bandit B301/B614/B615 {bd_s:.2f} s ({bd_s / lg_s:.1f}x), "
            f"bandit all tests {bd_all:.2f} s ({bd_all / lg_s:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
