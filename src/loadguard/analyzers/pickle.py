"""Pickle opcode analysis that never unpickles.

A small symbolic machine walks the opcode stream (protocols 0-5, the
semantics of CPython's ``pickle._Unpickler``) with a stack, a mark stack and a
memo, so ``STACK_GLOBAL`` operands that come from the memo resolve like they
would at load time. Every callable the stream imports (``GLOBAL``,
``STACK_GLOBAL``, ``INST``, ``EXT1/2/4``) is recorded with its byte offset and
whether an opcode invokes it (``REDUCE``, ``NEWOBJ(_EX)``, ``OBJ``, ``INST``,
``BUILD``) or it is only named. Bytes that flow into a ``loads``-like callable
are analysed as nested pickles (bounded depth); bytes that merely look like a
pickle (numpy buffers) are not.

The machine reads from any buffer that supports ``[i]``, slices and ``find``
(``bytes`` or an ``mmap``): big ``BINBYTES`` payloads are skipped by offset,
never copied, so memory stays flat whatever the file size.

Run ``python -m loadguard.analyzers.pickle FILES...`` for a quick scan.
"""

from __future__ import annotations

if __name__ == "__main__":  # ``python -m``: delegate to the package's module, not a second copy
    from loadguard.analyzers.pickle import main as _main

    try:
        raise SystemExit(_main())
    except BrokenPipeError:  # output piped into head & co
        raise SystemExit(0) from None

import re
import struct
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from ..limits import DEFAULT_LIMITS, Limits
from ..model import Confidence, FileEntry, FileKind, Finding, Location, Severity
from ..rules import pickle_rules as rules
from .base import TENSOR_NAMES, AnalysisContext, AnalyzerOutput, FileFact

ANALYZER = "pickle"
VERSION = "1.0"

# Rule ids (stable; documented in docs/weights.md).
RULE_DENIED_CALL = "LG-PKL-001"  # a denied callable is invoked
RULE_DENIED_NAME = "LG-PKL-002"  # a denied callable is imported, not invoked by an opcode
RULE_UNKNOWN = "LG-PKL-003"  # neither allowed nor denied
RULE_CLASS = "LG-PKL-004"  # whole-object pickle: library classes must import
RULE_DYNAMIC_GLOBAL = "LG-PKL-005"  # STACK_GLOBAL operands computed at load time
RULE_EXTENSION = "LG-PKL-006"  # EXT1/2/4: copyreg extension registry
RULE_MALFORMED = "LG-PKL-007"  # truncated / invalid stream, or a limit hit
RULE_NESTED = "LG-PKL-008"  # nested pickle handed to a loads-like callable
RULE_MUTATES_GLOBAL = "LG-PKL-009"  # BUILD/SETITEM/APPEND on an imported object
RULE_DYNAMIC_CALL = "LG-PKL-010"  # calls a value computed by another call
RULE_UNKNOWN_DANGEROUS = "LG-PKL-011"  # unknown import whose name says what it does
RULE_CLASS_FETCHES = "LG-PKL-013"  # a library class constructed with a URL, repo id or path

SMALL_STR = 4096  # strings up to this many bytes are decoded eagerly
CONTAINER_KEEP = 10_000  # items kept per list/dict (the rest is counted, not stored)
MAX_STACK = 1_000_000
MAX_LONG_BYTES = 1 << 16
MAX_IMPORT_SITES = 100_000
TENSOR_REBUILDERS = ("torch._utils._rebuild_", "torch._tensor._rebuild_from_type")


# --------------------------------------------------------------------------- results


class ImportSite(NamedTuple):
    """One callable a pickle imports, where, and whether an opcode calls it."""

    module: str
    name: str
    offset: int
    opcode: str  # GLOBAL, STACK_GLOBAL, INST, EXT1/2/4
    invoked: bool
    via: str | None = None  # the opcode that invoked it first
    argument: str | None = None  # a URL or path it was called with (REDUCE, INST, OBJ)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


class Anomaly(NamedTuple):
    kind: str  # dynamic-global, mutates-global, dynamic-call, nested-unresolved, limit
    offset: int
    detail: str


class NestedScan(NamedTuple):
    loader: str  # the loads-like callable
    offset: int  # where it is invoked in the outer stream
    data_offset: int | None  # where the nested bytes start in the outer stream, if in place
    scans: tuple[PickleScan, ...]


