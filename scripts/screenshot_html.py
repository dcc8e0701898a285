"""Render a loadguard HTML report in headless Chromium and save a PNG screenshot.

    PYTHONPATH=src python scripts/screenshot_html.py [TARGET ...] \
        --out docs/img/report.png --html /tmp/report.html --preset strict

Scans the targets (default: examples/repos), writes the HTML report, and
points Chromium at it with networking features off. Exits 3 when no
Chromium is installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: Path, png_path: Path, *, width: int = 1400, height: int = 2000) -> None:
    """Raise ``FileNotFoundError`` without Chromium, ``RuntimeError`` when it fails."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not installed")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lg-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png_path}",
            f"--window-size={width},{height}",
            html_path.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png_path.is_file():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=[str(ROOT / "examples" / "repos")])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "report.png")
    parser.add_argument("--html", type=Path, default=None, help="keep the HTML here")
    parser.add_argument("--preset", default="strict")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)

    from loadguard.advice import RepoFacts
    from loadguard.api import iter_scan
    from loadguard.model import ScanError, ScanResult, Snapshot
    from loadguard.policy import apply_policy, preset
    from loadguard.report.html import render_html

    facts: dict[tuple[str, str], RepoFacts] = {}

    def remember(snapshot: Snapshot) -> None:
        facts[(snapshot.repo_id, snapshot.location)] = RepoFacts.from_snapshot(snapshot)

    results: list[ScanResult] = []
    errors: list[ScanError] = []
    for item in iter_scan(args.targets, on_snapshot=remember):
        (errors if isinstance(item, ScanError) else results).append(item)  # type: ignore[arg-type]
    gate = apply_policy(preset(args.preset), results, errors)
    page = render_html(gate, facts, title="example corpus")
    html_path = args.html or Path(tempfile.mkdtemp(prefix="lg-report-")) / "report.html"
    html_path.write_text(page, encoding="utf-8")
    try:
        screenshot(html_path, args.out, width=args.width, height=args.height)
    except FileNotFoundError:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 3
    print(f"{len(results)} repositories -> {html_path} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
