"""Reachability: which modules and functions a load executes, each with a witness path.

``build_reach_graph`` seeds the graph with the plan's entry points (the way
each loader calls them, see ``seeds``), then walks the repo's own code
breadth-first (``graph``): module top level on import, calls, references,
constructors, decorators, class-definition hooks. The result is a
``ReachGraph`` with function precision: every function span of every
analysed file is listed in ``scopes`` so any finding's line can be placed.
"""

from __future__ import annotations

from ..limits import DEFAULT_LIMITS, Limits
from ..model import LoadPlan, ReachGraph, Snapshot
from .graph import ReachBuilder
from .render import graph_to_dict, render_dot, render_text
from .seeds import seed


def build_reach_graph(
    snapshot: Snapshot, plan: LoadPlan, limits: Limits = DEFAULT_LIMITS
) -> ReachGraph:
    builder = ReachBuilder(snapshot, limits)
    seed(builder, snapshot, plan)
    builder.run()
    return builder.graph()


__all__ = ["build_reach_graph", "graph_to_dict", "render_dot", "render_text"]
