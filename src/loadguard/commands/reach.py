"""``loadguard reach``: print what a load executes, module by module and function by function."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import LoadguardError

FORMATS = ("text", "dot", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="TARGET", help="Folder, archive, Hugging Face cache or hub id."
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="text",
        help="Output format (default: %(default)s).",
    )
    parser.add_argument(
        "--no-witness",
        action="store_true",
        help="Text format: list nodes without witness paths.",
    )


def run(args: argparse.Namespace) -> int:
    """Print the reach graph of TARGET (folder, archive, HF cache or hub id).

    Text lists the modules and functions the load executes, each with one
    shortest witness path from its trigger; DOT is for Graphviz
    (``| dot -Tsvg``); JSON is machine-readable. Exit code 2 on a bad target.
    """
    from ..detect import build_plan
    from ..filekinds import classify_all
    from ..reach import build_reach_graph, graph_to_dict, render_dot, render_text
    from ..sources import iter_snapshots

    fmt: str = args.fmt
    documents: list[dict[str, object]] = []
    try:
        for snapshot in iter_snapshots(args.target):
            plan = build_plan(snapshot, classify_all(snapshot))
            graph = build_reach_graph(snapshot, plan)
            if fmt == "json":
                documents.append({"repo": snapshot.repo_id, "reach": graph_to_dict(graph)})
            elif fmt == "dot":
                sys.stdout.write(_printable(render_dot(graph)))
            else:
                print(_printable(f"== {snapshot.repo_id} ({snapshot.location})"))
                sys.stdout.write(_printable(render_text(graph, witnesses=not args.no_witness)))
    except LoadguardError as exc:
        print(f"loadguard reach: {exc}", file=sys.stderr)
        return 2
    if fmt == "json":
        print(json.dumps(documents, indent=2))  # ASCII: file names may not be UTF-8
    return 0


def _printable(text: str) -> str:
    """Non-UTF-8 file names (surrogate escapes) must not crash the terminal output."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
