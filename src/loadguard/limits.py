"""Resource bounds, as one validated frozen value passed down the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Bounds on what one scan reads and builds; every limit hit is reported, never silent."""

    max_text_bytes: int = 8 * MiB  # python/json/yaml files read whole
    max_repo_bytes_read: int = 4 * GiB  # all reads of one snapshot together
    max_files: int = 200_000  # files listed per snapshot
    max_depth: int = 64  # directory depth
    max_archive_members: int = 100_000
    max_archive_ratio: int = 250  # uncompressed / compressed, per member
    max_archive_member_bytes: int = 2 * GiB
    max_archive_total_bytes: int = 16 * GiB
    max_pickle_bytes: int = 256 * MiB  # one pickle stream (data.pkl, not tensors)
    max_pickle_opcodes: int = 20_000_000
    max_pickle_memo: int = 1_000_000
    max_nested_pickle_depth: int = 4
    max_ast_depth: int = 400  # deeper expressions are reported, not recursed into
    max_reach_nodes: int = 200_000
    per_file_seconds: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"Limits.{f.name} must be positive")


DEFAULT_LIMITS = Limits()
