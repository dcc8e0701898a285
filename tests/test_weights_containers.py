"""Containers: torch zip/legacy, numpy, joblib, zips (traversal, duplicates, bombs, polyglots)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

import pickle_samples as ps
from loadguard.analyzers.containers import (
    RULE_NPY_MALFORMED,
    RULE_NPY_OBJECT,
    RULE_POLYGLOT,
    RULE_ZIP_BOMB,
    RULE_ZIP_DUPLICATE,
    RULE_ZIP_MALFORMED,
    RULE_ZIP_TRAVERSAL,
    analyze_container,
    sniff_zip_kind,
)
from loadguard.analyzers.pickle import RULE_DENIED_CALL, RULE_MALFORMED
from loadguard.filekinds import classify_bytes
from loadguard.limits import Limits
from loadguard.model import FileKind, Finding, Severity


def scan(tmp_path: Path, name: str, data: bytes, limits: Limits | None = None) -> list[Finding]:
    path = tmp_path / name
    path.write_bytes(data)
    with open(path, "rb") as stream:
        kind = classify_bytes(name, data[:512], len(data))
        if kind is FileKind.ZIP:
            kind = sniff_zip_kind(stream, name)
        findings, errors = analyze_container(
            name, stream, kind, limits=limits or Limits(), size=len(data)
        )
    assert not errors, errors
    return findings


def worst(findings: list[Finding]) -> Severity:
    return max((f.severity for f in findings), default=Severity.INFO)


@pytest.mark.parametrize(
    "sample", [s for s in ps.SAMPLES if s.filename != "model.safetensors"], ids=lambda s: s.name
)
def test_labelled_samples(tmp_path: Path, sample: ps.Sample) -> None:
    got = scan(tmp_path, sample.filename, sample.build())
    if sample.malicious:
        floor = Severity.MEDIUM if sample.name == "ext-opcode" else Severity.HIGH
        assert worst(got) >= floor, got
    else:
        assert worst(got) <= Severity.LOW, got


def test_torch_zip_reads_only_pickle_members(tmp_path: Path) -> None:
    # data/0 starts like a pickle; reading it would be a false "malformed pickle"
    got = scan(tmp_path, "pytorch_model.bin", ps.torch_zip(ps.torch_like_state_dict()))
    assert got == []


def test_torch_zip_payload_location_names_the_member(tmp_path: Path) -> None:
    got = scan(tmp_path, "model.pt", ps.torch_zip(ps.os_system()))
    (finding,) = got
    assert finding.rule_id == RULE_DENIED_CALL
    assert finding.location.path == "model.pt!archive/data.pkl"
    assert finding.location.offset == 2  # relative to the member, after PROTO


def test_hidden_pickle_member_is_scanned(tmp_path: Path) -> None:
    got = scan(
        tmp_path,
        "m.pt",
        ps.torch_zip(ps.torch_like_state_dict(), extra={"archive/x/evil.pkl": ps.os_system()}),
    )
    assert [f.location.path for f in got] == ["m.pt!archive/x/evil.pkl"]


def test_legacy_reads_five_pickles_and_not_the_storages(tmp_path: Path) -> None:
    assert scan(tmp_path, "old.bin", ps.legacy_torch(ps.torch_like_state_dict())) == []
    got = scan(tmp_path, "old2.bin", ps.legacy_torch(ps.os_system()))
    assert worst(got) is Severity.CRITICAL


def test_traversal_and_duplicate_members(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", ps.torch_like_state_dict())
        zf.writestr("../../etc/evil.pkl", ps.os_system())
        with pytest.warns(UserWarning):
            zf.writestr("archive/data.pkl", ps.os_system())
    got = scan(tmp_path, "t.pt", out.getvalue())
    rules = {f.rule_id for f in got}
    assert {RULE_ZIP_TRAVERSAL, RULE_ZIP_DUPLICATE, RULE_DENIED_CALL} <= rules
    # both copies of the duplicate were scanned: the second carries the payload
    assert any(
        f.location.path == "t.pt!archive/data.pkl" and f.rule_id == RULE_DENIED_CALL for f in got
    )


def test_zip_bomb_member_is_reported_and_inflated_only_up_to_the_cap(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02N" + b"0" * 5_000_000 + b".")
    got = scan(tmp_path, "bomb.pt", out.getvalue(), Limits(max_pickle_bytes=1 << 20))
    # the ratio is reported; the first max_pickle_bytes are read (a loader reads it all)
    assert [f.rule_id for f in got] == [RULE_ZIP_BOMB, RULE_MALFORMED]


def test_declared_size_beyond_limit(tmp_path: Path) -> None:
    got = scan(
        tmp_path,
        "m.pt",
        ps.torch_zip(ps.torch_like_state_dict()),
        Limits(max_archive_member_bytes=10),
    )
    assert RULE_ZIP_BOMB in {f.rule_id for f in got}


def test_deflated_member_is_scanned(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", ps.os_system())
    assert worst(scan(tmp_path, "d.pt", out.getvalue())) is Severity.CRITICAL


def test_encrypted_flag_does_not_hide_a_stored_member(tmp_path: Path) -> None:
    raw = bytearray(ps.torch_zip(ps.os_system()))
    # set the "encrypted" flag bit in every local and central header: zipfile refuses,
    # PyTorch's reader ignores it (GHSA-w8jq-xcqf-f792 class)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = raw.find(sig)
        while pos >= 0:
            raw[pos + flag_at] |= 1
            pos = raw.find(sig, pos + 4)
    assert worst(scan(tmp_path, "enc.pt", bytes(raw))) is Severity.CRITICAL


def test_corrupt_zip_directory_fails_closed(tmp_path: Path) -> None:
    data = ps.torch_zip(ps.torch_like_state_dict())
    cut = data[: data.rfind(b"PK\x01\x02")] + b"PK\x05\x06" + b"\x00" * 4  # broken directory
    got = scan(tmp_path, "broken.pt", cut)
    assert got and got[0].rule_id in (RULE_ZIP_MALFORMED, RULE_MALFORMED)
    assert worst(got) >= Severity.MEDIUM


def test_polyglot_pickle_zip(tmp_path: Path) -> None:
    got = scan(tmp_path, "p.pkl", ps.SAMPLES_BY_NAME["pickle-zip-polyglot"].build())
    rules = {f.rule_id for f in got}
    assert RULE_POLYGLOT in rules and RULE_DENIED_CALL in rules


def test_npy_object_array(tmp_path: Path) -> None:
    got = scan(tmp_path, "a.npy", ps.npy("|O", ps.os_system()))
    assert {f.rule_id for f in got} == {RULE_NPY_OBJECT, RULE_DENIED_CALL}


def test_npy_numeric_array_data_is_not_read(tmp_path: Path) -> None:
    assert scan(tmp_path, "a.npy", ps.npy("<f4", ps.os_system(), "(4,)")) == []


@pytest.mark.parametrize(
    "data",
    [
        b"\x93NUMPY\x01\x00\xff\xff" + b"{}",  # header longer than the file
        b"\x93NUMPY\x09\x00\x10\x00" + b" " * 16,  # unknown version
        ps.npy("|O", b"").replace(b"'descr'", b"'dexxx'"),
        b"\x93NUMPY\x01\x00\x10\x00__import__('os')",
        b"\x93NUMPY\x02\x00" + struct.pack("<I", 50_000) + b" " * 50_000,
    ],
)
def test_npy_malformed_headers(tmp_path: Path, data: bytes) -> None:
    got = scan(tmp_path, "bad.npy", data)
    assert [f.rule_id for f in got] == [RULE_NPY_MALFORMED]


def test_npz_object_member(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.npy", ps.npy("<f4", b"\x00" * 16, "(4,)"))
        zf.writestr("evil.npy", ps.npy("|O", ps.os_system()))
    got = scan(tmp_path, "arrays.npz", out.getvalue())
    assert {f.location.path for f in got} == {"arrays.npz!evil.npy"}
    assert worst(got) is Severity.CRITICAL


def test_joblib_array_bytes_are_skipped(tmp_path: Path) -> None:
    # the raw array bytes after the wrapper are not opcodes
    assert scan(tmp_path, "m.joblib", ps.joblib_array_pickle()) == []


@pytest.mark.parametrize(
    "compress",
    [
        zlib.compress,
        __import__("gzip").compress,
        __import__("bz2").compress,
        __import__("lzma").compress,
    ],
)
def test_compressed_joblib(tmp_path: Path, compress: object) -> None:
    payload = ps.SAMPLES_BY_NAME["joblib-payload"].build()
    got = scan(tmp_path, "m.joblib", compress(payload))  # type: ignore[operator]
    assert worst(got) is Severity.CRITICAL
    assert all(f.location.path.startswith("m.joblib!") for f in got)


def test_compression_bomb_is_capped(tmp_path: Path) -> None:
    bomb = zlib.compress(b"\x80\x02N" + b"0" * 20_000_000 + b".", 9)
    got = scan(tmp_path, "b.joblib", bomb, Limits(max_archive_ratio=50))
    assert any("compression bomb" in f.message for f in got)


def test_memory_mapped_scan_of_a_big_file_stays_cheap(tmp_path: Path) -> None:
    # a 64 MB BINBYTES8 payload is skipped by offset, not read
    big = b"\x80\x04\x8e" + struct.pack("<Q", 64 << 20)
    path = tmp_path / "big.pkl"
    with open(path, "wb") as fh:
        fh.write(big)
        fh.truncate(len(big) + (64 << 20))
        fh.seek(0, 2)
        fh.write(b".")
    with open(path, "rb") as stream:
        findings, errors = analyze_container("big.pkl", stream, FileKind.PICKLE, limits=Limits())
    assert findings == [] and errors == []


def test_lz4_compressed_joblib(tmp_path: Path) -> None:
    lz4_frame = pytest.importorskip("lz4.frame")
    payload = ps.SAMPLES_BY_NAME["joblib-payload"].build()
    got = scan(tmp_path, "m.joblib", lz4_frame.compress(payload))
    assert worst(got) is Severity.CRITICAL


def test_format_is_told_by_magic_bytes_not_the_name() -> None:
    import pickle

    for proto in range(6):
        data = pickle.dumps({"a": [1, 2]}, protocol=proto)
        assert classify_bytes("weights.bin", data[:512], len(data)) is FileKind.PICKLE, proto
    assert classify_bytes("m.safetensors", ps.os_system(), 20) is FileKind.PICKLE
    assert classify_bytes("w.bin", b"(\x00\x01\x02" * 10, 40) is FileKind.BINARY
    assert classify_bytes("m.joblib", zlib.compress(b"\x80\x04N."), 20) is FileKind.JOBLIB


def test_torch_tar_format(tmp_path: Path) -> None:
    assert scan(tmp_path, "old.pth", ps.torch_tar()) == []
    for where in ("storages", "pickle"):
        got = scan(tmp_path, f"{where}.pth", ps.torch_tar(where))
        assert worst(got) is Severity.CRITICAL
        assert any(f.location.path == f"{where}.pth!{where}" for f in got)


def test_other_tars_are_left_alone(tmp_path: Path) -> None:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:") as tar:
        info = tarfile.TarInfo("data/evil.pkl")
        data = ps.os_system()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert scan(tmp_path, "dataset.tar", out.getvalue()) == []


def test_opcodes_hidden_in_joblib_array_bytes(tmp_path: Path) -> None:
    got = scan(tmp_path, "hidden.pkl", ps.joblib_hidden_payload())
    assert worst(got) is Severity.CRITICAL
    assert "plain pickle.load" in got[0].message
    # real joblib arrays of float data do not produce phantom imports
    assert scan(tmp_path, "m.joblib", ps.joblib_array_pickle()) == []


def test_engine_maps_big_checkpoints_instead_of_reading_them(tmp_path: Path) -> None:
    from loadguard.engine import scan_snapshot
    from loadguard.sources.local import snapshot_from_folder

    root = tmp_path / "repo"
    root.mkdir()
    big = ps.torch_zip(ps.os_system(), extra={"archive/data/9": b"\x00" * 300_000})
    (root / "pytorch_model.bin").write_bytes(big)
    limits = Limits(max_pickle_bytes=100_000)  # smaller than the file: only an mmap can scan it
    result = scan_snapshot(
        snapshot_from_folder(root, limits=limits), analyzers=["pickle"], limits=limits
    )
    assert not result.errors, result.errors
    assert any(f.severity is Severity.CRITICAL for f in result.findings)


def test_zip_details_zipfile_refuses_do_not_hide_members(tmp_path: Path) -> None:
    raw = bytearray(ps.torch_zip(ps.os_system()))
    # "version needed to extract" 6.3 -> 23.1: zipfile raises NotImplementedError
    pos = raw.find(b"PK\x01\x02")
    while pos >= 0:
        raw[pos + 6 : pos + 8] = (231).to_bytes(2, "little")
        pos = raw.find(b"PK\x01\x02", pos + 4)
    assert worst(scan(tmp_path, "v.pt", bytes(raw))) is Severity.CRITICAL


def test_zip64_directory(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n in range(66_000):  # more entries than a plain end record can count
            zf.writestr(f"archive/data/{n}", b"")
        zf.writestr("archive/data.pkl", ps.os_system())
    data = out.getvalue()
    assert data.rfind(b"PK\x06\x06") > 0
    got = scan(tmp_path, "big.pt", data)
    assert [f.location.path for f in got] == ["big.pt!archive/data.pkl"]


def test_classified_as_torch_zip_even_when_zipfile_refuses(tmp_path: Path) -> None:
    """Kinds come from loadguard's own directory reader, as PyTorch's loader reads it."""
    from loadguard.filekinds import classify_all
    from loadguard.sources.local import snapshot_from_folder

    raw = bytearray(ps.torch_zip(ps.torch_like_state_dict()))
    pos = raw.find(b"PK\x01\x02")
    while pos >= 0:
        raw[pos + 6 : pos + 8] = (231).to_bytes(2, "little")  # zipfile: NotImplementedError
        pos = raw.find(b"PK\x01\x02", pos + 4)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pytorch_model.bin").write_bytes(bytes(raw))
    (root / "not_a_zip.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    snap = snapshot_from_folder(root)
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(root / "pytorch_model.bin").namelist()
    kinds = classify_all(snap)
    assert kinds["pytorch_model.bin"] is FileKind.TORCH_ZIP
    assert kinds["not_a_zip.zip"] is FileKind.ZIP


def test_stream_member_names_reads_tail_and_directory_only() -> None:
    from loadguard.zipdir import ZipDirectoryError, stream_member_names

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    zipped = ps.torch_zip(ps.os_system(), extra={"archive/data/9": b"\x00" * 2_000_000})
    body = b"\x80\x02N." + zipped  # bytes before the archive shift every offset
    stream = Counting(body)
    names = stream_member_names(stream, len(body))
    assert "archive/data.pkl" in names and "archive/data/9" in names
    assert Counting.read_bytes < 100_000  # the 2 MB storage was never read
    with pytest.raises(ZipDirectoryError):
        stream_member_names(io.BytesIO(b"no zip here"), 11)


def test_weight_files_are_not_hashed_just_to_key_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing a checkpoint costs a full read; its analysis reads the pickles only."""
    from loadguard.engine import MemoryCache, scan_snapshot
    from loadguard.model import Snapshot
    from loadguard.sources.local import snapshot_from_folder

    root = tmp_path / "repo"
    root.mkdir()
    (root / "pytorch_model.bin").write_bytes(ps.torch_zip(ps.os_system()))
    (root / "config.json").write_text("{}")
    hashed: list[str] = []
    original = Snapshot.sha256

    def recording(self: Snapshot, path: str) -> str:
        hashed.append(path)
        return original(self, path)

    monkeypatch.setattr(Snapshot, "sha256", recording)
    result = scan_snapshot(snapshot_from_folder(root), analyzers=["pickle"], cache=MemoryCache())
    assert worst(result.findings) is Severity.CRITICAL
    assert "pytorch_model.bin" not in hashed


