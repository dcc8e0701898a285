"""Containers that carry pickles: torch zip and legacy checkpoints, joblib, numpy, zips.

Only what a loader would unpickle is read: the zip central directory and the
pickle members (``*/data.pkl``, ``constants.pkl``, any other ``.pkl``), never
tensor storages; the pickles of a legacy torch stream, not the raw storage
bytes after them; numpy headers, and the data only of object arrays. Files
are memory-mapped, so a 10 GB checkpoint costs its directory and pickles.

Container problems (``../`` members, duplicates, bombs, polyglots, truncated
headers) are findings: a loader may still open what the scanner refuses.
"""

from __future__ import annotations

import dataclasses
import io
import mmap
import os
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from ..limits import Limits, MiB
from ..model import Confidence, FileKind, Finding, Location, ScanError, Severity
from ..zipdir import Member, ZipDirectoryError, zip_members
from .pickle import (
    ANALYZER,
    LEGACY_MAGIC,
    PickleScan,
    findings_for_scans,
    joblib_hidden_findings,
    reads_as_pickle,
    scan_pickle,
    scan_pickles,
)

RULE_ZIP_TRAVERSAL = "LG-ZIP-001"
RULE_ZIP_DUPLICATE = "LG-ZIP-002"
RULE_ZIP_BOMB = "LG-ZIP-003"
RULE_ZIP_MALFORMED = "LG-ZIP-004"
RULE_POLYGLOT = "LG-ZIP-005"
RULE_NPY_OBJECT = "LG-NPY-001"
RULE_NPY_MALFORMED = "LG-NPY-002"
RULE_COMPRESSED = "LG-PKL-012"  # compressed pickle: bomb or undecodable

CWE_TRAVERSAL = "CWE-22"
CWE_BOMB = "CWE-409"
PICKLE_MEMBER_SUFFIXES = (".pkl", ".pickle")
ZIP_STORED, ZIP_DEFLATED = 0, 8  # compression methods (zipfile's constants, not its import)
NPY_MAX_HEADER = 10_000  # numpy's own default ``max_header_size``
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")

Out = tuple[list[Finding], list[ScanError]]
# Told the pickle scans of each top-level pickle: (zip member name, or "" for the file).
ScansSeen = Callable[[str, tuple[PickleScan, ...]], None]


def analyze_container(
    path: str,
    stream: BinaryIO,
    kind: FileKind,
    *,
    limits: Limits,
    size: int | None = None,
    seen: ScansSeen | None = None,
) -> Out:
    """Findings for one pickle-bearing file, dispatched on its (magic-byte) kind."""
    findings: list[Finding] = []
    errors: list[ScanError] = []
    with mapped(stream, size, limits) as buf:
        if buf is None:
            errors.append(
                ScanError(
                    path, ANALYZER, "file too large to read without a file handle", "too-large"
                )
            )
            return findings, errors
        if kind in (FileKind.TORCH_ZIP, FileKind.NUMPY_ZIP, FileKind.ZIP, FileKind.KERAS):
            # np.load reads an .npz member as an array by its magic, whatever its name
            sniff = kind in (FileKind.NUMPY_ZIP, FileKind.ZIP)
            findings += scan_zip(path, buf, limits=limits, seen=seen, sniff_npy=sniff)
        elif kind is FileKind.TAR:
            findings += scan_torch_tar(path, buf, limits=limits)
        elif kind is FileKind.TORCH_LEGACY:
            scans = scan_pickles(buf, limits=limits, count=5)
            if seen is not None:
                seen("", scans)
            findings += findings_for_scans(path, scans)
        elif kind is FileKind.NUMPY:
            findings += scan_npy(path, buf, 0, len(buf), limits=limits)
        elif kind is FileKind.JOBLIB and _compression(buf) is not None:
            f2, e2 = scan_compressed(path, stream, buf, limits=limits)
            findings += f2
            errors += e2
        else:  # PICKLE, uncompressed JOBLIB
            scans = scan_pickles(buf, limits=limits)
            if seen is not None:
                seen("", scans)
            findings += findings_for_scans(path, scans)
            findings += joblib_hidden_findings(path, buf, scans, limits=limits)
            findings += polyglot_check(path, buf, limits=limits)
    return findings, errors


# --------------------------------------------------------------------------- buffers


