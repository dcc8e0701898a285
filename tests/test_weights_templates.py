"""Chat-template checks: sandbox escapes and denial of service, never rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadguard.analyzers.templates import (
    RULE_ATTR,
    RULE_DOS,
    RULE_ESCAPE,
    RULE_GLOBALS,
    RULE_OBFUSCATED,
    TemplateSource,
    template_findings,
    templates_in_json,
)
from loadguard.engine import scan_snapshot
from loadguard.model import Severity
from loadguard.sources.local import snapshot_from_folder

BENIGN = (
    "{%- set ns = namespace(found=false) -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{%- set ns.found = true -%}{%- endif -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif -%}"
    "{{ raise_exception('bad role') if false }}{{ strftime_now('%Y') }}"
    "{% for i in range(5) %}{{ loop.index0 }}{% endfor %}"
)


def rules(text: str) -> set[str]:
    return {f.rule_id for f in template_findings("t.jinja", TemplateSource("t", text, 1))}


def test_benign_template_is_quiet() -> None:
    assert rules(BENIGN) == set()
    # dunders in the literal text outside tags are output, not code
    assert rules("Explain __init__ methods in Python. {{ messages[0]['content'] }}") == set()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", RULE_ESCAPE),
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", RULE_ESCAPE),
        ("{{ self._TemplateReference__context }}", RULE_ESCAPE),
        ("{{ x['_private'] }}", RULE_ESCAPE),
        ("{{ ().__class__.mro() }}", RULE_ESCAPE),
        ("{% set g = lipsum|attr('x') %}", RULE_GLOBALS),
        ("{{ joiner._x }}", RULE_GLOBALS),
        ("{{ x|attr(name) }}", RULE_ATTR),
        ("{{ x|attr('_' ~ 'x') }}", RULE_ATTR),
        ("{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", RULE_OBFUSCATED),
        ("{{ x|attr('_'*2 ~ 'class' ~ '_'*2) }}", RULE_OBFUSCATED),
        ("{{ x|attr('%c'|format(95)) }}", RULE_OBFUSCATED),
        ("{{ ('__ssalc__'|reverse) }}", RULE_ESCAPE),
        ("{% for i in range(10000000) %}x{% endfor %}", RULE_DOS),
        ("{{ 'a' * 100000000 }}", RULE_DOS),
        ("{% for i in range(10**9) %}{% endfor %}", RULE_DOS),
    ],
)
def test_escapes_and_dos(text: str, rule: str) -> None:
    assert rule in rules(text)


def test_severity_and_line() -> None:
    text = "line1\n{{ ok }}\n{{ x.__class__ }}\n"
    (finding,) = template_findings("chat_template.jinja", TemplateSource("default", text, 1))
    assert finding.severity is Severity.HIGH and finding.location.line == 3
    assert "CWE-1336" in finding.cwe


def test_json_templates_string_and_list() -> None:
    doc = {
        "chat_template": [
            {"name": "default", "template": "a"},
            {"name": "rag", "template": "{{ x.__y__ }}"},
        ]
    }
    sources = templates_in_json(json.dumps(doc).encode())
    assert [s.name for s in sources] == ["chat_template.default", "chat_template.rag"]
    assert templates_in_json(b'{"chat_template": "x"}')[0].text == "x"
    assert templates_in_json(b"[1]") == []


def test_engine_runs_templates_on_repo_files(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "additional_chat_templates").mkdir(parents=True)
    (root / "config.json").write_text("{}")
    (root / "tokenizer_config.json").write_text(json.dumps({"chat_template": BENIGN}))
    (root / "chat_template.jinja").write_text(BENIGN)
    (root / "additional_chat_templates" / "tools.jinja").write_text(
        "{{ lipsum.__globals__['os'] }}"
    )
    (root / "chat_template.json").write_text("{not json")
    result = scan_snapshot(snapshot_from_folder(root))
    paths = {f.location.path for f in result.findings if f.analyzer == "templates"}
    assert paths == {"additional_chat_templates/tools.jinja"}
    assert any(e.path == "chat_template.json" and e.kind == "parse" for e in result.errors)


# Evasions: a closing delimiter hidden in a string, dunder names built from
# pieces, characters from numbers, subscripts computed on a global handle.
TEMPLATE_EVASIONS = {
    "close-in-string": "{{ '}}' ~ lipsum.__globals__ }}",
    "close-in-block-string": "{% set x = '%}' ~ cycler.__init__ %}",
    "concat-pieces": "{% set x = '__glo' ~ 'bals__' %}{{ lipsum[x] }}",
    "percent-c": "{% set u = '%c%c' % (95, 95) %}{{ lipsum[u ~ 'globals' ~ u] }}",
    "joined-list": "{% set n = ['_','_','globals','_','_']|join %}{{ lipsum[n] }}",
    "long-u-escape": "{{ lipsum['\\U0000005f\\U0000005fglobals\\U0000005f\\U0000005f'] }}",
    "reversed": "{{ lipsum[('__slabolg'|reverse) ~ '__'] }}",
    "replaced": "{{ lipsum['XXglobalsXX'|replace('X', '_')] }}",
    "dict-keys": "{{ lipsum[(dict(__globals__=1)|list)[0]] }}",
}


@pytest.mark.parametrize("text", TEMPLATE_EVASIONS.values(), ids=TEMPLATE_EVASIONS.keys())
def test_template_evasions_are_high(text: str) -> None:
    found = template_findings("t.jinja", TemplateSource("t", text, 1))
    assert max(f.severity for f in found) is Severity.HIGH


@pytest.mark.parametrize(
    "text",
    [
        "{{ name|replace(' ', '_') }}",
        "{% for k in props %}{{ props[k] }}{% endfor %}",
        "{{ strftime_now('%c') }}{{ '%d items'|format(3) }}",
        "{{ '{{ not a tag }}' }} {% set s = '%}' %}{{ s }}",
    ],
)
def test_ordinary_template_idioms_stay_quiet(text: str) -> None:
    assert rules(text) == set()


@pytest.mark.parametrize("text", ["{{ '" * 20_000, '{% "' * 20_000, "{{ " * 50_000])
def test_unterminated_tags_are_read_in_linear_time(text: str) -> None:
    import time

    began = time.perf_counter()
    template_findings("t.jinja", TemplateSource("t", text, 1))
    assert time.perf_counter() - began < 2.0


def test_a_repeated_chat_template_key_is_read_in_every_copy() -> None:
    # json keeps the last copy; parsers that keep the first render the payload
    data = (
        b'{"chat_template": "{{ cycler.__init__.__globals__ }}",'
        b' "chat_template": "{{ messages[0].content }}"}'
    )
    texts = [source.text for source in templates_in_json(data)]
    assert "{{ cycler.__init__.__globals__ }}" in texts
    assert "{{ messages[0].content }}" in texts
