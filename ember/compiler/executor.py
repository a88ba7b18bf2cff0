"""Replay a captured graph: one closure per node over a list of slots, no Python model code.

``ArrayExecutor`` runs op forwards directly on NumPy arrays (the graph already holds the backward and the
optimizer step); ``AutogradExecutor`` replays a forward-only graph whose outputs need gradients through the
op dispatcher, so the returned tensors carry an autograd graph for a later ``backward()``.

>>> import ember
>>> from ember.compiler.capture import capture
>>> from ember.compiler.memory_plan import plan_memory
>>> captured = capture(lambda x: x * 2 + 1, (ember.ones(2),), {})
>>> run = ArrayExecutor(captured.graph, plan_memory(captured.graph))
>>> run((ember.tensor([1.0, 5.0]),))
tensor([ 3., 11.])
"""

from __future__ import annotations

import numpy as np

from ember.autograd import engine as _engine
from ember.autograd.engine import Node, accumulator_of
from ember.autograd.grad_mode import STATE
from ember.compiler.codegen import fused_group_kernel
from ember.compiler.memory_plan import _root
from ember.kernels.pointwise import gelu_tanh, gelu_tanh_backward
from ember.ops.activation import _gelu_np
from ember.ops import registry as _registry
from ember.ops.convolution import _conv_forward
from ember.ops.registry import _Scratch
from ember.tensor import Tensor, from_array

__all__ = ["ArrayExecutor", "AutogradExecutor", "build_output"]


def _scalar_as(value, npdt):
    if value is None or npdt is None:
        return value
    try:
        return npdt.type(value)
    except (OverflowError, TypeError, ValueError):
        return np.asarray(value).astype(npdt)


def _as_array(out):
    return out if out.__class__ is np.ndarray else np.asarray(out)


