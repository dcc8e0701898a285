"""Mutated containers and headers never crash the analyzers (bad input becomes findings)."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pickle_samples as ps
from loadguard.analyzers.containers import analyze_container, sniff_zip_kind
from loadguard.analyzers.templates import TemplateSource, template_findings
from loadguard.analyzers.weights import (
    gguf_findings,
    h5_findings,
    keras_zip_findings,
    safetensors_findings,
)
from loadguard.filekinds import classify_bytes
from loadguard.limits import Limits
from loadguard.model import FileKind

SEEDS = [s.build() for s in ps.SAMPLES] + [
    ps.keras_zip({"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda"}]}}),
    ps.gguf({"tokenizer.chat_template": "{{ x }}", "tokenizer.ggml.tokens": ["a", "b"]}),
    ps.safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 8),
    ps.torch_tar(),
]
LIMITS = Limits(max_pickle_bytes=1 << 20, max_archive_member_bytes=1 << 22)


def mutate(data: st.DataObject, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(0, 4))):
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1))
        out[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(out)))
    return bytes(out[:cut]) if data.draw(st.booleans()) else bytes(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_files_never_raise(
    tmp_path_factory: object, seed: bytes, data: st.DataObject
) -> None:
    raw = mutate(data, seed)
    folder: Path = tmp_path_factory.mktemp("f")  # type: ignore[attr-defined]
    path = folder / "model.bin"
    path.write_bytes(raw)
    with open(path, "rb") as stream:
        kind = classify_bytes("model.bin", raw[:512], len(raw))
        if kind is FileKind.ZIP:
            kind = sniff_zip_kind(stream, "model.bin")
        for as_kind in {kind, FileKind.PICKLE, FileKind.TORCH_ZIP, FileKind.NUMPY, FileKind.TAR}:
            stream.seek(0)
            analyze_container("model.bin", stream, as_kind, limits=LIMITS, size=len(raw))
    safetensors_findings("m.safetensors", io.BytesIO(raw), len(raw))
    gguf_findings("m.gguf", raw)
    h5_findings("m.h5", raw)
    keras_zip_findings("m.keras", raw, LIMITS)
    template_findings("t", TemplateSource("t", raw.decode("latin-1"), 1))
