"""Gradient clipping (``torch.nn.utils.clip_grad``): by total norm or by value, in place on ``.grad``.

>>> import ember
>>> w = ember.nn.Parameter(ember.ones(4))
>>> (w * 3).sum().backward()
>>> ember.nn.utils.clip_grad_norm_([w], max_norm=1.0)
tensor(6.)
>>> w.grad
tensor([0.5000, 0.5000, 0.5000, 0.5000])
"""

from __future__ import annotations

import functools
import types
import warnings

from ember.autograd.grad_mode import no_grad
from ember.errors import op_error
from ember.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]

# ``foreach`` is accepted everywhere for torch compatibility. Every Ember tensor lives on the CPU, where torch supports
# the foreach path, so the flag only chooses between two implementations of the same arithmetic; there is one here.


def _no_grad(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with no_grad():
            return func(*args, **kwargs)
    return wrapper


@_no_grad
def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together, as if concatenated into one vector.

    ``norm_type`` may be ``float('inf')`` (largest absolute value). With ``error_if_nonfinite=True`` a NaN or
    infinite total raises ``RuntimeError``.

    >>> ember.nn.utils.get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])])
    tensor(5.)
    >>> ember.nn.utils.get_total_norm([ember.tensor([3.0, -7.0])], norm_type="inf")
    tensor(7.)
    """
    from ember import ops
    from ember.linalg import vector_norm
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return ops.tensor(0.0)
    norms = [vector_norm(t, norm_type) for t in tensors]
    total_norm = vector_norm(ops.stack(norms), norm_type)
    if error_if_nonfinite and not bool(ops.isfinite(total_norm)):
        raise op_error(RuntimeError, "clip_grad_norm_",
                       f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                       "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                       "anyway, set `error_if_nonfinite=False`")
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)`` given a precomputed total norm.

    >>> w = ember.nn.Parameter(ember.zeros(2)); w.grad = ember.tensor([3.0, 4.0])
    >>> ember.nn.utils.clip_grads_with_norm_([w], 1.0, ember.tensor(5.0)); w.grad
    tensor([0.6000, 0.8000])
    """
    from ember import ops
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    if not isinstance(total_norm, Tensor):
        total_norm = ops.tensor(float(total_norm))
    # Multiplying by a coefficient clamped to 1 (rather than branching on it) mirrors torch bit for bit.
    clip_coef_clamped = ops.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(clip_coef_clamped)


@_no_grad
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Clip the total gradient norm of ``parameters`` to ``max_norm`` in place; returns the norm before clipping.

    The norm is taken over all gradients together, as if concatenated into one vector; ``norm_type`` may be
    ``float('inf')``. Parameters without a gradient are skipped.

    >>> a, b = ember.nn.Parameter(ember.zeros(1)), ember.nn.Parameter(ember.zeros(1))
    >>> a.grad, b.grad = ember.tensor([3.0]), ember.tensor([4.0])
    >>> ember.nn.utils.clip_grad_norm_([a, b], 2.5), a.grad, b.grad
    (tensor(5.), tensor([1.5000]), tensor([2.0000]))
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # a generator would otherwise be exhausted by the norm
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_` (warns with ``FutureWarning``).

    >>> import warnings
    >>> w = ember.nn.Parameter(ember.zeros(1)); w.grad = ember.tensor([2.0])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ember.nn.utils.clip_grad_norm([w], 1.0)
    tensor(2.)
    """
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place.

    >>> w = ember.nn.Parameter(ember.zeros(3)); w.grad = ember.tensor([-2.0, 0.5, 3.0])
    >>> ember.nn.utils.clip_grad_value_([w], 1.0); w.grad
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
