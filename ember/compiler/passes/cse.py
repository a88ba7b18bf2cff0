"""Common subexpression elimination: two pure op nodes with the same op, operands and attributes compute
the same value, so the second is dropped and its readers read the first's output.

Only values that nothing writes in between qualify: graphs with in-place writes are left alone, and
parameters and inputs count only when the graph has no host work (``optimizer.step()`` changes them).

>>> import ember
>>> from ember.compiler.capture import capture
>>> graph = capture(lambda x: (x * 2).exp() + (x * 2).exp(), (ember.ones(2),), {}).graph
>>> merged, summary = eliminate_common_subexpressions(graph)
>>> summary, [n.op.name for n in merged.nodes]
('cse: merged 2 nodes', ['mul', 'exp', 'add'])
"""

from __future__ import annotations

__all__ = ["eliminate_common_subexpressions", "unchanging_slots"]


def _key(node):
    try:
        attrs = tuple(sorted(node.attrs.items()))
        key = (node.op, node.inputs, tuple(repr(s) for s in node.scalars), node.casts, attrs)
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


def eliminate_common_subexpressions(graph):
    """``(graph with repeated pure computations merged, summary line)``."""
    if any(n.inplace_target is not None for n in graph.nodes):
        return graph, "cse: merged 0 nodes"
    stable = unchanging_slots(graph)
    seen = {}
    rename = {}
    kept = []
    output_slots = graph.output_slots()
    for node in graph.nodes:
        node = node.renamed(rename) if rename else node
        if (node.kind == "op" and node.pure and node.ctx_slot is None and node.attr_slots == ()
                and all(s is None or s in stable for s in node.inputs)):
            key = _key(node)
            if key is not None:
                first = seen.get(key)
                if first is not None and not any(s in output_slots for s in node.outputs if s is not None):
                    for mine, theirs in zip(node.outputs, first.outputs):
                        if mine is not None:
                            rename[mine] = theirs
                    continue
                seen[key] = node
        kept.append(node)
    merged = len(graph.nodes) - len(kept)
    return (graph.rewritten(kept) if merged else graph), f"cse: merged {merged} nodes"
