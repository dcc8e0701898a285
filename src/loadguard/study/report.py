"""``loadguard report study.duckdb``: the study's tables, figures and one HTML page.

Every number comes from the store by SQL; tables are written as CSV and
Markdown, figures as PNG (300 dpi) and SVG in a print style (serif, no
chart junk, colour-blind-safe palette), and ``index.html`` holds them all.
"""

from __future__ import annotations

import csv
import html
import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .discussions import LABELS, agreement, distribution, read_jsonl
from .store import StudyStore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PLATFORM_ORDER = ("huggingface", "modelscope", "opencsg", "openmmlab", "torch_hub", "local")
PLATFORM_NAMES = {
    "huggingface": "Hugging Face",
    "modelscope": "ModelScope",
    "opencsg": "OpenCSG",
    "openmmlab": "OpenMMLab",
    "torch_hub": "PyTorch Hub",
    "local": "Local",
}
# Okabe-Ito: distinguishable in colour-blind vision and in greyscale print
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
CWE_NAMES = {
    "CWE-22": "path traversal",
    "CWE-78": "OS command injection",
    "CWE-94": "code injection",
    "CWE-95": "eval injection",
    "CWE-200": "information exposure",
    "CWE-250": "excess privilege",
    "CWE-311": "missing encryption",
    "CWE-319": "cleartext transmission",
    "CWE-377": "insecure temp file",
    "CWE-400": "resource exhaustion",
    "CWE-470": "unsafe reflection",
    "CWE-494": "download without integrity check",
    "CWE-502": "deserialization",
    "CWE-506": "embedded malicious code",
    "CWE-703": "improper exception handling",
    "CWE-732": "permissive permissions",
    "CWE-798": "hard-coded credentials",
    "CWE-829": "untrusted control sphere",
    "CWE-918": "SSRF",
}
SEVERITY_COLOURS = {
    "critical": "#7f0000",
    "high": "#D55E00",
    "medium": "#E69F00",
    "low": "#56B4E9",
    "info": "#bbbbbb",
}


@dataclass
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""

    def markdown(self) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        rule = (
            "|"
            + "|".join(
                "---:" if _numeric(self.rows, i) else "---" for i in range(len(self.columns))
            )
            + "|"
        )
        body = [
            "| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |" for row in self.rows
        ]
        text = f"### {self.title}\n\n" + "\n".join([head, rule, *body]) + "\n"
        return text + (f"\n{self.note}\n" if self.note else "")

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.columns)
            writer.writerows(self.rows)

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        note = f"<p class='note'>{html.escape(self.note)}</p>" if self.note else ""
        return (
            f"<h3 id='{self.name}'>{html.escape(self.title)}</h3>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
        )


@dataclass
class Figure:
    name: str
    caption: str
    files: list[Path] = field(default_factory=list)


def _numeric(rows: Sequence[tuple[Any, ...]], i: int) -> bool:
    return bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


# --------------------------------------------------------------------------- tables


