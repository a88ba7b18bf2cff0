"""Elementwise-into-reduction fusion: ``softmax(masked_fill(x * scale, mask, value), -1)`` as one pass.

Attention scores go through a scale, a mask and a softmax: three passes over the largest activation of a
transformer, and in training three more for their backward. This rewrite finds such chains by the ops'
``softmax_chain_role`` facts (a ``scale`` by a Python float and/or a ``mask`` filled with a number, then a
``softmax`` over the last dim, each intermediate read only by the next op) and replaces them by a
:class:`~ember.compiler.graph.SoftmaxChainNode` and, when the graph holds their backward, the matching backward
nodes by a :class:`~ember.compiler.graph.SoftmaxChainBackwardNode`. The executor runs each as one C pass
(``rowwise.scaled_masked_softmax``), performing the unfused ops' float32 operations in order, and runs the
members one by one whenever the arrays do not fit. Other ops may sit between the members (the mask's
slicing): the chain node stands at the softmax's place, where every operand exists.

>>> import ember
>>> from ember.compiler.capture import capture
>>> mask = ember.triu(ember.ones(3, 3, dtype=ember.bool), diagonal=1)
>>> def scores(x):
...     return ember.softmax((x * 0.5).masked_fill(mask, float("-inf")), dim=-1).sum()
>>> graph, chains = fuse_softmax_chains(capture(scores, (ember.ones(2, 3, 3),), {}).graph)
>>> chains, [n.label() for n in graph.nodes][0]
(1, 'softmax_chain(%0 * 0.5, mask=%2, fill=-inf)')
"""

from __future__ import annotations

from ember.compiler.graph import SoftmaxChainBackwardNode, SoftmaxChainNode

__all__ = ["fuse_softmax_chains"]


def _scale_by_number(node) -> bool:
    return (node.op.softmax_chain_role == "scale" and len(node.inputs) == 2 and node.inputs[0] is not None
            and node.inputs[1] is None and isinstance(node.scalars[1], float) and node.casts[0] is None)


def _mask_with_number(node) -> bool:
    return (node.op.softmax_chain_role == "mask" and node.inputs[0] is not None and node.inputs[1] is not None
            and node.inputs[2] is None and isinstance(node.scalars[2], (int, float)) and node.casts[0] is None)


def _independent(node) -> bool:
    """Whether ``node`` may sit between two chain members (the mask's slicing, say): an op writing nothing in
    place (it cannot read the chain's intermediate, which only the next member reads)."""
    return node.kind == "op" and node.inplace_target is None


def _softmax_over_last_dim(graph, node) -> bool:
    if node.kind != "op" or node.op.softmax_chain_role != "softmax" or node.inplace_target is not None \
            or node.casts[0] is not None:
        return False
    source = graph.slots[node.inputs[0]]
    return source.dtype == "float32" and node.attrs.get("dim") == len(source.shape) - 1


def fuse_softmax_chains(graph):
    """``(graph with each chain of two or more ops as chain nodes, number of chains)``."""
    readers = graph.readers()
    backward_of = graph.backward_of()
    producer = {n.outputs[0]: i for i, n in enumerate(graph.nodes) if n.kind == "op" and n.outputs}
    outputs = graph.output_slots()
    changes = {}
    chains = 0
    for i, node in enumerate(graph.nodes):
        if not _softmax_over_last_dim(graph, node):
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
        roles = {graph.nodes[j].op.softmax_chain_role: j for j in chain}
        backward = _backward_chain(graph, [roles.get(role) for role in ("softmax", "mask", "scale")], backward_of,
                                   readers)
        if any(graph.nodes[j].ctx_slot is not None for j in chain) and backward is None:
            continue  # a backward the pass cannot follow: leave the chain to the op-by-op path
        scale, mask = (graph.nodes[roles[r]] if r in roles else None for r in ("scale", "mask"))
        fused = SoftmaxChainNode(scale, mask, node)
        changes.update({j: [] for j in chain[:-1]})
        changes[i] = [fused]  # at the softmax's place: every operand exists there
        if backward is not None:
            changes.update({j: [] for j in backward[1:]})
            changes[backward[0]] = [SoftmaxChainBackwardNode([graph.nodes[j] for j in backward], fused.scale_value)]
        chains += 1
    return graph.edited(changes), chains


def _backward_chain(graph, forward, backward_of, readers):
    """The indices of the backward nodes of ``forward`` (softmax, masked_fill, mul; None where absent), in that
    order, when each passes its gradient only to the next; else None."""
    present_forward = [f for f in forward if f is not None]
    nodes = [backward_of.get(graph.nodes[f].ctx_slot) for f in present_forward]
    if any(n is None for n in nodes):
        return None
    for a, b in zip(nodes, nodes[1:]):
        out, grad_in = graph.nodes[a].outputs[0], graph.nodes[b].grad_inputs[0]
        if out is None or out != grad_in or readers.get(out) != [b]:
            return None
    for index in nodes:
        node = graph.nodes[index]
        if node.outputs[0] is None or any(s is not None for s in node.outputs[1:]):
            return None  # a gradient for the mask value or the scale: not this chain
    return nodes
