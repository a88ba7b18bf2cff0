"""Constant folding: an op whose tensor operands are all constants (tensors made in the call by creation
functions, such as ``ember.arange`` or ``ember.ones``) computes the same value at every call, so it runs once
when the graph is compiled and its output becomes a constant.

Folded: pure op nodes with one output, no autograd ctx and no array attributes, in graphs that write nothing
in place (a write through a view of a constant would change it after the fold). The value is computed by the
executor's own forward for the node (``executor.forward_on``), so a folded graph gives the bits the unfolded
one does. A folded value that the function returns is copied at every call, as every returned constant is
(the caller may write to it).

>>> import ember
>>> from ember.compiler.capture import capture
>>> def f(x):
...     weights = ember.arange(4.0).exp() / 10
...     return x * weights
>>> graph = capture(f, (ember.ones(4),), {}).graph
>>> fold_constants(graph), [n.op.name for n in graph.nodes]
(2, ['mul'])
"""

from __future__ import annotations

from ember.compiler.passes.dce import _reindex_backward

__all__ = ["fold_constants"]


def _foldable(node, constant) -> bool:
    return (node.kind == "op" and node.pure and node.ctx_slot is None and not node.attr_slots
            and node.inplace_target is None and len(node.outputs) == 1 and node.outputs[0] is not None
            and any(s is not None for s in node.inputs) and all(s is None or s in constant for s in node.inputs))


def fold_constants(graph) -> int:
    """Evaluate the constant op nodes of ``graph`` now (in place); returns how many were folded."""
    from ember.compiler.executor import forward_on, operand_values
    if any(n.kind == "op" and n.inplace_target is not None for n in graph.nodes):
        return 0  # a write through a view of a constant would not show as a write to the constant itself
    constant = set(graph.constants)
    kept = []
    folded = 0
    for node in graph.nodes:
        out = node.outputs[0] if node.kind == "op" and node.outputs else None
        if _foldable(node, constant):
            try:
                value = forward_on(node, operand_values(node, lambda s: graph.slots[s].owner))
            except Exception:  # let the call raise it, at its own line, as eager mode would
                kept.append(node)
                continue
            info = graph.slots[out]
            if tuple(value.shape) != tuple(info.shape) or value.dtype.name != info.dtype:
                kept.append(node)
                continue
            if value.base is not None:  # a view of another constant: its own array, as every constant has
                value = value.copy()
            info.kind, info.owner, info.alias = "const", value, None
            graph.constants.append(out)
            constant.add(out)
            folded += 1
            continue
        kept.append(node)
    if folded:
        _reindex_backward(graph, kept)
        graph.nodes = kept
    return folded
