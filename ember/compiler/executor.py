"""Replay a captured graph: one closure per node over a list of slots, no Python model code.

``ArrayExecutor`` runs the nodes directly on NumPy arrays (the graph already holds the backward and the
optimizer step): each node class has one step builder in ``STEP_BUILDERS``, which turns a node into a closure
over the slot list, and the executor runs the closures in order, freeing each slot after its last reader as
the memory plan says. It knows nothing of the passes: a fused node is just a node with its own step.
``AutogradExecutor`` replays a forward-only graph whose outputs need gradients through the op dispatcher, so
the returned tensors carry an autograd graph for a later ``backward()``.

>>> import ember
>>> from ember.compiler.capture import capture
>>> from ember.compiler.memory_plan import plan_memory
>>> captured = capture(lambda x: x * 2 + 1, (ember.ones(2),), {})
>>> run = ArrayExecutor(captured.graph, plan_memory(captured.graph))
>>> run((ember.tensor([1.0, 5.0]),))
tensor([ 3., 11.])
"""

from __future__ import annotations

import functools

import numpy as np

from ember.autograd import engine as _engine
from ember.autograd.engine import Node, accumulator_of
from ember.autograd.grad_mode import STATE
from ember.compiler.codegen import compile_fusion
from ember.compiler.graph import (AccumulateNode, BackwardNode, DropProbabilitiesNode, FoldedConvolutionNode,
                                  FusedNode, HostNode, OpNode, RecomputeNode, RecomputeProbabilitiesNode,
                                  SoftmaxChainBackwardNode, SoftmaxChainNode)
from ember.compiler.memory_plan import _root
from ember.ops import registry as _registry
from ember.ops.registry import _Scratch
from ember.tensor import Tensor, from_array

__all__ = ["ArrayExecutor", "AutogradExecutor", "STEP_BUILDERS", "build_output", "forward_function", "forward_on",
           "operand_values"]


def _scalar_as(value, npdt):
    if value is None or npdt is None:
        return value
    try:
        return npdt.type(value)
    except (OverflowError, TypeError, ValueError):
        return np.asarray(value).astype(npdt)


def _as_array(out):
    return out if out.__class__ is np.ndarray else np.asarray(out)


def _op_step(node, version_owner, writer=None, buffer=None):
    """An op node's step: its forward on the slots' arrays (into ``buffer`` through ``writer`` when the memory plan
    gave it one), the ctx its backward reads, or the in-place write."""
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

    if target is None and all(slot is not None and cast is None for slot, cast in operands):
        input_slots = node.inputs

        def gather(env, replace=None):  # the common case, every operand a tensor used as it is
            return [env[s] for s in input_slots]

    def make_ctx():
        ctx = Node(op)
        requires, edges, input_meta, output_meta = ctx_meta
        ctx.next_edges = edges
        ctx.input_meta = input_meta
        ctx.output_meta = output_meta
        return ctx

    release = op.release_saved  # rematerialized: recomputed by the op's restore_saved before backward
    save_inputs, save_output = op.save_inputs, op.save_output
    if ctx_slot is not None and save_inputs:
        # operands the ctx keeps for backward: the op's own choice (keep_inputs), less one a RecomputeNode restores;
        # what does not change from call to call is made once: the Python values kept, the versions
        kept = node.kept_operands()
        kept_scalars = tuple(scalars[i] if slot is None and kept[i] else None for i, (slot, _) in enumerate(operands))
        kept_tensors = tuple((i, ctx_meta[0][i]) for i, (slot, _) in enumerate(operands) if slot is not None and kept[i])
        saved_versions = tuple(0 if slot is not None and kept[i] else None for i, (slot, _) in enumerate(operands))

    def finish_ctx(ctx, raw, results):
        if save_inputs:
            saved = list(kept_scalars)
            for i, requires_grad in kept_tensors:
                saved[i] = from_array(raw[i], requires_grad=requires_grad)
            ctx.saved_inputs = tuple(saved)
            ctx.saved_versions = saved_versions
        if save_output:
            ctx.saved_outputs = tuple(None if r is None else (r, _VersionStub(), 0, None) for r in results)
        if release is not None:
            release(ctx)

    def run_forward(env, arrays, raw):
        call_attrs = attrs if not attr_slots else {**attrs, **{n: env[s] for n, s in attr_slots}}
        if ctx_slot is not None:
            ctx = make_ctx()
            out = forward(ctx, *arrays, **call_attrs) if takes_ctx else forward(*arrays, **call_attrs)
            results = [_as_array(o) if o is not None else None for o in out] if out.__class__ in (tuple, list) \
                else [_as_array(out)]
            finish_ctx(ctx, raw, results)
            env[ctx_slot] = ctx
            return results
        out = forward(_Scratch(), *arrays, **call_attrs) if takes_ctx else forward(*arrays, **call_attrs)
        if out.__class__ is tuple or out.__class__ is list:
            return [_as_array(o) if o is not None else None for o in out]
        return [_as_array(out)]

    if op.replay_forward is not None and target is None and not attr_slots and single and writer is None:
        replay = _with_attrs(op.replay_forward, attrs)
        out_slot = outputs[0]
        uncast = all(cast is None for slot, cast in operands if slot is not None)  # then the raw arrays are these

        def step(env):
            arrays = gather(env)
            ctx = make_ctx() if ctx_slot is not None else None
            out = replay(ctx, *arrays)  # the op's compiled-graph forward; None: its own forward
            raw = None
            if ctx is not None:
                raw = arrays if uncast else [env[s] if s is not None else None for s, _ in operands]
            if out is None:
                env[out_slot] = run_forward(env, arrays, raw)[0]
                return
            if ctx is not None:
                finish_ctx(ctx, raw, [out])
                env[ctx_slot] = ctx
            env[out_slot] = out
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
            ctx = make_ctx()
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


