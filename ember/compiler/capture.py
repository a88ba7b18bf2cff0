"""Capture: run the function once eagerly with a recorder installed as the execution hook
(``ember/execution_hook.py``): nothing is monkeypatched.

Every op call (forward, and the backward ops the engine runs) is recorded with its operand slots; the
work that does not go through the registry is recorded as host nodes bound to the live objects
(``optimizer.step()``, ``zero_grad()``, leaf gradient accumulation, dropout masks), or detected and
reported as a graph break (reading a tensor's value in Python, random numbers drawn outside the
registry, tensors written outside it). The capture run is an ordinary eager run: its result is returned.

>>> import ember
>>> from ember.compiler.capture import capture
>>> result = capture(lambda x: (x * 2).sum(), (ember.ones(3),), {})
>>> result.value, result.breaks, [n.op.name for n in result.graph.nodes]
(tensor(6.), [], ['mul', 'sum'])
"""

from __future__ import annotations

import linecache
import os
import sys
import weakref
from contextlib import contextmanager

import numpy as np

import ember
from ember import execution_hook
from ember.autograd.grad_mode import STATE
from ember.compiler.graph import AccumulateNode, BackwardNode, Graph, HostNode, OpNode
from ember.ops import random as _random_ops
from ember.tensor import Tensor

__all__ = ["capture", "CaptureResult", "GraphBreak", "user_line"]

_EMBER_DIR = os.path.dirname(os.path.abspath(ember.__file__)) + os.sep
_SCALARS = (int, float, bool, complex, str, type(None))

class GraphBreak:
    """Why a function could not be captured as one graph, and where."""

    def __init__(self, reason: str, line: str, fix: str):
        self.reason = reason
        self.line = line
        self.fix = fix

    def __repr__(self):
        return f"GraphBreak({self.reason!r} at {self.line})"

    def message(self) -> str:
        return f"{self.reason} at {self.line}. Fix: {self.fix}"


class CaptureResult:
    """The eager result of the capture run, the graph, the breaks, and what the guards must watch."""

    def __init__(self, value, graph, breaks, modules, rebuilt_grad):
        self.value = value
        self.graph = graph
        self.breaks = breaks
        self.modules = modules
        self.outputs_need_grad = rebuilt_grad


def user_line(skip_ember=True) -> str:
    """``file:line: code`` of the innermost frame outside the ember package (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None and skip_ember and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" + (f": {code}" if code else "")


def _rng_fingerprint():
    rng = _random_ops.default_generator.rng
    state = rng.bit_generator.state
    return id(rng), state["state"]["state"], state["has_uint32"], state["uinteger"]


class _GraphBreakRaised(Exception):
    """Raised through the user's function when fullgraph=True meets a break."""

    def __init__(self, graph_break):
        super().__init__(graph_break.message())
        self.graph_break = graph_break