def build_tables(store: StudyStore, discussions: Path | None = None) -> list[Table]:
    q = store.query
    tables: list[Table] = []
    order = _platform_sort_sql()

    rows = q(
        f"""SELECT platform, count(*), count(*) FILTER (WHERE runs_repo_code),
               count(*) FILTER (WHERE verdict = 'error')
            FROM repos GROUP BY platform ORDER BY {order}"""
    )
    tables.append(
        Table(
            "prevalence",
            "Custom load-time code per platform",
            ("platform", "repos", "custom-code repos", "% custom code", "unreadable"),
            [(_name(p), n, c, _pct(c, n), e) for p, n, c, e in rows] + _total(rows),
            "Custom code: the load plan runs repository code (auto_map, hubconf.py, "
            "allow_remote, executable configs ...).",
        )
    )

    rows = q(
        f"""SELECT platform, sum(python_files), sum(executed_python_files),
               count(*) FILTER (WHERE python_files > 0),
               count(*) FILTER (WHERE executed_python_files > 0)
            FROM repos GROUP BY platform ORDER BY {order}"""
    )
    funnel: list[tuple[Any, ...]] = [
        (_name(p), int(a or 0), int(b or 0), _pct(b or 0, a or 0), c, d) for p, a, b, c, d in rows
    ]
    if funnel:
        sums = [sum(r[i] for r in funnel) for i in (1, 2, 4, 5)]
        funnel.append(("all", sums[0], sums[1], _pct(sums[1], sums[0]), sums[2], sums[3]))
    tables.append(
        Table(
            "funnel",
            "Filter funnel: Python files to execution-relevant files",
            (
                "platform",
                "Python files",
                "execution-relevant",
                "% relevant",
                "repos with Python",
                "repos executing Python",
            ),
            funnel,
            "Execution-relevant: a Python file the load plan or the reachability graph runs "
            "(the study: 128,487 -> 67,009).",
        )
    )

    affected = q("SELECT count(DISTINCT repo_key) FROM findings")[0][0] or 0
    cwe_sql = """WITH c AS (SELECT f.*, r.platform, trim(unnest(string_split(
                   CASE WHEN f.cwe = '' THEN 'none' ELSE f.cwe END, ','))) AS one
                 FROM findings f JOIN repos r USING (repo_key))"""
    rows = q(
        cwe_sql
        + """ SELECT analyzer, one, count(*), count(DISTINCT repo_key) FROM c
        GROUP BY ALL ORDER BY analyzer, 4 DESC, 3 DESC, one"""
    )
    tables.append(
        Table(
            "cwe_by_analyzer",
            "CWE distribution per analyzer",
            ("analyzer", "CWE", "findings", "repos", "% of affected repos"),
            [(a, c, n, r, _pct(r, affected)) for a, c, n, r in rows],
        )
    )
    rows = q(
        cwe_sql
        + """ , a AS (SELECT platform, count(DISTINCT repo_key) AS n FROM c GROUP BY 1)
        SELECT platform, one, count(*), count(DISTINCT repo_key), any_value(a.n) FROM c
        JOIN a USING (platform) GROUP BY ALL ORDER BY 4 DESC, one"""
    )
    rows.sort(key=lambda r: _platform_rank(r[0]))
    tables.append(
        Table(
            "cwe_by_platform",
            "CWE distribution per platform (share of the platform's affected repos)",
            ("platform", "CWE", "findings", "repos", "% of affected repos"),
            [(_name(p), c, n, r, _pct(r, a)) for p, c, n, r, a in rows],
        )
    )
    rows = q(
        """SELECT severity, count(*), count(DISTINCT repo_key),
                  count(*) FILTER (WHERE reachable), count(*) FILTER (WHERE reachable = false)
           FROM findings GROUP BY severity, severity_rank ORDER BY severity_rank DESC"""
    )
    tables.append(
        Table(
            "severity",
            "Severity mix",
            ("severity", "findings", "repos", "reachable on load", "not reachable"),
            list(rows),
        )
    )
    rows = q(
        """SELECT rule_id, analyzer, any_value(cwe), count(*), count(DISTINCT repo_key)
           FROM findings GROUP BY rule_id, analyzer ORDER BY 5 DESC, 4 DESC, rule_id LIMIT 20"""
    )
    tables.append(
        Table(
            "top_rules",
            "Top rules",
            ("rule", "analyzer", "CWE", "findings", "repos", "% of affected repos"),
            [(*r, _pct(r[4], affected)) for r in rows],
        )
    )
    rows = q(
        """SELECT CASE WHEN rule_id LIKE 'LG-YARA-%' THEN lower(split_part(rule_id, '-', 3))
                       ELSE rule_id END AS family,
                  count(*), count(DISTINCT repo_key), max(severity_rank)
           FROM findings WHERE analyzer = 'yara' GROUP BY 1 ORDER BY 3 DESC, 1"""
    )
    tables.append(
        Table(
            "yara_families",
            "YARA rule families",
            ("family", "findings", "repos", "max severity"),
            [(f, n, r, _severity_name(s)) for f, n, r, s in rows],
            "" if rows else "No YARA findings in this study (was the yara analyzer selected?).",
        )
    )
    rows = q(
        f"""SELECT platform, count(*), count(*) FILTER (WHERE weight_files > 0),
               count(*) FILTER (WHERE safetensors_weights > 0),
               count(*) FILTER (WHERE pickle_weights > 0),
               count(*) FILTER (WHERE pickle_weights > 0 AND safetensors_weights = 0)
            FROM repos GROUP BY platform ORDER BY {order}"""
    )
    tables.append(
        Table(
            "safetensors",
            "SafeTensors adoption per platform",
            (
                "platform",
                "repos",
                "with weights",
                "with SafeTensors",
                "% SafeTensors (of repos)",
                "with pickle weights",
                "pickle only",
            ),
            [(_name(p), n, w, s, _pct(s, n), k, o) for p, n, w, s, k, o in rows],
            "The study measured SafeTensors in 6-7 % of repositories.",
        )
    )
    rows = q(
        """SELECT created_month, count(*), count(*) FILTER (WHERE runs_repo_code)
           FROM repos WHERE created_month IS NOT NULL GROUP BY 1 ORDER BY 1"""
    )
    tables.append(
        Table(
            "trends",
            "Repositories by creation month",
            ("month", "repos", "custom-code repos", "% custom code"),
            [(m, n, c, _pct(c, n)) for m, n, c in rows],
            "" if rows else "No creation dates in the repository metadata.",
        )
    )
    rows = q(
        f"""SELECT platform, verdict, count(*) FROM repos GROUP BY platform, verdict
            ORDER BY {order}, verdict"""
    )
    tables.append(
        Table(
            "verdicts",
            "Verdicts per platform",
            ("platform", "verdict", "repos"),
            [(_name(p), v, n) for p, v, n in rows],
        )
    )
    tables.append(safeguards_table())
    if discussions is not None:
        tables += discussion_tables(discussions)
    return tables


