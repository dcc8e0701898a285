"""The opcode machine: imports, invocation, memo, nesting, limits, malformed input."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pickle_samples as ps
from loadguard.analyzers.pickle import (
    RULE_CLASS,
    RULE_DENIED_CALL,
    RULE_DENIED_NAME,
    RULE_DYNAMIC_GLOBAL,
    RULE_EXTENSION,
    RULE_MALFORMED,
    RULE_MUTATES_GLOBAL,
    RULE_UNKNOWN,
    RULE_UNKNOWN_DANGEROUS,
    findings_for_scans,
    judge,
    scan_pickle,
    scan_pickles,
)
from loadguard.limits import Limits
from loadguard.model import Severity


def findings(data: bytes, limits: Limits | None = None):
    scans = scan_pickles(data, limits=limits or Limits())
    return findings_for_scans("x.pkl", scans)


def worst(data: bytes) -> Severity:
    return max((f.severity for f in findings(data)), default=Severity.INFO)


def test_protocol0_global_reduce_is_invoked_and_critical() -> None:
    scan = scan_pickle(ps.os_system_protocol0())
    assert scan.error is None
    (site,) = scan.imports
    assert (site.qualname, site.invoked, site.via, site.offset) == ("os.system", True, "REDUCE", 0)
    got = findings(ps.os_system_protocol0())
    assert [f.rule_id for f in got] == [RULE_DENIED_CALL]
    assert got[0].severity is Severity.CRITICAL
    assert "CWE-502" in got[0].cwe and "CWE-78" in got[0].cwe


def test_stack_global_operands_resolve_through_the_memo() -> None:
    data = ps.stack_global_memo()
    scan = scan_pickle(data)
    assert scan.error is None
    (site,) = scan.imports
    assert site.qualname == "os.system" and site.invoked
    assert site.opcode == "STACK_GLOBAL"
    assert data[site.offset] == 0x93  # the offset points at the STACK_GLOBAL opcode


def test_inst_obj_newobj_count_as_invocations() -> None:
    for data, via in (
        (ps.inst_protocol0(), "INST"),
        (ps.obj_popen(), "OBJ"),
        (ps.newobj_popen(), "NEWOBJ"),
    ):
        (site,) = scan_pickle(data).imports
        assert site.invoked and site.via == via
        assert worst(data) is Severity.CRITICAL


def test_named_but_not_invoked_is_high_not_critical() -> None:
    data = ps.proto(2) + ps.glob("posix", "system") + ps.STOP
    got = findings(data)
    assert [f.rule_id for f in got] == [RULE_DENIED_NAME]
    assert got[0].severity is Severity.HIGH


def test_build_on_an_imported_object_is_monkey_patching() -> None:
    data = ps.proto(2) + ps.glob("somelib", "Thing") + ps.EMPTY_DICT + ps.BUILD + ps.STOP
    assert any(f.rule_id == RULE_MUTATES_GLOBAL for f in findings(data))
    assert any(f.rule_id == RULE_MUTATES_GLOBAL for f in findings(ps.build_on_global()))


def test_build_on_an_instance_marks_its_class_invoked() -> None:
    data = ps.proto(2) + ps.glob("somelib", "Thing") + ps.EMPTY_TUPLE + ps.NEWOBJ
    data += ps.EMPTY_DICT + ps.BUILD + ps.STOP
    (site,) = scan_pickle(data).imports
    assert site.invoked and site.via == "NEWOBJ"
    data = ps.proto(2) + ps.MARK + ps.glob("somelib", "Thing") + ps.OBJ + ps.STOP
    assert scan_pickle(data).imports[0].via == "OBJ"


def test_python2_module_names_are_normalised() -> None:
    assert worst(ps.builtin_alias_eval()) is Severity.CRITICAL


def test_extension_opcodes_are_unresolvable_unknown_imports() -> None:
    got = findings(ps.extension_code())
    assert [f.rule_id for f in got] == [RULE_EXTENSION]
    assert got[0].severity is Severity.MEDIUM


def test_nested_pickle_is_analysed_recursively() -> None:
    got = findings(ps.nested_pickle_loads())
    inner = [f for f in got if "nested pickle" in f.message]
    assert inner and inner[0].severity is Severity.CRITICAL and "posix.system" in inner[0].message
    # in place: the inner finding points into the outer file
    assert inner[0].location.offset is not None and inner[0].location.offset > 10


def test_nested_pickle_through_codecs_and_bytesio() -> None:
    for data in (ps.nested_codecs_loads(), ps.nested_torch_load()):
        got = findings(data)
        assert any("nested pickle" in f.message and f.severity is Severity.CRITICAL for f in got)


def test_nested_depth_is_bounded() -> None:
    data = ps.os_system()
    for _ in range(6):
        data = ps.proto(3) + ps.call("pickle", "loads", ps.b(data)) + ps.STOP
    got = findings(data, Limits(max_nested_pickle_depth=2))
    assert any(f.rule_id == RULE_MALFORMED and "deeper than 2" in f.message for f in got)
    assert max(f.severity for f in got) >= Severity.HIGH  # the outer loads are denied anyway


def test_bytes_that_look_like_pickles_are_not_recursed_into() -> None:
    # numpy-style: a pickle's bytes stored as array data, never handed to a loader
    data = ps.proto(2) + ps.call(
        "_codecs", "encode", ps.s(ps.os_system().decode("latin-1")), ps.s("latin1")
    )
    data += ps.STOP
    assert findings(data) == []


def test_dotted_names_walk_to_denied_objects() -> None:
    data = ps.frame(ps.s("torch.serialization") + ps.s("os.system") + ps.STACK_GLOBAL)
    got = findings(data)
    assert got and got[0].severity >= Severity.HIGH


def test_dynamic_stack_global_is_high() -> None:
    got = findings(ps.dynamic_stack_global())
    assert any(f.rule_id == RULE_DYNAMIC_GLOBAL and f.severity is Severity.HIGH for f in got)


def test_second_pickle_in_a_stream_is_scanned() -> None:
    scans = scan_pickles(ps.exec_in_second_pickle())
    assert len(scans) == 2
    assert worst(ps.exec_in_second_pickle()) is Severity.CRITICAL


def test_count_reads_exactly_that_many_pickles() -> None:
    data = ps.legacy_torch(ps.torch_like_state_dict())
    scans = scan_pickles(data, count=5)
    assert len(scans) == 5 and all(s.error is None for s in scans)
    assert scans[3].tensor_names == ("layer.weight", "layer.bias")


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (ps.os_system()[:-2], "truncated"),
        (b"\x80\x04\x8c\x02\xff\xfe.", "not UTF-8"),
        (b"\x80\x04X" + struct.pack("<I", 2**31) + b"abc.", "runs past the end"),
        (b"\x80\x04\x8d" + struct.pack("<Q", 2**62) + b".", "runs past the end"),
        (b"\x80\x02\xff.", "invalid opcode"),
        (b"\x80\x09N.", "unsupported pickle protocol"),
        (b"\x80\x02h\x05.", "memo key 5 not found"),
        (b"\x80\x02R.", "stack underflow"),
        (b"\x80\x02e.", "no MARK"),
        (b"\x80\x02" + b"(" * 100_000 + b".", "STOP on an empty stack"),
        (b"\x80\x02" + b"\x8a\x05abc", "runs past the end"),
        (b"cos\nsys", "newline"),
        (b"\x80\x02K\x01K\x02R.", "non-callable"),
    ],
)
def test_malformed_streams_are_findings_not_crashes(data: bytes, expect: str) -> None:
    got = findings(data)
    malformed = [f for f in got if f.rule_id == RULE_MALFORMED]
    assert malformed, got
    assert expect in malformed[0].message
    assert malformed[0].severity is Severity.MEDIUM


def test_malformed_reports_what_came_before_the_error() -> None:
    got = findings(ps.os_system()[:-1])
    malformed = next(f for f in got if f.rule_id == RULE_MALFORMED)
    assert "posix.system" in malformed.message
    # and the import found before the error is still judged
    assert any(f.rule_id == RULE_DENIED_CALL for f in got)


def test_memo_bomb_hits_the_memo_limit() -> None:
    data = ps.proto(4) + ps.NONE + ps.MEMOIZE * 500 + ps.STOP
    got = findings(data, Limits(max_pickle_memo=100))
    assert any("memo exceeds 100" in f.message for f in got)


def test_opcode_limit() -> None:
    data = ps.proto(2) + ps.NONE + ps.POP * 0 + b"N0" * 1000 + ps.STOP
    got = findings(data, Limits(max_pickle_opcodes=50))
    assert any("more than 50 opcodes" in f.message for f in got)


@pytest.mark.parametrize(
    ("module", "name", "category", "severity"),
    [
        ("collections", "OrderedDict", "allowed", Severity.INFO),
        ("torch._utils", "_rebuild_tensor_v2", "allowed", Severity.INFO),
        ("torch", "BFloat16Storage", "allowed", Severity.INFO),
        ("numpy._core.multiarray", "_reconstruct", "allowed", Severity.INFO),
        ("_codecs", "encode", "allowed", Severity.INFO),
        ("argparse", "Namespace", "allowed", Severity.INFO),
        ("torch.nn.modules.linear", "Linear", "class", Severity.LOW),
        ("sklearn.linear_model._logistic", "LogisticRegression", "class", Severity.LOW),
        ("mylib.things", "Widget", "unknown", Severity.MEDIUM),
        ("mylib.things", "run_thing", "unknown-dangerous", Severity.HIGH),
        ("torch.utils.collect_env", "run", "denied", Severity.CRITICAL),
        ("subprocess", "check_output", "denied", Severity.CRITICAL),
        ("builtins", "getattr", "denied", Severity.HIGH),
        ("builtins", "set", "allowed", Severity.INFO),
        ("torch", "load", "denied", Severity.HIGH),
        ("torch.nn.modules.module", "Module.__reduce_ex__", "unknown-dangerous", Severity.HIGH),
        ("sklearn.datasets", "FetchThing", "unknown", Severity.MEDIUM),
    ],
)
def test_policy(module: str, name: str, category: str, severity: Severity) -> None:
    verdict = judge(module, name)
    assert (verdict.category, verdict.severity) == (category, severity)


def test_profiles_restrict_the_allowlist() -> None:
    assert judge("argparse", "Namespace", profiles=("torch",)).category == "unknown"


def test_unknown_import_rule_and_class_rule() -> None:
    data = (
        ps.proto(2)
        + ps.call("mylib.things", "Widget")
        + ps.call("torch.nn.modules.linear", "Linear")
    )
    data += ps.TUPLE2 + ps.STOP
    rules = sorted(f.rule_id for f in findings(data))
    assert rules == sorted([RULE_UNKNOWN, RULE_CLASS])


def test_unknown_dangerous_leaf() -> None:
    got = findings(ps.unknown_gadget())
    assert [f.rule_id for f in got] == [RULE_UNKNOWN_DANGEROUS]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    scan_pickles(data)
    findings(b"\x80\x04" + data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([s for s in ps.SAMPLES if s.filename.endswith(".pkl")]), st.data())
def test_truncated_and_mutated_samples_never_raise(sample: ps.Sample, data: st.DataObject) -> None:
    raw = sample.build()
    cut = data.draw(st.integers(0, len(raw)))
    flip = data.draw(st.integers(0, max(0, len(raw) - 1)))
    mutated = bytearray(raw[:cut])
    if flip < len(mutated):
        mutated[flip] ^= 0xFF
    findings(bytes(mutated))


@pytest.mark.parametrize("protocol", range(6))
def test_ordinary_python_and_numpy_values_are_clean(protocol: int) -> None:
    import argparse
    import collections
    import datetime
    import decimal
    import fractions
    import pathlib
    import pickle
    import uuid

    import numpy as np

    value = {
        "dt": datetime.datetime(2024, 1, 1),
        "td": datetime.timedelta(3),
        "dec": decimal.Decimal("1.5"),
        "frac": fractions.Fraction(1, 3),
        "path": pathlib.PurePosixPath("/a"),
        "uuid": uuid.UUID(int=7),
        "dd": collections.defaultdict(list),
        "od": collections.OrderedDict(a=1),
        "counter": collections.Counter("aab"),
        "deque": collections.deque([1]),
        "set": {1, 2},
        "frozenset": frozenset([3]),
        "complex": 1 + 2j,
        "bytes": b"\x80\x02cos\nsystem\n",  # looks like a pickle, is data
        "bytearray": bytearray(b"y"),
        "slice": slice(1, 2),
        "range": range(3),
        "ns": argparse.Namespace(a=1),
        "array": np.arange(10),
        "scalar": np.float32(1.5),
        "structured": np.zeros(2, dtype=[("x", "<f4"), ("y", "<i8")]),
        "object_array": np.array([1, "a"], dtype=object),
        "masked": np.ma.masked_array([1, 2], [0, 1]),
        "random_state": np.random.RandomState(0),
        "generator": np.random.default_rng(1),
    }
    data = pickle.dumps(value, protocol=protocol)
    assert worst(data) <= Severity.LOW, findings(data)


def test_torchscript_names_are_not_python_imports() -> None:
    # torch.jit.save writes __torch__.<module>.<Class> and torch.jit._pickle builders
    for module, name in [
        ("__torch__.vad.model", "VADRNNJIT"),
        ("__torch__", "Net"),
        ("torch.jit._pickle", "build_intlist"),
        ("torch.jit._pickle", "restore_type_tag"),
    ]:
        assert judge(module, name).severity <= Severity.LOW, (module, name)
    # the rest of torch.jit compiles or loads code, and stays denied
    assert judge("torch.jit", "load").severity is Severity.CRITICAL
    assert judge("torch.jit._pickle", "evil").severity is Severity.CRITICAL
    # a look-alike namespace is not TorchScript's
    assert judge("__torch__x", "Net").severity >= Severity.MEDIUM
