"""Reachability: which modules and functions a load executes, each with a witness path.

``build_reach_graph`` seeds the graph with the plan's entry points (the way
each loader calls them, see ``seeds``), then walks the repo's own code
breadth-first (``graph``): module top level on import, calls, references,
constructors, decorators, class-definition hooks. The result is a
``ReachGraph`` with function precision: every function span of every
analysed file is listed in ``scopes`` so any finding's line can be placed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from ..errors import LoadguardError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import LoadPlan, ReachGraph, Snapshot
from .graph import ReachBuilder
from .render import graph_to_dict, render_dot, render_text, summary
from .seeds import seed

# Repos on the hubs are full of byte-identical copies (forks, re-uploads,
# quantised exports with the same code). The graph is a pure function of the
# Python files' bytes, the plan and the limits, and names only repo-relative
# paths, so identical inputs share one graph.
_CACHE_SIZE = 256
_cache: OrderedDict[Hashable, ReachGraph] = OrderedDict()


def build_reach_graph(
    snapshot: Snapshot, plan: LoadPlan, limits: Limits = DEFAULT_LIMITS
) -> ReachGraph:
    key = _content_key(snapshot, plan, limits)
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    builder = ReachBuilder(snapshot, limits)
    seed(builder, snapshot, plan)
    builder.run()
    graph = builder.graph()
    if key is not None:
        _cache[key] = graph
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def clear_cache() -> None:
    _cache.clear()


def _content_key(snapshot: Snapshot, plan: LoadPlan, limits: Limits) -> Hashable | None:
    """What the graph depends on; ``None`` (no caching) when a file cannot be hashed."""
    inputs = sorted(
        f.path for f in snapshot.files if f.path.endswith(".py") or f.path == "configuration.json"
    )
    try:
        digests = tuple((path, snapshot.sha256(path)) for path in inputs)
    except (OSError, LoadguardError):
        return None
    return (digests, plan.entry_points, plan.executed_files, plan.loaders, limits)


__all__ = [
    "build_reach_graph",
    "clear_cache",
    "graph_to_dict",
    "render_dot",
    "render_text",
    "summary",
]