class PickleScan(NamedTuple):
    """What one pickle (from PROTO to STOP) imports and does."""

    start: int
    end: int  # offset after STOP (or where reading stopped)
    protocol: int
    opcodes: int
    imports: tuple[ImportSite, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    nested: tuple[NestedScan, ...] = ()
    error: str | None = None  # malformed or limit: what stopped the walk
    error_offset: int | None = None
    persistent_ids: int = 0
    tensor_names: tuple[str, ...] = ()  # state-dict keys whose values rebuild tensors
    joblib_arrays: int = 0
    result_int: int | None = None  # the unpickled value, when it is a plain int (counts)


# --------------------------------------------------------------------------- values


class _Global:
    __slots__ = ("argument", "invoked", "module", "name", "offset", "opcode", "via")

    def __init__(self, module: str, name: str, offset: int, opcode: str) -> None:
        self.module, self.name, self.offset, self.opcode = module, name, offset, opcode
        self.invoked = False
        self.via: str | None = None
        self.argument: str | None = None

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


class _Call:
    """The result of invoking ``func`` (a ``_Global`` or another value)."""

    __slots__ = ("args", "func", "items", "offset", "state")

    def __init__(self, func: object, args: object, offset: int) -> None:
        self.func, self.args, self.offset = func, args, offset
        self.state: object = None
        self.items: dict[Any, Any] | None = None  # SETITEMS into the object (OrderedDict)


class _Data:
    """A bytes or str payload left in its buffer (never copied unless needed)."""

    __slots__ = ("buf", "is_str", "length", "start")

    def __init__(self, buf: Any, start: int, length: int, is_str: bool) -> None:
        self.buf, self.start, self.length, self.is_str = buf, start, length, is_str

    def text(self, limit: int) -> str | None:
        if self.length > limit:
            return None
        raw = bytes(self.buf[self.start : self.start + self.length])
        try:
            return raw.decode("utf-8", "surrogatepass") if self.is_str else raw.decode("latin-1")
        except UnicodeDecodeError:
            return None


class _Opaque:
    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


class _Mark:
    __slots__ = ()


class _Malformed(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


MARK = _Mark()


# bytes, bytearray or mmap: indexable, sliceable, with ``find``; struct reads from it directly
Buffer = Any


# --------------------------------------------------------------------------- the machine

_OPNAMES = {
    0x28: "MARK",
    0x2E: "STOP",
    0x52: "REDUCE",
    0x62: "BUILD",
    0x69: "INST",
    0x6F: "OBJ",
    0x81: "NEWOBJ",
    0x92: "NEWOBJ_EX",
}
_UNPACK_I = struct.Struct("<i").unpack_from
_UNPACK_I_U = struct.Struct("<I").unpack_from
_UNPACK_H = struct.Struct("<H").unpack_from
_UNPACK_Q = struct.Struct("<Q").unpack_from
_UNPACK_D = struct.Struct(">d").unpack_from
_DTYPE_SIZE = re.compile(r"^[<>|=]?([a-zA-Z?])(\d*)")


def ran_out_of_data(scan: PickleScan) -> bool:
    """The walk stopped because the bytes ended, not because they were malformed."""
    error = scan.error or ""
    return "past the end" in error or "truncated" in error or "before STOP" in error


def scan_pickle(
    buf: Buffer,
    start: int = 0,
    end: int | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
    joblib: bool = True,
) -> PickleScan:
    """Walk one pickle starting at ``start``; never raises on bad input.

    With ``joblib`` (the default) the raw array bytes joblib writes after a
    ``NumpyArrayWrapper`` are skipped as ``joblib.load`` does; without it they
    are read as opcodes, as plain ``pickle.load`` would.
    """
    machine = _Machine(buf, limits, depth, joblib)
    return machine.run(start, len(buf) if end is None else end)


def scan_pickles(
    buf: Buffer,
    start: int = 0,
    end: int | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
    count: int | None = None,
    joblib: bool = True,
) -> tuple[PickleScan, ...]:
    """Walk consecutive pickles (legacy torch files hold five).

    With ``count`` exactly that many are read (what the loader reads); without
    it, reading goes on while the next bytes start a protocol-2+ pickle, or
    read as one without a header (protocol 0/1: a loader that calls
    ``pickle.load`` again reads them); trailing bytes that do not are left alone.
    """
    stop = len(buf) if end is None else end
    scans: list[PickleScan] = []
    pos = start
    while pos < stop:
        scan = scan_pickle(buf, pos, stop, limits=limits, depth=depth, joblib=joblib)
        headed = buf[pos] == 0x80 and pos + 1 < stop and buf[pos + 1] <= 5
        if scans and count is None and not headed and not reads_as_pickle(scan):
            break  # trailing data, not a pickle
        scans.append(scan)
        if scan.error is not None or scan.end <= pos:
            break
        pos = scan.end
        if count is not None and len(scans) >= count:
            break
    return tuple(scans)


def reads_as_pickle(scan: PickleScan) -> bool:
    """A headerless trial walk found a pickle: it ends at STOP or names real imports."""
    if scan.error is None:
        return True
    return any(
        _IDENTIFIER_PATH.match(site.module) and _IDENTIFIER_PATH.match(site.name)
        for site in scan.imports
    )


class _Machine:
    def __init__(self, buf: Buffer, limits: Limits, depth: int, joblib: bool = True) -> None:
        self.buf = buf
        self.joblib = joblib
        self.limits = limits
        self.depth = depth
        self.globals: list[_Global] = []
        self.anomalies: list[Anomaly] = []
        self.nested: list[NestedScan] = []
        self.persistent_ids = 0
        self.protocol = 0
        self.joblib_arrays = 0

    # The loop is one function with local state: this is the hot path.
    def run(self, start: int, end: int) -> PickleScan:
        buf = self.buf
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}
        max_memo = self.limits.max_pickle_memo
        max_ops = self.limits.max_pickle_opcodes
        pos = start
        ops = 0
        error: str | None = None
        error_offset: int | None = None
        result: Any = None
        op_pos = pos
        try:
            while True:
                if pos >= end:
                    raise _Malformed("stream ends before STOP (truncated pickle)", pos)
                op_pos = pos
                op = buf[pos]
                pos += 1
                ops += 1
                if ops > max_ops:
                    raise _Malformed(f"more than {max_ops} opcodes (limit)", op_pos)
                if op == 0x71:  # BINPUT
                    self._need(pos, 1, end)
                    if not stack:
                        raise _Malformed("PUT on an empty stack", op_pos)
                    memo[buf[pos]] = stack[-1]
                    pos += 1
                elif op == 0x94:  # MEMOIZE
                    if not stack:
                        raise _Malformed("MEMOIZE on an empty stack", op_pos)
                    memo[len(memo)] = stack[-1]
                    if len(memo) > max_memo:
                        raise _Malformed(f"memo exceeds {max_memo} entries (limit)", op_pos)
                elif op == 0x68:  # BINGET
                    self._need(pos, 1, end)
                    stack.append(self._get(memo, buf[pos], op_pos))
                    pos += 1
                elif op == 0x28:  # MARK
                    metastack.append(stack)
                    stack = []
                    if len(metastack) > MAX_STACK:
                        raise _Malformed("mark stack too deep (limit)", op_pos)
                elif op == 0x8C:  # SHORT_BINUNICODE
                    self._need(pos, 1, end)
                    n = buf[pos]
                    pos += 1
                    self._need(pos, n, end)
                    stack.append(self._text(pos, n))
                    pos += n
                elif op == 0x58 or op == 0x8D:  # BINUNICODE, BINUNICODE8
                    width = 4 if op == 0x58 else 8
                    self._need(pos, width, end)
                    n = _UNPACK_I_U(buf, pos)[0] if width == 4 else _UNPACK_Q(buf, pos)[0]
                    pos += width
                    self._need(pos, n, end, "string")
                    stack.append(self._text(pos, n))
                    pos += n
                elif op == 0x4B:  # BININT1
                    self._need(pos, 1, end)
                    stack.append(buf[pos])
                    pos += 1
                elif op == 0x4D:  # BININT2
                    self._need(pos, 2, end)
                    stack.append(_UNPACK_H(buf, pos)[0])
                    pos += 2
                elif op == 0x4A:  # BININT
                    self._need(pos, 4, end)
                    stack.append(_UNPACK_I(buf, pos)[0])
                    pos += 4
                elif op == 0x85:  # TUPLE1
                    self._under(stack, 1, op_pos)
                    stack[-1] = (stack[-1],)
                elif op == 0x86:  # TUPLE2
                    self._under(stack, 2, op_pos)
                    stack[-2:] = [(stack[-2], stack[-1])]
                elif op == 0x87:  # TUPLE3
                    self._under(stack, 3, op_pos)
                    stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
                elif op == 0x74:  # TUPLE
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    stack.append(tuple(items))
                elif op == 0x29:  # EMPTY_TUPLE
                    stack.append(())
                elif op == 0x7D:  # EMPTY_DICT
                    stack.append({})
                elif op == 0x5D:  # EMPTY_LIST
                    stack.append([])
                elif op == 0x4E:  # NONE
                    stack.append(None)
                elif op == 0x88:  # NEWTRUE
                    stack.append(True)
                elif op == 0x89:  # NEWFALSE
                    stack.append(False)
                elif op == 0x52:  # REDUCE
                    self._under(stack, 2, op_pos)
                    args = stack.pop()
                    func = stack.pop()
                    stack.append(self._invoke(func, args, op_pos, "REDUCE"))
                elif op == 0x62:  # BUILD
                    self._under(stack, 2, op_pos)
                    state = stack.pop()
                    pos = self._build(stack[-1], state, op_pos, pos, end, stack)
                elif op == 0x75:  # SETITEMS
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    self._under(stack, 1, op_pos)
                    self._setitems(stack[-1], items, op_pos)
                elif op == 0x73:  # SETITEM
                    self._under(stack, 3, op_pos)
                    value = stack.pop()
                    key = stack.pop()
                    self._setitems(stack[-1], [key, value], op_pos)
                elif op == 0x65:  # APPENDS
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    self._under(stack, 1, op_pos)
                    self._appends(stack[-1], items, op_pos)
                elif op == 0x61:  # APPEND
                    self._under(stack, 2, op_pos)
                    value = stack.pop()
                    self._appends(stack[-1], [value], op_pos)
                elif op == 0x51:  # BINPERSID
                    self._under(stack, 1, op_pos)
                    stack[-1] = _Opaque("persistent")
                    self.persistent_ids += 1
                elif op == 0x93:  # STACK_GLOBAL
                    self._under(stack, 2, op_pos)
                    name = stack.pop()
                    module = stack.pop()
                    if isinstance(name, _Data) and name.is_str:
                        name = name.text(1 << 20)
                    if isinstance(module, _Data) and module.is_str:
                        module = module.text(1 << 20)
                    if isinstance(module, str) and isinstance(name, str):
                        stack.append(self._global(module, name, op_pos, "STACK_GLOBAL"))
                    else:
                        self.anomalies.append(
                            Anomaly(
                                "dynamic-global",
                                op_pos,
                                "STACK_GLOBAL operands are not constant strings "
                                f"(module {_describe(module)}, name {_describe(name)})",
                            )
                        )
                        stack.append(_Opaque("dynamic global"))
                elif op == 0x63 or op == 0x69:  # GLOBAL, INST
                    module_s, pos = self._line(pos, end, op_pos)
                    name_s, pos = self._line(pos, end, op_pos)
                    g = self._global(module_s, name_s, op_pos, "GLOBAL" if op == 0x63 else "INST")
                    if op == 0x63:
                        stack.append(g)
                    else:
                        items = stack
                        stack = self._pop_mark(metastack, op_pos)
                        stack.append(self._invoke(g, tuple(items), op_pos, "INST"))
                elif op == 0x81:  # NEWOBJ
                    self._under(stack, 2, op_pos)
                    args = stack.pop()
                    cls = stack.pop()
                    stack.append(self._invoke(cls, args, op_pos, "NEWOBJ"))
                elif op == 0x92:  # NEWOBJ_EX
                    self._under(stack, 3, op_pos)
                    kwargs = stack.pop()
                    args = stack.pop()
                    cls = stack.pop()
                    stack.append(self._invoke(cls, (args, kwargs), op_pos, "NEWOBJ_EX"))
                elif op == 0x6F:  # OBJ
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    if not items:
                        raise _Malformed("OBJ without a class", op_pos)
                    stack.append(self._invoke(items[0], tuple(items[1:]), op_pos, "OBJ"))
                elif op == 0x80:  # PROTO
                    self._need(pos, 1, end)
                    self.protocol = buf[pos]
                    if self.protocol > 5:
                        raise _Malformed(f"unsupported pickle protocol {self.protocol}", op_pos)
                    pos += 1
                elif op == 0x95:  # FRAME: framing is transparent to the opcode walk
                    self._need(pos, 8, end)
                    pos += 8
                elif op == 0x2E:  # STOP
                    if not stack:
                        raise _Malformed("STOP on an empty stack", op_pos)
                    result = stack[-1]
                    break
                elif op == 0x43 or op == 0x55:  # SHORT_BINBYTES, SHORT_BINSTRING
                    self._need(pos, 1, end)
                    n = buf[pos]
                    pos += 1
                    self._need(pos, n, end)
                    stack.append(_Data(buf, pos, n, op == 0x55))
                    pos += n
                elif op in (0x42, 0x54, 0x8E, 0x96):  # BINBYTES, BINSTRING, BINBYTES8, BYTEARRAY8
                    width = 8 if op in (0x8E, 0x96) else 4
                    self._need(pos, width, end)
                    if op == 0x54:
                        n = _UNPACK_I(buf, pos)[0]
                        if n < 0:
                            raise _Malformed("BINSTRING with a negative length", op_pos)
                    else:
                        n = _UNPACK_I_U(buf, pos)[0] if width == 4 else _UNPACK_Q(buf, pos)[0]
                    pos += width
                    self._need(pos, n, end, "bytes")
                    stack.append(_Data(buf, pos, n, op == 0x54))
                    pos += n
                elif op == 0x6A:  # LONG_BINGET
                    self._need(pos, 4, end)
                    stack.append(self._get(memo, _UNPACK_I_U(buf, pos)[0], op_pos))
                    pos += 4
                elif op == 0x72:  # LONG_BINPUT
                    self._need(pos, 4, end)
                    if not stack:
                        raise _Malformed("PUT on an empty stack", op_pos)
                    memo[_UNPACK_I_U(buf, pos)[0]] = stack[-1]
                    pos += 4
                    if len(memo) > max_memo:
                        raise _Malformed(f"memo exceeds {max_memo} entries (limit)", op_pos)
                elif op == 0x70 or op == 0x67:  # PUT, GET (decimal line)
                    text, pos = self._line(pos, end, op_pos)
                    try:
                        index = int(text)
                    except ValueError:
                        raise _Malformed(f"bad memo index {text[:20]!r}", op_pos) from None
                    if op == 0x70:
                        if not stack:
                            raise _Malformed("PUT on an empty stack", op_pos)
                        memo[index] = stack[-1]
                        if len(memo) > max_memo:
                            raise _Malformed(f"memo exceeds {max_memo} entries (limit)", op_pos)
                    else:
                        stack.append(self._get(memo, index, op_pos))
                elif op == 0x8A or op == 0x8B:  # LONG1, LONG4
                    width = 1 if op == 0x8A else 4
                    self._need(pos, width, end)
                    n = buf[pos] if width == 1 else _UNPACK_I(buf, pos)[0]
                    pos += width
                    if n < 0:
                        raise _Malformed("LONG4 with a negative length", op_pos)
                    self._need(pos, n, end, "integer")
                    if n <= MAX_LONG_BYTES:
                        stack.append(int.from_bytes(buf[pos : pos + n], "little", signed=True))
                    else:
                        stack.append(_Opaque(f"{n}-byte integer"))
                    pos += n
                elif op == 0x47:  # BINFLOAT
                    self._need(pos, 8, end)
                    stack.append(_UNPACK_D(buf, pos)[0])
                    pos += 8
                elif op == 0x30:  # POP
                    if stack:
                        stack.pop()
                    else:
                        stack = self._pop_mark(metastack, op_pos)
                elif op == 0x31:  # POP_MARK
                    stack = self._pop_mark(metastack, op_pos)
                elif op == 0x32:  # DUP
                    self._under(stack, 1, op_pos)
                    stack.append(stack[-1])
                elif op == 0x6C:  # LIST
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    stack.append(items[:CONTAINER_KEEP])
                elif op == 0x64:  # DICT
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    d: dict[Any, Any] = {}
                    self._setitems(d, items, op_pos)
                    stack.append(d)
                elif op == 0x8F:  # EMPTY_SET
                    stack.append(_Opaque("set"))
                elif op == 0x90:  # ADDITEMS
                    items = stack
                    stack = self._pop_mark(metastack, op_pos)
                    self._under(stack, 1, op_pos)
                    self._appends(stack[-1], items, op_pos)
                elif op == 0x91:  # FROZENSET
                    stack = self._pop_mark(metastack, op_pos)
                    stack.append(_Opaque("frozenset"))
                elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
                    width = {0x82: 1, 0x83: 2, 0x84: 4}[op]
                    self._need(pos, width, end)
                    if width == 1:
                        code = buf[pos]
                    elif width == 2:
                        code = _UNPACK_H(buf, pos)[0]
                    else:
                        code = _UNPACK_I(buf, pos)[0]
                    pos += width
                    stack.append(self._global("<extension>", str(code), op_pos, f"EXT{width}"))
                elif op == 0x50:  # PERSID
                    _, pos = self._line(pos, end, op_pos)
                    stack.append(_Opaque("persistent"))
                    self.persistent_ids += 1
                elif op == 0x97:  # NEXT_BUFFER: out-of-band data the loader supplies
                    stack.append(_Opaque("out-of-band buffer"))
                elif op == 0x98:  # READONLY_BUFFER
                    self._under(stack, 1, op_pos)
                elif op == 0x49 or op == 0x4C:  # INT, LONG (decimal line)
                    text, pos = self._line(pos, end, op_pos)
                    if op == 0x49 and text in ("00", "01"):
                        stack.append(text == "01")
                        continue
                    try:
                        stack.append(int(text.rstrip("L")) if len(text) < 5000 else 0)
                    except ValueError:
                        raise _Malformed(f"bad integer {text[:20]!r}", op_pos) from None
                elif op == 0x46:  # FLOAT
                    text, pos = self._line(pos, end, op_pos)
                    try:
                        stack.append(float(text))
                    except ValueError:
                        raise _Malformed(f"bad float {text[:20]!r}", op_pos) from None
                elif op == 0x53:  # STRING: a quoted repr
                    text, pos = self._line(pos, end, op_pos)
                    stack.append(_unquote(text, op_pos))
                elif op == 0x56:  # UNICODE: raw-unicode-escape
                    nl = buf.find(b"\n", pos, end)
                    if nl < 0:
                        raise _Malformed("UNICODE without a newline (truncated)", op_pos)
                    raw = bytes(buf[pos:nl])
                    pos = nl + 1
                    stack.append(raw.decode("raw-unicode-escape", "replace"))
                else:
                    raise _Malformed(f"invalid opcode 0x{op:02x}", op_pos)
                if len(stack) > MAX_STACK:
                    raise _Malformed(f"stack exceeds {MAX_STACK} items (limit)", op_pos)
        except _Malformed as exc:
            error, error_offset = str(exc), exc.offset
            if error.endswith("(limit)"):
                self._sweep(op_pos, end)
        except RecursionError:
            error, error_offset = "values nested too deeply", op_pos
            self._sweep(op_pos, end)
        return PickleScan(
            start=start,
            end=pos,
            protocol=self.protocol,
            opcodes=ops,
            imports=tuple(
                ImportSite(g.module, g.name, g.offset, g.opcode, g.invoked, g.via, g.argument)
                for g in self.globals
            ),
            anomalies=tuple(self.anomalies),
            nested=tuple(self.nested),
            error=error,
            error_offset=error_offset,
            persistent_ids=self.persistent_ids,
            tensor_names=tensor_names(result) if error is None else (),
            result_int=result if type(result) is int and error is None else None,
            joblib_arrays=self.joblib_arrays,
        )

    def _sweep(self, start: int, end: int) -> None:
        """After a limit stopped the walk: the imports spelled in the rest, by pattern.

        A loader has no such limit, so a payload behind a memo or opcode bomb
        still runs; its GLOBAL/INST lines and short-string STACK_GLOBALs are
        recorded (not resolved through the memo, not marked invoked).
        """
        end = min(end, start + self.limits.max_pickle_bytes)
        found = 0
        for match in _SWEEP.finditer(self.buf, start, end):
            module, name = match.group(1, 2) if match.group(1) else match.group(3, 4)
            if match.group(3) and not _lengths_match(match):
                continue
            try:
                self._global(module.decode(), name.decode(), match.start(), "swept")
            except _Malformed:
                return
            found += 1
            if found >= 1000:
                return

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _need(pos: int, n: int, end: int, what: str = "argument") -> None:
        if pos + n > end:
            raise _Malformed(
                f"{what} of {n} bytes runs past the end of the stream ({end - pos} bytes left)",
                pos,
            )

    @staticmethod
    def _under(stack: list[Any], n: int, op_pos: int) -> None:
        if len(stack) < n:
            raise _Malformed("stack underflow", op_pos)

    @staticmethod
    def _pop_mark(metastack: list[list[Any]], op_pos: int) -> list[Any]:
        if not metastack:
            raise _Malformed("no MARK to pop", op_pos)
        return metastack.pop()

    @staticmethod
    def _get(memo: dict[int, Any], index: int, op_pos: int) -> Any:
        try:
            return memo[index]
        except KeyError:
            raise _Malformed(f"memo key {index} not found", op_pos) from None

    def _line(self, pos: int, end: int, op_pos: int) -> tuple[str, int]:
        nl = self.buf.find(b"\n", pos, min(end, pos + (1 << 16)))
        if nl < 0:
            raise _Malformed("line argument without a newline (truncated or too long)", op_pos)
        return bytes(self.buf[pos:nl]).decode("utf-8", "replace"), nl + 1

    def _text(self, pos: int, n: int) -> Any:
        if n <= SMALL_STR:
            try:
                return bytes(self.buf[pos : pos + n]).decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise _Malformed(f"string is not UTF-8 ({exc.reason})", pos) from None
        return _Data(self.buf, pos, n, True)

    def _global(self, module: str, name: str, offset: int, opcode: str) -> _Global:
        module, name = _python3_name(module, name)
        g = _Global(module, name, offset, opcode)
        if len(self.globals) >= MAX_IMPORT_SITES:
            raise _Malformed(f"more than {MAX_IMPORT_SITES} imports (limit)", offset)
        self.globals.append(g)
        return g

    def _invoke(self, func: Any, args: Any, offset: int, via: str) -> _Call:
        if isinstance(func, _Global):
            if not func.invoked:
                func.invoked, func.via = True, via
            qualname = func.qualname
            if qualname in rules.NESTED_LOADERS:
                self._nested(qualname, args, offset)
            if qualname in rules.FORWARDERS:
                _forwarded(args, f"{via} through {qualname}")
            if func.argument is None and via in ("REDUCE", "INST", "OBJ"):
                func.argument = _remote_or_path(args)
        elif isinstance(func, _Call):
            self.anomalies.append(
                Anomaly(
                    "dynamic-call",
                    offset,
                    f"{via} calls the result of {_describe(func)}",
                )
            )
        elif not isinstance(func, _Opaque):
            raise _Malformed(f"{via} on a non-callable {_describe(func)}", offset)
        return _Call(func, args, offset)

    def _build(
        self, target: Any, state: Any, op_pos: int, pos: int, end: int, stack: list[Any]
    ) -> int:
        if isinstance(target, _Global):
            self.anomalies.append(
                Anomaly(
                    "mutates-global",
                    op_pos,
                    f"BUILD sets attributes on the imported object {target.qualname}",
                )
            )
            return pos
        if not isinstance(target, _Call):
            return pos
        target.state = state
        func = target.func
        setstate = _state_dict(state).get("__setstate__")
        if isinstance(setstate, _Global) and not setstate.invoked:
            # an instance attribute __setstate__: the next BUILD on the object calls it
            setstate.invoked, setstate.via = True, "BUILD (__setstate__ set by state)"
        if isinstance(func, _Global):
            if not func.invoked:
                func.invoked, func.via = True, "BUILD"
            if self.joblib and func.name == "NumpyArrayWrapper" and isinstance(state, dict):
                # joblib writes the array bytes right after this BUILD
                return self._joblib_array(state, op_pos, pos, end, stack)
        return pos

    def _joblib_array(
        self, state: dict[Any, Any], op_pos: int, pos: int, end: int, stack: list[Any]
    ) -> int:
        dtype = state.get("dtype")
        shape = state.get("shape")
        itemsize = _dtype_itemsize(dtype)
        if itemsize is None or not isinstance(shape, tuple):
            raise _Malformed("joblib array with an unknown dtype or shape", op_pos)
        self.joblib_arrays += 1
        if itemsize == 0:  # object array: joblib pickles it in place, loaded unrestricted
            scan = scan_pickle(self.buf, pos, end, limits=self.limits, depth=self.depth + 1)
            self.nested.append(NestedScan("joblib object array", op_pos, pos, (scan,)))
            if scan.error is not None:
                raise _Malformed(f"joblib object array: {scan.error}", pos)
            stack[-1] = _Opaque("ndarray")
            return scan.end
        count = 1
        for dim in shape:
            if not isinstance(dim, int) or dim < 0:
                raise _Malformed("joblib array with a bad shape", op_pos)
            count *= dim
        if "numpy_array_alignment_bytes" in state:
            self._need(pos, 1, end)
            pos += 1 + self.buf[pos]
        nbytes = count * itemsize
        self._need(pos, nbytes, end, "joblib array")
        stack[-1] = _Opaque("ndarray")
        return pos + nbytes

    def _setitems(self, target: Any, items: list[Any], op_pos: int) -> None:
        if isinstance(target, dict):
            for i in range(0, len(items) - 1, 2):
                if len(target) >= CONTAINER_KEEP:
                    break
                key = items[i]
                try:
                    target[key] = items[i + 1]
                except TypeError:  # unhashable key (a list): the value is not needed
                    continue
        elif isinstance(target, _Call):
            if target.items is None:
                target.items = {}
            self._setitems(target.items, items, op_pos)
        elif isinstance(target, _Global):
            self.anomalies.append(
                Anomaly(
                    "mutates-global",
                    op_pos,
                    f"SETITEM writes into the imported object {target.qualname}",
                )
            )
        elif isinstance(target, (list, tuple, str, int, float, bytes)) or target is None:
            raise _Malformed(f"SETITEM on {_describe(target)}", op_pos)

    def _appends(self, target: Any, items: list[Any], op_pos: int) -> None:
        if isinstance(target, list):
            room = CONTAINER_KEEP - len(target)
            if room > 0:
                target.extend(items[:room])
        elif isinstance(target, _Global):
            self.anomalies.append(
                Anomaly(
                    "mutates-global",
                    op_pos,
                    f"APPEND/ADDITEMS calls into the imported object {target.qualname}",
                )
            )
        elif isinstance(target, (dict, tuple, str, int, float, bytes)) or target is None:
            raise _Malformed(f"APPEND on {_describe(target)}", op_pos)

    def _nested(self, loader: str, args: Any, offset: int) -> None:
        payload = args[0] if isinstance(args, tuple) and args else None
        if isinstance(payload, _Call) and isinstance(payload.func, _Global):
            wrapper = payload.func.qualname
            inner = payload.args[0] if isinstance(payload.args, tuple) and payload.args else None
            if wrapper in rules.BYTES_WRAPPERS:
                payload = inner
            elif wrapper == "_codecs.encode" and isinstance(inner, (str, _Data)):
                text = inner if isinstance(inner, str) else inner.text(self.limits.max_pickle_bytes)
                if text is not None:
                    data = text.encode("latin-1", "replace")
                    payload = _Data(data, 0, len(data), False)
        if isinstance(payload, str):
            data = payload.encode("latin-1", "replace")
            payload = _Data(data, 0, len(data), False)
        if not isinstance(payload, _Data):
            self.anomalies.append(
                Anomaly(
                    "nested-unresolved",
                    offset,
                    f"{loader} is given data the scanner cannot see ({_describe(payload)})",
                )
            )
            return
        if self.depth + 1 > self.limits.max_nested_pickle_depth:
            self.anomalies.append(
                Anomaly(
                    "limit",
                    offset,
                    f"nested pickles deeper than {self.limits.max_nested_pickle_depth} "
                    "were not analysed",
                )
            )
            return
        in_place = payload.buf is self.buf
        scans = scan_payload(
            payload.buf,
            payload.start,
            payload.start + payload.length,
            limits=self.limits,
            depth=self.depth + 1,
        )
        self.nested.append(NestedScan(loader, offset, payload.start if in_place else None, scans))


def scan_payload(
    buf: Buffer, start: int, end: int, *, limits: Limits, depth: int
) -> tuple[PickleScan, ...]:
    """Nested data handed to a loader: a torch zip, a legacy torch stream, or pickles."""
    head = bytes(buf[start : start + 4])
    if head == b"PK\x03\x04":
        if end - start > limits.max_pickle_bytes:
            return (_limit_scan(start, "nested archive larger than max_pickle_bytes"),)
        from .containers import scan_zip_bytes

        return scan_zip_bytes(bytes(buf[start:end]), limits=limits, depth=depth)
    legacy = bytes(buf[start : start + len(LEGACY_MAGIC)]) == LEGACY_MAGIC
    return scan_pickles(buf, start, end, limits=limits, depth=depth, count=5 if legacy else None)


LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


_SWEEP = re.compile(
    rb"[ci]([A-Za-z_][\w.]{0,200})\n([A-Za-z_][\w.]{0,200})\n"
    rb"|\x8c[\x01-\xc8]([A-Za-z_][\w.]{0,199})\x94?\x8c[\x01-\xc8]([A-Za-z_][\w.]{0,199})\x94?\x93"
)


def _lengths_match(match: re.Match[bytes]) -> bool:
    """A swept STACK_GLOBAL: the SHORT_BINUNICODE length bytes fit the names."""
    text = match.group(0)
    first = text[1]
    second_at = 2 + first + (1 if text[2 + first] == 0x94 else 0)
    return first == len(match.group(3)) and text[second_at + 1] == len(match.group(4))


def _forwarded(args: Any, via: str) -> None:
    """Functions handed to a forwarder are called by it: mark them invoked."""
    if not isinstance(args, tuple):
        return
    for arg in args[:4]:
        if isinstance(arg, tuple):  # __newobj_ex__ / _rebuild_from_type_v2 argument tuples
            for inner in arg[:4]:
                if isinstance(inner, _Global) and not inner.invoked:
                    inner.invoked, inner.via = True, via
        elif isinstance(arg, _Global) and not arg.invoked:
            arg.invoked, arg.via = True, via


def _remote_or_path(args: Any) -> str | None:
    """The first string argument naming a URL, hub repo or absolute path, if any."""
    if not isinstance(args, tuple):
        return None
    for arg in args[:4]:
        if isinstance(arg, str) and len(arg) < 4096 and rules.is_remote_or_path(arg):
            return arg
    return None


def _state_dict(state: Any) -> dict[Any, Any]:
    if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
        state = state[0]
    return state if isinstance(state, dict) else {}


def _python3_name(module: str, name: str) -> tuple[str, str]:
    """Python 2 names as the unpickler maps them (``_compat_pickle``, fix_imports)."""
    import _compat_pickle

    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        return mapped
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return rules.MODULE_ALIASES.get(module, module), name


def _limit_scan(offset: int, message: str) -> PickleScan:
    return PickleScan(offset, offset, 0, 0, error=message, error_offset=offset)


def _unquote(text: str, op_pos: int) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        body = text[1:-1]
        if "\\" not in body:
            return body
        import codecs

        try:
            return codecs.escape_decode(body.encode("latin-1", "replace"))[0].decode("latin-1")
        except ValueError as exc:
            raise _Malformed(f"bad STRING escape: {exc}", op_pos) from None
    raise _Malformed("STRING argument is not quoted", op_pos)


def _dtype_itemsize(dtype: Any) -> int | None:
    """Item size of a pickled ``numpy.dtype`` call; 0 for object arrays."""
    if not isinstance(dtype, _Call) or not isinstance(dtype.args, tuple) or not dtype.args:
        return None
    spec = dtype.args[0]
    if not isinstance(spec, str):
        return None
    state = dtype.state
    if isinstance(state, tuple) and len(state) > 5 and isinstance(state[5], int) and state[5] > 0:
        return state[5]
    match = _DTYPE_SIZE.match(spec)
    if match is None:
        return None
    kind, digits = match.groups()
    if kind == "O":
        return 0
    if kind in "?b" and not digits:
        return 1
    return int(digits) if digits else None


def _describe(value: Any) -> str:
    if isinstance(value, _Global):
        return value.qualname
    if isinstance(value, _Call):
        return f"a call of {_describe(value.func)}"
    if isinstance(value, _Data):
        return f"{'str' if value.is_str else 'bytes'} of {value.length} bytes"
    if isinstance(value, _Opaque):
        return value.what
    if isinstance(value, _Mark):
        return "a mark"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} value"


