"""Load paths an attacker who read the detectors could use, each checked against its loader.

Every case names the library function whose behaviour it reproduces (read in
transformers 5.25, diffusers 0.42.1, sentence-transformers 6.3, modelscope
1.40.2). A case is a small repo with a payload in the file the loader runs; the
plan must execute that file and the payload's finding must be reachable. The
benign look-alikes must add nothing. Samples are inert: the payload is
``os.system("true")`` and nothing here is imported or run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.api import scan
from loadguard.detect import build_plan
from loadguard.filekinds import classify_all
from loadguard.model import LoadPlan, ScanResult, Severity
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]
PAYLOAD = "import os\nos.system('true')\n"
M = "class M:\n    pass\n"


def plan_of(root: Path) -> LoadPlan:
    snapshot = snapshot_from_folder(root)
    return build_plan(snapshot, classify_all(snapshot))


def scan_one(root: Path) -> ScanResult:
    (result,) = scan(str(root))
    return result


def payload_reached(result: ScanResult, path: str) -> bool:
    return any(
        f.location.path == path and f.severity >= Severity.HIGH and f.reachable is True
        for f in result.findings
    )


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (case id, files, the file the loader executes, trigger of its entry point)
LOADER_PATHS: list[tuple[str, dict[str, object], str, str]] = [
    (
        # PretrainedConfig.get_config_dict -> get_configuration_file: AutoConfig re-reads
        # the config from the newest listed config.<version>.json not newer than transformers
        "configuration_files redirect",
        {
            "config.json": {"model_type": "bert", "configuration_files": ["config.4.0.0.json"]},
            "config.4.0.0.json": {"model_type": "bert", "auto_map": {"AutoModel": "evil.M"}},
            "evil.py": PAYLOAD + M,
        },
        "evil.py",
        "config.4.0.0.json auto_map.AutoModel",
    ),
    (
        # AutoImageProcessor.from_pretrained: without its own key it takes
        # auto_map.AutoFeatureExtractor.replace("FeatureExtractor", "ImageProcessor"),
        # module part included
        "feature extractor ref rewritten to an image processor module",
        {
            "preprocessor_config.json": {
                "auto_map": {"AutoFeatureExtractor": "myFeatureExtractor.MyFeatureExtractor"}
            },
            "myFeatureExtractor.py": "class MyFeatureExtractor:\n    pass\n",
            "myImageProcessor.py": PAYLOAD + "class MyImageProcessor:\n    pass\n",
        },
        "myImageProcessor.py",
        "preprocessor_config.json auto_map.AutoFeatureExtractor (as AutoImageProcessor)",
    ),
    (
        # AutoVideoProcessor.from_pretrained: AutoImageProcessor.replace("ImageProcessor",
        # "VideoProcessor") when the config has no AutoVideoProcessor key
        "image processor ref rewritten to a video processor module",
        {
            "preprocessor_config.json": {"auto_map": {"AutoImageProcessor": "ImageProcessor_x.P"}},
            "ImageProcessor_x.py": "class P:\n    pass\n",
            "VideoProcessor_x.py": PAYLOAD + "class P:\n    pass\n",
        },
        "VideoProcessor_x.py",
        "preprocessor_config.json auto_map.AutoImageProcessor (as AutoVideoProcessor)",
    ),
    (
        # from_pretrained(f"{repo}/text_encoder", trust_remote_code=True): the sub-folder is
        # the model dir, so auto_map resolves beside its config (Kolors-style layouts)
        "sub-folder tokenizer config (loaded by its own path)",
        {
            "model_index.json": {"_class_name": "StableDiffusionPipeline"},
            "tokenizer/tokenizer_config.json": {"auto_map": {"AutoTokenizer": ["tok.T", None]}},
            "tokenizer/tok.py": PAYLOAD + "class T:\n    pass\n",
        },
        "tokenizer/tok.py",
        "tokenizer/tokenizer_config.json auto_map.AutoTokenizer[0]",
    ),
    (
        # from_pretrained(repo, subfolder="0_Transformer"): get_class_from_dynamic_module
        # does not pass subfolder to get_cached_module_file, so the module is the root's
        "sub-folder config with the module at the root (subfolder=)",
        {
            "modules.json": [
                {"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.Tr"}
            ],
            "0_Transformer/config.json": {"auto_map": {"AutoModel": "modeling.M"}},
            "modeling.py": PAYLOAD + M,
        },
        "modeling.py",
        "0_Transformer/config.json auto_map.AutoModel",
    ),
    (
        # _resolve_custom_pipeline_and_cls + get_class_from_dynamic_module(class_name=None):
        # the module runs, then find_pipeline_class picks its pipeline class
        "diffusers custom pipeline with a null class name",
        {
            "model_index.json": {"_class_name": ["my_pipe", None]},
            "my_pipe.py": "class P:\n    def __init__(self):\n        "
            + "import os; os.system('true')\n",
        },
        "my_pipe.py",
        "model_index.json _class_name",
    ),
    (
        # get_class_obj_and_candidates: <component>/<library>.py present -> custom component,
        # whatever the class entry
        "diffusers custom component with a null class name",
        {
            "model_index.json": {"_class_name": "X", "unet": ["my_unet", None]},
            "unet/my_unet.py": PAYLOAD + "class U:\n    pass\n",
        },
        "unet/my_unet.py",
        "model_index.json unet",
    ),
    (
        # get_class_obj_and_candidates joins the component folder and the library name:
        # a library "../helpers" is the root helpers.py
        "diffusers component module outside its folder",
        {
            "model_index.json": {"_class_name": "X", "unet": ["../helpers", "U"]},
            "unet/config.json": {"_class_name": "U"},
            "helpers.py": PAYLOAD + "class U:\n    pass\n",
        },
        "helpers.py",
        "model_index.json unet",
    ),
    (
        # _resolve_custom_pipeline_and_cls tests os.path.isfile(f"{custom_pipeline}.py")
        # with custom_pipeline defaulting to None: a root None.py is the pipeline
        "diffusers None.py",
        {
            "model_index.json": {"_class_name": "StableDiffusionPipeline"},
            "None.py": "class P:\n    def __init__(self):\n        import os; os.system('true')\n",
        },
        "None.py",
        "model_index.json (custom_pipeline=None -> None.py)",
    ),
    (
        # from_pretrained(model, custom_pipeline="org/this-repo", trust_remote_code=True):
        # _get_custom_pipeline_class loads this repo's pipeline.py, which may be all it has
        "diffusers custom-pipeline repo without model_index.json",
        {
            "pipeline.py": "from diffusers import DiffusionPipeline\n"
            "class MyPipe(DiffusionPipeline):\n    def __init__(self, unet):\n"
            "        import os; os.system('true')\n",
        },
        "pipeline.py",
        "pipeline.py (custom_pipeline=<this repo>)",
    ),
    (
        # Router.load: router_config.json, else config.json in the module folder
        "sentence-transformers router legacy config.json",
        {
            "modules.json": [
                {"idx": 0, "name": "0", "path": "r", "type": "sentence_transformers.models.Router"}
            ],
            "r/config.json": {"types": {"query": "custom_st.Mod"}},
            "custom_st.py": PAYLOAD + "class Mod:\n    pass\n",
        },
        "custom_st.py",
        "r/config.json types.query",
    ),
    (
        # WordEmbeddings.load: tokenizer_class goes through import_module_class
        "sentence-transformers word-embeddings tokenizer_class",
        {
            "modules.json": [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "0_WordEmbeddings",
                    "type": "sentence_transformers.models.WordEmbeddings",
                }
            ],
            "0_WordEmbeddings/wordembedding_config.json": {"tokenizer_class": "tok.T"},
            "tok.py": PAYLOAD + "class T:\n    pass\n",
        },
        "tok.py",
        "0_WordEmbeddings/wordembedding_config.json tokenizer_class",
    ),
    (
        # Model.from_pretrained / pipeline(): cfg.get("allow_remote", False) is a
        # truthiness test, so the string "false" enables import_module_from_model_dir
        "modelscope allow_remote given as a string",
        {"configuration.json": {"allow_remote": "false"}, "sub/a.py": PAYLOAD},
        "sub/a.py",
        "configuration.json allow_remote",
    ),
    (
        "modelscope allow_remote given as 1",
        {"configuration.json": {"allow_remote": 1}, "a.py": PAYLOAD},
        "a.py",
        "configuration.json allow_remote",
    ),
    (
        # AutoModel never reads preprocessor_config.json: nesting that breaks json there
        # must not cost the config.json entry point
        "deeply nested JSON in a config the load does not read",
        {
            "config.json": {"auto_map": {"AutoModel": "evil.M"}},
            "preprocessor_config.json": '{"a": ' + deep(100_000) + "}",
            "evil.py": PAYLOAD + M,
        },
        "evil.py",
        "config.json auto_map.AutoModel",
    ),
    (
        # json.load in the loader accepts nesting up to its own recursion headroom
        "nesting just under the loader's json limit beside auto_map",
        {
            "config.json": '{"auto_map": {"AutoModel": "evil.M"}, "a": ' + deep(990) + "}",
            "evil.py": PAYLOAD + M,
        },
        "evil.py",
        "config.json auto_map.AutoModel",
    ),
]


@pytest.mark.parametrize(
    ("files", "executed", "trigger"),
    [
        pytest.param(files, executed, trigger, id=case)
        for case, files, executed, trigger in LOADER_PATHS
    ],
)
def test_loader_path_is_planned_and_its_payload_reached(
    make_repo: MakeRepo, files: dict[str, object], executed: str, trigger: str
) -> None:
    root = make_repo({"README.md": "a model\n", **files})
    result = scan_one(root)
    entries = {e.trigger: e for e in result.plan.entry_points}
    assert trigger in entries, sorted(entries)
    assert entries[trigger].module in (executed, None)  # None: every .py (allow_remote)
    assert entries[trigger].trust_flag == "trust_remote_code=True"
    assert executed in result.plan.executed_files
    assert payload_reached(result, executed)


def test_sub_folder_ref_lists_both_places_the_module_can_be(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "README.md": "",
            "text_encoder/config.json": {"auto_map": {"AutoModel": "modeling.M"}},
            "text_encoder/modeling.py": M,
            "modeling.py": M,
        }
    )
    modules = {
        e.module
        for e in plan_of(root).entry_points
        if e.trigger == "text_encoder/config.json auto_map.AutoModel"
    }
    assert modules == {"text_encoder/modeling.py", "modeling.py"}


def test_configuration_files_only_names_versioned_configs(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"configuration_files": ["modeling.json", "../config.1.0.json"]},
            "modeling.json": {"auto_map": {"AutoModel": "evil.M"}},
            "evil.py": M,
        }
    )
    assert plan_of(root).entry_points == ()


def test_derived_ref_needs_the_source_key_and_no_own_key(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "preprocessor_config.json": {
                "auto_map": {
                    "AutoFeatureExtractor": "fe.MyFeatureExtractor",
                    "AutoImageProcessor": "ip.MyImageProcessor",
                }
            },
            "fe.py": "class MyFeatureExtractor:\n    pass\n",
            "ip.py": "class MyImageProcessor:\n    pass\n",
        }
    )
    entries = {e.trigger: (e.module, e.qualname) for e in plan_of(root).entry_points}
    assert not any("(as AutoImageProcessor)" in t for t in entries)  # it has its own key
    # AutoVideoProcessor still derives from the image processor entry
    video = "preprocessor_config.json auto_map.AutoImageProcessor (as AutoVideoProcessor)"
    assert entries[video] == ("ip.py", "MyVideoProcessor")


@pytest.mark.parametrize("value", [False, 0, "", None, [], {}])
def test_modelscope_falsy_allow_remote_imports_nothing(make_repo: MakeRepo, value: object) -> None:
    root = make_repo({"configuration.json": {"allow_remote": value}, "a.py": PAYLOAD})
    plan = plan_of(root)
    assert plan.executed_files == ()
    assert not any(f.rule_id == "LG-CFG-010" for f in plan.config_findings)


def test_modelscope_allow_remote_installs_every_requirement_file(make_repo: MakeRepo) -> None:
    # _traversal_files: any file whose name contains "requirement", at any depth,
    # except under __* names and .json/.md files
    root = make_repo(
        {
            "configuration.json": {"allow_remote": True},
            "a.py": "",
            "requirements.txt": "numpy\n",
            "extra/my_requirement.cfg": "evilpkg==1.0\n",
            "__skip/requirements.txt": "skipped\n",
            "requirements.md": "docs\n",
        }
    )
    assert sorted(plan_of(root).requirements) == ["evilpkg==1.0", "numpy"]


def test_modelscope_plugin_given_as_a_string(make_repo: MakeRepo) -> None:
    root = make_repo({"configuration.json": {"plugins": "evilpkg"}})
    plan = plan_of(root)
    assert "evilpkg" in plan.requirements
    assert any(f.rule_id == "LG-CFG-011" for f in plan.config_findings)


BENIGN: list[tuple[str, dict[str, object]]] = [
    (
        "auto_map under an unrelated key of an unrelated file",
        {
            "config.json": {"model_type": "bert"},
            "generation_config.json": {"auto_map": {"AutoModel": "evil.M"}},
            "data/info.json": {"auto_map": {"AutoModel": "evil.M"}},
            "evil.py": PAYLOAD + M,
        },
    ),
    (
        "a pipeline.py that is not a diffusers pipeline",
        {"pipeline.py": "from sklearn.pipeline import Pipeline\n" + PAYLOAD},
    ),
    (
        "strings that mention .py files",
        {
            "config.json": {"model_type": "bert", "note": "see modeling.py and evil.M"},
            "tokenizer_config.json": {"tokenizer_class": "BertTokenizer", "doc": "tok.py"},
            "evil.py": PAYLOAD + M,
        },
    ),
    (
        "diffusers component whose module is a library",
        {
            "model_index.json": {
                "_class_name": "StableDiffusionPipeline",
                "unet": ["diffusers", "UNet2DConditionModel"],
                "safety_checker": [None, None],
            },
            "unet/config.json": {"_class_name": "UNet2DConditionModel"},
            "scripts/convert.py": PAYLOAD,
        },
    ),
    (
        "sentence-transformers library modules only",
        {
            "modules.json": [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "",
                    "type": "sentence_transformers.models.Transformer",
                },
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling",
                },
            ],
            "1_Pooling/config.json": {"word_embedding_dimension": 384},
            "train.py": PAYLOAD,
        },
    ),
]


@pytest.mark.parametrize("files", [pytest.param(files, id=case) for case, files in BENIGN])
def test_benign_look_alikes_plan_no_repo_code(
    make_repo: MakeRepo, files: dict[str, object]
) -> None:
    result = scan_one(make_repo(files))
    assert [e for e in result.plan.entry_points if e.module] == []
    assert result.plan.executed_files == ()
    assert not any(f.reachable is True and f.severity >= Severity.HIGH for f in result.findings)


def test_json_helper_keeps_headroom_and_restores_the_limit() -> None:
    import sys

    from loadguard.detect.context import loads_json

    limit = sys.getrecursionlimit()
    assert loads_json(json.dumps({"a": 1}).encode()) == {"a": 1}
    with pytest.raises(RecursionError):
        loads_json(deep(100_000).encode())
    assert sys.getrecursionlimit() == limit


def test_config_too_large_to_read_may_name_any_module(make_repo: MakeRepo) -> None:
    # transformers json.loads a config of any size; padding it past the scan's limit
    # must not turn "names evil.py" into "names nothing" (key spelt with an escape)
    padding = "x" * (9 << 20)
    config = '{"pad": "' + padding + '", "auto\\u005fmap": {"AutoModel": "evil.M"}}'
    result = scan_one(make_repo({"config.json": config, "evil.py": PAYLOAD + M}))
    (entry,) = result.plan.entry_points
    assert entry.trigger == "config.json (unread: may name any repo module)"
    assert "evil.py" in result.plan.executed_files
    assert payload_reached(result, "evil.py")
    assert any(e.kind == "unreadable" for e in result.plan.errors)


def test_config_too_large_without_code_keys_names_nothing(make_repo: MakeRepo) -> None:
    big = json.dumps({"added_tokens_decoder": {str(i): "t" * 64 for i in range(140_000)}})
    root = make_repo({"config.json": {"model_type": "bert"}, "tokenizer_config.json": big})
    (root / "train.py").write_text(PAYLOAD)
    result = scan_one(root)
    assert result.plan.executed_files == ()
    assert not payload_reached(result, "train.py")


MM_PATHS: list[tuple[str, dict[str, object], str]] = [
    (
        # Config.fromfile imports cfg_dict["custom_imports"] for .json configs too
        "custom_imports in a JSON config",
        {"configs/a.json": {"custom_imports": {"imports": ["plug"]}, "model": {"type": "X"}}},
        "plug.py",
    ),
    (
        "custom_imports in a YAML config (with a python tag beside it)",
        {"configs/a.yaml": "custom_imports:\n  imports: plug\nx: !!python/name:os.getcwd\n"},
        "plug.py",
    ),
    (
        # Config._get_base_files reads _base_ from .json configs; a .py base runs whole
        "a JSON config's Python base",
        {"configs/a.json": {"_base_": ["./base.py"]}, "configs/base.py": PAYLOAD + "x = 1\n"},
        "configs/base.py",
    ),
    (
        # the whole config runs before custom_imports is read: mutations count
        "custom_imports extended by code",
        {
            "configs/a.py": "_base_ = []\ncustom_imports = dict(imports=[])\n"
            "custom_imports['imports'].append('plug')\n"
        },
        "plug.py",
    ),
    (
        "custom_imports through a name",
        {"configs/a.py": "_base_ = []\nMODS = ['plug']\ncustom_imports = dict(imports=MODS)\n"},
        "plug.py",
    ),
    (
        # Registry.get falls back to get_object_from_string, which imports the
        # longest importable prefix of an unregistered dotted type
        "a registry type naming a repo module",
        {"configs/a.py": "_base_ = []\nmodel = dict(type='plug.Evil')\n"},
        "plug.py",
    ),
    (
        "a registry type in a JSON config naming a repo module",
        {"configs/a.json": {"_base_": [], "model": {"backbone": {"type": "plug.Evil"}}}},
        "plug.py",
    ),
    (
        "a module the config itself imports",
        {"configs/a.py": "_base_ = []\nimport plug\nmodel = dict(type='X')\n"},
        "plug.py",
    ),
]


@pytest.mark.parametrize(
    ("files", "executed"),
    [pytest.param(files, executed, id=case) for case, files, executed in MM_PATHS],
)
def test_mmengine_config_path_is_planned(
    make_repo: MakeRepo, files: dict[str, object], executed: str
) -> None:
    result = scan_one(make_repo({"plug.py": PAYLOAD, **files}))
    assert executed in result.plan.executed_files
    assert payload_reached(result, executed)


def test_mmengine_strings_that_are_not_repo_modules_add_nothing(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "configs/a.py": "_base_ = []\nMODS = ['mmdet.models', 'imports']\n"
            "custom_imports = dict(imports=MODS, allow_failed_imports=False)\n",
            "data/meta.json": {"_base": "x", "custom": "custom_imports"},
            "notes.yaml": "text: mentions _base_ and custom_imports in a value\n",
            "plug.py": PAYLOAD,
        }
    )
    plan = plan_of(root)
    assert "plug.py" not in plan.executed_files
    assert [e.trigger for e in plan.entry_points] == ["Config.fromfile(configs/a.py)"]


@pytest.mark.parametrize(
    ("extend", "expected"),
    [
        # torch.hub runs hubconf with the repo root first on sys.path; a hubconf that
        # adds a sub-folder makes `import lib` load src/lib.py
        ("sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'src'))", True),
        ("sys.path.append(os.environ['SRC'])", None),  # cannot tell where: unknown
        ("sys.path.insert(0, os.path.dirname(__file__))", False),  # the root: resolved already
    ],
)
def test_sys_path_extension_is_followed_or_unknown(
    make_repo: MakeRepo, extend: str, expected: bool | None
) -> None:
    root = make_repo(
        {
            "hubconf.py": f"dependencies = []\nimport os, sys\n{extend}\nimport lib\n\n"
            "def model():\n    return lib\n",
            "src/lib.py": PAYLOAD,
        }
    )
    (finding,) = [f for f in scan_one(root).findings if f.location.path == "src/lib.py"]
    assert finding.reachable is expected


def test_custom_generate_of_a_sub_folder_model(make_repo: MakeRepo) -> None:
    # load_custom_generate reads custom_generate/generate.py of the folder loaded
    root = make_repo(
        {
            "convert.py": "",  # a root marker: the scan is of the whole repo
            "llm/config.json": {"model_type": "gpt2"},
            "llm/custom_generate/generate.py": PAYLOAD + "def generate(model):\n    pass\n",
        }
    )
    result = scan_one(root)
    assert "llm/custom_generate/generate.py" in result.plan.executed_files
    assert payload_reached(result, "llm/custom_generate/generate.py")


def test_hubconf_entries_bound_by_assignment_and_star_exports(make_repo: MakeRepo) -> None:
    # torch.hub.load only checks callable(getattr(hubconf, name)); list() shows every
    # public callable attribute, however it was bound
    root = make_repo(
        {
            "hubconf.py": "dependencies = []\nimport functools\n"
            "from models.net import _make, Builder\nfrom models.entry import *\n"
            "resnet = _make\nvit = functools.partial(_make, 1)\ntiny = lambda: _make()\n"
            "call = Builder()\nNUM = 3\nNAMES = ['a']\n_hidden = _make\n",
            "models/__init__.py": "",
            "models/net.py": "def _make(x=0):\n    import os\n    os.system('true')\n"
            "class Builder:\n    def __call__(self):\n        pass\n",
            "models/entry.py": "__all__ = ['exported']\ndef exported():\n    pass\n"
            "def not_exported():\n    pass\n",
        }
    )
    result = scan_one(root)
    names = {e.qualname for e in result.plan.entry_points if e.qualname}
    assert names == {"Builder", "resnet", "vit", "tiny", "call", "exported"}
    assert payload_reached(result, "models/net.py")


def test_open_clip_text_tower_redirects(make_repo: MakeRepo) -> None:
    # open_clip HFTokenizer: AutoTokenizer.from_pretrained(hf_tokenizer_name, **tokenizer_kwargs)
    root = make_repo(
        {
            "open_clip_config.json": {
                "model_cfg": {
                    "text_cfg": {
                        "hf_model_name": "org/text-model",
                        "hf_tokenizer_name": "org/tokenizer",
                        "tokenizer_kwargs": {"trust_remote_code": True},
                    }
                }
            },
            "open_clip_pytorch_model.bin": b"",
        }
    )
    plan = plan_of(root)
    assert {r.repo_id for r in plan.cross_repo_refs} == {"org/text-model", "org/tokenizer"}
    (tokenizer,) = [e for e in plan.entry_points if e.trigger.endswith("hf_tokenizer_name")]
    assert tokenizer.runs_repo_code and tokenizer.trust_flag
    assert any(f.rule_id == "LG-CFG-001" for f in plan.config_findings)


@pytest.mark.parametrize("value", [True, "yes", "false", 1])
def test_config_borne_trust_is_a_truthiness_test(make_repo: MakeRepo, value: object) -> None:
    # open_clip passes tokenizer_kwargs to AutoTokenizer as is; resolve_trust_remote_code
    # only asks whether the value is truthy
    root = make_repo({"open_clip_config.json": {"tokenizer_kwargs": {"trust_remote_code": value}}})
    assert any(f.rule_id == "LG-CFG-001" for f in plan_of(root).config_findings)


@pytest.mark.parametrize("value", [False, None, 0, "", "check"])
def test_config_borne_trust_off_is_not_flagged(make_repo: MakeRepo, value: object) -> None:
    root = make_repo({"config.json": {"trust_remote_code": value, "trust_repo": value}})
    assert not any(f.rule_id == "LG-CFG-001" for f in plan_of(root).config_findings)


def test_flattened_mm_config_beside_a_checkpoint(make_repo: MakeRepo) -> None:
    # init_detector("rtmdet_tiny.py", "rtmdet_tiny.pth") -> Config.fromfile runs the file;
    # mim-dumped configs carry no _base_ and sit at the repo root
    root = make_repo(
        {
            "rtmdet_tiny.py": PAYLOAD + "default_scope = 'mmdet'\nmodel = dict(type='RTMDet')\n"
            "train_cfg = dict(max_epochs=1)\ntest_cfg = dict()\n",
            "train.py": "model = None\ntrain_cfg = None\n",  # one runner key: a script
        }
    )
    result = scan_one(root)
    assert [e.trigger for e in result.plan.entry_points] == ["Config.fromfile(rtmdet_tiny.py)"]
    assert payload_reached(result, "rtmdet_tiny.py")
