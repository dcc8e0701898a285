"""A single-file HTML report: no network, inline CSS and one small inline script.

Everything from a repository (names, snippets, messages, witness steps) is
hostile: it is cleaned to valid UTF-8 and HTML-escaped at the one place it
enters the page (``_e``). A Content-Security-Policy with a per-render nonce
backs that up: only our own script runs, and the page can load nothing.
"""

from __future__ import annotations

import html
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from .. import RULESET_VERSION, __version__
from ..advice import RepoFacts, SafeLoadAdvice
from ..model import Finding, LoadPlan, ReachGraph, ScanError, Severity, Verdict
from ..policy import Gate, GateVerdict, RepoGate
from .gate_data import advice_of
from .json import clean

SEVERITY_ORDER = tuple(reversed(Severity))
VERDICT_CLASS = {
    Verdict.CLEAN: "ok",
    Verdict.REVIEW: "review",
    Verdict.DANGEROUS: "bad",
    Verdict.MALICIOUS_LIKELY: "worst",
    Verdict.ERROR: "err",
}
GATE_CLASS = {GateVerdict.PASS: "ok", GateVerdict.FAIL: "bad", GateVerdict.ERROR: "err"}
MAX_FINDINGS_PER_REPO = 500
MAX_REACH_NODES = 400
MAX_SNIPPET = 2000


def _e(text: object) -> str:
    """The only way repository text enters the page."""
    return html.escape(clean(str(text)), quote=True)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def render_html(
    gate: Gate, facts: Mapping[tuple[str, str], RepoFacts] | None = None, *, title: str = ""
) -> str:
    nonce = secrets.token_urlsafe(16)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # Worst first: a failing gate, then the verdict, then the worst finding.
    repos = tuple(
        sorted(
            gate.repos,
            key=lambda r: (
                r.verdict is GateVerdict.PASS,
                -r.result.verdict.rank,
                -max((f.rank for f in r.result.findings), default=0.0),
                r.result.snapshot.repo_id,
            ),
        )
    )
    sev_total: Counter[Severity] = Counter(f.severity for r in repos for f in r.result.findings)
    gate_total = Counter(r.verdict for r in repos)
    errors_total = sum(len(r.result.errors) for r in repos) + len(gate.source_errors)
    body: list[str] = []
    body.append(
        f"""<header><div class="brand">loadguard<span>report</span></div>
<div class="meta">{_e(title) + " · " if title else ""}generated {generated} · loadguard {_e(__version__)}
 · rules {_e(RULESET_VERSION)} · policy <b>{_e(gate.policy.name)}</b></div></header>"""
    )
    cards = [
        _stat("repositories", str(len(repos)), ""),
        _stat("gate passed", str(gate_total[GateVerdict.PASS]), "ok"),
        _stat(
            "gate failed",
            str(gate_total[GateVerdict.FAIL]),
            "bad" if gate_total[GateVerdict.FAIL] else "",
        ),
        _stat("scan errors", str(errors_total), "err" if errors_total else ""),
    ]
    cards += [
        _stat(sev.label, str(sev_total[sev]), f"sev-{sev.label}" if sev_total[sev] else "")
        for sev in SEVERITY_ORDER
    ]
    body.append(f'<section class="stats">{"".join(cards)}</section>')
    body.append(
        f'<div class="exit">exit code <b>{gate.exit_code}</b> '
        "<span>(0 pass · 1 policy violation · 2 scan error)</span></div>"
    )
    body.append(_summary_table(repos))
    body.append(_filters())
    for index, repo in enumerate(repos):
        body.append(_repo_section(index, repo, advice_of(repo, facts)))
    if gate.source_errors:
        body.append('<section class="repo"><h2>Targets that could not be opened</h2>')
        body.append(_errors_table(gate.source_errors))
        body.append("</section>")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>loadguard report{(" — " + _e(title)) if title else ""}</title>
