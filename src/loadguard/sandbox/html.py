"""``loadguard trial --format html``: one self-contained page, styled like the scan report.

No script at all; every string that came from the load (paths, telemetry,
error messages) passes through the scan report's escaping.
"""

from __future__ import annotations

from ..report.html import CSS, VERDICT_CLASS, _e
from .layers import LayerStatus
from .trial import BOUNDARY_NOTE, TrialReport

_LAYER_CLASS = {
    LayerStatus.APPLIED: "ok",
    LayerStatus.UNAVAILABLE: "review",
    LayerStatus.DISABLED: "bad",
    LayerStatus.UNVERIFIED: "bad",
}


def render_trial_html(report: TrialReport) -> str:
    verdict = report.verdict
    rows = "".join(
        f'<tr><td>{_e(layer.name)}</td><td><span class="badge {_LAYER_CLASS[layer.status]}">'
        f"{_e(layer.status.value)}</span></td><td>{_e(layer.detail)}</td></tr>"
        for layer in report.layers
    )
    steps = "".join(
        f"<tr><td>{step.index}</td><td>{_e(step.spec.get('kind', ''))}</td><td>"
        + ("ok" if step.ok else "never finished" if step.ok is None else "failed")
        + (
            f": {_e(step.error.get('type', ''))}: {_e(step.error.get('message', ''))}"
            if step.error
            else ""
        )
        + "</td></tr>"
        for step in report.steps
    )
    findings = "".join(
        f'<tr><td><span class="pill sev-{f.severity.label}">{f.severity.label}</span></td>'
        f"<td><code>{_e(f.rule_id)}</code></td><td><code>{_e(f.location.path)}"
        + (f":{f.location.line}" if f.location.line else "")
        + f"</code></td><td>{_e(f.message)}</td></tr>"
        for f in report.findings
    )
    isolation = "".join(
        f"<li><b>{_e(event.layer)}</b>: {_e(event.message)}</li>"
        for event in report.isolation_events
    )
    join = (
        f"<p>{len(report.confirmed)} static finding(s) confirmed at run time, "
        f"{len(report.not_observed)} not observed, {len(report.missed_by_static)} run-time "
        "behaviour(s) missed by static analysis.</p>"
        if report.static is not None
        else f"<p>No static join: {_e(report.static_error or 'static scan not run')}</p>"
    )
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>loadguard trial — {_e(report.repo_id)}</title>
<style>{CSS}</style></head>
<body><section class="repo">
<h1>trial {_e(report.target)} <span class="badge {VERDICT_CLASS[verdict]}">{_e(verdict.value)}</span></h1>
<h2>Isolation layers (the boundary)</h2>
<table><thead><tr><th>layer</th><th>status</th><th>verified by</th></tr></thead><tbody>{rows}</tbody></table>
<p>{_e(BOUNDARY_NOTE)}</p>
<h2>Load steps</h2>
<table><thead><tr><th>#</th><th>step</th><th>outcome</th></tr></thead><tbody>{steps}</tbody></table>
<h2>What the load did (telemetry, advisory)</h2>
<table><thead><tr><th>severity</th><th>rule</th><th>where</th><th>what</th></tr></thead>
<tbody>{findings or '<tr><td colspan="4">nothing reported</td></tr>'}</tbody></table>
<h2>Stopped or ended by isolation</h2><ul>{isolation or "<li>nothing</li>"}</ul>
<h2>Static findings vs run time</h2>{join}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</section></body></html>
"""
