"""Rematerialization: values a backward needs that are cheaper to recompute than to keep.

A compiled training step keeps every array that some backward reads alive from forward to backward; that is
what sets its peak memory. Three kinds are recomputed instead of kept:

- an op's own intermediates, when the op defines ``release_saved(ctx)`` / ``restore_saved(ctx)`` (layer_norm's
  normalized rows are recomputed from its input) or ``replay_forward`` / ``replay_backward`` (tanh-GELU keeps
  no tanh term); the executor calls them, nothing is planned here;
- the output of a cheap op saved by the op that reads it (``gelu -> linear`` and ``layer_norm -> linear``: the
  linear's weight gradient needs its input), for producers whose op is ``recomputable``: the producer's own
  inputs are kept anyway for the producer's backward, so the consumer (a copy with ``recomputed_operand``
  set) drops its copy and a :class:`~ember.compiler.graph.RecomputeNode` just before the consumer's backward
  runs the producer's forward again (the same code on the same inputs, so the same bits);
- attention probabilities (when ``ember.compiler.config.recompute_attention``): in
  ``softmax(mask(scale * (q @ k^T))) @ v``, where the scale/mask/softmax chain runs fused
  (passes/softmax_chain.py), neither the scores nor the probabilities (batch x heads x time x time, the
  largest activation of a transformer) are kept. Both matmuls are ``plain_matmul`` ops; the first keeps q and
  k for its own backward anyway, so a :class:`~ember.compiler.graph.DropProbabilitiesNode` after the second
  matmul drops the probabilities and a :class:`~ember.compiler.graph.RecomputeProbabilitiesNode` before its
  backward recomputes the scores and the fused chain: one batched GEMM and one row pass per layer, for time^2
  floats per head.

>>> import ember
>>> from ember.compiler.capture import capture
>>> layer = ember.nn.Linear(4, 4)
>>> def step(x):
...     loss = layer(ember.nn.functional.gelu(x, approximate="tanh")).sum()
...     loss.backward()
...     return loss
>>> graph, summary = rematerialize(capture(step, (ember.ones(2, 4, requires_grad=True),), {}).graph)
>>> summary
'remat: 1 saved values recomputed in backward, 0 attention probabilities'
>>> [n.label() for n in graph.nodes if n.kind == "recompute"]
['recompute gelu(ctx=%16) into ctx=%12[0]']
"""

from __future__ import annotations

from ember.compiler.graph import DropProbabilitiesNode, RecomputeNode, RecomputeProbabilitiesNode, SoftmaxChainNode

__all__ = ["rematerialize", "recompute_saved_inputs", "recompute_attention_probabilities"]


def rematerialize(graph):
    """``(graph with its recomputed values' nodes, summary line)``; attention probabilities only when
    ``ember.compiler.config.recompute_attention`` is set."""
    from ember.compiler import config
    graph, recomputed = recompute_saved_inputs(graph)
    graph, attention = recompute_attention_probabilities(graph) if config.recompute_attention else (graph, 0)
    return graph, f"remat: {recomputed} saved values recomputed in backward, {attention} attention probabilities"


def _recomputable(node) -> bool:
    """Whether ``node``'s output can be computed again from the inputs its own ctx keeps."""
    if node.kind != "op":
        return False
    op = node.op
    return (node.ctx_slot is not None and len(node.outputs) == 1 and node.outputs[0] is not None
            and op.recomputable is not None and op.save_inputs and node.inplace_target is None and not node.attr_slots
            and all(cast is None for cast in node.casts) and all(node.kept_operands()) and op.recomputable(node.attrs))


def recompute_saved_inputs(graph):
    """``(graph, count)``: each op that saves an operand produced by a recomputable op keeps no copy of it, and
    a RecomputeNode puts it back just before that op's backward."""
    producer_of = {node.outputs[0]: node for node in graph.nodes if _recomputable(node)}
    if not producer_of:
        return graph, 0
    output_slots = graph.output_slots()
    backward_of = graph.backward_of()
    changes = {}
    producers = {id(node) for node in producer_of.values()}
    recomputed = 0
    for i, node in enumerate(graph.nodes):
        if node.kind != "op" or node.ctx_slot is None or not node.op.save_inputs or node.inplace_target is not None:
            continue
        if id(node) in producers:  # its kept inputs are what a RecomputeNode recomputes it from: keep them
            continue
        kept = node.kept_operands()
        for position, slot in enumerate(node.inputs):
            producer = producer_of.get(slot)
            backward = backward_of.get(node.ctx_slot)
            if producer is not None and slot not in output_slots and node.casts[position] is None and kept[position] \
                    and backward is not None:
                consumer = node.replaced(recomputed_operand=position)
                changes[i] = [consumer]
                changes[backward] = [RecomputeNode(producer, consumer, position), graph.nodes[backward]]
                recomputed += 1
                break
    return graph.edited(changes), recomputed


def _plain_matmul(node) -> bool:
    return (node.kind == "op" and node.op.plain_matmul and node.ctx_slot is not None and node.op.save_inputs
            and node.inplace_target is None and not node.attr_slots and all(c is None for c in node.casts)
            and len(node.outputs) == 1)


def recompute_attention_probabilities(graph):
    """``(graph, count)``: for each fused softmax chain with a backward that reads a plain matmul's output (kept
    whole: it keeps both operands) and whose probabilities only feed another plain matmul's first operand, the
    nodes that drop the probabilities after that matmul and recompute them before its backward."""
    readers = graph.readers()
    producer = {node.outputs[0]: i for i, node in enumerate(graph.nodes) if node.kind == "op" and node.outputs}
    backward_of = graph.backward_of()
    outputs = graph.output_slots()
    changes = {}
    recomputed = 0
    for c, chain in enumerate(graph.nodes):
        if not isinstance(chain, SoftmaxChainNode) or chain.ctx_slot is None:
            continue
        scores, probabilities = chain.input, chain.outputs[0]
        m1 = producer.get(scores)
        users = readers.get(probabilities, [])
        if m1 is None or not _plain_matmul(graph.nodes[m1]) or not all(graph.nodes[m1].kept_operands()) \
                or readers.get(scores) != [c] or len(users) != 1 or probabilities in outputs or scores in outputs:
            continue
        m2 = users[0]
        node = graph.nodes[m2]
        backward = backward_of.get(node.ctx_slot)
        if not _plain_matmul(node) or node.inputs[0] != probabilities or node.inputs[1] == probabilities \
                or backward is None:
            continue
        scores_matmul = graph.nodes[m1]
        changes[m2] = [node, DropProbabilitiesNode(scores_matmul, chain, node)]
        changes[backward] = [RecomputeProbabilitiesNode(scores_matmul, chain, node), graph.nodes[backward]]
        recomputed += 1
    return graph.edited(changes), recomputed