class Recorder:
    """The execution hook during capture (ember/execution_hook.py lists what it receives); see the module
    docstring."""

    def __init__(self, fullgraph):
        self.fullgraph = fullgraph
        self.graph = Graph()
        self.array_slot: dict = {}       # id(array) -> slot
        # Arrays whose ids are keys below are watched by weak references, not kept alive: an intermediate dies
        # when eager code drops it (capture's peak memory is eager's), and its keys are removed before the id
        # can be reused. ``keep_alive`` holds only what cannot be weakly referenced.
        self.keep_alive: list = []
        self.watchers: list = []
        self.layouts_of_root: dict = {}  # id(memory root) -> layout keys over that memory
        self.autograd_nodes: dict = {}   # id(autograd Node) -> index of the OpNode that made it
        self.breaks: list = []
        self.versions: dict = {}         # id(VersionCounter) -> (counter, value expected, shape for messages)
        self.modules: dict = {}          # id(module) -> module, every module called
        self.module_snapshots: dict = {}
        self.buffer_snapshots: dict = {}
        self.rng = _rng_fingerprint()
        self.host_depth = 0
        self.root_slot: dict = {}        # id(memory-owning array) -> first value slot over that memory
        self.layout_slot: dict = {}      # (address, shape, strides, dtype) -> slot: views that equal a known array
        self.created: dict = {}          # id(array) -> (line, version counter, version, constant): tensors made outside ops
        self.in_dispatch = False

    # ------------------------------------------------------------------ slots
    def _watch(self, obj, forget):
        """Call ``forget(id(obj))`` when ``obj`` dies (before its id can be reused); objects that cannot be weakly
        referenced are kept alive instead."""
        try:
            self.watchers.append(weakref.ref(obj, lambda _, key=id(obj): forget(key)))
        except TypeError:
            self.keep_alive.append(obj)

    def _forget_array(self, key):
        self.array_slot.pop(key, None)
        self.created.pop(key, None)

    def _forget_root(self, key):
        self.root_slot.pop(key, None)
        for layout in self.layouts_of_root.pop(key, ()):
            self.layout_slot.pop(layout, None)

    def _register_array(self, array, slot):
        known = id(array) in self.array_slot or id(array) in self.created
        self.array_slot[id(array)] = slot
        if not known:
            self._watch(array, self._forget_array)
        layout = _layout(array)
        if layout not in self.layout_slot:
            self.layout_slot[layout] = slot
            # the layout key names an address: valid while the memory that holds it lives
            root = _memory_root(array)
            if root is None:
                self.keep_alive.append(array)
                return
            layouts = self.layouts_of_root.get(id(root))
            if layouts is None:
                layouts = self.layouts_of_root[id(root)] = []
                self._watch(root, self._forget_root)
            layouts.append(layout)

    def value_slot(self, array) -> int:
        g = self.graph
        owned = array.base is None
        root = array if owned else array.base
        shared = self.array_slot.get(id(array))
        if shared is None:
            shared = self.root_slot.get(id(root))
        slot = g.new_slot("value", array.shape, array.dtype.name, array.nbytes if owned else 0)
        if shared is not None:
            g.slots[slot].alias = g.slots[shared].alias if g.slots[shared].alias is not None else shared
        else:
            self._own_root(array, slot)
        self._register_array(array, slot)
        return slot

    def _own_root(self, array, slot):
        """``slot`` holds the memory ``array`` lives in: later views of that memory alias it."""
        root = array if array.base is None else array.base
        if id(root) in self.root_slot:
            return
        self.root_slot[id(root)] = slot
        if id(root) not in self.layouts_of_root:
            self.layouts_of_root[id(root)] = []
            self._watch(root, self._forget_root)

    def tensor_slot(self, t: Tensor) -> int:
        array = t._data
        slot = self.array_slot.get(id(array))
        if slot is None:
            slot = self._unknown_array_slot(t, array)
        self._expect(t)
        return slot

    def _unknown_array_slot(self, t, array):
        """A tensor whose array no node made: a view of a known array, a constant made in the call, or a live
        tensor that existed before the call (parameters, buffers, optimizer state, closure tensors)."""
        slot = self.layout_slot.get(_layout(array))
        if slot is not None:
            self._register_array(array, slot)
            return slot
        made = self.created.get(id(array))
        if made is not None:
            line, counter, version, constant = made
            if counter.value != version:
                self.graph_break(f"a tensor of shape {list(array.shape)} made at {line} was written in place outside the "
                                 "op registry (e.g. `t[i] = v`, an `out=` argument) before it is read here",
                                 "write it with an ember op (t.index_put_, t.copy_, ember.where) or move the write "
                                 "outside the compiled function")
            elif not constant:
                self.graph_break(f"a tensor of shape {list(array.shape)} made outside the op registry and the creation "
                                 "functions is read here; its value would be frozen at capture", "build it with "
                                 "registered ember ops, or pass it in as an argument", line=line)
            slot = self.graph.new_slot("const", array.shape, array.dtype.name, 0, owner=array.copy())
            self.graph.constants.append(slot)
            self._own_root(array, slot)  # views an op takes of it alias it (an in-place write through one shows)
            self._register_array(array, slot)
            return slot
        slot = self.graph.new_slot("external", array.shape, array.dtype.name, 0, owner=t)
        self.graph.externals.append((slot, t))
        self._register_array(array, slot)
        self.keep_alive.append(t)
        return slot

    def tensor_made(self, t):
        """A tensor wrapped outside an op: a graph break if it is read later, unless a creation function made
        it (``constant_made``)."""
        if self.in_dispatch:
            return
        known = id(t._data) in self.array_slot or id(t._data) in self.created
        self.created[id(t._data)] = (user_line(), t._version, t._version.value, False)
        if not known:
            self._watch(t._data, self._forget_array)

    def constant_made(self, result):
        """``result`` (a tensor or a sequence of them) came from a function of Python values only (a creation
        function, the engine's gradient seed): the graph keeps it as a constant."""
        for t in result if isinstance(result, (tuple, list)) else (result,):
            made = self.created.get(id(t._data)) if isinstance(t, Tensor) else None
            if made is not None:
                self.created[id(t._data)] = made[:3] + (True,)

    def input_slot(self, t: Tensor) -> int:
        array = t._data
        slot = self.array_slot.get(id(array))
        if slot is None:
            slot = self.graph.new_slot("input", array.shape, array.dtype.name, 0)
            self._register_array(array, slot)
        self.graph.input_slots.append(slot)
        self._expect(t)
        return slot

    def _expect(self, t):
        counter = t._version
        self.versions[id(counter)] = (counter, counter.value, t._data.shape)

    # ------------------------------------------------------------------ checks
    def graph_break(self, reason, fix, line=None):
        found = GraphBreak(reason, line or user_line(), fix)
        self.breaks.append(found)
        if self.fullgraph:
            raise _GraphBreakRaised(found)

    def _check_operands(self, tensors):
        rng = _rng_fingerprint()
        if rng != self.rng:
            self.rng = rng
            self.graph_break("random numbers were drawn outside the op registry (ember.rand/randn/Tensor.uniform_ "
                             "... or manual_seed) before this line", "draw the random tensor outside the compiled "
                             "function and pass it in, or use dropout/bernoulli, which compile")
        for t in tensors:
            entry = self.versions.get(id(t._version))
            if entry is not None and entry[0].value != entry[1]:
                self.graph_break(f"a tensor of shape {list(t._data.shape)} was written in place outside the op registry "
                                 "(e.g. `t[i] = v`, `t.data[...]`, an `out=` argument) before it is read here",
                                 "write it with an ember op (t.index_put_, t.copy_, ember.where) or move the write "
                                 "outside the compiled function")
                self._expect(t)

    def _resync(self):
        """Host work (optimizer steps ...) legitimately bumps versions and draws nothing: take the new values."""
        for key, (counter, _, shape) in list(self.versions.items()):
            self.versions[key] = (counter, counter.value, shape)
        self.rng = _rng_fingerprint()

    # ------------------------------------------------------------------ ops
    def call_op(self, op, args, attrs, run):
        tensors = [a for a in args if isinstance(a, Tensor)]
        self._check_operands(tensors)
        inputs, scalars, casts = self._operands(op, args)
        attr_slots = self._attr_slots(attrs)
        grad_enabled = STATE.enabled
        self.in_dispatch = True
        try:
            result = run(op, args, attrs)
        finally:
            self.in_dispatch = False
        results = result if isinstance(result, tuple) else (result,)
        outputs = tuple(None if r is None else self.value_slot(r._data) for r in results)
        node = OpNode(op, inputs, scalars, casts, attrs, attr_slots, outputs, user_line(), grad_enabled)
        self._attach_autograd(node, results)
        node.pure = _is_pure(op, attrs)
        self.graph.nodes.append(node)
        for r in results:
            if r is not None:
                self._expect(r)
        self.rng = _rng_fingerprint()
        return result

    def _operands(self, op, args):
        dt = op.compute_dtype(args) if op.promote != "none" else None
        return self._operands_cast_to(args, dt.numpy_dtype if dt is not None else None, op, first=0)

    def _attr_slots(self, attrs):
        found = []
        for name, value in attrs.items():
            if isinstance(value, np.ndarray):
                slot = self.array_slot.get(id(value))
                if slot is not None:
                    found.append((name, slot))
        return tuple(found)

    def _attach_autograd(self, node, results):
        for r in results:
            if r is not None and r.grad_fn is not None and getattr(r.grad_fn, "op", None) is node.op:
                ctx = r.grad_fn
                self.autograd_nodes[id(ctx)] = len(self.graph.nodes)
                self._watch(ctx, lambda key: self.autograd_nodes.pop(key, None))
                node.ctx_meta = _ctx_meta(ctx)
                return

    def call_inplace(self, op, target, args, attrs, run):
        operands = (target,) + args
        self._check_operands([a for a in operands if isinstance(a, Tensor)])
        needs_graph = STATE.enabled and op.differentiable and any(
            isinstance(a, Tensor) and a._requires_grad for a in operands)
        target_slot = self.tensor_slot(target)
        if needs_graph:
            inputs, scalars, casts = self._operands(op, operands)
            path = "copy"
        else:
            dt = op.compute_dtype(operands)
            path = "copy"
            if dt is not None and (op.ufunc is not None or op.inplace_forward is not None):
                path = "inplace_forward" if op.inplace_forward is not None else "ufunc"
                inputs, scalars, casts = self._operands_cast_to(args, dt.numpy_dtype, op)
            else:
                inputs, scalars, casts = self._operands(op, operands)
        attr_slots = self._attr_slots(attrs)
        grad_enabled = STATE.enabled
        with execution_hook.suspended():
            run(op, target, args, attrs)
        node = OpNode(op, inputs, scalars, casts, attrs, attr_slots, (), user_line(), grad_enabled)
        node.inplace_target = target_slot
        node.inplace_path = path
        node.snapshot = needs_graph and (op.save_inputs or op.takes_ctx)
        if needs_graph:
            self._attach_autograd(node, (target,))
        self.graph.nodes.append(node)
        self._expect(target)
        self.rng = _rng_fingerprint()
        return target

    def _operands_cast_to(self, args, npdt, op, first=1):
        """Slots, Python values and casts to ``npdt`` (None: none) of ``args``, which are the op's operands from
        position ``first`` on (an in-place op's target is operand 0)."""
        cast_only = op.promote_args
        inputs, scalars, casts = [], [], []
        for i, a in enumerate(args, start=first):
            castable = npdt is not None and (cast_only is None or i in cast_only)
            if isinstance(a, Tensor):
                inputs.append(self.tensor_slot(a))
                scalars.append(None)
                casts.append(npdt if castable and a._data.dtype != npdt else None)
            else:
                inputs.append(None)
                scalars.append(a)
                casts.append(npdt if castable and a is not None else None)
        return tuple(inputs), tuple(scalars), tuple(casts)

    # ------------------------------------------------------------------ autograd engine
    def call_backward(self, node, grads, run):
        index = self.autograd_nodes.get(id(node))
        if index is None or STATE.enabled:
            why = ("backward with create_graph=True" if STATE.enabled else
                   f"backward through {node.name()}, which was not recorded in this function (a graph built outside "
                   "the compiled function, a custom autograd.Function, or an in-place write through a view)")
            self.graph_break(why, "call backward on a graph built inside the compiled function, without create_graph")
            return run(node, grads)
        self._check_operands([g for g in grads if g is not None])
        grad_slots = tuple(None if g is None else self.tensor_slot(g) for g in grads)
        with execution_hook.suspended():
            result = run(node, grads)
        outputs = tuple(None if r is None else self.value_slot(r._data) for r in result)
        forward = self.graph.nodes[index]
        if forward.ctx_slot is None:  # the forward's ctx gets a slot once a backward reads it
            forward.ctx_slot = self.graph.new_slot("ctx")
        self.graph.nodes.append(BackwardNode(node.op, forward.ctx_slot, grad_slots, outputs, None))
        for r in result:
            if r is not None:
                self._expect(r)
        return result

    def accumulate(self, accumulator, grad, create_graph, run):
        if create_graph:
            self.graph_break("backward with create_graph=True", "compute higher-order gradients outside the "
                             "compiled function")
            return run(grad, create_graph)
        grad_slot = self.tensor_slot(grad)
        with execution_hook.suspended():
            run(grad, create_graph)
        leaf = accumulator.variable
        result = leaf.grad
        slot = self.value_slot(result._data) if id(result._data) not in self.array_slot else None
        if slot is None:
            slot = self.graph.new_slot("value", result._data.shape, result._data.dtype.name, 0)
            self.array_slot[id(result._data)] = slot
        self.graph.nodes.append(AccumulateNode(leaf, grad_slot, slot, f"{list(leaf._data.shape)}"))
        self.keep_alive.append(leaf)
        self._expect(result)
        self._expect(leaf)

    # ------------------------------------------------------------------ host work
    def host_call(self, description, call, outputs=()):
        """Run ``call()`` with the recorder off and record it as a host node rerun at every call."""
        self.host_depth += 1
        try:
            with execution_hook.suspended():
                value = call()
        finally:
            self.host_depth -= 1
        self._resync()
        slots = []
        if outputs:
            slots = [self.value_slot(value)]
        self.graph.nodes.append(HostNode(description, call, slots, user_line()))
        return value

    def value_read(self, what):
        """A tensor's value goes to Python (``what``: how): the graph cannot replay the Python that follows."""
        self.graph_break(f"{what} reads a tensor's value in Python", "keep the value a tensor (e.g. ember.where "
                         "instead of `if`, return the tensor and call .item() outside), or move this line out of the "
                         "compiled function")

    def grad_assigned(self, t, value) -> bool:
        """``leaf.grad = value`` in the function: ``None`` is replayed at every call (as ``zero_grad`` is); a tensor
        is a graph break. Returns True when the assignment was done here."""
        if value is None:
            self.host_call(".grad = None", lambda: setattr(t, "grad", None))
            return True
        self.graph_break("assigning a tensor to a leaf's .grad", "set .grad = None or call optimizer.zero_grad() "
                         "inside the compiled function, or assign .grad outside it")
        return False

    def module_called(self, module):
        key = id(module)
        if key not in self.modules:
            self.modules[key] = module
            self.module_snapshots[key] = module_scalars(module)
            self.buffer_snapshots[key] = {
                name: (buf, buf._version.value, buf._data.copy() if buf._data.size <= 16 else None)
                for name, buf in module._buffers.items() if buf is not None}

    # ------------------------------------------------------------------ the end
    def finish_checks(self):
        for key, module in self.modules.items():
            before = self.module_snapshots[key]
            after = module_scalars(module)
            if before != after:
                changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                self.graph_break(f"the function changed Python attribute(s) {changed} of {type(module).__name__}",
                                 "set module attributes outside the compiled function", line="(whole function)")
        for counter, value, shape in list(self.versions.values()):
            if counter.value != value:
                self.graph_break(f"a tensor of shape {list(shape)} was written in place outside the op registry",
                                 "write it with an ember op or move the write outside the compiled function",
                                 line="(whole function)")
                break
        if _rng_fingerprint() != self.rng:
            self.graph_break("random numbers were drawn outside the op registry", "draw them outside the compiled "
                             "function and pass them in", line="(whole function)")
        self._check_module_buffers()

    def _check_module_buffers(self):
        """Buffers written outside the op registry: explained by a recorded op, replayed as a counter bump
        (BatchNorm's num_batches_tracked), or reported."""
        attr_arrays = [v for n in self.graph.nodes if n.kind == "op" for v in n.attrs.values()
                       if isinstance(v, np.ndarray)]
        targets = {n.inplace_target for n in self.graph.nodes if n.kind == "op" and n.inplace_target is not None}
        for key, module in self.modules.items():
            for name, (buf, version, before) in self.buffer_snapshots.get(key, {}).items():
                if buf._version.value == version:
                    continue
                if self.array_slot.get(id(buf._data)) in targets:
                    continue
                if any(a.size and np.shares_memory(a, buf._data) for a in attr_arrays):
                    continue
                if before is not None and buf._data.dtype.kind in "iu":
                    if getattr(module, "momentum", 0) is None:
                        # BatchNorm(momentum=None) turns the counter into a Python float attribute of its op.
                        self.graph_break(f"{type(module).__name__}(momentum=None) reads {name} in Python at every step",
                                         "give the module a numeric momentum", line="(whole function)")
                    delta = buf._data - before
                    self.graph.nodes.append(HostNode(
                        f"{type(module).__name__}.{name} += {delta.tolist()} (a counter bumped outside the op registry)",
                        _counter_bump(buf, delta.copy())))
                    continue
                self.graph_break(f"buffer {name!r} of {type(module).__name__} was written outside the op registry",
                                 "update it with ember ops (buf.copy_, buf.mul_ ...)", line="(whole function)")

