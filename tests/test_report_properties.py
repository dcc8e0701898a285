"""Property tests: whatever text a repository holds, reports keep their structure."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadguard.model import ScanError, ScanResult
from loadguard.policy import apply_policy, preset
from loadguard.report.html import MAX_FINDINGS_PER_REPO, render_html
from loadguard.report.sarif import results_to_sarif, sarif_dumps
from report_samples import backdoor_result
from sarif_schema import SARIF_SCHEMA

SCHEMA = SARIF_SCHEMA
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)

# Any text, including lone surrogates (non-UTF-8 file names arrive as surrogateescape).
hostile_text = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(["<", ">", "&", '"', "'", "</script>", "<!--", "]]>", "\x00", "\udcff"]),
    ),
    max_size=20,
).map("".join)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _tags(page: str) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _fill(text: str) -> ScanResult:
    """The sample result with every repository-controlled string replaced by ``text``."""
    result = backdoor_result()
    findings = tuple(
        dataclasses.replace(
            f,
            message=text or "m",
            snippet=text,
            location=dataclasses.replace(f.location, path=(text or "p") + ".py"),
            witness=tuple(text + s for s in f.witness),
            evidence=(text,),
        )
        for f in result.findings
    )
    errors = (ScanError(text, "source", text, "source"),)
    snapshot = dataclasses.replace(result.snapshot, repo_id=text or "r", location=text)
    return dataclasses.replace(result, findings=findings, errors=errors, snapshot=snapshot)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_html_structure_does_not_depend_on_repository_text(text: str) -> None:
    page = render_html(apply_policy(preset("audit"), [_fill(text)]))
    # same line structure (snippets render one element per line), no markup-relevant text
    inert = "\n".join("x" * len(line) for line in text.split("\n"))
    baseline = render_html(apply_policy(preset("audit"), [_fill(inert)]))
    assert _tags(page) == _tags(baseline)
    page.encode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_sarif_stays_valid_for_any_text(text: str) -> None:
    log = json.loads(sarif_dumps(results_to_sarif([_fill(text)], root=Path("/nonexistent"))))
    errors = list(VALIDATOR.iter_errors(log))
    assert not errors, errors[0].message


def test_large_results_are_capped_in_html() -> None:
    result = backdoor_result()
    many = tuple(
        dataclasses.replace(result.findings[0], snippet=f"call_{i}()") for i in range(1500)
    )
    page = render_html(apply_policy(preset("audit"), [dataclasses.replace(result, findings=many)]))
    assert page.count('<article class="finding') == MAX_FINDINGS_PER_REPO
    assert "the JSON report has all" in page
