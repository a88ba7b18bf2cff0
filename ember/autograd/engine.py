"""The backward engine: graph nodes, gradient accumulation, ``backward`` and ``grad``.

A :class:`Node` is made by the op dispatcher for each recorded op; it is also the ``ctx`` the op's
backward reads (``ctx.inputs``, ``ctx.outputs``, and whatever forward stashed). ``run_backward`` counts
each node's incoming edges, then runs nodes whose gradients are complete, summing contributions as they
arrive. Backward functions are written with ember ops, so with ``create_graph=True`` the gradients are
themselves differentiable.

>>> import ember
>>> x = ember.tensor([3.0], requires_grad=True)
>>> (g,) = ember.autograd.grad(x ** 3, x, create_graph=True)
>>> (gg,) = ember.autograd.grad(g, x)
>>> g.item(), gg.item()
(27.0, 18.0)
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from ember.autograd.grad_mode import STATE
# RemovableHandle, _HookDict: also imported from here (by ember.optim; pickled modules name _HookDict here).
from ember.autograd.hooks import RemovableHandle, _HookDict, apply_hooks, hook_on  # noqa: F401

__all__ = ["Node", "backward", "grad", "RemovableHandle"]

_RELEASED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward.")


class AnomalyMode:
    enabled = False
    check_nan = True


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class Node:
    """One recorded op in the graph, and the ``ctx`` its backward reads."""

    __slots__ = ("op", "next_edges", "input_meta", "output_meta", "saved_inputs", "saved_versions",
                 "saved_outputs", "released", "tensor_pre_hooks", "pre_hooks", "post_hooks", "trace",
                 "needs_input_grad_cache", "__dict__", "__weakref__")

    def __init__(self, op):
        self.op = op
        self.saved_inputs = None
        self.saved_outputs = None
        self.released = False
        self.tensor_pre_hooks = None
        self.pre_hooks = None
        self.post_hooks = None
        self.trace = _capture_trace() if AnomalyMode.enabled else None

    # ------------------------------------------------------------------ what backward reads
    @property
    def inputs(self):
        """The op's operands as saved at forward time (raises if modified in place since)."""
        if self.released:
            raise RuntimeError(_RELEASED_MESSAGE)
        saved = self.saved_inputs
        if saved is None:
            raise RuntimeError(f"{self.name()} did not save its inputs (declare save = ('inputs',))")
        for t, v in zip(saved, self.saved_versions):
            if v is not None and t._version.value != v:
                raise RuntimeError(_version_message(t, self, v))
        return saved

    @property
    def outputs(self):
        """The op's outputs as saved at forward time, rebuilt so they point back at this node."""
        if self.released:
            raise RuntimeError(_RELEASED_MESSAGE)
        if self.saved_outputs is None:
            raise RuntimeError(f"{self.name()} did not save its outputs (declare save = ('output',))")
        from ember.tensor import _make
        rebuilt = []
        for i, entry in enumerate(self.saved_outputs):
            if entry is None:
                rebuilt.append(None)
                continue
            data, counter, version, base = entry
            t = _make(data, requires_grad=data.dtype.kind == "f" or data.dtype.name == "bfloat16",
                      grad_fn=self, version=counter)
            t._output_nr = i
            t._base = base
            if counter.value != version:
                raise RuntimeError(_version_message(t, self, version, output_nr=i))
            rebuilt.append(t)
        return tuple(rebuilt)

    @property
    def output(self):
        return self.outputs[0]

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self.next_edges)

    # ------------------------------------------------------------------ PyTorch's grad_fn surface
    def name(self) -> str:
        return _camel(self.op.name) + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else e for e in self.next_edges)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return new grad_inputs."""
        return hook_on(self, "post_hooks", fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return new grad_outputs."""
        return hook_on(self, "pre_hooks", fn)

    def __call__(self, *grads):
        return self.op.backward(self, *grads)


