"""The backward engine: graph nodes, edges, gradient accumulation, ``backward`` and ``grad``.

A :class:`Node` is made by the op dispatcher for each recorded op; it is also the ``ctx`` the op's
backward reads. Its ``next_edges`` say where each operand's gradient goes: ``(node, output_nr)`` of the op
that made it, or its :class:`AccumulateGrad` if it is a leaf. ``run_backward`` counts each node's incoming
edges, then runs nodes whose gradients are complete, summing contributions as they arrive. Backward
functions are written with ops, so with ``create_graph=True`` the gradients are themselves differentiable.
The rest of ``ember/autograd`` (see its docstring) holds ``backward``/``grad`` (differentiate.py), views,
saved tensors, hooks and anomaly mode.

>>> import ember
>>> x = ember.tensor([3.0], requires_grad=True)
>>> (g,) = ember.autograd.grad(x ** 3, x, create_graph=True)
>>> (gg,) = ember.autograd.grad(g, x)
>>> g.item(), gg.item()
(27.0, 18.0)
"""

from __future__ import annotations

import weakref

import numpy as np

from ember import execution_hook as _execution_hook
from ember.autograd.anomaly_mode import AnomalyMode, anomaly_origin, capture_trace, check_for_nan
from ember.autograd.grad_mode import STATE
# RemovableHandle and _HookDict are also reachable here (the engine's public names; pickled modules name _HookDict here).
from ember.autograd.hooks import RemovableHandle, _HookDict, apply_hooks, hook_on  # noqa: F401
from ember.autograd.ownership import sole_owner
from ember.autograd.saved_tensors import unpack_inputs, unpack_outputs

__all__ = ["Node", "AccumulateGrad", "run_backward", "edge_of", "accumulator_of", "RemovableHandle"]


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class Node:
    """One recorded op in the graph, and the ``ctx`` its backward reads.

    >>> x = ember.ones(2, requires_grad=True)
    >>> node = (x * 2).grad_fn
    >>> node, node.next_functions[0][0] is accumulator_of(x), node.needs_input_grad
    (<MulBackward0 object at ...>, True, (True, False))
    """

    __slots__ = ("op", "next_edges", "input_meta", "output_meta", "saved_inputs", "saved_versions",
                 "saved_outputs", "released", "tensor_pre_hooks", "pre_hooks", "post_hooks", "trace",
                 "__dict__", "__weakref__")

    def __init__(self, op):
        self.op = op
        self.saved_inputs = None
        self.saved_outputs = None
        self.released = False
        self.tensor_pre_hooks = None
        self.pre_hooks = None
        self.post_hooks = None
        self.trace = capture_trace() if AnomalyMode.enabled else None

    # ------------------------------------------------------------------ what backward reads
    inputs = property(unpack_inputs, doc="The op's operands as saved at forward time (raises if written since).")
    outputs = property(unpack_outputs, doc="The op's outputs as saved at forward time, pointing back at this node.")

    @property
    def output(self):
        """The op's only (or first) saved output."""
        return self.outputs[0]

    @property
    def needs_input_grad(self):
        """One bool per operand: whether a gradient is wanted for it."""
        return tuple(e is not None for e in self.next_edges)

    # ------------------------------------------------------------------ PyTorch's grad_fn surface
    def name(self) -> str:
        """PyTorch's name for this node: ``MulBackward0`` for op ``mul``."""
        return _camel(self.op.name) + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """The edges to the operands' nodes, ``(None, 0)`` where no gradient flows."""
        return tuple((None, 0) if e is None else e for e in self.next_edges)

    @property
    def metadata(self):
        """A dict for the user's annotations (PyTorch's ``grad_fn.metadata``)."""
        return self.__dict__.setdefault("_metadata", {})

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return new grad_inputs."""
        return hook_on(self, "post_hooks", fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return new grad_outputs."""
        return hook_on(self, "pre_hooks", fn)

    def __call__(self, *grads):
        return self.op.backward(self, *grads)


class AccumulateGrad:
    """The sink for a leaf tensor's gradient; shared by every use of that leaf.

    >>> w = ember.ones(2, requires_grad=True); node = accumulator_of(w)
    >>> (w * w).grad_fn.next_functions == ((node, 0), (node, 0)), node.name()
    (True, 'torch::autograd::AccumulateGrad')
    """

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
        """Run the leaf's hooks on ``g`` and add it to the leaf's ``.grad``."""
        var = self.variable
        if var._hooks:
            g = apply_hooks(var._hooks, g)
        from ember.tensor import from_array
        current = var._grad
        if current is None:
            if create_graph:
                var._grad = g
            elif sole_owner(g):
                # PyTorch's rule: a fresh gradient nothing else refers to becomes .grad without a copy.
                var._grad = from_array(g._data)
            else:
                # Copy, so that .grad never shares memory with another tensor (a later in-place clip or
                # zero_ would write through to it).
                var._grad = from_array(np.array(g._data, copy=True, order="C"))
        elif create_graph or current._requires_grad:
            var._grad = current + g
        elif current._data.flags.writeable:
            np.add(current._data, g._data, out=current._data, casting="unsafe")
            current._version.value += 1
        else:
            var._grad = from_array(current._data + g._data)
        if self.post_hooks:
            for hook in list(self.post_hooks.values()):
                hook(var)


