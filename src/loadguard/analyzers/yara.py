"""YARA over every file of a snapshot, weights included, with loadguard's own rules.

The rules (``loadguard/rules/yara/*.yar``) look for what the AST rules cannot
see or should not have to: shell one-liners in any file, pickle opcode bytes
inside weights, miner and exfiltration endpoints, environment checks. They are
compiled once per process. Each file is read at most ``2 * window`` bytes: a
file larger than that is scanned as its first and last window (pickle streams
and appended payloads live there), so a 10 GB checkpoint costs two bounded
reads, never a whole-file read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import MissingExtra
from ..filekinds import WEIGHT_KINDS
from ..model import Confidence, FileEntry, FileKind, Finding, Location, Severity
from .base import AnalysisContext, AnalyzerOutput

MiB = 1 << 20
DEFAULT_WINDOW = 32 * MiB  # bytes read from each end of a large file
MAX_WEIGHT_BYTES = 1 * MiB  # weight files above this are not matched byte-wise
MAX_EVIDENCE = 5
TEXT_KINDS = frozenset({FileKind.PYTHON, FileKind.JSON, FileKind.YAML, FileKind.TEXT})
# Prose files document commands (install instructions piping curl to sh);
# they do not run, so their matches are reported but capped at LOW. A pip
# requirements or constraints file is a ``.txt`` that pip does act on (its
# --index-url, --extra-index-url and --trusted-host lines), so it is not prose.
DOC_SUFFIXES = (".md", ".rst", ".txt", ".html", ".htm", ".ipynb")
PIP_FILE_PREFIXES = ("requirements", "constraints")
CONFIDENCE_BY_SEVERITY = {
    Severity.CRITICAL: Confidence.HIGH,
    Severity.HIGH: Confidence.MEDIUM,
    Severity.MEDIUM: Confidence.MEDIUM,
    Severity.LOW: Confidence.LOW,
    Severity.INFO: Confidence.LOW,
}


def _rule_files() -> dict[str, str]:
    """Namespace -> path of every shipped rule file, sorted for a stable version."""
    folder = resources.files("loadguard").joinpath("rules").joinpath("yara")
    return {
        item.name.removesuffix(".yar"): str(item)
        for item in sorted(folder.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yar")
    }


@functools.lru_cache(maxsize=1)
def rules_digest() -> str:
    digest = hashlib.sha256()
    for namespace, path in _rule_files().items():
        digest.update(namespace.encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def compiled_rules() -> Any:
    """The shipped rules, compiled once per process (raises ``MissingExtra``).

    Compiling takes ~15 ms, a sizeable part of a small scan's start-up, so the
    compiled form is kept in the user's cache directory under the rules' digest
    and the libyara version, and loaded (<1 ms) by later processes. A missing,
    stale or damaged cache file is compiled again; a cache that cannot be
    written is not an error.
    """
    yara = _import_yara()
    cached = compiled_rules_path(yara.__version__)
    if cached is not None:
        try:
            if cached.is_file():
                return yara.load(str(cached))
        except (yara.Error, OSError):
            pass
    rules = yara.compile(filepaths=_rule_files())
    if cached is not None:
        _save_compiled(rules, cached)
    return rules


def compiled_rules_path(yara_version: str) -> Path | None:
    """Where compiled rules are cached: ``$LOADGUARD_CACHE_DIR``, else the XDG cache.

    ``LOADGUARD_CACHE_DIR=""`` turns the cache off.
    """
    configured = os.environ.get("LOADGUARD_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        root = Path(configured)
    elif xdg := os.environ.get("XDG_CACHE_HOME"):
        root = Path(xdg) / "loadguard"
    else:
        try:
            root = Path.home() / ".cache" / "loadguard"
        except (RuntimeError, KeyError):  # no $HOME and no passwd entry: no cache
            return None
    return root / f"yara-{rules_digest()}-{yara_version}.yarc"


def _save_compiled(rules: Any, path: Path) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        rules.save(str(partial))
        os.replace(partial, path)  # readers never see a half-written file
    except Exception:  # a read-only home, a full disk: the next run compiles again
        with contextlib.suppress(OSError):
            partial.unlink()


def _import_yara() -> Any:
    try:
        import yara
    except ImportError:
        raise MissingExtra("YARA scanning", "yara") from None
    return yara


@dataclass(frozen=True)
class RuleMeta:
    rule_id: str
    cwe: tuple[str, ...]
    severity: Severity
    description: str
    family: str

    @classmethod
    def of(cls, name: str, meta: dict[str, Any]) -> RuleMeta:
        cwe = str(meta.get("cwe", ""))
        return cls(
            rule_id=str(meta.get("id", name)),
            cwe=tuple(c.strip() for c in cwe.split(",") if c.strip()),
            severity=Severity.parse(str(meta.get("severity", "medium"))),
            description=str(meta.get("description", name)),
            family=str(meta.get("family", "")),
        )


@dataclass(frozen=True)
class _Hit:
    identifier: str
    offset: int  # in the file, not the window
    data: bytes


class YaraAnalyzer:
    """``FileAnalyzer`` running the shipped YARA rules over every non-empty file."""

    name = "yara"

    def __init__(self) -> None:
        self._rules = compiled_rules()
        self.version = f"1.{rules_digest()}"

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        # Tensor bytes are noise to byte patterns and, on a hub, a download: large
        # weight files are left to the format-aware pickle and weights analyzers.
        return entry.size > 0 and not (kind in WEIGHT_KINDS and entry.size > MAX_WEIGHT_BYTES)

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        window = _window(ctx)
        whole: bytes | None = None
        matches: dict[str, tuple[RuleMeta, list[_Hit]]] = {}
        for base, data in _windows(ctx, entry, window):
            if base == 0 and len(data) == entry.size:
                whole = data
            for match in self._rules.match(
                data=data, timeout=max(1, int(ctx.limits.per_file_seconds))
            ):
                meta = RuleMeta.of(match.rule, match.meta)
                hits = matches.setdefault(match.rule, (meta, []))[1]
                hits.extend(_hits(match, base))
        findings = tuple(
            _finding(entry, kind, meta, sorted(hits, key=lambda h: h.offset), whole)
            for meta, hits in matches.values()
            if hits
        )
        return AnalyzerOutput(findings=findings)


def _window(ctx: AnalysisContext) -> int:
    value = ctx.options.get("yara_window_bytes", DEFAULT_WINDOW)
    return value if isinstance(value, int) and value > 0 else DEFAULT_WINDOW


def _windows(ctx: AnalysisContext, entry: FileEntry, window: int) -> Iterator[tuple[int, bytes]]:
    """(file offset, bytes): the whole file when small, else its head and tail."""
    with ctx.snapshot.store.open(entry.path) as stream:
        head = stream.read(2 * window)
        if len(head) < 2 * window:
            yield 0, head
            return
        # Large: keep only the head window and read the tail window separately.
        yield 0, head[:window]
        stream.seek(0, 2)
        size = stream.tell()
        start = max(window, size - window)
        stream.seek(start)
        yield start, stream.read(window)


def _hits(match: Any, base: int) -> Iterator[_Hit]:
    for string in match.strings:
        for instance in string.instances:
            yield _Hit(string.identifier, base + instance.offset, bytes(instance.matched_data))


def _finding(
    entry: FileEntry, kind: FileKind, meta: RuleMeta, hits: Sequence[_Hit], whole: bytes | None
) -> Finding:
    first = hits[0]
    line: int | None = None
    snippet = _printable(first.data)
    if kind in TEXT_KINDS and whole is not None:
        line = whole.count(b"\n", 0, first.offset) + 1
        start = whole.rfind(b"\n", 0, first.offset) + 1
        end = whole.find(b"\n", first.offset)
        snippet = _printable(whole[start : end if end >= 0 else len(whole)])
    severity = meta.severity
    message = f"{meta.description} (YARA {meta.family or 'rule'})"
    if _is_documentation(entry.path) and severity > Severity.LOW:
        severity = Severity.LOW
        message += "; in a documentation file, which does not run"
    evidence = tuple(
        f"{h.identifier} @ {h.offset}: {_printable(h.data)}" for h in _distinct(hits)[:MAX_EVIDENCE]
    )
    return Finding(
        rule_id=meta.rule_id,
        analyzer="yara",
        message=message,
        severity=severity,
        confidence=CONFIDENCE_BY_SEVERITY[meta.severity],
        location=Location(entry.path, line=line, offset=None if line else first.offset),
        cwe=meta.cwe,
        snippet=snippet,
        evidence=evidence,
    )


def _is_documentation(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(DOC_SUFFIXES) and not (
        name.endswith(".txt") and name.startswith(PIP_FILE_PREFIXES)
    )


def _distinct(hits: Sequence[_Hit]) -> list[_Hit]:
    seen: set[tuple[str, bytes]] = set()
    out: list[_Hit] = []
    for hit in hits:
        if (hit.identifier, hit.data) not in seen:
            seen.add((hit.identifier, hit.data))
            out.append(hit)
    return out


def _printable(data: bytes, limit: int = 200) -> str:
    text = data[:limit].decode("utf-8", "backslashreplace")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text.strip() + ("…" if len(data) > limit else "")
