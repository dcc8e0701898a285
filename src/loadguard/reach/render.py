"""Plain renderings of a ``ReachGraph``: text (terminal), DOT (Graphviz), JSON-able dict."""

from __future__ import annotations

import json

from ..model import ReachGraph, ReachNode

ARROW = " → "


def function_scope_count(graph: ReachGraph) -> int:
    """Function spans in analysed files (dead-branch spans are not functions)."""
    return sum(1 for s in graph.scopes if not s.qualname.startswith("<"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(graph: ReachGraph) -> str:
    modules = [n for n in graph.nodes if n.qualname is None]
    text = (
        f"{_count(len(graph.files), 'execution-relevant file')} "
        f"({_count(len(modules), 'module')} run), "
        f"{len(graph.functions)} of {function_scope_count(graph)} functions reached, "
        f"{len(graph.unresolved)} unresolved"
    )
    if graph.truncated:
        text += " — node budget hit, graph TRUNCATED (reach past it unknown)"
    return text


def witness_text(node: ReachNode) -> str:
    return ARROW.join(node.witness)


def render_text(graph: ReachGraph, *, witnesses: bool = True) -> str:
    lines = [f"reach ({graph.precision} precision): {summary(graph)}"]
    modules = sorted((n for n in graph.nodes if n.qualname is None), key=lambda n: n.path)
    functions = sorted(graph.functions, key=lambda n: (n.path, n.qualname or ""))
    if modules:
        lines.append("modules executed on load:")
        for node in modules:
            lines.append(f"  {node.path}")
            if witnesses:
                lines.append(f"      via {witness_text(node)}")
    if functions:
        lines.append("functions reached:")
        for node in functions:
            lines.append(f"  {node.path}::{node.qualname}")
            if witnesses:
                lines.append(f"      via {witness_text(node)}")
    if graph.unresolved:
        lines.append("reachability unknown past these points:")
        for item in sorted(graph.unresolved, key=lambda u: (u.path, u.line)):
            where = f"{item.path}:{item.line}" if item.line else item.path
            lines.append(f"  {where}  {item.reason}")
    reached = {n.id for n in graph.nodes}
    unreached = sorted(
        f"{s.path}::{s.qualname}"
        for s in graph.scopes
        if not s.qualname.startswith("<") and f"{s.path}::{s.qualname}" not in reached
    )
    if unreached:
        lines.append(f"not reached ({len(unreached)} functions):")
        lines += [f"  {name}" for name in unreached]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text)  # a valid DOT double-quoted string


def render_dot(graph: ReachGraph) -> str:
    lines = ["digraph reach {", "  rankdir=LR;", "  node [fontname=Helvetica, fontsize=10];"]
    entries: dict[str, str] = {}
    for node in graph.nodes:
        if len(node.witness) >= 2 and node.witness[0] not in entries:
            entries[node.witness[0]] = f"entry{len(entries)}"
    for trigger, name in entries.items():
        lines.append(
            f"  {name} [label={_quote(trigger)}, shape=note, style=filled, fillcolor=lightyellow];"
        )
    for node in graph.nodes:
        if node.qualname is None:
            lines.append(f"  {_quote(node.id)} [label={_quote(node.path)}, shape=box];")
        else:
            lines.append(
                f"  {_quote(node.id)} [label={_quote(node.qualname + chr(10) + node.path)}];"
            )
    targets = {dst for _, dst in graph.edges}
    for node in graph.nodes:
        if node.id not in targets and node.witness and node.witness[0] in entries:
            lines.append(f"  {entries[node.witness[0]]} -> {_quote(node.id)};")
    for src, dst in graph.edges:
        lines.append(f"  {_quote(src)} -> {_quote(dst)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_to_dict(graph: ReachGraph) -> dict[str, object]:
    return {
        "precision": graph.precision,
        "truncated": graph.truncated,
        "files": sorted(graph.files),
        "modules": [
            {"path": n.path, "witness": list(n.witness)} for n in graph.nodes if n.qualname is None
        ],
        "functions": [
            {"path": n.path, "qualname": n.qualname, "witness": list(n.witness)}
            for n in graph.functions
        ],
        "function_count": function_scope_count(graph),
        "edges": [list(e) for e in graph.edges],
        "unresolved": [
            {"path": u.path, "line": u.line, "reason": u.reason} for u in graph.unresolved
        ],
    }
