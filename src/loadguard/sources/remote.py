"""Remote files read lazily: a seekable stream over HTTP range reads, and a store of them.

Hub sources list a repository from its API, then hand the analyzers a
``RemoteStore``. Analyzers read files exactly as they read local ones
(``zipfile`` over ``open(path)``, ``read(path, limit)``), and only the byte
ranges they touch are fetched: the zip directory and pickle members of a
torch checkpoint, the header of a safetensors file. Every fetch is counted,
every whole file is checked against the hash the hub published, and a fault
(short body, wrong size, wrong hash) marks the snapshot partial instead of
passing a wrong byte on as if it were right.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, TypeVar, cast

from ..errors import FileTooLarge, SourceError
from ..limits import MiB
from ..model import FileEntry, ScanError

BLOCK_SIZE = 64 * 1024  # smallest range fetched; zip/pickle readers issue many tiny reads
SMALL_FILE_BYTES = 256 * 1024  # below this a file is fetched whole (and hash-checked) on open
# Non-LFS files have only a git blob id, which only a whole read can check: fetch them
# whole up to this size (hubs put larger and binary files in LFS anyway).
WHOLE_UNHASHED_BYTES = 16 << 20
CACHED_BLOCKS = 256  # per snapshot: 16 MiB of fetched blocks
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class RemoteReadError(SourceError, OSError):
    """A remote read failed or returned bytes that cannot be trusted.

    An ``OSError`` too, so readers that treat I/O errors as "cannot analyse
    this file" (zip, pickle, file-kind sniffing) report it and go on.
    """


class RetryableError(RemoteReadError):
    """A transient failure (429, 5xx, reset connection) worth another try."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter; ``Retry-After`` is honoured up to ``cap``."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    timeout_seconds: float = 60.0  # per request: connect, and each read of the body

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap_seconds)
        backoff = self.base_seconds * (2**attempt)
        return float(min(backoff * (0.5 + random.random() / 2), self.cap_seconds))  # nosec B311


DEFAULT_RETRY = RetryPolicy()