def _platform_sort_sql() -> str:
    cases = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PLATFORM_ORDER))
    return f"CASE platform {cases} ELSE 99 END, platform"


def _platform_rank(platform: str) -> int:
    return PLATFORM_ORDER.index(platform) if platform in PLATFORM_ORDER else len(PLATFORM_ORDER)


def _name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def _severity_name(rank: int | None) -> str:
    return ("info", "low", "medium", "high", "critical")[rank] if rank is not None else ""


def _total(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if len(rows) < 2:
        return []
    n = sum(r[1] for r in rows)
    c = sum(r[2] for r in rows)
    return [("all", n, c, _pct(c, n), sum(r[3] for r in rows))]


def load_safeguards() -> dict[str, dict[str, Any]]:
    text = resources.files("loadguard.study").joinpath("data/safeguards.toml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = tomllib.loads(text)
    return data


def safeguards_table() -> Table:
    data = load_safeguards()
    aspects = (
        "trust_flag",
        "trust_default",
        "automated_scanning",
        "warnings",
        "signing",
        "sandboxing",
    )
    rows = [
        (entry["name"], *(entry.get(a, "") for a in aspects), "; ".join(entry.get("sources", ())))
        for entry in data.values()
    ]
    return Table(
        "safeguards",
        "Platform safeguards",
        (
            "platform",
            "trust flag",
            "default",
            "automated scanning",
            "warnings",
            "signing",
            "sandboxing",
            "sources",
        ),
        rows,
        "Kept in src/loadguard/study/data/safeguards.toml with a source for every row.",
    )


def discussion_tables(path: Path) -> list[Table]:
    items = list(read_jsonl(path))
    counts = distribution(items)
    total = sum(counts.values())
    tables = [
        Table(
            "discussions",
            "Developer discussions by concern (keyword baseline)",
            ("concern", "discussions", "%"),
            [(label, counts[label], _pct(counts[label], total)) for label in LABELS],
            f"{total} discussions from {path.name}; method in docs/study.md.",
        )
    ]
    agree = agreement(items)
    if agree.n:
        tables.append(
            Table(
                "discussions_agreement",
                "Classifier agreement with the hand labels",
                ("labelled", "accuracy %", "Cohen's kappa"),
                [(agree.n, round(100 * agree.accuracy, 1), round(agree.kappa, 3))],
            )
        )
    return tables


# --------------------------------------------------------------------------- figures


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        from ..errors import MissingExtra

        raise MissingExtra("study figures (matplotlib)", "study") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "serif",
            "font.serif": ["DejaVu Serif", "Times New Roman", "Times"],
            "font.size": 8,
            "axes.titlesize": 9,
            "axes.labelsize": 8,
            "xtick.labelsize": 7.5,
            "ytick.labelsize": 7.5,
            "legend.fontsize": 7.5,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 0.6,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "axes.grid": True,
            "grid.linewidth": 0.4,
            "grid.color": "#dddddd",
            "axes.axisbelow": True,
            "svg.fonttype": "none",
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.03,
            "figure.dpi": 100,
        }
    )
    return plt


