"""Elementwise fusion grouping: chains of elementwise ops whose intermediates have one reader.

Each group is a run of elementwise op nodes where every value passed along the chain is read only by the
next member, so one pass can compute the group without writing the intermediates: ``codegen.py`` generates
that C loop when every member has an exact C form, and otherwise the executor runs the members one by one;
``explain`` prints the groups and which of the two runs.

>>> import ember
>>> from ember.compiler.capture import capture
>>> graph = capture(lambda x: ((x * 2) + 1).tanh().sum(), (ember.ones(4),), {}).graph
>>> [[graph.nodes[i].op.name for i in group] for group in fusion_groups(graph)]
[['mul', 'add', 'tanh']]
"""

from __future__ import annotations

__all__ = ["fusion_groups"]


def fusion_groups(graph) -> list:
    """Lists of node indices, each a fusable chain of two or more elementwise ops."""
    readers = {}
    for i, node in enumerate(graph.nodes):
        for s in node.reads():
            readers.setdefault(s, []).append(i)
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
