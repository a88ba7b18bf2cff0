"""Which nodes can write their result into a preallocated buffer, and how (``out=``).

``out_writer(node, graph)`` returns ``write(out, *operands, **attrs)`` for a forward op node whose result the
memory plan may place in an arena buffer, or ``None`` when the op must allocate as in eager mode. Covered: ops
with their own ``forward_into`` and ``can_forward_into`` facts (``linear``: ``np.matmul(out=)`` then the bias
added in place, the same operations eager's forward performs), and elementwise ops when every operand already
has the output's dtype and shape: through the op's ``forward_into`` (``relu``) or its NumPy ufunc (``add``,
``sub``, ``div``, ``exp``, ``tanh`` ...). A fused node's members are asked one by one: its loop writes where
its last member would.

>>> import ember
>>> from ember.compiler.capture import capture
>>> graph = capture(lambda x: (x + 1).relu() * 2, (ember.ones(3),), {}).graph
>>> [(n.op.name, out_writer(n, graph) is not None) for n in graph.nodes]
[('add', True), ('relu', True), ('mul', False)]
"""

from __future__ import annotations

import numpy as np

__all__ = ["out_writer"]

_FLOATS = ("float32", "float64")


def _operand_dtypes(node, graph):
    """The dtype each operand has when the forward sees it (after the recorded cast), or None for a Python value
    left uncast."""
    found = []
    for slot, value, cast in zip(node.inputs, node.scalars, node.casts):
        if cast is not None:
            found.append(np.dtype(cast).name)
        elif slot is not None:
            found.append(graph.slots[slot].dtype)
        else:
            found.append(None if value is not None else "none")
    return found


def _described(shape, dtype):
    """An array of ``shape`` and ``dtype`` that takes no memory: what ``can_forward_into`` sees of an operand."""
    return np.broadcast_to(np.empty((), dtype), shape)


def out_writer(node, graph):
    """``write(out, *operands, **attrs)`` for ``node``, or ``None`` (see the module docstring)."""
    if node.kind != "op" or node.inplace_target is not None or len(node.outputs) != 1 or node.outputs[0] is None:
        return None
    op = node.op
    if op.takes_ctx or node.attr_slots:
        return None
    out = graph.slots[node.outputs[0]]
    if out.dtype not in _FLOATS or out.shape is None:
        return None
    dtypes = _operand_dtypes(node, graph)
    if op.can_forward_into is not None:
        operands = [None if slot is None and value is None else
                    _described(graph.slots[slot].shape if slot is not None else (), dtype or np.asarray(value).dtype)
                    for slot, value, dtype in zip(node.inputs, node.scalars, dtypes)]
        fits = op.can_forward_into(_described(out.shape, out.dtype), *operands, **node.attrs)
        return op.forward_into if fits else None
    if op.kind != "elementwise" or node.attrs:
        return None
    if any(d != out.dtype for d in dtypes):
        return None
    shapes = [graph.slots[s].shape for s in node.inputs if s is not None]
    if not shapes or tuple(np.broadcast_shapes(*shapes)) != tuple(out.shape):
        return None
    if op.forward_into is not None:
        return op.forward_into
    ufunc = op.ufunc
    if ufunc is None or ufunc.nin != len(node.inputs):
        return None
    if ufunc is np.true_divide:
        return _divide
    return lambda target, *operands: ufunc(*operands, out=target)


def _divide(target, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        np.true_divide(a, b, out=target)
