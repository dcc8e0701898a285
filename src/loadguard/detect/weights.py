"""Weight files by format, and the deserializers that would run on them."""

from __future__ import annotations

from ..filekinds import WEIGHT_KINDS
from ..model import PICKLE_KINDS, EntryKind, EntryPoint, FileKind, Loader, WeightFile
from .context import DetectContext, Detection

PICKLE_NOTES = (
    "torch.load uses weights_only=True by default since torch 2.6 (CVE-2025-32434); before "
    "2.6, with weights_only=False, or via TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD, every callable the "
    "pickle names runs",
)
LOADER_BY_KIND = {
    FileKind.KERAS: Loader.KERAS,
    FileKind.HDF5: Loader.KERAS,
    FileKind.GGUF: Loader.GGUF,
}


def weight_files(ctx: DetectContext) -> tuple[WeightFile, ...]:
    return tuple(
        WeightFile(entry.path, ctx.kinds[entry.path], entry.size)
        for entry in ctx.snapshot.files
        if ctx.kinds.get(entry.path) in WEIGHT_KINDS
    )


def detect(ctx: DetectContext) -> Detection:
    det = Detection()
    for weight in weight_files(ctx):
        if weight.kind in PICKLE_KINDS:
            det.use(Loader.PICKLE)
            det.entry_points.append(
                EntryPoint(
                    Loader.PICKLE,
                    EntryKind.WEIGHTS,
                    f"unpickling {weight.path}",
                    weight.path,
                    None,
                    "weights_only=False",
                    runs_repo_code=False,
                    notes=PICKLE_NOTES,
                )
            )
        elif weight.kind in LOADER_BY_KIND:
            loader = LOADER_BY_KIND[weight.kind]
            det.use(loader)
            det.entry_points.append(
                EntryPoint(
                    loader,
                    EntryKind.WEIGHTS,
                    f"loading {weight.path}",
                    weight.path,
                    None,
                    "safe_mode=False" if loader is Loader.KERAS else None,
                    runs_repo_code=False,
                )
            )
    return det