def _with_attrs(function, attrs):
    """``function`` with the keyword attributes bound once (a step calls it with positional arguments only)."""
    return functools.partial(function, **attrs) if attrs else function


def forward_function(node):
    """``arrays -> output`` of op ``node`` (its operands, casts applied): the forward the executor runs for it, so
    the same bits (remat recomputes with it, constant folding evaluates with it)."""
    op = node.op
    forward = _with_attrs(op.forward, node.attrs)
    takes_ctx = op.takes_ctx
    replay = _with_attrs(op.replay_forward, node.attrs) if op.replay_forward is not None else None

    def run(arrays):
        if replay is not None:
            out = replay(None, *arrays)
            if out is not None:
                return out
        return _as_array(forward(_Scratch(), *arrays) if takes_ctx else forward(*arrays))
    return run


def forward_on(node, arrays):
    """``forward_function(node)(arrays)``, once."""
    return forward_function(node)(arrays)


def operand_values(node, value_of):
    """``node``'s operands as its forward receives them: ``value_of(slot)`` for tensors, cast as recorded, and
    Python values converted as the executor does."""
    return [_scalar_as(value, cast) if slot is None else
            (value_of(slot) if cast is None else value_of(slot).astype(cast))
            for slot, value, cast in zip(node.inputs, node.scalars, node.casts)]


def _saved_arrays(ctx):
    """The operands a ctx keeps, as its op's forward received them."""
    return [t._data if isinstance(t, Tensor) else t for t in ctx.saved_inputs]


def _backward_step(node):
    """A backward node's step: the op's ``replay_backward`` on arrays when it has one and accepts, else its
    backward through the engine's call (after ``restore_saved`` rebuilt what forward released)."""
    ctx_slot = node.ctx_slot
    grad_slots = node.grad_inputs
    outputs = node.outputs
    restore = node.op.restore_saved
    replay = node.op.replay_backward

    def step(env):
        grads = [None if s is None else from_array(env[s]) for s in grad_slots]
        ctx = env[ctx_slot]
        if restore is not None:
            restore(ctx)
        result = _engine._call_backward(ctx, grads)
        for s, r in zip(outputs, result):
            if s is not None:
                env[s] = r._data

    if replay is None:
        return step
    if len(grad_slots) == 1 and grad_slots[0] is not None and len(outputs) == 1:  # the common case, kept lean
        grad_slot, out_slot = grad_slots[0], outputs[0]

        def replay_one(env):
            result = replay(env[ctx_slot], env[grad_slot])
            if result is None:
                step(env)
            elif out_slot is not None:
                env[out_slot] = result[0]
        return replay_one

    def replay_step(env):
        result = replay(env[ctx_slot], *[None if s is None else env[s] for s in grad_slots])
        if result is None:
            step(env)
            return
        for s, r in zip(outputs, result):
            if s is not None:
                env[s] = r
    return replay_step


