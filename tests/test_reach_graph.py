"""Reachability constructs, on small transformers-style repos built in tmp dirs.

Payload lines are marked ``# PAYLOAD``; they are never executed (static analysis only)
and are harmless if they were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loadguard.detect import build_plan
from loadguard.filekinds import classify_all
from loadguard.limits import Limits
from loadguard.model import ReachGraph
from loadguard.reach import build_reach_graph
from loadguard.sources.local import snapshot_from_folder

MakeRepo = Callable[..., Path]
AUTO_MODEL = {"model_type": "foo", "auto_map": {"AutoModel": "modeling_foo.FooModel"}}


def graph_of(root: Path, limits: Limits | None = None) -> ReachGraph:
    snapshot = snapshot_from_folder(root)
    plan = build_plan(snapshot, classify_all(snapshot))
    return build_reach_graph(snapshot, plan, limits or Limits())


def marked(root: Path, path: str, marker: str = "# PAYLOAD") -> list[int]:
    lines = (root / path).read_text().splitlines()
    found = [i + 1 for i, line in enumerate(lines) if marker in line]
    assert found, f"no {marker} in {path}"
    return found


def reached(graph: ReachGraph, root: Path, path: str, marker: str = "# PAYLOAD") -> bool:
    results = {graph.locate(path, line)[0] for line in marked(root, path, marker)}
    assert len(results) == 1, f"{path}: mixed reachability for {marker}"
    return results.pop()


def model_repo(make_repo: MakeRepo, modeling: str, **extra: str) -> Path:
    files: dict[str, object] = {"config.json": AUTO_MODEL, "modeling_foo.py": modeling}
    files.update(extra)
    return make_repo(files)


def test_payload_two_relative_imports_away_is_reached_with_witness(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from .helpers import setup\n\nclass FooModel:\n    def __init__(self):\n        setup()\n",
        **{
            "helpers.py": "from .util import fire\n\ndef setup():\n    fire()\n",
            "util.py": "import os\n\ndef fire():\n    os.system('true')  # PAYLOAD\n",
        },
    )
    graph = graph_of(root)
    ok, witness = graph.locate("util.py", marked(root, "util.py")[0])
    assert ok
    assert witness == (
        "config.json auto_map.AutoModel",
        "modeling_foo.FooModel.__init__",
        "helpers.setup",
        "util.fire",
    )
    assert {"modeling_foo.py", "helpers.py", "util.py"} <= graph.files
    assert graph.precision == "function"


def test_function_nothing_calls_is_not_reached(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import os\n\ndef unused():\n    os.system('true')  # PAYLOAD\n\n"
        "def used():\n    return 1  # USED\n\n"
        "class FooModel:\n    def __init__(self):\n        used()\n",
    )
    graph = graph_of(root)
    assert not reached(graph, root, "modeling_foo.py")
    assert reached(graph, root, "modeling_foo.py", "# USED")
    assert "modeling_foo.py::unused" in {s.path + "::" + s.qualname for s in graph.scopes}


@pytest.mark.parametrize("test", ["False", "0", "None", "TYPE_CHECKING and x", "not True"])
def test_payload_behind_constant_false_is_not_reached(make_repo: MakeRepo, test: str) -> None:
    root = model_repo(
        make_repo,
        f"import os\nif {test}:\n    os.system('true')  # PAYLOAD\n"
        "else:\n    LIVE = 1  # LIVE\n\nclass FooModel:\n    pass\n",
    )
    graph = graph_of(root)
    assert not reached(graph, root, "modeling_foo.py")
    assert reached(graph, root, "modeling_foo.py", "# LIVE")


def test_if_true_else_branch_is_dead(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "if True:\n    LIVE = 1  # LIVE\nelse:\n    import os; os.system('true')  # PAYLOAD\n"
        "class FooModel:\n    pass\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py", "# LIVE")
    assert not reached(graph, root, "modeling_foo.py")


def test_class_body_payload_runs_on_import(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "class FooModel:\n    pass\n\nclass Unrelated:\n"
        "    import os\n    os.system('true')  # PAYLOAD\n    def m(self):\n        return 2  # DEAD\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py")
    assert not reached(graph, root, "modeling_foo.py", "# DEAD")


def test_method_the_framework_calls_by_inheritance_is_reached(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from transformers import PreTrainedModel\nimport torch.nn as nn\n"
        "from .base import FooPreTrainedModel\n\n"
        "class Block(nn.Module):\n"
        "    def _load_from_state_dict(self, *a):\n        return 3  # HOOK\n"
        "    def forward(self, x):\n        return x  # FORWARD\n\n"
        "class FooModel(FooPreTrainedModel):\n"
        "    def __init__(self, config):\n        super().__init__(config)\n        self.block = Block()\n",
        **{
            "base.py": "from transformers import PreTrainedModel\n\n"
            "class FooPreTrainedModel(PreTrainedModel):\n"
            "    def _init_weights(self, module):\n"
            "        __import__('os').system('true')  # PAYLOAD\n"
        },
    )
    graph = graph_of(root)
    ok, witness = graph.locate("base.py", marked(root, "base.py")[0])
    assert ok and witness[-1] == "base.FooPreTrainedModel._init_weights"
    # a submodule with a framework base gets the hooks torch calls while loading weights
    assert reached(graph, root, "modeling_foo.py", "# HOOK")
    assert not reached(graph, root, "modeling_foo.py", "# FORWARD")


def test_self_calls_super_init_and_instantiation(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "class Base:\n    def __init__(self):\n        self.prepare()\n"
        "    def prepare(self):\n        return 1  # BASE_PREPARE\n"
        "    def never(self):\n        return 0  # NEVER\n\n"
        "class Helper(Base):\n    def __init__(self):\n        super().__init__()\n"
        "    def prepare(self):\n        return 2  # OVERRIDE\n\n"
        "class FooModel:\n    def __init__(self):\n        Helper()\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py", "# BASE_PREPARE")
    assert reached(graph, root, "modeling_foo.py", "# OVERRIDE")  # dynamic dispatch on self
    assert not reached(graph, root, "modeling_foo.py", "# NEVER")


def test_import_cycle_terminates_and_reaches_both(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from .a import fa\n\nclass FooModel:\n    def __init__(self):\n        fa()\n",
        **{
            "a.py": "from .b import fb\n\ndef fa():\n    fb()\n",
            "b.py": "from .a import fa\n\ndef fb():\n    fa()  # PAYLOAD\n",
        },
    )
    graph = graph_of(root)
    assert {"a.py", "b.py"} <= graph.files
    assert reached(graph, root, "b.py")


def test_from_dot_import_submodule(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from .pkg import loader\n\nclass FooModel:\n    def __init__(self):\n        loader.go()\n",
        **{
            "pkg/__init__.py": "from . import loader  # INIT\n",
            "pkg/loader.py": "def go():\n    return 1  # PAYLOAD\n",
        },
    )
    graph = graph_of(root)
    assert {"pkg/__init__.py", "pkg/loader.py"} <= graph.files
    assert reached(graph, root, "pkg/loader.py")


def test_importlib_with_constant_folded_name(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import importlib\nPKG = 'ext' + 'ras'\n\nclass FooModel:\n    def __init__(self):\n"
        "        mod = importlib.import_module(f'{PKG}.plugin')\n"
        "        __import__('extras.other')\n",
        **{
            "extras/__init__.py": "",
            "extras/plugin.py": "X = 1  # PAYLOAD\n",
            "extras/other.py": "Y = 2  # PAYLOAD\n",
            "extras/unused.py": "Z = 3  # PAYLOAD\n",
        },
    )
    graph = graph_of(root)
    assert reached(graph, root, "extras/plugin.py")
    assert reached(graph, root, "extras/other.py")
    assert not reached(graph, root, "extras/unused.py")
    assert "extras/__init__.py" in graph.files


def test_type_checking_and_main_guard_imports_are_excluded(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from typing import TYPE_CHECKING\nimport typing\n"
        "if TYPE_CHECKING:\n    from .heavy import Heavy\n"
        "if typing.TYPE_CHECKING:\n    from .heavy2 import Heavy2\n"
        "class FooModel:\n    pass\n"
        "if __name__ == '__main__':\n    from .cli import main\n    main()  # PAYLOAD\n",
        **{
            "heavy.py": "A = 1  # PAYLOAD\n",
            "heavy2.py": "A = 1  # PAYLOAD\n",
            "cli.py": "def main():\n    return 1  # PAYLOAD\n",
        },
    )
    graph = graph_of(root)
    for path in ("heavy.py", "heavy2.py", "cli.py", "modeling_foo.py"):
        assert not reached(graph, root, path), path
    assert not ({"heavy.py", "heavy2.py", "cli.py"} & graph.files)


def test_conditional_and_try_except_imports_are_followed(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import sys\ntry:\n    from .fast import impl\nexcept ImportError:\n    from .slow import impl\n"
        "if sys.platform == 'linux':\n    from .linux import tweak\n"
        "class FooModel:\n    pass\n",
        **{"fast.py": "impl = 1\n", "slow.py": "impl = 2\n", "linux.py": "tweak = 3\n"},
    )
    assert {"fast.py", "slow.py", "linux.py"} <= graph_of(root).files


def test_decorators_metaclass_and_init_subclass(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import atexit\nfrom .reg import register\n\n"
        "@atexit.register\ndef at_exit():\n    return 1  # ATEXIT\n\n"
        "@register\ndef registered():\n    return 1  # REGISTERED\n\n"
        "@property\ndef inert():\n    return 1  # INERT\n\n"
        "class Meta(type):\n    def __new__(mcs, name, bases, ns):\n"
        "        return super().__new__(mcs, name, bases, ns)  # META\n\n"
        "class Plugin:\n    def __init_subclass__(cls):\n        return None  # SUBCLASS\n\n"
        "class FooModel(Plugin, metaclass=Meta):\n    pass\n",
        **{"reg.py": "def register(fn):\n    fn()\n    return fn\n"},
    )
    graph = graph_of(root)
    for marker in ("# ATEXIT", "# REGISTERED", "# META", "# SUBCLASS"):
        assert reached(graph, root, "modeling_foo.py", marker), marker
    assert not reached(graph, root, "modeling_foo.py", "# INERT")


def test_default_arguments_run_at_definition(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import os\n\ndef unused(x=os.getcwd()): return x  # PAYLOAD\n\nclass FooModel:\n    pass\n",
    )
    assert reached(graph_of(root), root, "modeling_foo.py")


def test_property_and_callback_references(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "import threading\n\ndef worker():\n    return 1  # CALLBACK\n\n"
        "class Config:\n    @property\n    def size(self):\n        return 1  # PROPERTY\n\n"
        "class FooModel:\n    def __init__(self):\n        c = Config()\n        c.size\n"
        "        threading.Thread(target=worker).start()\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py", "# CALLBACK")
    assert reached(graph, root, "modeling_foo.py", "# PROPERTY")


def test_exec_of_constant_code_is_analysed_and_dynamic_code_is_unresolved(
    make_repo: MakeRepo,
) -> None:
    root = model_repo(
        make_repo,
        "def hidden():\n    return 1  # PAYLOAD\n\n"
        "exec('hid' 'den()')\n"
        "class FooModel:\n    def __init__(self, name, blob):\n"
        "        getattr(self, name)()\n        eval(blob)\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py")
    reasons = {(u.path, u.reason) for u in graph.unresolved}
    assert ("modeling_foo.py", "call through getattr with a non-constant name") in reasons
    assert ("modeling_foo.py", "eval() of code computed at run time") in reasons


def test_unknown_receiver_matches_repo_methods_by_name(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "class Worker:\n    def launch(self):\n        return 1  # PAYLOAD\n"
        "    def idle(self):\n        return 0  # IDLE\n\n"
        "class FooModel:\n    def __init__(self, thing):\n        thing.launch()\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py")
    assert not reached(graph, root, "modeling_foo.py", "# IDLE")


def test_unparseable_file_is_recorded_and_scan_goes_on(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from .broken import x\nfrom .good import y\n\nclass FooModel:\n    pass\n",
        **{"broken.py": "def (:\n", "good.py": "y = 1  # PAYLOAD\n"},
    )
    graph = graph_of(root)
    assert reached(graph, root, "good.py")
    assert any(u.path == "broken.py" and "not analysable" in u.reason for u in graph.unresolved)


def test_deep_files_and_long_call_chains_do_not_crash(make_repo: MakeRepo) -> None:
    chain = "".join(f"def f{i}():\n    f{i + 1}()\n" for i in range(3000))
    chain += "def f3000():\n    return 1  # PAYLOAD\n"
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    long_sum = "y = " + " + ".join(["1"] * 30000) + "\n"
    root = model_repo(
        make_repo,
        "from .chain import f0\nfrom .deep import x\nfrom .sums import y\n\n"
        "class FooModel:\n    def __init__(self):\n        f0()\n",
        **{"chain.py": chain, "deep.py": deep, "sums.py": long_sum},
    )
    graph = graph_of(root)
    ok, witness = graph.locate("chain.py", marked(root, "chain.py")[0])
    assert ok and len(witness) == 3003
    assert "sums.py" in graph.files
    assert any(u.path == "deep.py" for u in graph.unresolved)


def test_node_budget_truncates_and_says_so(make_repo: MakeRepo) -> None:
    chain = "".join(f"def f{i}():\n    f{i + 1}()\n" for i in range(50)) + "def f50():\n    pass\n"
    root = model_repo(
        make_repo,
        "from .chain import f0\n\nclass FooModel:\n    def __init__(self):\n        f0()\n",
        **{"chain.py": chain},
    )
    graph = graph_of(root, Limits(max_reach_nodes=10))
    assert graph.truncated
    assert len(graph.nodes) == 10
    assert not graph_of(root).truncated


def test_witness_is_a_shortest_path(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from .util import a, target\n\nclass FooModel:\n    def __init__(self):\n"
        "        a()\n        target()\n",
        **{
            "util.py": "def a():\n    b()\n\ndef b():\n    target()\n\n"
            "def target():\n    return 1  # PAYLOAD\n"
        },
    )
    ok, witness = graph_of(root).locate("util.py", marked(root, "util.py")[0])
    assert ok and witness == (
        "config.json auto_map.AutoModel",
        "modeling_foo.FooModel.__init__",
        "util.target",
    )


def test_dead_branch_inside_a_reached_function(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "class FooModel:\n    def __init__(self):\n        if False:\n"
        "            import os; os.system('true')  # PAYLOAD\n        self.x = 1  # LIVE\n",
    )
    graph = graph_of(root)
    assert not reached(graph, root, "modeling_foo.py")
    assert reached(graph, root, "modeling_foo.py", "# LIVE")


def test_typed_attribute_receiver_does_not_fan_out(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "class Helper:\n    def go(self):\n        return 1  # HELPER\n\n"
        "class Other:\n    def go(self):\n        return 2  # OTHER\n\n"
        "class FooModel:\n    def __init__(self):\n        self.helper = Helper()\n"
        "        self.helper.go()\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py", "# HELPER")
    assert not reached(graph, root, "modeling_foo.py", "# OTHER")


def test_class_defined_inside_a_function(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "def factory():\n    class Local:\n        def __init__(self):\n"
        "            return None  # PAYLOAD\n    return Local()\n\n"
        "class FooModel:\n    def __init__(self):\n        factory()\n",
    )
    graph = graph_of(root)
    assert reached(graph, root, "modeling_foo.py")
    assert graph.node("modeling_foo.py::factory.<locals>.Local.__init__") is not None


def test_identical_repos_share_a_graph_and_edits_do_not(make_repo: MakeRepo) -> None:
    files = {
        "config.json": AUTO_MODEL,
        "modeling_foo.py": "class FooModel:\n    def __init__(self):\n        pass\n",
    }
    first = graph_of(make_repo(files, name="a"))
    assert graph_of(make_repo(files, name="b")) is first
    files["modeling_foo.py"] += "\ndef extra():\n    pass\n"
    changed = graph_of(make_repo(files, name="c"))
    assert changed is not first and len(changed.scopes) == len(first.scopes) + 1


def test_getattr_with_constant_name_is_an_attribute(make_repo: MakeRepo) -> None:
    root = model_repo(
        make_repo,
        "from . import tools\n\nclass FooModel:\n    def __init__(self):\n"
        "        getattr(tools, 'ev' + 'il')()\n        fn = getattr(self, 'helper')\n"
        "    def helper(self):\n        return 1\n",
        **{
            "tools.py": "def evil():\n    return 1  # PAYLOAD\n\ndef other():\n    return 2  # OTHER\n"
        },
    )
    graph = graph_of(root)
    assert reached(graph, root, "tools.py")
    assert not reached(graph, root, "tools.py", "# OTHER")
    assert not graph.unresolved
