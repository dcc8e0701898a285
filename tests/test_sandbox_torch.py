"""Loaders that need torch, in the sandbox: ``convert`` to safetensors, ``trial`` of a torch.hub repo.

Needs an interpreter with torch for the sandboxed side (``LOADGUARD_TORCH_PYTHON``,
or ``/work/venv-torch/bin/python`` on the development machine); the parent side
(stream validation, the safetensors writer) needs nothing.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from loadguard.sandbox.convert import convert_to_safetensors
from loadguard.sandbox.launcher import SandboxConfig


def _torch_python() -> str | None:
    for candidate in (os.environ.get("LOADGUARD_TORCH_PYTHON"), "/work/venv-torch/bin/python"):
        if candidate and os.path.exists(candidate):
            probe = subprocess.run([candidate, "-c", "import torch"], capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


TORCH_PYTHON = _torch_python()
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux namespaces"),
    pytest.mark.skipif(
        TORCH_PYTHON is None,
        reason="no interpreter with torch (set LOADGUARD_TORCH_PYTHON): torch is not a test "
        "dependency",
    ),
]

MAKE_CHECKPOINTS = r"""
import os, sys, torch
out, marker = sys.argv[1], sys.argv[2]
state = {"layer.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4),
         "layer.bias": torch.tensor([1.5, -2.0, 0.25]), "step": torch.tensor(7)}
os.makedirs(os.path.join(out, "clean"))
torch.save(state, os.path.join(out, "clean", "pytorch_model.bin"))

class Payload:  # runs os.system on unpickling; the command only touches a temp file
    def __reduce__(self):
        return (os.system, ("touch " + marker,))

os.makedirs(os.path.join(out, "hostile"))
torch.save({"layer.weight": state["layer.weight"], "meta": Payload()},
           os.path.join(out, "hostile", "pytorch_model.bin"))
"""


def _safetensors(path: Path) -> dict[str, dict[str, object]]:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header: dict[str, dict[str, object]] = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    return header


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ckpt")
    marker = root / "payload-ran"
    assert TORCH_PYTHON is not None
    subprocess.run([TORCH_PYTHON, "-c", MAKE_CHECKPOINTS, str(root), str(marker)], check=True)
    return root, marker


def test_clean_checkpoint_converts_with_the_same_tensors(
    checkpoints: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = checkpoints
    assert TORCH_PYTHON is not None
    report = convert_to_safetensors(
        root / "clean", tmp_path / "out", config=SandboxConfig(python=TORCH_PYTHON, timeout=120)
    )
    assert report.ok, (report.failed, report.notes)
    (converted,) = report.converted
    header = _safetensors(tmp_path / "out" / converted.output)
    assert header["layer.weight"]["shape"] == [3, 4] and header["layer.weight"]["dtype"] == "F32"
    assert header["layer.bias"]["shape"] == [3]
    check = (
        "import sys, torch; from safetensors.torch import load_file;"
        "a = load_file(sys.argv[1]); b = torch.load(sys.argv[2], weights_only=True);"
        "assert set(a) == set(b), (set(a), set(b));"
        "assert all(torch.equal(a[k], b[k]) for k in a)"
    )
    subprocess.run(
        [TORCH_PYTHON, "-c", check, str(tmp_path / "out" / converted.output),
         str(root / "clean" / "pytorch_model.bin")],
        check=True,
    )  # fmt: skip


def test_hostile_checkpoint_is_converted_without_its_payload_escaping(
    checkpoints: tuple[Path, Path], tmp_path: Path
) -> None:
    root, marker = checkpoints
    assert TORCH_PYTHON is not None
    report = convert_to_safetensors(
        root / "hostile", tmp_path / "out", config=SandboxConfig(python=TORCH_PYTHON, timeout=120)
    )
    assert not marker.exists()  # os.system ran only inside the sandbox, and execve was refused
    assert any("weights_only" in note for note in report.notes)
    assert any(f.rule_id == "LG-DYN-001" for f in report.trial.findings)  # the attempt is seen
    (converted,) = report.converted
    assert set(_safetensors(tmp_path / "out" / converted.output)) == {"layer.weight"}


def test_output_may_not_overlap_the_model(checkpoints: tuple[Path, Path]) -> None:
    from loadguard.errors import LoadguardError

    root, _ = checkpoints
    with pytest.raises(LoadguardError):
        convert_to_safetensors(root / "clean", root / "clean" / "out")


def test_torch_hub_trial_confirms_static_findings() -> None:
    from loadguard.sandbox.trial import run_trial

    assert TORCH_PYTHON is not None
    repo = Path(__file__).resolve().parent.parent / "examples" / "repos" / "torchhub-installer"
    report = run_trial(repo, config=SandboxConfig(python=TORCH_PYTHON, timeout=120))
    (step,) = report.steps
    assert step.ok, step.error
    assert any(f.rule_id == "LG-DYN-001" for f in report.findings)  # the runtime pip install
    assert report.confirmed  # static findings whose code ran
    assert any("seccomp" in e.layer for e in report.isolation_events)
