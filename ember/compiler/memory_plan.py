"""Memory planning: each value's lifetime, freeing it after its last reader, and one arena of buffers that the
ops able to write with ``out=`` (see ``lowering``) reuse across the step and across calls.

Eager mode keeps every activation alive until backward has used it (the autograd graph holds it); the
replayed graph drops each intermediate array right after its last reader, and values computed by
out-capable ops live in arena buffers: a buffer is shared by values of one shape and dtype whose lifetimes
do not overlap. A value's lifetime covers its views and, when an autograd ctx holds it (saved for
backward), the ctx's last reader. The plan reads only what the nodes say (``reads()``, ``writes()``,
``held_by_ctx()``, ``overwritable_operands()``, ``escaping()``, and ``members``: a node that replaced others
is accounted as they would run, one by one): it knows nothing of the passes.
``plan_memory`` returns, per node, the slots to release after it runs, the buffer of each lowered node, and
the figures ``explain`` prints ("activations: X MB -> Y MB").

>>> from ember.compiler.graph import Graph, HostNode
>>> g = Graph(); a = g.new_slot("value", (1,), "float32", 4)
>>> g.nodes.append(HostNode("make", None, [a])); g.nodes.append(HostNode("other", None, []))
>>> plan = plan_memory(g)
>>> plan.free_after
[[0], []]
"""

from __future__ import annotations

import numpy as np

__all__ = ["MemoryPlan", "plan_memory"]


class MemoryPlan:
    """``free_after[i]``: slots released after node ``i``; ``buffer_of[slot]``: arena buffer index of the value in
    ``slot`` (written by a lowered node); ``buffers``: (shape, dtype name) per arena buffer; byte figures for
    ``describe``."""

    def __init__(self, free_after, total_bytes, peak_bytes, buffer_of=None, buffers=(), allocations=(0, 0, 0, 0),
                 in_place=0):
        self.free_after = free_after
        self.total_bytes = total_bytes
        self.peak_bytes = peak_bytes
        self.buffer_of = buffer_of or {}
        self.buffers = list(buffers)
        # (arrays allocated per call before, their bytes, after, their bytes)
        self.allocations = allocations
        self.in_place = in_place  # op outputs written into the buffer of an operand that dies at that op

    @property
    def arena_bytes(self) -> int:
        return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in self.buffers)

    def describe(self) -> str:
        mb = 1024 * 1024
        before, before_bytes, after, after_bytes = self.allocations
        return (f"activations: {self.total_bytes / mb:.2f} MB -> {self.peak_bytes / mb:.2f} MB "
                "(every intermediate kept -> peak, each freed after its last reader or its ctx's)\n"
                f"arena: {len(self.buffer_of)} op outputs in {len(self.buffers)} reused buffers, {self.in_place} "
                "written in place over their dying operand "
                f"({self.arena_bytes / mb:.2f} MB, allocated once); arrays allocated per call: {before} "
                f"({before_bytes / mb:.2f} MB) -> {after} ({after_bytes / mb:.2f} MB)")


def _lifetimes(units):
    """First writer and last reader of every slot (positions in ``units``); a ctx keeps what its node says it
    holds (``held_by_ctx``) alive until the ctx's last reader."""
    first_def, last_use = {}, {}
    for p, (_, node) in enumerate(units):
        for s in node.writes():
            first_def.setdefault(s, p)
            last_use.setdefault(s, p)
        for s in node.reads():
            last_use[s] = p
    extended = dict(last_use)
    for p, (_, node) in enumerate(units):
        for ctx_slot, held in node.held_by_ctx():
            end = last_use.get(ctx_slot, p)
            for s in held:
                extended[s] = max(extended.get(s, p), end)
    return first_def, last_use, extended


def _owned_bytes(info) -> int:
    """Bytes of memory a value slot's array owns (0 for a view of another slot)."""
    if info.alias is not None or info.shape is None:
        return 0
    return int(np.prod(info.shape)) * np.dtype(info.dtype).itemsize


