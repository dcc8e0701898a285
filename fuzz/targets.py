"""Fuzz targets: each takes arbitrary bytes and must only ever fail in documented ways.

Run coverage-guided with atheris (``python fuzz/run.py TARGET --seconds N``)
or as property tests with hypothesis (``tests/test_fuzz_smoke.py``). A target
raising anything but the allowed errors is a bug; every crash found becomes a
regression test.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from loadguard.engine import scan_snapshot
from loadguard.errors import SourceError
from loadguard.limits import Limits
from loadguard.model import FileKind, ScanResult
from loadguard.sources.archive import iter_archive_snapshots
from loadguard.sources.memory import snapshot_from_mapping

# small bounds: the fuzzer should reach the limit paths, not spend its time under them
FUZZ_LIMITS = Limits(max_pickle_bytes=1 << 16, per_file_seconds=5.0)

CONFIG_NAMES = (
    "config.json",
    "tokenizer_config.json",
    "modules.json",
    "model_index.json",
    "configuration.json",
    "adapter_config.json",
    "preprocessor_config.json",
)


def _check(result: ScanResult) -> None:
    # the result must serialize: reports are part of what must not crash
    from loadguard.report.json import dumps, results_to_document

    dumps(results_to_document([result]))


def fuzz_config(data: bytes) -> None:
    """One config file of arbitrary content next to plausible code files."""
    name = CONFIG_NAMES[data[0] % len(CONFIG_NAMES)] if data else "config.json"
    files = {
        name: data[1:],
        "modeling.py": b"from .helpers import x\nclass M: pass\n",
        "helpers.py": b"x = 1\n",
        "hubconf.py": data[1:] if data[:1] == b"#" else b"def entry(): pass\n",
    }
    _check(scan_snapshot(snapshot_from_mapping(files), analyzers=()))


def fuzz_auto_map(data: bytes) -> None:
    """Structured: an auto_map whose values are arbitrary strings from the input."""
    parts = data.decode("utf-8", "replace").split("\x00")
    auto_map: dict[str, object] = {}
    for index, part in enumerate(parts[:8]):
        auto_map[f"AutoModel{index}"] = [part, None] if index % 3 == 0 else part
    files = {
        "config.json": json.dumps({"auto_map": auto_map}).encode(),
        "tokenizer_config.json": json.dumps({"auto_map": parts[:2]}).encode(),
    }
    for part in parts[:8]:
        module = part.split("--")[-1].rpartition(".")[0]
        if module:
            files[f"{module}.py"] = part.encode("utf-8", "replace")
    _check(scan_snapshot(snapshot_from_mapping(files), analyzers=()))


def fuzz_python(data: bytes) -> None:
    """Arbitrary bytes as a module the loader executes (parse, imports, closure)."""
    files = {
        "config.json": b'{"auto_map": {"AutoModel": "modeling.M"}}',
        "modeling.py": data,
        "hubconf.py": data,
    }
    _check(scan_snapshot(snapshot_from_mapping(files)))


def _scan_archive(path: Path) -> None:
    try:
        for snapshot in iter_archive_snapshots(path):
            _check(scan_snapshot(snapshot, analyzers=()))
    except SourceError:
        pass  # "not a readable archive" is the documented outcome


def fuzz_zip(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.zip"
        path.write_bytes(_mutate_zip(data))
        _scan_archive(path)


def fuzz_tar(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tar"
        path.write_bytes(_mutate_tar(data))
        _scan_archive(path)


def _mutate_zip(data: bytes) -> bytes:
    """A valid zip built from the input's names and contents, with the tail mutated."""
    buf = io.BytesIO()
    chunks = data.split(b"\x00")
    with zipfile.ZipFile(buf, "w") as archive:
        for name, content in zip(chunks[::2], chunks[1::2]):
            archive.writestr(name.decode("utf-8", "replace") or "empty", content)
    raw = bytearray(buf.getvalue())
    if data and raw:
        raw[data[0] % len(raw)] ^= data[-1]
    return bytes(raw)