class AccumulateGrad:
    """The sink for a leaf tensor's gradient; shared by every use of that leaf."""

    __slots__ = ("variable", "tensor_pre_hooks", "pre_hooks", "post_hooks", "next_edges", "output_meta",
                 "__weakref__")

    def __init__(self, variable):
        self.variable = variable
        self.tensor_pre_hooks = None
        self.pre_hooks = None
        self.post_hooks = None
        self.next_edges = ()
        self.output_meta = ((variable._data.shape, variable._dtype),)

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def register_hook(self, fn):
        """``fn(leaf)`` runs after the leaf's ``.grad`` was written."""
        return hook_on(self, "post_hooks", fn)

    def accumulate(self, g, create_graph):
        var = self.variable
        if var._hooks:
            g = apply_hooks(var._hooks, g)
        from ember.tensor import _make
        current = var.grad
        if current is None:
            if create_graph:
                var.grad = g
            elif _sole_owner(g):
                # PyTorch's rule: a fresh gradient nothing else refers to becomes .grad without a copy.
                var.grad = _make(g._data)
            else:
                # Copy, so that .grad never shares memory with another tensor (a later in-place clip or
                # zero_ would write through to it).
                var.grad = _make(np.array(g._data, copy=True, order="C"))
        elif create_graph or current._requires_grad:
            var.grad = current + g
        else:
            if current._data.flags.writeable:
                np.add(current._data, g._data, out=current._data, casting="unsafe")
                current._version.value += 1
            else:
                var.grad = _make(current._data + g._data)
        if self.post_hooks:
            for hook in list(self.post_hooks.values()):
                hook(var)


def _references_of_argument(value):
    return sys.getrefcount(value)


# What sys.getrefcount reports inside a function for an argument nothing else refers to (the parameter and
# getrefcount's own argument): measured, since it depends on the interpreter's calling convention.
_SOLE_ARGUMENT_REFERENCES = _references_of_argument([].__class__())


def _sole_owner(g):
    """Whether gradient ``g`` (an argument of the caller) and its array are referenced by nothing else.

    ``run_backward`` hands a leaf's gradient over without keeping it; any other holder (another edge the same
    tensor was sent along, a hook that kept it, a saved tensor, a view of its array) shows up as an extra
    reference, and then the gradient is copied instead. The array must be a dense C-ordered buffer it owns
    (or a view of all of a buffer that nothing else holds).
    """
    if sys.getrefcount(g) > _SOLE_ARGUMENT_REFERENCES + 1 or g._requires_grad:
        return False
    data = g._data
    # References to the array: g's slot, the local `data`, getrefcount's argument (read before `data.flags`,
    # which refers to the array too).
    if sys.getrefcount(data) > 3:
        return False
    base = data.base
    if base is not None:
        # A reshaped fresh result: fine when this view is all of its base and the only thing holding it
        # (references: the view, the local `base`, getrefcount's argument).
        if base.__class__ is not np.ndarray or sys.getrefcount(base) > 3 or base.base is not None \
                or base.nbytes != data.nbytes or not base.flags.owndata:
            return False
    flags = data.flags
    return flags.writeable and flags.c_contiguous and (base is not None or flags.owndata)


def _capture_trace():
    import traceback
    return traceback.format_stack()[:-4]


def _version_message(t, node, expected, output_nr=None):
    kind = f"output {output_nr} of {node.name()}" if output_nr is not None else (
        f"output {t._output_nr} of {t.grad_fn.name()}" if t.grad_fn is not None else "a leaf tensor")
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[torch.{t._dtype.torch_name} {list(t._data.shape)}], which is {kind}, is at version "
            f"{t._version.value}; expected version {expected} instead. Hint: the backtrace further above shows "
            "the operation that failed to compute its gradient. Enable anomaly detection with "
            "ember.autograd.set_detect_anomaly(True) to find the forward operation.")


def accumulator_of(t):
    """The AccumulateGrad node of leaf ``t`` (made on first use, kept while a graph refers to it)."""
    ref = t._grad_accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t._grad_accumulator = weakref.ref(node)
    return node


