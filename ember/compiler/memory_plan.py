"""Memory planning: each value's lifetime, freeing it after its last reader, and what that saves.

Eager mode keeps every activation alive until backward has used it (the autograd graph holds it); the
replayed graph drops each intermediate array right after its last reader, so the peak is the largest set
of arrays alive at one time. ``plan_memory`` returns, per node, the slots to release after it runs, plus
the figures ``explain`` prints ("activations: X MB -> Y MB").

>>> from ember.compiler.graph import Graph, HostNode
>>> g = Graph(); a = g.new_slot("value", (1,), "float32", 4)
>>> g.nodes.append(HostNode("make", None, [a])); g.nodes.append(HostNode("other", None, []))
>>> plan = plan_memory(g)
>>> plan.free_after
[[0], []]
"""

from __future__ import annotations

__all__ = ["MemoryPlan", "plan_memory"]


class MemoryPlan:
    """``free_after[i]``: slots released after node ``i``; ``total_bytes`` vs ``peak_bytes`` of intermediates."""

    def __init__(self, free_after, total_bytes, peak_bytes):
        self.free_after = free_after
        self.total_bytes = total_bytes
        self.peak_bytes = peak_bytes

    def describe(self) -> str:
        mb = 1024 * 1024
        return (f"activations: {self.total_bytes / mb:.2f} MB -> {self.peak_bytes / mb:.2f} MB "
                "(every intermediate kept -> peak with each freed after its last use)")


def plan_memory(graph) -> MemoryPlan:
    """Lifetimes of the ``value`` and ``ctx`` slots of ``graph`` (inputs, externals and outputs live on)."""
    keep = graph.output_slots()
    last_use = {}
    first_def = {}
    for i, node in enumerate(graph.nodes):
        for s in node.writes():
            first_def.setdefault(s, i)
            last_use.setdefault(s, i)
        for s in node.reads():
            last_use[s] = i
    free_after = [[] for _ in graph.nodes]
    for s, i in last_use.items():
        if s in keep or graph.slots[s].kind not in ("value", "ctx"):
            continue
        free_after[i].append(s)
    total = sum(graph.slots[s].nbytes for s in first_def if graph.slots[s].kind == "value")
    live = peak = 0
    for i, node in enumerate(graph.nodes):
        for s in node.writes():
            if first_def.get(s) == i:
                live += graph.slots[s].nbytes
        peak = max(peak, live)
        for s in free_after[i]:
            live -= graph.slots[s].nbytes
    return MemoryPlan(free_after, total, peak)
