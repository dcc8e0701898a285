"""Study report: tables agree with the store, figures and the HTML page are written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("matplotlib")

import study_support
from cli_support import run_cli
from loadguard.study.report import load_safeguards, write_report
from loadguard.study.runner import run_study
from loadguard.study.store import StudyStore

SAMPLE = Path(study_support.__file__).resolve().parent.parent / "src/loadguard/study/data"


@pytest.fixture(scope="module")
def study_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    corpus = study_support.build_corpus(root / "corpus", 9, copies_of=study_support.EXAMPLES)
    listing = root / "targets.jsonl"
    lines = []
    for i, repo in enumerate(sorted(p for p in corpus.iterdir() if p.is_dir())):
        record: dict[str, object] = {"target": str(repo), "created_at": f"2024-{1 + i % 3:02d}-15"}
        if repo.name.startswith("m"):
            record["platform"] = "modelscope" if i % 2 else "huggingface"
        lines.append(json.dumps(record))
    listing.write_text("\n".join(lines) + "\n")
    db = root / "s.duckdb"
    with StudyStore(db) as store:
        run_study(str(listing), store, workers=1)
    return db


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_report_tables_match_the_store(study_db: Path, tmp_path: Path) -> None:
    written = write_report(study_db, tmp_path, discussions=SAMPLE / "discussions_labelled.jsonl")
    with StudyStore(study_db, read_only=True) as store:
        per_platform = dict(
            store.query(
                "SELECT platform, count(*) FILTER (WHERE runs_repo_code) FROM repos GROUP BY 1"
            )
        )
        total = store.counts()["repos"]
        months = store.query("SELECT created_month, count(*) FROM repos GROUP BY 1 ORDER BY 1")
    prevalence = read_csv(tmp_path / "tables" / "prevalence.csv")
    assert prevalence[-1]["platform"] == "all" and int(prevalence[-1]["repos"]) == total
    names = {"Hugging Face": "huggingface", "ModelScope": "modelscope", "OpenMMLab": "openmmlab",
             "PyTorch Hub": "torch_hub"}  # fmt: skip
    for row in prevalence[:-1]:
        assert int(row["custom-code repos"]) == per_platform[names[row["platform"]]]
    trends = read_csv(tmp_path / "tables" / "trends.csv")
    assert [(r["month"], int(r["repos"])) for r in trends] == months
    funnel = read_csv(tmp_path / "tables" / "funnel.csv")
    assert all(int(r["execution-relevant"]) <= int(r["Python files"]) for r in funnel)
    assert {p.name for p in written["tables"]} >= {
        "prevalence.csv", "funnel.csv", "cwe_by_analyzer.csv", "cwe_by_platform.csv",
        "severity.csv", "top_rules.csv", "yara_families.csv", "safetensors.csv", "trends.csv",
        "safeguards.csv", "discussions.csv", "discussions_agreement.csv",
    }  # fmt: skip


def test_report_writes_figures_markdown_and_html(study_db: Path, tmp_path: Path) -> None:
    written = write_report(study_db, tmp_path, discussions=SAMPLE / "discussions_labelled.jsonl")
    pngs = [p for p in written["figures"] if p.suffix == ".png"]
    svgs = [p for p in written["figures"] if p.suffix == ".svg"]
    assert {p.stem for p in pngs} >= {"study_prevalence", "study_funnel", "study_trends",
                                      "study_safetensors", "study_discussions"}  # fmt: skip
    assert len(pngs) == len(svgs)
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = (tmp_path / "index.html").read_text()
    for png in pngs:
        assert f"src='{png.name}'" in page
    assert "Platform safeguards" in page and "<script" not in page
    markdown = (tmp_path / "tables.md").read_text()
    assert "### SafeTensors adoption per platform" in markdown


def test_report_command(study_db: Path, tmp_path: Path) -> None:
    result = run_cli("report", str(study_db), "-o", str(tmp_path), "--no-figures")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "index.html").exists() and not list(tmp_path.glob("*.png"))


def test_safeguards_cover_every_hub_with_sources() -> None:
    data = load_safeguards()
    assert {"huggingface", "modelscope", "opencsg", "openmmlab", "torch_hub"} <= set(data)
    for entry in data.values():
        for aspect in ("trust_flag", "trust_default", "automated_scanning", "warnings",
                       "signing", "sandboxing"):  # fmt: skip
            assert entry[aspect].strip(), aspect
        assert entry["sources"] and all("research/" in s for s in entry["sources"])