def _memory_root(array):
    """The array that owns ``array``'s memory, or ``None`` when a non-array object owns it."""
    while array.base is not None:
        if not isinstance(array.base, np.ndarray):
            return None
        array = array.base
    return array


def _layout(array):
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)


def _counter_bump(buf, delta):
    def bump():
        buf._data[...] += delta
        buf._version.value += 1
    return bump


def module_scalars(module) -> dict:
    """The Python scalar attributes of ``module`` (``training``, ``p``, ``eps`` ...): guarded by the cache."""
    return {k: v for k, v in module.__dict__.items() if type(v) in _SCALARS}


def _is_pure(op, attrs) -> bool:
    if op.random or op.kind == "opaque":
        return False
    return not any(isinstance(v, np.ndarray) for v in attrs.values())


class _EdgeStub:
    """Stands for a graph edge in a replayed ctx: backward only asks whether an input needs a gradient."""

    def name(self):
        return "CompiledEdge"


_EDGE = _EdgeStub()


def _ctx_meta(ctx):
    edges = tuple(None if e is None else (_EDGE, e[1]) for e in ctx.next_edges)
    saved = ctx.saved_inputs
    requires = tuple(isinstance(a, Tensor) and a._requires_grad for a in saved) if saved is not None else None
    return requires, edges, ctx.input_meta, ctx.output_meta