def _run_all(steps):
    """One step running ``steps`` in order."""
    def step(env):
        for member in steps:
            member(env)
    return step


def _fused_step(node, executor, index):
    """A fusion group: the generated C loop (into the arena buffer the plan gave the group's result, if any), or
    its members one by one (each into its own buffer) when an operand does not fit the loop at run time (a
    view, another dtype) or there is no loop (no exact C form, no C compiler)."""
    one_by_one = _run_all([_op_node_step(member, executor, index) for member in node.members])
    _, buffer = executor.out_buffer(node.outputs[0])
    kernel = compile_fusion(node, executor.graph.slots[node.outputs[0]].shape)
    if kernel is None:
        return one_by_one
    executor.fused.append((node, kernel))

    def step(env):
        if not kernel.run(env, buffer):
            one_by_one(env)
    return step


def _folded_convolution_step(node, executor, index):
    """The convolution with the batch norm's per-channel ``(scale, center, shift)`` folded into its weight and
    bias: ``w * scale`` and ``(b - center) * scale + shift``, recomputed only when a parameter's version or
    array, or an array attribute's value (a running statistic), changes."""
    graph = executor.graph
    conv, norm = node.convolution, node.norm
    weight_position, bias_position = conv.op.per_channel_weight_bias
    w_slot, b_slot = conv.inputs[weight_position], conv.inputs[bias_position]
    norm_slots = norm.inputs[1:]
    params = [s for s in (w_slot, b_slot, *norm_slots) if s is not None]
    owners = [graph.slots[s].owner for s in params if isinstance(graph.slots[s].owner, Tensor)]
    statistics = [v for v in norm.attrs.values() if isinstance(v, np.ndarray)]
    affine = norm.op.channel_affine
    convolve = forward_function(conv)
    cache = {"key": None}

    def fold(env):
        w = env[w_slot]
        dtype = w.dtype
        scale, center, shift = affine(*[None if s is None else env[s] for s in norm_slots], dtype, **norm.attrs)
        bias = (-center if b_slot is None else env[b_slot] - center) * scale
        if shift is not None:
            bias += shift
        return (w * scale.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dtype, copy=False), bias.astype(dtype, copy=False)

    def step(env):
        key = (tuple(id(env[s]) for s in params), tuple(o._version.value for o in owners),
               tuple(a.tobytes() for a in statistics))
        if key != cache["key"]:
            cache["weight"], cache["bias"] = fold(env)
            cache["key"] = key
        arrays = [env[s] if s is not None else v for s, v in zip(conv.inputs, conv.scalars)]
        arrays[weight_position], arrays[bias_position] = cache["weight"], cache["bias"]
        env[node.outputs[0]] = convolve(arrays)
    return step


class _ChainCtx:
    """What a fused scale/mask/softmax chain keeps for its fused backward: the probabilities and the mask."""

    __slots__ = ("y", "mask")

    def __init__(self, y, mask):
        self.y = y
        self.mask = mask


def _chain_forward(chain):
    """``(scores, mask) -> probabilities`` through the fused row pass, or None when the arrays do not fit."""
    from ember.kernels import rowwise
    scale, fill = chain.scale_value, chain.fill
    return lambda scores, mask: rowwise.scaled_masked_softmax(scores, scale, mask, fill)