def _save(plt: Any, fig: Any, outdir: Path, name: str) -> list[Path]:
    paths = [outdir / f"study_{name}.png", outdir / f"study_{name}.svg"]
    fig.savefig(paths[0], dpi=300)
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths


def build_figures(tables: list[Table], outdir: Path) -> list[Figure]:
    plt = _pyplot()
    by_name = {t.name: t for t in tables}
    figures: list[Figure] = []
    makers: list[tuple[str, str, Callable[[Any, Table], Any]]] = [
        (
            "prevalence",
            "Share of repositories whose loading runs repository code, per platform.",
            _fig_prevalence,
        ),
        ("funnel", "Python files and the subset that runs on load, per platform.", _fig_funnel),
        (
            "cwe",
            "Most frequent CWEs: share of the platform's repositories with findings.",
            _fig_cwe,
        ),
        ("severity", "Findings by severity, split by reachability on load.", _fig_severity),
        (
            "safetensors",
            "Weight formats per platform: repositories shipping SafeTensors vs pickles.",
            _fig_safetensors,
        ),
        (
            "trends",
            "Repositories by creation month; custom-code repositories highlighted.",
            _fig_trends,
        ),
        ("discussions", "Developer discussions by concern (keyword baseline).", _fig_discussions),
    ]
    source = {"cwe": "cwe_by_platform"}
    for name, caption, maker in makers:
        table = by_name.get(source.get(name, name))
        if table is None or not table.rows:
            continue
        fig = maker(plt, table)
        figures.append(Figure(name, caption, _save(plt, fig, outdir, name)))
    return figures


def _platform_rows(table: Table) -> list[tuple[Any, ...]]:
    return [r for r in table.rows if r[0] != "all"]


def _fig_prevalence(plt: Any, table: Table) -> Any:
    rows = _platform_rows(table)
    fig, ax = plt.subplots(figsize=(3.4, 0.35 * len(rows) + 0.8))
    names = [r[0] for r in rows][::-1]
    values = [r[3] for r in rows][::-1]
    bars = ax.barh(names, values, color=PALETTE[0], height=0.6)
    for bar, row in zip(bars, rows[::-1]):
        ax.text(
            bar.get_width() + 1,
            bar.get_y() + bar.get_height() / 2,
            f"{row[3]:.1f}% ({row[2]:,}/{row[1]:,})",
            va="center",
            fontsize=7,
        )
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("repositories with custom load-time code (%)")
    ax.grid(axis="y", visible=False)
    return fig


def _fig_funnel(plt: Any, table: Table) -> Any:
    rows = _platform_rows(table)
    fig, ax = plt.subplots(figsize=(3.4, 0.42 * len(rows) + 0.9))
    names = [r[0] for r in rows][::-1]
    total = [r[1] for r in rows][::-1]
    relevant = [r[2] for r in rows][::-1]
    ax.barh(names, total, color="#c7d9e8", height=0.65, label="Python files")
    ax.barh(names, relevant, color=PALETTE[0], height=0.65, label="execution-relevant")
    for i, (t, r) in enumerate(zip(total, relevant)):
        ax.text(t, i, f" {r:,} / {t:,}", va="center", fontsize=7)
    ax.set_xlim(0, max(total + [1]) * 1.35)
    ax.set_xlabel("files")
    _legend_above(ax)
    ax.grid(axis="y", visible=False)
    return fig