def _op_step(node, graph, version_owner, writer=None, buffer=None, dropped=None):
    op = node.op
    forward = op.forward
    takes_ctx = op.takes_ctx
    attrs = node.attrs
    attr_slots = node.attr_slots
    outputs = node.outputs
    ctx_slot = node.ctx_slot
    target = node.inplace_target
    path = node.inplace_path
    operands = []  # (slot, cast) for tensors, (None, value) for Python values
    for slot, value, cast in zip(node.inputs, node.scalars, node.casts):
        operands.append((slot, cast) if slot is not None else (None, _scalar_as(value, cast)))
    operands = tuple(operands)
    single = len(outputs) == 1
    ctx_meta = node.ctx_meta
    scalars = node.scalars
    snapshot = node.snapshot
    owner = version_owner.get(target) if target is not None else None

    def gather(env, replace=None):
        arrays = []
        for slot, extra in operands:
            if slot is None:
                arrays.append(extra)
            else:
                a = env[slot] if replace is None or slot != replace[0] else replace[1]
                arrays.append(a if extra is None else a.astype(extra))
        return arrays

    def make_ctx(env, arrays_raw):
        ctx = Node(op)
        requires, edges, input_meta, output_meta = ctx_meta
        ctx.next_edges = edges
        ctx.input_meta = input_meta
        ctx.output_meta = output_meta
        return ctx

    # operands the ctx keeps for backward: the op's own choice (keep_inputs), less one a remat pass recomputes
    kept = node.kept_operands(dropped)

    def finish_ctx(ctx, raw, results):
        requires = ctx_meta[0]
        if op.save_inputs:
            ctx.saved_inputs = tuple(from_array(a, requires_grad=requires[i]) if slot is not None and kept[i]
                                     else (scalars[i] if kept[i] else None)
                                     for i, (a, (slot, _)) in enumerate(zip(raw, operands)))
            ctx.saved_versions = tuple(0 if slot is not None and kept[i] else None
                                       for i, (slot, _) in enumerate(operands))
        if op.save_output:
            ctx.saved_outputs = tuple(None if r is None else (r, _VersionStub(), 0, None) for r in results)

    release = getattr(op.cls, "release_saved", None)

    def run_forward(env, arrays, raw):
        call_attrs = attrs if not attr_slots else {**attrs, **{n: env[s] for n, s in attr_slots}}
        if ctx_slot is not None:
            ctx = make_ctx(env, raw)
            out = forward(ctx, *arrays, **call_attrs) if takes_ctx else forward(*arrays, **call_attrs)
            results = [_as_array(o) if o is not None else None for o in out] if out.__class__ in (tuple, list) \
                else [_as_array(out)]
            finish_ctx(ctx, raw, results)
            if release is not None:  # rematerialized: recomputed by the op's restore_saved before backward
                release(ctx)
            env[ctx_slot] = ctx
            return results
        out = forward(_Scratch(), *arrays, **call_attrs) if takes_ctx else forward(*arrays, **call_attrs)
        if out.__class__ is tuple or out.__class__ is list:
            return [_as_array(o) if o is not None else None for o in out]
        return [_as_array(out)]

    if op.name == "gelu" and attrs.get("approximate") == "tanh" and target is None and not attr_slots \
            and operands[0][0] is not None and operands[0][1] is None:
        out_slot = outputs[0]

        def step(env):
            x = env[operands[0][0]]
            # Rematerialized: only x is kept for backward, whose kernel recomputes the tanh term.
            fused = gelu_tanh(x, keep_tanh=False)
            if fused is None:  # not float32 / not contiguous / no compiler: the op's own NumPy forward
                raw = [x] if ctx_slot is not None else None
                env[out_slot] = run_forward(env, gather(env), raw)[0]
                return
            if ctx_slot is not None:
                # what the op's forward leaves in its ctx (activation._smooth_op): params and the tanh term
                ctx = make_ctx(env, None)
                ctx.params = attrs
                ctx.saved = None
                finish_ctx(ctx, [x], [fused[0]])
                env[ctx_slot] = ctx
            env[out_slot] = fused[0]
        return step

    if writer is not None:
        out_slot = outputs[0]
        if ctx_slot is None:
            def step(env):
                writer(buffer, *gather(env), **attrs)
                env[out_slot] = buffer
            return step

        def step(env):
            raw = [env[s] if s is not None else None for s, _ in operands]
            writer(buffer, *gather(env), **attrs)
            ctx = make_ctx(env, raw)
            finish_ctx(ctx, raw, [buffer])
            env[ctx_slot] = ctx
            env[out_slot] = buffer
        return step

    if target is None:
        if single and ctx_slot is None and not attr_slots and not takes_ctx:
            out_slot = outputs[0]

            def step(env):
                env[out_slot] = _as_array(forward(*gather(env), **attrs))
            return step

        def step(env):
            raw = [env[s] if s is not None else None for s, _ in operands] if ctx_slot is not None else None
            results = run_forward(env, gather(env), raw)
            for s, r in zip(outputs, results):
                if s is not None:
                    env[s] = r
        return step

    def step(env):
        dest = env[target]
        call_attrs = attrs if not attr_slots else {**attrs, **{n: env[s] for n, s in attr_slots}}
        if path == "ufunc":
            op.ufunc(dest, *gather(env), out=dest, casting="unsafe")
        elif path == "inplace_forward":
            op.inplace_forward(dest, *gather(env), **call_attrs)
        else:
            replace = (target, dest.copy()) if snapshot else None
            raw = None
            if ctx_slot is not None:
                raw = [(replace[1] if replace is not None and s == target else env[s]) if s is not None else None
                       for s, _ in operands]
            results = run_forward(env, gather(env, replace), raw)
            np.copyto(dest, results[0], casting="unsafe")
        if owner is not None:
            owner[0]._version.value += 1
    return step


class _VersionStub:
    """A version counter for a replayed saved output (nothing writes it between forward and backward)."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def _recomputed_gelu(x):
    fused = gelu_tanh(x, keep_tanh=False)
    return fused[0] if fused is not None else _gelu_np(x, "tanh")  # what the forward ran, so the same bits


def forward_on(node, arrays):
    """The output of op ``node`` on ``arrays`` (its operands, casts applied): the forward the executor runs for
    it, so the same bits (remat recomputes with it, constant folding evaluates with it)."""
    op = node.op
    if op.name == "gelu" and node.attrs.get("approximate") == "tanh":  # the executor's fused forward (_op_step)
        return _recomputed_gelu(arrays[0])
    out = op.forward(_Scratch(), *arrays, **node.attrs) if op.takes_ctx else op.forward(*arrays, **node.attrs)
    return _as_array(out)


def operand_values(node, value_of):
    """``node``'s operands as its forward receives them: ``value_of(slot)`` for tensors, cast as recorded, and
    Python values converted as the executor does."""
    return [_scalar_as(value, cast) if slot is None else
            (value_of(slot) if cast is None else value_of(slot).astype(cast))
            for slot, value, cast in zip(node.inputs, node.scalars, node.casts)]


def _recomputed_forward(node, ctx):
    """``node``'s output again, from the inputs its ctx keeps: its op's forward on the same arrays."""
    return forward_on(node, [t._data if isinstance(t, Tensor) else t for t in ctx.saved_inputs])


def _restore_dropped(ctx, env, recompute, graph, consumer):
    """Put back the operand ``consumer``'s forward dropped (passes/remat.py): the producer's output, recomputed
    from the inputs the producer's own ctx keeps."""
    position, producer = recompute
    producer_node = graph.nodes[producer]
    value = _recomputed_forward(producer_node, env[producer_node.ctx_slot])
    saved = ctx.saved_inputs
    requires = consumer.ctx_meta[0][position]
    ctx.saved_inputs = saved[:position] + (from_array(value, requires_grad=requires),) + saved[position + 1:]


