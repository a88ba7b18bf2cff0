"""Graph passes, one per file. Each pass is a function ``graph -> (graph, summary line)``: it returns a new
:class:`~ember.compiler.graph.Graph` (or the same one when it changed nothing) and never modifies the graph it
was given, so every pass reads a graph as capture or the previous pass left it.

In order (``PASSES``): constant folding, algebraic simplification, common subexpression elimination and dead
code elimination tidy the captured op nodes; fusion replaces scale/mask/softmax chains and elementwise groups
by fused nodes; rematerialization inserts the nodes that recompute saved values in backward; folding merges
evaluation-mode batch norms into convolutions. ``run_passes`` applies them and returns the last graph with
one summary line per pass (printed by ``explain``); with ``EMBER_DEBUG=1`` it prints each pass's line and
graph to stderr as it goes.

Adding a pass: write ``def my_pass(graph) -> (graph, summary)`` in its own file; find what to rewrite from the
ops' facts (ember/ops/registry.py), never their names; build the result with ``graph.edited({index: [new
nodes]})`` (or ``graph.rewritten(nodes)``), copying a node you change (``node.replaced(...)``); give a new kind
of node its own class in graph.py (``reads()``, ``writes()``, ``held_by_ctx()``, ``label()``) and its own step
builder in executor.py; then add the pass to ``PASSES``. Passes that rename slots (cse, simplify) run before
the ones that make fused nodes.

>>> from ember.compiler.graph import Graph
>>> graph, log = run_passes(Graph())
>>> log  # doctest: +NORMALIZE_WHITESPACE
['constants: 0 ops folded', 'simplify: 0 ops dropped', 'cse: merged 0 nodes', 'dce: removed 0 nodes',
 'fusion: 0 groups, 0 scale/mask/softmax chains',
 'remat: 0 saved values recomputed in backward, 0 attention probabilities',
 'fold: 0 batch norms folded into convolutions']
"""

from __future__ import annotations

import sys

from ember import flags
from ember.compiler.passes.constant_fold import fold_constants
from ember.compiler.passes.cse import eliminate_common_subexpressions
from ember.compiler.passes.dce import eliminate_dead_code
from ember.compiler.passes.fold_batchnorm import fold_batchnorm
from ember.compiler.passes.fusion import fuse, fuse_elementwise
from ember.compiler.passes.remat import recompute_attention_probabilities, recompute_saved_inputs, rematerialize
from ember.compiler.passes.simplify import simplify
from ember.compiler.passes.softmax_chain import fuse_softmax_chains

__all__ = ["run_passes", "PASSES", "fold_constants", "simplify", "eliminate_common_subexpressions",
           "eliminate_dead_code", "fuse", "fuse_elementwise", "fuse_softmax_chains", "rematerialize",
           "recompute_saved_inputs", "recompute_attention_probabilities", "fold_batchnorm"]

PASSES = (fold_constants, simplify, eliminate_common_subexpressions, eliminate_dead_code, fuse, rematerialize,
          fold_batchnorm)


def run_passes(graph, passes=PASSES):
    """``(graph after every pass of passes, one summary line per pass)``."""
    log = []
    for rewrite in passes:
        graph, summary = rewrite(graph)
        log.append(summary)
        if flags.DEBUG.enabled():
            print(f"[ember.compile] after {summary}\n{graph.format()}", file=sys.stderr)
    return graph, log