def _fig_cwe(plt: Any, table: Table) -> Any:
    import numpy as np

    top: dict[str, int] = {}
    for _, cwe, _, repos, _ in table.rows:
        top[cwe] = top.get(cwe, 0) + repos
    cwes = sorted(top, key=lambda c: (-top[c], c))[:8][::-1]
    platforms = list(dict.fromkeys(r[0] for r in table.rows))
    share = {(r[0], r[1]): r[4] for r in table.rows}
    fig, ax = plt.subplots(figsize=(3.4, 0.3 * len(cwes) * max(1, len(platforms)) ** 0.5 + 1.0))
    height = 0.8 / max(1, len(platforms))
    y = np.arange(len(cwes))
    for i, platform in enumerate(platforms):
        ax.barh(
            y + ((len(platforms) - 1) / 2 - i) * height,  # first platform on top
            [share.get((platform, c), 0) for c in cwes],
            height=height,
            color=PALETTE[i % len(PALETTE)],
            label=platform,
        )
    ax.set_yticks(y, [f"{c} {CWE_NAMES.get(c, '')}".strip() for c in cwes])
    ax.set_xlim(0, 100)
    ax.set_xlabel("repositories with findings (%)")
    ax.grid(axis="y", visible=False)
    if len(platforms) > 1:
        _legend_above(ax)
    return fig


def _legend_above(ax: Any, **kwargs: Any) -> None:
    """One legend style for every figure: a row of keys just above the axes."""
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=3,
        borderaxespad=0.2,
        handlelength=1.2,
        columnspacing=1.0,
        **kwargs,
    )


def _fig_severity(plt: Any, table: Table) -> Any:
    from matplotlib.patches import Patch

    rows = table.rows
    fig, ax = plt.subplots(figsize=(3.4, 0.3 * len(rows) + 0.9))
    names = [r[0] for r in rows][::-1]
    reach = [r[3] for r in rows][::-1]
    unreach = [r[4] for r in rows][::-1]
    unknown = [r[1] - r[3] - r[4] for r in rows][::-1]
    colours = [SEVERITY_COLOURS.get(n, "#888888") for n in names]
    ax.barh(names, reach, color=colours, height=0.6)
    ax.barh(names, unknown, left=reach, color=colours, alpha=0.45, height=0.6)
    left = [a + b for a, b in zip(reach, unknown)]
    ax.barh(
        names, unreach, left=left, color="white", edgecolor=colours, hatch="////",
        linewidth=0.6, height=0.6,
    )  # fmt: skip
    ax.set_xlabel("findings")
    ax.grid(axis="y", visible=False)
    # neutral legend keys: the colour is the severity, the fill is the reachability
    keys = [
        Patch(color="#555555", label="reachable on load"),
        Patch(color="#555555", alpha=0.45, label="unknown"),
        Patch(facecolor="white", edgecolor="#555555", hatch="////", linewidth=0.6,
              label="not reachable"),
    ]  # fmt: skip
    _legend_above(ax, handles=keys)
    return fig


