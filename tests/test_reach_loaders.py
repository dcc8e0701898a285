"""Reachability seeds per loader, the engine annotation, and the ``reach`` command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_support import run_cli
from loadguard.detect import build_plan
from loadguard.filekinds import classify_all
from loadguard.model import ReachGraph
from loadguard.reach import build_reach_graph, graph_to_dict, render_dot, render_text
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "repos"


def graph_of(root: Path) -> ReachGraph:
    snapshot = snapshot_from_folder(root)
    return build_reach_graph(snapshot, build_plan(snapshot, classify_all(snapshot)))


def line_of(root: Path, path: str, marker: str) -> int:
    lines = (root / path).read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines) if marker in line)


def test_torch_hub_entry_functions_reached_private_helper_not(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "hubconf.py": "dependencies = ['torch']\nfrom models.net import build\n\n"
            "def tiny(pretrained=False):\n    return build()\n\n"
            "def _helper():\n    return 0  # PRIVATE\n",
            "models/__init__.py": "",
            "models/net.py": "def build():\n    return 1  # BUILD\n",
        }
    )
    graph = graph_of(root)
    assert graph.locate("models/net.py", line_of(root, "models/net.py", "# BUILD"))[0]
    assert not graph.locate("hubconf.py", line_of(root, "hubconf.py", "# PRIVATE"))[0]
    assert "models/__init__.py" in graph.files


def test_torch_hub_entries_brought_by_a_star_import_are_reached(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "hubconf.py": "dependencies = ['torch']\nfrom models.entry import *\n",
            "models/__init__.py": "",
            "models/entry.py": "def resnet(pretrained=False):\n    return 1  # ENTRY\n\n"
            "def _private():\n    return 0  # PRIVATE\n",
        }
    )
    graph = graph_of(root)
    assert graph.locate("models/entry.py", line_of(root, "models/entry.py", "# ENTRY"))[0]
    assert not graph.locate("models/entry.py", line_of(root, "models/entry.py", "# PRIVATE"))[0]


def test_mmengine_config_base_custom_imports_and_registry_type(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "configs/_base_/rt.py": "default_scope = 'mmdet'  # BASE\n",
            "configs/det.py": "_base_ = ['./_base_/rt.py']\n"
            "custom_imports = dict(imports=['plugins.heads'], allow_failed_imports=False)\n"
            "model = dict(type='MyHead', depth=3)\n",
            "plugins/__init__.py": "",
            "plugins/heads.py": "from mmdet.registry import MODELS\n\n"
            "@MODELS.register_module()\nclass MyHead:\n"
            "    def __init__(self, depth):\n        self.depth = depth  # INIT\n"
            "    def loss(self):\n        return 0  # LOSS\n\n"
            "class Unused:\n    def __init__(self):\n        pass  # UNUSED\n",
        }
    )
    graph = graph_of(root)
    heads = "plugins/heads.py"
    assert graph.locate("configs/_base_/rt.py", 1)[0]
    ok, witness = graph.locate(heads, line_of(root, heads, "# INIT"))
    assert ok and "registry type=" in witness[0]
    assert not graph.locate(heads, line_of(root, heads, "# LOSS"))[0]
    assert not graph.locate(heads, line_of(root, heads, "# UNUSED"))[0]


def test_sentence_transformers_module_class(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "pool.Pooler"}],
            "pool.py": "class Pooler:\n    @staticmethod\n    def load(path):\n        return 1  # LOAD\n",
        }
    )
    graph = graph_of(root)
    assert graph.locate("pool.py", line_of(root, "pool.py", "# LOAD"))[0]


def test_unimported_repo_file_is_not_execution_relevant(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoConfig": "configuration_x.XConfig"}},
            "configuration_x.py": "class XConfig:\n    pass\n",
            "scripts/train.py": "import os\nos.system('true')  # PAYLOAD\n",
        }
    )
    graph = graph_of(root)
    assert graph.files == {"configuration_x.py"}
    assert not graph.locate("scripts/train.py", 2)[0]


def test_engine_annotates_findings_with_function_reach(make_repo: MakeRepo) -> None:
    from loadguard.engine import annotate
    from loadguard.model import Confidence, Finding, Location, Severity

    root = make_repo(
        {
            "config.json": {"auto_map": {"AutoModel": "modeling_x.XModel"}},
            "modeling_x.py": "def dead():\n    return 1  # DEAD\n\n"
            "class XModel:\n    def __init__(self):\n        return None  # LIVE\n",
        }
    )
    snapshot = snapshot_from_folder(root)
    kinds = classify_all(snapshot)
    plan = build_plan(snapshot, kinds)
    graph = build_reach_graph(snapshot, plan)

    def finding(line: int) -> Finding:
        return Finding(
            "T", "t", "m", Severity.HIGH, Confidence.HIGH, Location("modeling_x.py", line)
        )

    live = annotate(finding(line_of(root, "modeling_x.py", "# LIVE")), plan, graph, kinds)
    dead = annotate(finding(line_of(root, "modeling_x.py", "# DEAD")), plan, graph, kinds)
    assert live.reachable is True and live.witness[-1] == "modeling_x.XModel.__init__"
    assert dead.reachable is False and dead.witness == ()


def test_examples_payloads_are_reached() -> None:
    graph = graph_of(EXAMPLES / "hf-tokenizer-stealer")
    assert "tokenization_fancy.py::_ship" in {n.id for n in graph.nodes}
    graph = graph_of(EXAMPLES / "hf-backdoor-helper")
    node = graph.node("kernels/telemetry.py::report")
    assert node is not None and node.witness[0].startswith("config.json auto_map")
    assert any("exec" in u.reason for u in graph.unresolved)


def test_renderers() -> None:
    graph = graph_of(EXAMPLES / "hf-custom-clean")
    text = render_text(graph)
    assert "functions reached" in text and "not reached" in text
    assert "layers/block.py::TinyBlock.forward" in text.split("not reached")[1]
    dot = render_dot(graph)
    assert dot.startswith("digraph reach {") and dot.rstrip().endswith("}")
    assert '"modeling_tiny.py" -> "layers/__init__.py";' in dot
    data = graph_to_dict(graph)
    json.dumps(data)
    assert data["precision"] == "function" and "layers/norm.py" in data["files"]


def test_reach_command_formats() -> None:
    target = str(EXAMPLES / "torchhub-installer")
    result = run_cli("reach", target)
    assert result.exit_code == 0, result.output
    assert "net.py::_shell" in result.output and "via " in result.output
    result = run_cli("reach", target, "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert "setup_env.py" in document[0]["reach"]["files"]
    result = run_cli("reach", target, "--format", "dot")
    assert result.exit_code == 0 and "digraph" in result.output
    result = run_cli("reach", str(EXAMPLES / "does-not-exist"))
    assert result.exit_code == 2


def test_modelscope_configuration_type_builds_registered_class(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "configuration.json": {
                "framework": "pytorch",
                "allow_remote": True,
                "model": {"type": "tiny-model"},
            },
            "model.py": "from modelscope.models.builder import MODELS\n\n"
            "@MODELS.register_module('text-classification', module_name='tiny-model')\n"
            "class TinyModel:\n    def __init__(self, model_dir):\n"
            "        self.d = model_dir  # INIT\n\n"
            "class Spare:\n    def __init__(self):\n        pass  # SPARE\n",
        }
    )
    graph = graph_of(root)
    ok, witness = graph.locate("model.py", line_of(root, "model.py", "# INIT"))
    assert ok and witness[0] == "configuration.json type"
    assert not graph.locate("model.py", line_of(root, "model.py", "# SPARE"))[0]


def test_reach_command_survives_non_utf8_file_names(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "hubconf.py").write_text("import helper\n\ndef entry():\n    return 1\n")
    (root / "helper.py").write_text("X = 1\n")
    import os

    os.makedirs(os.path.join(os.fsencode(root), b"pkg\xff"), exist_ok=True)
    with open(os.path.join(os.fsencode(root), b"pkg\xff", b"__init__.py"), "wb") as handle:
        handle.write(b"Y = 2\n")
    for fmt in ("text", "dot", "json"):
        result = run_cli("reach", str(root), "--format", fmt)
        assert result.exit_code == 0, (fmt, result.output)
        assert "helper.py" in result.output


def test_own_source_tree_as_allow_remote_repo_has_no_internal_errors(tmp_path: Path) -> None:
    """Real, varied Python (loadguard itself) through every resolver path."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "src" / "loadguard", root / "loadguard"
    )
    (root / "configuration.json").write_text(json.dumps({"allow_remote": True}))
    graph = graph_of(root)
    assert len(graph.files) > 40 and len(graph.functions) > 50
    assert not [u for u in graph.unresolved if "failed" in u.reason or "cannot seed" in u.reason]
    assert not graph.truncated
