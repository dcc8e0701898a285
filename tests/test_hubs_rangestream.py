"""RangeStream behaves like a local file under any sequence of seeks and reads."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadguard.model import FileEntry
from loadguard.sources.remote import (
    BLOCK_SIZE,
    RemoteReadError,
    RemoteStore,
    check_range_response,
)


class MemoryFetcher:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[tuple[str, int, int]] = []

    def fetch_range(self, path: str, start: int, end: int) -> bytes:
        self.calls.append((path, start, end))
        return self.files[path][start:end]

    def fetch_whole(self, path: str, size: int) -> bytes:
        self.calls.append((path, 0, size))
        return self.files[path]


def store_of(data: bytes) -> tuple[RemoteStore, MemoryFetcher]:
    fetcher = MemoryFetcher({"f.bin": data})
    return RemoteStore({"f.bin": FileEntry("f.bin", len(data))}, fetcher), fetcher


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "cur", "end"]),
        st.integers(-(1 << 20), 1 << 20),
        st.integers(0, 300_000),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(300_000, 1_200_000), script=ops)
def test_random_seeks_and_reads_match_a_local_file(size: int, script: list) -> None:  # type: ignore[type-arg]
    data = bytes((i * 7 + i // 251) % 256 for i in range(size))
    store, _ = store_of(data)
    local = io.BytesIO(data)
    with store.open("f.bin") as remote:
        for whence, offset, length in script:
            mode = {"set": io.SEEK_SET, "cur": io.SEEK_CUR, "end": io.SEEK_END}[whence]
            target = {"set": 0, "cur": local.tell(), "end": size}[whence] + offset
            if target < 0:
                continue
            assert remote.seek(offset, mode) == local.seek(offset, mode)
            assert remote.read(length) == local.read(length)
            assert remote.tell() == local.tell()


def test_zip_reading_fetches_only_directory_and_member() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02N.")
        zf.writestr("archive/data/0", bytes(8 << 20))
    store, fetcher = store_of(buffer.getvalue())
    with store.open("f.bin") as stream, zipfile.ZipFile(stream) as zf:
        assert zf.read("archive/data.pkl") == b"\x80\x02N."
    assert store.ledger.bytes_fetched <= 3 * BLOCK_SIZE
    # opening again reuses the shared blocks: no new requests
    before = len(fetcher.calls)
    with store.open("f.bin") as stream, zipfile.ZipFile(stream) as zf:
        zf.namelist()
    assert len(fetcher.calls) == before


def test_range_response_checks() -> None:
    body = b"abcd"
    assert check_range_response("p", 2, 6, 206, "bytes 2-5/10", body, 10) == body
    assert check_range_response("p", 2, 4, 200, None, b"0123456789", 10) == b"23"
    with pytest.raises(RemoteReadError, match="reports 11"):
        check_range_response("p", 2, 6, 206, "bytes 2-5/11", body, 10)
    with pytest.raises(RemoteReadError, match="returned 3 bytes"):
        check_range_response("p", 2, 6, 206, "bytes 2-5/10", b"abc", 10)
    with pytest.raises(RemoteReadError, match="ignored the range"):
        check_range_response("p", 2, 6, 200, None, b"short", 10)
    with pytest.raises(RemoteReadError, match="unexpected HTTP 416"):
        check_range_response("p", 2, 6, 416, None, b"", 10)


def test_digest_streams_past_the_analysis_budget_and_checks_name_prefixes() -> None:
    import hashlib

    data = bytes(range(256)) * 40_000  # ~10 MB
    sha = hashlib.sha256(data).hexdigest()
    fetcher = MemoryFetcher({"w.pth": data, "bad-deadbeef.pth": data, f"ok-{sha[:8]}.pth": data})
    entries = {p: FileEntry(p, len(data)) for p in fetcher.files}
    prefixes = {"bad-deadbeef.pth": "deadbeef", f"ok-{sha[:8]}.pth": sha[:8]}
    store = RemoteStore(entries, fetcher, hash_prefixes=prefixes, per_file_budget=1 << 20)
    with pytest.raises(OSError, match="budget"), store.open("w.pth") as stream:
        stream.read()
    assert store.digest("w.pth") == sha
    assert store.digest(f"ok-{sha[:8]}.pth") == sha
    with pytest.raises(RemoteReadError, match="as its name says"):
        store.digest("bad-deadbeef.pth")
    assert store.ledger.partial
