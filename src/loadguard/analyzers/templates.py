"""Jinja chat templates: constructs that climb from template values to Python objects.

Runtimes render ``tokenizer.chat_template`` on every chat call: transformers in
Jinja's sandbox, others (llama-cpp-python before CVE-2024-34359's fix, ad-hoc
servers) in a plain ``Environment``. A template has no legitimate reason to
touch dunder attributes, private attributes, the ``lipsum``/``cycler``/
``joiner``/``namespace`` globals' internals, or to build attribute names at
render time. Such constructs are sandbox escapes; astronomically large loops
are a denial of service. The template is read as text: nothing is rendered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..model import Confidence, FileEntry, FileKind, Finding, Location, ScanError, Severity
from .base import AnalysisContext, AnalyzerOutput

ANALYZER = "templates"
VERSION = "1.0"

RULE_ESCAPE = "LG-TPL-001"  # dunder / private attribute / mro walk
RULE_GLOBALS = "LG-TPL-002"  # template globals used as a handle on Python objects
RULE_ATTR = "LG-TPL-003"  # |attr() with a dunder or computed name
RULE_OBFUSCATED = "LG-TPL-004"  # underscores hidden by escapes or string arithmetic
RULE_DOS = "LG-TPL-005"  # huge loops / repetition
RULE_UNREADABLE = "LG-TPL-006"

CWE_TEMPLATE = "CWE-1336"
CWE_DOS = "CWE-400"
TEMPLATE_JSON_NAMES = frozenset(
    {"tokenizer_config.json", "chat_template.json", "processor_config.json"}
)
HUGE_LOOP = 100_000

_OPEN = re.compile(r"\{\{|\{%")
_IN_TAG = {"}}": re.compile(r"['\"]|\}\}"), "%}": re.compile(r"['\"]|%\}")}
_IN_STRING = {"'": re.compile(r"\\.|'", re.S), '"': re.compile(r'\\.|"', re.S)}
_DUNDER = re.compile(r"__[A-Za-z][A-Za-z0-9_]*?__")
_PRIVATE = re.compile(r"\.\s*_(?!_)[A-Za-z]|\[\s*['\"]_(?!_)[A-Za-z]")
_MRO = re.compile(r"\bmro\s*\(|\.\s*mro\b")
_GLOBAL_HANDLE = re.compile(
    r"\b(lipsum|cycler|joiner|namespace|range|dict|self|config|request|url_for|"
    r"get_flashed_messages)\s*(?:\(\s*\))?\s*"
    # ._x, ['_x'], |attr, or a subscript computed at render time: [name], ['x'|replace(..)]
    r"(?:\.\s*_|\[\s*(?:['\"]_|[^'\"\s]|(['\"])[^'\"]*\2\s*[|~+%*(])|\|\s*attr\b)"
)
_ATTR_FILTER = re.compile(r"\|\s*attr\s*\(\s*([^)]*)\)")
_ESCAPED_UNDERSCORE = re.compile(r"\\x5[fF]|\\u005[fF]|\\U0000005[fF]|\\137|\\N\{LOW LINE\}", re.I)
_BUILT_UNDERSCORE = re.compile(
    r"['\"]_['\"]\s*\*\s*\d|\|\s*format\s*\(\s*95\b|['\"]%c['\"]\s*\|\s*format|"
    r"\bchr\s*\(\s*95\b|['\"]_['\"]\s*~\s*['\"]_['\"]|"
    # pieces of a dunder name to join: '__glo' ~ 'bals__', ['_','_','class',...]|join
    r"['\"]__\w*['\"]|['\"]\w*__['\"]|[\[,]\s*['\"]_['\"]\s*[,\]]|"
    # characters from numbers: '%c%c' % (95, 95)
    r"['\"][^'\"]*%c[^'\"]*['\"]\s*%"
)
_RANGE = re.compile(r"\brange\s*\(([^)]*)\)")
_REPEAT = re.compile(r"\*\s*(\d{6,})|(\d{6,})\s*\*|\*\*\s*\d")


class TemplateSource(NamedTuple):
    name: str  # "chat_template" or "chat_template.<name>" / the GGUF key
    text: str
    line_base: int | None  # 1-based line of the template's first line in its file, if known


def template_findings(path: str, source: TemplateSource) -> list[Finding]:
    """Findings for one template text; ``path`` is where it lives (file or ``file!key``)."""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for start, tag in _tags(source.text):
        for rule, severity, message, snippet in _tag_problems(tag):
            if (rule, snippet) in seen:
                continue
            seen.add((rule, snippet))
            line = None
            if source.line_base is not None:
                line = source.line_base + source.text.count("\n", 0, start)
            out.append(
                Finding(
                    rule_id=rule,
                    analyzer=ANALYZER,
                    message=f"chat template {source.name!r}: {message}",
                    severity=severity,
                    confidence=Confidence.HIGH if severity >= Severity.HIGH else Confidence.MEDIUM,
                    location=Location(path, line=line),
                    cwe=(CWE_DOS,) if rule == RULE_DOS else (CWE_TEMPLATE, "CWE-94"),
                    snippet=tag[:200],
                    evidence=(f"template offset {start}",),
                )
            )
    return out


def _tags(text: str) -> Iterator[tuple[int, str]]:
    """``{{ }}`` and ``{% %}`` tags as Jinja's lexer delimits them, in linear time.

    A closing delimiter inside a string literal does not end the tag
    (``{{ '}}' ~ x.__class__ }}`` is one tag). An unterminated string makes
    Jinja refuse the template; the rest of the text is then read as one tag.
    """
    pos = 0
    while (opening := _OPEN.search(text, pos)) is not None:
        close = "}}" if opening.group(0) == "{{" else "%}"
        i = opening.end()
        while True:
            hit = _IN_TAG[close].search(text, i)
            if hit is None:
                yield opening.start(), text[opening.start() :]
                return
            token = hit.group(0)
            if token == close:
                yield opening.start(), text[opening.start() : hit.end()]
                pos = hit.end()
                break
            i = hit.end()
            while (inner := _IN_STRING[token].search(text, i)) is not None:
                i = inner.end()
                if inner.group(0) == token:
                    break
            else:
                yield opening.start(), text[opening.start() :]
                return


def _tag_problems(tag: str) -> Iterator[tuple[str, Severity, str, str]]:
    for dunder in _DUNDER.findall(tag):
        yield (
            RULE_ESCAPE,
            Severity.HIGH,
            f"reaches the Python object attribute {dunder} (sandbox escape)",
            dunder,
        )
    if _PRIVATE.search(tag):
        yield RULE_ESCAPE, Severity.HIGH, "reads a private attribute (sandbox escape)", "private"
    if _MRO.search(tag):
        yield RULE_ESCAPE, Severity.HIGH, "walks the class hierarchy (mro)", "mro"
    handle = _GLOBAL_HANDLE.search(tag)
    if handle:
        yield (
            RULE_GLOBALS,
            Severity.HIGH,
            f"uses the template global {handle.group(1)!r} as a handle on Python internals",
            handle.group(1),
        )
    for arg in _ATTR_FILTER.findall(tag):
        literal = re.fullmatch(r"\s*(['\"])([^'\"]*)\1\s*", arg)
        if literal is None:
            yield (
                RULE_ATTR,
                Severity.HIGH,
                f"|attr() with a name computed at render time ({arg.strip()[:40]})",
                arg.strip()[:40],
            )
        elif literal.group(2).startswith("_"):
            yield (
                RULE_ATTR,
                Severity.HIGH,
                f"|attr({literal.group(2)!r}) reaches a private/dunder attribute",
                literal.group(2),
            )
    if _ESCAPED_UNDERSCORE.search(tag):
        yield RULE_OBFUSCATED, Severity.HIGH, "hides underscores in string escapes", "escaped-_"
    if _BUILT_UNDERSCORE.search(tag):
        yield RULE_OBFUSCATED, Severity.HIGH, "builds underscores at render time", "built-_"
    for args in _RANGE.findall(tag):
        numbers = [int(n) for n in re.findall(r"\d+", args) if len(n) < 30]
        if any(n >= HUGE_LOOP for n in numbers) or "*" in args:
            yield RULE_DOS, Severity.MEDIUM, f"loops over range({args.strip()[:40]})", "range"
    if _REPEAT.search(tag):
        yield RULE_DOS, Severity.MEDIUM, "repeats or exponentiates by a huge factor", "repeat"


def templates_in_json(data: bytes) -> list[TemplateSource]:
    """``chat_template`` from tokenizer_config.json / chat_template.json (string or list)."""
    repeated: list[Any] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        # a repeated key: json keeps the last copy, other parsers the first; read all
        repeated.extend(value for key, value in items if key == "chat_template")
        return dict(items)

    doc = json.loads(data, object_pairs_hook=pairs)
    if not isinstance(doc, dict):
        return []
    values = [doc.get("chat_template")] + [v for v in repeated if v is not doc.get("chat_template")]
    out: list[TemplateSource] = []
    for value in values:
        if isinstance(value, str):
            out.append(TemplateSource("chat_template", value, None))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("template"), str):
                    name = str(item.get("name", "default"))
                    out.append(TemplateSource(f"chat_template.{name}", item["template"], None))
    return out


class TemplateAnalyzer:
    name: str = ANALYZER
    version: str = VERSION

    def wants(self, entry: FileEntry, kind: FileKind) -> bool:
        base = entry.path.rsplit("/", 1)[-1]
        return base.endswith(".jinja") or base in TEMPLATE_JSON_NAMES

    def analyze_file(
        self, ctx: AnalysisContext, entry: FileEntry, kind: FileKind
    ) -> AnalyzerOutput:
        data = ctx.read_text_bytes(entry.path)
        if entry.path.endswith(".jinja"):
            text = data.decode("utf-8", "replace")
            name = entry.path.rsplit("/", 1)[-1].removesuffix(".jinja")
            sources = [TemplateSource(name, text, 1)]
        else:
            try:
                sources = templates_in_json(data)
            except (ValueError, RecursionError) as exc:
                return AnalyzerOutput(
                    errors=(ScanError(entry.path, ANALYZER, f"invalid JSON: {exc}", "parse"),)
                )
        findings: list[Finding] = []
        for source in sources:
            findings += template_findings(entry.path, source)
        return AnalyzerOutput(tuple(findings))