def _fig_safetensors(plt: Any, table: Table) -> Any:
    import numpy as np

    rows = table.rows
    names = [r[0] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(3.4, 2.2))
    width = 0.38
    st = [_pct(r[3], r[1]) for r in rows]
    pk = [_pct(r[5], r[1]) for r in rows]
    ax.bar(x - width / 2, st, width, color=PALETTE[2], label="SafeTensors")
    ax.bar(x + width / 2, pk, width, color=PALETTE[5], label="pickle weights only")
    ax.set_xticks(x, names, rotation=20, ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("repositories (%)")
    ax.grid(axis="x", visible=False)
    _legend_above(ax)
    return fig


def _fig_trends(plt: Any, table: Table) -> Any:
    rows = table.rows
    fig, ax = plt.subplots(figsize=(7.0, 2.2))
    months = [r[0] for r in rows]
    x = range(len(months))
    ax.bar(x, [r[1] for r in rows], color="#c7d9e8", width=0.85, label="all repositories")
    ax.bar(x, [r[2] for r in rows], color=PALETTE[0], width=0.85, label="custom code")
    step = max(1, len(months) // 12)
    ax.set_xticks(list(x)[::step], months[::step], rotation=45, ha="right")
    ax.set_ylabel("repositories created")
    ax.grid(axis="x", visible=False)
    _legend_above(ax)
    return fig


def _fig_discussions(plt: Any, table: Table) -> Any:
    rows = sorted(table.rows, key=lambda r: r[1])
    fig, ax = plt.subplots(figsize=(3.4, 0.3 * len(rows) + 0.8))
    ax.barh([r[0] for r in rows], [r[2] for r in rows], color=PALETTE[0], height=0.6)
    for i, r in enumerate(rows):
        ax.text(r[2] + 0.5, i, f"{r[2]:.0f}% ({r[1]})", va="center", fontsize=7)
    ax.set_xlim(0, max(r[2] for r in rows) * 1.3 + 1)
    ax.set_xlabel("discussions (%)")
    ax.grid(axis="y", visible=False)
    return fig


# --------------------------------------------------------------------------- the page


def write_report(
    db: str | Path, outdir: str | Path, *, discussions: Path | None = None, figures: bool = True
) -> dict[str, list[Path]]:
    out = Path(outdir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    with StudyStore(db, read_only=True) as store:
        tables = build_tables(store, discussions)
        counts = store.counts()
        runs = store.query(
            "SELECT run_id, started_at, finished_at, status FROM runs ORDER BY run_id"
        )
    written: dict[str, list[Path]] = {"tables": [], "figures": [], "pages": []}
    markdown = io.StringIO()
    markdown.write(f"# Study report\n\n{_summary_line(counts)}\n\n")
    for table in tables:
        path = out / "tables" / f"{table.name}.csv"
        table.write_csv(path)
        written["tables"].append(path)
        markdown.write(table.markdown() + "\n")
    (out / "tables.md").write_text(markdown.getvalue(), encoding="utf-8")
    written["pages"].append(out / "tables.md")
    figs = build_figures(tables, out) if figures else []
    for fig in figs:
        written["figures"] += fig.files
    page = out / "index.html"
    page.write_text(_html(tables, figs, counts, runs), encoding="utf-8")
    written["pages"].append(page)
    return written


def _summary_line(counts: dict[str, int]) -> str:
    return (
        f"{counts['repos']:,} repositories, {counts['files']:,} files, "
        f"{counts['entry_points']:,} entry points, {counts['findings']:,} findings, "
        f"{counts['errors']:,} errors."
    )


def _html(
    tables: list[Table], figures: list[Figure], counts: dict[str, int], runs: list[tuple[Any, ...]]
) -> str:
    figs = "".join(
        f"<figure><img src='{html.escape(f.files[0].name)}' alt='{html.escape(f.caption)}'>"
        f"<figcaption>Figure {i}. {html.escape(f.caption)} "
        f"(<a href='{html.escape(f.files[1].name)}'>SVG</a>)</figcaption></figure>"
        for i, f in enumerate(figures, 1)
    )
    body = "".join(
        t.html() + f"<p class='csv'><a href='tables/{t.name}.csv'>CSV</a></p>" for t in tables
    )
    run_text = "; ".join(f"run {r[0]} {r[1]} to {r[2] or '?'} ({r[3]})" for r in runs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadguard study report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">
<style>
body{{font-family:Georgia,'DejaVu Serif',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:.5rem 0 .3rem;font-size:.85rem}}
th,td{{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}
th{{border-bottom:2px solid #444}}
figure{{display:inline-block;margin:1rem 1rem 1rem 0;max-width:28rem;vertical-align:top}}
figure img{{max-width:100%}} figcaption,.note,.csv{{font-size:.8rem;color:#555}}
</style></head><body>
<h1>Study report</h1>
<p>{html.escape(_summary_line(counts))}</p><p class="note">{html.escape(run_text)}</p>
<h2>Figures</h2>{figs or "<p>No figures (matplotlib missing or no data).</p>"}
<h2>Tables</h2>{body}
</body></html>
"""
