"""SafeTensors validation, GGUF metadata and templates, Keras configs, HDF5 config scan."""

from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import pytest

import pickle_samples as ps
from loadguard.analyzers.weights import (
    RULE_DISGUISED,
    RULE_GGUF,
    RULE_KERAS_CUSTOM,
    RULE_KERAS_GADGET,
    RULE_KERAS_LAMBDA,
    RULE_KERAS_MODULE,
    RULE_SAFETENSORS,
    gguf_findings,
    h5_findings,
    keras_zip_findings,
    read_gguf_metadata,
    read_safetensors_header,
    safetensors_findings,
)
from loadguard.engine import scan_snapshot
from loadguard.limits import Limits
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder

GOOD_HEADER = {
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "BF16", "shape": [4], "data_offsets": [16, 24]},
}


def st_check(data: bytes) -> list[str]:
    return list(read_safetensors_header(io.BytesIO(data), len(data)).problems)


def test_valid_safetensors_has_no_problems() -> None:
    data = ps.safetensors(GOOD_HEADER, b"\x00" * 24)
    header = read_safetensors_header(io.BytesIO(data), len(data))
    assert header.problems == () and header.names == ("a", "b")
    assert safetensors_findings("m.safetensors", io.BytesIO(data), len(data)) == []


def _with(**changes: object) -> dict[str, object]:
    header = json.loads(json.dumps(GOOD_HEADER))
    header.update(changes)
    return header


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (b"\x01\x02", "shorter than the 8-byte length"),
        (struct.pack("<Q", 200_000_000) + b"{}", "exceeds the 100000000 limit"),
        (struct.pack("<Q", 5000) + b"{}", "runs past the end"),
        (struct.pack("<Q", 4) + b"\xff\xfe{}", "not UTF-8"),
        (struct.pack("<Q", 2) + b"[]", "does not start with '{'"),
        (ps.safetensors({}, b"", raw_header=b'{"a": '), "not valid JSON"),
        (
            ps.safetensors(
                _with(a={"dtype": "F99", "shape": [2, 2], "data_offsets": [0, 16]}), b"\x00" * 24
            ),
            "unknown dtype",
        ),
        (
            ps.safetensors(
                _with(a={"dtype": "F32", "shape": [-2, 2], "data_offsets": [0, 16]}), b"\x00" * 24
            ),
            "invalid shape",
        ),
        (
            ps.safetensors(
                _with(a={"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]}), b"\x00" * 24
            ),
            "offsets span",
        ),
        (
            ps.safetensors(
                _with(b={"dtype": "BF16", "shape": [4], "data_offsets": [8, 16]}), b"\x00" * 24
            ),
            "overlap",
        ),
        (
            ps.safetensors(
                _with(b={"dtype": "BF16", "shape": [4], "data_offsets": [20, 28]}), b"\x00" * 28
            ),
            "gap",
        ),
        (ps.safetensors(GOOD_HEADER, b"\x00" * 40), "the file has 40 data bytes"),
        (ps.safetensors(GOOD_HEADER, b"\x00" * 20), "runs past" if False else "data ends at 24"),
        (ps.safetensors(_with(__metadata__={"k": 1}), b"\x00" * 24), "__metadata__"),
        (
            ps.safetensors(
                {},
                b"\x00" * 24,
                raw_header=json.dumps(GOOD_HEADER)[:-1].encode()
                + b', "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}',
            ),
            "duplicate key",
        ),
        (
            ps.safetensors(
                _with(a={"dtype": "F32", "shape": [2, 2], "data_offsets": [16, 0]}), b"\x00" * 24
            ),
            "invalid data_offsets",
        ),
        (ps.safetensors(_with(a=[1, 2]), b"\x00" * 24), "is not an object"),
        (ps.safetensors({}, b"", raw_header=b'"x"'), "does not start"),
    ],
)
def test_malformed_safetensors(data: bytes, expect: str) -> None:
    problems = st_check(data)
    assert any(expect in p for p in problems), problems
    (finding,) = safetensors_findings("m.safetensors", io.BytesIO(data), len(data))
    assert finding.rule_id == RULE_SAFETENSORS and finding.severity is Severity.MEDIUM