# ---------------------------------------------------------------------------------------------- install
@contextmanager
def _recording(rec):
    """``rec`` installed as the execution hook, and ``optimizer.step()`` recorded as a host node (through the
    optimizers' public step hooks, with the recorder off during the step)."""
    from ember.optim import optimizer as optimizer_module
    pending = []

    def pre(opt, args, kwargs):
        if execution_hook.ACTIVE is not rec:
            pending.append(None)
            return None
        if (len(args) > 1 and args[1] is not None) or kwargs.get("closure") is not None:
            rec.graph_break("optimizer.step(closure)", "call optimizer.step() without a closure inside the "
                            "compiled function")
        execution_hook.uninstall()
        rec.host_depth += 1
        pending.append((opt, args[1:], dict(kwargs)))
        return None

    def post(opt, args, kwargs):
        entry = pending.pop()
        if entry is None:
            return
        rec.host_depth -= 1
        execution_hook.install(rec)
        rec._resync()
        step_opt, step_args, step_kwargs = entry
        rec.graph.nodes.append(HostNode(f"{type(step_opt).__name__}.step()",
                                        lambda: step_opt.step(*step_args, **step_kwargs), (), user_line()))

    execution_hook.install(rec)  # raises, with nothing to undo, while another hook is installed
    handles = []
    try:
        handles += [optimizer_module.register_optimizer_step_pre_hook(pre),
                    optimizer_module.register_optimizer_step_post_hook(post)]
        yield rec
    finally:
        execution_hook.uninstall()
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------------------------------------- capture
def _flatten_inputs(rec, value, path="args"):
    """The spec of an argument tree; registers each tensor argument as an input slot."""
    if isinstance(value, Tensor):
        return ("input", rec.input_slot(value))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, None, [_flatten_inputs(rec, v) for v in value])
    if isinstance(value, dict):
        return ("dict", None, {k: _flatten_inputs(rec, v) for k, v in value.items()})
    return ("const", value)


