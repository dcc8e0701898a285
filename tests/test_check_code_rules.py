from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cli_support import run_cli
from loadguard.consumer import check_code, check_paths, check_source
from loadguard.model import ScanError, Severity
from sarif_schema import SARIF_SCHEMA

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _rules(source: str) -> list[tuple[str, Severity]]:
    return [(f.rule_id, f.severity) for f in check_source(source.encode(), "app.py")]


def _ids(source: str) -> set[str]:
    return {rule for rule, _ in _rules(source)}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # trust_remote_code, through aliases and every loader family
        (
            "from transformers import AutoModel as AM\n"
            f"AM.from_pretrained('org/m', revision='{COMMIT}', trust_remote_code=True)\n",
            {"LG-CODE-001"},
        ),
        (
            "import transformers\n"
            f"transformers.pipeline('text-generation', model='org/m', revision='{COMMIT}', "
            "trust_remote_code=True)\n",
            {"LG-CODE-001"},
        ),
        (
            "from sentence_transformers import SentenceTransformer\n"
            f"SentenceTransformer('org/m', revision='{COMMIT}', trust_remote_code=True)\n",
            {"LG-CODE-001"},
        ),
        (
            "from diffusers import DiffusionPipeline\n"
            f"DiffusionPipeline.from_pretrained('org/m', revision='{COMMIT}', "
            "custom_pipeline='lpw')\n",
            {"LG-CODE-002"},
        ),
        # torch.hub
        (
            f"import torch\ntorch.hub.load('owner/repo:{COMMIT}', 'net', trust_repo=True)\n",
            {"LG-CODE-003"},
        ),
        ("from torch import hub\nhub.load('owner/repo', 'net')\n", {"LG-CODE-004"}),
        ("import torch as T\nT.hub.load('owner/repo:main', 'net')\n", {"LG-CODE-004"}),
        # revisions
        (
            "from transformers import AutoModel\nAutoModel.from_pretrained('org/m')\n",
            {"LG-CODE-005"},
        ),
        (
            "from transformers import AutoModel\nAutoModel.from_pretrained('org/m', revision='v1.0')\n",
            {"LG-CODE-005"},
        ),
        (
            "from transformers import pipeline\npipeline('fill-mask', model='org/m')\n",
            {"LG-CODE-005"},
        ),
        # torch.load and pickles
        ("import torch\ntorch.load('w.pt')\n", {"LG-CODE-006"}),
        ("import torch\ntorch.load('w.pt', weights_only=False)\n", {"LG-CODE-006"}),
        (
            "import pickle, requests\npickle.loads(requests.get('https://x.invalid/m.pkl').content)\n",
            {"LG-CODE-007"},
        ),
        (
            "import joblib\nfrom huggingface_hub import hf_hub_download\n"
            "def f():\n"
            f"    p = hf_hub_download('org/m', 'clf.joblib', revision='{COMMIT}')\n"
            "    return joblib.load(p)\n",
            {"LG-CODE-007"},
        ),
        (
            "import numpy as np\nnp.load('a.npy', allow_pickle=True)\n",
            {"LG-CODE-007"},
        ),
        # snapshot_download
        (
            f"from huggingface_hub import snapshot_download\nsnapshot_download('org/m', revision='{COMMIT}')\n",
            {"LG-CODE-008"},
        ),
    ],
)
def test_each_rule_fires(source: str, expected: set[str]) -> None:
    assert _ids(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        f"from transformers import AutoModel\nAutoModel.from_pretrained('org/m', revision='{COMMIT}')\n",
        "from transformers import AutoModel\nAutoModel.from_pretrained('./checkpoints/run1')\n",
        "from transformers import AutoModel\nAutoModel.from_config(config)\n",
        "from transformers import AutoModel\nAutoModel.from_pretrained(path, **kwargs)\n",
        "from transformers import AutoModel\n"
        f"AutoModel.from_pretrained('org/m', revision='{COMMIT}', trust_remote_code=False)\n",
        "import torch\ntorch.load('w.pt', weights_only=True)\n",
        f"import torch\ntorch.hub.load('owner/repo:{COMMIT}', 'net', trust_repo='check')\n",
        "import torch\ntorch.hub.load('/local/dir', 'net', source='local')\n",
        "import numpy as np\nnp.load('a.npy')\n",
        "from huggingface_hub import snapshot_download\n"
        f"snapshot_download('org/m', revision='{COMMIT}', allow_patterns=['*.json'])\n",
        "from transformers import pipeline\npipeline('fill-mask')\n",
        "def pipeline(**kw):\n    pass\npipeline('x', model='org/m', trust_remote_code=False)\n",
        "import pickle as json_like\n",
    ],
)
def test_safe_code_is_quiet(source: str) -> None:
    assert _ids(source) == set()


def test_severity_depends_on_certainty() -> None:
    assert _rules(
        f"from transformers import AutoModel\nAutoModel.from_pretrained('o/m', revision='{COMMIT}', "
        "trust_remote_code=flag)\n"
    ) == [("LG-CODE-001", Severity.MEDIUM)]
    assert _rules("import torch\ntorch.load('w.pt', weights_only=False)\n") == [
        ("LG-CODE-006", Severity.HIGH)
    ]
    assert _rules("import torch\ntorch.load('w.pt')\n") == [("LG-CODE-006", Severity.MEDIUM)]
    assert _rules("import pickle\npickle.load(open('local.pkl', 'rb'))\n") == [
        ("LG-CODE-007", Severity.LOW)
    ]
    assert _rules("from transformers import AutoModel\nAutoModel.from_pretrained(name)\n") == [
        ("LG-CODE-005", Severity.LOW)
    ]


