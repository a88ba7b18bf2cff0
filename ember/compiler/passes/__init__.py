"""Graph passes, one per file: dead code elimination, common subexpression elimination, elementwise fusion
grouping. ``run_passes`` applies them in order and returns what each did (printed by ``explain``).

>>> from ember.compiler.graph import Graph
>>> run_passes(Graph())
['dce: removed 0 nodes', 'cse: merged 0 nodes', 'fusion: 0 groups']
"""

from __future__ import annotations

from ember.compiler.passes.cse import eliminate_common_subexpressions
from ember.compiler.passes.dce import eliminate_dead_code
from ember.compiler.passes.fusion import fusion_groups

__all__ = ["run_passes", "eliminate_dead_code", "eliminate_common_subexpressions", "fusion_groups"]


def run_passes(graph) -> list:
    """Run every pass on ``graph`` in place; returns one summary line per pass."""
    merged = eliminate_common_subexpressions(graph)
    removed = eliminate_dead_code(graph)
    groups = fusion_groups(graph)
    graph.fusion_groups = groups
    return [f"dce: removed {removed} nodes", f"cse: merged {merged} nodes", f"fusion: {len(groups)} groups"]