# Streams without a file descriptor (remote range streams) up to this size are read
# whole; larger ones become a sparse image holding only what the scanners read.
READ_WHOLE_BYTES = 4 * MiB


@contextmanager
def mapped(stream: BinaryIO, size: int | None, limits: Limits) -> Iterator[Any]:
    """The file as a read-only buffer with the real file's offsets (None: cannot be read).

    A local file is memory-mapped; a small stream is read whole; a large stream
    becomes a sparse image (``sparse.py``) holding its directories and pickles.
    """
    try:
        fileno = stream.fileno()
    except (OSError, AttributeError, io.UnsupportedOperation):
        fileno = -1
    if fileno >= 0:
        try:
            mm = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # empty files cannot be mapped
            mm = None
        if mm is not None:
            try:
                yield mm
            finally:
                mm.close()
            return
    if size is None:
        size = stream.seek(0, io.SEEK_END)
    if size > READ_WHOLE_BYTES:
        from .sparse import SparseImageError, sparse_image

        try:
            with sparse_image(stream, size, limits) as image:
                yield image
            return
        except SparseImageError:
            yield None
            return
    stream.seek(0)
    data = stream.read(limits.max_pickle_bytes + 1)
    yield data if len(data) <= limits.max_pickle_bytes else None


def sniff_zip_kind(stream: BinaryIO, path: str) -> FileKind:
    from ..filekinds import _zip_subtype, suffix_of

    size = stream.seek(0, io.SEEK_END)
    return _zip_subtype(stream, suffix_of(path), size)


# --------------------------------------------------------------------------- zip


