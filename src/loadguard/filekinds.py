"""Tell a file's format from its first bytes (and, only where bytes cannot, its name)."""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from typing import BinaryIO

from .errors import LoadguardError
from .model import FileEntry, FileKind, Snapshot

SNIFF_BYTES = 512
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

TEXT_SUFFIXES: Mapping[str, FileKind] = {
    ".py": FileKind.PYTHON,
    ".pyw": FileKind.PYTHON,
    ".json": FileKind.JSON,
    ".yaml": FileKind.YAML,
    ".yml": FileKind.YAML,
    ".md": FileKind.TEXT,
    ".txt": FileKind.TEXT,
    ".jinja": FileKind.TEXT,
    ".cfg": FileKind.TEXT,
    ".toml": FileKind.TEXT,
    ".sh": FileKind.TEXT,
}
# Names that are never sniffed: their content is text whatever it starts with.
PICKLE_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".bin", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".dat", ".data"}
)
WEIGHT_KINDS = frozenset(
    {
        FileKind.PICKLE,
        FileKind.TORCH_ZIP,
        FileKind.TORCH_LEGACY,
        FileKind.SAFETENSORS,
        FileKind.NUMPY,
        FileKind.NUMPY_ZIP,
        FileKind.JOBLIB,
        FileKind.KERAS,
        FileKind.HDF5,
        FileKind.ONNX,
        FileKind.GGUF,
        FileKind.TF_SAVEDMODEL,
    }
)


def suffix_of(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def classify_bytes(path: str, head: bytes, size: int) -> FileKind:
    """Format from the first bytes; zip subtypes need the listing (see ``classify``)."""
    suffix = suffix_of(path)
    if suffix in TEXT_SUFFIXES and not _looks_binary_magic(head):
        return TEXT_SUFFIXES[suffix]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return FileKind.ZIP
    if head.startswith(TORCH_LEGACY_MAGIC):
        return FileKind.TORCH_LEGACY
    if _is_pickle_head(head) or (
        suffix in PICKLE_SUFFIXES and len(head) >= 2 and head[0] == 0x80 and head[1] <= 1
    ):  # PROTO 0/1 is legal (the unpickler accepts it), if rarely written
        return FileKind.JOBLIB if suffix == ".joblib" else FileKind.PICKLE
    if suffix in PICKLE_SUFFIXES and _is_binary_protocol1_pickle(head):
        return FileKind.JOBLIB if suffix == ".joblib" else FileKind.PICKLE
    if head.startswith(b"\x93NUMPY"):
        return FileKind.NUMPY
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return FileKind.HDF5
    if head.startswith(b"GGUF"):
        return FileKind.GGUF
    if _is_safetensors_head(head, size):
        return FileKind.SAFETENSORS
    if len(head) > 262 and head[257:262] == b"ustar":
        return FileKind.TAR
    if suffix == ".joblib" and head[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"):
        return FileKind.JOBLIB  # joblib's zlib compression (no container header)
    if suffix == ".joblib" and head.startswith((b"\x5d\x00\x00", b"\x04\x22\x4d\x18")):
        return FileKind.JOBLIB  # joblib's lzma (alone format) / lz4 compression
    if head[:3] in (b"\x1f\x8b\x08", b"BZh") or head.startswith(b"\xfd7zXZ\x00"):
        # compressed streams: tarballs, joblib compressed pickles, legacy archives.
        # joblib.load sniffs the compression whatever the name; pandas.read_pickle
        # infers it from ``.pkl.gz`` & co: a pickle name means a compressed pickle.
        return FileKind.JOBLIB if _compressed_pickle_name(path) else FileKind.TAR
    if _compressed_pickle_name(path) and head.startswith(COMPRESSED_PICKLE_MAGICS):
        return FileKind.JOBLIB  # zlib, lzma (alone) or lz4: joblib's other compressors
    if suffix == ".onnx":
        return FileKind.ONNX
    if path.rsplit("/", 1)[-1] == "saved_model.pb":
        return FileKind.TF_SAVEDMODEL
    if suffix in (".safetensors",):
        return FileKind.BINARY  # named safetensors, but not one: the analyzer says why
    if _parses_as_pickle(head, needs_import=suffix not in PICKLE_SUFFIXES):
        # protocol 0/1 binary pickles have no header; pickle.load reads any name
        return FileKind.PICKLE
    if b"\x00" in head:
        return FileKind.BINARY
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the sniff boundary is still text
        try:
            head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return FileKind.BINARY
    if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
        return FileKind.PYTHON
    if suffix in PICKLE_SUFFIXES and _is_protocol0_pickle(head):
        return FileKind.PICKLE
    return FileKind.TEXT if head or size == 0 else FileKind.OTHER


def classify(snapshot: Snapshot, entry: FileEntry) -> FileKind:
    """Classify one file of a snapshot, reading at most its head and zip directory."""
    suffix = suffix_of(entry.path)
    if suffix in TEXT_SUFFIXES and suffix not in (".json",):
        # Text by name; sniffing every source file would cost a read per file.
        return TEXT_SUFFIXES[suffix]
    with snapshot.store.open(entry.path) as stream:
        head = stream.read(SNIFF_BYTES)
        kind = classify_bytes(entry.path, head, entry.size)
        if kind is FileKind.ZIP:
            kind = _zip_subtype(stream, suffix, entry.size)
    return kind


def classify_all(snapshot: Snapshot) -> dict[str, FileKind]:
    kinds: dict[str, FileKind] = {}
    for entry in snapshot.files:
        try:
            kinds[entry.path] = classify(snapshot, entry)
        except (OSError, LoadguardError):
            kinds[entry.path] = FileKind.OTHER  # unreadable: analyzers report it when they try
    return kinds


def _zip_subtype(stream: BinaryIO, suffix: str, size: int) -> FileKind:
    from .zipdir import stream_member_names

    try:
        names = stream_member_names(stream, size)
    except (ValueError, struct.error, OSError, EOFError):
        return FileKind.ZIP
    if any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        return FileKind.TORCH_ZIP
    if suffix == ".keras" or ("config.json" in names and "model.weights.h5" in names):
        return FileKind.KERAS
    if names and all(n.endswith(".npy") for n in names):
        return FileKind.NUMPY_ZIP
    return FileKind.ZIP


# Names pandas.read_pickle decompresses by suffix (``compression="infer"``).
COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".xz", ".lzma", ".lz4", ".zst", ".z"})
# joblib's zlib, lzma (alone format) and lz4 prefixes.
COMPRESSED_PICKLE_MAGICS = (
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x5d\x00\x00",
    b"\x04\x22\x4d\x18",
)


