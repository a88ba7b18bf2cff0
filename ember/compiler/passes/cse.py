"""Common subexpression elimination: two pure op nodes with the same op, operands and attributes compute
the same value, so the second is dropped and its readers read the first's output.

Only values that nothing writes in between qualify: graphs with in-place writes are left alone, and
parameters and inputs count only when the graph has no host work (``optimizer.step()`` changes them).

>>> import ember
>>> from ember.compiler.capture import capture
>>> graph = capture(lambda x: (x * 2).exp() + (x * 2).exp(), (ember.ones(2),), {}).graph
>>> eliminate_common_subexpressions(graph), [n.op.name for n in graph.nodes]
(2, ['mul', 'exp', 'add'])
"""

from __future__ import annotations

from ember.compiler.passes.dce import _reindex_backward

__all__ = ["eliminate_common_subexpressions"]


def _key(node):
    try:
        attrs = tuple(sorted(node.attrs.items()))
        key = (node.op.name, node.inputs, tuple(repr(s) for s in node.scalars), node.casts, attrs)
        hash(key)
    except TypeError:
        return None
    return key


def unchanging_slots(graph) -> set:
    """The slots that hold one value through a call of a graph that writes nothing in place: op and backward
    results and constants, and inputs and parameters unless host work (``optimizer.step()``, ``zero_grad``) or
    gradient accumulation may change them."""
    stable = set(graph.constants)
    for node in graph.nodes:
        if node.kind in ("op", "backward"):
            stable.update(s for s in node.outputs if s is not None)
    if not any(n.kind in ("host", "accumulate") for n in graph.nodes):
        stable.update(graph.input_slots)
        stable.update(slot for slot, _ in graph.externals)
    return stable


def eliminate_common_subexpressions(graph) -> int:
    """Merge repeated pure computations in ``graph`` in place; returns how many nodes were merged."""
    if any(n.kind == "op" and n.inplace_target is not None for n in graph.nodes):
        return 0
    stable = unchanging_slots(graph)
    seen = {}
    rename = {}
    kept = []
    merged = 0
    output_slots = graph.output_slots()
    for node in graph.nodes:
        _apply_rename(node, rename)
        if (node.kind == "op" and node.pure and node.ctx_slot is None and node.attr_slots == ()
                and all(s is None or s in stable for s in node.inputs)):
            key = _key(node)
            if key is not None:
                first = seen.get(key)
                if first is not None and not any(s in output_slots for s in node.outputs if s is not None):
                    for mine, theirs in zip(node.outputs, first.outputs):
                        if mine is not None:
                            rename[mine] = theirs
                    merged += 1
                    continue
                seen[key] = node
        kept.append(node)
    if merged:
        _reindex_backward(graph, kept)
        graph.nodes = kept
    return merged


def _apply_rename(node, rename):
    if not rename:
        return
    if node.kind == "op":
        node.inputs = tuple(rename.get(s, s) if s is not None else None for s in node.inputs)
        node.attr_slots = tuple((n, rename.get(s, s)) for n, s in node.attr_slots)
    elif node.kind == "backward":
        node.grad_inputs = tuple(rename.get(s, s) if s is not None else None for s in node.grad_inputs)
    elif node.kind == "accumulate":
        node.grad_slot = rename.get(node.grad_slot, node.grad_slot)
