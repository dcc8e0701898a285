from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadguard.model import ScanError
from loadguard.policy import apply_policy, preset
from loadguard.report.html import render_html
from report_samples import HOSTILE, backdoor_result, clean_result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from screenshot_html import find_chromium, screenshot  # noqa: E402


def _page() -> str:
    gate = apply_policy(
        preset("balanced"),
        [clean_result(), backdoor_result()],
        [ScanError("hf:" + HOSTILE, "source", "cannot open " + HOSTILE, "source")],
    )
    return render_html(gate, title=HOSTILE)


def test_hostile_text_never_becomes_markup() -> None:
    page = _page()
    assert page.count("<script") == 1  # ours, with the nonce
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in page
    # Non-UTF-8 bytes in names stay visible, escaped.
    assert "weird\\xff" in page
    page.encode("utf-8")  # valid UTF-8 throughout


def test_csp_nonce_and_no_network() -> None:
    page = _page()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    nonce = re.search(r"'nonce-([^']+)'", csp.group(1))
    assert nonce is not None and f'<script nonce="{nonce.group(1)}">' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page


def test_sections_of_a_repository() -> None:
    page = _page()
    for text in (
        "evil-org/fast-lm",
        "MALICIOUS-LIKELY",
        "gate fail",
        "Why the gate fails",
        "The safe way to load it",
        "Entry points",
        "config.json auto_map.AutoModelForCausalLM",
        "Reach graph",
        "kernels/loader.py::load_kernels",
        "how the load reaches it",
        "subprocess.run(base64.b64decode(CMD), shell=True)",
        "Weight formats",
        "pickle-based: can run code",
        "Errors",
        "invalid syntax at line 3",
        "Targets that could not be opened",
        "training_args.bin!archive/data.pkl @ byte 57",
    ):
        assert text in page, text
    # Findings grouped by severity, worst first; worst repository first.
    order = [page.index(f'<h4 class="sev-{s}">') for s in ("critical", "high", "medium", "low")]
    assert order == sorted(order)


def test_failing_repos_come_first() -> None:
    page = _page()
    sections = re.findall(r'<section class="repo" id="repo-\d+"><h2>([^<]+?) <', page)
    assert sections[0] == "evil-org/fast-lm"


def test_empty_report_renders() -> None:
    page = render_html(apply_policy(preset("strict"), []))
    assert "<html" in page and "exit code <b>0</b>" in page


@pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")
def test_renders_in_headless_chromium_without_injection(tmp_path: Path) -> None:
    html_path = tmp_path / "report.html"
    html_path.write_text(_page(), encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(html_path, png, width=1200, height=1600)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    chromium = find_chromium()
    assert chromium is not None
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # The browser built no element from repository text: it is all text nodes.
    assert "<img" not in dom and dom.count("<script") == 1
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


def test_pickle_weights_are_not_called_code_free() -> None:
    import dataclasses

    from loadguard.model import FileKind, WeightFile

    result = clean_result()
    plan = dataclasses.replace(
        result.plan, weights=(WeightFile("pytorch_model.bin", FileKind.TORCH_ZIP, 10),)
    )
    page = render_html(apply_policy(preset("balanced"), [dataclasses.replace(result, plan=plan)]))
    assert "runs none of its code" not in page
    assert "1 pickle-based weight file(s)" in page and "weights need conversion" in page