def _output_spec(rec, value, inputs_by_id):
    if isinstance(value, Tensor):
        if id(value) in inputs_by_id:
            return ("object", value)
        slot = rec.array_slot.get(id(value._data))
        if slot is None and id(value._data) in rec.created:
            slot = rec.tensor_slot(value)
        if slot is not None and rec.graph.slots[slot].kind == "const":
            return ("made", slot, value._requires_grad)  # made in the call: a new leaf per call, as in eager mode
        if slot is None or rec.graph.slots[slot].kind != "value":
            return ("object", value)
        return ("slot", slot, value._requires_grad)
    if isinstance(value, (tuple, list)):
        if type(value) not in (tuple, list):  # namedtuples (max's values/indices ...)
            return ("named", type(value), [_output_spec(rec, v, inputs_by_id) for v in value])
        return (type(value).__name__, None, [_output_spec(rec, v, inputs_by_id) for v in value])
    if isinstance(value, dict):
        return ("dict", None, {k: _output_spec(rec, v, inputs_by_id) for k, v in value.items()})
    return ("const", value)


def capture(fn, args, kwargs, fullgraph=False, module=None) -> CaptureResult:
    """Run ``fn(*args, **kwargs)`` eagerly while recording its graph (see the module docstring)."""
    rec = Recorder(fullgraph)
    _flatten_inputs(rec, (args, kwargs))
    if module is not None:
        rec.module_called(module)
    try:
        with _recording(rec):
            value = fn(*args, **kwargs)
    except _GraphBreakRaised as raised:
        from ember.compiler import GraphBreakError
        raise GraphBreakError(f"ember.compile(fullgraph=True) could not capture {_name(fn)} as one graph: "
                              f"{raised.graph_break.message()}") from None
    rec.fullgraph = False
    rec.finish_checks()
    inputs_by_id = {id(t) for t in _tensors_in((args, kwargs))}
    rec.graph.outputs_spec = _output_spec(rec, value, inputs_by_id)
    needs_grad = any(isinstance(t, Tensor) and t._requires_grad and t.grad_fn is not None
                     for t in _tensors_in(value))
    if rec.breaks and fullgraph:
        from ember.compiler import GraphBreakError
        raise GraphBreakError(f"ember.compile(fullgraph=True) could not capture {_name(fn)} as one graph: "
                              f"{rec.breaks[0].message()}")
    return CaptureResult(value, rec.graph, rec.breaks, list(rec.modules.values()), needs_grad)


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__
