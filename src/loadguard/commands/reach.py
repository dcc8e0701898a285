"""``loadguard reach``: print what a load executes, module by module and function by function."""

from __future__ import annotations

import json

import click

from ..errors import LoadguardError

FORMATS = ("text", "dot", "json")


@click.command()
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--no-witness", is_flag=True, help="Text format: list nodes without witness paths.")
def reach(target: str, fmt: str, no_witness: bool) -> None:
    """Print the reach graph of TARGET (folder, archive, HF cache or hub id).

    Text lists the modules and functions the load executes, each with one
    shortest witness path from its trigger; DOT is for Graphviz
    (``| dot -Tsvg``); JSON is machine-readable. Exit code 2 on a bad target.
    """
    from ..detect import build_plan
    from ..filekinds import classify_all
    from ..reach import build_reach_graph, graph_to_dict, render_dot, render_text
    from ..sources import iter_snapshots

    documents: list[dict[str, object]] = []
    try:
        for snapshot in iter_snapshots(target):
            plan = build_plan(snapshot, classify_all(snapshot))
            graph = build_reach_graph(snapshot, plan)
            if fmt == "json":
                documents.append({"repo": snapshot.repo_id, "reach": graph_to_dict(graph)})
            elif fmt == "dot":
                click.echo(_printable(render_dot(graph)), nl=False)
            else:
                click.echo(_printable(f"== {snapshot.repo_id} ({snapshot.location})"))
                click.echo(_printable(render_text(graph, witnesses=not no_witness)), nl=False)
    except LoadguardError as exc:
        click.echo(f"loadguard reach: {exc}", err=True)
        raise SystemExit(2) from exc
    if fmt == "json":
        click.echo(json.dumps(documents, indent=2))  # ASCII: file names may not be UTF-8


def _printable(text: str) -> str:
    """Non-UTF-8 file names (surrogate escapes) must not crash the terminal output."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