def test_engine_reports_pickle_named_safetensors_and_lfs_pointers(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "model.safetensors").write_bytes(ps.os_system())
    (root / "other.safetensors").write_bytes(
        b"version https://git-lfs.github.com/spec/v1\noid sha256:00\n"
    )
    (root / "good.safetensors").write_bytes(ps.safetensors(GOOD_HEADER, b"\x00" * 24))
    (root / "config.json").write_text("{}")
    result = scan_snapshot(snapshot_from_folder(root))
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule[RULE_DISGUISED].severity is Severity.HIGH
    assert by_rule[RULE_DISGUISED].location.path == "model.safetensors"
    # the pickle analyzer also reads it, by magic bytes, whatever the name
    assert any(f.analyzer == "pickle" and f.severity is Severity.CRITICAL for f in result.findings)
    assert any(e.kind == "lfs-pointer" and e.path == "other.safetensors" for e in result.errors)
    assert not any(f.location.path == "good.safetensors" for f in result.findings)


def test_gguf_templates_are_extracted_and_checked() -> None:
    evil = "{{ cycler.__init__.__globals__.os.popen('true').read() }}"
    data = ps.gguf(
        {
            "general.architecture": "llama",
            "tokenizer.ggml.tokens": ["a", "b", "c"],
            "tokenizer.chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
            "tokenizer.chat_template.tool_use": evil,
            "general.file_type": 7,
        }
    )
    meta = read_gguf_metadata(data)
    assert set(meta) == {"tokenizer.chat_template", "tokenizer.chat_template.tool_use"}
    got = gguf_findings("m.gguf", data)
    assert got and all(f.location.path == "m.gguf!tokenizer.chat_template.tool_use" for f in got)
    assert max(f.severity for f in got) is Severity.HIGH


@pytest.mark.parametrize(
    "data",
    [
        b"GGUF" + struct.pack("<I", 9),
        ps.gguf({"tokenizer.chat_template": "x" * 100})[:-20],
        b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**60),
        b"GGUF" + struct.pack("<IQQ", 3, 0, 10**9),
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + struct.pack("<Q", 1)
        + b"k"
        + struct.pack("<I", 77),
    ],
)
def test_malformed_gguf(data: bytes) -> None:
    (finding,) = gguf_findings("m.gguf", data)
    assert finding.rule_id == RULE_GGUF


def _lambda_config(code: bytes) -> dict[str, object]:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "layers": [
                {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2}},
                {
                    "module": "keras.layers",
                    "class_name": "Lambda",
                    "config": {
                        "function": {
                            "class_name": "__lambda__",
                            "config": {"code": base64.b64encode(code).decode()},
                        }
                    },
                },
            ]
        },
    }


def test_keras_lambda_with_suspicious_bytecode_is_critical() -> None:
    data = ps.keras_zip(_lambda_config(b"\xe3\x00\x00\x00os\x00system\x00" + b"\x00" * 20))
    got = keras_zip_findings("m.keras", data, Limits())
    (lam,) = [f for f in got if f.rule_id == RULE_KERAS_LAMBDA]
    assert lam.severity is Severity.CRITICAL and "system" in lam.message
    assert lam.location.path == "m.keras!config.json"


def test_keras_lambda_plain_is_high() -> None:
    got = keras_zip_findings(
        "m.keras", ps.keras_zip(_lambda_config(b"\xe3" + b"\x00" * 30 + b"scale")), Limits()
    )
    assert [f.severity for f in got if f.rule_id == RULE_KERAS_LAMBDA] == [Severity.HIGH]


