"""Data-only and config-bearing weight formats: SafeTensors, GGUF, Keras, HDF5.

- SafeTensors: the header is validated the way ``safetensors`` (Rust) does —
  length bound, UTF-8 JSON object, known dtypes, shape x dtype size equals the
  offsets span, offsets contiguous and ending at the file end, ``__metadata__``
  str -> str. A malformed header is a finding, never a crash.
- GGUF: the key/value header is parsed with bounds checks; chat templates
  (``tokenizer.chat_template*``) go to the template checks.
- Keras ``.keras`` (zip) and ``.h5``: the model config is read (h5 without
  h5py, by locating the JSON blob) for ``Lambda`` layers (marshalled
  bytecode), modules outside Keras (CVE-2025-1550) and the
  ``enable_unsafe_deserialization`` gadget (CVE-2025-9906).
- A pickle-based file named like a data-only format (``.safetensors``,
  ``.gguf``...) is reported: the name promises no code, the bytes say otherwise.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from ..filekinds import suffix_of
from ..limits import Limits
from ..model import (
    PICKLE_KINDS,
    Confidence,
    FileEntry,
    FileKind,
    Finding,
    Location,
    ScanError,
    Severity,
)
from .base import AnalysisContext, AnalyzerOutput

ANALYZER = "weights"
VERSION = "1.0"

RULE_DISGUISED = "LG-WGT-001"  # pickle named as a data-only format
RULE_SAFETENSORS = "LG-WGT-002"  # malformed safetensors header
RULE_GGUF = "LG-WGT-003"  # malformed GGUF header
RULE_KERAS_LAMBDA = "LG-KERAS-001"
RULE_KERAS_MODULE = "LG-KERAS-002"
RULE_KERAS_GADGET = "LG-KERAS-003"
RULE_KERAS_CUSTOM = "LG-KERAS-004"

SAFETENSORS_MAX_HEADER = 100_000_000
LFS_POINTER = b"version https://git-lfs"
DATA_ONLY_SUFFIXES = frozenset(
    {".safetensors", ".gguf", ".onnx", ".npy", ".npz", ".msgpack", ".h5"}
)
DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
KERAS_MODULES = ("keras", "tf_keras", "tensorflow", "keras_nlp", "keras_hub", "keras_cv")
H5_SCAN_BYTES = 64 << 20
_SUSPICIOUS_BYTECODE_NAMES = frozenset(
    {
        "os",
        "system",
        "subprocess",
        "popen",
        "Popen",
        "eval",
        "exec",
        "__import__",
        "socket",
        "builtins",
        "getattr",
        "check_output",
        "urlopen",
        "compile",
        "marshal",
        "pickle",
        "loads",
    }
)


def _finding(
    rule: str,
    path: str,
    message: str,
    severity: Severity,
    cwe: tuple[str, ...],
    *,
    snippet: str = "",
    confidence: Confidence = Confidence.HIGH,
    evidence: tuple[str, ...] = (),
    offset: int | None = None,
) -> Finding:
    return Finding(
        rule_id=rule,
        analyzer=ANALYZER,
        message=message,
        severity=severity,
        confidence=confidence,
        location=Location(path, offset=offset),
        cwe=cwe,
        snippet=snippet,
        evidence=evidence,
    )


# --------------------------------------------------------------------------- safetensors


class SafetensorsHeader(NamedTuple):
    tensors: dict[str, Any]
    metadata: dict[str, Any] | None
    problems: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.tensors)


def read_safetensors_header(stream: BinaryIO, size: int) -> SafetensorsHeader:
    """Parse and validate; every rule broken is listed in ``problems``."""
    stream.seek(0)
    head = stream.read(8)
    if len(head) < 8:
        return SafetensorsHeader(
            {}, None, (f"file of {size} bytes is shorter than the 8-byte length",)
        )
    (length,) = struct.unpack("<Q", head)
    if length > SAFETENSORS_MAX_HEADER:
        return SafetensorsHeader(
            {}, None, (f"header length {length} exceeds the {SAFETENSORS_MAX_HEADER} limit",)
        )
    if length > size - 8:
        return SafetensorsHeader(
            {}, None, (f"header length {length} runs past the end of the file ({size} bytes)",)
        )
    raw = stream.read(length)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SafetensorsHeader({}, None, (f"header is not UTF-8: {exc}",))
    if not text.startswith("{"):
        return SafetensorsHeader({}, None, ("header does not start with '{'",))
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError) as exc:
        return SafetensorsHeader({}, None, (f"header is not valid JSON: {exc}",))
    if not isinstance(doc, dict):
        return SafetensorsHeader({}, None, ("header is not a JSON object",))
    problems: list[str] = [f"duplicate key {key!r}" for key in duplicates[:5]]
    metadata = doc.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        problems.append("__metadata__ is not a str -> str mapping")
    spans: list[tuple[int, int, str]] = []
    for name, info in doc.items():
        problem = _tensor_problem(name, info)
        if problem is not None:
            problems.append(problem)
            continue
        begin, end = info["data_offsets"]
        spans.append((begin, end, name))
    data_size = size - 8 - length
    spans.sort()
    cursor = 0
    for begin, end, name in spans:
        if begin != cursor:
            problems.append(
                f"tensor {name!r} starts at {begin}, expected {cursor} "
                f"({'overlap' if begin < cursor else 'gap'})"
            )
        cursor = max(cursor, end)
    if spans and cursor != data_size:
        problems.append(f"tensor data ends at {cursor}, the file has {data_size} data bytes")
    if not spans and data_size != 0 and not problems:
        problems.append(f"no tensors but {data_size} trailing bytes")
    return SafetensorsHeader(doc, metadata if isinstance(metadata, dict) else None, tuple(problems))


def _tensor_problem(name: str, info: Any) -> str | None:
    if not isinstance(info, dict):
        return f"tensor {name!r} is not an object"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BITS:
        return f"tensor {name!r} has unknown dtype {dtype!r}"
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        return f"tensor {name!r} has an invalid shape {shape!r}"[:200]
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int and o >= 0 for o in offsets)
        and offsets[0] <= offsets[1]
    ):
        return f"tensor {name!r} has invalid data_offsets {offsets!r}"[:200]
    count = 1
    for dim in shape:
        count *= dim
    bits = count * DTYPE_BITS[dtype]
    if bits % 8:
        return f"tensor {name!r} does not fill whole bytes"
    if bits // 8 != offsets[1] - offsets[0]:
        return (
            f"tensor {name!r}: shape {shape} x {dtype} is {bits // 8} bytes, "
            f"offsets span {offsets[1] - offsets[0]}"
        )[:200]
    return None


def safetensors_findings(path: str, stream: BinaryIO, size: int) -> list[Finding]:
    header = read_safetensors_header(stream, size)
    if not header.problems:
        return []
    return [
        _finding(
            RULE_SAFETENSORS,
            path,
            f"malformed safetensors header: {header.problems[0]}"
            + (f" (+{len(header.problems) - 1} more)" if len(header.problems) > 1 else "")
            + "; loaders reject it, parsers with bugs may not",
            Severity.MEDIUM,
            ("CWE-20",),
            snippet=header.problems[0][:120],
            evidence=header.problems[:20],
        )
    ]


# --------------------------------------------------------------------------- GGUF

_GGUF_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
MAX_GGUF_KV = 1_000_000


class _GGUFError(Exception):
    pass


class _Reader:
    def __init__(self, buf: Any, pos: int = 0) -> None:
        self.buf, self.pos, self.end = buf, pos, len(buf)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise _GGUFError(f"{n} bytes at offset {self.pos} run past the end of the file")
        data = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(data)

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.end:
            raise _GGUFError(f"{n} bytes at offset {self.pos} run past the end of the file")
        self.pos += n

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])


def read_gguf_metadata(
    buf: Any, *, keep: tuple[str, ...] = ("tokenizer.chat_template",)
) -> dict[str, Any]:
    """Key/value metadata; string values are kept only for keys starting with ``keep``."""
    r = _Reader(buf)
    if r.take(4) != b"GGUF":
        raise _GGUFError("no GGUF magic")
    version = r.u32()
    if version not in (1, 2, 3):
        raise _GGUFError(f"unknown GGUF version {version}")
    count = r.u32 if version == 1 else r.u64
    count()  # tensor count
    kv_count = count()
    if kv_count > MAX_GGUF_KV:
        raise _GGUFError(f"{kv_count} metadata entries (limit {MAX_GGUF_KV})")
    out: dict[str, Any] = {}

    def string() -> bytes:
        return r.take(count())

    def value(kind: int, wanted: bool) -> Any:
        if kind in _GGUF_SCALARS:
            fmt = _GGUF_SCALARS[kind]
            return struct.unpack(fmt, r.take(struct.calcsize(fmt)))[0]
        if kind == 8:
            if wanted:
                return string().decode("utf-8", "replace")
            r.skip(count())
            return None
        if kind == 9:
            inner = r.u32()
            n = count()
            if inner in _GGUF_SCALARS:
                r.skip(n * struct.calcsize(_GGUF_SCALARS[inner]))
            elif inner == 8:
                for _ in range(n):
                    r.skip(count())
            else:
                raise _GGUFError(f"array of unsupported type {inner}")
            return None
        raise _GGUFError(f"unknown value type {kind} at offset {r.pos}")

    for _ in range(kv_count):
        key = string().decode("utf-8", "replace")
        kind = r.u32()
        got = value(kind, key.startswith(keep))
        if got is not None and key.startswith(keep):
            while key in out:  # a repeated key: readers differ on which copy wins, keep all
                key += "#dup"
            out[key] = got
    return out


def gguf_findings(path: str, buf: Any) -> list[Finding]:
    from .templates import TemplateSource, template_findings

    try:
        meta = read_gguf_metadata(buf)
    except (_GGUFError, struct.error) as exc:
        return [
            _finding(
                RULE_GGUF,
                path,
                f"malformed GGUF header: {exc}; native parsers have had memory-safety bugs here",
                Severity.MEDIUM,
                ("CWE-20",),
                snippet=str(exc)[:120],
            )
        ]
    findings: list[Finding] = []
    for key, text in meta.items():
        if isinstance(text, str):
            findings += template_findings(f"{path}!{key}", TemplateSource(key, text, 1))
    return findings


# --------------------------------------------------------------------------- Keras


def keras_config_findings(path: str, config: Any, raw_text: str) -> list[Finding]:
    from .pickle import judge

    findings: list[Finding] = []
    if "enable_unsafe_deserialization" in raw_text:
        findings.append(
            _finding(
                RULE_KERAS_GADGET,
                path,
                "model config names enable_unsafe_deserialization: turns safe_mode off from "
                "inside the file (CVE-2025-9906, Keras < 3.11)",
                Severity.HIGH,
                ("CWE-502", "CWE-94"),
                snippet="enable_unsafe_deserialization",
            )
        )
    seen: set[tuple[str, str]] = set()
    for node in _walk(config):
        class_name = node.get("class_name")
        # Lambda layers, and Keras 3's serialized python lambdas (``__lambda__``)
        if class_name in ("Lambda", "__lambda__") and ("lambda", "") not in seen:
            seen.add(("lambda", ""))
            findings.append(_lambda_finding(path, node))
        module = node.get("module")
        name = class_name if isinstance(class_name, str) else ""
        if name == "function" and isinstance(node.get("config"), str):
            name = node["config"]  # a serialized function: module + its name
        if isinstance(module, str) and module:
            if (module, name) in seen:
                continue
            seen.add((module, name))
            verdict = judge(module, name or "?")
            if verdict.category == "denied":
                severity = (
                    Severity.CRITICAL if verdict.severity >= Severity.CRITICAL else Severity.HIGH
                )
            elif verdict.category == "unknown-dangerous":
                severity = Severity.HIGH
            elif _is_keras_module(module):
                continue  # Keras' own layers and functions: imported under safe_mode anyway
            else:
                severity = Severity.MEDIUM
            findings.append(
                _finding(
                    RULE_KERAS_MODULE,
                    path,
                    f"model config imports {module}.{name} at load: modules outside Keras are "
                    "imported even under safe_mode on Keras < 3.9 (CVE-2025-1550)",
                    severity,
                    ("CWE-502", "CWE-470"),
                    snippet=f"{module}.{name}",
                    confidence=Confidence.MEDIUM,
                )
            )
        registered = node.get("registered_name")
        if isinstance(registered, str) and ">" in registered and ("reg", registered) not in seen:
            seen.add(("reg", registered))
            findings.append(
                _finding(
                    RULE_KERAS_CUSTOM,
                    path,
                    f"custom object {registered!r}: loading needs code registered by the caller",
                    Severity.LOW,
                    ("CWE-502",),
                    snippet=registered,
                    confidence=Confidence.MEDIUM,
                )
            )
    return findings


def _is_keras_module(module: str) -> bool:
    """``keras``, ``keras.layers``; not ``keras_evil`` (a prefix is not a package)."""
    return any(module == root or module.startswith(root + ".") for root in KERAS_MODULES)


def _lambda_finding(path: str, node: dict[str, Any]) -> Finding:
    names = sorted(_bytecode_names(node))
    bad = sorted(set(names) & _SUSPICIOUS_BYTECODE_NAMES)
    severity = Severity.CRITICAL if bad else Severity.HIGH
    detail = f"; its bytecode names {', '.join(bad)}" if bad else ""
    return _finding(
        RULE_KERAS_LAMBDA,
        path,
        "Keras Lambda layer: marshalled Python bytecode runs on load with safe_mode=False, "
        f"legacy .h5 loaders and Keras < 3.x (CVE-2024-3660, CVE-2025-9905){detail}",
        severity,
        ("CWE-502", "CWE-94"),
        snippet="Lambda",
        evidence=tuple(names[:40]),
    )


def _bytecode_names(node: Any) -> set[str]:
    """Identifiers in base64 bytecode strings of a Lambda config (decoded, never loaded)."""
    import base64  # Keras Lambda layers only

    found: set[str] = set()
    for text in _strings(node):
        if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9+/=\s]+", text):
            continue
        try:
            raw = base64.b64decode(text, validate=False)
        except ValueError:
            continue
        found.update(m.decode() for m in re.findall(rb"[A-Za-z_][A-Za-z0-9_]{1,40}", raw))
    return found


def _strings(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def keras_zip_findings(path: str, buf: Any, limits: Limits) -> list[Finding]:
    from ..zipdir import zip_members
    from .containers import _MemberError, member_data, scan_zip

    findings = scan_zip(path, buf, limits=limits)  # names, bombs, any pickle members
    try:
        members = [m for m in zip_members(buf) if m.name == "config.json"]
    except Exception:  # already reported by scan_zip
        return findings
    for member in members[:1]:
        try:
            data, lo, hi = member_data(buf, member, limits)
            text = bytes(data[lo:hi]).decode("utf-8", "replace")
            config = json.loads(text)
        except (_MemberError, ValueError, RecursionError) as exc:
            findings.append(
                _finding(
                    RULE_KERAS_MODULE,
                    f"{path}!config.json",
                    f"unreadable Keras config: {exc} (fail closed)",
                    Severity.MEDIUM,
                    ("CWE-20",),
                    snippet="config.json",
                )
            )
            continue
        findings += keras_config_findings(f"{path}!config.json", config, text)
    return findings


def h5_findings(path: str, buf: Any) -> list[Finding]:
    """Find the ``model_config`` JSON inside an HDF5 file by scanning for it (no h5py)."""
    limit = min(len(buf), H5_SCAN_BYTES)
    findings: list[Finding] = []
    pos = 0
    decoder = json.JSONDecoder()
    found_config = False
    while True:
        hit = buf.find(b'"class_name"', pos, limit)
        if hit < 0:
            break
        # the JSON object opens after the attribute's preceding NUL padding
        boundary = buf.rfind(b"\x00", max(0, hit - (1 << 20)), hit) + 1
        brace = buf.find(b"{", boundary, hit)
        if brace < 0:
            pos = hit + 1
            continue
        end = buf.find(b"\x00", hit, min(limit, hit + (16 << 20)))
        chunk = bytes(buf[brace : end if end > 0 else min(limit, hit + (16 << 20))])
        text = chunk.decode("utf-8", "replace")
        try:
            config, used = decoder.raw_decode(text)
        except (ValueError, RecursionError):
            pos = hit + 1
            continue
        found_config = True
        findings += keras_config_findings(f"{path}!model_config", config, text[:used])
        pos = brace + max(len(text[:used].encode("utf-8", "replace")), 1)
    if not found_config and re.search(rb'"class_name":\s*"Lambda"', bytes(buf[:limit])):
        findings.append(
            _finding(
                RULE_KERAS_LAMBDA,
                path,
                "HDF5 file mentions a Keras Lambda layer (config not parseable): marshalled "
                "bytecode may run on load",
                Severity.HIGH,
                ("CWE-502", "CWE-94"),
                snippet="Lambda",
                confidence=Confidence.MEDIUM,
            )
        )
    return findings


# --------------------------------------------------------------------------- analyzer

WEIGHT_FORMAT_KINDS = frozenset(
    {FileKind.SAFETENSORS, FileKind.GGUF, FileKind.KERAS, FileKind.HDF5}
)


class WeightsAnalyzer:
    name: str = ANALYZER
    version: str = VERSION

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        suffix = suffix_of(entry.path)
        return (
            kind in WEIGHT_FORMAT_KINDS
            or suffix == ".safetensors"
            or (suffix in DATA_ONLY_SUFFIXES and kind in PICKLE_KINDS)
        )

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        from .containers import mapped

        findings: list[Finding] = []
        errors: list[ScanError] = []
        suffix = suffix_of(entry.path)
        if suffix in DATA_ONLY_SUFFIXES and kind in PICKLE_KINDS:
            findings.append(
                _finding(
                    RULE_DISGUISED,
                    entry.path,
                    f"a {kind.value} file named {suffix}: the name promises a data-only format, "
                    "the bytes are a pickle (code runs if anything unpickles it)",
                    Severity.HIGH,
                    ("CWE-502", "CWE-646"),
                    snippet=f"{suffix}:{kind.value}",
                )
            )
            return AnalyzerOutput(tuple(findings))
        with ctx.snapshot.store.open(entry.path) as stream:
            if stream.read(len(LFS_POINTER)) == LFS_POINTER:
                message = "git-lfs pointer, not the file: its content was not downloaded"
                return AnalyzerOutput(
                    errors=(ScanError(entry.path, ANALYZER, message, "lfs-pointer"),)
                )
            stream.seek(0)
            if kind is FileKind.SAFETENSORS or suffix == ".safetensors":
                findings += safetensors_findings(entry.path, stream, entry.size)
            elif kind in (FileKind.GGUF, FileKind.KERAS, FileKind.HDF5):
                with mapped(stream, entry.size, ctx.limits) as buf:
                    if buf is None:
                        errors.append(
                            ScanError(entry.path, ANALYZER, "too large to read", "too-large")
                        )
                    elif kind is FileKind.GGUF:
                        findings += gguf_findings(entry.path, buf)
                    elif kind is FileKind.KERAS:
                        findings += keras_zip_findings(entry.path, buf, ctx.limits)
                    else:
                        findings += h5_findings(entry.path, buf)
        return AnalyzerOutput(tuple(findings), tuple(errors))
