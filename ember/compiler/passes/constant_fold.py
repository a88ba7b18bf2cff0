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
>>> graph, summary = fold_constants(capture(f, (ember.ones(4),), {}).graph)
>>> summary, [n.op.name for n in graph.nodes]
('constants: 2 ops folded', ['mul'])
"""

from __future__ import annotations

__all__ = ["fold_constants"]


def _foldable(node, constant) -> bool:
    return (node.kind == "op" and node.pure and node.ctx_slot is None and not node.attr_slots
            and node.inplace_target is None and len(node.outputs) == 1 and node.outputs[0] is not None
            and any(s is not None for s in node.inputs) and all(s is None or s in constant for s in node.inputs))


def fold_constants(graph):
    """``(graph whose constant op nodes were evaluated now, summary line)``: their outputs become constants."""
    from ember.compiler.executor import forward_on, operand_values
    if any(n.inplace_target is not None for n in graph.nodes):
        # a write through a view of a constant would not show as a write to the constant itself
        return graph, "constants: 0 ops folded"
    slots = list(graph.slots)
    constants = list(graph.constants)
    constant = set(constants)
    kept = []
    for node in graph.nodes:
        if _foldable(node, constant):
            try:
                value = forward_on(node, operand_values(node, lambda s: slots[s].owner))
            except Exception:  # let the call raise it, at its own line, as eager mode would
                kept.append(node)
                continue
            out = node.outputs[0]
            if tuple(value.shape) != tuple(slots[out].shape) or value.dtype.name != slots[out].dtype:
                kept.append(node)
                continue
            if value.base is not None:  # a view of another constant: its own array, as every constant has
                value = value.copy()
            slots[out] = slots[out].replaced(kind="const", owner=value, alias=None)
            constants.append(out)
            constant.add(out)
            continue
        kept.append(node)
    folded = len(graph.nodes) - len(kept)
    summary = f"constants: {folded} ops folded"
    return (graph.rewritten(kept, slots, constants) if folded else graph), summary