def test_keras_modules_outside_keras_and_gadgets() -> None:
    config = {
        "module": "keras",
        "class_name": "Functional",
        "config": {
            "layers": [
                {"module": "os", "class_name": "system", "config": {}},
                {
                    "module": "my_package.layers",
                    "class_name": "Custom",
                    "registered_name": "my_package>Custom",
                },
                {"module": "keras.config", "class_name": "enable_unsafe_deserialization"},
            ]
        },
    }
    got = keras_zip_findings("m.keras", ps.keras_zip(config), Limits())
    by = {(f.rule_id, f.snippet): f.severity for f in got}
    assert by[(RULE_KERAS_MODULE, "os.system")] >= Severity.HIGH
    assert by[(RULE_KERAS_MODULE, "my_package.layers.Custom")] is Severity.MEDIUM
    assert by[(RULE_KERAS_CUSTOM, "my_package>Custom")] is Severity.LOW
    assert by[(RULE_KERAS_GADGET, "enable_unsafe_deserialization")] is Severity.HIGH


def test_benign_keras_config_is_quiet() -> None:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"layers": [{"module": "keras.layers", "class_name": "Dense"}]},
    }
    assert keras_zip_findings("m.keras", ps.keras_zip(config), Limits()) == []


def test_h5_model_config_found_without_h5py() -> None:
    config = json.dumps(_lambda_config(b"\xe3" + b"\x00" * 20 + b"eval")).encode()
    data = b"\x89HDF\r\n\x1a\n" + b"\x00" * 500 + config + b"\x00" * 300
    got = h5_findings("m.h5", data)
    assert [f.rule_id for f in got] == [RULE_KERAS_LAMBDA]
    assert got[0].severity is Severity.CRITICAL
    assert h5_findings("w.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100) == []


def _sequential(layer: dict[str, object]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": [layer]}}


KERAS_EVASIONS = {
    # a serialized function names its module and, in config, the function
    "function-eval": {"module": "builtins", "class_name": "function", "config": "eval"},
    # Keras' own gadgets pass safe_mode's "keras modules only" check
    "get-file": {"module": "keras.utils", "class_name": "function", "config": "get_file"},
    "torch-module-wrapper": {"module": "keras.layers", "class_name": "TorchModuleWrapper"},
    "tf-write-file": {"module": "tensorflow.raw_ops", "class_name": "function", "config": "X"},
    # Keras 3 serializes python lambdas as __lambda__ with base64 bytecode
    "python-lambda": {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"activation": {"class_name": "__lambda__", "config": {"code": "4wAAAA=="}}},
    },
}


@pytest.mark.parametrize("layer", KERAS_EVASIONS.values(), ids=KERAS_EVASIONS.keys())
def test_keras_config_evasions_are_high(layer: dict[str, object]) -> None:
    got = keras_zip_findings("m.keras", ps.keras_zip(_sequential(layer)), Limits())
    assert max(f.severity for f in got) >= Severity.HIGH


def test_keras_module_prefix_is_not_a_package() -> None:
    layer = {"module": "keras_extras.layers", "class_name": "Dense"}
    got = keras_zip_findings("m.keras", ps.keras_zip(_sequential(layer)), Limits())
    assert [f.rule_id for f in got] == [RULE_KERAS_MODULE]
    activation = {"module": "keras.activations", "class_name": "function", "config": "relu"}
    layer = {"module": "keras.layers", "class_name": "Dense", "config": {"activation": activation}}
    assert keras_zip_findings("m.keras", ps.keras_zip(_sequential(layer)), Limits()) == []


def test_gguf_repeated_template_key_is_read_in_every_copy() -> None:
    evil = "{{ cycler.__init__.__globals__ }}"
    data = ps.gguf({"tokenizer.chat_template": evil, "tokenizer.chat_templatX": "{{ 1 }}"})
    data = data.replace(b"tokenizer.chat_templatX", b"tokenizer.chat_template")
    got = gguf_findings("m.gguf", data)
    assert max(f.severity for f in got) is Severity.HIGH