def _finding(
    rule: str,
    path: str,
    message: str,
    severity: Severity,
    cwe: tuple[str, ...],
    *,
    offset: int | None = None,
    snippet: str = "",
    confidence: Confidence = Confidence.HIGH,
    evidence: tuple[str, ...] = (),
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


def scan_zip(
    path: str,
    buf: Any,
    *,
    limits: Limits,
    depth: int = 0,
    seen: ScansSeen | None = None,
    sniff_npy: bool = False,
) -> list[Finding]:
    """Findings for the pickle and ``.npy`` members (with ``sniff_npy``, any NUMPY-magic one)."""
    findings: list[Finding] = []
    try:
        members = zip_members(buf)
    except (
        ZipDirectoryError,
        struct.error,
        OSError,
        ValueError,
        EOFError,
        KeyError,
    ) as exc:
        return [
            _finding(
                RULE_ZIP_MALFORMED,
                path,
                f"unreadable zip directory: {exc}. Loaders with other zip readers may still "
                "open it (fail closed)",
                Severity.MEDIUM,
                ("CWE-20",),
                snippet="zip-directory",
            )
        ]
    if len(members) > limits.max_archive_members:
        findings.append(
            _finding(
                RULE_ZIP_BOMB,
                path,
                f"{len(members)} zip members, more than {limits.max_archive_members}; "
                "only the first ones were checked",
                Severity.MEDIUM,
                (CWE_BOMB,),
                snippet="member-count",
            )
        )
        members = members[: limits.max_archive_members]
    findings += _zip_name_checks(path, members)
    total = sum(m.size for m in members)
    if total > limits.max_archive_total_bytes:
        findings.append(
            _finding(
                RULE_ZIP_BOMB,
                path,
                f"zip declares {total} uncompressed bytes, more than "
                f"{limits.max_archive_total_bytes}",
                Severity.MEDIUM,
                (CWE_BOMB,),
                snippet="total-size",
            )
        )
    for member in members:
        lower = member.name.lower()
        is_pickle = lower.endswith(PICKLE_MEMBER_SUFFIXES)
        head = b"" if is_pickle or lower.endswith(".npy") else _member_head(buf, member, 6)
        is_npy = lower.endswith(".npy") or (sniff_npy and head == b"\x93NUMPY")
        if not (is_pickle or is_npy):
            if _PROTO_HEAD.match(head):
                findings += _hidden_pickle(path, buf, member, limits, depth)
            continue  # tensor storages and other data are never read
        where = f"{path}!{member.name}"
        if seen is not None and is_pickle:
            seen(member.name, ())  # replaced below once the member is read
        bomb = _bomb(member, limits)
        if bomb is not None:
            # a loader inflates it anyway: the first max_pickle_bytes are still read
            bomb = bomb.replace("; not read", "; its first bytes were scanned")
            findings.append(
                _finding(RULE_ZIP_BOMB, where, bomb, Severity.MEDIUM, (CWE_BOMB,), snippet="ratio")
            )
        mismatch = local_name_mismatch(buf, member)
        if mismatch is not None:
            findings.append(
                _finding(
                    RULE_ZIP_MALFORMED,
                    where,
                    f"zip member names disagree: {mismatch}; zip readers differ on which "
                    "to trust, scanned by the directory's name (as PyTorch reads it)",
                    Severity.MEDIUM,
                    ("CWE-20", "CWE-436"),
                    snippet="local-name",
                )
            )
        try:
            data, lo, hi = member_data(buf, member, limits, partial=bomb is not None)
        except _MemberError as exc:
            findings.append(
                _finding(
                    RULE_ZIP_MALFORMED,
                    where,
                    f"cannot read zip member: {exc} (fail closed)",
                    Severity.MEDIUM,
                    ("CWE-20",),
                    snippet="member",
                )
            )
            continue
        if is_npy:
            member_findings = scan_npy(where, data, lo, hi, limits=limits, depth=depth)
        else:
            scans = scan_pickles(data, lo, hi, limits=limits, depth=depth)
            if seen is not None:
                seen(member.name, scans)
            member_findings = findings_for_scans(where, scans)
        findings += [_shift(f, lo) for f in member_findings]
    return findings


_PROTO_HEAD = re.compile(rb"\x80[\x02-\x05]")
HIDDEN_MEMBER_BYTES = 16 * MiB


def _hidden_pickle(
    path: str, buf: Any, member: Member, limits: Limits, depth: int
) -> list[Finding]:
    """A member not named as a pickle that starts like one: staged for custom loader code.

    torch.load and np.load never unpickle it; a loader in the repository can.
    Reported only when it reads as a pickle (tensor bytes that merely start with
    PROTO stop at their first invalid opcode and name nothing).
    """
    if member.size > HIDDEN_MEMBER_BYTES or _bomb(member, limits) is not None:
        return []
    try:
        data, lo, hi = member_data(buf, member, limits)
    except _MemberError:
        return []
    scans = scan_pickles(data, lo, hi, limits=limits, depth=depth)
    if not scans or not reads_as_pickle(scans[0]) or not scans[0].imports:
        return []
    context = "zip member not named as a pickle (torch.load does not read it; repo code may): "
    found = findings_for_scans(f"{path}!{member.name}", scans, context=context)
    return [_shift(f, lo) for f in found]


def scan_zip_bytes(data: bytes, *, limits: Limits, depth: int) -> tuple[PickleScan, ...]:
    """Pickle scans of the pickle members of an in-memory zip (a nested torch save)."""
    scans: list[PickleScan] = []
    try:
        members = zip_members(data)
    except (ValueError, struct.error) as exc:
        return (PickleScan(0, 0, 0, 0, error=f"nested zip unreadable: {exc}", error_offset=0),)
    for member in members[: limits.max_archive_members]:
        if not member.name.lower().endswith(PICKLE_MEMBER_SUFFIXES):
            continue
        try:  # a bomb is read up to the cap, as in scan_zip
            buf, lo, hi = member_data(
                data, member, limits, partial=_bomb(member, limits) is not None
            )
        except _MemberError as exc:
            scans.append(PickleScan(0, 0, 0, 0, error=str(exc), error_offset=member.header_offset))
            continue
        scans.extend(scan_pickles(buf, lo, hi, limits=limits, depth=depth))
    return tuple(scans)


def _shift(finding: Finding, base: int) -> Finding:
    if finding.location.offset is None or base == 0:
        return finding
    loc = dataclasses.replace(finding.location, offset=max(0, finding.location.offset - base))
    return dataclasses.replace(finding, location=loc)


def _zip_name_checks(path: str, members: list[Member]) -> list[Finding]:
    out: list[Finding] = []
    for member in members:
        name = member.name
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            out.append(
                _finding(
                    RULE_ZIP_TRAVERSAL,
                    f"{path}!{name}",
                    f"zip member name leaves the extraction folder: {name!r}",
                    Severity.MEDIUM,
                    (CWE_TRAVERSAL,),
                    snippet=name,
                )
            )
    counts = Counter(m.name for m in members)
    for name, count in counts.items():
        if count > 1:
            out.append(
                _finding(
                    RULE_ZIP_DUPLICATE,
                    f"{path}!{name}",
                    f"zip member {name!r} appears {count} times: loaders and scanners may read "
                    "different copies (all copies were scanned)",
                    Severity.MEDIUM,
                    ("CWE-436",),
                    snippet=name,
                )
            )
    return out


def _bomb(member: Member, limits: Limits) -> str | None:
    if member.size > limits.max_archive_member_bytes:
        return (
            f"zip member declares {member.size} bytes, more than "
            f"{limits.max_archive_member_bytes} (possible zip bomb); not read"
        )
    if member.method != ZIP_STORED and member.compressed > 0:
        ratio = member.size / member.compressed
        if ratio > limits.max_archive_ratio:
            return (
                f"zip member expands {ratio:.0f}x ({member.compressed} -> {member.size} bytes), "
                f"more than {limits.max_archive_ratio}x (zip bomb); not read"
            )
    return None


class _MemberError(ValueError):
    pass


def _member_head(buf: Any, member: Member, n: int) -> bytes:
    """The first ``n`` bytes of a stored or deflated member (b"" when unreadable)."""
    start = member.header_offset
    header = bytes(buf[start : start + _LOCAL_HEADER.size])
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        return b""
    fields = _LOCAL_HEADER.unpack(header)
    data_start = start + _LOCAL_HEADER.size + fields[9] + fields[10]
    raw = bytes(buf[data_start : data_start + min(member.compressed, 1024)])
    if member.method == ZIP_STORED:
        return raw[:n]
    if member.method == ZIP_DEFLATED:
        import zlib

        try:
            return zlib.decompressobj(-15).decompress(raw, n)
        except zlib.error:
            return b""
    return b""


def local_name_mismatch(buf: Any, member: Member) -> str | None:
    """How the member's local header name disagrees with the directory's, if it does."""
    start = member.header_offset
    header = bytes(buf[start : start + _LOCAL_HEADER.size])
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        return None  # member_data reports the missing header
    name_len = _LOCAL_HEADER.unpack(header)[9]
    local_name = bytes(buf[start + _LOCAL_HEADER.size : start + _LOCAL_HEADER.size + name_len])
    if member.name in (
        local_name.decode("utf-8", "replace"),
        local_name.decode("cp437", "replace"),
    ):
        return None
    return f"local header names {local_name[:80]!r}, the directory names {member.name!r}"


def member_data(
    buf: Any, member: Member, limits: Limits, *, partial: bool = False
) -> tuple[Any, int, int]:
    """(buffer, start, end) of a member's bytes: a view into ``buf`` when stored.

    The local header is read directly (as PyTorch's reader does), so flag-bit
    tricks that make ``zipfile`` refuse a member do not hide it, and its name
    is not trusted: readers find members by the central directory (PyTorch's
    reader never compares the local name), so a disagreeing local name does
    not hide the data either (``local_name_mismatch`` reports it). With
    ``partial``, a deflated member larger than ``max_pickle_bytes`` yields its
    first ``max_pickle_bytes`` instead of an error.
    """
    start = member.header_offset
    header = bytes(buf[start : start + _LOCAL_HEADER.size])
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise _MemberError(f"no local header at offset {start}")
    fields = _LOCAL_HEADER.unpack(header)
    name_len, extra_len = fields[9], fields[10]
    data_start = start + _LOCAL_HEADER.size + name_len + extra_len
    data_end = data_start + member.compressed
    if data_end > len(buf):
        raise _MemberError("member data runs past the end of the file (truncated)")
    if member.method == ZIP_STORED:
        if member.size > limits.max_pickle_bytes and not isinstance(buf, mmap.mmap):
            raise _MemberError(f"member larger than {limits.max_pickle_bytes} bytes")
        return buf, data_start, data_start + min(member.size, member.compressed)
    if member.method == ZIP_DEFLATED:
        import zlib

        inflater = zlib.decompressobj(-15)
        cap = limits.max_pickle_bytes if partial else min(member.size, limits.max_pickle_bytes)
        out = bytearray()
        pos = data_start
        try:
            while pos < data_end and len(out) <= cap:
                chunk = bytes(buf[pos : min(pos + (1 << 20), data_end)])
                pos += len(chunk)
                out += inflater.decompress(chunk, cap + 1 - len(out))
                if inflater.unconsumed_tail:
                    break
        except zlib.error as exc:
            raise _MemberError(f"deflate data is corrupt: {exc}") from None
        if len(out) > cap:
            if not partial:
                raise _MemberError(f"member inflates past {cap} bytes (limit)")
            del out[cap:]
        data = bytes(out)
        return data, 0, len(data)
    # bzip2/lzma members: let zipfile decode them, bounded.
    import zipfile

    try:
        with zipfile.ZipFile(_BufferFile(buf)) as zf, zf.open(member.name) as fh:
            data = fh.read(limits.max_pickle_bytes + 1)
    except (
        zipfile.BadZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        EOFError,
        ValueError,
    ) as exc:
        raise _MemberError(f"compression method {member.method}: {exc}") from None
    if len(data) > limits.max_pickle_bytes:
        raise _MemberError(f"member larger than {limits.max_pickle_bytes} bytes")
    return data, 0, len(data)


class _BufferFile(io.RawIOBase):
    """A read-only seekable file over an mmap or bytes (for ``zipfile``)."""

    def __init__(self, buf: Any) -> None:
        self._buf = buf
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._buf)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, target: Any) -> int:
        chunk = self._buf[self._pos : self._pos + len(target)]
        n = len(chunk)
        target[:n] = chunk
        self._pos += n
        return n


