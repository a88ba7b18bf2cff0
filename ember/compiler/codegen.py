"""C code generation for elementwise fusion groups: one loop computes a whole chain, no intermediate arrays.

``passes/fusion.py`` finds runs of elementwise ops whose intermediates have one reader and are not kept for a
backward, and asks :func:`fusion_expression` for the run's C expression: each member contributes its op's
``c_form`` fact (ember/ops/registry.py), the float32 operation NumPy performs, in the same order
(``-ffp-contract=off``), so the fused result equals the unfused one bit for bit. Ops without an exact C form
(transcendentals, broadcasting, integer or mixed dtypes, an ``alpha``) give no expression: the executor then
runs the members one by one. :func:`compile_fusion` turns a ``FusedNode``'s expression into one C function
over its operands (float32 arrays of the output's shape, or Python numbers): the loop skeleton is the template
ember/kernels/fused_group.c (its helpers come from the shared ember_kernels.h), compiled through
:mod:`ember.kernels.loader` (cached on disk by source).

>>> import ember
>>> from ember.compiler.capture import capture
>>> def f(x, y):
...     with ember.no_grad():
...         return (x * 2.0 + y).relu()
>>> graph = capture(f, (ember.ones(3), ember.ones(3)), {}).graph
>>> inputs, expression = fusion_expression(graph, graph.nodes)
>>> inputs, expression
([0, 1], 'ember_relu(((in0 * 2.0f) + in1))')
"""

from __future__ import annotations

import hashlib
import string

import numpy as np

from ember.compiler.graph import readable_expression
from ember.kernels.loader import available, load_kernels, pointer, read_source

__all__ = ["fusion_expression", "compile_fusion", "FusedGroup"]

_F32 = np.dtype(np.float32)


def _literal(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    single = np.float32(value)
    if not np.isfinite(single):
        return {np.inf: "INFINITY", -np.inf: "(-INFINITY)"}.get(float(single), "NAN")
    return repr(float(single)) + "f"


class FusedGroup:
    """One compiled fusion group: ``run(env, out)`` writes the chain's result for the slots in ``env``."""

    def __init__(self, lib, name, input_slots, output_slot, shape, expression):
        self.function = getattr(lib, name)
        self.input_slots = input_slots
        self.output_slot = output_slot
        self.shape = shape
        self.expression = expression

    def run(self, env, out=None) -> bool:
        """Compute the group into ``out`` (or a new array) and store it in the output slot; False (nothing
        written) when an operand is not a C-contiguous float32 array of the planned shape."""
        arrays = [env[s] for s in self.input_slots]
        for a in arrays:
            if a.__class__ is not np.ndarray or a.dtype != _F32 or a.shape != self.shape or not a.flags.c_contiguous:
                return False
        if out is None:
            out = np.empty(self.shape, _F32)
        self.function(*[pointer(a) for a in arrays], pointer(out), out.size)
        env[self.output_slot] = out
        return True


def fusion_expression(graph, members):
    """``(operand slots, C expression over in0, in1 ...)`` computing the op nodes ``members`` (a fusion group) in
    one loop, or None when a member has no exact C form or an operand does not fit (see the module docstring)."""
    shape = graph.slots[members[-1].outputs[0]].shape
    inputs: dict = {}   # external slot -> C name
    values: dict = {}   # slot produced inside the group -> C expression
    for node in members:
        form = node.op.c_form
        if form is None or node.attrs or node.attr_slots or node.ctx_slot is not None \
                or len(node.inputs) != 1 + ("{b}" in form):
            return None
        if graph.slots[node.outputs[0]].dtype != "float32":
            return None
        operands = []
        for slot, scalar, cast in zip(node.inputs, node.scalars, node.casts):
            if slot is None:
                literal = _literal(scalar)
                if literal is None:
                    return None
                operands.append(literal)
            elif slot in values:
                operands.append(values[slot])
            else:
                info = graph.slots[slot]
                if cast is not None or info.dtype != "float32" or info.shape != shape:
                    return None
                inputs.setdefault(slot, f"in{len(inputs)}")
                operands.append(inputs[slot])
        values[node.outputs[0]] = form.format(a=operands[0], b=operands[1] if len(operands) > 1 else "")
    return list(inputs), values[members[-1].outputs[0]]


def compile_fusion(node, shape):
    """The :class:`FusedGroup` running ``node`` (a ``FusedNode`` with an expression) on arrays of ``shape``, or
    None without a C compiler."""
    if not available() or node.expression is None:
        return None
    names = {slot: f"in{k}" for k, slot in enumerate(node.inputs)}
    expression = node.expression
    name = "ember_fused_" + hashlib.sha256(f"{len(names)}:{expression}".encode()).hexdigest()[:16]
    fields = {"name": name, "expression": expression,
              "inputs": "".join(f"const float* restrict {names[s]}_, " for s in node.inputs),
              "loads": " ".join(f"float {names[s]} = {names[s]}_[i];" for s in node.inputs)}
    source = string.Template(read_source("fused_group.c")).substitute(fields)
    lib = load_kernels(source, string.Template(read_source("fused_group.h")).substitute(fields))
    if lib is None:
        return None
    return FusedGroup(lib, name, list(node.inputs), node.outputs[0], shape, readable_expression(expression))