<style>{CSS}</style></head>
<body>{"".join(body)}
<footer>loadguard never imports or executes what it scans. Findings are static; confirm
dangerous ones with <code>loadguard trial</code> in the sandbox.</footer>
<script nonce="{nonce}">{JS}</script></body></html>
"""


def _stat(label: str, value: str, cls: str) -> str:
    return f'<div class="stat {cls}"><div class="v">{value}</div><div class="l">{_e(label)}</div></div>'


def _badge(text: str, cls: str) -> str:
    return f'<span class="badge {cls}">{_e(text)}</span>'


def _summary_table(repos: Iterable[RepoGate]) -> str:
    rows = []
    for index, repo in enumerate(repos):
        result = repo.result
        counts = Counter(f.severity for f in result.findings)
        sev = "".join(
            f'<span class="pill sev-{s.label}" title="{s.label}">{counts[s]}</span>'
            if counts[s]
            else '<span class="pill zero">0</span>'
            for s in SEVERITY_ORDER[:4]
        )
        pickles = sum(1 for w in result.plan.weights if w.pickle_based)
        weights = (
            (f'<span class="warn">{pickles} pickle</span>' if pickles else "data-only")
            if result.plan.weights
            else '<span class="dim">none</span>'
        )
        rows.append(
            f'<tr><td><a href="#repo-{index}">{_e(result.snapshot.repo_id)}</a></td>'
            f"<td>{_e(result.snapshot.platform.value)}</td>"
            f"<td>{_badge(result.verdict.value, VERDICT_CLASS[result.verdict])}</td>"
            f"<td>{_badge(repo.verdict.value, GATE_CLASS[repo.verdict])}</td>"
            f"<td>{'<b class=warn>yes</b>' if result.plan.runs_repo_code else 'no'}</td>"
            f'<td class="sevs">{sev}</td><td>{weights}</td></tr>'
        )
    return (
        '<table class="summary"><thead><tr><th>repository</th><th>platform</th><th>verdict</th>'
        "<th>gate</th><th>runs repo code</th><th>crit / high / med / low</th><th>weights</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _filters() -> str:
    boxes = "".join(
        f'<label class="sev-{s.label}"><input type="checkbox" data-sev="{s.label}" checked> '
        f"{s.label}</label>"
        for s in SEVERITY_ORDER
    )
    return (
        f'<div class="filters">show findings: {boxes}'
        '<label><input type="checkbox" id="only-reached"> reached only</label></div>'
    )


def _repo_section(index: int, repo: RepoGate, advice: SafeLoadAdvice) -> str:
    result = repo.result
    snap = result.snapshot
    plan = result.plan
    out = [f'<section class="repo" id="repo-{index}">']
    out.append(
        f"<h2>{_e(snap.repo_id)} {_badge(result.verdict.value.upper(), VERDICT_CLASS[result.verdict])}"
        f" {_badge('gate ' + repo.verdict.value, GATE_CLASS[repo.verdict])}</h2>"
    )
    revision = (
        f"<code>{_e(snap.revision)}</code>"
        if snap.revision
        else '<span class="warn">unknown (unpinned)</span>'
    )
    platform = snap.platform.value + (" (inferred)" if snap.platform_inferred else "")
    out.append(
        f'<div class="facts"><span>platform <b>{_e(platform)}</b></span>'
        f"<span>revision {revision}</span><span>{result.file_count} files, {_size(result.total_bytes)}</span>"
        f"<span>loaders <b>{_e(', '.join(x.value for x in plan.loaders) or 'none')}</b></span>"
        f'<span class="loc">{_e(snap.location)}</span></div>'
    )
    if plan.runs_repo_code:
        out.append(
            '<div class="callout bad">Loading this repository <b>runs its code</b> (behind '
            f"{_e(', '.join(plan.trust_flags) or 'no flag at all')}).</div>"
        )
    else:
        pickles = [w for w in plan.weights if w.pickle_based]
        if pickles:
            out.append(
                '<div class="callout bad">Loading runs none of its Python files, but '
                f"<b>{len(pickles)} pickle-based weight file(s)</b> can call any function "
                "when unpickled.</div>"
            )
        else:
            out.append(
                '<div class="callout ok">Loading this repository runs none of its code.</div>'
            )
    if repo.reasons:
        items = "".join(f"<li>{_e(r)}</li>" for r in repo.reasons[:50])
        more = f"<li>… {len(repo.reasons) - 50} more</li>" if len(repo.reasons) > 50 else ""
        out.append(f'<div class="reasons"><b>Why the gate fails</b><ul>{items}{more}</ul></div>')
    out.append(_advice_block(advice))
    out.append(_entry_points(result.plan))
    if result.reach is not None and result.reach.nodes:
        out.append(_reach_block(result.reach, result.findings))
    out.append(_findings_block(result.findings))
    out.append(_baseline_block(repo))
    if plan.weights:
        out.append(_census(result.plan, result.weight_census))
    if result.errors:
        out.append("<h3>Errors</h3>" + _errors_table(result.errors))
    out.append("</section>")
    return "".join(out)


def _advice_block(advice: SafeLoadAdvice) -> str:
    comps = "".join(
        f'<li class="{"ok" if c.safe else "bad"}"><span class="mark">{"✓" if c.safe else "✗"}</span>'
        f"<b>{_e(c.component)}</b> — {_e(c.how)}</li>"
        for c in advice.components
    )
    remaining = "".join(f"<li>{_e(r)}</li>" for r in advice.remaining)
    notes = "".join(f"<li>{_e(n)}</li>" for n in advice.notes)
    head = (
        '<span class="badge bad">still needs repo code</span>'
        if advice.needs_repo_code
        else '<span class="badge review">weights need conversion</span>'
        if advice.remaining
        else '<span class="badge ok">no repo code needed</span>'
    )
    return (
        f'<div class="advice"><h3>The safe way to load it {head}</h3><ul class="comps">{comps}</ul>'
        f'<div class="code"><button class="copy" type="button">copy</button><pre><code>{_e(advice.code)}</code></pre></div>'
        + (
            f'<div class="remaining"><b>Only the sandbox can make these safe</b> (<code>loadguard trial</code> / <code>loadguard convert</code>):<ul>{remaining}</ul></div>'
            if remaining
            else ""
        )
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</div>"
    )


def _entry_points(plan: LoadPlan) -> str:
    if not plan.entry_points:
        return '<h3>Entry points</h3><p class="dim">No loader entry point runs repository code.</p>'
    rows = "".join(
        f"<tr><td>{_e(ep.loader.value)}</td><td>{_e(ep.kind.value)}</td><td><code>{_e(ep.trigger)}</code></td>"
        f"<td><code>{_e(ep.label)}</code>{'' if ep.exists else ' <span class=warn>(missing)</span>'}</td>"
        f"<td>{_e(ep.trust_flag or '')}</td></tr>"
        for ep in plan.entry_points
    )
    extra = ""
    if plan.cross_repo_refs:
        extra = (
            '<ul class="cross">'
            + "".join(
                f"<li>code from <b>{_e(r.repo_id)}</b> via <code>{_e(r.trigger)}</code> — "
                + ("pinned" if r.pinned else '<span class="warn">not pinned</span>')
                + "</li>"
                for r in plan.cross_repo_refs
            )
            + "</ul>"
        )
    return (
        f'<h3>Entry points <span class="count">{len(plan.entry_points)}</span></h3>'
        "<table><thead><tr><th>loader</th><th>kind</th><th>trigger</th><th>runs</th><th>flag</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>{extra}"
    )


def _reach_block(reach: ReachGraph, findings: Iterable[Finding]) -> str:
    """The reach graph as a tree of witness paths: entry trigger -> module -> function."""
    flagged: dict[str, Severity] = {}
    for f in findings:
        if f.witness:
            key = f.witness[-1]
            flagged[key] = max(flagged.get(key, f.severity), f.severity)
    tree: dict[str, dict] = {}  # type: ignore[type-arg]
    nodes = sorted(reach.nodes, key=lambda n: (len(n.witness), n.id))[:MAX_REACH_NODES]
    for node in nodes:
        steps = list(node.witness)
        if not steps or steps[-1] != node.id:
            steps.append(node.id)
        level = tree
        for step in steps:
            level = level.setdefault(step, {})

    def render(level: Mapping[str, Mapping[str, object]], depth: int) -> str:
        items = []
        for step, children in level.items():
            mark = ""
            if step in flagged:
                mark = f' <span class="pill sev-{flagged[step].label}">{flagged[step].label}</span>'
            kind = "trigger" if depth == 0 else ("fn" if "::" in step else "mod")
            inner = render(children, depth + 1) if children else ""  # type: ignore[arg-type]
            items.append(f'<li class="{kind}"><code>{_e(step)}</code>{mark}{inner}</li>')
        return f"<ul>{''.join(items)}</ul>"

    note = f" · {len(reach.nodes)} nodes, {reach.precision} level"
    if reach.truncated:
        note += " · <span class=warn>truncated at the node budget</span>"
    if len(reach.nodes) > MAX_REACH_NODES:
        note += f" · first {MAX_REACH_NODES} shown"
    unresolved = ""
    if reach.unresolved:
        unresolved = (
            "<details><summary>reach unknown past "
            + str(len(reach.unresolved))
            + " point(s)</summary><ul>"
            + "".join(
                f"<li><code>{_e(u.path)}:{u.line}</code> {_e(u.reason)}</li>"
                for u in reach.unresolved[:100]
            )
            + "</ul></details>"
        )
    return f'<h3>Reach graph<span class="count">{note}</span></h3><div class="tree">{render(tree, 0)}</div>{unresolved}'


def _findings_block(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return '<h3>Findings</h3><p class="dim">No findings.</p>'
    grouped: dict[Severity, list[Finding]] = defaultdict(list)
    for f in findings[:MAX_FINDINGS_PER_REPO]:
        grouped[f.severity].append(f)
    out = [f'<h3>Findings <span class="count">{len(findings)}</span></h3>']
    if len(findings) > MAX_FINDINGS_PER_REPO:
        out.append(
            f'<p class="warn">first {MAX_FINDINGS_PER_REPO} shown; the JSON report has all.</p>'
        )
    for sev in SEVERITY_ORDER:
        if not grouped.get(sev):
            continue
        out.append(
            f'<div class="group" data-sev="{sev.label}"><h4 class="sev-{sev.label}">{sev.label} · {len(grouped[sev])}</h4>'
        )
        for f in grouped[sev]:
            out.append(_finding_card(f))
        out.append("</div>")
    return "".join(out)


def _finding_card(f: Finding) -> str:
    loc = f.location
    where = (
        loc.path
        + (f":{loc.line}" if loc.line else "")
        + (f" @ byte {loc.offset}" if loc.offset is not None else "")
    )
    reach = {
        True: ("reached", "bad"),
        False: ("not reached", "dim"),
        None: ("reach unknown", "review"),
    }[f.reachable]
    # Policy findings are about the repository, not a line the loader reaches.
    reach_badge = (
        "" if f.analyzer == "policy" else f'<span class="badge {reach[1]}">{reach[0]}</span>'
    )
    cwe = " ".join(f'<span class="cwe">{_e(c)}</span>' for c in f.cwe)
    also = (
        f' <span class="dim">also: {_e(", ".join(f.also_reported_by))}</span>'
        if f.also_reported_by
        else ""
    )
    witness = ""
    if f.witness:
        steps = '<span class="arrow">→</span>'.join(f"<code>{_e(s)}</code>" for s in f.witness)
        witness = f'<div class="witness"><b>how the load reaches it</b> {steps}</div>'
    snippet = ""
    if f.snippet:
        text = f.snippet if len(f.snippet) <= MAX_SNIPPET else f.snippet[:MAX_SNIPPET] + " …"
        first = loc.line or 0
        # Only real newlines: splitlines() would also break on \x1c-\x1e, \x85, \u2028 in the text.
        lines = text.replace("\r\n", "\n").split("\n")
        numbered = "".join(
            f'<span class="ln">{first + i if first else ""}</span>{_e(line)}\n'
            for i, line in enumerate(lines)
        )
        snippet = f'<pre class="snippet"><code>{numbered}</code></pre>'
    evidence = ""
    if f.evidence:
        evidence = (
            '<ul class="evidence">'
            + "".join(f"<li><code>{_e(x)}</code></li>" for x in f.evidence[:20])
            + "</ul>"
        )
    return (
        f'<article class="finding sev-{f.severity.label}" data-sev="{f.severity.label}" data-reached="{str(f.reachable).lower()}">'
        f'<div class="fhead"><span class="badge sev-{f.severity.label}">{f.severity.label}</span>'
        f" <b>{_e(f.rule_id)}</b> {cwe} {reach_badge}"
        f' <span class="dim">{_e(f.analyzer)} · {f.confidence.label} confidence</span>{also}</div>'
        f'<div class="msg">{_e(f.message)}</div><div class="where"><code>{_e(where)}</code></div>'
        f"{witness}{snippet}{evidence}"
        f'<div class="fp">fingerprint {_e(f.fingerprint)}</div></article>'
    )


def _baseline_block(repo: RepoGate) -> str:
    parts = []
    if repo.suppressed:
        rows = "".join(
            f"<tr><td>{_e(f.rule_id)}</td><td><code>{_e(f.location.path)}</code></td><td>{_e(e.reason)}</td><td>{e.expires.isoformat()}</td></tr>"
            for f, e in repo.suppressed[:200]
        )
        parts.append(
            f"<details><summary>{len(repo.suppressed)} finding(s) accepted by the baseline</summary>"
            f"<table><thead><tr><th>rule</th><th>path</th><th>reason</th><th>expires</th></tr></thead><tbody>{rows}</tbody></table></details>"
        )
    if repo.expired:
        items = "".join(
            f"<li><b>{_e(e.rule_id)}</b> at <code>{_e(e.path)}</code> expired {e.expires.isoformat()} (was: {_e(e.reason)}) — reported again</li>"
            for e in repo.expired
        )
        parts.append(
            f'<div class="reasons review"><b>Expired baseline entries</b><ul>{items}</ul></div>'
        )
    if repo.ignored or repo.disabled:
        parts.append(
            f'<p class="dim">{len(repo.ignored)} finding(s) in ignored paths, {len(repo.disabled)} disabled by the policy.</p>'
        )
    return "".join(parts)


def _census(plan: LoadPlan, census: Mapping[str, object] | None = None) -> str:
    by_kind: dict[str, list[int]] = defaultdict(list)
    pickle_kinds = set()
    for w in plan.weights:
        by_kind[w.kind.value].append(w.size)
        if w.pickle_based:
            pickle_kinds.add(w.kind.value)
    total = sum(sum(v) for v in by_kind.values()) or 1
    rows = []
    for kind, sizes in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
        share = sum(sizes) / total
        cls = "bad" if kind in pickle_kinds else "ok"
        label = (
            "pickle-based: can run code"
            if kind in pickle_kinds
            else "data-only"
            if any(w.data_only for w in plan.weights if w.kind.value == kind)
            else "other"
        )
        rows.append(
            f"<tr><td><b>{_e(kind)}</b></td><td>{len(sizes)}</td><td>{_size(sum(sizes))}</td>"
            f'<td class="barcell"><div class="bar {cls}" style="width:{max(share * 100, 1):.1f}%"></div></td>'
            f'<td class="{cls}">{label}</td></tr>'
        )
    files = "".join(
        f"<li><code>{_e(w.path)}</code> {_e(w.kind.value)} {_size(w.size)}</li>"
        for w in plan.weights[:100]
    )
    coverage = _coverage(census)
    return (
        '<h3>Weight formats</h3><table class="census"><thead><tr><th>format</th><th>files</th><th>size</th>'
        f"<th>share</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"{coverage}<details><summary>weight files</summary><ul>{files}</ul></details>"
    )


_COVERAGE_TEXT = {
    "covered": ("ok", "every tensor is also in a data-only file: load that instead"),
    "partial": ("ok", "a data-only file holds all but a few (tied) tensors"),
    "not-covered": ("bad", "no data-only copy: convert it in the sandbox"),
    "no-tensors": ("bad", "a pickled object, not a state dict (arguments, a whole module)"),
    "unknown": ("", "tensor names not known without running it"),
}


def _coverage(census: Mapping[str, object] | None) -> str:
    """Each pickle file against its data-only twins (``census.WeightCensus``)."""
    rows = census.get("coverage") if census else None
    if not isinstance(rows, list) or not rows:
        return ""
    items = []
    for row in rows[:100]:
        status = str(row.get("status", "unknown"))
        cls, text = _COVERAGE_TEXT.get(status, ("", status))
        twins = ", ".join(str(t) for t in row.get("covered_by", ()))
        items.append(
            f"<li><code>{_e(str(row.get('path', '')))}</code> "
            f'<span class="{cls}">{_e(status)}</span>: {_e(text)}'
            + (f" (<code>{_e(twins)}</code>)" if twins else "")
            + "</li>"
        )
    return f"<p>Pickle files against their data-only copies:</p><ul>{''.join(items)}</ul>"


def _errors_table(errors: Iterable[ScanError]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(e.path or '-')}</code></td><td>{_e(e.stage)}</td><td>{_e(e.kind)}</td><td>{_e(e.message)}</td></tr>"
        for e in errors
    )
    return f'<table class="errors"><thead><tr><th>path</th><th>stage</th><th>kind</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>'


CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--dim:#6b7280;--line:#e3e6eb;
--crit:#7f1d1d;--high:#dc2626;--med:#d97706;--low:#2563eb;--info:#6b7280;--ok:#15803d;--err:#7e22ce}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#111827;color:#e5e7eb;padding:14px 28px;display:flex;align-items:baseline;gap:24px}
.brand{font-weight:700;font-size:20px;letter-spacing:.3px}.brand span{font-weight:400;color:#9ca3af;margin-left:8px}
header .meta{color:#9ca3af;font-size:12.5px}
main,section,.exit,.filters,table.summary{margin-left:28px;margin-right:28px}
.stats{display:flex;gap:10px;margin-top:18px;flex-wrap:wrap}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 16px;min-width:100px}
.stat .v{font-size:22px;font-weight:700}.stat .l{color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.4px}
.stat.ok .v{color:var(--ok)}.stat.bad .v{color:var(--high)}.stat.err .v{color:var(--err)}
.stat.sev-critical .v{color:var(--crit)}.stat.sev-high .v{color:var(--high)}.stat.sev-medium .v{color:var(--med)}.stat.sev-low .v{color:var(--low)}
.exit{margin-top:10px;color:var(--dim)}.exit b{color:var(--ink);font-size:15px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;margin:8px 0}
th{text-align:left;background:#f0f2f5;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.3px;color:#4b5563}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
table.summary{margin-top:14px;width:auto;min-width:calc(100% - 56px)}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11.5px;font-weight:600;text-transform:uppercase;letter-spacing:.3px;vertical-align:middle;border:1px solid transparent}
.badge.ok{background:#dcfce7;color:var(--ok)}.badge.review{background:#fef3c7;color:#92400e}
.badge.bad{background:#fee2e2;color:#b91c1c}.badge.worst{background:var(--crit);color:#fff}.badge.err{background:#f3e8ff;color:var(--err)}
.badge.dim{background:#f3f4f6;color:var(--dim)}
.badge.sev-critical{background:var(--crit);color:#fff}.badge.sev-high{background:var(--high);color:#fff}
.badge.sev-medium{background:var(--med);color:#fff}.badge.sev-low{background:var(--low);color:#fff}.badge.sev-info{background:#e5e7eb;color:#374151}
.pill{display:inline-block;min-width:22px;text-align:center;border-radius:9px;padding:0 6px;margin-right:3px;font-size:12px;font-weight:600;color:#fff}
.pill.zero{background:#eef0f3;color:#9ca3af}.pill.sev-critical{background:var(--crit)}.pill.sev-high{background:var(--high)}.pill.sev-medium{background:var(--med)}.pill.sev-low{background:var(--low)}.pill.sev-info{background:var(--info)}
.warn{color:#b45309;font-weight:600}.dim{color:var(--dim)}.ok{color:var(--ok)}.bad{color:#b91c1c}
.filters{margin-top:16px;color:var(--dim);font-size:13px}.filters label{margin-left:12px;cursor:pointer}
section.repo{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 20px;margin-top:18px}
h2{margin:4px 0 8px;font-size:19px}h3{margin:18px 0 6px;font-size:15px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3 .count{color:var(--dim);font-weight:400;font-size:12.5px;margin-left:6px}
h4{margin:12px 0 6px;font-size:13px;text-transform:uppercase;letter-spacing:.4px}
h4.sev-critical{color:var(--crit)}h4.sev-high{color:var(--high)}h4.sev-medium{color:var(--med)}h4.sev-low{color:var(--low)}h4.sev-info{color:var(--info)}
.facts{display:flex;flex-wrap:wrap;gap:18px;color:#374151;font-size:13px}.facts .loc{color:var(--dim)}
.callout{margin:10px 0;padding:8px 12px;border-radius:6px;border-left:4px solid}
.callout.bad{background:#fef2f2;border-color:var(--high);color:#7f1d1d}.callout.ok{background:#f0fdf4;border-color:var(--ok);color:#14532d}
.reasons{background:#fff7ed;border:1px solid #fed7aa;border-radius:6px;padding:8px 12px;margin:8px 0}
.reasons ul{margin:4px 0 0;padding-left:20px}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.advice{background:#f8fafc;border:1px solid #cbd5e1;border-radius:8px;padding:4px 14px 10px;margin:10px 0}
.advice h3{border:0}.comps{list-style:none;padding:0;margin:4px 0}.comps li{margin:3px 0}
.comps .mark{display:inline-block;width:20px;font-weight:700}.comps li.ok .mark{color:var(--ok)}.comps li.bad .mark{color:var(--high)}
.code{position:relative}.code pre{background:#0f172a;color:#e2e8f0;border-radius:6px;padding:10px 12px;overflow:auto;margin:8px 0}
.copy{position:absolute;right:8px;top:6px;background:#334155;color:#e2e8f0;border:0;border-radius:4px;padding:2px 8px;cursor:pointer;font-size:12px}
.remaining ul,.notes{margin:4px 0;padding-left:20px}.notes{color:var(--dim);font-size:13px}
.tree ul{list-style:none;margin:0;padding-left:18px;border-left:1px dashed #cbd5e1}.tree>ul{border:0;padding-left:0}
.tree li{margin:2px 0;position:relative}.tree li.trigger>code{background:#e0e7ff;color:#3730a3;padding:0 4px;border-radius:3px}
.tree li.mod>code::before{content:"▣ ";color:#64748b}.tree li.fn>code::before{content:"ƒ ";color:#64748b}
.finding{border:1px solid var(--line);border-left:4px solid var(--info);border-radius:6px;padding:8px 12px;margin:8px 0;background:#fff}
.finding.sev-critical{border-left-color:var(--crit)}.finding.sev-high{border-left-color:var(--high)}.finding.sev-medium{border-left-color:var(--med)}.finding.sev-low{border-left-color:var(--low)}
.fhead{font-size:13px}.msg{margin:4px 0;font-size:14px}.where code{color:#1e40af}
.cwe{background:#eef2ff;color:#3730a3;border-radius:3px;padding:0 5px;font-size:11.5px;font-weight:600}
.witness{margin:6px 0;font-size:12.5px}.witness code{background:#f1f5f9;padding:1px 5px;border-radius:3px}.arrow{color:#94a3b8;margin:0 5px}
pre.snippet{background:#fafafa;border:1px solid var(--line);border-radius:6px;padding:6px 10px;overflow:auto;margin:6px 0;white-space:pre-wrap;overflow-wrap:anywhere}
pre.snippet .ln{display:inline-block;width:36px;color:#9ca3af;user-select:none}
.evidence{margin:4px 0;padding-left:20px;font-size:12.5px}.fp{color:#9ca3af;font-size:11px;margin-top:4px}
.barcell{width:35%}.bar{height:10px;border-radius:5px}.bar.ok{background:#22c55e}.bar.bad{background:#ef4444}
ul.cross{margin:4px 0;padding-left:20px}details{margin:6px 0}summary{cursor:pointer;color:#374151}
footer{margin:28px;color:var(--dim);font-size:12px}
.hidden{display:none}
"""

JS = """
(function(){
  function apply(){
    var off={};document.querySelectorAll('.filters input[data-sev]').forEach(function(b){off[b.dataset.sev]=!b.checked;});
    var only=document.getElementById('only-reached').checked;
    document.querySelectorAll('article.finding').forEach(function(a){
      var hide=off[a.dataset.sev]||(only&&a.dataset.reached!=='true');a.classList.toggle('hidden',hide);});
    document.querySelectorAll('div.group').forEach(function(g){
      g.classList.toggle('hidden',!g.querySelector('article.finding:not(.hidden)'));});
  }
  document.querySelectorAll('.filters input').forEach(function(b){b.addEventListener('change',apply);});
  document.querySelectorAll('button.copy').forEach(function(b){b.addEventListener('click',function(){
    var text=b.parentNode.querySelector('code').textContent;
    if(navigator.clipboard){navigator.clipboard.writeText(text);}b.textContent='copied';
    setTimeout(function(){b.textContent='copy';},1200);});});
})();
"""