def polyglot_check(path: str, buf: Any, *, limits: Limits) -> list[Finding]:
    """A pickle that is also a zip: zip readers and ``pickle.load`` see different content."""
    size = len(buf)
    if size < 22:
        return []
    tail_start = max(0, size - 65_557)
    if buf.find(b"PK\x05\x06", tail_start) < 0:
        return []
    try:
        members = zip_members(buf)
    except (ValueError, struct.error):
        return []
    findings = [
        _finding(
            RULE_POLYGLOT,
            path,
            f"file is both a pickle and a zip archive ({len(members)} members): loaders that "
            "check for zip (torch.load's zip reader, zipfile) and pickle.load see different "
            "content; both were scanned",
            Severity.MEDIUM,
            ("CWE-436",),
            snippet="pickle+zip",
        )
    ]
    return findings + scan_zip(path, buf, limits=limits)


# --------------------------------------------------------------------------- torch tar (< 1.0)

_STORAGE_ELEMENT_SIZE = {
    "Double": 8,
    "Float": 4,
    "Half": 2,
    "BFloat16": 2,
    "Long": 8,
    "Int": 4,
    "Short": 2,
    "Char": 1,
    "Byte": 1,
    "Bool": 1,
    "ComplexFloat": 8,
    "ComplexDouble": 16,
}
TAR_RECORDS = ("storages", "tensors", "pickle")


