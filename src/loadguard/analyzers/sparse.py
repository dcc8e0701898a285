"""A sparse on-disk image of a remote file: only the bytes the container scanners read.

Local files are memory-mapped, so scanning a 10 GB checkpoint touches its zip
directory and pickles and nothing else. A remote file (an HTTP range stream)
has no file descriptor to map, and reading it whole would download the
tensors. Instead the scanners get a *sparse image*: a temporary file of the
same size (holes cost no disk and read as zeros) into which only the regions
a scanner reads are copied, then memory-mapped. Offsets stay those of the real
file, so every scanner and every finding location works unchanged:

- zip (torch zip checkpoints, ``.npz``, Keras): the end-of-central-directory
  record, the central directory, and for each pickle member its local header
  and bytes (bounded by ``max_pickle_bytes``); ``.npy`` members get their
  header, and their data only when the dtype holds objects (a pickle); in
  zips without pickle members (not torch), every member's first bytes, then
  the rest of those that are arrays or pickles by their magic;
- pickle-like files (plain pickle, legacy torch, joblib, ``.npy``): a prefix
  that grows (1 MiB, x8) until every pickle stream in it ends before the
  prefix does, bounded by ``max_pickle_bytes``, plus the last 64 KiB
  (pickle+zip polyglots put their directory there);
- anything else: a prefix of ``max_pickle_bytes``.
"""

from __future__ import annotations

import mmap
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from ..limits import Limits, MiB
from ..zipdir import MAX_CENTRAL_DIRECTORY, ZIP_TAIL

PICKLE_TAIL = 64 * 1024
FIRST_PREFIX = 1 * MiB
LOCAL_HEADER_SLACK = 30 + 2 * 65_535  # fixed header + longest name + longest extra
NPY_HEAD = 64 * 1024


class SparseImageError(ValueError):
    """The remote file's structure cannot be read within the limits."""


class _Image:
    """The temporary file being filled, with the regions already copied."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size
        self.file = tempfile.TemporaryFile(prefix="loadguard-sparse-")
        self.file.truncate(size)
        self.copied: list[tuple[int, int]] = []
        self.map: mmap.mmap | None = None

    def copy(self, start: int, end: int) -> None:
        start, end = max(0, start), min(self.size, end)
        for lo, hi in self.copied:  # skip what is already there (regions only grow)
            if lo <= start and end <= hi:
                return
        self.stream.seek(start)
        self.file.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = self.stream.read(min(remaining, 4 * MiB))
            if not chunk:
                raise SparseImageError(f"the stream ended at offset {end - remaining}")
            self.file.write(chunk)
            remaining -= len(chunk)
        self.copied.append((start, end))
        self._ensure_map()

    def _ensure_map(self) -> None:
        # one shared mapping: later writes through the file show through it
        self.file.flush()
        if self.map is None:
            self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)

    def close(self) -> None:
        if self.map is not None:
            self.map.close()
        self.file.close()


@contextmanager
def sparse_image(stream: BinaryIO, size: int, limits: Limits) -> Iterator[Any]:
    """A read-only map of ``size`` bytes holding the regions the scanners need."""
    image = _Image(stream, size)
    try:
        stream.seek(0)
        head = stream.read(16)
        if head.startswith(b"PK\x03\x04") or _tail_has_eocd(image):
            _zip_regions(image, limits)
        else:
            _pickle_regions(image, head, limits)
        image.copy(0, min(size, 512))  # magic bytes and tar headers
        assert image.map is not None
        yield image.map
    finally:
        image.close()


def _tail_has_eocd(image: _Image) -> bool:
    image.copy(image.size - ZIP_TAIL, image.size)
    assert image.map is not None
    return image.map.rfind(b"PK\x05\x06", max(0, image.size - ZIP_TAIL)) >= 0


def _zip_regions(image: _Image, limits: Limits) -> None:
    from ..zipdir import central_directory_range, zip_members
    from .containers import PICKLE_MEMBER_SUFFIXES, _bomb, _member_head, parse_npy_header

    image.copy(image.size - ZIP_TAIL, image.size)
    assert image.map is not None
    try:
        start, length = central_directory_range(image.map)
    except (ValueError, struct.error):
        return  # the scanner reports the unreadable directory from the same bytes
    if length > MAX_CENTRAL_DIRECTORY:
        raise SparseImageError(f"central directory of {length} bytes")
    image.copy(start, start + length)
    try:
        members = zip_members(image.map)
    except (ValueError, struct.error):
        return
    members = members[: limits.max_archive_members]
    # np.load reads .npz members by their magic, whatever their names: outside
    # torch archives (no pickle members), every member's first bytes are fetched
    sniff = not any(m.name.lower().endswith(PICKLE_MEMBER_SUFFIXES) for m in members)
    for member in members:
        lower = member.name.lower()
        is_npy = lower.endswith(".npy")
        named = lower.endswith(PICKLE_MEMBER_SUFFIXES) or is_npy
        if not (named or sniff):
            continue
        if _bomb(member, limits) is not None and member.method == 0:
            continue  # stored and huge: only deflated bombs are read (up to the cap)
        header = member.header_offset
        if header < 0 or header + 30 > image.size:
            continue  # the directory points outside the file: the scanner reports it
        image.copy(header, header + 30)
        name_len, extra_len = struct.unpack_from("<HH", image.map, header + 26)
        data = header + 30 + name_len + extra_len
        image.copy(header, data)
        want = min(member.compressed, limits.max_pickle_bytes)
        if not named:
            image.copy(data, data + min(want, 1024))
            head = _member_head(image.map, member, 6)
            if head != b"\x93NUMPY" and not head.startswith(b"\x80"):
                continue  # neither an array nor a staged pickle
            is_npy = head == b"\x93NUMPY"
        if is_npy and member.method == 0:  # stored: read the header, then objects only
            image.copy(data, data + min(want, NPY_HEAD))
            try:
                npy, _ = parse_npy_header(image.map, data, data + min(want, NPY_HEAD))
            except ValueError:
                continue
            if "O" not in str(npy.get("descr")):
                continue
        image.copy(data, data + want)


def _pickle_regions(image: _Image, head: bytes, limits: Limits) -> None:
    from .containers import parse_npy_header
    from .pickle import LEGACY_MAGIC, ran_out_of_data, scan_pickles

    image.copy(image.size - PICKLE_TAIL, image.size)
    cap = min(image.size, limits.max_pickle_bytes)
    start = 0
    prefix = min(cap, FIRST_PREFIX)
    image.copy(0, prefix)
    assert image.map is not None
    if head.startswith(b"\x93NUMPY"):
        try:
            npy, start = parse_npy_header(image.map, 0, prefix)
        except ValueError:
            return
        if "O" not in str(npy.get("descr")):
            return  # numeric data: nothing is unpickled
    # torch's legacy format is five pickles, then raw storages that must not be walked
    count = 5 if head.startswith(LEGACY_MAGIC[:8]) else 8
    while prefix < cap:
        scans = scan_pickles(image.map, start, prefix, limits=limits, count=count)
        # grow while a pickle runs into the end of the prefix; stop at the first that ends
        if scans and not any(ran_out_of_data(s) for s in scans):
            return
        prefix = min(cap, prefix * 8)
        image.copy(0, prefix)
