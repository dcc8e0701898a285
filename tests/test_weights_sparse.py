"""Large files without a file descriptor (hub range streams) are scanned from a sparse image.

The stream below counts the bytes read, like a remote store does: a big
checkpoint must cost its directory and pickles, not its tensors.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import pickle_samples as ps
from loadguard.analyzers.containers import READ_WHOLE_BYTES, analyze_container
from loadguard.limits import DEFAULT_LIMITS, MiB
from loadguard.model import FileKind, Severity

TENSORS = 64 * MiB


class CountingStream(io.RawIOBase):
    """A seekable stream with no fileno that counts what it serves."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self.served = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._data)}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        chunk = self._data[self._pos : self._pos + len(target)]
        target[: len(chunk)] = chunk
        self._pos += len(chunk)
        self.served += len(chunk)
        return len(chunk)


def _scan(data: bytes, kind: FileKind) -> tuple[list[object], list[object], CountingStream]:
    stream = CountingStream(data)
    findings, errors = analyze_container(
        "model.bin", io.BufferedReader(stream, 65536), kind, limits=DEFAULT_LIMITS, size=len(data)
    )
    return findings, errors, stream


def _critical(findings: list[object]) -> bool:
    return any(getattr(f, "severity", None) is Severity.CRITICAL for f in findings)


def test_big_torch_zip_costs_its_directory_and_pickle() -> None:
    data = ps.torch_zip(ps.os_system(), extra={"archive/data/2": b"\x00" * TENSORS})
    assert len(data) > READ_WHOLE_BYTES
    findings, errors, stream = _scan(data, FileKind.TORCH_ZIP)
    assert _critical(findings) and not errors
    assert stream.served < 1 * MiB, stream.served


def test_big_legacy_torch_file_stops_after_its_pickles() -> None:
    # storage bytes that read like a pickle opcode with a long argument ('c' GLOBAL)
    data = ps.legacy_torch(ps.os_system()) + b"c" + b"\x01" * TENSORS
    findings, _, stream = _scan(data, FileKind.TORCH_LEGACY)
    assert _critical(findings)
    assert stream.served < 2 * MiB, stream.served


def test_pickle_longer_than_the_first_prefix_is_followed_to_its_end() -> None:
    padding = pickle.dumps(b"\x01" * (3 * MiB), protocol=4)[2:-1]  # a long bytes value
    data = b"\x80\x04" + padding + b"0" + ps.os_system()[2:] + b"\x00" * TENSORS
    findings, _, stream = _scan(data, FileKind.PICKLE)
    assert _critical(findings)
    assert stream.served < 16 * MiB, stream.served


def test_npz_reads_object_arrays_only() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("weights.npy", ps.npy("<f4", b"\x00" * TENSORS, shape=f"({TENSORS // 4},)"))
        zf.writestr("labels.npy", ps.npy("|O", ps.os_system()))
    findings, _, stream = _scan(out.getvalue(), FileKind.NUMPY_ZIP)
    assert _critical(findings)
    assert stream.served < 1 * MiB, stream.served


def test_truncated_remote_pickle_is_a_finding_not_a_crash() -> None:
    data = ps.os_system()[:-1] + b"\x00" * (READ_WHOLE_BYTES + 1)  # no STOP, then zeros
    findings, _, _ = _scan(data, FileKind.PICKLE)
    assert findings  # malformed or denied call, reported either way


def test_small_streams_are_still_read_whole() -> None:
    data = ps.torch_zip(ps.os_system())
    findings, _, stream = _scan(data, FileKind.TORCH_ZIP)
    assert _critical(findings) and stream.served >= len(data)


def test_directory_pointing_past_the_end_is_reported_not_raised() -> None:
    # found by fuzz/run.py torch_zip: a central directory entry whose local-header
    # offset lies beyond the file made the sparse reader raise struct.error
    from loadguard.analyzers import containers

    data = bytearray(ps.torch_zip(ps.os_system()))
    directory = data.find(b"PK\x01\x02")  # the first entry: archive/data.pkl
    data[directory + 42 : directory + 46] = (0x5D000000).to_bytes(4, "little")
    saved = containers.READ_WHOLE_BYTES
    containers.READ_WHOLE_BYTES = 0  # the sparse path, as for a remote file
    try:
        findings, _, _ = _scan(bytes(data), FileKind.TORCH_ZIP)
    finally:
        containers.READ_WHOLE_BYTES = saved
    assert any(getattr(f, "rule_id", "").startswith("LG-ZIP") for f in findings)


def test_remote_npz_member_without_npy_name_is_read_by_its_magic() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("weights", ps.npy("<f4", b"\x00" * TENSORS))  # numeric: never read
        zf.writestr("arr_1", ps.npy("|O", ps.os_system()))
    data = out.getvalue()
    assert len(data) > READ_WHOLE_BYTES
    findings, errors, stream = _scan(data, FileKind.ZIP)
    assert not errors and _critical(findings)
    assert stream.served < 8 * MiB