def edge_of(t):
    """The (node, output_nr) a gradient for tensor ``t`` flows to, or None if ``t`` needs no gradient."""
    view_record = t._view_of
    if view_record is not None and view_record.version != t._version.value:
        view_record.refresh(t)  # its memory was written in place since its grad_fn was recorded (views.py)
    if not t._requires_grad:
        return None
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    return (accumulator_of(t), 0)


# ---------------------------------------------------------------------------- running backward
def _make_grad_seed(t, g):
    from ember.tensor import Tensor, _make
    if g is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return _make(np.ones(t._data.shape, dtype=t._data.dtype))
    if not isinstance(g, Tensor):
        from ember.ops.creation import tensor
        g = tensor(g, dtype=t._dtype)
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(g._data.shape)} and "
                           f"output[0] has a shape of {tuple(t._data.shape)}.")
    return g


def _roots(tensors, grad_tensors):
    roots = []
    for i, t in enumerate(tensors):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = _make_grad_seed(t, None if grad_tensors is None else grad_tensors[i])
        roots.append((edge_of(t), g))
    return roots


def _validate_grad(g, meta):
    """Reduce a broadcast gradient to the input's shape and cast it to the input's dtype."""
    shape, dtype = meta
    if g._data.shape != shape:
        from ember.ops.reduce import sum_to_size
        try:
            g = sum_to_size(g, shape)
        except Exception:
            raise RuntimeError(f"Function returned an invalid gradient: got shape {tuple(g._data.shape)} but "
                               f"expected shape compatible with {tuple(shape)}") from None
    if g._dtype is not dtype:
        g = g.to(dtype)
    return g


def run_backward(roots, retain_graph, create_graph, capture=None, accumulate=True, only=None):
    """Propagate gradients from ``roots`` (a list of (edge, grad)).

    ``capture``: a dict {(node, output_nr): None} filled with the gradient reaching each edge.
    ``accumulate``: whether leaves' ``.grad`` is written. ``only``: a set of AccumulateGrad nodes that may
    accumulate (``backward(inputs=...)``).
    """
    # Count the edges into each node, and (for grad/inputs=) find the nodes that lead to a target.
    dependencies = {}
    parents = {}
    stack = list(dict.fromkeys(edge[0] for edge, _ in roots))  # one entry per node, even if several roots share it
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            dependencies[child] = dependencies.get(child, 0) + 1
            if capture is not None or only is not None:
                parents.setdefault(child, []).append(node)
            if child not in seen:
                seen.add(child)
                stack.append(child)
    needed = None
    if capture is not None or only is not None:
        targets = [edge[0] for edge in (capture or ())] + list(only or ())
        needed = set()
        frontier = [t for t in targets if t in seen]
        while frontier:
            node = frontier.pop()
            if node in needed:
                continue
            needed.add(node)
            frontier.extend(parents.get(node, ()))

    buffers = {}
    for (node, nr), g in roots:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node.output_meta)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [node for node in buffers if dependencies.get(node, 0) == 0]

    previous = STATE.enabled
    STATE.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * len(node.output_meta)
            if node.tensor_pre_hooks:
                for nr, hooks in node.tensor_pre_hooks.items():
                    if grads[nr] is not None:
                        grads[nr] = apply_hooks(hooks, grads[nr])
            if capture is not None:
                for nr in range(len(grads)):
                    if (node, nr) in capture:
                        capture[(node, nr)] = grads[nr]
            if node.pre_hooks:
                for hook in list(node.pre_hooks.values()):
                    new = hook(tuple(grads))
                    if new is not None:
                        grads = list(new)
            if node.__class__ is AccumulateGrad:
                if accumulate and grads[0] is not None and (only is None or node in only):
                    # pop: the engine keeps no reference, so an unshared gradient can become .grad uncopied
                    node.accumulate(grads.pop(), create_graph)
                continue
            if needed is not None and node not in needed:
                _release_children(node, dependencies, ready)
                continue
            edges = node.next_edges
            if all(g is None for g in grads):
                input_grads = (None,) * len(edges)
            else:
                input_grads = _call_backward(node, grads)
            if node.post_hooks:
                for hook in list(node.post_hooks.values()):
                    new = hook(input_grads, tuple(grads))
                    if new is not None:
                        input_grads = tuple(new)
            if not retain_graph:
                node.saved_inputs = None
                node.saved_outputs = None
                node.released = True
            for edge, g, meta in zip(edges, input_grads, node.input_meta):
                if edge is None:
                    continue
                child, nr = edge
                if g is not None:
                    g = _validate_grad(g, meta)
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * len(child.output_meta)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    ready.append(child)
            # Drop this node's references to the gradients it produced: their consumers may take them over.
            input_grads = g = None
    finally:
        STATE.enabled = previous


