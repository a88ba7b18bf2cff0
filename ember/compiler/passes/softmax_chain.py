"""Elementwise-into-reduction fusion: ``softmax(masked_fill(x * scale, mask, value), -1)`` as one pass.

Attention scores go through a scale, a mask and a softmax: three passes over the largest activation of a
transformer, and in training three more for their backward. This pass finds such chains (a scale by a Python
number and/or a masked fill with a number, then a softmax over the last dim, each intermediate read only by
the next op) and, when the graph holds their backward, the matching chain of backward nodes. The executor then
runs each chain as one C pass forward (``rowwise.scaled_masked_softmax``) and one backward, performing the
unfused ops' float32 operations in order, and runs the ops one by one whenever the arrays do not fit. Other ops
may sit between the members (the mask's slicing): the fused pass runs at the softmax's place, and the memory
plan keeps the members' operands until then.

>>> import ember
>>> from ember.compiler.capture import capture
>>> mask = ember.triu(ember.ones(3, 3, dtype=ember.bool), diagonal=1)
>>> def scores(x):
...     return ember.softmax((x * 0.5).masked_fill(mask, float("-inf")), dim=-1).sum()
>>> graph = capture(scores, (ember.ones(2, 3, 3),), {}).graph
>>> [(c.scale, c.mask, c.softmax) for c in softmax_chains(graph)]
[(0, 1, 2)]
"""

from __future__ import annotations

__all__ = ["softmax_chains", "SoftmaxChain"]


class SoftmaxChain:
    """Node indices of one chain: ``scale`` (mul) and ``mask`` (masked_fill) may be None; ``backward`` is the
    (softmax, masked_fill, mul) backward node indices in that order (None where the op is absent), or None."""

    def __init__(self, scale, mask, softmax, backward):
        self.scale = scale
        self.mask = mask
        self.softmax = softmax
        self.backward = backward

    def forward_nodes(self):
        return [i for i in (self.scale, self.mask, self.softmax) if i is not None]


def _scale_by_number(node) -> bool:
    return (node.op.name == "mul" and len(node.inputs) == 2 and node.inputs[0] is not None and node.inputs[1] is None
            and isinstance(node.scalars[1], float) and node.casts[0] is None)


def _mask_with_number(node) -> bool:
    return (node.op.name == "masked_fill" and node.inputs[0] is not None and node.inputs[1] is not None
            and node.inputs[2] is None and isinstance(node.scalars[2], (int, float)) and node.casts[0] is None)


def _independent(node) -> bool:
    """Whether ``node`` may sit between two chain members (the mask's slicing, say): an op writing nothing in
    place (it cannot read the chain's intermediate, which only the next member reads)."""
    return node.kind == "op" and node.inplace_target is None


def softmax_chains(graph) -> list:
    """The :class:`SoftmaxChain` s of ``graph`` (at least two ops each)."""
    readers: dict = {}
    for i, node in enumerate(graph.nodes):
        for s in node.reads():
            readers.setdefault(s, []).append(i)
    backward_of = {n.forward_index: i for i, n in enumerate(graph.nodes) if n.kind == "backward"}
    producer = {n.outputs[0]: i for i, n in enumerate(graph.nodes) if n.kind == "op" and n.outputs}
    outputs = graph.output_slots()
    chains = []
    for i, node in enumerate(graph.nodes):
        if node.kind != "op" or node.op.name != "softmax" or node.inplace_target is not None or node.casts[0] is not None:
            continue
        source = graph.slots[node.inputs[0]]
        if source.dtype != "float32" or node.attrs.get("dim") != len(source.shape) - 1:
            continue
        chain = [i]
        for test in (_mask_with_number, _scale_by_number):
            previous = producer.get(graph.nodes[chain[0]].inputs[0])
            if previous is None:
                break
            candidate = graph.nodes[previous]
            if candidate.kind != "op" or not test(candidate) or candidate.inplace_target is not None:
                continue
            if not all(_independent(graph.nodes[j]) for j in range(previous + 1, chain[0])):
                continue
            link = candidate.outputs[0]
            if link != graph.nodes[chain[0]].inputs[0] or readers.get(link) != [chain[0]] or link in outputs:
                continue
            chain.insert(0, previous)
        if len(chain) < 2:
            continue
        names = {graph.nodes[j].op.name: j for j in chain}
        backward = _backward_chain(graph, [names.get("softmax"), names.get("masked_fill"), names.get("mul")],
                                   backward_of, readers)
        if any(graph.nodes[j].ctx_slot is not None for j in chain) and backward is None:
            continue  # a backward the pass cannot follow: leave the chain to the op-by-op path
        chains.append(SoftmaxChain(names.get("mul"), names.get("masked_fill"), i, backward))
    return chains


def _backward_chain(graph, forward, backward_of, readers):
    """The backward nodes of ``forward`` (softmax, masked_fill, mul; None where absent) when each passes its
    gradient only to the next, else None."""
    nodes = [backward_of.get(f) if f is not None else None for f in forward]
    present = [n for n in nodes if n is not None]
    if len(present) != sum(f is not None for f in forward):
        return None
    for a, b in zip(present, present[1:]):
        out, grad_in = graph.nodes[a].outputs[0], graph.nodes[b].grad_inputs[0]
        if out is None or out != grad_in or readers.get(out) != [b]:
            return None
    for index in present:
        node = graph.nodes[index]
        if node.outputs[0] is None or any(s is not None for s in node.outputs[1:]):
            return None  # a gradient for the mask value or the scale: not this chain
    return tuple(nodes)
