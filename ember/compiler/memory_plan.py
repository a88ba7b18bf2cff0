"""Memory planning: each value's lifetime, freeing it after its last reader, and one arena of buffers that the
ops able to write with ``out=`` (see ``lowering``) reuse across the step and across calls.

Eager mode keeps every activation alive until backward has used it (the autograd graph holds it); the
replayed graph drops each intermediate array right after its last reader, and values computed by
out-capable ops live in arena buffers: a buffer is shared by values of one shape and dtype whose lifetimes
do not overlap. A value's lifetime covers its views and, when an autograd ctx holds it (saved for
backward), the ctx's last reader. ``plan_memory`` returns, per node, the slots to release after it runs,
the buffer of each lowered node, and the figures ``explain`` prints ("activations: X MB -> Y MB").

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
    """``free_after[i]``: slots released after node ``i``; ``buffer_of[i]``: arena buffer index of lowered node ``i``;
    ``buffers``: (shape, dtype name) per arena buffer; byte figures for ``describe``."""

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


def _held_by_ctx(graph, i, node):
    """The slots the autograd ctx of op node ``i`` may hold until its backward: the operands the op saves (less
    the ones its ``keep_inputs`` or a remat pass drops), its results when it saves its output, and everything
    when its forward takes the ctx (it may stash any operand or result there)."""
    op = node.op
    attr_slots = [slot for _, slot in node.attr_slots]
    if op.takes_ctx:
        return [*node.inputs, *node.outputs, *attr_slots]
    held = list(attr_slots)
    if op.save_inputs:
        dropped = getattr(graph, "recompute", {}).get(i)
        kept = node.kept_operands(dropped[0] if dropped is not None else None)
        held += [s for s, keep in zip(node.inputs, kept) if keep]
    if op.save_output:
        held += node.outputs
    return held


def _lifetimes(graph):
    """First writer and last reader of every slot; a ctx keeps what its op saves alive until its last reader."""
    first_def, last_use = {}, {}
    for i, node in enumerate(graph.nodes):
        for s in node.writes():
            first_def.setdefault(s, i)
            last_use.setdefault(s, i)
        for s in node.reads():
            last_use[s] = i
    for chain in getattr(graph, "softmax_chains", ()):  # its fused pass runs at the softmax's place
        for j in chain.forward_nodes():
            for s in graph.nodes[j].reads():
                last_use[s] = max(last_use[s], chain.softmax)
    extended = dict(last_use)
    for i, node in enumerate(graph.nodes):
        if node.kind == "op" and node.ctx_slot is not None:
            end = last_use.get(node.ctx_slot, i)
            for s in _held_by_ctx(graph, i, node):
                if s is not None:
                    extended[s] = max(extended.get(s, i), end)
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
        if node.kind == "accumulate":
            escaping.add(node.grad_slot)
            escaping.update(node.outputs)
        elif node.kind == "host":
            escaping.update(node.outputs)
    return {_root(graph, s) for s in escaping}


def plan_memory(graph, writers=None) -> MemoryPlan:
    """Lifetimes of the ``value`` and ``ctx`` slots of ``graph`` (inputs, externals and outputs live on), and the
    arena for the nodes in ``writers`` (node index -> out-writer from ``lowering.out_writer``)."""
    keep = graph.output_slots()
    first_def, last_use, extended = _lifetimes(graph)
    free_after = [[] for _ in graph.nodes]
    for s, i in last_use.items():
        if s in keep or graph.slots[s].kind not in ("value", "ctx"):
            continue
        free_after[i].append(s)
    owned = {s: _owned_bytes(graph.slots[s]) for s in first_def if graph.slots[s].kind == "value"}
    total = sum(owned.values())
    # a value stays in memory until its last reader, or its ctx's last reader when backward saved it
    released = [[] for _ in graph.nodes]
    for s, end in extended.items():
        if s in owned and s not in keep:
            released[end].append(s)
    live = peak = 0
    for i, node in enumerate(graph.nodes):
        for s in node.writes():
            if first_def.get(s) == i:
                live += owned.get(s, 0)
        peak = max(peak, live)
        for s in released[i]:
            live -= owned[s]
    buffer_of, buffers, in_place = _assign_buffers(graph, writers or {}, extended)
    allocating = [s for s, size in owned.items() if size and graph.nodes[first_def[s]].kind in ("op", "backward")]
    lowered = {graph.nodes[i].outputs[0] for i in buffer_of}
    after = [s for s in allocating if s not in lowered]
    allocations = (len(allocating), sum(owned[s] for s in allocating), len(after), sum(owned[s] for s in after))
    return MemoryPlan(free_after, total, peak, buffer_of, buffers, allocations, in_place)


def _assign_buffers(graph, writers, extended):
    """Greedy interval packing: each lowered output takes a free buffer of its shape and dtype whose last value
    died before this node, or a new one. In-place reuse: an elementwise op may also take the buffer of an
    operand of its own shape whose value dies at this very op (a ufunc reads and writes each element at the
    same index), except inside a fusion group, whose generated loop declares its pointers ``restrict``."""
    roots_end = {}
    for s, end in extended.items():
        if graph.slots[s].kind == "value":
            r = _root(graph, s)
            roots_end[r] = max(roots_end.get(r, end), end)
    escaping = _escaping_roots(graph)
    grouped = {i for group in getattr(graph, "fusion_groups", ()) for i in group}
    buffer_of, buffers, busy_until, holder, in_place_count = {}, [], [], [], 0
    for i in sorted(writers):
        node = graph.nodes[i]
        s = node.outputs[0]
        info = graph.slots[s]
        if info.alias is not None or s in escaping:
            continue
        end = roots_end.get(s, i)
        key = (tuple(info.shape), info.dtype)
        in_place = set(node.inputs) if node.op.kind == "elementwise" and i not in grouped else set()
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
        buffer_of[i] = chosen
    return buffer_of, buffers, in_place_count
