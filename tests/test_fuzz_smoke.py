"""A short hypothesis run over every fuzz target (the long runs are ``fuzz/run.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))

from targets import TARGETS


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_survives_random_input(name: str) -> None:
    target = TARGETS[name]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=2048))
    def run(data: bytes) -> None:
        target(data)

    run()


def test_every_parser_of_the_threat_model_has_a_target() -> None:
    assert set(TARGETS) >= {
        "pickle",  # analyzers/pickle.py + containers.py
        "safetensors",  # analyzers/weights.py header validator
        "zip",  # sources/archive.py
        "tar",
        "config",  # detect/: config JSON parsing
        "auto_map",  # detect/: auto_map resolution
        "deobfuscate",  # analyzers/deobfuscate.py on generated source
        "native",  # default analyzers + reach on generated source
        "python",  # arbitrary bytes as the executed module
    }
