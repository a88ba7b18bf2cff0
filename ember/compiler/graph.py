"""The captured graph: a flat list of nodes over numbered value slots, and its printer.

A slot holds one NumPy array (or an autograd ctx) while the graph runs. Slots are filled by the call's
tensor arguments (``input``), by live reads of tensors that exist outside the call (``external``:
parameters, buffers, optimizer state, constants), or by the nodes (``value``).

Node kinds:

- :class:`OpNode`: one registered op (forward on arrays), possibly in place on a slot;
- :class:`BackwardNode`: the backward of a recorded op, run through the autograd engine's own call;
- :class:`AccumulateNode`: a leaf's ``.grad`` accumulation, as ``loss.backward()`` does it;
- :class:`HostNode`: Python work that runs as it is at every call (``optimizer.step()``, ``zero_grad()``,
  drawing a dropout mask), bound to the live objects it reads and writes.

>>> g = Graph()
>>> g.new_slot("input", (2,), "float32", 8)
0
>>> print(g.format())
graph: 0 nodes, 1 slots
"""

from __future__ import annotations

__all__ = ["Graph", "OpNode", "BackwardNode", "AccumulateNode", "HostNode", "SlotInfo"]


class SlotInfo:
    """What one slot held at capture time: its kind, shape, dtype name and owned bytes."""

    __slots__ = ("kind", "shape", "dtype", "nbytes", "owner", "alias")

    def __init__(self, kind, shape=None, dtype=None, nbytes=0, owner=None):
        self.kind = kind
        self.shape = shape
        self.dtype = dtype
        self.nbytes = nbytes
        self.owner = owner  # the live tensor an external slot is read from
        self.alias = None   # the slot whose memory this one's array shares (a view, or the same array), if any

    def describe(self) -> str:
        if self.shape is None:
            return self.kind
        return f"{self.dtype}{list(self.shape)}"


class OpNode:
    """One registered op call: ``outputs = op.forward(*inputs, **attrs)`` (or written into ``inplace_target``)."""

    kind = "op"

    def __init__(self, op, inputs, scalars, casts, attrs, attr_slots, outputs, line, grad_enabled):
        self.op = op
        self.inputs = inputs            # slot per positional operand, or None for a Python value
        self.scalars = scalars          # the Python value per operand (None where the operand is a tensor)
        self.casts = casts              # NumPy dtype each operand is cast to before forward, or None
        self.attrs = attrs              # keyword attributes, unchanged
        self.attr_slots = attr_slots    # ((name, slot), ...): array attributes produced inside the graph
        self.outputs = outputs          # slots of the outputs (None for an output that is None)
        self.line = line
        self.grad_enabled = grad_enabled
        self.inplace_target = None      # slot written in place (``add_`` ...)
        self.inplace_path = None        # "ufunc", "inplace_forward" or "copy": how eager wrote it
        self.snapshot = False           # whether backward reads a copy of the target taken before the write
        self.ctx_slot = None            # slot holding the autograd ctx when a BackwardNode reads it
        self.ctx_meta = None            # (requires_grad per operand, next-edge mask, input_meta, output_meta)
        self.pure = False               # may be removed or merged by DCE/CSE

    def reads(self):
        slots = [s for s in self.inputs if s is not None]
        slots.extend(s for _, s in self.attr_slots)
        if self.inplace_target is not None:
            slots.append(self.inplace_target)
        return slots

    def writes(self):
        return [s for s in self.outputs if s is not None] + ([self.ctx_slot] if self.ctx_slot is not None else [])

    def kept_operands(self, dropped=None) -> tuple:
        """One bool per operand: whether the ctx keeps it for backward, by the op's ``keep_inputs`` (all by
        default), less the operand at position ``dropped`` that a remat pass recomputes instead."""
        op = self.op
        kept = op.keep_inputs(self.ctx_meta[1]) if op.keep_inputs is not None and self.ctx_meta is not None \
            else (True,) * len(self.inputs)
        return tuple(k and i != dropped for i, k in enumerate(kept))

    def label(self) -> str:
        name = self.op.name + ("_" if self.inplace_target is not None else "")
        return f"{name}({_slots(self.inputs, self.scalars)}{_attrs(self.attrs, self.attr_slots)})"


