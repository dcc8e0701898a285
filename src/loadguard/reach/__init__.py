"""Reachability: which modules and functions the load executes, with witness paths.

File-level placeholder: every file of the plan's import closure is reached
at module level, with the entry trigger as witness. Function-level precision
replaces this module.
"""

from __future__ import annotations

from ..limits import DEFAULT_LIMITS, Limits
from ..model import LoadPlan, ReachGraph, ReachNode, Snapshot


def build_reach_graph(
    snapshot: Snapshot, plan: LoadPlan, limits: Limits = DEFAULT_LIMITS
) -> ReachGraph:
    nodes: dict[str, ReachNode] = {}
    for entry in plan.entry_points:
        if entry.module and entry.module in plan.executed_files and entry.module not in nodes:
            nodes[entry.module] = ReachNode(
                entry.module, entry.module, None, (entry.trigger, entry.module)
            )
    for path in plan.executed_files:
        if path not in nodes:
            nodes[path] = ReachNode(path, path, None, ("imported during the load", path))
    return ReachGraph(nodes=tuple(nodes.values()), precision="file")
