"""Dead code elimination: drop pure op nodes whose outputs nothing reads.

Random ops, in-place writes, ops with array attributes (BatchNorm's running statistics), ops whose ctx a
backward reads, and host nodes are never removed.

>>> import ember
>>> from ember.compiler.capture import capture
>>> def f(x):
...     unused = x.exp()
...     return x + 1
>>> graph = capture(f, (ember.ones(2),), {}).graph
>>> eliminate_dead_code(graph), [n.op.name for n in graph.nodes]
(1, ['add'])
"""

from __future__ import annotations

__all__ = ["eliminate_dead_code"]


def eliminate_dead_code(graph) -> int:
    """Remove dead pure nodes from ``graph`` in place; returns how many were removed."""
    needed = set(graph.output_slots())
    kept = []
    removed = 0
    for node in reversed(graph.nodes):
        removable = (node.kind == "op" and node.pure and node.inplace_target is None and node.ctx_slot is None
                     and not any(s in needed for s in node.outputs if s is not None))
        if removable:
            removed += 1
            continue
        kept.append(node)
        needed.update(node.reads())
    kept.reverse()
    if removed:
        _reindex_backward(graph, kept)
    graph.nodes = kept
    return removed


def _reindex_backward(graph, kept):
    """BackwardNode.forward_index points into the node list: keep it valid after removal."""
    position = {id(n): i for i, n in enumerate(kept)}
    for node in kept:
        if node.kind == "backward":
            forward = graph.nodes[node.forward_index]
            node.forward_index = position[id(forward)]