def tensor_names(value: Any, prefix: str = "", depth: int = 0) -> tuple[str, ...]:
    """Keys of (nested) dicts whose values rebuild torch tensors: the state-dict names."""
    names: list[str] = []
    if isinstance(value, _Call):
        # OrderedDict is REDUCE'd empty, then filled by SETITEMS into the call's result
        value = value.items
    if not isinstance(value, dict) or depth > 3:
        return ()
    for key, item in value.items():
        if not isinstance(key, str):
            continue
        name = f"{prefix}{key}"
        if _is_tensor(item):
            names.append(name)
        elif isinstance(item, (dict, _Call)):
            names.extend(tensor_names(item, f"{name}.", depth + 1))
        if len(names) > CONTAINER_KEEP:
            break
    return tuple(names)


def _is_tensor(value: Any) -> bool:
    return (
        isinstance(value, _Call)
        and isinstance(value.func, _Global)
        and value.func.qualname.startswith(TENSOR_REBUILDERS)
    )


# --------------------------------------------------------------------------- policy


class Judgement(NamedTuple):
    category: str  # allowed, class, unknown, denied, extension
    severity: Severity
    cwe: tuple[str, ...]
    reason: str
    profile: str | None = None


_ALLOWED_INDEX: dict[str, str] = {
    name: profile for profile, names in rules.PROFILES.items() for name in names
}