def _backward_step(node, graph, recompute=None):
    ctx_slot = node.ctx_slot
    grad_slots = node.grad_inputs
    outputs = node.outputs
    forward = graph.nodes[node.forward_index]
    if node.op.name == "gelu" and forward.attrs.get("approximate") == "tanh" and len(grad_slots) == 1 \
            and grad_slots[0] is not None and outputs[0] is not None:
        grad_slot, out_slot = grad_slots[0], outputs[0]

        def gelu_step(env):
            ctx = env[ctx_slot]
            fused = gelu_tanh_backward(env[grad_slot], ctx.saved_inputs[0]._data, getattr(ctx, "saved", None))
            if fused is None:
                env[out_slot] = _engine._call_backward(ctx, [from_array(env[grad_slot])])[0]._data
            else:
                env[out_slot] = fused
        return gelu_step

    restore = getattr(node.op.cls, "restore_saved", None)

    def step(env):
        grads = [None if s is None else from_array(env[s]) for s in grad_slots]
        ctx = env[ctx_slot]
        if restore is not None:
            restore(ctx)
        if recompute is not None:
            _restore_dropped(ctx, env, recompute, graph, forward)
        result = _engine._call_backward(ctx, grads)
        for s, r in zip(outputs, result):
            if s is not None:
                env[s] = r._data
    return step


def _fused_step(kernel, member_steps, buffer):
    """A fusion group as one step: the generated C loop, or its members one by one when an operand does not fit
    (a view, another dtype) at run time. It runs at the first member's place: the members are consecutive, so
    every operand exists there, and nothing is freed before its last reader inside the group has run."""

    def step(env):
        if not kernel.run(env, buffer):
            for member in member_steps:
                member(env)
    return step


def _folded_conv_step(graph, conv, norm):
    """``batch_norm(conv(x, W, b))`` in evaluation as one convolution with the folded weight and bias, which are
    recomputed only when a parameter's version or array, or a running statistic's value, changes."""
    x_slot, w_slot, b_slot = conv.inputs[:3]
    gamma_slot, beta_slot = norm.inputs[1], norm.inputs[2]
    params = [s for s in (w_slot, b_slot, gamma_slot, beta_slot) if s is not None]
    owners = [graph.slots[s].owner for s in params if isinstance(graph.slots[s].owner, Tensor)]
    mean, var, eps = norm.attrs["running_mean"], norm.attrs["running_var"], norm.attrs["eps"]
    stride, pads, dilation, groups = (conv.attrs[k] for k in ("stride", "pads", "dilation", "groups"))
    out_slot = norm.outputs[0]
    cache = {"key": None}

    def fold(env):
        w = env[w_slot]
        dtype = w.dtype
        rstd = (1.0 / np.sqrt(var.astype(dtype) + eps)).astype(dtype, copy=False)  # as batch_norm's evaluation
        scale = rstd if gamma_slot is None else env[gamma_slot] * rstd
        shift = -mean.astype(dtype) if b_slot is None else env[b_slot] - mean.astype(dtype)
        bias = shift * scale
        if beta_slot is not None:
            bias += env[beta_slot]
        return (w * scale.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dtype, copy=False), bias.astype(dtype, copy=False)

    def step(env):
        key = (tuple(id(env[s]) for s in params), tuple(o._version.value for o in owners), mean.tobytes(),
               var.tobytes())
        if key != cache["key"]:
            cache["weight"], cache["bias"] = fold(env)
            cache["key"] = key
        env[out_slot] = _conv_forward(env[x_slot], cache["weight"], cache["bias"], stride, pads, dilation, groups)[0]
    return step