def _mutate_tar(data: bytes) -> bytes:
    buf = io.BytesIO()
    chunks = data.split(b"\x00")
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, content in zip(chunks[::2], chunks[1::2]):
            info = tarfile.TarInfo(name.decode("utf-8", "replace") or "empty")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    raw = bytearray(buf.getvalue())
    if data and raw:
        raw[data[0] % len(raw)] ^= data[-1]
    return bytes(raw)


# --------------------------------------------------------------------------- weights

_PICKLE_KINDS = (
    FileKind.PICKLE,
    FileKind.TORCH_ZIP,
    FileKind.TORCH_LEGACY,
    FileKind.JOBLIB,
    FileKind.NUMPY,
    FileKind.NUMPY_ZIP,
    FileKind.TAR,
)


class _NoFileno(io.BytesIO):
    """A stream like a hub's range stream: no file descriptor to map."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


def _container(data: bytes, kind: FileKind, *, sparse: bool) -> None:
    from loadguard.analyzers import containers

    saved = containers.READ_WHOLE_BYTES
    if sparse:  # take the sparse-image path (remote files) even for small inputs
        containers.READ_WHOLE_BYTES = 0
    try:
        containers.analyze_container(
            "f.bin", _NoFileno(data), kind, limits=FUZZ_LIMITS, size=len(data)
        )
    finally:
        containers.READ_WHOLE_BYTES = saved


def fuzz_pickle_remote(data: bytes) -> None:
    """Arbitrary bytes as every pickle-bearing format, read whole and as a sparse image."""
    kind = _PICKLE_KINDS[data[0] % len(_PICKLE_KINDS)] if data else FileKind.PICKLE
    _container(data[1:], kind, sparse=False)
    _container(data[1:], kind, sparse=True)


def fuzz_torch_zip(data: bytes) -> None:
    """A well-formed torch zip around an arbitrary data.pkl, then one byte flipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", data)
        zf.writestr("archive/data/0", b"\x00" * 16)
        zf.writestr("archive/version", b"3\n")
    raw = bytearray(buf.getvalue())
    if data:
        raw[data[0] * 7 % len(raw)] ^= data[-1] or 1
    for sparse in (False, True):
        _container(bytes(raw), FileKind.TORCH_ZIP, sparse=sparse)


def fuzz_weight_headers(data: bytes) -> None:
    """The safetensors validator: a length prefix and a header that parse, then anything."""
    from loadguard.analyzers.weights import gguf_findings, safetensors_findings

    header = data[: len(data) // 2]
    blob = struct.pack("<Q", len(header)) + header + data[len(header) :]
    safetensors_findings("m.safetensors", io.BytesIO(blob), len(blob))
    safetensors_findings("m.safetensors", io.BytesIO(data), len(data))
    gguf_findings("m.gguf", b"GGUF" + data)


def fuzz_decoding_layers(data: bytes) -> None:
    """Decoded payloads are analysed as code: feed arbitrary bytes through decoding layers."""
    import base64
    import zlib

    from loadguard.analyzers.native import analyze_source

    b64 = base64.b64encode(data).decode()
    packed = base64.b64encode(zlib.compress(data)).decode()
    text = data.decode("latin-1")
    source = (
        "import base64, zlib, codecs\n"
        f"exec(base64.b64decode({b64!r}))\n"
        f"exec(zlib.decompress(base64.b64decode({packed!r})))\n"
        f"eval(bytes.fromhex({data.hex()!r}).decode('latin-1'))\n"
        f"exec(''.join(chr(c) for c in {list(data[:512])!r}))\n"
        f"exec(codecs.decode({text[:512]!r}, 'rot13'))\n"
        f"getattr(__import__({text[:64]!r}), {text[64:128]!r})({text[128:256]!r})\n"
    )
    analyze_source(source.encode("utf-8", "surrogateescape"), "payload.py")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "config": fuzz_config,
    "auto_map": fuzz_auto_map,
    "python": fuzz_python,
    "zip": fuzz_zip,
    "tar": fuzz_tar,
    "pickle_remote": fuzz_pickle_remote,
    "torch_zip": fuzz_torch_zip,
    "weight_headers": fuzz_weight_headers,
    "decoding_layers": fuzz_decoding_layers,
}


