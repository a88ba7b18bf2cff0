"""Which op nodes can write their result into a preallocated buffer, and how (``out=``).

``out_writer(node, graph)`` returns ``write(out, *operands, **attrs)`` for a forward op node whose result the
memory plan may place in an arena buffer, or ``None`` when the op must allocate as in eager mode. Covered:
elementwise ops backed by a NumPy ufunc (``add``, ``sub``, ``div``, ``exp``, ``tanh`` ...) when every operand
already has the output's dtype, ``relu``, and ``linear`` (``np.matmul(out=)`` then the bias added in place,
the same operations eager's forward performs).

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
    if op.name == "linear":
        return _linear_writer(node, graph, dtypes, out)
    if op.kind != "elementwise" or node.attrs:
        return None
    if any(d != out.dtype for d in dtypes):
        return None
    shapes = [graph.slots[s].shape for s in node.inputs if s is not None]
    if not shapes or tuple(np.broadcast_shapes(*shapes)) != tuple(out.shape):
        return None
    if op.name == "relu":
        return _relu
    ufunc = op.ufunc
    if ufunc is None or ufunc.nin != len(node.inputs):
        return None
    if ufunc is np.true_divide:
        return _divide
    return lambda target, *operands: ufunc(*operands, out=target)


def _relu(target, a):
    np.maximum(a, 0, out=target)


def _divide(target, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        np.true_divide(a, b, out=target)


def _linear_writer(node, graph, dtypes, out):
    if len(node.inputs) != 3 or node.inputs[0] is None or node.inputs[1] is None:
        return None
    x, weight = graph.slots[node.inputs[0]], graph.slots[node.inputs[1]]
    bias_slot = node.inputs[2]
    if x.dtype != out.dtype or weight.dtype != out.dtype or len(weight.shape) != 2 or not x.shape or x.shape[-1] == 0:
        return None
    if bias_slot is not None:
        bias = graph.slots[bias_slot]
        if bias.dtype != out.dtype or len(bias.shape) > 1:
            return None
    elif node.scalars[2] is not None:
        return None
    in_features, out_features = weight.shape[1], weight.shape[0]

    def write(target, x, weight, bias):
        np.matmul(x.reshape(-1, in_features), weight.T, out=target.reshape(-1, out_features))
        if bias is not None:
            target += bias
    return write