def judge(module: str, name: str, profiles: Iterable[str] | None = None) -> Judgement:
    """The policy verdict for one imported ``module.name`` (invocation not considered)."""
    if module == "<extension>":
        return Judgement(
            "extension",
            Severity.MEDIUM,
            (rules.CWE_DESERIALIZATION,),
            f"extension code {name} resolves through the copyreg extension registry, "
            "which the scanner cannot see",
        )
    qualname = f"{module}.{name}"
    profile = _ALLOWED_INDEX.get(qualname)
    if profile is not None and (profiles is None or profile in set(profiles)):
        return Judgement("allowed", Severity.INFO, (), "allowlisted", profile)
    if qualname.startswith(rules.ALLOW_PREFIXES) and "." not in name:
        return Judgement("allowed", Severity.INFO, (), "allowlisted", "torch")
    if module == rules.TORCHSCRIPT_NAMESPACE or module.startswith(
        rules.TORCHSCRIPT_NAMESPACE + "."
    ):
        return Judgement(
            "class",
            Severity.INFO,
            (rules.CWE_DESERIALIZATION,),
            "a TorchScript class: torch.jit.load compiles it from the archive's code/ "
            "(TorchScript, not Python; it cannot import modules)",
        )
    denied = _deny_rule(module, name)
    if denied is not None:
        return Judgement("denied", denied.severity, denied.cwe, denied.reason)
    leaves = name.split(".")
    if any(rules.is_dangerous_leaf(part) or rules.has_dangerous_word(part) for part in leaves):
        return Judgement(
            "unknown-dangerous",
            Severity.HIGH,
            (rules.CWE_DESERIALIZATION, rules.CWE_DYNAMIC_CODE),
            "not allowlisted, and its name reads like a gadget (runs, loads, opens, "
            "walks attributes)",
        )
    if len(leaves) > 1:
        return Judgement(
            "unknown",
            Severity.MEDIUM,
            (rules.CWE_DESERIALIZATION,),
            "attribute walk (dotted name) to an unknown object",
        )
    if (
        rules.looks_like_class(name)
        and (module + ".").startswith(rules.CLASS_NAMESPACES)
        and not module.startswith(rules.CLASS_NAMESPACE_EXCLUDES)
    ):
        return Judgement(
            "class",
            Severity.LOW,
            (rules.CWE_DESERIALIZATION,),
            "a library class: unpickling requires the class to import (whole-object pickle)",
        )
    return Judgement(
        "unknown",
        Severity.MEDIUM,
        (rules.CWE_DESERIALIZATION,),
        "neither allowlisted nor denied: unknown import",
    )


