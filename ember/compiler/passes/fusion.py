"""Fusion: scale/mask/softmax chains (``softmax_chain.py``), then runs of elementwise ops, each become one node.

An elementwise group is a run of elementwise op nodes where every value passed along the run is read only by
the next member, so one pass can compute the group without writing the intermediates. It becomes a
:class:`~ember.compiler.graph.FusedNode` holding its members and, when every member has an exact C form
(``codegen.fusion_expression``), the C expression of the loop the executor compiles; otherwise the executor
runs the members one by one, and ``explain`` says so.

>>> import ember
>>> from ember.compiler.capture import capture
>>> graph = capture(lambda x: ((x * 2) + 1).tanh().sum(), (ember.ones(4),), {}).graph
>>> fused, summary = fuse(graph)
>>> summary, [n.kind for n in fused.nodes], [m.op.name for m in fused.nodes[0].members]
('fusion: 1 groups, 0 scale/mask/softmax chains', ['fused', 'op'], ['mul', 'add', 'tanh'])
"""

from __future__ import annotations

from ember.compiler.codegen import fusion_expression
from ember.compiler.graph import FusedNode
from ember.compiler.passes.softmax_chain import fuse_softmax_chains

__all__ = ["fuse", "fuse_elementwise"]


def fuse(graph):
    """``(graph with its softmax chains and elementwise groups fused, summary line)``. Chains go first: a scale
    that could end an elementwise group runs inside its chain's row pass instead."""
    graph, chains = fuse_softmax_chains(graph)
    graph, groups = fuse_elementwise(graph)
    return graph, f"fusion: {groups} groups, {chains} scale/mask/softmax chains"


def _groups(graph) -> list:
    """Lists of node indices, each a fusable run of two or more elementwise ops."""
    readers = graph.readers()
    outputs = graph.output_slots()
    groups = []
    current = []
    for i, node in enumerate(graph.nodes):
        elementwise = node.kind == "op" and node.op.kind == "elementwise" and node.inplace_target is None \
            and len(node.outputs) == 1
        if elementwise and current:
            previous = graph.nodes[current[-1]].outputs[0]
            # A member that saves its inputs for backward needs the intermediate written out: not fusable.
            if previous in node.inputs and readers.get(previous) == [i] and previous not in outputs \
                    and node.ctx_slot is None:
                current.append(i)
                continue
        if len(current) > 1:
            groups.append(current)
        current = [i] if elementwise else []
    if len(current) > 1:
        groups.append(current)
    return groups


def fuse_elementwise(graph):
    """``(graph with each elementwise group as one FusedNode at its first member's place, number of groups)``."""
    changes = {}
    groups = _groups(graph)
    for group in groups:
        members = [graph.nodes[i] for i in group]
        found = fusion_expression(graph, members)
        changes[group[0]] = [FusedNode(members, found[1] if found is not None else None)]
        changes.update({i: [] for i in group[1:]})
    return graph.edited(changes), len(groups)