class BackwardNode:
    """``grads_in = op.backward(ctx, *grads_out)`` for the OpNode whose ctx is in ``ctx_slot``."""

    kind = "backward"

    def __init__(self, forward_index, grad_inputs, outputs, line):
        self.forward_index = forward_index
        self.ctx_slot = None
        self.grad_inputs = grad_inputs
        self.outputs = outputs
        self.line = line
        self.op = None

    def reads(self):
        return [s for s in self.grad_inputs if s is not None] + [self.ctx_slot]

    def writes(self):
        return [s for s in self.outputs if s is not None]

    def label(self) -> str:
        return f"{self.op.name}_backward(ctx=%{self.ctx_slot}, {_slots(self.grad_inputs, None)})"


class AccumulateNode:
    """Add the gradient in ``grad_slot`` to ``leaf.grad`` (or set it), exactly as the engine does."""

    kind = "accumulate"

    def __init__(self, leaf, grad_slot, output, name):
        self.leaf = leaf
        self.grad_slot = grad_slot
        self.outputs = (output,)
        self.name = name
        self.line = None

    def reads(self):
        return [self.grad_slot]

    def writes(self):
        return [self.outputs[0]]

    def label(self) -> str:
        return f"accumulate_grad({self.name}, %{self.grad_slot})"


class HostNode:
    """Python work rerun at every call (it reads and writes live objects); ``run()`` returns its outputs."""

    kind = "host"

    def __init__(self, description, run, outputs=(), line=None):
        self.description = description
        self.run = run
        self.outputs = tuple(outputs)
        self.line = line

    def reads(self):
        return []

    def writes(self):
        return list(self.outputs)

    def label(self) -> str:
        return f"host: {self.description}"


def _slots(slots, scalars) -> str:
    parts = []
    for i, s in enumerate(slots):
        if s is None:
            parts.append("None" if scalars is None else repr(scalars[i]))
        else:
            parts.append(f"%{s}")
    return ", ".join(parts)


def _attrs(attrs, attr_slots) -> str:
    slot_names = {name: s for name, s in attr_slots}
    parts = []
    for k, v in attrs.items():
        if k in slot_names:
            parts.append(f"{k}=%{slot_names[k]}")
        elif hasattr(v, "shape") and hasattr(v, "dtype"):
            parts.append(f"{k}=<array {v.dtype}{list(v.shape)}>")
        else:
            text = repr(v)
            parts.append(f"{k}={text if len(text) < 40 else text[:37] + '...'}")
    return (", " + ", ".join(parts)) if parts else ""


class Graph:
    """Nodes in execution order plus the slot table; ``format()`` renders it for ``explain``."""

    def __init__(self):
        self.nodes: list = []
        self.slots: list[SlotInfo] = []
        self.outputs_spec = None     # how to rebuild the function's return value from slots
        self.input_slots: list = []  # slot per flattened tensor argument
        self.externals: list = []    # (slot, live tensor)
        self.constants: list = []    # slots holding arrays made in the call by creation functions (owner: value)

    def new_slot(self, kind, shape=None, dtype=None, nbytes=0, owner=None) -> int:
        self.slots.append(SlotInfo(kind, shape, dtype, nbytes, owner))
        return len(self.slots) - 1

    def output_slots(self) -> set:
        found = set()

        def walk(spec):
            tag = spec[0]
            if tag in ("slot", "made"):
                found.add(spec[1])
            elif tag in ("tuple", "list"):
                for item in spec[2]:
                    walk(item)
            elif tag == "dict":
                for item in spec[2].values():
                    walk(item)

        if self.outputs_spec is not None:
            walk(self.outputs_spec)
        return found

    def format(self) -> str:
        counts = {}
        for n in self.nodes:
            counts[n.kind] = counts.get(n.kind, 0) + 1
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        lines = [f"graph: {len(self.nodes)} nodes{' (' + summary + ')' if summary else ''}, {len(self.slots)} slots"]
        for i, n in enumerate(self.nodes):
            outs = ", ".join("_" if s is None else f"%{s}" for s in n.outputs) if n.outputs else ""
            target = f"%{n.inplace_target} <- " if getattr(n, "inplace_target", None) is not None else ""
            lhs = f"{outs} = " if outs else target
            shape = ""
            if n.outputs and n.outputs[0] is not None and self.slots[n.outputs[0]].shape is not None:
                shape = f"  : {self.slots[n.outputs[0]].describe()}"
            lines.append(f"  {i:4d}  {lhs}{n.label()}{shape}")
        return "\n".join(lines)