def _deny_rule(module: str, name: str) -> rules.DenyRule | None:
    full = module.split(".") + name.split(".")
    # Longest prefix first: a module key covers its submodules and attributes.
    for cut in range(len(full), 0, -1):
        hit = rules.DENY.get(".".join(full[:cut]))
        if hit is not None:
            return hit
    names = name.split(".")
    # An attribute walk (protocol 4 dotted names) reaches what a tail names: ``x.os.system``.
    for start in range(len(names) - 1 if len(names) > 1 else 0):
        # modules import their dependencies under private aliases: ``_os``, ``_sys``
        tail = [names[start].lstrip("_") or names[start], *names[start + 1 :]]
        for cut in range(len(tail), 0, -1):
            hit = rules.DENY.get(".".join(tail[:cut]))
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------- findings


def findings_for_scans(
    path: str,
    scans: Sequence[PickleScan],
    *,
    profiles: Iterable[str] | None = None,
    context: str = "",
    at_offset: int | None = None,
) -> list[Finding]:
    """Findings for the pickles of one file (or one archive member)."""
    out: list[Finding] = []
    profile_list = tuple(profiles) if profiles is not None else None
    groups: dict[tuple[str, str], list[ImportSite]] = {}
    inventory = INVENTORY.get()
    for scan in scans:
        for site in scan.imports:
            groups.setdefault((site.qualname, site.module), []).append(site)
            if inventory is not None:
                inventory.append((path, context, site))
    class_sites: list[tuple[ImportSite, Judgement]] = []
    for (qualname, module), sites in groups.items():
        verdict = judge(module, sites[0].name, profile_list)
        if verdict.category == "allowed":
            continue
        fetched = next((s.argument for s in sites if s.argument is not None), None)
        if verdict.category == "class" and fetched is not None:
            verdict = Judgement(
                "fetches",
                Severity.HIGH,
                (rules.CWE_DESERIALIZATION, rules.CWE_NETWORK, rules.CWE_FILE),
                f"the class is constructed (its __init__ runs) with {fetched[:120]!r}: "
                "a URL, hub repository or path it may download, open or run code from",
            )
        if verdict.category == "class":
            class_sites.append((sites[0], verdict))
            continue
        invoked = [s for s in sites if s.invoked]
        first = invoked[0] if invoked else sites[0]
        evidence = tuple(
            f"{s.opcode} at offset {s.offset}" + (f", invoked by {s.via}" if s.invoked else "")
            for s in sites[:5]
        ) + ((f"... {len(sites) - 5} more",) if len(sites) > 5 else ())
        where = at_offset if at_offset is not None else first.offset
        if verdict.category == "denied":
            rule = RULE_DENIED_CALL if invoked else RULE_DENIED_NAME
            severity = verdict.severity if invoked else min(verdict.severity, Severity.HIGH)
            confidence = Confidence.HIGH if invoked else Confidence.MEDIUM
            action = (
                f"calls {qualname}" if invoked else f"imports {qualname} (not called by an opcode)"
            )
            message = f"{context}pickle {action}: {verdict.reason}"
        elif verdict.category == "fetches":
            rule, severity, confidence = RULE_CLASS_FETCHES, verdict.severity, Confidence.MEDIUM
            message = f"{context}pickle constructs {qualname}: {verdict.reason}"
        elif verdict.category == "unknown-dangerous":
            rule, severity, confidence = RULE_UNKNOWN_DANGEROUS, verdict.severity, Confidence.MEDIUM
            message = (
                f"{context}pickle {'calls' if invoked else 'imports'} {qualname}: {verdict.reason}"
            )
        elif verdict.category == "extension":
            rule, severity, confidence = RULE_EXTENSION, verdict.severity, Confidence.MEDIUM
            message = f"{context}pickle uses {first.opcode}: {verdict.reason}"
        else:
            rule, severity, confidence = RULE_UNKNOWN, verdict.severity, Confidence.MEDIUM
            message = (
                f"{context}pickle {'calls' if invoked else 'imports'} {qualname}: {verdict.reason}"
            )
        out.append(
            Finding(
                rule_id=rule,
                analyzer=ANALYZER,
                message=message,
                severity=severity,
                confidence=confidence,
                location=Location(path, offset=where),
                cwe=verdict.cwe,
                snippet=qualname,
                evidence=evidence,
            )
        )
    if class_sites:
        names = sorted({s.qualname for s, _ in class_sites})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        out.append(
            Finding(
                rule_id=RULE_CLASS,
                analyzer=ANALYZER,
                message=f"{context}whole-object pickle: loading imports {len(names)} library "
                f"class(es) ({shown}); requires the classes to import, no other code named",
                severity=Severity.LOW,
                confidence=Confidence.HIGH,
                location=Location(
                    path, offset=at_offset if at_offset is not None else class_sites[0][0].offset
                ),
                cwe=(rules.CWE_DESERIALIZATION,),
                snippet=names[0],
                evidence=tuple(names[:50]),
            )
        )
    for scan in scans:
        out.extend(_scan_level_findings(path, scan, profile_list, context, at_offset))
    return out


