"""``backward`` and ``grad``: the two ways to differentiate, which seed the gradients and start the engine.

>>> import ember
>>> x = ember.tensor([2.0], requires_grad=True)
>>> ember.autograd.backward([(x * x).sum()]); x.grad
tensor([4.])
"""

from __future__ import annotations

import numpy as np

from ember import execution_hook as _execution_hook
from ember.autograd.engine import accumulator_of, edge_of, run_backward

__all__ = ["backward", "grad"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the graph's leaves.

    >>> x = ember.ones(2, requires_grad=True)
    >>> ember.autograd.backward([(x * 3).sum()]); x.grad
    tensor([3., 3.])
    """
    from ember.tensor import Tensor
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is not None:
        grad_tensors = (grad_tensors,) if isinstance(grad_tensors, Tensor) else tuple(grad_tensors)
        if len(grad_tensors) != len(tensors):
            raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    retain_graph = create_graph if retain_graph is None else retain_graph
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
    run_backward(_roots(tensors, grad_tensors), retain_graph, create_graph, only=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is left alone).

    >>> x = ember.tensor([2.0], requires_grad=True)
    >>> ember.autograd.grad((x * x).sum(), x)
    (tensor([4.]),)
    """
    from ember.tensor import Tensor, from_array
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by ember")
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is not None:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} for "
                               f"{len(outputs)} outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    edges = [edge_of(t) for t in inputs]
    capture = {e: None for e in edges}
    run_backward(_roots(outputs, grad_outputs), retain_graph, create_graph, capture=capture, accumulate=False)
    results = []
    for i, (t, e) in enumerate(zip(inputs, edges)):
        g = capture[e]
        if g is None:
            if materialize_grads:
                g = from_array(np.zeros(t._data.shape, dtype=t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph and g._requires_grad:
            g = g.detach()
        results.append(g)
    return tuple(results)


def _make_grad_seed(t, g):
    """The gradient of ``t`` backward starts with: ``g`` as a tensor, or ones for a one-element ``t``."""
    from ember.tensor import Tensor, from_array
    if g is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        seed = from_array(np.ones(t._data.shape, dtype=t._data.dtype))
        if _execution_hook.ACTIVE is not None:  # the same ones at every call: a constant to ember.compile
            _execution_hook.ACTIVE.constant_made(seed)
        return seed
    if not isinstance(g, Tensor):
        g = t.new_tensor(g)
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(g._data.shape)} and "
                           f"output[0] has a shape of {tuple(t._data.shape)}.")
    return g


def _roots(tensors, grad_tensors):
    """The (edge, seed gradient) pairs backward starts from."""
    roots = []
    for i, t in enumerate(tensors):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = _make_grad_seed(t, None if grad_tensors is None else grad_tensors[i])
        roots.append((edge_of(t), g))
    return roots