class _ChainCtx:
    """What a fused scale/mask/softmax chain keeps for its fused backward: the probabilities and the mask."""

    __slots__ = ("y", "mask")

    def __init__(self, y, mask):
        self.y = y
        self.mask = mask


def _fuse_softmax_chain(graph, chain, steps, attention=None):
    """Replace ``chain``'s forward steps (and its backward steps, if any) by one C pass each; when the arrays do
    not fit the kernels in a call, that call runs the original steps. ``attention`` (the scores' and the
    probabilities' matmul nodes, passes/remat.py) makes backward recompute the probabilities instead of keeping
    them."""
    from ember.kernels import rowwise
    members = chain.forward_nodes()
    softmax = graph.nodes[chain.softmax]
    x_slot = graph.nodes[members[0]].inputs[0]
    scale = graph.nodes[chain.scale].scalars[1] if chain.scale is not None else None
    masked = graph.nodes[chain.mask] if chain.mask is not None else None
    mask_slot, fill = (masked.inputs[1], float(masked.scalars[2])) if masked is not None else (None, None)
    out_slot, ctx_slot = softmax.outputs[0], softmax.ctx_slot
    forward_steps = [steps[i] for i in members]
    state = {"fused": False}

    def forward(env):
        mask = env[mask_slot] if mask_slot is not None else None
        y = rowwise.scaled_masked_softmax(env[x_slot], scale, mask, fill)
        state["fused"] = y is not None
        state["dropped"] = False
        if y is None:
            for member in forward_steps:
                member(env)
            return
        env[out_slot] = y
        if ctx_slot is not None:
            env[ctx_slot] = _ChainCtx(y, mask)

    steps[members[-1]] = forward  # every operand exists there; the plan frees them after it (memory_plan)
    for i in members[:-1]:
        steps[i] = _nothing
    if chain.backward is None:
        return
    present = [i for i in chain.backward if i is not None]
    backward_steps = [steps[i] for i in present]
    grad_slot = graph.nodes[present[0]].grad_inputs[0]
    result_slot = graph.nodes[present[-1]].outputs[0]

    def backward(env):
        if not state["fused"]:
            backward_steps[0](env)
            return
        ctx = env[ctx_slot]
        grad = env[grad_slot]
        result = rowwise.scaled_masked_softmax_backward(grad, ctx.y, scale, ctx.mask)
        if result is None:  # the gradient is not a contiguous float32 array: the same ops in NumPy
            result = np.subtract(grad, np.einsum("...i,...i->...", grad, ctx.y)[..., None]) * ctx.y
            if ctx.mask is not None:
                result = np.where(ctx.mask, np.float32(0), result)
            if scale is not None:
                result *= np.float32(scale)
        env[result_slot] = result

    def unfused_only(original):
        def step(env):
            if not state["fused"]:
                original(env)
        return step

    steps[present[0]] = backward
    for i, original in zip(present[1:], backward_steps[1:]):
        steps[i] = unfused_only(original)
    if attention is not None:
        _recompute_probabilities(graph, steps, attention, state, ctx_slot,
                                 lambda scores, mask: rowwise.scaled_masked_softmax(scores, scale, mask, fill))


def _recompute_probabilities(graph, steps, attention, state, chain_ctx_slot, chain_forward):
    """Attention probabilities kept by nobody between forward and backward (passes/remat.py): after the
    probabilities' matmul runs, its ctx and the chain's drop them; before that matmul's backward, the scores
    matmul's forward runs again on the operands its ctx keeps, then ``chain_forward``, which gives the same
    bits as the forward did (the same code on the same arrays)."""
    scores_node, probabilities_node = (graph.nodes[i] for i in attention)
    backward_index = next((i for i, n in enumerate(graph.nodes) if n.kind == "backward" and
                           n.forward_index == attention[1]), None)
    if backward_index is None:
        return
    scores_ctx, probabilities_ctx = scores_node.ctx_slot, probabilities_node.ctx_slot
    requires = probabilities_node.ctx_meta[0][0]
    forward_step, backward_step = steps[attention[1]], steps[backward_index]

    def forward(env):
        forward_step(env)
        ctx = env[probabilities_ctx]
        if state["fused"] and all(t is not None for t in env[scores_ctx].saved_inputs):
            ctx.saved_inputs = (None,) + ctx.saved_inputs[1:]
            env[chain_ctx_slot].y = None
            state["dropped"] = True

    def backward(env):
        if state["dropped"]:
            chain_ctx = env[chain_ctx_slot]
            y = chain_forward(_recomputed_forward(scores_node, env[scores_ctx]), chain_ctx.mask)
            chain_ctx.y = y
            ctx = env[probabilities_ctx]
            ctx.saved_inputs = (from_array(y, requires_grad=requires),) + ctx.saved_inputs[1:]
        backward_step(env)

    steps[attention[1]] = forward
    steps[backward_index] = backward