def _scan_level_findings(
    path: str,
    scan: PickleScan,
    profiles: tuple[str, ...] | None,
    context: str,
    at_offset: int | None,
) -> list[Finding]:
    out: list[Finding] = []
    for anomaly in scan.anomalies:
        rule, severity, message = {
            "dynamic-global": (
                RULE_DYNAMIC_GLOBAL,
                Severity.HIGH,
                "imports a name computed at load time",
            ),
            "mutates-global": (
                RULE_MUTATES_GLOBAL,
                Severity.HIGH,
                "modifies an imported object (monkey-patching at load)",
            ),
            "dynamic-call": (RULE_DYNAMIC_CALL, Severity.HIGH, "calls a computed callable"),
            "nested-unresolved": (
                RULE_NESTED,
                Severity.HIGH,
                "hands data it builds at load time to a deserializer",
            ),
            "limit": (RULE_MALFORMED, Severity.MEDIUM, "analysis limit reached"),
        }.get(anomaly.kind, (RULE_MALFORMED, Severity.MEDIUM, anomaly.kind))
        out.append(
            Finding(
                rule_id=rule,
                analyzer=ANALYZER,
                message=f"{context}pickle {message}: {anomaly.detail}",
                severity=severity,
                confidence=Confidence.MEDIUM,
                location=Location(
                    path, offset=at_offset if at_offset is not None else anomaly.offset
                ),
                cwe=(rules.CWE_DESERIALIZATION,),
                snippet=anomaly.kind,
                evidence=(f"offset {anomaly.offset}",),
            )
        )
    for nested in scan.nested:
        where = f"offset {nested.data_offset}" if nested.data_offset is not None else "built data"
        inner_context = f"{context}nested pickle ({where}, loaded by {nested.loader}): "
        inner_at = (
            at_offset
            if at_offset is not None
            else (None if nested.data_offset is not None else nested.offset)
        )
        out.extend(
            findings_for_scans(
                path, nested.scans, profiles=profiles, context=inner_context, at_offset=inner_at
            )
        )
    if scan.error is not None:
        out.append(malformed_finding(path, scan, context, at_offset))
    return out


