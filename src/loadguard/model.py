"""The typed values that flow through the pipeline: snapshot -> plan -> reach -> findings -> result.

Every value crossing a stage boundary is a frozen dataclass. Stages never
mutate what they receive; they return new values (``dataclasses.replace``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

SCHEMA_VERSION = "1.1"


class Severity(enum.IntEnum):
    """Ordered severity; comparisons (``>=``) are meaningful."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


class Confidence(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Platform(str, enum.Enum):
    """Where a snapshot comes from. ``LOCAL`` means no platform could be told."""

    HUGGINGFACE = "huggingface"
    MODELSCOPE = "modelscope"
    OPENCSG = "opencsg"
    OPENMMLAB = "openmmlab"
    TORCH_HUB = "torch_hub"
    LOCAL = "local"


class Loader(str, enum.Enum):
    """A loader ecosystem that can execute something from a repo."""

    TRANSFORMERS = "transformers"
    SENTENCE_TRANSFORMERS = "sentence-transformers"
    DIFFUSERS = "diffusers"
    PEFT = "peft"
    TORCH_HUB = "torch.hub"
    MMENGINE = "mmengine"
    MODELSCOPE = "modelscope"
    PICKLE = "pickle"
    KERAS = "keras"
    GGUF = "gguf"


class EntryKind(str, enum.Enum):
    """What an entry point names."""

    CLASS = "class"  # a class the loader instantiates (auto_map, modules.json ...)
    FUNCTION = "function"  # a callable the loader calls (hubconf entry, custom generate)
    MODULE = "module"  # a whole module executed top to bottom (hubconf, mm config)
    WEIGHTS = "weights"  # a serialized file whose deserialization can call code
    KERNEL = "kernel"  # compiled code fetched from another repo (attn_implementation)
    REDIRECT = "redirect"  # the load continues in another repo (adapter base model)
    INSTALL = "install"  # packages installed at load (ModelScope plugins, requirements)
    TEMPLATE = "template"  # a template rendered by the runtime (chat templates)
    CONFIG = "config"  # a config value that changes load behaviour (trust keys)


class FileKind(str, enum.Enum):
    """A file's format, told by magic bytes first and the name second."""

    PYTHON = "python"
    JSON = "json"
    YAML = "yaml"
    TEXT = "text"
    PICKLE = "pickle"
    TORCH_ZIP = "torch-zip"
    TORCH_LEGACY = "torch-legacy"
    SAFETENSORS = "safetensors"
    NUMPY = "numpy"
    NUMPY_ZIP = "numpy-zip"
    JOBLIB = "joblib"
    KERAS = "keras"
    HDF5 = "hdf5"
    ONNX = "onnx"
    GGUF = "gguf"
    TF_SAVEDMODEL = "tf-savedmodel"
    ZIP = "zip"
    TAR = "tar"
    BINARY = "binary"
    OTHER = "other"


class Verdict(str, enum.Enum):
    """A repo's overall verdict, ordered from best to worst."""

    CLEAN = "clean"
    REVIEW = "review"
    DANGEROUS = "dangerous"
    MALICIOUS_LIKELY = "malicious-likely"
    ERROR = "error"  # the scan could not finish; nothing can be said

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


# --------------------------------------------------------------------------- snapshot


class FileStore(Protocol):
    """Read access to a snapshot's files, with the path checks done by the source."""

    def open(self, path: str) -> BinaryIO:
        """A seekable binary stream of the file (range reads: seek + read)."""

    def read(self, path: str, limit: int) -> bytes:
        """The whole file; raises ``FileTooLarge`` if it is larger than ``limit``."""


@dataclass(frozen=True)
class FileEntry:
    """One regular file of a snapshot. ``path`` is POSIX, relative to the repo root."""

    path: str
    size: int
    sha256: str | None = None  # known up front for hub/LFS files; else computed lazily


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of one repository at one revision."""

    platform: Platform
    repo_id: str
    files: tuple[FileEntry, ...]
    store: FileStore = field(repr=False, compare=False)
    revision: str | None = None  # a commit hash when the source knows it
    platform_inferred: bool = False  # True when the platform was guessed from content
    location: str = ""  # where it was read from (folder, archive, URL) for humans
    metadata: Mapping[str, object] = field(default_factory=dict, compare=False)
    skipped: tuple[ScanError, ...] = ()  # entries the source refused (escaping symlinks ...)

    def file(self, path: str) -> FileEntry | None:
        return self._index().get(path)

    def has(self, path: str) -> bool:
        return path in self._index()

    def _index(self) -> dict[str, FileEntry]:
        index: dict[str, FileEntry] | None = self.__dict__.get("_file_index")
        if index is None:
            index = {f.path: f for f in self.files}
            object.__setattr__(self, "_file_index", index)  # cache on a frozen value
        return index

    def read(self, path: str, limit: int) -> bytes:
        return self.store.read(path, limit)

    def sha256(self, path: str) -> str:
        entry = self.file(path)
        if entry is not None and entry.sha256:
            return entry.sha256
        cache: dict[str, str] = self.__dict__.setdefault("_sha_cache", {})
        if path not in cache:
            import hashlib  # here, not at the top: OpenSSL's start-up costs ~3 ms

            digest = hashlib.sha256()
            with self.store.open(path) as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
            cache[path] = digest.hexdigest()
        return cache[path]

    @property
    def identity(self) -> SnapshotIdentity:
        return SnapshotIdentity(
            platform=self.platform,
            repo_id=self.repo_id,
            revision=self.revision,
            platform_inferred=self.platform_inferred,
            location=self.location,
        )


@dataclass(frozen=True)
class SnapshotIdentity:
    """The part of a snapshot a report names (no file access)."""

    platform: Platform
    repo_id: str
    revision: str | None
    platform_inferred: bool
    location: str


# --------------------------------------------------------------------------- load plan


@dataclass(frozen=True)
class CrossRepoRef:
    """Code or weights pulled from another repository at load time."""

    repo_id: str  # e.g. "org/other-repo"
    reference: str  # as written, e.g. "org/other-repo--modeling.Model"
    trigger: str  # e.g. "config.json auto_map.AutoModel"
    pinned: bool = False  # True only when a revision is fixed by the reference itself
    platform: Platform = Platform.HUGGINGFACE


@dataclass(frozen=True)
class EntryPoint:
    """Something a loader will execute, and what triggers it."""

    loader: Loader
    kind: EntryKind
    trigger: str  # e.g. "tokenizer_config.json auto_map.AutoTokenizer[1]"
    module: str | None = None  # repo-relative file, e.g. "modeling_foo.py"
    qualname: str | None = None  # class or function inside ``module``
    trust_flag: str | None = None  # flag that must be set, e.g. "trust_remote_code=True"
    runs_repo_code: bool = True
    cross_repo: CrossRepoRef | None = None
    exists: bool = True  # False when the named file or class is missing
    notes: tuple[str, ...] = ()  # version-dependent behaviour, caveats

    @property
    def label(self) -> str:
        target = self.module or ""
        if self.qualname:
            target = f"{target}:{self.qualname}" if target else self.qualname
        if self.cross_repo is not None:
            target = self.cross_repo.reference
        return target or self.trigger


@dataclass(frozen=True)
class WeightFile:
    """A weight file the plan lists, with the kind its magic bytes gave."""

    path: str
    kind: FileKind
    size: int

    @property
    def data_only(self) -> bool:
        return self.kind in DATA_ONLY_KINDS

    @property
    def pickle_based(self) -> bool:
        return self.kind in PICKLE_KINDS


PICKLE_KINDS = frozenset(
    {FileKind.PICKLE, FileKind.TORCH_ZIP, FileKind.TORCH_LEGACY, FileKind.JOBLIB}
)
DATA_ONLY_KINDS = frozenset({FileKind.SAFETENSORS, FileKind.GGUF, FileKind.ONNX})


@dataclass(frozen=True)
class LoadPlan:
    """Everything a load will execute, as far as configs and layout tell."""

    loaders: tuple[Loader, ...]
    entry_points: tuple[EntryPoint, ...]
    executed_files: tuple[str, ...]  # repo files that run as code on load
    cross_repo_refs: tuple[CrossRepoRef, ...] = ()
    weights: tuple[WeightFile, ...] = ()
    requirements: tuple[str, ...] = ()  # packages the repo asks for (requirements, hub deps)
    config_findings: tuple[Finding, ...] = ()  # things detection itself found alarming
    errors: tuple[ScanError, ...] = ()

    @property
    def runs_repo_code(self) -> bool:
        return any(ep.runs_repo_code for ep in self.entry_points)

    @property
    def trust_flags(self) -> tuple[str, ...]:
        return tuple(sorted({ep.trust_flag for ep in self.entry_points if ep.trust_flag}))


# --------------------------------------------------------------------------- reachability


@dataclass(frozen=True)
class Scope:
    """A function or method span in a file, reached or not."""

    path: str
    qualname: str
    line: int
    end_line: int


@dataclass(frozen=True)
class ReachNode:
    """A reachable module (``qualname is None``) or function, with one witness path."""

    id: str  # "pkg/mod.py" or "pkg/mod.py::Class.method"
    path: str
    qualname: str | None
    witness: tuple[str, ...]  # entry trigger -> ... -> this node, human-readable steps


@dataclass(frozen=True)
class Unresolved:
    """A call or import reachability could not resolve: reach is unknown past it."""

    path: str
    line: int
    reason: str  # e.g. "getattr with non-constant name"

    @property
    def attribute_only(self) -> bool:
        """A computed attribute lookup: it can call code of imported modules, import nothing."""
        return self.reason.startswith(("getattr", "call through"))


@dataclass(frozen=True)
class ReachGraph:
    """What a load executes: reached modules and functions, each with a witness path."""

    nodes: tuple[ReachNode, ...]
    edges: tuple[tuple[str, str], ...] = ()
    scopes: tuple[Scope, ...] = ()  # every function span in analysed files
    unresolved: tuple[Unresolved, ...] = ()
    truncated: bool = False  # the node budget was hit
    precision: str = "file"  # "file" (module level only) or "function"

    def node(self, node_id: str) -> ReachNode | None:
        index: dict[str, ReachNode] | None = self.__dict__.get("_node_index")
        if index is None:
            index = {n.id: n for n in self.nodes}
            object.__setattr__(self, "_node_index", index)
        return index.get(node_id)

    @property
    def files(self) -> frozenset[str]:
        return frozenset(n.path for n in self.nodes)

    @property
    def functions(self) -> tuple[ReachNode, ...]:
        return tuple(n for n in self.nodes if n.qualname is not None)

    def locate(self, path: str, line: int) -> tuple[bool, tuple[str, ...]]:
        """Is ``path:line`` reached, and by which witness path?

        The innermost function containing the line decides; a line outside
        every function is module top level, reached when the module is.
        """
        inner: Scope | None = None
        for scope in self._scopes_of(path):
            if scope.line <= line <= scope.end_line and (inner is None or scope.line >= inner.line):
                inner = scope
        if inner is not None and self.precision == "function":
            hit = self.node(f"{path}::{inner.qualname}")
            return (hit is not None, hit.witness if hit else ())
        module = self.node(path)
        return (module is not None, module.witness if module else ())

    def _scopes_of(self, path: str) -> tuple[Scope, ...]:
        index: dict[str, tuple[Scope, ...]] | None = self.__dict__.get("_scope_index")
        if index is None:
            grouped: dict[str, list[Scope]] = {}
            for scope in self.scopes:
                grouped.setdefault(scope.path, []).append(scope)
            index = {k: tuple(v) for k, v in grouped.items()}
            object.__setattr__(self, "_scope_index", index)
        return index.get(path, ())


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Location:
    """Where a finding is: a repo file (or archive member) and a line or byte offset."""

    path: str  # repo-relative; for archive members "archive.pt!archive/data.pkl"
    line: int | None = None  # 1-based; None for whole-file or binary findings
    column: int | None = None
    end_line: int | None = None
    offset: int | None = None  # byte offset in binary files (pickle opcode position)


@dataclass(frozen=True)
class Finding:
    """One judged observation: rule, CWE, severity x confidence, place and reachability."""

    rule_id: str  # stable, e.g. "LG-CMD-001"
    analyzer: str  # "native", "pickle", "yara", "bandit" ...
    message: str
    severity: Severity
    confidence: Confidence
    location: Location
    cwe: tuple[str, ...] = ()  # e.g. ("CWE-78",)
    snippet: str = ""
    reachable: bool | None = None  # None: not known (no reach analysis or unresolved)
    witness: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # decoding chain, opcode trail, matched strings
    also_reported_by: tuple[str, ...] = ()  # other analyzers merged into this finding

    @property
    def fingerprint(self) -> str:
        """Stable across line shifts: rule, file, and the normalised snippet or offset."""
        anchor = " ".join(self.snippet.split()) or str(self.location.offset or self.message)
        raw = "\x1f".join((self.rule_id, self.location.path, anchor))
        import hashlib  # here, not at the top: OpenSSL's start-up costs ~3 ms

        return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:32]

    @property
    def rank(self) -> float:
        """Severity x confidence x reachability, for ordering and verdicts."""
        reach = {True: 1.0, None: 0.7, False: 0.35}[self.reachable]
        return (int(self.severity) + 1) * (int(self.confidence) + 1) * reach


@dataclass(frozen=True)
class ScanError:
    """Something that could not be analysed. Errors are reported, never swallowed."""

    path: str  # repo-relative, or "" for the snapshot as a whole
    stage: str  # "source", "detect", "reach", or an analyzer name
    message: str
    kind: str = "error"  # short machine tag: "parse", "too-large", "symlink-escape" ...


@dataclass(frozen=True)
class AnalyzerStats:
    """How one analyzer ran on a snapshot: files, cache hits, findings, time."""

    name: str
    files: int = 0
    cached: int = 0
    findings: int = 0
    errors: int = 0
    seconds: float = 0.0
    skipped_reason: str | None = None  # optional tool missing, disabled ...


@dataclass(frozen=True)
class ScanResult:
    """Everything one scan of one snapshot found: plan, reach, findings, errors, verdict."""

    snapshot: SnapshotIdentity
    plan: LoadPlan
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    verdict: Verdict
    reach: ReachGraph | None = None
    stats: tuple[AnalyzerStats, ...] = ()
    file_count: int = 0
    total_bytes: int = 0
    # What the source knew at the end of the scan: hub metadata, bytes fetched,
    # whether the listing was partial. Plain JSON-able values.
    source: Mapping[str, object] = field(default_factory=dict, compare=False)
    # Weight formats and pickle-vs-safetensors coverage (census.WeightCensus.to_dict()).
    weight_census: Mapping[str, object] | None = field(default=None, compare=False)

    def iter_findings(self, minimum: Severity = Severity.INFO) -> Iterator[Finding]:
        return (f for f in self.findings if f.severity >= minimum)

    @property
    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)