def _nothing(env):
    """A fusion group member whose work its group's first step did."""


def _take(env, slot):
    """The array in ``slot``, which is emptied (so that the caller's expression holds the only reference)."""
    array = env[slot]
    env[slot] = None
    return array


def _accumulate_step(node, frees_grad):
    """``leaf.grad`` gets the gradient. When this is the gradient's last reader and its array is this call's own
    (not an arena buffer the next call overwrites), ``.grad`` takes the array without a copy, as in eager mode."""
    leaf = node.leaf
    grad_slot = node.grad_slot
    out = node.outputs[0]

    def step(env):
        if frees_grad:  # a tensor and array only the engine holds: .grad takes them, no copy
            accumulator_of(leaf).accumulate(from_array(_take(env, grad_slot)), False)
        else:
            shared = from_array(env[grad_slot])  # referenced here too: the engine copies it (the array lives on)
            accumulator_of(leaf).accumulate(shared, False)
        env[out] = leaf.grad._data
    return step


def _host_step(node, externals):
    run = node.run  # optimizer.step() itself takes the fused C update when it applies
    outputs = node.outputs

    def step(env):
        value = run()
        if outputs:
            env[outputs[0]] = value
        for slot, t in externals:
            env[slot] = t._data
    return step


def build_output(spec, env, tensors_are_values=False):
    """The function's return value, rebuilt from the slots as ``spec`` (from capture) describes it."""
    tag = spec[0]
    if tag == "slot":
        value = env[spec[1]]
        return value if tensors_are_values else from_array(value)
    if tag == "made":  # a tensor made in the call (a fresh copy of the constant each call): a leaf, as made
        value = env[spec[1]]
        if tensors_are_values:
            return value.requires_grad_(True) if spec[2] else value
        return from_array(value, requires_grad=spec[2])
    if tag == "object" or tag == "const":
        return spec[1]
    if tag == "input":
        return env[spec[1]]
    if tag == "tuple":
        return tuple(build_output(s, env, tensors_are_values) for s in spec[2])
    if tag == "list":
        return [build_output(s, env, tensors_are_values) for s in spec[2]]
    if tag == "named":
        return spec[1](*[build_output(s, env, tensors_are_values) for s in spec[2]])
    return {k: build_output(s, env, tensors_are_values) for k, s in spec[2].items()}


