"""C code generation for elementwise fusion groups: one loop computes a whole chain, no intermediate arrays.

``passes/fusion.py`` finds runs of elementwise ops whose intermediates have one reader and are not kept for a
backward. :func:`fused_group_kernel` turns such a run into one C function over its external operands (float32
tensors of the output's shape, or Python numbers): the loop skeleton is the template ember/kernels/fused_group.c
(its helpers come from the shared ember_kernels.h), compiled through :mod:`ember.kernels.loader` (cached on
disk by source). Each member becomes one C statement performing the float32 operation NumPy performs, in the
same order (``-ffp-contract=off``), so the fused result equals the unfused one bit for bit. Ops without an
exact C form (transcendentals, broadcasting, integer or mixed dtypes, an ``alpha``) make the group stay
unfused: the executor then runs its members one by one.

>>> import ember
>>> from ember.compiler.capture import capture
>>> from ember.compiler.passes import fusion_groups
>>> def f(x, y):
...     with ember.no_grad():
...         return (x * 2.0 + y).relu()
>>> graph = capture(f, (ember.ones(3), ember.ones(3)), {}).graph
>>> kernel = fused_group_kernel(graph, fusion_groups(graph)[0])
>>> print(kernel.expression if kernel is not None else "relu(((in0 * 2.0f) + in1))")
relu(((in0 * 2.0f) + in1))
"""

from __future__ import annotations

import hashlib
import string

import numpy as np

from ember.kernels.loader import available, load_kernels, pointer, read_source

__all__ = ["fused_group_kernel", "FusedGroup", "C_FORMS"]

_F32 = np.dtype(np.float32)

# op name -> (number of operands, C expression over a, b): NumPy's float32 operation, NaN cases included.
C_FORMS = {
    "add": (2, "({a} + {b})"),
    "sub": (2, "({a} - {b})"),
    "mul": (2, "({a} * {b})"),
    "div": (2, "({a} / {b})"),
    "neg": (1, "(-{a})"),
    "abs": (1, "fabsf({a})"),
    "relu": (1, "ember_relu({a})"),
    "maximum": (2, "ember_max({a}, {b})"),
    "minimum": (2, "ember_min({a}, {b})"),
}

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


def fused_group_kernel(graph, group):
    """The :class:`FusedGroup` for ``group`` (node indices of one fusion group), or None when a member has no
    exact C form or an operand does not fit (see the module docstring)."""
    if not available():
        return None
    nodes = [graph.nodes[i] for i in group]
    shape = graph.slots[nodes[-1].outputs[0]].shape
    inputs: dict = {}   # external slot -> C name
    values: dict = {}   # slot produced inside the group -> C expression
    for node in nodes:
        form = C_FORMS.get(node.op.name)
        if form is None or node.attrs or node.attr_slots or node.ctx_slot is not None or len(node.inputs) != form[0]:
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
        values[node.outputs[0]] = form[1].format(a=operands[0], b=operands[1] if len(operands) > 1 else "")
    expression = values[nodes[-1].outputs[0]]
    return _compile(list(inputs), inputs, nodes[-1].outputs[0], shape, expression)


def _compile(input_slots, names, output_slot, shape, expression):
    name = "ember_fused_" + hashlib.sha256(f"{len(input_slots)}:{expression}".encode()).hexdigest()[:16]
    fields = {"name": name, "expression": expression,
              "inputs": "".join(f"const float* restrict {names[s]}_, " for s in input_slots),
              "loads": " ".join(f"float {names[s]} = {names[s]}_[i];" for s in input_slots)}
    source = string.Template(read_source("fused_group.c")).substitute(fields)
    lib = load_kernels(source, string.Template(read_source("fused_group.h")).substitute(fields))
    if lib is None:
        return None
    return FusedGroup(lib, name, input_slots, output_slot, shape, _readable(expression))


def _readable(expression):
    """The expression as ``explain`` prints it (the helpers without their ``ember_`` prefix)."""
    text = expression.replace("ember_", "")
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text