def scan_torch_tar(path: str, buf: Any, *, limits: Limits) -> list[Finding]:
    """torch's oldest format: a tar of ``storages``, ``tensors`` and ``pickle``.

    ``storages`` and ``tensors`` interleave pickles with raw bytes; every
    pickle ``torch.load`` would read is walked, the raw bytes skipped.
    Other tars (datasets) are left alone.
    """
    import tarfile

    try:
        members: dict[str, tarfile.TarInfo] = {}
        with tarfile.open(fileobj=_BufferFile(buf), mode="r:") as tar:
            for seen, member in enumerate(tar):  # headers only, bounded
                if member.isfile() and member.name in (*TAR_RECORDS, "sys_info"):
                    members[member.name] = member  # torch extracts by name: the last copy wins
                if seen >= limits.max_archive_members:
                    break
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return []
    if not all(name in members for name in TAR_RECORDS):
        return []
    findings: list[Finding] = []
    for name in TAR_RECORDS:
        member = members[name]
        lo = member.offset_data
        hi = min(lo + member.size, len(buf))
        where = f"{path}!{name}"
        if name == "pickle":
            scans: tuple[PickleScan, ...] = (scan_pickle(buf, lo, hi, limits=limits),)
        else:
            scans = _interleaved(buf, lo, hi, name, limits)
        findings += [_shift(f, lo) for f in findings_for_scans(where, scans)]
    return findings


