"""Fold evaluation-mode batch norm into the convolution before it (inference graphs).

In ``eval()`` a batch norm is a per-channel affine map (its op's ``channel_affine`` fact gives
``(scale, center, shift)``), and a convolution is linear in its weight and bias per output channel (its op's
``per_channel_weight_bias`` fact), so ``batch_norm(conv(x, W, b))`` equals
``conv(x, W * scale, (b - center) * scale + shift)``: the normalization pass over the activation disappears.
The pair becomes one :class:`~ember.compiler.graph.FoldedConvolutionNode`; the executor computes the folded
weight and bias once and again only when a parameter or running statistic changes (version counters, and the
statistics' values). Results equal the unfolded graph's within float32 rounding, as with ``torch.compile``'s
conv-bn folding.

A pair is folded when the convolution (float32) feeds only the batch norm, neither keeps anything for a
backward (``no_grad`` or ``inference_mode``), the batch norm uses running statistics, and the convolution's
output is not returned.

>>> import ember
>>> from ember.compiler.capture import capture
>>> block = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.BatchNorm2d(4)).eval()
>>> def infer(x):
...     with ember.no_grad():
...         return block(x)
>>> graph, summary = fold_batchnorm(capture(infer, (ember.ones(1, 3, 5, 5),), {}).graph)
>>> summary, [n.kind for n in graph.nodes]
('fold: 1 batch norms folded into convolutions', ['folded_convolution'])
"""

from __future__ import annotations

import numpy as np

from ember.compiler.graph import FoldedConvolutionNode

__all__ = ["fold_batchnorm"]


def _untracked(node) -> bool:
    """An op node that records nothing for a backward and reads no array attribute made in the graph."""
    return (node.kind == "op" and not node.grad_enabled and node.ctx_slot is None and node.inplace_target is None
            and not node.attr_slots and all(c is None for c in node.casts))


def _foldable(graph, i, readers, outputs) -> bool:
    """Whether node ``i`` (a convolution) and node ``i + 1`` (a batch norm reading only it) fold into one."""
    conv, norm = graph.nodes[i], graph.nodes[i + 1]
    if conv.kind != "op" or norm.kind != "op" or conv.op.per_channel_weight_bias is None \
            or norm.op.channel_affine is None or not (_untracked(conv) and _untracked(norm)):
        return False
    folded = conv.outputs[0]
    if (norm.inputs[0] != folded or readers.get(folded) != [i + 1] or folded in outputs
            or graph.slots[folded].dtype != "float32"
            or any(isinstance(v, np.ndarray) for v in conv.attrs.values())):  # an out= array
        return False
    # the weight, the bias and the norm's parameters are tensors or absent, not Python numbers
    if any(conv.inputs[p] is None and conv.scalars[p] is not None for p in (0, *conv.op.per_channel_weight_bias)):
        return False
    if any(s is None and v is not None for s, v in zip(norm.inputs[1:], norm.scalars[1:])):
        return False
    return norm.op.channel_affine(*[None] * (len(norm.inputs) - 1), np.dtype(np.float32), **norm.attrs) is not None


def fold_batchnorm(graph):
    """``(graph with each foldable convolution + batch norm pair as one folded convolution, summary line)``."""
    readers = graph.readers()
    outputs = graph.output_slots()
    changes = {}
    for i in range(len(graph.nodes) - 1):
        if _foldable(graph, i, readers, outputs):
            changes[i] = [FoldedConvolutionNode(graph.nodes[i], graph.nodes[i + 1])]
            changes[i + 1] = []
    folded = sum(isinstance(n, FoldedConvolutionNode) for nodes in changes.values() for n in nodes)
    return graph.edited(changes), f"fold: {folded} batch norms folded into convolutions"
