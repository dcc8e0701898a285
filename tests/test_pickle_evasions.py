"""Evasions by threat class: gadgets nobody lists, encodings, streams, forwarders, disguises.

Every sample is built from opcode bytes and names a harmless command
(``true``), an ``.invalid`` host or a temp path; nothing is ever unpickled.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

import pickle_samples as ps
from loadguard.analyzers.containers import analyze_container, sniff_zip_kind
from loadguard.analyzers.pickle import (
    RULE_CLASS,
    RULE_CLASS_FETCHES,
    RULE_DENIED_CALL,
    RULE_DYNAMIC_CALL,
    findings_for_scans,
    judge,
    scan_pickles,
)
from loadguard.filekinds import classify_bytes
from loadguard.limits import Limits
from loadguard.model import FileKind, Finding, Severity
from pickle_samples import (
    BUILD,
    EMPTY_DICT,
    EMPTY_TUPLE,
    MARK,
    NEWOBJ,
    POP,
    REDUCE,
    SETITEM,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    TUPLE1,
    b,
    call,
    glob,
    proto,
    s,
)


def findings(data: bytes) -> list[Finding]:
    return findings_for_scans("x.pkl", scan_pickles(data, limits=Limits()))


def worst(data: bytes) -> Severity:
    return max((f.severity for f in findings(data)), default=Severity.INFO)


def scan_file(tmp_path: Path, name: str, data: bytes) -> list[Finding]:
    path = tmp_path / name
    path.write_bytes(data)
    kind = classify_bytes(name, data[:512], len(data))
    with open(path, "rb") as stream:
        if kind is FileKind.ZIP:
            kind = sniff_zip_kind(stream, name)
            stream.seek(0)
        found, errors = analyze_container(name, stream, kind, limits=Limits(), size=len(data))
    assert not errors
    return found


def top(found: list[Finding]) -> Severity:
    return max((f.severity for f in found), default=Severity.INFO)


# --------------------------------------------------------------------------- gadgets

# Callables that reach commands, code, imports, files or the network without a
# name on the classic denylists: shell-out helpers, import machinery, IDE
# internals, hub loaders, re-exports under private aliases.
GADGETS = [
    ("pydoc", "locate"),  # imports any dotted name
    ("pydoc", "pipepager"),  # runs a shell command
    ("imaplib", "IMAP4_stream"),  # Popen(command, shell=True)
    ("uuid", "_get_command_stdout"),
    ("platform", "_syscmd_file"),
    ("idlelib.calltip", "get_entity"),  # eval
    ("antigravity", "geohash"),  # the import opens a browser
    ("_frozen_importlib", "_call_with_frames_removed"),  # f(*args)
    ("_frozen_importlib_external", "SourceFileLoader"),
    ("_imp", "create_dynamic"),  # loads a shared object
    ("unittest.mock", "_importer"),
    ("pkg_resources", "EntryPoint.parse"),
    ("torch._utils", "_import_dotted_name"),
    ("torch.testing._internal.common_utils", "shell"),
    ("transformers", "AutoModel.from_pretrained"),  # trust_remote_code runs hub code
    ("huggingface_hub", "hf_hub_download"),
    ("tokenize", "_builtin_open"),  # builtins.open re-exported
    ("builtins", "__build_class__"),
    ("logging.handlers", "SocketHandler"),
    ("collections", "_sys.modules"),  # private module alias in an attribute walk
    ("tempfile", "_os.system"),
    ("vendorlib.util", "_get_cmd_output"),  # unknown module, name says it shells out
    ("vendorlib.util", "_run_shell"),
    ("__main__", "Popen"),  # the loading script's namespace re-exports it
]


@pytest.mark.parametrize(("module", "name"), GADGETS)
def test_unlisted_gadgets_are_high(module: str, name: str) -> None:
    verdict = judge(module, name)
    assert verdict.severity >= Severity.HIGH, verdict
    data = proto(2) + call(module, name, s("true")) + STOP
    if "." in name:
        data = proto(4) + s(module) + s(name) + STACK_GLOBAL + s("true") + TUPLE1 + REDUCE + STOP
    assert worst(data) >= Severity.HIGH


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("torch.nn.modules.linear", "Linear"),
        ("sklearn.pipeline", "Pipeline"),
        ("collections", "OrderedDict"),
        ("vendorlib.util", "format_output"),
        ("vendorlib.util", "openness_score"),  # a word containing "open" is not "open"
    ],
)
def test_ordinary_names_stay_below_high(module: str, name: str) -> None:
    assert judge(module, name).severity < Severity.HIGH


def test_package_main_modules_are_denied() -> None:
    assert judge("unittest.__main__", "main").severity >= Severity.HIGH


# --------------------------------------------------------------------------- encodings


def _memo_names() -> bytes:
    long_put = b"r" + struct.pack("<I", 7) + s("system") + b"r" + struct.pack("<I", 9)
    gets = b"j" + struct.pack("<I", 7) + b"j" + struct.pack("<I", 9)
    return proto(4) + s("os") + long_put + POP + POP + gets + STACK_GLOBAL


ENCODINGS = {
    # the same os.system('true') call, spelled every way the unpickler accepts
    "global-p0": b"cos\nsystem\n(S'true'\ntR.",
    "inst-p0": b"(S'true'\nios\nsystem\n.",
    "obj-p1": b"(cos\nsystem\nS'true'\no.",
    "unicode-escapes-p0": b"V\\u006f\\u0073\nV\\u0073ystem\n\x93Vtrue\n\x85R.",
    "short-binstring-names": proto(2) + b"U\x02osU\x06system\x93" + s("true") + b"\x85R.",
    "binunicode8-names": proto(4)
    + b"\x8d"
    + struct.pack("<Q", 2)
    + b"os\x8d"
    + struct.pack("<Q", 6)
    + b"system\x93"
    + s("true")
    + b"\x85R.",
    "long-binget-memo": _memo_names() + s("true") + TUPLE1 + REDUCE + STOP,
    "newobj-ex": proto(4) + glob("os", "system") + s("true") + TUPLE1 + EMPTY_DICT + b"\x92.",
    "newobj": proto(2) + glob("os", "system") + s("true") + TUPLE1 + NEWOBJ + STOP,
    "pop-mark-juggling": proto(2)
    + MARK
    + s("junk")
    + b"1"
    + glob("os", "system")
    + b"2"
    + POP
    + s("true")
    + TUPLE1
    + REDUCE
    + STOP,
    "frame-lie": proto(4)
    + b"\x95"
    + struct.pack("<Q", 3)
    + ps.call("os", "system", s("true"))
    + STOP,
    "proto-mid-stream": b"}" + proto(2) + POP + ps.call("os", "system", s("true")) + STOP,
    "py2-module-name": b"c__builtin__\neval\n(S'1'\ntR.",
}


@pytest.mark.parametrize("data", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_every_encoding_of_a_call_is_critical(data: bytes) -> None:
    assert worst(data) is Severity.CRITICAL


# --------------------------------------------------------------------------- streams

HEADERLESS_PAYLOAD = b"cos\nsystem\n(S'true'\ntR."

STREAMS = {
    # pickle.load reads the first; a loader that calls it again reads the next
    "protocol-0-after-protocol-2": pickle.dumps({"ok": 1}, protocol=2) + HEADERLESS_PAYLOAD,
    "protocol-0-after-protocol-1": pickle.dumps({"ok": 1}, protocol=1) + HEADERLESS_PAYLOAD,
    "third-pickle": pickle.dumps({"a": 1}, protocol=2) + pickle.dumps([1], 2) + ps.os_system(),
    "protocol-0-after-protocol-0": pickle.dumps([1], protocol=0) + HEADERLESS_PAYLOAD,
}


@pytest.mark.parametrize("data", STREAMS.values(), ids=STREAMS.keys())
def test_every_pickle_of_a_stream_is_read(data: bytes) -> None:
    assert worst(data) is Severity.CRITICAL


def test_trailing_bytes_that_are_not_a_pickle_are_left_alone() -> None:
    data = pickle.dumps({"ok": 1}, protocol=2) + b"\x00\x01\x02 raw tail \xff" * 4
    assert findings(data) == []


# --------------------------------------------------------------------------- forwarders


FORWARDED = {
    # allowlisted helpers that call the function they are given
    "copyreg-reconstructor": proto(2)
    + call(
        "copyreg",
        "_reconstructor",
        glob("subprocess", "Popen"),
        glob("subprocess", "Popen"),
        s("true"),
    )
    + STOP,
    "rebuild-from-type-v2": proto(2)
    + call(
        "torch._tensor",
        "_rebuild_from_type_v2",
        glob("os", "system"),
        glob("torch", "Tensor"),
        s("true") + TUPLE1,
        EMPTY_DICT,
    )
    + STOP,
    "newobj-ex-helper": proto(4)
    + call("copyreg", "__newobj_ex__", glob("subprocess", "Popen"), s("true") + TUPLE1, EMPTY_DICT)
    + STOP,
    # BUILD plants __setstate__ on an instance; the next BUILD calls it
    "planted-setstate": proto(2)
    + call("collections", "OrderedDict")
    + EMPTY_DICT
    + s("__setstate__")
    + glob("os", "system")
    + SETITEM
    + BUILD
    + s("true")
    + BUILD
    + STOP,
}


@pytest.mark.parametrize("data", FORWARDED.values(), ids=FORWARDED.keys())
def test_functions_handed_to_forwarders_count_as_called(data: bytes) -> None:
    rules = {f.rule_id for f in findings(data) if f.severity is Severity.CRITICAL}
    assert RULE_DENIED_CALL in rules


def test_calling_a_computed_callable_is_high() -> None:
    producer = call("vendorlib.registry", "lookup", s("x"))
    data = proto(2) + producer + MARK + s("true") + TUPLE + REDUCE + STOP
    dynamic = [f for f in findings(data) if f.rule_id == RULE_DYNAMIC_CALL]
    assert dynamic and dynamic[0].severity is Severity.HIGH


@pytest.mark.parametrize(
    "argument",
    ["attacker/model", "https://models.invalid/x", "/tmp/loadguard-never", "~/x", "C:\\x"],
)
def test_library_class_constructed_with_a_remote_or_path_is_high(argument: str) -> None:
    data = proto(2) + call("sentence_transformers", "SentenceTransformer", s(argument)) + STOP
    found = findings(data)
    assert [f.rule_id for f in found] == [RULE_CLASS_FETCHES]
    assert found[0].severity is Severity.HIGH


def test_library_classes_built_from_plain_values_stay_low() -> None:
    enum = call("torchvision.transforms", "InterpolationMode", s("bilinear"))
    token = call("tokenizers", "AddedToken", s("</s>"))
    new = glob("torch.nn.modules.linear", "Linear") + EMPTY_TUPLE + NEWOBJ
    data = proto(2) + MARK + enum + token + new + TUPLE + STOP
    found = findings(data)
    assert [f.rule_id for f in found] == [RULE_CLASS]
    assert found[0].severity is Severity.LOW


# --------------------------------------------------------------------------- disguises


def _npz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


DISGUISES = {
    # headerless (protocol 0/1) binary pickles: pickle.load reads any name
    "p0-binary.pkl": ENCODINGS["unicode-escapes-p0"],
    "p1-proto-mid.bin": ENCODINGS["proto-mid-stream"],
    "model": ps.os_system(),  # no suffix
    "weights": ENCODINGS["obj-p1"] + b"\x00" * 600,
    # compressed pickles: joblib.load sniffs the compressor, pandas infers it from .gz
    "gzip.pkl": gzip.compress(ps.os_system()),
    "gzip.bin": gzip.compress(ps.os_system()),
    "zlib.pkl": zlib.compress(ps.os_system()),
    "lzma.pt": lzma.compress(ps.os_system(), format=lzma.FORMAT_ALONE),
    "model.pkl.gz": gzip.compress(ps.os_system()),
    "model.pickle.bz2": bz2.compress(ps.os_system()),
    "model.pkl.xz": lzma.compress(ps.os_system()),
    # np.load reads an .npz member by its magic, whatever it is called
    "unnamed.npz": _npz({"arr_0": ps.npy("|O", ps.os_system())}),
    "mixed.npz": _npz({"a.npy": ps.npy("<f4", b"\x00" * 4), "b": ps.npy("|O", ps.os_system())}),
}


@pytest.mark.parametrize("name", DISGUISES)
def test_disguised_pickles_are_found(tmp_path: Path, name: str) -> None:
    assert top(scan_file(tmp_path, name, DISGUISES[name])) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("LICENSE", b"Apache License\nVersion 2.0\n" * 30, FileKind.TEXT),
        ("notes", b"cat\ndog\nbird\n" * 50, FileKind.TEXT),  # GLOBAL-shaped text
        ("w.bin", b"(\x00\x01\x02" * 10, FileKind.BINARY),
        ("tokenizer.model", bytes(range(256)) * 2, FileKind.BINARY),
        ("data.bin", b"I12\nI13\n" + b"N" * 600, FileKind.PICKLE),  # a pickle name: kept
    ],
)
def test_trial_walk_keeps_other_files_out(name: str, data: bytes, kind: FileKind) -> None:
    assert classify_bytes(name, data[:512], len(data)) is kind


def test_npz_members_without_magic_are_not_read(tmp_path: Path) -> None:
    data = _npz({"notes": b"cos\nsystem\n(S'x'\ntR.", "a.npy": ps.npy("<f4", b"\x00" * 4)})
    assert scan_file(tmp_path, "m.npz", data) == []


@pytest.mark.parametrize("member", ["archive/data/9", "archive/extra", "model/weights"])
def test_pickles_staged_in_other_zip_members_are_reported(tmp_path: Path, member: str) -> None:
    # torch.load never unpickles them; loader code in the repository can
    data = ps.torch_zip(ps.torch_like_state_dict(), extra={member: ps.os_system()})
    found = scan_file(tmp_path, "m.pt", data)
    assert top(found) is Severity.CRITICAL
    assert all("not named as a pickle" in f.message for f in found if f.severity > Severity.LOW)


def test_tensor_bytes_that_start_like_a_pickle_are_not_reported(tmp_path: Path) -> None:
    storage = b"\x80\x02" + bytes(range(256)) * 8  # PROTO, then an invalid opcode
    data = ps.torch_zip(ps.torch_like_state_dict(), extra={"archive/data/7": storage})
    assert top(scan_file(tmp_path, "m.pt", data)) < Severity.MEDIUM


def test_nested_bytes_payload_in_loader_argument() -> None:
    # bytes handed to pickle.loads through an allowlisted BytesIO: analysed in place
    data = proto(3) + call("pickle", "load", call("io", "BytesIO", b(ps.os_system()))) + STOP
    assert worst(data) is Severity.CRITICAL


# --------------------------------------------------------------------------- limits

_PAYLOAD = s("os") + s("system") + STACK_GLOBAL + s("true") + TUPLE1 + REDUCE + STOP
BOMBS = {
    # a loader has no limits: what comes after the scanner's limit still runs
    "memo": (proto(4) + ps.NONE + b"\x94" * 2_001 + POP + _PAYLOAD, Limits(max_pickle_memo=2_000)),
    "opcodes": (proto(2) + b"N0" * 1_000 + ps.os_system()[2:], Limits(max_pickle_opcodes=1_000)),
    "marks": (proto(2) + MARK * 1_000_001 + b"cos\nsystem\n", Limits()),
}


@pytest.mark.parametrize("name", BOMBS)
def test_imports_behind_a_limit_are_still_reported(name: str) -> None:
    data, limits = BOMBS[name]
    found = findings_for_scans("x.pkl", scan_pickles(data, limits=limits))
    assert max(f.severity for f in found) >= Severity.HIGH
    assert any(f.snippet in ("os.system", "posix.system") for f in found)