def _root(graph, s):
    alias = graph.slots[s].alias
    return s if alias is None else alias


def _escaping_roots(graph):
    """Memory that outlives the call or leaves the graph: returned values, gradients handed to ``.grad``, host
    results."""
    escaping = set(graph.output_slots())
    for node in graph.nodes:
        escaping.update(node.escaping())
    return {_root(graph, s) for s in escaping}


def plan_memory(graph, writers=None) -> MemoryPlan:
    """Lifetimes of the ``value`` and ``ctx`` slots of ``graph`` (inputs, externals and outputs live on), and the
    arena for the values in ``writers`` (output slot -> out-writer from ``lowering.out_writer`` of the node, or
    member, that computes it)."""
    keep = graph.output_slots()
    units = graph.units()  # a node that replaced others counts as those others, run in order
    first_def, last_use, extended = _lifetimes(units)
    free_after = [[] for _ in graph.nodes]
    for s, p in last_use.items():
        if s in keep or graph.slots[s].kind not in ("value", "ctx"):
            continue
        free_after[units[p][0]].append(s)
    owned = {s: _owned_bytes(graph.slots[s]) for s in first_def if graph.slots[s].kind == "value"}
    total = sum(owned.values())
    # a value stays in memory until its last reader, or its ctx's last reader when backward saved it
    released = [[] for _ in units]
    for s, end in extended.items():
        if s in owned and s not in keep:
            released[end].append(s)
    live = peak = 0
    for p, (_, node) in enumerate(units):
        for s in node.writes():
            if first_def.get(s) == p:
                live += owned.get(s, 0)
        peak = max(peak, live)
        for s in released[p]:
            live -= owned[s]
    buffer_of, buffers, in_place = _assign_buffers(graph, units, writers or {}, extended)
    allocating = [s for s, size in owned.items() if size and units[first_def[s]][1].makes_arrays]
    after = [s for s in allocating if s not in buffer_of]
    allocations = (len(allocating), sum(owned[s] for s in allocating), len(after), sum(owned[s] for s in after))
    return MemoryPlan(free_after, total, peak, buffer_of, buffers, allocations, in_place)


def _assign_buffers(graph, units, writers, extended):
    """Greedy interval packing: each lowered output takes a free buffer of its shape and dtype whose last value
    died before this node, or a new one. In-place reuse: a node may also take the buffer of an operand of its
    own shape whose value dies at this very node when its writer allows it (``overwritable_operands``: an
    elementwise op's ufunc reads and writes each element at the same index; a fused loop declares its pointers
    ``restrict``, so it allows none)."""
    roots_end = {}
    for s, end in extended.items():
        if graph.slots[s].kind == "value":
            r = _root(graph, s)
            roots_end[r] = max(roots_end.get(r, end), end)
    escaping = _escaping_roots(graph)
    buffer_of, buffers, busy_until, holder, in_place_count = {}, [], [], [], 0
    for i, (index, node) in enumerate(units):
        s = node.outputs[0] if node.outputs else None
        if s not in writers:
            continue
        info = graph.slots[s]
        if info.alias is not None or s in escaping:
            continue
        end = roots_end.get(s, i)
        key = (tuple(info.shape), info.dtype)
        in_place = graph.nodes[index].overwritable_operands()  # a member: as the node that replaced it allows
        chosen = None
        for b, (spec, until) in enumerate(zip(buffers, busy_until)):
            if spec == key and (until < i or (until == i and holder[b] in in_place)):
                chosen = b
                break
        if chosen is None:
            buffers.append(key)
            busy_until.append(end)
            holder.append(s)
            chosen = len(buffers) - 1
        else:
            in_place_count += busy_until[chosen] == i
            busy_until[chosen] = end
            holder[chosen] = s
        buffer_of[s] = chosen
    return buffer_of, buffers, in_place_count