def _compressed_pickle_name(path: str) -> bool:
    """``x.joblib``, ``x.pkl``, ``x.pkl.gz``: a name a pickle loader decompresses."""
    suffix = suffix_of(path)
    if suffix in PICKLE_SUFFIXES:
        return True
    return suffix in COMPRESSION_SUFFIXES and suffix_of(path[: -len(suffix)]) in PICKLE_SUFFIXES


# Opcodes a pickle can start with (they push onto an empty stack).
_PICKLE_FIRST = frozenset(b"(c}])NILFSVUTXBCKJMGP\x80\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x95\x96")


def _parses_as_pickle(head: bytes, *, needs_import: bool) -> bool:
    """The head reads as pickle opcodes up to where it was cut (trial walk, never loaded).

    With ``needs_import`` (names that do not say pickle) it must also import
    something: raw data rarely parses, and never names a callable.
    """
    if not head or head[0] not in _PICKLE_FIRST:
        return False
    from .analyzers.pickle import ran_out_of_data, scan_pickle

    scan = scan_pickle(head)
    if scan.error is None:
        return bool(scan.imports) or not needs_import
    if not ran_out_of_data(scan):
        return False
    # cut short: a name that says pickle is enough; others must fill the sniffed head
    return not needs_import or (bool(scan.imports) and len(head) >= SNIFF_BYTES)


def _looks_binary_magic(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"\x80", b"\x93NUMPY", b"GGUF", b"\x89HDF"))


def _is_pickle_head(head: bytes) -> bool:
    # PROTO opcode then a protocol number we know; protocol 2+ always starts so.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _is_protocol0_pickle(head: bytes) -> bool:
    # Protocol 0/1 pickles start with a mark, a global, or a container opcode.
    return head[:1] in (b"(", b"c", b"}", b"]", b"N", b"I", b"S", b"V", b"\x80")


def _is_binary_protocol1_pickle(head: bytes) -> bool:
    # Python 2 binary pickles have no PROTO: a container then a memo PUT/MARK,
    # or a GLOBAL naming a module line and a name line.
    if head[:1] in (b"}", b"]") and head[1:2] in (b"q", b"(", b"r", b"."):
        return True
    return re.match(rb"c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n", head) is not None


def _is_safetensors_head(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"