def _softmax_chain_step(node, executor, index):
    """One C pass for the chain, or its members one by one when the arrays do not fit the kernel in a call. With
    a backward, the softmax's ctx slot gets the fused pass's ctx; the member steps leave their own ctxs."""
    forward = _chain_forward(node)
    x_slot, mask_slot, out_slot, ctx_slot = node.input, node.mask_input, node.outputs[0], node.ctx_slot
    one_by_one = _run_all([_op_step(m, executor.version_owner) for m in node.members])

    def step(env):
        mask = env[mask_slot] if mask_slot is not None else None
        y = forward(env[x_slot], mask)
        if y is None:
            one_by_one(env)
            return
        env[out_slot] = y
        if ctx_slot is not None:
            env[ctx_slot] = _ChainCtx(y, mask)
    return step


def _softmax_chain_backward_step(node, executor, index):
    """One C pass for the chain's backward when its forward ran fused, else the member backward steps."""
    from ember.kernels import rowwise
    one_by_one = _run_all([_backward_step(m) for m in node.members])
    ctx_slot, grad_slot, result_slot, scale = node.ctx_slot, node.grad_input, node.outputs[0], node.scale_value

    def step(env):
        ctx = env[ctx_slot]
        if ctx.__class__ is not _ChainCtx:
            one_by_one(env)
            return
        grad = env[grad_slot]
        result = rowwise.scaled_masked_softmax_backward(grad, ctx.y, scale, ctx.mask)
        if result is None:  # the gradient is not a contiguous float32 array: the same ops in NumPy
            result = np.subtract(grad, np.einsum("...i,...i->...", grad, ctx.y)[..., None]) * ctx.y
            if ctx.mask is not None:
                result = np.where(ctx.mask, np.float32(0), result)
            if scale is not None:
                result *= np.float32(scale)
        env[result_slot] = result
    return step


def _recompute_step(node, executor, index):
    """Put back the operand the consumer's ctx did not keep: the producer's output, recomputed from the inputs
    the producer's own ctx keeps."""
    forward, position = forward_function(node.producer), node.position
    producer_ctx, consumer_ctx = node.producer.ctx_slot, node.consumer.ctx_slot
    requires = node.consumer.ctx_meta[0][position]

    def step(env):
        value = forward(_saved_arrays(env[producer_ctx]))
        ctx = env[consumer_ctx]
        saved = ctx.saved_inputs
        ctx.saved_inputs = saved[:position] + (from_array(value, requires_grad=requires),) + saved[position + 1:]
    return step


def _drop_probabilities_step(node, executor, index):
    """After the probabilities' matmul: neither its ctx nor the fused chain's keeps the probabilities (when the
    chain ran fused and the scores' matmul kept both operands, which it recomputes them from)."""
    chain_ctx, matmul_ctx, scores_ctx = node.chain.ctx_slot, node.probabilities_matmul.ctx_slot, \
        node.scores_matmul.ctx_slot

    def step(env):
        chain = env[chain_ctx]
        if chain.__class__ is _ChainCtx and all(t is not None for t in env[scores_ctx].saved_inputs):
            ctx = env[matmul_ctx]
            ctx.saved_inputs = (None,) + ctx.saved_inputs[1:]
            chain.y = None
    return step


def _recompute_probabilities_step(node, executor, index):
    """Before the probabilities' matmul's backward: the scores' matmul's forward again on the operands its ctx
    keeps, then the fused chain, which gives the bits the forward gave (the same code on the same arrays)."""
    chain_forward = _chain_forward(node.chain)
    scores_forward = forward_function(node.scores_matmul)
    chain_ctx, matmul_ctx, scores_ctx = node.chain.ctx_slot, node.probabilities_matmul.ctx_slot, \
        node.scores_matmul.ctx_slot
    requires = node.probabilities_matmul.ctx_meta[0][0]

    def step(env):
        chain = env[chain_ctx]
        if chain.__class__ is not _ChainCtx or chain.y is not None:
            return  # nothing was dropped
        y = chain_forward(scores_forward(_saved_arrays(env[scores_ctx])), chain.mask)
        chain.y = y
        ctx = env[matmul_ctx]
        ctx.saved_inputs = (from_array(y, requires_grad=requires),) + ctx.saved_inputs[1:]
    return step


def _take(env, slot):
    """The array in ``slot``, which is emptied (so that the caller's expression holds the only reference)."""
    array = env[slot]
    env[slot] = None
    return array


