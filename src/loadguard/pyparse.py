"""Parse Python source once per distinct content, never executing it.

Every consumer (detection, reachability, native rules) asks here, so a file
is parsed once per process however many stages read it, and byte-identical
copies across repos share one tree.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import re
import sys
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

_PY2_HINTS = re.compile(
    rb"^\s*(print\s+[\"'\w]|exec\s+[\"'\w]|except\s+\w+\s*,\s*\w+\s*:)", re.MULTILINE
)
_CACHE_SIZE = 128


@dataclass(frozen=True)
class ParsedModule:
    """A parsed file: the tree plus the decoded text (for snippets)."""

    tree: ast.Module
    text: str
    sha256: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""


class ParseFailure(Exception):
    """The file is not analysable Python; ``kind`` says why (for error entries)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_cache: OrderedDict[str, ParsedModule | ParseFailure] = OrderedDict()


def parse_python(data: bytes, filename: str = "<repo>") -> ParsedModule:
    """Parse ``data``; raise ``ParseFailure`` for anything that is not valid Python 3."""
    import hashlib  # here, not at the top: a pickle-only scan never needs it

    digest = hashlib.sha256(data).hexdigest()
    hit = _cache.get(digest)
    if hit is None:
        hit = _parse_uncached(data, filename, digest)
        _cache[digest] = hit
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(digest)
    if isinstance(hit, ParseFailure):
        raise ParseFailure(hit.kind, str(hit))
    return hit


def decode_source(data: bytes) -> str:
    """Decode like the interpreter would (BOM, PEP 263 cookie), else UTF-8 with escapes."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "surrogateescape")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Parse without the cyclic GC, then move the new (acyclic) tree out of its reach.

    Trees are kept in the cache; letting every collection re-trace thousands of
    cached nodes made parsing 2-4x slower than the bare ``ast.parse`` floor.
    AST nodes hold no reference cycles, so reference counting still frees
    them when the cache drops them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _parse_uncached(data: bytes, filename: str, digest: str) -> ParsedModule | ParseFailure:
    if b"\x00" in data:
        return ParseFailure("parse", "source contains NUL bytes")
    try:
        text = decode_source(data)
    except Exception as exc:
        return ParseFailure("encoding", f"cannot decode source: {exc}")
    try:
        with warnings.catch_warnings(), _gc_paused():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            tree = ast.parse(text, filename=filename, type_comments=False)
    except SyntaxError as exc:
        if _PY2_HINTS.search(data):
            return ParseFailure("python2", f"Python 2 syntax (line {exc.lineno}): {exc.msg}")
        return ParseFailure("parse", f"syntax error at line {exc.lineno}: {exc.msg}")
    except (RecursionError, MemoryError):
        return ParseFailure("too-deep", "expression nesting too deep to parse")
    except (ValueError, OverflowError) as exc:
        return ParseFailure("parse", str(exc))
    return ParsedModule(tree=tree, text=text, sha256=digest)


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def iter_statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without visiting expressions (fast)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        for name in _BODY_FIELDS:
            children = getattr(node, name, None)
            if children:
                stack.extend(reversed(children))


def recursion_headroom(depth: int) -> None:
    """Raise the interpreter's recursion limit enough for visitors of ``depth`` levels."""
    wanted = depth * 4 + 1000
    if sys.getrecursionlimit() < wanted:
        sys.setrecursionlimit(wanted)