def test_findings_carry_fix_snippet_and_location() -> None:
    (finding,) = check_source(
        b"import torch\n\nmodel = torch.hub.load('o/r', 'net', trust_repo='check')\n", "pkg/app.py"
    )
    assert finding.location.path == "pkg/app.py" and finding.location.line == 3
    assert "Fix:" in finding.message and "owner/repo:<40-hex commit>" in finding.message
    assert finding.snippet.startswith("torch.hub.load(")
    assert finding.cwe == ("CWE-494",)


def test_fingerprints_survive_line_shifts() -> None:
    source = "import torch\ntorch.load('w.pt')\n"
    first = check_source(source.encode(), "a.py")
    shifted = check_source(("\n\n\n" + source).encode(), "a.py")
    assert [f.fingerprint for f in first] == [f.fingerprint for f in shifted]


def test_project_walk_skips_venvs_reports_errors_and_never_executes(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    (tmp_path / "app.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nimport torch\ntorch.load('w.pt')\n"
    )
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    venv = tmp_path / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "dep.py").write_text("import torch\ntorch.load('x')\n")
    report = check_code(tmp_path)
    assert not marker.exists()
    assert [f.location.path for f in report.findings] == ["app.py"]
    assert [e.path for e in report.errors] == ["broken.py"]
    assert report.files == 3
    result = report.to_result()
    assert result.errors and result.findings and result.verdict.value == "review"


def test_cli_formats_and_exit_codes(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "load.py").write_text(
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('org/m', trust_remote_code=True)\n"
    )
    text = run_cli("check-code", str(project))
    assert text.exit_code == 1 and "LG-CODE-001" in text.output and "fix:" in text.output
    sarif = run_cli("check-code", str(project), "--format", "sarif")
    log = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {"LG-CODE-001", "LG-CODE-005"}
    doc = json.loads(run_cli("check-code", str(project), "--format", "json").stdout)
    assert doc["gate"]["exit_code"] == 1
    assert run_cli("check-code", str(project), "--preset", "audit").exit_code == 0
    assert run_cli("check-code", str(project), "--fail-on", "critical").exit_code == 0
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "ok.py").write_text("print('hi')\n")
    assert run_cli("check-code", str(clean)).exit_code == 0
    (clean / "bad.py").write_text("def (:\n")
    assert run_cli("check-code", str(clean)).exit_code == 2


def test_scan_error_type_is_shared() -> None:
    errors: list[ScanError] = []
    assert check_source(b"\x00\x01 not python", "x.py", errors) == []
    assert errors and errors[0].stage == "check-code"


def test_files_from_pre_commit_are_one_project(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import torch\ntorch.load('w.pt')\n")
    (tmp_path / "b.py").write_text("import pickle\npickle.load(f)\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text("import torch\ntorch.load('x')\n")
    (tmp_path / "link.py").symlink_to(outside)
    report = check_paths(
        [tmp_path / "pkg" / "a.py", tmp_path / "b.py", tmp_path / "link.py"], tmp_path
    )
    assert sorted(f.location.path for f in report.findings) == ["b.py", "pkg/a.py"]
    assert [(e.path, e.kind) for e in report.errors] == [("link.py", "symlink-escape")]
    single = check_paths([tmp_path / "pkg"], tmp_path)
    assert [f.location.path for f in single.findings] == ["a.py"]


@pytest.mark.parametrize(
    "source",
    [
        "from transformers import AutoModel\nkw = {'trust_remote_code': True}\n"
        f"AutoModel.from_pretrained('o/m', revision='{COMMIT}', **kw)\n",
        "from transformers import AutoModel\ndef load():\n    kw = dict(trust_remote_code=True)\n"
        f"    return AutoModel.from_pretrained('o/m', revision='{COMMIT}', **kw)\n",
        "from transformers import pipeline\n"
        f"pipeline('x', model='o/m', revision='{COMMIT}', model_kwargs={{'trust_remote_code': True}})\n",
        "from sentence_transformers import SentenceTransformer\nopts = {'trust_remote_code': True}\n"
        f"SentenceTransformer('o/m', revision='{COMMIT}', config_kwargs=opts)\n",
    ],
)
def test_trust_flag_through_keyword_dicts(source: str) -> None:
    assert _ids(source) == {"LG-CODE-001"}


def test_rebinding_a_keyword_dict_forgets_it() -> None:
    source = (
        "from transformers import AutoModel\nkw = {'trust_remote_code': True}\nkw = load_opts()\n"
        "AutoModel.from_pretrained('o/m', **kw)\n"
    )
    # Opaque **kw: neither the trust flag nor a missing revision can be claimed.
    assert _ids(source) == set()


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nkw = {}\nkw['weights_only'] = True\ntorch.load('w.pt', **kw)\n",
        "import torch\nkw = {}\nkw.update(opts)\ntorch.load('w.pt', **kw)\n",
        "import torch\nkw = {}\nkw |= opts\ntorch.load('w.pt', **kw)\n",
        "import torch\ntorch.load('w.pt', **opts)\n",
    ],
)
def test_mutated_or_unknown_keyword_dicts_are_opaque(source: str) -> None:
    assert _ids(source) == set()


def test_known_keyword_dict_without_the_flag_still_counts() -> None:
    assert _ids("import torch\nkw = {'map_location': 'cpu'}\ntorch.load('w.pt', **kw)\n") == {
        "LG-CODE-006"
    }
