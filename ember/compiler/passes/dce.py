"""Dead code elimination: drop pure op nodes whose outputs nothing reads.

Random ops, in-place writes, ops with array attributes (BatchNorm's running statistics), ops whose ctx a
backward reads, and host nodes are never removed.

>>> import ember
>>> from ember.compiler.capture import capture
>>> def f(x):
...     unused = x.exp()
...     return x + 1
>>> graph, summary = eliminate_dead_code(capture(f, (ember.ones(2),), {}).graph)
>>> summary, [n.op.name for n in graph.nodes]
('dce: removed 1 nodes', ['add'])
"""

from __future__ import annotations

__all__ = ["eliminate_dead_code"]


def eliminate_dead_code(graph):
    """``(graph without its dead pure nodes, summary line)``."""
    needed = set(graph.output_slots())
    kept = []
    for node in reversed(graph.nodes):
        removable = (node.kind == "op" and node.pure and node.inplace_target is None and node.ctx_slot is None
                     and not any(s in needed for s in node.outputs if s is not None))
        if not removable:
            kept.append(node)
            needed.update(node.reads())
    removed = len(graph.nodes) - len(kept)
    kept.reverse()
    return (graph.rewritten(kept) if removed else graph), f"dce: removed {removed} nodes"
