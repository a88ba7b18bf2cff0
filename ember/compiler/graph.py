"""The captured graph: a flat list of nodes over numbered value slots, and its printer.

A slot holds one NumPy array (or an autograd ctx) while the graph runs. Slots are filled by the call's
tensor arguments (``input``), by live reads of tensors that exist outside the call (``external``:
parameters, buffers, optimizer state, constants), or by the nodes (``value``).

Capture records four kinds of node:

- :class:`OpNode`: one registered op (forward on arrays), possibly in place on a slot;
- :class:`BackwardNode`: the backward of a recorded op, run through the autograd engine's own call;
- :class:`AccumulateNode`: a leaf's ``.grad`` accumulation, as ``loss.backward()`` does it;
- :class:`HostNode`: Python work that runs as it is at every call (``optimizer.step()``, ``zero_grad()``,
  drawing a dropout mask), bound to the live objects it reads and writes.

The passes (``passes/``) rewrite a graph into a new one, replacing captured nodes by these:

- :class:`FusedNode`: a run of elementwise ops as one generated C loop (``passes/fusion.py``);
- :class:`SoftmaxChainNode` and :class:`SoftmaxChainBackwardNode`: ``softmax(masked_fill(x * scale, mask, v))``
  and its backward as one row pass each (``passes/softmax_chain.py``);
- :class:`FoldedConvolutionNode`: an evaluation-mode batch norm folded into the convolution before it
  (``passes/fold_batchnorm.py``);
- :class:`RecomputeNode`: a saved operand recomputed just before its consumer's backward; and
  :class:`DropProbabilitiesNode` / :class:`RecomputeProbabilitiesNode`: attention probabilities dropped after
  their matmul and recomputed before its backward (``passes/remat.py``).

Every node says which slots it reads and may write (``reads()``/``writes()``), what an autograd ctx it writes
keeps alive (``held_by_ctx()``) and how it prints (``label()``): the memory plan and the executor need nothing
else. A node that replaces others (a :class:`CompositeNode`) lists them as its ``members`` and writes every
slot they wrote, though its fused path may leave the intermediate ones empty; the memory plan accounts for it as for its members run one
by one (what it runs when the fused path does not apply). Nodes are not modified once a graph holds them: a
pass that changes one makes a copy (``replaced``).

>>> g = Graph()
>>> g.new_slot("input", (2,), "float32", 8)
0
>>> print(g.format())
graph: 0 nodes, 1 slots
"""

from __future__ import annotations

import copy

__all__ = ["Graph", "SlotInfo", "Node", "OpNode", "BackwardNode", "AccumulateNode", "HostNode", "CompositeNode",
           "FusedNode", "SoftmaxChainNode", "SoftmaxChainBackwardNode", "FoldedConvolutionNode", "RecomputeNode",
           "DropProbabilitiesNode", "RecomputeProbabilitiesNode"]


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

    def replaced(self, **changes) -> SlotInfo:
        """A copy with ``changes`` applied (a pass never modifies the slot table of the graph it was given)."""
        new = SlotInfo(self.kind, self.shape, self.dtype, self.nbytes, self.owner)
        new.alias = self.alias
        for name, value in changes.items():
            setattr(new, name, value)
        return new


class Node:
    """What every node has (see the module docstring); subclasses set ``kind`` and the slots they touch."""

    kind = ""
    outputs = ()            # the slots its readers read (printed left of ``=``)
    line = None             # the user's source line that recorded it, when known
    inplace_target = None   # the slot an in-place op writes
    makes_arrays = True     # its outputs are arrays it computes (not ``.grad`` or a host call's result)
    members = ()            # the captured nodes a pass replaced by this one, in their order

    def reads(self) -> list:
        return []

    def writes(self) -> list:
        return [s for s in self.outputs if s is not None]

    def held_by_ctx(self) -> tuple:
        """``(ctx slot, slots)`` pairs: the values an autograd ctx this node writes keeps until its last reader."""
        return ()

    def overwritable_operands(self) -> frozenset:
        """Operands whose buffer the node's out= writer may write over when they die at this node."""
        return frozenset()

    def escaping(self) -> tuple:
        """Slots whose memory leaves the graph here (handed to ``.grad``, returned by host work)."""
        return ()

    def replaced(self, **changes):
        """A copy with ``changes`` applied to declared attributes."""
        new = copy.copy(self)
        for name, value in changes.items():
            if not hasattr(self, name):
                raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
            setattr(new, name, value)
        return new

    def renamed(self, rename: dict):
        """This node reading ``rename.get(slot, slot)`` for each slot it reads (itself when none is renamed)."""
        if any(s in rename for s in self.reads()):
            raise NotImplementedError(f"{type(self).__name__} cannot have its operands renamed: run the passes that "
                                      "rename slots (cse, simplify) before the pass that makes it")
        return self

    def label(self) -> str:
        return self.kind