def test_local_header_name_lies_do_not_hide_a_member(tmp_path: Path) -> None:
    # PyTorch's reader finds members by the central directory and never compares
    # the local header's name: the payload loads, so it must be scanned.
    data = ps.torch_zip(ps.os_system())
    at = data.find(b"archive/data.pkl")  # the local header comes first
    data = data[:at] + b"archive/data.pkX" + data[at + len(b"archive/data.pkl") :]
    found = scan(tmp_path, "lying.pt", data)
    assert any(f.rule_id == RULE_DENIED_CALL and f.severity is Severity.CRITICAL for f in found)
    assert any(f.rule_id == RULE_ZIP_MALFORMED and f.snippet == "local-name" for f in found)


def test_a_ratio_bomb_pickle_member_is_still_scanned(tmp_path: Path) -> None:
    # torch.load inflates a highly compressible data.pkl without complaint
    padded = ps.proto(2) + b"N0" * 1_000_000 + ps.os_system()[2:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("archive/data.pkl", padded)
        zf.writestr("archive/version", "3\n")
    found = scan(tmp_path, "bomb.pt", out.getvalue())
    assert any(f.rule_id == RULE_ZIP_BOMB for f in found)
    assert any(f.rule_id == RULE_DENIED_CALL and f.severity is Severity.CRITICAL for f in found)
