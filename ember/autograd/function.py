"""User-defined differentiable functions: ``ember.autograd.Function``, as ``torch.autograd.Function``.

>>> import ember
>>> class Cube(ember.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return grad * 3 * x ** 2
>>> x = ember.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).backward(); x.grad
tensor([12.])
"""

from __future__ import annotations

import functools
import inspect

from ember.autograd.engine import Node, edge_of
from ember.autograd.grad_mode import STATE
from ember.autograd.saved_tensors import RELEASED_MESSAGE, check_versions

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class _FunctionOp:
    """Adapts a Function subclass to the interface the engine calls on ``node.op``."""

    kind = "opaque"

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__

    def backward(self, node, *grads):
        result = self.cls.backward(node, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(node.next_edges)
        if len(result) > expected:
            if any(r is not None for r in result[expected:]):
                raise RuntimeError(f"function {self.name}Backward returned an incorrect number of gradients "
                                   f"(expected {expected}, got {len(result)})")
            result = result[:expected]
        elif len(result) < expected:
            raise RuntimeError(f"function {self.name}Backward returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(result)})")
        from ember.tensor import Tensor
        for i, (g, edge) in enumerate(zip(result, node.next_edges)):
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(f"function {self.name}Backward returned a gradient of type {type(g).__name__} "
                                f"at position {i}; expected a Tensor or None")
        return result


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function: a graph node with PyTorch's ctx methods."""

    def __init__(self, op):
        super().__init__(op)
        self.to_save = ()
        self.saved_versions_fn = ()
        self.dirty = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self.next_edges = ()

    def name(self) -> str:
        return self.op.name + "Backward"

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; reading them after an in-place change raises."""
        self.to_save = tensors
        self.saved_versions_fn = tuple(None if t is None else t._version.value for t in tensors)

    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(RELEASED_MESSAGE)
        check_versions(self, self.to_save, self.saved_versions_fn)
        return self.to_save

    def mark_dirty(self, *tensors):
        """Declare inputs that forward modified in place (they must also be returned)."""
        self.dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that get no gradient (e.g. indices)."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool):
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._op = _FunctionOp(cls)


class Function(metaclass=_FunctionMeta):
    """Base class for custom ops: define ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    The newer style, ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``, works too.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    setup_context = None
    vjp = backward

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method, and call it with .apply().")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ember.tensor import Tensor, from_array
        ctx = FunctionCtx(cls._op)
        record = STATE.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        previous = STATE.enabled
        STATE.enabled = False
        try:
            if cls.setup_context is not None and _takes_no_ctx(cls.forward):
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = previous
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not record:
            return outputs
        ctx.next_edges = tuple(edge_of(a) if isinstance(a, Tensor) else None for a in args)
        ctx.input_meta = tuple((a._data.shape, a._dtype) if isinstance(a, Tensor) else None for a in args)
        dirty = {id(t) for t in ctx.dirty}
        non_diff = {id(t) for t in ctx.non_differentiable}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        wrapped, metas = [], []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                metas.append(None)
                continue
            if id(o) in input_ids and id(o) not in dirty:
                alias = from_array(o._data, version=o._version)
                alias._base = o if o._base is None else o._base
                o = alias
            metas.append((o._data.shape, o._dtype))
            if id(o) not in non_diff and o._dtype.is_floating_point:
                if id(o) in dirty and o._requires_grad and o.grad_fn is None and STATE.enabled:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
                o.grad_fn = ctx
                o._output_nr = i
                o._requires_grad = True
            wrapped.append(o)
        ctx.output_meta = tuple(metas)
        return wrapped[0] if single else tuple(wrapped)


def _takes_no_ctx(forward) -> bool:
    params = list(inspect.signature(forward).parameters)
    return not params or params[0] != "ctx"


def once_differentiable(backward):
    """Run ``backward`` without recording a graph (its result cannot be differentiated again).

    >>> class Double(ember.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     @ember.autograd.function.once_differentiable
    ...     def backward(ctx, grad):
    ...         return grad * 2
    >>> x = ember.ones(1, requires_grad=True); Double.apply(x).backward(); x.grad
    tensor([2.])
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        previous = STATE.enabled
        STATE.enabled = False
        try:
            return backward(ctx, *grads)
        finally:
            STATE.enabled = previous
    return wrapper