def _renamed_slots(slots, rename):
    return tuple(None if s is None else rename.get(s, s) for s in slots)


class OpNode(Node):
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
        self.recomputed_operand = None  # operand the ctx does not keep: a RecomputeNode restores it (remat)

    def reads(self):
        slots = [s for s in self.inputs if s is not None]
        slots.extend(s for _, s in self.attr_slots)
        if self.inplace_target is not None:
            slots.append(self.inplace_target)
        return slots

    def writes(self):
        return [s for s in self.outputs if s is not None] + ([self.ctx_slot] if self.ctx_slot is not None else [])

    def kept_operands(self) -> tuple:
        """One bool per operand: whether the ctx keeps it for backward, by the op's ``keep_inputs`` (all by
        default), less the ``recomputed_operand``."""
        op = self.op
        kept = op.keep_inputs(self.ctx_meta[1]) if op.keep_inputs is not None and self.ctx_meta is not None \
            else (True,) * len(self.inputs)
        return tuple(k and i != self.recomputed_operand for i, k in enumerate(kept))

    def held_by_ctx(self):
        """The slots the ctx may hold until its backward: the operands the op saves (less the ones it does not
        keep), its results when it saves its output, and everything when its forward takes the ctx (it may stash
        any operand or result there)."""
        if self.ctx_slot is None:
            return ()
        op = self.op
        held = [slot for _, slot in self.attr_slots]
        if op.takes_ctx:
            held += [*self.inputs, *self.outputs]
        else:
            if op.save_inputs:
                held += [s for s, keep in zip(self.inputs, self.kept_operands()) if keep]
            if op.save_output:
                held += self.outputs
        return ((self.ctx_slot, [s for s in held if s is not None]),)

    def overwritable_operands(self):
        # a ufunc reads and writes each element at the same index
        return frozenset(self.inputs) if self.op.kind == "elementwise" else frozenset()

    def renamed(self, rename):
        inputs = _renamed_slots(self.inputs, rename)
        attr_slots = tuple((n, rename.get(s, s)) for n, s in self.attr_slots)
        if inputs == self.inputs and attr_slots == self.attr_slots:
            return self
        return self.replaced(inputs=inputs, attr_slots=attr_slots)

    def label(self) -> str:
        name = self.op.name + ("_" if self.inplace_target is not None else "")
        return f"{name}({_slots(self.inputs, self.scalars)}{_attrs(self.attrs, self.attr_slots)})"


class BackwardNode(Node):
    """``grads_in = op.backward(ctx, *grads_out)`` for the OpNode that wrote the ctx in ``ctx_slot``."""

    kind = "backward"

    def __init__(self, op, ctx_slot, grad_inputs, outputs, line):
        self.op = op
        self.ctx_slot = ctx_slot        # also how passes find the forward node: the one that writes this slot
        self.grad_inputs = grad_inputs
        self.outputs = outputs
        self.line = line

    def reads(self):
        return [s for s in self.grad_inputs if s is not None] + [self.ctx_slot]

    def renamed(self, rename):
        grad_inputs = _renamed_slots(self.grad_inputs, rename)
        return self if grad_inputs == self.grad_inputs else self.replaced(grad_inputs=grad_inputs)

    def label(self) -> str:
        return f"{self.op.name}_backward(ctx=%{self.ctx_slot}, {_slots(self.grad_inputs, None)})"


class AccumulateNode(Node):
    """Add the gradient in ``grad_slot`` to ``leaf.grad`` (or set it), exactly as the engine does."""

    kind = "accumulate"
    makes_arrays = False

    def __init__(self, leaf, grad_slot, output, name):
        self.leaf = leaf
        self.grad_slot = grad_slot
        self.outputs = (output,)
        self.name = name

    def reads(self):
        return [self.grad_slot]

    def escaping(self):
        return (self.grad_slot, *self.outputs)

    def renamed(self, rename):
        return self if self.grad_slot not in rename else self.replaced(grad_slot=rename[self.grad_slot])

    def label(self) -> str:
        return f"accumulate_grad({self.name}, %{self.grad_slot})"


class HostNode(Node):
    """Python work rerun at every call (it reads and writes live objects); ``run()`` returns its outputs."""

    kind = "host"
    makes_arrays = False

    def __init__(self, description, run, outputs=(), line=None):
        self.description = description
        self.run = run
        self.outputs = tuple(outputs)
        self.line = line

    def escaping(self):
        return self.outputs

    def label(self) -> str:
        return f"host: {self.description}"


# ---------------------------------------------------------------------------------------------- pass nodes
def _external_reads(members) -> list:
    """The slots ``members`` (run in order) read that none of them wrote first, in order of first reading."""
    written, found = set(), []
    for member in members:
        for s in member.reads():
            if s not in written and s not in found:
                found.append(s)
        written.update(member.writes())
    return found


