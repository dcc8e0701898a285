"""The ZIP central directory, read as PyTorch's reader reads it; no ``zipfile``.

``zipfile`` refuses archives over details (a "version needed" it does not
know, flag bits) that PyTorch's reader ignores, and a refusal must not hide a
pickle or turn a checkpoint into an unknown zip. ZIP64 and bytes prepended to
the archive (self-extractors, pickle+zip polyglots) are handled. Nothing is
extracted here; members are read by ``analyzers.containers``.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO, NamedTuple

from .limits import MiB

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_ZIP64_EXTRA = 0x0001
_UTF8_NAMES = 0x800

# The end records: EOCD with the longest comment, the ZIP64 locator and record.
ZIP_TAIL = 65_557 + _ZIP64_LOCATOR.size + _ZIP64_EOCD.size
MAX_CENTRAL_DIRECTORY = 64 * MiB  # ~500k members; larger claims are refused


class ZipDirectoryError(ValueError):
    pass


class Member(NamedTuple):
    name: str
    method: int
    compressed: int
    size: int
    header_offset: int
    flags: int


def zip_members(buf: Any) -> list[Member]:
    """Members from the central directory of a whole archive in ``buf`` (bytes or mmap)."""
    count, _, cd_offset, shift = _end_of_central_directory(buf)
    return _parse_directory(buf, cd_offset + shift, count, shift)


def stream_member_names(stream: BinaryIO, size: int) -> list[str]:
    """Member names of the archive in ``stream``: reads its tail and directory only.

    For remote streams this costs two range reads, like ``zipfile`` does.
    """
    tail_start = max(0, size - ZIP_TAIL)
    stream.seek(tail_start)
    tail = stream.read(size - tail_start)
    count, cd_size, cd_offset, shift = _end_of_central_directory(tail, base=tail_start)
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise ZipDirectoryError(f"central directory of {cd_size} bytes")
    stream.seek(cd_offset + shift)
    directory = stream.read(cd_size)
    return [m.name for m in _parse_directory(directory, 0, count, 0)]


def central_directory_range(buf: Any) -> tuple[int, int]:
    """(start, length) of the central directory, from the records at the end of ``buf``."""
    _, cd_size, cd_offset, shift = _end_of_central_directory(buf)
    return cd_offset + shift, cd_size


def _parse_directory(buf: Any, pos: int, count: int, shift: int) -> list[Member]:
    size = len(buf)
    members: list[Member] = []
    for _ in range(count):
        if pos + _CENTRAL.size > size or bytes(buf[pos : pos + 4]) != b"PK\x01\x02":
            raise ZipDirectoryError(f"bad central directory entry at offset {pos}")
        fields = _CENTRAL.unpack_from(buf, pos)
        flags, method = fields[3], fields[4]
        compressed, uncompressed = fields[8], fields[9]
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        offset = fields[16]
        name_at = pos + _CENTRAL.size
        raw_name = bytes(buf[name_at : name_at + name_len])
        name = raw_name.decode("utf-8" if flags & _UTF8_NAMES else "cp437", "replace")
        extra = bytes(buf[name_at + name_len : name_at + name_len + extra_len])
        uncompressed, compressed, offset = _zip64_sizes(extra, uncompressed, compressed, offset)
        members.append(Member(name, method, compressed, uncompressed, offset + shift, flags))
        pos = name_at + name_len + extra_len + comment_len
    return members


def _end_of_central_directory(buf: Any, *, base: int = 0) -> tuple[int, int, int, int]:
    """(member count, directory size, directory offset, shift) from the EOCD records.

    ``buf`` holds the file from offset ``base`` to its end; the shift (bytes
    prepended to the archive) is in file offsets.
    """
    size = len(buf)
    eocd = buf.rfind(b"PK\x05\x06", max(0, size - 65_557), size)
    if eocd < 0 or eocd + _EOCD.size > size:
        raise ZipDirectoryError("no end-of-central-directory record")
    _, _, _, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(buf, eocd)
    zip64_end = eocd
    locator = eocd - _ZIP64_LOCATOR.size
    if locator >= 0 and bytes(buf[locator : locator + 4]) == b"PK\x06\x07":
        record = locator - _ZIP64_EOCD.size  # the ZIP64 record sits right before its locator
        if record >= 0 and bytes(buf[record : record + 4]) == b"PK\x06\x06":
            fields = _ZIP64_EOCD.unpack_from(buf, record)
            count, cd_size, cd_offset = fields[7], fields[8], fields[9]
            zip64_end = record
    # bytes before the archive (self-extractors, polyglots) shift every offset
    shift = base + zip64_end - cd_size - cd_offset
    if shift < 0:
        raise ZipDirectoryError("central directory lies outside the file")
    return count, cd_size, cd_offset, shift


def _zip64_sizes(extra: bytes, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        if tag == _ZIP64_EXTRA:
            values = list(
                struct.unpack_from(f"<{min(length, len(extra) - at - 4) // 8}Q", extra, at + 4)
            )
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        at += 4 + length
    return size, compressed, offset
