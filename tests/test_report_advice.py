from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard import advice as advice_module
from loadguard.advice import RepoFacts, SafeLoadAdvice, advice_for, builtin_model_type
from loadguard.api import iter_scan
from loadguard.model import ScanResult
from report_samples import COMMIT, backdoor_result

MakeRepo = Callable[..., Path]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"


def _advise(path: Path) -> SafeLoadAdvice:
    (result,) = [r for r in iter_scan(str(path)) if isinstance(r, ScanResult)]
    return advice_for(result)


def _components(advice: SafeLoadAdvice) -> dict[str, bool]:
    return {c.component: c.safe for c in advice.components}


def test_shipped_model_types_cover_common_architectures() -> None:
    for name in ("bert", "llama", "gpt2", "t5", "qwen2", "mistral"):
        assert builtin_model_type(name)
    assert not builtin_model_type("tinylm-custom-xyz") and not builtin_model_type(None)


def test_builtin_architecture_with_data_files_needs_no_repo_code(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "config.json": {"model_type": "bert", "architectures": ["BertForMaskedLM"]},
            "tokenizer.json": {"version": "1.0"},
            "tokenizer_config.json": {},
            "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
        }
    )
    advice = _advise(repo)
    assert not advice.needs_repo_code and not advice.remaining
    assert _components(advice) == {"tokenizer": True, "architecture": True, "weights": True}
    assert "AutoModelForMaskedLM.from_pretrained(" in advice.code
    assert "use_safetensors=True" in advice.code and "trust_remote_code=False" in advice.code
    assert "PreTrainedTokenizerFast" in advice.code
    ast.parse(advice.code)  # paste-able: valid Python


def test_custom_code_and_pickles_remain_for_the_sandbox(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "config.json": {
                "model_type": "tinylm",
                "auto_map": {"AutoModel": "modeling_tiny.TinyModel"},
            },
            "modeling_tiny.py": "class TinyModel:\n    pass\n",
            "tokenizer_config.json": {"auto_map": {"AutoTokenizer": ["tok.Tok", None]}},
            "tok.py": "class Tok:\n    pass\n",
            "pytorch_model.bin": b"\x80\x02}q\x00.",
        }
    )
    advice = _advise(repo)
    assert advice.needs_repo_code and advice.runs_repo_code_by_default
    assert _components(advice) == {"tokenizer": False, "architecture": False, "weights": False}
    assert any("convert" in r for r in advice.remaining)
    assert any("tokenizer" in r for r in advice.remaining)
    assert "trust_remote_code=True" in advice.code  # stated, behind a warning comment
    ast.parse(advice.code)


def test_revision_is_pinned_when_known_and_cross_repo_code_gets_code_revision() -> None:
    result = backdoor_result()
    facts = RepoFacts(files=frozenset({"config.json", "model.safetensors"}), model_type="fastlm")
    advice = advice_for(result, facts)
    assert advice.revision == COMMIT and f'REVISION = "{COMMIT}"' in advice.code
    ast.parse(advice.code)
    cross = advice_for(
        next(r for r in iter_scan(str(EXAMPLES / "hf-cross-repo")) if isinstance(r, ScanResult))
    )
    assert "code_revision=" in cross.code and cross.revision is None
    assert any("code_revision" in n for n in cross.notes)
    assert any("loadguard lock" in n for n in cross.notes)


@pytest.mark.parametrize(
    ("repo", "needs_code", "needle"),
    [
        ("hf-builtin-bert", False, "PreTrainedTokenizerFast"),
        ("torchhub-vision", True, "torch.hub.load("),
        ("st-custom-pooling", True, "SentenceTransformer("),
        ("diffusers-custom-pipeline", True, "DiffusionPipeline.from_pretrained("),
        ("ms-allow-remote", True, "loadguard trial"),
        ("mmlab-det-config", True, "loadguard trial"),
        ("hf-pickle-payload", False, "trust_remote_code=False"),
    ],
)
def test_examples(repo: str, needs_code: bool, needle: str) -> None:
    advice = _advise(EXAMPLES / repo)
    assert advice.needs_repo_code is needs_code
    assert needle in advice.code
    ast.parse(advice.code)
    json.dumps(advice.to_dict())


def test_installed_transformers_names_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advice_module, "installed_model_types", lambda: frozenset({"brand-new"}))
    assert builtin_model_type("brand-new")


def test_unreadable_config_gives_no_facts(make_repo: MakeRepo) -> None:
    repo = make_repo({"config.json": "{not json", "tokenizer.json": {}})
    facts = RepoFacts.from_folder(repo)
    assert facts.model_type is None and "tokenizer.json" in facts.files


def test_installed_model_types_are_read_from_source_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto = tmp_path / "transformers" / "models" / "auto"
    auto.mkdir(parents=True)
    (tmp_path / "transformers" / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (auto / "configuration_auto.py").write_text(
        "from collections import OrderedDict\n"
        "from .auto_mappings import CONFIG_MAPPING_NAMES\n"
        'CONFIG_MAPPING_NAMES.update({"mimi_decoder": "MimiDecoderConfig"})\n'
        'CONFIG_MAPPING_NAMES = OrderedDict(**{"gpt-sw3": "GPT2Config"}, **CONFIG_MAPPING_NAMES)\n'
        'OTHER = OrderedDict([("not-a-model", "X")])\n'
    )
    (auto / "auto_mappings.py").write_text(
        "from collections import OrderedDict\n"
        'CONFIG_MAPPING_NAMES = OrderedDict([("brand-new", "BrandNewConfig"), ("bert", "B")])\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    advice_module.installed_model_types.cache_clear()
    try:
        names = advice_module.installed_model_types()
    finally:
        advice_module.installed_model_types.cache_clear()
    assert names == {"brand-new", "bert", "mimi_decoder", "gpt-sw3"}
    assert "transformers" not in sys.modules
