"""Rematerialization: values a backward needs that are cheaper to recompute than to keep.

A compiled training step keeps every array that some backward reads alive from forward to backward; that is
what sets its peak memory. Three kinds are recomputed instead of kept:

- an op's own intermediates, when the op defines ``release_saved(ctx)`` / ``restore_saved(ctx)`` (layer_norm's
  normalized rows are recomputed from its input); the executor calls them, nothing is planned here;
- the output of a cheap op saved by the op that reads it (``gelu -> linear`` and ``layer_norm -> linear``: the
  linear's weight gradient needs its input): the producer's own inputs are kept anyway for the producer's
  backward, so the consumer drops its copy and the executor recomputes the producer's forward (the same code
  on the same inputs, so the same bits) just before the consumer's backward;
- attention probabilities (``recomputed_attention``, when ``ember.compiler.config.recompute_attention``):
  ``softmax(mask(scale * (q @ k^T))) @ v``, where the scale/mask/softmax chain runs fused
  (passes/softmax_chain.py), keeps neither the scores nor the probabilities (batch x heads x time x time, the
  largest activation of a transformer). The first matmul keeps q and k for its own backward anyway, so the
  executor recomputes the scores and the fused chain before the second matmul's backward: one batched GEMM
  and one row pass per layer, for time^2 floats per head.

>>> import ember
>>> from ember.compiler.capture import capture
>>> layer = ember.nn.Linear(4, 4)
>>> def step(x):
...     loss = layer(ember.nn.functional.gelu(x, approximate="tanh")).sum()
...     loss.backward()
...     return loss
>>> graph = capture(step, (ember.ones(2, 4, requires_grad=True),), {}).graph
>>> recompute = recomputed_inputs(graph)
>>> [(graph.nodes[i].op.name, position, graph.nodes[producer].op.name) for i, (position, producer) in recompute.items()]
[('linear', 0, 'gelu')]
"""

from __future__ import annotations

__all__ = ["recomputed_inputs", "recomputed_attention", "RECOMPUTABLE"]


def _tanh_gelu(node) -> bool:
    return (node.attrs.get("approximate") == "tanh" and node.inputs and node.inputs[0] is not None
            and node.casts[0] is None)


def _keeps_inputs(node) -> bool:
    return node.op.save_inputs and all(cast is None for cast in node.casts)


# Producers whose output can be recomputed from the inputs their own backward keeps alive: cheap, deterministic.
RECOMPUTABLE = {"gelu": _tanh_gelu, "layer_norm": _keeps_inputs}


def recomputed_inputs(graph) -> dict:
    """``{consumer node index: (operand position, producer node index)}`` for every saved operand that the
    executor recomputes before the consumer's backward instead of keeping it from forward."""
    producer_of = {}
    for i, node in enumerate(graph.nodes):
        if node.kind != "op" or node.ctx_slot is None or len(node.outputs) != 1 or node.outputs[0] is None:
            continue
        rule = RECOMPUTABLE.get(node.op.name)
        if rule is not None and node.inplace_target is None and not node.attr_slots and rule(node):
            producer_of[node.outputs[0]] = i
    if not producer_of:
        return {}
    output_slots = graph.output_slots()
    recompute = {}
    for i, node in enumerate(graph.nodes):
        if node.kind != "op" or node.ctx_slot is None or not node.op.save_inputs or node.inplace_target is not None:
            continue
        for position, slot in enumerate(node.inputs):
            producer = producer_of.get(slot)
            if producer is not None and slot not in output_slots and node.casts[position] is None:
                recompute[i] = (position, producer)
                break
    return recompute


def _plain_matmul(node) -> bool:
    return (node.kind == "op" and node.op.name == "matmul" and node.ctx_slot is not None and node.op.save_inputs
            and node.inplace_target is None and not node.attr_slots and all(c is None for c in node.casts)
            and len(node.outputs) == 1)


def recomputed_attention(graph, chains) -> dict:
    """``{chain index: (scores matmul node, probabilities matmul node)}`` for each softmax chain (with its
    backward) that reads a matmul's output and whose probabilities only feed another matmul's first operand."""
    readers: dict = {}
    for i, node in enumerate(graph.nodes):
        if node.kind == "op":
            for s in node.inputs:
                if s is not None:
                    readers.setdefault(s, []).append(i)
    producer = {node.outputs[0]: i for i, node in enumerate(graph.nodes) if node.kind == "op" and node.outputs}
    outputs = graph.output_slots()
    found = {}
    for c, chain in enumerate(chains):
        if chain.backward is None:
            continue
        first = graph.nodes[chain.forward_nodes()[0]]
        scores, probabilities = first.inputs[0], graph.nodes[chain.softmax].outputs[0]
        m1 = producer.get(scores)
        users = readers.get(probabilities, [])
        if m1 is None or not _plain_matmul(graph.nodes[m1]) or readers.get(scores) != [chain.forward_nodes()[0]]:
            continue
        if len(users) != 1 or probabilities in outputs or scores in outputs:
            continue
        m2 = users[0]
        node = graph.nodes[m2]
        if not _plain_matmul(node) or node.inputs[0] != probabilities or node.inputs[1] == probabilities:
            continue
        found[c] = (m1, m2)
    return found