class CompositeNode(Node):
    """A node standing for the captured nodes a pass replaced by it (its ``members``): it reads what they read
    from outside and writes what they wrote.

    >>> import ember
    >>> from ember.compiler.capture import capture
    >>> graph = capture(lambda x, y: (x * y).relu(), (ember.ones(2), ember.ones(2)), {}).graph
    >>> fused = FusedNode(graph.nodes, "ember_relu((in0 * in1))")
    >>> fused.reads(), fused.writes(), fused.label()
    ([0, 1], [2, 3], 'fused[mul -> relu](%0, %1) = relu((in0 * in1))')
    """

    def reads(self):
        return _external_reads(self.members)

    def writes(self):
        return [s for member in self.members for s in member.writes()]


class FusedNode(CompositeNode):
    """A run of elementwise op nodes, each reading only the previous one's result: one generated C loop computes
    ``expression`` (C, over ``in0``, ``in1`` ... = ``inputs``) when every member has an exact C form, else (or
    when the operands do not fit the loop at run time) the members run one by one."""

    kind = "fused"

    def __init__(self, members, expression):
        self.members = tuple(members)   # the OpNodes, in order
        self.expression = expression    # the loop's float32 C expression, or None: run op by op
        self.inputs = tuple(_external_reads(self.members))
        self.outputs = (self.members[-1].outputs[0],)
        self.line = self.members[0].line

    def label(self) -> str:
        names = " -> ".join(m.op.name for m in self.members)
        how = f" = {readable_expression(self.expression)}" if self.expression is not None else ", op by op"
        return f"fused[{names}]({_slots(self.inputs, None)}){how}"


def readable_expression(expression: str) -> str:
    """A fusion loop's C expression as ``explain`` prints it (helpers without their ``ember_`` prefix).

    >>> readable_expression("ember_relu((in0 + 1.0f))")
    'relu((in0 + 1.0f))'
    """
    text = expression.replace("ember_", "")
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


class SoftmaxChainNode(CompositeNode):
    """``softmax(masked_fill(x * scale, mask, fill), -1)`` as one row pass (``scale`` and ``mask``, the member op
    nodes, may be None); it runs its members one by one when the arrays do not fit the kernel. With a backward,
    the softmax's ctx slot holds the fused pass's ctx (probabilities and mask) or, unfused, the softmax's own."""

    kind = "softmax_chain"

    def __init__(self, scale, mask, softmax):
        self.scale = scale
        self.mask = mask
        self.softmax = softmax
        self.members = tuple(n for n in (scale, mask, softmax) if n is not None)
        self.input = self.members[0].inputs[0]
        self.mask_input = mask.inputs[1] if mask is not None else None
        self.scale_value = scale.scalars[1] if scale is not None else None
        self.fill = float(mask.scalars[2]) if mask is not None else None
        self.ctx_slot = softmax.ctx_slot
        self.outputs = softmax.outputs
        self.line = softmax.line

    def label(self) -> str:
        scale = f" * {self.scale_value!r}" if self.scale is not None else ""
        mask = f", mask=%{self.mask_input}, fill={self.fill!r}" if self.mask is not None else ""
        return f"softmax_chain(%{self.input}{scale}{mask})"


class SoftmaxChainBackwardNode(CompositeNode):
    """The backward of a :class:`SoftmaxChainNode` as one row pass: ``members`` are the chain's backward nodes
    (softmax's, then the masked fill's and the scale's where present), each passing its gradient only to the
    next; they run one by one when the forward ran them one by one."""

    kind = "softmax_chain_backward"

    def __init__(self, members, scale_value):
        self.members = tuple(members)
        self.scale_value = scale_value
        self.grad_input = self.members[0].grad_inputs[0]
        self.ctx_slot = self.members[0].ctx_slot
        self.outputs = (self.members[-1].outputs[0],)

    def label(self) -> str:
        return f"softmax_chain_backward(ctx=%{self.ctx_slot}, %{self.grad_input})"


class FoldedConvolutionNode(CompositeNode):
    """``batch_norm(convolution(x, w, b))`` in evaluation as one convolution with a folded weight and bias (the
    member op nodes ``convolution`` and ``norm``), refolded only when a parameter or statistic changes."""

    kind = "folded_convolution"

    def __init__(self, convolution, norm):
        self.convolution = convolution
        self.norm = norm
        self.members = (convolution, norm)
        self.outputs = norm.outputs
        self.line = convolution.line

    def label(self) -> str:
        return (f"folded_convolution({_slots(self.convolution.inputs, self.convolution.scalars)}, "
                f"{self.norm.op.name}({_slots(self.norm.inputs[1:], self.norm.scalars[1:])}))")


