"""``loadguard convert``: pickle weights -> safetensors, unpickled only inside the sandbox.

The child loads each pickle-based weight file and streams its tensors over a
pipe: one JSON manifest line per file (names, dtypes, shapes, byte counts),
then the raw bytes in manifest order. This side validates the manifest,
checks every byte count while copying, and writes the ``.safetensors`` file
itself; the child never sees the output folder (it is not in its mount
namespace at all). Configs and tokenizer files are copied by this side;
Python files are not.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from ..errors import LoadguardError
from ..filekinds import classify_all
from ..limits import MiB
from ..model import PICKLE_KINDS, FileKind
from .launcher import SandboxConfig, run_in_sandbox
from .trial import TrialReport, build_report, resolve_target

DTYPE_SIZES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "U16": 2,
    "U32": 4,
    "U64": 8,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}
MAX_MANIFEST_BYTES = 64 * MiB
MAX_TENSORS = 1_000_000
MAX_NAME = 4096
MAX_RANK = 32
CHUNK = 1 << 20
COPY_SUFFIXES = (
    ".json",
    ".txt",
    ".model",
    ".tiktoken",
    ".md",
    ".yaml",
    ".yml",
    ".jinja",
    ".vocab",
    ".spm",
    ".bpe",
    ".merges",
    ".safetensors",
)
COPY_KINDS = frozenset({FileKind.JSON, FileKind.YAML, FileKind.TEXT, FileKind.SAFETENSORS})


class StreamRejected(LoadguardError):
    """The child's tensor stream broke the protocol; nothing of that file is kept."""


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class ConvertedFile:
    source: str
    output: str
    tensors: int
    bytes: int
    skipped: tuple[str, ...] = ()  # entries that were not plain tensors (optimizer step counts ...)


@dataclass(frozen=True)
class ConvertReport:
    target: str
    out_dir: str
    converted: tuple[ConvertedFile, ...]
    failed: tuple[tuple[str, str], ...]  # (source, why)
    copied: tuple[str, ...]
    not_copied: tuple[tuple[str, str], ...]  # (path, why)
    notes: tuple[str, ...]
    trial: TrialReport

    @property
    def ok(self) -> bool:
        return bool(self.converted) and not self.failed


def output_name(source: str) -> str:
    """transformers/diffusers names where they exist, else ``<stem>.safetensors``."""
    folder, _, name = source.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if stem == "pytorch_model":
        return f"{prefix}model.safetensors"
    if stem.startswith("pytorch_model-") and "-of-" in stem:
        return f"{prefix}model-{stem[len('pytorch_model-') :]}.safetensors"
    if stem.startswith("diffusion_pytorch_model"):
        return f"{prefix}{stem}.safetensors"
    return f"{prefix}{stem}.safetensors"


def validate_manifest(
    raw: Mapping[str, Any], max_bytes: int
) -> tuple[str, list[TensorSpec], list[str]]:
    source = raw.get("file")
    tensors = raw.get("tensors")
    if not isinstance(source, str) or not isinstance(tensors, list):
        raise StreamRejected("manifest without file name or tensor list")
    if len(tensors) > MAX_TENSORS:
        raise StreamRejected(f"{len(tensors)} tensors exceeds {MAX_TENSORS}")
    specs: list[TensorSpec] = []
    names: set[str] = set()
    total = 0
    for item in tensors:
        if not isinstance(item, dict):
            raise StreamRejected("tensor entry is not an object")
        name, dtype, shape, nbytes = (item.get(k) for k in ("name", "dtype", "shape", "nbytes"))
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or "\x00" in name:
            raise StreamRejected(f"bad tensor name {name!r:.80}")
        if name == "__metadata__" or name in names:
            raise StreamRejected(f"duplicate or reserved tensor name {name!r:.80}")
        if dtype not in DTYPE_SIZES:
            raise StreamRejected(f"{name}: unsupported dtype {dtype!r:.40}")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_RANK
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise StreamRejected(f"{name}: bad shape {shape!r:.80}")
        expected = math.prod(shape) * DTYPE_SIZES[str(dtype)]
        if nbytes != expected:
            raise StreamRejected(
                f"{name}: {nbytes!r} bytes announced, shape and dtype give {expected}"
            )
        total += expected
        if total > max_bytes:
            raise StreamRejected(f"tensors exceed the {max_bytes}-byte output limit")
        names.add(name)
        specs.append(TensorSpec(name, str(dtype), tuple(shape), expected))
    skipped = raw.get("skipped")
    listed = skipped if isinstance(skipped, list) else []
    return source, specs, [str(s)[:200] for s in listed][:1000]