class ArrayExecutor:
    """Runs the nodes as closures over a slot list of NumPy arrays; returns the function's result."""

    def __init__(self, graph, plan, writers=None):
        self.graph = graph
        writers = writers or {}
        # the arena: allocated once, reused by every call
        self.arena = [np.empty(shape, dtype) for shape, dtype in plan.buffers]
        self.input_slots = list(graph.input_slots)
        self.externals = list(graph.externals)
        owners = {slot: (t,) for slot, t in self.externals}
        for slot in self.input_slots:
            owners.setdefault(slot, None)
        self.inplace_inputs = sorted({n.inplace_target for n in graph.nodes
                                      if getattr(n, "inplace_target", None) is not None and n.inplace_target in
                                      self.input_slots})
        self._input_owner_cells = {slot: [None] for slot in self.inplace_inputs}
        version_owner = {slot: cell for slot, cell in self._input_owner_cells.items()}
        version_owner.update({slot: (t,) for slot, t in self.externals})
        recompute = getattr(graph, "recompute", {})  # passes/remat.py
        arena_slots = {graph.nodes[i].outputs[0] for i in plan.buffer_of}
        steps = []
        for i, node in enumerate(graph.nodes):
            if node.kind == "op":
                buffer_index = plan.buffer_of.get(i)
                dropped = recompute[i][0] if i in recompute else None
                if buffer_index is None:
                    steps.append(_op_step(node, graph, version_owner, dropped=dropped))
                else:
                    steps.append(_op_step(node, graph, version_owner, writers[i], self.arena[buffer_index], dropped))
            elif node.kind == "backward":
                steps.append(_backward_step(node, graph, recompute.get(node.forward_index)))
            elif node.kind == "accumulate":
                owned = node.grad_slot in plan.free_after[i] and node.grad_slot not in arena_slots
                steps.append(_accumulate_step(node, owned))
            else:
                steps.append(_host_step(node, self.externals))
        for conv, norm in getattr(graph, "folded", []):  # passes/fold_batchnorm.py
            steps[conv] = _folded_conv_step(graph, graph.nodes[conv], graph.nodes[norm])
            steps[norm] = _nothing
        attention = getattr(graph, "recomputed_attention", {})  # passes/remat.py
        for c, chain in enumerate(getattr(graph, "softmax_chains", [])):  # passes/softmax_chain.py
            _fuse_softmax_chain(graph, chain, steps, attention.get(c))
        self.fused = []  # (group, FusedGroup): fusion groups running as one generated C loop
        for group in getattr(graph, "fusion_groups", []):
            kernel = fused_group_kernel(graph, group)
            if kernel is None:
                continue
            buffer_index = plan.buffer_of.get(group[-1])
            buffer = self.arena[buffer_index] if buffer_index is not None else None
            steps[group[0]] = _fused_step(kernel, [steps[i] for i in group], buffer)
            for i in group[1:]:
                steps[i] = _nothing
            self.fused.append((group, kernel))
        self.program = [(step, tuple(free)) for step, free in zip(steps, plan.free_after)]
        self.size = len(graph.slots)
        self.outputs_spec = graph.outputs_spec
        targets = {n.inplace_target for n in graph.nodes if getattr(n, "inplace_target", None) is not None}
        targets |= {_root(graph, t) for t in targets}  # a write through a view writes its root's memory
        returned = {_root(graph, s) for s in graph.output_slots()}
        self.template = [None] * self.size
        self.fresh_constants = []  # constants written in place or returned (or a view of them): a copy per call
        for slot in graph.constants:
            if slot in targets or slot in returned:
                self.fresh_constants.append((slot, graph.slots[slot].owner))
            else:
                self.template[slot] = graph.slots[slot].owner

    def __call__(self, flat_inputs):
        env = self.template.copy()
        for slot, value in self.fresh_constants:
            env[slot] = value.copy()
        for slot, t in zip(self.input_slots, flat_inputs):
            env[slot] = t._data
            cell = self._input_owner_cells.get(slot)
            if cell is not None:
                cell[0] = t
        for slot, t in self.externals:
            env[slot] = t._data
        previous = STATE.enabled
        STATE.enabled = False
        try:
            for step, free in self.program:
                step(env)
                for s in free:
                    env[s] = None
        finally:
            STATE.enabled = previous
            for cell in self._input_owner_cells.values():
                cell[0] = None
        return build_output(self.outputs_spec, env)


class AutogradExecutor:
    """Replays a forward-only graph through the op dispatcher so outputs carry their autograd graph."""

    def __init__(self, graph):
        self.graph = graph
        self.input_slots = list(graph.input_slots)
        self.externals = list(graph.externals)
        self.size = len(graph.slots)

    def __call__(self, flat_inputs):
        env = [None] * self.size
        for slot in self.graph.constants:
            env[slot] = from_array(self.graph.slots[slot].owner.copy())
        for slot, t in zip(self.input_slots, flat_inputs):
            env[slot] = t
        for slot, t in self.externals:
            env[slot] = t
        previous = STATE.enabled
        try:
            for node in self.graph.nodes:
                if node.kind == "host":
                    value = node.run()
                    if node.outputs:
                        env[node.outputs[0]] = value
                    continue
                args = [env[s] if s is not None else v for s, v in zip(node.inputs, node.scalars)]
                attrs = node.attrs
                if node.attr_slots:
                    attrs = {**attrs, **{n: _unwrap(env[s]) for n, s in node.attr_slots}}
                STATE.enabled = node.grad_enabled
                if node.inplace_target is not None:
                    if node.inplace_path == "copy":
                        args = args[1:]
                    _registry.apply_inplace(node.op, env[node.inplace_target], *args, **attrs)
                    continue
                result = node.op(*args, **attrs)
                results = result if isinstance(result, tuple) else (result,)
                for s, r in zip(node.outputs, results):
                    if s is not None:
                        env[s] = r
        finally:
            STATE.enabled = previous
        return build_output(self.graph.outputs_spec, env, tensors_are_values=True)


def _unwrap(value):
    return value._data if isinstance(value, Tensor) else value
