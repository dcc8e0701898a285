"""Detection rules per loader, on small fixtures (including the tricky layouts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loadguard.detect import build_plan
from loadguard.filekinds import classify_all
from loadguard.model import EntryKind, Loader, LoadPlan
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]


def plan_of(root: Path) -> LoadPlan:
    snapshot = snapshot_from_folder(root)
    return build_plan(snapshot, classify_all(snapshot))


def triggers(plan: LoadPlan) -> dict[str, tuple[str | None, str | None]]:
    return {e.trigger: (e.module, e.qualname) for e in plan.entry_points}


def test_list_form_tokenizer_auto_map_both_slots(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "tokenizer_config.json": {"auto_map": {"AutoTokenizer": ["tok.Slow", "tok.Fast"]}},
            "tok.py": "class Slow: pass\nclass Fast: pass\n",
        }
    )
    plan = plan_of(root)
    assert triggers(plan)["tokenizer_config.json auto_map.AutoTokenizer[1]"] == ("tok.py", "Fast")
    assert triggers(plan)["tokenizer_config.json auto_map.AutoTokenizer[0]"] == ("tok.py", "Slow")
    assert plan.trust_flags == ("trust_remote_code=True",)


def test_legacy_list_auto_map_with_null_fast(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "tokenizer_config.json": {"auto_map": ["tok.Slow", None]},
            "tok.py": "class Slow: pass\n",
        }
    )
    assert list(triggers(plan_of(root))) == ["tokenizer_config.json auto_map[0]"]


def test_cross_repo_reference_is_recorded_not_resolved_locally(make_repo: MakeRepo) -> None:
    root = make_repo({"config.json": {"auto_map": {"AutoModel": "org/code--modeling.M"}}})
    plan = plan_of(root)
    (ref,) = plan.cross_repo_refs
    assert (ref.repo_id, ref.reference, ref.pinned) == ("org/code", "org/code--modeling.M", False)
    assert plan.entry_points[0].cross_repo == ref
    assert plan.executed_files == ()
    assert any(f.rule_id == "LG-CFG-002" for f in plan.config_findings)


def test_relative_imports_two_levels_deep(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoModel": "modeling.M"}},
            "modeling.py": "from .pkg.helpers import h\nclass M: pass\n",
            "pkg/__init__.py": "",
            "pkg/helpers.py": "from .deep.payload import run\ndef h(): run()\n",
            "pkg/deep/__init__.py": "",
            "pkg/deep/payload.py": "def run(): pass\n",
            "unused.py": "import os\n",
        }
    )
    executed = set(plan_of(root).executed_files)
    assert {
        "modeling.py",
        "pkg/helpers.py",
        "pkg/deep/payload.py",
        "pkg/__init__.py",
        "pkg/deep/__init__.py",
    } <= executed
    assert "unused.py" not in executed


def test_from_dot_import_module_and_parent_relative(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoConfig": "sub/conf.C"}},
            "sub/conf.py": "from . import sibling\nfrom ..top import T\nclass C: pass\n",
            "sub/sibling.py": "",
            "top.py": "class T: pass\n",
        }
    )
    assert set(plan_of(root).executed_files) == {"sub/conf.py", "sub/sibling.py", "top.py"}


def test_missing_module_and_missing_class_are_errors(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoModel": "gone.M", "AutoConfig": "conf.NotHere"}},
            "conf.py": "class Other: pass\n",
        }
    )
    plan = plan_of(root)
    kinds = {e.kind for e in plan.errors}
    assert {"missing-module", "missing-class"} <= kinds
    assert not next(e for e in plan.entry_points if e.module == "gone.py").exists


def test_broken_json_is_an_error_and_detection_goes_on(make_repo: MakeRepo) -> None:
    root = make_repo({"config.json": "{not json", "hubconf.py": "def m(): pass\n"})
    plan = plan_of(root)
    assert any(e.kind == "bad-json" and e.path == "config.json" for e in plan.errors)
    assert Loader.TORCH_HUB in plan.loaders


def test_hubconf_entries_helpers_and_dependencies(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "hubconf.py": "dependencies = ['torch', 'yaml']\nfrom models.net import build\n"
            "import utils.download\n"
            "def small(pretrained=False): return build()\ndef _private(): pass\n",
            "models/__init__.py": "",
            "models/net.py": "def build(): pass\n",
            "utils/__init__.py": "",
            "utils/download.py": "",
        }
    )
    plan = plan_of(root)
    names = {e.qualname for e in plan.entry_points if e.kind is EntryKind.FUNCTION}
    assert names == {"small", "build"}
    assert {"hubconf.py", "models/net.py", "models/__init__.py", "utils/download.py"} <= set(
        plan.executed_files
    )
    assert plan.requirements == ("torch", "yaml")


def test_mm_base_chain_and_custom_imports(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "configs/_base_/base.py": "_base_ = './root.py'\nmodel = dict(type='Net')\n",
            "configs/_base_/root.py": "log_level = 'INFO'\n",
            "configs/exp/exp.py": "_base_ = ['../_base_/base.py', 'mmdet::common/x.py']\n"
            "custom_imports = dict(imports=['plugins.hooks'])\n",
            "plugins/__init__.py": "",
            "plugins/hooks.py": "from .more import X\n",
            "plugins/more.py": "X = 1\n",
        }
    )
    plan = plan_of(root)
    executed = set(plan.executed_files)
    assert {
        "configs/exp/exp.py",
        "configs/_base_/base.py",
        "configs/_base_/root.py",
        "plugins/hooks.py",
        "plugins/more.py",
    } <= executed
    assert "mmdet" in plan.requirements


def test_modelscope_allow_remote_executes_every_py(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "configuration.json": {"allow_remote": True, "task": "x"},
            "a.py": "",
            "deep/b.py": "",
            "README.md": "",
        }
    )
    plan = plan_of(root)
    assert set(plan.executed_files) == {"a.py", "deep/b.py"}
    assert any(f.rule_id == "LG-CFG-010" for f in plan.config_findings)


def test_less_obvious_triggers(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"model_type": "gpt2", "attn_implementation": "org/kernels@main"},
            "custom_generate/generate.py": "def generate(model, **kw): pass\n",
            "adapter_config.json": {
                "base_model_name_or_path": "org/base",
                "auto_mapping": {"parent_library": "evil"},
            },
            "tokenizer_config.json": {"chat_template": "{{ messages }}"},
            "sub/settings.json": {"nested": {"trust_remote_code": True}},
        }
    )
    plan = plan_of(root)
    kinds = {e.kind for e in plan.entry_points}
    assert {EntryKind.KERNEL, EntryKind.FUNCTION, EntryKind.REDIRECT, EntryKind.TEMPLATE} <= kinds
    rules = {f.rule_id for f in plan.config_findings}
    assert {"LG-CFG-001", "LG-CFG-003", "LG-CFG-004"} <= rules
    assert {r.repo_id for r in plan.cross_repo_refs} == {"org/kernels", "org/base"}


def test_sentence_transformers_and_diffusers(make_repo: MakeRepo) -> None:
    st = make_repo(
        {
            "modules.json": [
                {"type": "sentence_transformers.models.Pooling"},
                {"type": "layer.Custom"},
            ],
            "layer.py": "class Custom: pass\n",
        },
        name="st",
    )
    assert triggers(plan_of(st)) == {"modules.json [1].type": ("layer.py", "Custom")}
    df = make_repo(
        {
            "model_index.json": {
                "_class_name": "MyPipe",
                "vae": ["diffusers", "AutoencoderKL"],
                "unet": ["my_unet", "UNet"],
            },
            "pipeline.py": "class MyPipe: pass\n",
            "unet/my_unet.py": "class UNet: pass\n",
        },
        name="df",
    )
    assert set(plan_of(df).executed_files) == {"pipeline.py", "unet/my_unet.py"}


def test_pickle_weights_detected_by_magic_not_name(make_repo: MakeRepo) -> None:
    pickle_bytes = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94."
    root = make_repo({"model.safetensors": pickle_bytes, "weights.dat": pickle_bytes})
    plan = plan_of(root)
    assert {w.path: w.kind.value for w in plan.weights} == {
        "model.safetensors": "pickle",
        "weights.dat": "pickle",
    }


def test_compiled_code_is_flagged(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoModel": "modeling.M"}},
            "modeling.py": "from .fast import k\nclass M: pass\n",
            "__pycache__/modeling.cpython-311.pyc": b"\xa7\r\r\n" + b"\x00" * 12,
            "fast.cpython-311-x86_64-linux-gnu.so": b"\x7fELF",
        }
    )
    findings = {f.rule_id: f for f in plan_of(root).config_findings}
    assert findings["LG-CFG-040"].severity.label == "high"
    assert findings["LG-CFG-041"].severity.label == "high"