def safetensors_header(specs: list[TensorSpec], metadata: Mapping[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    offset = 0
    for spec in specs:
        header[spec.name] = {
            "dtype": spec.dtype,
            "shape": list(spec.shape),
            "data_offsets": [offset, offset + spec.nbytes],
        }
        offset += spec.nbytes
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # 8-byte aligned data, as safetensors writes it
    return struct.pack("<Q", len(encoded)) + encoded


def _copy_exact(stream: IO[bytes], out: IO[bytes], count: int, name: str) -> None:
    left = count
    while left:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise StreamRejected(f"{name}: stream ended {left} bytes early")
        out.write(chunk)
        left -= len(chunk)


class SafetensorsSink:
    """Consumes the child's stream and writes validated files into ``out_dir``."""

    def __init__(self, out_dir: Path, expected: list[str], max_bytes: int) -> None:
        self.out_dir = out_dir
        self.expected = expected
        self.max_bytes = max_bytes
        self.written: list[ConvertedFile] = []
        self.rejected: list[tuple[str, str]] = []

    def __call__(self, stream: IO[bytes]) -> None:
        while True:
            line = stream.readline(MAX_MANIFEST_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_MANIFEST_BYTES or not line.endswith(b"\n"):
                raise StreamRejected("manifest line too long or truncated")
            try:
                raw = json.loads(line)
            except ValueError as exc:
                raise StreamRejected(f"manifest is not JSON: {exc}") from exc
            if not isinstance(raw, dict):
                raise StreamRejected("manifest is not an object")
            source, specs, skipped = validate_manifest(raw, self.max_bytes)
            done = {c.source for c in self.written}
            if source not in self.expected or source in done:
                raise StreamRejected(f"unexpected file in stream: {source!r:.200}")
            self.written.append(self._write(stream, source, specs, skipped))

    def _write(
        self, stream: IO[bytes], source: str, specs: list[TensorSpec], skipped: list[str]
    ) -> ConvertedFile:
        name = output_name(source)
        final = self.out_dir / name
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.partial")
        try:
            with open(partial, "wb") as out:
                out.write(safetensors_header(specs, {"format": "pt"}))
                for spec in specs:
                    _copy_exact(stream, out, spec.nbytes, spec.name)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        total = sum(s.nbytes for s in specs)
        return ConvertedFile(source, name, len(specs), total, tuple(skipped))


def convert_to_safetensors(
    target: str | Path,
    out_dir: str | Path,
    *,
    config: SandboxConfig | None = None,
    weights_only: bool = False,
    overwrite: bool = False,
) -> ConvertReport:
    resolved = resolve_target(target)
    out = Path(out_dir).expanduser().resolve()
    model_dir = resolved.model_dir.resolve()
    if out == model_dir or model_dir in out.parents or out in model_dir.parents:
        raise LoadguardError(f"{out}: the output folder must not overlap the model folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise LoadguardError(f"{out}: not empty (use --overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    snapshot = resolved.snapshot
    kinds = classify_all(snapshot)
    weights = [
        f.path
        for f in snapshot.files
        if kinds.get(f.path) in PICKLE_KINDS and (resolved.only_file in (None, f.path))
    ]
    notes: list[str] = []
    steps = [{"kind": "convert", "path": w, "weights_only": weights_only} for w in weights]
    input_bytes = sum(f.size for f in snapshot.files if f.path in weights)
    base = config or SandboxConfig()
    if resolved.ro_paths:
        base = replace(base, ro_paths=base.ro_paths + resolved.ro_paths)
    sink = SafetensorsSink(out, weights, max(4 * input_bytes, 256 * MiB))
    raw = run_in_sandbox(str(resolved.model_dir), steps, base, data_sink=sink) if steps else None
    if raw is None:
        from .launcher import RawRun

        raw = RawRun(
            (), {}, (), "", False, None, 0.0, 0, True, (), "", "", 0, 0, base, "nothing to convert"
        )
        notes.append("no pickle-based weights found")
    trial = build_report(str(target), snapshot.repo_id, raw, None, "not part of convert", [])
    failed: list[tuple[str, str]] = []
    done = {c.source for c in sink.written}
    by_path = {str(s.spec.get("path")): s for s in trial.steps}
    for weight in weights:
        if weight in done:
            continue
        step = by_path.get(weight)
        if raw.sink_error:
            why = f"stream rejected: {raw.sink_error}"
        elif step is None:
            why = "the sandbox did not reach this file"
        elif step.error:
            why = f"{step.error.get('type')}: {step.error.get('message')}"
        else:
            why = "no tensors received"
        failed.append((weight, why))
    for step in trial.steps:
        how = str(step.result.get("how", ""))
        if how.startswith("weights_only=False"):
            notes.append(
                f"{step.spec.get('path')}: torch's weights_only loader refused it; it was unpickled "
                "fully inside the sandbox (see the telemetry for what it tried)"
            )
    copied, not_copied = _copy_side_files(snapshot, kinds, out, set(weights), sink.written)
    if any(p.endswith(".py") for p, _ in not_copied):
        notes.append(
            "Python files were not copied: the converted folder loads with trust_remote_code=False "
            "only when the architecture is built into the library"
        )
    return ConvertReport(
        target=str(target),
        out_dir=str(out),
        converted=tuple(sink.written),
        failed=tuple(failed),
        copied=tuple(copied),
        not_copied=tuple(not_copied),
        notes=tuple(notes),
        trial=trial,
    )


def _copy_side_files(
    snapshot: Any,
    kinds: Mapping[str, FileKind],
    out: Path,
    weights: set[str],
    written: list[ConvertedFile],
) -> tuple[list[str], list[tuple[str, str]]]:
    copied: list[str] = []
    not_copied: list[tuple[str, str]] = []
    renamed = {c.source: c.output for c in written}
    for entry in snapshot.files:
        path = entry.path
        if path in weights:
            continue
        if path.endswith(".bin.index.json") or path.endswith(".pt.index.json"):
            if _write_index(snapshot, path, out, renamed):
                copied.append(path)
            else:
                not_copied.append((path, "index of pickle shards that were not all converted"))
            continue
        kind = kinds.get(path)
        if kind is FileKind.PYTHON or not (kind in COPY_KINDS or path.endswith(COPY_SUFFIXES)):
            not_copied.append(
                (path, f"{kind.value if kind else 'unknown'} file: code or opaque data")
            )
            continue
        if kind in PICKLE_KINDS:
            not_copied.append((path, "pickle"))
            continue
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with snapshot.store.open(path) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, CHUNK)
        copied.append(path)
    return copied, not_copied


def _write_index(snapshot: Any, path: str, out: Path, renamed: Mapping[str, str]) -> bool:
    try:
        index = json.loads(snapshot.read(path, 64 * MiB))
        weight_map = index["weight_map"]
        folder = path.rpartition("/")[0]
        prefix = f"{folder}/" if folder else ""
        new_map = {}
        for tensor, shard in weight_map.items():
            converted = renamed.get(prefix + shard)
            if converted is None:
                return False
            new_map[tensor] = converted[len(prefix) :]
    except (ValueError, KeyError, TypeError, AttributeError, LoadguardError, OSError):
        return False
    total = sum((out / c).stat().st_size for c in {prefix + v for v in new_map.values()})
    name = (
        "model.safetensors.index.json"
        if "pytorch_model" in path
        else path.replace(".bin.", ".safetensors.").replace(".pt.", ".safetensors.")
    )
    document = {"metadata": {"total_size": total, "format": "pt"}, "weight_map": new_map}
    (out / prefix / name.rpartition("/")[2]).write_text(json.dumps(document, indent=2) + "\n")
    return True


def convert_report_to_dict(report: ConvertReport) -> dict[str, Any]:
    from .trial import report_to_dict

    trial = report_to_dict(report.trial)
    return {
        "schema": "loadguard-convert",
        "schema_version": trial["schema_version"],
        "tool": trial["tool"],
        "target": report.target,
        "out_dir": report.out_dir,
        "ok": report.ok,
        "converted": [
            {
                "source": c.source,
                "output": c.output,
                "tensors": c.tensors,
                "bytes": c.bytes,
                "skipped": list(c.skipped),
            }
            for c in report.converted
        ],
        "failed": [{"source": s, "reason": r} for s, r in report.failed],
        "copied": list(report.copied),
        "not_copied": [{"path": p, "reason": r} for p, r in report.not_copied],
        "notes": list(report.notes),
        "sandbox": {
            k: trial[k]
            for k in ("verdict", "boundary", "layers", "findings", "isolation_events", "process")
        },
    }


__all__ = [
    "ConvertReport",
    "ConvertedFile",
    "SafetensorsSink",
    "StreamRejected",
    "convert_report_to_dict",
    "convert_to_safetensors",
    "output_name",
    "safetensors_header",
    "validate_manifest",
]