# --------------------------------------------------------------------------- weights


def fuzz_pickle(data: bytes) -> None:
    """Arbitrary bytes through the pickle reader and the container dispatch (zip, tar, npy)."""
    from loadguard.analyzers.containers import analyze_container
    from loadguard.analyzers.pickle import findings_for_scans, scan_pickles
    from loadguard.filekinds import classify_bytes
    from loadguard.limits import Limits

    limits = Limits(max_pickle_bytes=1 << 20, max_archive_member_bytes=1 << 22)
    findings_for_scans("x.pkl", scan_pickles(data, limits=limits))
    findings_for_scans("x.pkl", scan_pickles(data, limits=limits, joblib=False))
    for name in ("model.bin", "x.pt", "x.npy", "x.joblib"):
        kind = classify_bytes(name, data[:64], len(data))
        analyze_container(name, io.BytesIO(data), kind, limits=limits, size=len(data))


def fuzz_safetensors(data: bytes) -> None:
    """The safetensors header validator: raw bytes, and a well-framed header of fuzzed JSON."""
    from loadguard.analyzers.weights import read_safetensors_header, safetensors_findings

    safetensors_findings("x.safetensors", io.BytesIO(data), len(data))
    header, _, body = data.partition(b"\x00")
    framed = len(header).to_bytes(8, "little") + header + body
    read_safetensors_header(io.BytesIO(framed), len(framed))
    safetensors_findings("x.safetensors", io.BytesIO(framed), len(framed))


# --------------------------------------------------------------------------- python


