"""Weight-format census of one snapshot: which formats, and does a data-only file cover each pickle?

For the study's SafeTensors adoption figure. "Covered" compares tensor names
where they are cheap to know: SafeTensors header keys against the state-dict
keys a pickle rebuilds tensors for (read from ``data.pkl`` / the legacy
stream, never the storages). Files are compared per folder, so sharded
checkpoints compare as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from .limits import DEFAULT_LIMITS, Limits
from .model import DATA_ONLY_KINDS, PICKLE_KINDS, FileKind, Snapshot

if TYPE_CHECKING:
    from .analyzers.pickle import PickleScan

# Statuses of one pickle file.
COVERED = "covered"  # every tensor name is in a data-only file of the folder
PARTIAL = "partial"  # at most 5 % missing (tied weights dropped by save_pretrained)
NOT_COVERED = "not-covered"
NO_TENSORS = "no-tensors"  # a pickle without tensors (training_args.bin, configs)
UNKNOWN = "unknown"  # names not cheaply known (whole-module pickle, parse error, GGUF/ONNX)


@dataclass(frozen=True)
class PickleCoverage:
    """Whether one pickle-based weight file has a data-only twin in its folder."""

    path: str
    kind: FileKind
    status: str
    tensors: int = 0
    missing: int = 0
    covered_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "status": self.status,
            "tensors": self.tensors,
            "missing": self.missing,
            "covered_by": list(self.covered_by),
        }


@dataclass(frozen=True)
class WeightCensus:
    """The weight formats of a snapshot and how far data-only files cover its pickles."""

    formats: Mapping[str, int]  # FileKind value -> file count
    bytes_by_format: Mapping[str, int]
    pickle_files: tuple[str, ...]
    data_only_files: tuple[str, ...]
    coverage: tuple[PickleCoverage, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def has_safetensors(self) -> bool:
        return self.formats.get(FileKind.SAFETENSORS.value, 0) > 0

    @property
    def pickle_only(self) -> bool:
        """Pickle weights and no data-only alternative at all."""
        return bool(self.pickle_files) and not self.data_only_files

    @property
    def all_pickles_covered(self) -> bool | None:
        """True when every pickle with tensors has a same-named data-only twin; None if unknowable."""
        relevant = [c for c in self.coverage if c.status != NO_TENSORS]
        if not relevant:
            return None if self.pickle_files else True
        if any(c.status == UNKNOWN for c in relevant):
            return None
        return all(c.status in (COVERED, PARTIAL) for c in relevant)

    def to_dict(self) -> dict[str, object]:
        return {
            "formats": dict(sorted(self.formats.items())),
            "bytes_by_format": dict(sorted(self.bytes_by_format.items())),
            "pickle_files": list(self.pickle_files),
            "data_only_files": list(self.data_only_files),
            "has_safetensors": self.has_safetensors,
            "pickle_only": self.pickle_only,
            "all_pickles_covered": self.all_pickles_covered,
            "coverage": [c.to_dict() for c in self.coverage],
            "errors": list(self.errors),
        }


def weight_census(
    snapshot: Snapshot,
    kinds: Mapping[str, FileKind],
    limits: Limits = DEFAULT_LIMITS,
    *,
    known_names: Mapping[str, object] | None = None,
) -> WeightCensus:
    """Census of the snapshot's weight files (reads headers and pickle members only).

    ``known_names`` holds tensor names the pickle analyzer already read in this
    scan (path -> names or None); only the other pickles are read here.
    """
    known = known_names or {}
    from .filekinds import WEIGHT_KINDS

    formats: dict[str, int] = {}
    sizes: dict[str, int] = {}
    pickles: list[str] = []
    data_only: list[str] = []
    for entry in snapshot.files:
        kind = kinds.get(entry.path)
        if kind not in WEIGHT_KINDS:
            continue
        assert kind is not None
        formats[kind.value] = formats.get(kind.value, 0) + 1
        sizes[kind.value] = sizes.get(kind.value, 0) + entry.size
        if kind in PICKLE_KINDS:
            pickles.append(entry.path)
        elif kind in DATA_ONLY_KINDS:
            data_only.append(entry.path)
    errors: list[str] = []
    st_names: dict[str, set[str]] = {}
    st_files: dict[str, list[str]] = {}
    for path in data_only:
        if kinds[path] is not FileKind.SAFETENSORS:
            continue
        folder = path.rpartition("/")[0]
        try:
            header_names = _safetensors_names(snapshot, path)
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        st_names.setdefault(folder, set()).update(header_names)
        st_files.setdefault(folder, []).append(path)
    coverage: list[PickleCoverage] = []
    for path in pickles:
        kind = kinds[path]
        folder = path.rpartition("/")[0]
        names: tuple[str, ...] | None
        if path in known:
            names = _names(known[path])
        else:
            try:
                names = pickle_tensor_names(snapshot, path, kind, limits)
            except (OSError, ValueError) as exc:
                errors.append(f"{path}: {exc}")
                names = None
        twins = tuple(st_files.get(folder, ()))
        folder_data_only = [p for p in data_only if p.rpartition("/")[0] == folder]
        if names is None:
            status = UNKNOWN if folder_data_only else NOT_COVERED
            coverage.append(PickleCoverage(path, kind, status, covered_by=tuple(folder_data_only)))
            continue
        if not names:
            coverage.append(PickleCoverage(path, kind, NO_TENSORS))
            continue
        if not twins:
            status = UNKNOWN if folder_data_only else NOT_COVERED
            coverage.append(PickleCoverage(path, kind, status, len(names), len(names)))
            continue
        available = st_names[folder]
        missing = sum(1 for n in names if not _matches(n, available))
        if missing == 0:
            status = COVERED
        elif missing <= len(names) // 20:
            status = PARTIAL
        else:
            status = NOT_COVERED
        coverage.append(PickleCoverage(path, kind, status, len(names), missing, twins))
    return WeightCensus(
        formats=formats,
        bytes_by_format=sizes,
        pickle_files=tuple(pickles),
        data_only_files=tuple(data_only),
        coverage=tuple(coverage),
        errors=tuple(errors),
    )


def _names(value: object) -> tuple[str, ...] | None:
    return cast("tuple[str, ...]", value) if isinstance(value, tuple) else None


def _matches(name: str, available: set[str]) -> bool:
    if name in available:
        return True
    # checkpoints wrap the state dict ("model.", "state_dict.", "module." for DDP)
    _, _, rest = name.partition(".")
    return bool(rest) and rest in available


def _safetensors_names(snapshot: Snapshot, path: str) -> tuple[str, ...]:
    from .analyzers.weights import read_safetensors_header

    entry = snapshot.file(path)
    size = entry.size if entry is not None else 0
    with snapshot.store.open(path) as stream:
        header = read_safetensors_header(stream, size)
    if header.problems and not header.tensors:
        raise ValueError(f"unreadable safetensors header: {header.problems[0]}")
    return header.names


def pickle_tensor_names(
    snapshot: Snapshot, path: str, kind: FileKind, limits: Limits
) -> tuple[str, ...] | None:
    """State-dict tensor names of a pickle-based file, or None when they cannot be told."""
    from .analyzers.containers import mapped, member_data
    from .analyzers.pickle import scan_pickles
    from .zipdir import zip_members

    entry = snapshot.file(path)
    size = entry.size if entry is not None else None
    with snapshot.store.open(path) as stream, mapped(stream, size, limits) as buf:
        if buf is None:
            return None
        if kind is FileKind.TORCH_ZIP:
            members = [m for m in zip_members(buf) if m.name.endswith("data.pkl")]
            if len(members) != 1:
                return None
            data, lo, hi = member_data(buf, members[0], limits)
            seen = {members[0].name: scan_pickles(data, lo, hi, limits=limits)}
        elif kind is FileKind.TORCH_LEGACY:
            seen = {"": scan_pickles(buf, limits=limits, count=5)}
        else:
            seen = {"": scan_pickles(buf, limits=limits)}
    return tensor_names_from(kind, seen)


def tensor_names_from(
    kind: FileKind, seen: Mapping[str, Sequence[PickleScan]]
) -> tuple[str, ...] | None:
    """State-dict tensor names from one file's pickle scans, keyed by zip member ("" = file)."""
    if kind is FileKind.TORCH_ZIP:
        members = [name for name in seen if name.endswith("data.pkl")]
        if len(members) != 1:
            return None
        scans = seen[members[0]]
    else:
        scans = seen.get("", ())
    if not scans or any(s.error for s in scans):
        return None
    names: list[str] = []
    for scan in scans:
        names.extend(scan.tensor_names)
    if not names and any(
        i.qualname.startswith(("torch._utils._rebuild_", "torch.nn."))
        for s in scans
        for i in s.imports
    ):
        return None  # tensors inside objects (whole-module pickle): names not cheaply known
    return tuple(dict.fromkeys(names))