def _accumulate_step(node, executor, index):
    """``leaf.grad`` gets the gradient. When this is the gradient's last reader and its array is this call's own
    (not an arena buffer the next call overwrites), ``.grad`` takes the array without a copy, as in eager mode."""
    leaf = node.leaf
    grad_slot = node.grad_slot
    out = node.outputs[0]
    frees_grad = grad_slot in executor.plan.free_after[index] and grad_slot not in executor.arena_slots

    def step(env):
        if frees_grad:  # a tensor and array only the engine holds: .grad takes them, no copy
            accumulator_of(leaf).accumulate(from_array(_take(env, grad_slot)), False)
        else:
            shared = from_array(env[grad_slot])  # referenced here too: the engine copies it (the array lives on)
            accumulator_of(leaf).accumulate(shared, False)
        env[out] = leaf.grad._data
    return step


def _host_step(node, executor, index):
    run = node.run  # optimizer.step() itself takes the fused C update when it applies
    outputs = node.outputs
    externals = executor.externals

    def step(env):
        value = run()
        if outputs:
            env[outputs[0]] = value
        for slot, t in externals:
            env[slot] = t._data
    return step


def _op_node_step(node, executor, index):
    writer, buffer = executor.out_buffer(node.outputs[0] if node.outputs else None)
    return _op_step(node, executor.version_owner, writer, buffer)


def _backward_node_step(node, executor, index):
    return _backward_step(node)


# node class -> step builder ``(node, executor, index) -> step(env)``
STEP_BUILDERS = {
    OpNode: _op_node_step,
    BackwardNode: _backward_node_step,
    AccumulateNode: _accumulate_step,
    HostNode: _host_step,
    FusedNode: _fused_step,
    SoftmaxChainNode: _softmax_chain_step,
    SoftmaxChainBackwardNode: _softmax_chain_backward_step,
    FoldedConvolutionNode: _folded_convolution_step,
    RecomputeNode: _recompute_step,
    DropProbabilitiesNode: _drop_probabilities_step,
    RecomputeProbabilitiesNode: _recompute_probabilities_step,
}


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
        self.plan = plan
        self.writers = writers or {}
        # the arena: allocated once, reused by every call
        self.arena = [np.empty(shape, dtype) for shape, dtype in plan.buffers]
        self.input_slots = list(graph.input_slots)
        self.externals = list(graph.externals)
        targets = {n.inplace_target for n in graph.nodes if n.inplace_target is not None}
        self.inplace_inputs = sorted(targets & set(self.input_slots))
        self._input_owner_cells = {slot: [None] for slot in self.inplace_inputs}
        self.version_owner = {slot: cell for slot, cell in self._input_owner_cells.items()}
        self.version_owner.update({slot: (t,) for slot, t in self.externals})
        self.arena_slots = set(plan.buffer_of)
        self.fused = []  # (FusedNode, FusedGroup): fusion groups that run as one generated C loop
        steps = [STEP_BUILDERS[type(node)](node, self, i) for i, node in enumerate(graph.nodes)]
        self.program = [(step, tuple(free)) for step, free in zip(steps, plan.free_after)]
        self.size = len(graph.slots)
        self.outputs_spec = graph.outputs_spec
        targets |= {_root(graph, t) for t in targets}  # a write through a view writes its root's memory
        returned = {_root(graph, s) for s in graph.output_slots()}
        self.template = [None] * self.size
        self.fresh_constants = []  # constants written in place or returned (or a view of them): a copy per call
        for slot in graph.constants:
            if slot in targets or slot in returned:
                self.fresh_constants.append((slot, graph.slots[slot].owner))
            else:
                self.template[slot] = graph.slots[slot].owner

    def out_buffer(self, slot):
        """``(out= writer, arena buffer)`` of the value in ``slot`` when the memory plan placed it, else ``(None,
        None)``."""
        buffer_index = self.plan.buffer_of.get(slot)
        if buffer_index is None:
            return None, None
        return self.writers[slot], self.arena[buffer_index]

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
        # op by op (a fused node's members too), so that outputs carry their history
        self.nodes = [node for _, node in graph.units()]

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
            for node in self.nodes:
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