# When set (the CLI's ``--imports``), every import site judged is also recorded here.
INVENTORY: ContextVar[list[tuple[str, str, ImportSite]] | None] = ContextVar(
    "pickle_inventory", default=None
)
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def joblib_hidden_findings(
    path: str, buf: Buffer, scans: Sequence[PickleScan], *, limits: Limits
) -> list[Finding]:
    """Imports that only plain ``pickle.load`` sees: opcodes hidden in joblib array bytes.

    joblib skips the bytes after a ``NumpyArrayWrapper``; ``pickle.load`` of
    the same file reads them as opcodes. Both readings are scanned; imports
    with identifier-like names found only by the plain reading are reported.
    """
    if not any(scan.joblib_arrays for scan in scans):
        return []
    seen = {site.offset for scan in scans for site in scan.imports}
    hidden: list[PickleScan] = []
    for scan in scans:
        plain = scan_pickle(buf, scan.start, len(buf), limits=limits, joblib=False)
        extra = tuple(
            site
            for site in plain.imports
            if site.offset not in seen
            and _IDENTIFIER_PATH.match(site.module)
            and _IDENTIFIER_PATH.match(site.name)
        )
        if extra:
            hidden.append(PickleScan(plain.start, plain.end, plain.protocol, plain.opcodes, extra))
    context = "read by plain pickle.load (joblib array bytes parsed as opcodes): "
    return findings_for_scans(path, hidden, context=context)