class _Source:
    """Python source generated from fuzz bytes by a small grammar (always parses-ish).

    The generator covers what the de-obfuscator and the analyzers look at: string
    building (concat, join, chr, %, f-strings, slicing), encodings (base64, hex, zlib,
    codecs), dynamic lookups (getattr, __import__, importlib, globals()), aliases,
    calls, lambdas, comprehensions, nesting, and statements binding names.
    """

    NAMES = ("os", "sys", "x", "y", "s", "f", "m", "k", "base64", "zlib", "codecs", "builtins")
    CALLEES = (
        "getattr", "__import__", "chr", "ord", "eval", "exec", "compile", "open",
        "base64.b64decode", "bytes.fromhex", "zlib.decompress", "codecs.decode",
        "importlib.import_module", "os.system", "subprocess.run", "pickle.loads",
        "torch.load", "requests.get", "socket.socket", "globals", "vars", "str.join",
        "''.join", "bytes", "bytearray", "reversed", "map", "list", "marshal.loads",
    )  # fmt: skip
    WORDS = ("os", "system", "eval", "exec", "popen", "import", "subprocess", "b64decode", "~/.ssh/id_rsa")  # fmt: skip

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.byte() % len(options)]

    def string(self) -> str:
        kind = self.byte() % 4
        if kind == 0:
            return repr(self.pick(self.WORDS))
        n = self.byte() % 12
        raw = bytes(self.byte() for _ in range(n))
        if kind == 1:
            return repr(raw.decode("latin-1"))
        if kind == 2:
            return repr(raw)
        import base64

        return repr(base64.b64encode(self.pick(self.WORDS).encode()).decode())

    def expr(self, depth: int = 0) -> str:
        choice = self.byte() % (16 if depth < 6 else 4)
        if choice == 0:
            return self.pick(self.NAMES)
        if choice == 1:
            return self.string()
        if choice == 2:
            return str(self.byte() - 64)
        if choice == 3:
            return f"{self.pick(self.NAMES)}.{self.pick(self.WORDS[:5])}"
        sub = depth + 1
        if choice == 4:
            return f"({self.expr(sub)} {self.pick(('+', '%', '*', '^', '//', 'and', 'or'))} {self.expr(sub)})"  # fmt: skip
        if choice == 5:
            args = ", ".join(self.expr(sub) for _ in range(self.byte() % 3))
            return f"{self.pick(self.CALLEES)}({args})"
        if choice == 6:
            return f"{self.expr(sub)}[{self.expr(sub)}]"
        if choice == 7:
            return f"{self.expr(sub)}[::-1]"
        if choice == 8:
            return f"[{', '.join(self.expr(sub) for _ in range(self.byte() % 4))}]"
        if choice == 9:
            return f"''.join(chr(c) for c in [{', '.join(str(self.byte()) for _ in range(self.byte() % 6))}])"  # fmt: skip
        if choice == 10:
            return f"(lambda {self.pick(self.NAMES)}: {self.expr(sub)})"
        if choice == 11:
            return f"f'{{{self.expr(sub)}}}{self.pick(self.WORDS[:5])}'"
        if choice == 12:
            return f"getattr({self.expr(sub)}, {self.expr(sub)})"
        if choice == 13:
            return f"{self.expr(sub)}.decode()"
        if choice == 14:
            return f"{{{self.string()}: {self.expr(sub)}}}"
        return f"({self.expr(sub)} if {self.expr(sub)} else {self.expr(sub)})"

    def statements(self, indent: str = "", depth: int = 0) -> list[str]:
        lines: list[str] = []
        for _ in range(1 + self.byte() % 6):
            if self.pos >= len(self.data):
                break
            choice = self.byte() % (9 if depth < 4 else 4)
            if choice == 0:
                lines.append(f"{indent}{self.pick(self.NAMES)} = {self.expr()}")
            elif choice == 1:
                lines.append(f"{indent}import {self.pick(self.NAMES)} as {self.pick(self.NAMES)}")
            elif choice == 2:
                lines.append(f"{indent}from {self.pick(self.NAMES)} import {self.pick(self.NAMES)}")
            elif choice == 3:
                lines.append(f"{indent}{self.expr()}")
            else:
                head = self.pick(
                    ("def f(x, *a, **k):", "class M(object):", "if x:", "for k in x:",
                     "try:", "with open(x) as f:", "while 0:", "def __init__(self):")
                )  # fmt: skip
                lines.append(f"{indent}{head}")
                lines += self.statements(indent + "    ", depth + 1) or [f"{indent}    pass"]
                if head == "try:":
                    lines += [f"{indent}except Exception:", f"{indent}    pass"]
        return lines


def generated_source(data: bytes) -> str:
    return "\n".join(_Source(data).statements()) + "\n"


def fuzz_deobfuscate(data: bytes) -> None:
    """The de-obfuscator folds and resolves every expression of generated source."""
    import ast

    from loadguard.analyzers.deobfuscate import Deobfuscator, Scope

    try:
        tree = ast.parse(generated_source(data))
    except (SyntaxError, ValueError, RecursionError):
        return
    deob = Deobfuscator(lambda module, name: True)
    scope = Scope()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            deob.bind_import(node, scope)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    deob.bind_value(target.id, node.value, scope)
        elif isinstance(node, ast.expr):
            deob.fold(node, scope)
            deob.resolve(node, scope)
            deob.fold_int(node)


def fuzz_native(data: bytes) -> None:
    """Generated source as the model code: default analyzers (native, yara, ...) and reach."""
    source = generated_source(data).encode()
    files = {
        "config.json": b'{"auto_map": {"AutoModel": "modeling.M"}}',
        "modeling.py": b"from .helpers import *\n" + source,
        "helpers.py": source,
        "hubconf.py": source,
    }
    _check(scan_snapshot(snapshot_from_mapping(files)))


TARGETS.update(
    {
        "pickle": fuzz_pickle,
        "safetensors": fuzz_safetensors,
        "deobfuscate": fuzz_deobfuscate,
        "native": fuzz_native,
    }
)