class RecomputeNode(Node):
    """Puts back operand ``position`` of ``consumer``'s ctx (which did not keep it) by running ``producer``'s
    forward again on the inputs ``producer``'s own ctx keeps; it stands just before the consumer's backward."""

    kind = "recompute"

    def __init__(self, producer, consumer, position):
        self.producer = producer
        self.consumer = consumer
        self.position = position

    def reads(self):
        return [self.producer.ctx_slot, self.consumer.ctx_slot]

    def label(self) -> str:
        return (f"recompute {self.producer.op.name}(ctx=%{self.producer.ctx_slot}) into "
                f"ctx=%{self.consumer.ctx_slot}[{self.position}]")


class _AttentionProbabilities(Node):
    """Attention probabilities ``chain(scores @ k)`` fed to ``probabilities_matmul`` (``p @ v``)."""

    def __init__(self, scores_matmul, chain, probabilities_matmul):
        self.scores_matmul = scores_matmul
        self.chain = chain
        self.probabilities_matmul = probabilities_matmul

    def reads(self):
        return [self.scores_matmul.ctx_slot, self.chain.ctx_slot, self.probabilities_matmul.ctx_slot]

    def label(self) -> str:
        return (f"{self.kind}(ctx=%{self.probabilities_matmul.ctx_slot}, chain ctx=%{self.chain.ctx_slot}, "
                f"scores ctx=%{self.scores_matmul.ctx_slot})")


class DropProbabilitiesNode(_AttentionProbabilities):
    """After ``p @ v``: the matmul's ctx and the fused chain's stop keeping ``p`` (when the chain ran fused)."""

    kind = "drop_probabilities"


class RecomputeProbabilitiesNode(_AttentionProbabilities):
    """Before ``p @ v``'s backward: ``p`` again, from the scores matmul's kept ``q`` and ``k`` and the chain."""

    kind = "recompute_probabilities"


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
    """Nodes in execution order plus the slot table; ``format()`` renders it for ``explain``. Passes make new
    graphs (:meth:`rewritten`, :meth:`edited`) that share with this one what they do not change."""

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

    def rewritten(self, nodes, slots=None, constants=None) -> Graph:
        """A new graph with ``nodes`` (and, when given, a new slot table or constants list) in place of this
        one's; the rest is shared, and this graph is left as it was.

        >>> g = Graph(); g.nodes.append(HostNode("work", None))
        >>> new = g.rewritten([]); len(new.nodes), len(g.nodes), new.slots is g.slots
        (0, 1, True)
        """
        new = Graph()
        new.nodes = list(nodes)
        new.slots = self.slots if slots is None else slots
        new.outputs_spec = self.outputs_spec
        new.input_slots = self.input_slots
        new.externals = self.externals
        new.constants = self.constants if constants is None else constants
        return new

    def edited(self, changes: dict) -> Graph:
        """A new graph in which node ``i`` is replaced by the nodes of the list ``changes[i]`` (an empty list
        removes it; ``[extra, node]`` inserts ``extra`` before it); this graph itself when ``changes`` is empty.

        >>> g = Graph(); g.nodes.extend([HostNode("a", None), HostNode("b", None)])
        >>> [n.description for n in g.edited({0: [], 1: [HostNode("c", None), g.nodes[1]]}).nodes]
        ['c', 'b']
        """
        if not changes:
            return self
        nodes = []
        for i, node in enumerate(self.nodes):
            if i in changes:
                nodes.extend(changes[i])
            else:
                nodes.append(node)
        return self.rewritten(nodes)

    def units(self) -> list:
        """``(node index, node)`` for each node in order, a node's ``members`` in its place: the graph as it runs
        when no fused path applies (the memory plan accounts for it so; autograd replays it so).

        >>> g = Graph(); g.nodes.append(HostNode("work", None)); g.units()[0][0]
        0
        """
        return [(i, member) for i, node in enumerate(self.nodes) for member in node.members or (node,)]

    def readers(self) -> dict:
        """``{slot: [index of each node that reads it]}``."""
        found: dict = {}
        for i, node in enumerate(self.nodes):
            for s in node.reads():
                found.setdefault(s, []).append(i)
        return found

    def backward_of(self) -> dict:
        """``{ctx slot: index of the backward node that reads it}``: how a forward op node finds its backward."""
        return {node.ctx_slot: i for i, node in enumerate(self.nodes) if node.kind == "backward"}

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
            target = f"%{n.inplace_target} <- " if n.inplace_target is not None else ""
            lhs = f"{outs} = " if outs else target
            shape = ""
            if n.outputs and n.outputs[0] is not None and self.slots[n.outputs[0]].shape is not None:
                shape = f"  : {self.slots[n.outputs[0]].describe()}"
            lines.append(f"  {i:4d}  {lhs}{n.label()}{shape}")
        return "\n".join(lines)
