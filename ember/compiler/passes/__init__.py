"""Graph passes, one per file: constant folding, algebraic simplification, dead code elimination, common
subexpression elimination, elementwise fusion grouping, scale/mask/softmax chains, rematerialization and
conv-batch-norm folding. ``run_passes`` applies them in order and returns what each did (printed by
``explain``).

>>> from ember.compiler.graph import Graph
>>> run_passes(Graph())  # doctest: +NORMALIZE_WHITESPACE
['constants: 0 ops folded', 'simplify: 0 ops dropped', 'dce: removed 0 nodes', 'cse: merged 0 nodes',
 'fusion: 0 groups, 0 scale/mask/softmax chains',
 'remat: 0 saved values recomputed in backward, 0 attention probabilities',
 'fold: 0 batch norms folded into convolutions']
"""

from __future__ import annotations

from ember.compiler.passes.constant_fold import fold_constants
from ember.compiler.passes.cse import eliminate_common_subexpressions
from ember.compiler.passes.dce import eliminate_dead_code
from ember.compiler.passes.fold_batchnorm import conv_batchnorm_pairs
from ember.compiler.passes.fusion import fusion_groups
from ember.compiler.passes.remat import recomputed_attention, recomputed_inputs
from ember.compiler.passes.simplify import simplify
from ember.compiler.passes.softmax_chain import softmax_chains

__all__ = ["run_passes", "fold_constants", "simplify", "eliminate_dead_code", "eliminate_common_subexpressions",
           "fusion_groups", "recomputed_inputs", "recomputed_attention", "conv_batchnorm_pairs", "softmax_chains"]


def run_passes(graph) -> list:
    """Run every pass on ``graph`` in place; returns one summary line per pass."""
    folded = fold_constants(graph)
    simplified = simplify(graph)
    merged = eliminate_common_subexpressions(graph)
    removed = eliminate_dead_code(graph)
    groups = fusion_groups(graph)
    graph.recompute = recomputed_inputs(graph)
    graph.folded = conv_batchnorm_pairs(graph)
    graph.softmax_chains = softmax_chains(graph)
    # a node runs in one fused step: a chain's scale or mask is not also a member of an elementwise group
    in_chains = {i for chain in graph.softmax_chains for i in (*chain.forward_nodes(), *(chain.backward or ()))}
    groups = [group for group in groups if in_chains.isdisjoint(group)]
    graph.fusion_groups = groups
    from ember.compiler import config
    graph.recomputed_attention = recomputed_attention(graph, graph.softmax_chains) if config.recompute_attention else {}
    return [f"constants: {folded} ops folded", f"simplify: {simplified} ops dropped",
            f"dce: removed {removed} nodes", f"cse: merged {merged} nodes",
            f"fusion: {len(groups)} groups, {len(graph.softmax_chains)} scale/mask/softmax chains",
            f"remat: {len(graph.recompute)} saved values recomputed in backward, "
            f"{len(graph.recomputed_attention)} attention probabilities",
            f"fold: {len(graph.folded)} batch norms folded into convolutions"]