def _interleaved(buf: Any, lo: int, hi: int, record: str, limits: Limits) -> tuple[PickleScan, ...]:
    first = scan_pickle(buf, lo, hi, limits=limits)
    scans = [first]
    count = first.result_int
    if first.error is not None or count is None:
        return tuple(scans)
    pos = first.end
    for _ in range(min(max(count, 0), limits.max_archive_members)):
        scan = scan_pickle(buf, pos, hi, limits=limits)
        scans.append(scan)
        if scan.error is not None:
            return tuple(scans)
        pos = scan.end
        try:
            if record == "storages":
                storage = next(
                    (i.name for i in scan.imports if i.name.endswith("Storage")), ""
                ).removesuffix("Storage")
                size = _STORAGE_ELEMENT_SIZE[storage]
                (numel,) = struct.unpack_from("<q", buf, pos)
                pos += 8 + numel * size
            else:
                (ndim,) = struct.unpack_from("<i", buf, pos)
                pos += 8 + 16 * ndim + 8
        except (KeyError, struct.error):
            scans.append(_stuck(pos, f"cannot size the raw {record} data that follows"))
            return tuple(scans)
        if pos > hi or pos < lo:
            scans.append(_stuck(hi, f"raw {record} data runs past the record"))
            return tuple(scans)
    if record == "storages" and pos < hi:  # the storage views list
        scans.append(scan_pickle(buf, pos, hi, limits=limits))
    return tuple(scans)


def _stuck(offset: int, message: str) -> PickleScan:
    return PickleScan(offset, offset, 0, 0, error=message, error_offset=offset)


# --------------------------------------------------------------------------- numpy


def parse_npy_header(buf: Any, start: int, end: int) -> tuple[dict[str, Any], int]:
    """The header dict and the data offset; raises ``ValueError`` on malformed headers."""
    if bytes(buf[start : start + 6]) != b"\x93NUMPY":
        raise ValueError("no NUMPY magic")
    if start + 10 > end:
        raise ValueError("truncated header")
    major = buf[start + 6]
    if major == 1:
        (length,) = struct.unpack_from("<H", buf, start + 8)
        header_start = start + 10
    elif major in (2, 3):
        if start + 12 > end:
            raise ValueError("truncated header")
        (length,) = struct.unpack_from("<I", buf, start + 8)
        header_start = start + 12
    else:
        raise ValueError(f"unknown format version {major}")
    if length > NPY_MAX_HEADER:
        raise ValueError(f"header of {length} bytes exceeds max_header_size {NPY_MAX_HEADER}")
    if header_start + length > end:
        raise ValueError("header runs past the end of the file")
    raw = bytes(buf[header_start : header_start + length])
    text = raw.decode("utf-8" if major == 3 else "latin-1")
    import ast

    try:
        header = ast.literal_eval(text)  # literals only: never evaluates code
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError) as exc:
        raise ValueError(f"header is not a Python literal: {exc}") from None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise ValueError("header lacks descr/fortran_order/shape")
    return header, header_start + length


def _has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("|<>=").startswith("O")
    if isinstance(descr, (list, tuple)):
        return any(_has_object(part) for part in descr)
    return False


def scan_npy(
    path: str, buf: Any, start: int, end: int, *, limits: Limits, depth: int = 0
) -> list[Finding]:
    try:
        header, data_start = parse_npy_header(buf, start, end)
    except ValueError as exc:
        return [
            _finding(
                RULE_NPY_MALFORMED,
                path,
                f"malformed .npy header: {exc}",
                Severity.MEDIUM,
                ("CWE-20",),
                offset=start,
                snippet="npy-header",
            )
        ]
    if not _has_object(header.get("descr")):
        return []  # plain numbers: the data is never read
    findings = [
        _finding(
            RULE_NPY_OBJECT,
            path,
            f"object-dtype array (descr {header.get('descr')!r}): its data is a pickle, "
            "unpickled by np.load(allow_pickle=True)",
            Severity.LOW,
            ("CWE-502",),
            offset=start,
            snippet="object-dtype",
        )
    ]
    scan = scan_pickle(buf, data_start, end, limits=limits, depth=depth)
    return findings + findings_for_scans(path, (scan,))