def with_retries(call: Callable[[], T], policy: RetryPolicy | None = None) -> T:
    """Run ``call``; retry ``RetryableError`` with backoff, at most ``policy.attempts`` times."""
    policy = policy or current_retry_policy()
    for attempt in range(policy.attempts):
        try:
            return call()
        except RetryableError as exc:
            if attempt + 1 >= policy.attempts:
                raise RemoteReadError(f"{exc} (gave up after {policy.attempts} attempts)") from exc
            time.sleep(policy.delay(attempt, exc.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


_policy = DEFAULT_RETRY


def current_retry_policy() -> RetryPolicy:
    return _policy


def set_retry_policy(policy: RetryPolicy | None) -> None:
    """Replace the process-wide retry policy (tests use a fast one); ``None`` restores it."""
    global _policy
    _policy = policy or DEFAULT_RETRY


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class RangeFetcher(Protocol):
    """Fetches bytes of one remote file. Both methods must return exactly what was asked."""

    def fetch_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``path``; raises ``RemoteReadError`` on any fault."""

    def fetch_whole(self, path: str, size: int) -> bytes:
        """The whole file (``size`` bytes expected)."""


@dataclass
class FetchLedger:
    """What a snapshot's store fetched and what went wrong. Shared by all its streams."""

    bytes_fetched: int = 0
    requests: int = 0
    errors: list[ScanError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, nbytes: int) -> None:
        with self.lock:
            self.bytes_fetched += nbytes
            self.requests += 1

    def fail(self, path: str, message: str, kind: str) -> None:
        with self.lock:
            error = ScanError(path, "source", message, kind)
            if error not in self.errors:
                self.errors.append(error)

    @property
    def partial(self) -> bool:
        return bool(self.errors)


class BlockCache:
    """Fetched blocks of a snapshot's files, shared by all streams (sniffing, zip listing
    and pickle reading each open the file again), least recently used first out."""

    def __init__(self, capacity: int = CACHED_BLOCKS) -> None:
        self._capacity = capacity
        self._blocks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str, index: int) -> bytes | None:
        with self._lock:
            block = self._blocks.get((path, index))
            if block is not None:
                self._blocks.move_to_end((path, index))
            return block

    def put(self, path: str, index: int, block: bytes) -> None:
        with self._lock:
            self._blocks[(path, index)] = block
            self._blocks.move_to_end((path, index))
            while len(self._blocks) > self._capacity:
                self._blocks.popitem(last=False)


class RangeStream(io.RawIOBase):
    """A read-only seekable file over range reads, with a small block cache.

    ``budget`` bounds the bytes one stream may fetch: an analyzer that walks
    a whole multi-GB pickle gets an error at the budget, not a download.
    """

    def __init__(
        self,
        path: str,
        size: int,
        fetcher: RangeFetcher,
        ledger: FetchLedger,
        budget: int,
        blocks: BlockCache | None = None,
    ) -> None:
        super().__init__()
        self._path, self._size, self._fetcher, self._ledger = path, size, fetcher, ledger
        self._budget = budget
        self._spent = 0
        self._pos = 0
        self._blocks = blocks if blocks is not None else BlockCache()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise OSError(f"{self._path}: negative seek position {target}")
        self._pos = target
        return target

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(self._size - self._pos, 0))
        done = 0
        while done < wanted:
            index, within = divmod(self._pos + done, BLOCK_SIZE)
            block = self._block(index, wanted - done)
            chunk = block[within : within + wanted - done]
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
        self._pos += done
        return done

    def _block(self, index: int, wanted: int) -> bytes:
        cached = self._blocks.get(self._path, index)
        if cached is not None:
            return cached
        # Read ahead for long sequential reads (a pickle member), one block otherwise.
        span = max(1, min(-(-wanted // BLOCK_SIZE), 64))
        start = index * BLOCK_SIZE
        end = min(start + span * BLOCK_SIZE, self._size)
        if self._spent + (end - start) > self._budget:
            message = (
                f"{self._path}: reading past the {self._budget}-byte remote read budget "
                "for one file; the rest was not fetched"
            )
            self._ledger.fail(self._path, message, "too-large")
            raise RemoteReadError(message)
        try:
            data = self._fetcher.fetch_range(self._path, start, end)
        except RemoteReadError as exc:
            self._ledger.fail(self._path, str(exc), "remote-read")
            raise
        self._spent += len(data)
        self._ledger.count(len(data))
        for offset in range(0, len(data), BLOCK_SIZE):
            self._blocks.put(
                self._path, index + offset // BLOCK_SIZE, data[offset : offset + BLOCK_SIZE]
            )
        return data[:BLOCK_SIZE]


class LiveMetadata(Mapping[str, object]):
    """Static hub metadata plus live fetch accounting (bytes fetched, partial, errors)."""

    def __init__(self, static: Mapping[str, object], ledger: FetchLedger) -> None:
        self._static = dict(static)
        self._ledger = ledger

    def _view(self) -> dict[str, object]:
        view = dict(self._static)
        view["bytes_fetched"] = self._ledger.bytes_fetched
        view["requests"] = self._ledger.requests
        view["partial"] = self._ledger.partial or bool(self._static.get("partial"))
        view["fetch_errors"] = [f"{e.path}: {e.message}" for e in self._ledger.errors]
        return view

    def __getitem__(self, key: str) -> object:
        return self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())


PREFETCH_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".jinja", ".txt", ".cfg", ".toml")
PREFETCH_MAX_BYTES = 1 << 20
PREFETCH_MAX_FILES = 2_000


def prefetch_candidates(files: Iterable[FileEntry]) -> list[str]:
    """Code and config files every scan reads whole: worth fetching in parallel up front."""
    picked = [
        f.path
        for f in files
        if f.path.lower().endswith(PREFETCH_SUFFIXES) and f.size <= PREFETCH_MAX_BYTES
    ]
    return picked[:PREFETCH_MAX_FILES]


def fetch_problems(metadata: Mapping[str, object]) -> list[str]:
    """The fetch errors a remote snapshot recorded (empty for local snapshots)."""
    problems = metadata.get("fetch_errors")
    return [str(p) for p in problems] if isinstance(problems, list) else []


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob: how hubs name non-LFS files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class RemoteStore:
    """The ``FileStore`` of a hub snapshot: whole small files, range reads for the rest.

    Whole files are checked against the published sha256 (LFS) or git blob id
    before anyone sees them, and only then kept in memory.
    """

    def __init__(
        self,
        files: Mapping[str, FileEntry],
        fetcher: RangeFetcher,
        *,
        blob_ids: Mapping[str, str] | None = None,
        hash_prefixes: Mapping[str, str] | None = None,
        per_file_budget: int = 256 * MiB,
        memory_budget: int = 512 * MiB,
    ) -> None:
        self._files = dict(files)
        self._fetcher = fetcher
        self._blob_ids = dict(blob_ids or {})
        # sha256 prefixes a file's name promises (torch.hub ``check_hash`` convention)
        self._hash_prefixes = dict(hash_prefixes or {})
        self._per_file_budget = per_file_budget
        self._memory_budget = memory_budget
        self._bodies: dict[str, bytes] = {}
        self._held = 0
        self._lock = threading.Lock()
        self._blocks = BlockCache()
        self.ledger = FetchLedger()

    def entry(self, path: str) -> FileEntry:
        try:
            return self._files[path]
        except KeyError:
            raise SourceError(f"{path}: not a file of this snapshot") from None

    def open(self, path: str) -> BinaryIO:
        entry = self.entry(path)
        unhashed = entry.sha256 is None and path in self._blob_ids
        if (
            path in self._bodies
            or entry.size <= SMALL_FILE_BYTES
            or (unhashed and entry.size <= WHOLE_UNHASHED_BYTES)
        ):
            return io.BytesIO(self._whole(entry))
        stream = RangeStream(
            path, entry.size, self._fetcher, self.ledger, self._per_file_budget, self._blocks
        )
        return cast(BinaryIO, io.BufferedReader(stream, buffer_size=BLOCK_SIZE))

    def read(self, path: str, limit: int) -> bytes:
        entry = self.entry(path)
        if entry.size > limit:
            raise FileTooLarge(path, entry.size, limit)
        return self._whole(entry)

    def prefetch(self, paths: Iterable[str], workers: int = 8) -> int:
        """Fetch (and verify) small files in parallel; returns how many are now held.

        Hubs are latency-bound: a repo with 200 modules costs 200 round trips
        one after the other, or 25 with 8 workers. A failure here is not
        recorded: the analyzer's own read retries it and reports what fails.
        """
        wanted = [self.entry(p) for p in paths if p not in self._bodies]
        if wanted:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                list(pool.map(self._quiet_whole, wanted))
        return sum(1 for p in paths if p in self._bodies)

    def _quiet_whole(self, entry: FileEntry) -> None:
        try:
            data = self._fetcher.fetch_whole(entry.path, entry.size)
        except RemoteReadError:
            return
        self.ledger.count(len(data))
        if self._check(entry, data) is None:
            with self._lock:
                if self._held + len(data) <= self._memory_budget:
                    self._bodies[entry.path] = data
                    self._held += len(data)

    def fetch_failed(self, path: str) -> bool:
        """True once any read of ``path`` failed: analyses of it are incomplete."""
        with self.ledger.lock:
            return any(e.path == path for e in self.ledger.errors)

    def late_errors(self) -> tuple[ScanError, ...]:
        """Fetch failures so far; the engine adds them to the scan's errors."""
        with self.ledger.lock:
            return tuple(self.ledger.errors)

    def expected(self, path: str) -> tuple[int, str | None, str | None]:
        """(size, published sha256, published git blob id) of a file."""
        entry = self.entry(path)
        return entry.size, entry.sha256, self._blob_ids.get(path)

    def digest(self, path: str, chunk: int = 8 * MiB) -> str:
        """A file's sha256 for a lock: the published one, else computed from every byte.

        Streams the file in large ranges without keeping it, outside the
        per-file analysis budget (hashing is what the user asked for), and
        checks a sha256 prefix the file's name promises.
        """
        entry = self.entry(path)
        if entry.sha256:
            return entry.sha256
        body = self._bodies.get(path)
        if body is None and (entry.size <= SMALL_FILE_BYTES or path in self._blob_ids):
            body = self._whole(entry) if entry.size <= WHOLE_UNHASHED_BYTES else None
        if body is not None:
            digest = hashlib.sha256(body).hexdigest()
        else:
            hasher = hashlib.sha256()
            for start in range(0, entry.size, chunk):
                end = min(start + chunk, entry.size)
                try:
                    data = self._fetcher.fetch_range(path, start, end)
                except RemoteReadError as exc:
                    self.ledger.fail(path, str(exc), "remote-read")
                    raise
                self.ledger.count(len(data))
                hasher.update(data)
            digest = hasher.hexdigest()
        prefix = self._hash_prefixes.get(path)
        if prefix and not digest.startswith(prefix):
            message = (
                f"{path}: sha256 {digest[:16]}… does not start with {prefix}, as its name says"
            )
            self.ledger.fail(path, message, "integrity")
            raise RemoteReadError(message)
        return digest

    def sha256_of(self, path: str) -> str | None:
        """The sha256 of a file fetched whole (and verified), else the published one."""
        body = self._bodies.get(path)
        if body is not None:
            return hashlib.sha256(body).hexdigest()
        return self.entry(path).sha256

    def _whole(self, entry: FileEntry) -> bytes:
        body = self._bodies.get(entry.path)
        if body is not None:
            return body
        try:
            data = self._fetcher.fetch_whole(entry.path, entry.size)
        except RemoteReadError as exc:
            self.ledger.fail(entry.path, str(exc), "remote-read")
            raise
        self.ledger.count(len(data))
        problem = self._check(entry, data)
        if problem:
            self.ledger.fail(entry.path, problem, "integrity")
            raise RemoteReadError(problem)
        with self._lock:
            if self._held + len(data) <= self._memory_budget:
                self._bodies[entry.path] = data
                self._held += len(data)
        return data

    def _check(self, entry: FileEntry, data: bytes) -> str | None:
        if len(data) != entry.size:
            return (
                f"{entry.path}: server sent {len(data)} bytes, the listing says {entry.size}; "
                "not analysed"
            )
        if entry.sha256 and hashlib.sha256(data).hexdigest() != entry.sha256:
            return f"{entry.path}: content does not match the published sha256 {entry.sha256}"
        blob_id = self._blob_ids.get(entry.path)
        if not entry.sha256 and blob_id and len(blob_id) == 40 and git_blob_sha1(data) != blob_id:
            return f"{entry.path}: content does not match the published git blob id {blob_id}"
        return None


def check_range_response(
    path: str,
    start: int,
    end: int,
    status: int,
    content_range: str | None,
    body: bytes,
    size: int,
    content_length: str | None = None,
) -> bytes:
    """``[start, end)`` from a range response; raise unless it holds exactly that.

    A server that ignores ``Range`` answers 200 with the whole file; callers
    read such a body only up to ``end`` bytes, so ``body`` is then a prefix.
    """
    if status == 206:
        if content_range:
            total = content_range.rsplit("/", 1)[-1].strip()
            if total.isdigit() and int(total) != size:
                raise RemoteReadError(
                    f"{path}: server reports {total} bytes, the listing says {size}"
                )
    elif status == 200:
        declared = content_length.strip() if content_length else ""
        if declared.isdigit() and int(declared) != size:
            raise RemoteReadError(
                f"{path}: server reports {declared} bytes, the listing says {size}"
            )
        if len(body) < end:
            raise RemoteReadError(
                f"{path}: server ignored the range and sent {len(body)} bytes, expected {size}"
            )
        return body[start:end]
    else:
        raise RemoteReadError(f"{path}: unexpected HTTP {status} for a range read")
    if len(body) != end - start:
        raise RemoteReadError(
            f"{path}: range {start}-{end - 1} returned {len(body)} bytes, expected {end - start}"
        )
    return body
