"""Algebraic simplification: ops that give back their operand unchanged are dropped, and their readers read
the operand.

The rules are the ops' own facts (ember/ops/registry.py), each exact in floating point (every bit, NaN
included): ``identities`` (``x * 1``, ``1 * x``, ``x / 1``, ``x - 0``, ``x ** 1``; ``x + 0`` is not one: it
turns ``-0.0`` into ``0.0``) and ``involution`` (``-(-x)``). A rule applies only where the result has the
operand's dtype and shape, no autograd ctx records the op, the result is not returned (the caller must get a
new tensor, not the operand), the graph writes nothing in place (a write to the result would then reach the
operand), and the operand keeps its value through the call (not a parameter or input that
``optimizer.step()`` changes later in the graph).

>>> import ember
>>> from ember.compiler.capture import capture
>>> from ember.compiler.passes.dce import eliminate_dead_code
>>> def f(x):
...     with ember.no_grad():
...         return (-(-(x * 1.0)) / 1).exp()
>>> graph, summary = simplify(capture(f, (ember.ones(2),), {}).graph)
>>> graph, removed = eliminate_dead_code(graph)
>>> summary, removed, [n.op.name for n in graph.nodes]
('simplify: 3 ops dropped', 'dce: removed 1 nodes', ['exp'])
"""

from __future__ import annotations

from ember.compiler.passes.cse import unchanging_slots

__all__ = ["simplify"]


def _plain(node) -> bool:
    return (node.kind == "op" and node.pure and node.ctx_slot is None and node.inplace_target is None
            and not node.attr_slots and not node.attrs and len(node.outputs) == 1 and node.outputs[0] is not None)


def _same_value(graph, node, slot) -> bool:
    mine, theirs = graph.slots[node.outputs[0]], graph.slots[slot]
    return mine.dtype == theirs.dtype and mine.shape is not None and tuple(mine.shape) == tuple(theirs.shape)


def _passed_through(graph, node, producer):
    """The slot ``node`` gives back unchanged, or None."""
    if not _plain(node):
        return None
    op = node.op
    if op.identities and len(node.inputs) == 2:
        for keep, number, value in op.identities:
            slot, scalar = node.inputs[keep], node.scalars[number]
            if (slot is not None and node.inputs[number] is None and type(scalar) in (int, float)
                    and scalar == value and node.casts[keep] is None and _same_value(graph, node, slot)):
                return slot
    if op.involution and len(node.inputs) == 1 and node.inputs[0] is not None and node.casts[0] is None:
        inner = producer.get(node.inputs[0])
        if inner is not None and _plain(inner) and inner.op is op and inner.casts[0] is None \
                and inner.inputs[0] is not None and _same_value(graph, node, inner.inputs[0]):
            return inner.inputs[0]
    return None


def simplify(graph):
    """``(graph with the identities dropped and their readers reading the operand, summary line)``."""
    if any(n.inplace_target is not None for n in graph.nodes):
        return graph, "simplify: 0 ops dropped"
    returned = {graph.slots[s].alias if graph.slots[s].alias is not None else s for s in graph.output_slots()}
    stable = unchanging_slots(graph)  # a result may stand for its operand only if the operand keeps its value
    producer, rename, kept = {}, {}, []
    for node in graph.nodes:
        node = node.renamed(rename) if rename else node
        source = _passed_through(graph, node, producer)
        out = node.outputs[0] if node.kind == "op" and node.outputs else None
        if source is not None and source in stable and out not in returned:  # (nor a returned view's memory)
            rename[out] = source
            continue
        if node.kind == "op":
            producer.update((s, node) for s in node.outputs if s is not None)
        kept.append(node)
    summary = f"simplify: {len(rename)} ops dropped"
    if not rename:
        return graph, summary
    slots = list(graph.slots)
    for s, info in enumerate(slots):  # views of a dropped result view its operand's memory
        alias = info.alias
        while alias in rename:
            source = rename[alias]
            alias = source if slots[source].alias is None else slots[source].alias
        if alias != info.alias:
            slots[s] = info.replaced(alias=alias)
    return graph.rewritten(kept, slots), summary