def _release_children(node, dependencies, ready):
    for edge in node.next_edges:
        if edge is None:
            continue
        child = edge[0]
        dependencies[child] -= 1
        if dependencies[child] == 0:
            ready.append(child)


def _call_backward(node, grads):
    from ember.tensor import _make
    if len(grads) > 1 and getattr(node, "materialize_grads", True):
        for i, g in enumerate(grads):
            if g is None and node.output_meta[i] is not None:
                shape, dtype = node.output_meta[i]
                grads[i] = _make(np.zeros(shape, dtype=dtype.numpy_dtype))
    try:
        result = node.op.backward(node, *grads)
    except RuntimeError as e:
        if node.trace is not None:
            raise RuntimeError(f"{e}\n{_anomaly_origin(node)}") from e
        raise
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != len(node.next_edges):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(node.next_edges)}, got {len(result)})")
    if AnomalyMode.enabled and AnomalyMode.check_nan:
        for i, g in enumerate(result):
            if g is not None and g._dtype.category == 2 and np.isnan(g._data).any():
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                                   f"{_anomaly_origin(node)}")
    return result


def _anomaly_origin(node):
    if node.trace is None:
        return "(enable ember.autograd.detect_anomaly() to see the forward call that made this node)"
    import os
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    user = [line for line in node.trace if package not in line]
    where = user[-1].strip() if user else "".join(node.trace[-1:]).strip()
    return (f"The forward op was '{node.op.name}', called at:\n  {where}\n"
            "Traceback of forward call that caused the error:\n" + "".join(node.trace))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    >>> x = ember.ones(2, requires_grad=True)
    >>> ember.autograd.backward([(x * 3).sum()]); x.grad
    tensor([3., 3.])
    """
    from ember.tensor import Tensor
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is not None:
        if isinstance(grad_tensors, Tensor):
            grad_tensors = (grad_tensors,)
        grad_tensors = tuple(grad_tensors)
        if len(grad_tensors) != len(tensors):
            raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        only = set()
        for t in inputs:
            if t.grad_fn is not None:
                raise NotImplementedError("backward(inputs=...) with non-leaf tensors is not supported; "
                                          "use ember.autograd.grad for intermediate tensors")
            only.add(accumulator_of(t))
    roots = _roots(tensors, grad_tensors)
    keep_alive = [accumulator_of(t) for t in (inputs or ())]
    run_backward(roots, retain_graph, create_graph, only=only)
    del keep_alive


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is left alone).

    >>> x = ember.tensor([2.0], requires_grad=True)
    >>> ember.autograd.grad((x * x).sum(), x)
    (tensor([4.]),)
    """
    from ember.tensor import Tensor, _make
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by ember")
    single_output = isinstance(outputs, Tensor)
    outputs = (outputs,) if single_output else tuple(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = (inputs,) if single_input else tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} for "
                               f"{len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    edges = [edge_of(t) for t in inputs]
    capture = {e: None for e in edges}
    roots = _roots(outputs, grad_outputs)
    run_backward(roots, retain_graph, create_graph, capture=capture, accumulate=False)
    results = []
    for i, (t, e) in enumerate(zip(inputs, edges)):
        g = capture[e]
        if g is None:
            if materialize_grads:
                g = _make(np.zeros(t._data.shape, dtype=t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph and g._requires_grad:
            g = g.detach()
        results.append(g)
    return tuple(results)
