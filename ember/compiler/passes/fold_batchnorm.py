"""Fold evaluation-mode batch norm into the convolution before it (inference graphs).

In ``eval()`` a batch norm is a per-channel affine map, so ``batch_norm(conv(x, W, b))`` equals
``conv(x, W * s, (b - mean) * s + beta)`` with ``s = gamma / sqrt(running_var + eps)``: the normalization pass
over the activation disappears. The executor computes the folded weight and bias once and again only when a
parameter or running statistic changes (version counters, and the statistics' values); results equal the
unfolded graph's within float32 rounding, as with ``torch.compile``'s conv-bn folding.

A pair is folded when the convolution (float32) feeds only the batch norm, neither keeps anything for a
backward (``no_grad`` or ``inference_mode``), the batch norm uses running statistics, and the convolution's
output is not returned.

>>> import ember
>>> from ember.compiler.capture import capture
>>> block = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.BatchNorm2d(4)).eval()
>>> def infer(x):
...     with ember.no_grad():
...         return block(x)
>>> conv_batchnorm_pairs(capture(infer, (ember.ones(1, 3, 5, 5),), {}).graph)
[(0, 1)]
"""

from __future__ import annotations

__all__ = ["conv_batchnorm_pairs"]


def conv_batchnorm_pairs(graph) -> list:
    """``[(convolution node index, batch_norm node index)]`` that the executor runs as one folded convolution."""
    readers: dict = {}
    for i, node in enumerate(graph.nodes):
        for s in node.reads():
            readers.setdefault(s, []).append(i)
    outputs = graph.output_slots()
    pairs = []
    for i in range(len(graph.nodes) - 1):
        conv, norm = graph.nodes[i], graph.nodes[i + 1]
        if conv.kind != "op" or norm.kind != "op" or conv.op.name != "convolution" or norm.op.name != "batch_norm":
            continue
        folded = conv.outputs[0]
        if (conv.grad_enabled or norm.grad_enabled or conv.ctx_slot is not None or norm.ctx_slot is not None
                or conv.inplace_target is not None
                or norm.inplace_target is not None or conv.attr_slots or norm.attr_slots
                or norm.attrs.get("training") or norm.attrs.get("running_mean") is None
                or norm.attrs.get("running_var") is None or norm.inputs[0] != folded
                or readers.get(folded) != [i + 1] or folded in outputs or conv.attrs.get("out") is not None
                or graph.slots[folded].dtype != "float32"
                or any(c is not None for c in conv.casts + norm.casts)
                or any(s is None and v is not None for s, v in zip(conv.inputs[:3], conv.scalars[:3]))
                or any(s is None and v is not None for s, v in zip(norm.inputs[1:3], norm.scalars[1:3]))):
            continue
        pairs.append((i, i + 1))
    return pairs