def malformed_finding(
    path: str, scan: PickleScan, context: str = "", at_offset: int | None = None
) -> Finding:
    imported = sorted({s.qualname for s in scan.imports})
    found = (
        f"; before it: {len(imported)} import(s) ({', '.join(imported[:6])})"
        if imported
        else "; no imports before it"
    )
    return Finding(
        rule_id=RULE_MALFORMED,
        analyzer=ANALYZER,
        message=f"{context}malformed pickle: {scan.error} at offset {scan.error_offset}{found}. "
        "The rest could not be analysed; loaders may still run it (fail closed)",
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        location=Location(path, offset=at_offset if at_offset is not None else scan.error_offset),
        cwe=(rules.CWE_DESERIALIZATION,),
        snippet=scan.error or "",
        evidence=(f"{scan.opcodes} opcodes read", f"stream starts at {scan.start}"),
    )


# --------------------------------------------------------------------------- analyzer

PICKLE_FILE_KINDS = frozenset(
    {
        FileKind.PICKLE,
        FileKind.TORCH_LEGACY,
        FileKind.TORCH_ZIP,
        FileKind.JOBLIB,
        FileKind.NUMPY,
        FileKind.NUMPY_ZIP,
        FileKind.ZIP,
        FileKind.TAR,
    }
)


class PickleAnalyzer:
    """Pickle-bearing files: raw pickles, torch zip/legacy, joblib, numpy object arrays."""

    name: str = ANALYZER
    version: str = VERSION
    kinds: frozenset[FileKind] = PICKLE_FILE_KINDS

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        if kind is FileKind.TAR:  # only torch's pre-1.0 tar checkpoints, by name
            from ..filekinds import PICKLE_SUFFIXES, suffix_of

            return suffix_of(entry.path) in PICKLE_SUFFIXES | {".tar"}
        return kind in self.kinds

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        from ..census import tensor_names_from
        from .containers import analyze_container

        seen: dict[str, tuple[PickleScan, ...]] = {}
        with ctx.snapshot.store.open(entry.path) as stream:
            findings, errors = analyze_container(
                entry.path, stream, kind, limits=ctx.limits, size=entry.size, seen=seen.__setitem__
            )
        facts: tuple[FileFact, ...] = ()
        if kind is FileKind.TORCH_ZIP or "" in seen:  # the census's own reading of this file
            facts = (FileFact(entry.path, TENSOR_NAMES, tensor_names_from(kind, seen)),)
        return AnalyzerOutput(tuple(findings), tuple(errors), facts)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loadguard.analyzers.pickle [--json] [--imports] PATH...``: scan files, folders.

    ``--imports`` adds every imported callable (offset, invoked or only named,
    policy verdict) to the JSON output.

    Exit 0 when nothing above low was found, 1 otherwise, 2 when a file could not be read.
    """
    import sys

    from ..filekinds import classify_bytes
    from .containers import analyze_container, sniff_zip_kind

    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args or "--imports" in args
    inventory: list[tuple[str, str, ImportSite]] | None = [] if "--imports" in args else None
    INVENTORY.set(inventory)
    given = [a for a in args if a not in ("--json", "--imports")]
    paths = _expand(given)
    if not given:
        print(
            "usage: python -m loadguard.analyzers.pickle [--json] [--imports] PATH...",
            file=sys.stderr,
        )
        return 2
    worst = Severity.INFO
    failed = False
    report: list[dict[str, object]] = []
    for path in paths:
        try:
            with open(path, "rb") as stream:
                import os

                size = os.fstat(stream.fileno()).st_size
                head = stream.read(512)
                stream.seek(0)
                kind = classify_bytes(path, head, size)
                if kind is FileKind.ZIP:
                    kind = sniff_zip_kind(stream, path)
                    stream.seek(0)
                if path not in given and kind not in PICKLE_FILE_KINDS:
                    continue  # walked from a folder and not a pickle container
                findings, errors = analyze_container(
                    path, stream, kind, limits=DEFAULT_LIMITS, size=size
                )
        except OSError as exc:
            print(f"{path}: cannot read: {exc}", file=sys.stderr)
            failed = True
            continue
        for f in findings:
            worst = max(worst, f.severity)
        if as_json:
            report.append(
                {
                    "path": path,
                    "kind": kind.value,
                    "findings": [
                        {
                            "rule_id": f.rule_id,
                            "severity": f.severity.label,
                            "message": f.message,
                            "offset": f.location.offset,
                            "location": f.location.path,
                        }
                        for f in findings
                    ],
                    "errors": [e.message for e in errors],
                    **(
                        {"imports": _inventory_rows(inventory, path)}
                        if inventory is not None
                        else {}
                    ),
                }
            )
            continue
        for f in findings:
            offset = f" @{f.location.offset}" if f.location.offset is not None else ""
            print(
                f"{f.severity.label.upper():8} {f.location.path}{offset} [{f.rule_id}] {f.message}"
            )
        for e in errors:
            print(f"ERROR    {e.path} [{e.kind}] {e.message}")
            failed = True
    if as_json:
        import json

        print(json.dumps(report, indent=1))
    if failed:
        return 2
    return 1 if worst > Severity.LOW else 0


def _inventory_rows(
    inventory: list[tuple[str, str, ImportSite]], path: str
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for where, context, site in inventory:
        if where != path and not where.startswith(path + "!"):
            continue
        verdict = judge(site.module, site.name)
        rows.append(
            {
                "location": where,
                "nested": context.rstrip(": ") or None,
                "import": site.qualname,
                "offset": site.offset,
                "opcode": site.opcode,
                "invoked": site.invoked,
                "via": site.via,
                "verdict": verdict.category,
                "profile": verdict.profile,
            }
        )
    inventory[:] = [
        item for item in inventory if item[0] != path and not item[0].startswith(path + "!")
    ]
    return rows


def _expand(paths: Sequence[str]) -> list[str]:
    """Files as given; folders walked (sorted, symlinks not followed)."""
    import os

    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                out.extend(os.path.join(folder, name) for name in sorted(files))
        else:
            out.append(path)
    return out