def accumulator_of(t):
    """The AccumulateGrad node of leaf ``t`` (made on first use, kept while a graph refers to it).

    >>> w = ember.ones(1, requires_grad=True); y = w * 2
    >>> accumulator_of(w) is accumulator_of(w), accumulator_of(w).variable is w
    (True, True)
    """
    ref = t._grad_accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t._grad_accumulator = weakref.ref(node)
    return node


def edge_of(t):
    """The (node, output_nr) a gradient for tensor ``t`` flows to, or None if ``t`` needs no gradient.

    >>> x = ember.ones(2, requires_grad=True); a, b = (x * 1).unbind()
    >>> edge_of(b)[1], edge_of(ember.ones(1))
    (1, None)
    """
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
def run_backward(roots, retain_graph, create_graph, capture=None, accumulate=True, only=None):
    """Propagate gradients from ``roots`` (a list of (edge, grad)) through the graph behind them.

    ``capture``: a dict {edge: None} filled with the gradient reaching each edge (``grad``).
    ``accumulate``: whether leaves' ``.grad`` is written. ``only``: a set of AccumulateGrad nodes that may
    accumulate (``backward(inputs=...)``).

    >>> x = ember.ones(2, requires_grad=True); y = (x * 3).sum()
    >>> run_backward([(edge_of(y), ember.tensor(1.0))], retain_graph=False, create_graph=False); x.grad
    tensor([3., 3.])
    """
    targets = None if capture is None and only is None else [edge[0] for edge in (capture or ())] + list(only or ())
    dependencies, needed = _count_dependencies([edge[0] for edge, _ in roots], targets)
    buffers = {}  # node -> the gradients of its outputs received so far
    for (node, nr), g in roots:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node.output_meta)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [node for node in buffers if dependencies.get(node, 0) == 0]

    execution_hook = _execution_hook.ACTIVE  # ember.compile, capturing, records each backward call and accumulation
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
                    if execution_hook is None:
                        node.accumulate(grads.pop(), create_graph)
                    else:
                        execution_hook.accumulate(node, grads.pop(), create_graph, node.accumulate)
                continue
            edges = node.next_edges
            if needed is not None and node not in needed:
                input_grads = (None,) * len(edges)  # leads to no target: only count its edges as done
            else:
                if all(g is None for g in grads):
                    input_grads = (None,) * len(edges)
                else:
                    input_grads = (_call_backward(node, grads) if execution_hook is None else
                                   execution_hook.call_backward(node, grads, _call_backward))
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


def _count_dependencies(starts, targets):
    """The count of edges into each node reachable from ``starts``, and the nodes that lead to ``targets``."""
    dependencies = {}
    parents = {} if targets is not None else None
    stack = list(dict.fromkeys(starts))  # one entry per node, even if several roots share it
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            dependencies[child] = dependencies.get(child, 0) + 1
            if parents is not None:
                parents.setdefault(child, []).append(node)
            if child not in seen:
                seen.add(child)
                stack.append(child)
    if targets is None:
        return dependencies, None
    needed = set()
    frontier = [t for t in targets if t in seen]
    while frontier:
        node = frontier.pop()
        if node not in needed:
            needed.add(node)
            frontier.extend(parents.get(node, ()))
    return dependencies, needed


def _validate_grad(g, meta):
    """Reduce a broadcast gradient to the input's shape and cast it to the input's dtype."""
    shape, dtype = meta
    if g._data.shape != shape:
        try:
            g = g.sum_to_size(shape)
        except Exception:
            raise RuntimeError(f"Function returned an invalid gradient: got shape {tuple(g._data.shape)} but "
                               f"expected shape compatible with {tuple(shape)}") from None
    if g._dtype is not dtype:
        g = g.to(dtype)
    return g


def _call_backward(node, grads):
    """``node``'s backward on its outputs' gradients (zeros for those that got none), checked."""
    from ember.tensor import from_array
    if len(grads) > 1 and getattr(node, "materialize_grads", True):
        for i, g in enumerate(grads):
            if g is None and node.output_meta[i] is not None:
                shape, dtype = node.output_meta[i]
                grads[i] = from_array(np.zeros(shape, dtype=dtype.numpy_dtype))
    try:
        result = node.op.backward(node, *grads)
    except RuntimeError as e:
        if node.trace is not None:
            raise RuntimeError(f"{e}\n{anomaly_origin(node)}") from e
        raise
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != len(node.next_edges):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(node.next_edges)}, got {len(result)})")
    if AnomalyMode.enabled and AnomalyMode.check_nan:
        check_for_nan(node, result)
    return result