# --------------------------------------------------------------------------- compressed joblib

_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x78\x01", "zlib"),
    (b"\x78\x5e", "zlib"),
    (b"\x78\x9c", "zlib"),
    (b"\x78\xda", "zlib"),
)


def _compression(buf: Any) -> str | None:
    head = bytes(buf[:6])
    return next((name for magic, name in _MAGICS if head.startswith(magic)), None)


def _decompressor(kind: str) -> Callable[[bytes, int], bytes] | None:
    import zlib

    if kind in ("gzip", "zlib"):
        obj = zlib.decompressobj(16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS)
        return lambda data, cap: b"" if obj.eof else obj.decompress(obj.unconsumed_tail + data, cap)
    if kind == "bz2":
        import bz2

        bzo = bz2.BZ2Decompressor()
        return lambda data, cap: b"" if bzo.eof else bzo.decompress(data, cap)
    if kind in ("xz", "lzma"):
        import lzma

        lzo = lzma.LZMADecompressor(lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE)
        return lambda data, cap: b"" if lzo.eof else lzo.decompress(data, cap)
    try:
        import lz4.frame
    except ImportError:
        return None
    lz = lz4.frame.LZ4FrameDecompressor()
    return lambda data, cap: b"" if lz.eof else bytes(lz.decompress(data, cap))


def _scratch_file() -> BinaryIO:
    """An anonymous file for decompressed bytes: memfd on Linux (no path), else a temp file."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("loadguard-decompressed"), "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def scan_compressed(path: str, stream: BinaryIO, buf: Any, *, limits: Limits) -> Out:
    """A compressed joblib/pickle: decompress to a temp file with an output cap, then scan."""
    kind = _compression(buf) or "?"
    decompress = _decompressor(kind)
    if decompress is None:
        return [], [
            ScanError(
                path, ANALYZER, f"{kind}-compressed pickle: install lz4 to scan it", "missing-extra"
            )
        ]
    cap = limits.max_archive_member_bytes
    size = len(buf)
    written = 0
    problem: str | None = None
    with _scratch_file() as tmp:
        pos = 0
        try:
            while pos < size:
                chunk = bytes(buf[pos : pos + (1 << 20)])
                pos += len(chunk)
                step = 1 << 22  # bounded output per call: memory stays flat
                out = decompress(chunk, min(step, cap + 1 - written))
                # drain what the cap held back
                while out:
                    tmp.write(out)
                    written += len(out)
                    if written > cap:
                        break
                    if written > limits.max_archive_ratio * max(pos, 1 << 16):
                        break
                    out = decompress(b"", min(step, cap + 1 - written))
                if written > cap:
                    problem = f"decompresses past {cap} bytes (limit)"
                    break
                if written > limits.max_archive_ratio * max(pos, 1 << 16):
                    problem = f"expands more than {limits.max_archive_ratio}x (compression bomb)"
                    break
        except (OSError, EOFError, ValueError, RuntimeError) as exc:
            problem = f"compressed data is corrupt: {exc}"
        except Exception as exc:  # zlib.error, lzma.LZMAError, lz4 errors share no base
            problem = f"compressed data is corrupt: {exc}"
        findings: list[Finding] = []
        if problem is not None:
            findings.append(
                _finding(
                    RULE_COMPRESSED,
                    path,
                    f"{kind}-compressed pickle {problem}; scanned what was decompressed",
                    Severity.MEDIUM,
                    (CWE_BOMB,),
                    snippet=kind,
                )
            )
        if written == 0:
            return findings, []
        tmp.flush()
        with mmap.mmap(tmp.fileno(), 0, access=mmap.ACCESS_READ) as inner:
            scans = scan_pickles(inner, limits=limits)
            inner_findings = findings_for_scans(path, scans)
            inner_findings += joblib_hidden_findings(path, inner, scans, limits=limits)
            findings += [
                dataclasses.replace(
                    f, location=dataclasses.replace(f.location, path=f"{path}!{kind}")
                )
                for f in inner_findings
            ]
    return findings, []


__all__ = [
    "LEGACY_MAGIC",
    "analyze_container",
    "mapped",
    "parse_npy_header",
    "scan_compressed",
    "scan_npy",
    "scan_zip",
    "scan_zip_bytes",
    "sniff_zip_kind",
]
