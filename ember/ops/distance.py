"""Similarity and distance functions (``torch.nn.functional`` and ``torch`` semantics): ``cosine_similarity``,
``pairwise_distance``, ``pdist`` and ``cdist``.

Each is a short composition of ops around ``vector_norm`` (whose gradient is 0 at a zero vector, as
PyTorch's is), so autograd and double backward come from the ops they are built of.

>>> import ember
>>> import ember.nn.functional as F
>>> F.pairwise_distance(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]), eps=0.0)
tensor([5.])
>>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[1.0, 0.0]]))
tensor([[1.]])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.errors import op_error
from ember.ops.arguments import wrap_dim
from ember.ops.normalization import _vector_norm
from ember.ops.registry import register_function
from ember.tensor import Tensor, from_array


def _floating_pair(x1, x2, op_name):
    dtype = _dt.result_type_of((x1, x2))
    if not dtype.is_floating_point:
        raise op_error(RuntimeError, op_name, f"expected common dtype to be floating point, yet common dtype is "
                       f"{_dt.to_dtype(dtype).torch_name.replace('Tensor', '')} (inputs {x1._dtype.name} and "
                       f"{x2._dtype.name})")
    return dtype


def _broadcast_pair(x1, x2, op_name):
    try:
        shape = np.broadcast_shapes(tuple(x1._data.shape), tuple(x2._data.shape))
    except ValueError:
        from ember.errors import broadcast_message
        raise op_error(RuntimeError, op_name, broadcast_message([x1._data.shape, x2._data.shape])) from None
    return x1.expand(shape), x2.expand(shape)


def _clamp_value_keep_grad(norm, eps):
    """``max(norm, eps)`` in value, with the gradient of ``norm`` (PyTorch clamps the norms under no_grad)."""
    data = norm._data
    shift = np.maximum(data, np.asarray(eps, dtype=data.dtype)) - data
    if not shift.any():
        return norm
    return norm + from_array(shift)


@register_function(functional=True)
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` over ``dim``, after broadcasting.

    >>> ember.nn.functional.cosine_similarity(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    dtype = _floating_pair(x1, x2, "cosine_similarity")
    x1, x2 = _broadcast_pair(x1.to(dtype), x2.to(dtype), "cosine_similarity")
    dim = wrap_dim(dim, x1._data.ndim, "cosine_similarity")
    norm1 = _clamp_value_keep_grad(_vector_norm(x1, 2, dim, True), eps)
    norm2 = _clamp_value_keep_grad(_vector_norm(x2, 2, dim, True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


@register_function(functional=True)
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension.

    >>> ember.nn.functional.pairwise_distance(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    ndim = max(x1._data.ndim, x2._data.ndim)
    difference = x1 - x2 + eps
    if ndim == 0:
        return _vector_norm(difference.reshape(1), p, 0, False) if not keepdim else _vector_norm(difference, p, None, True)
    return _vector_norm(difference, p, ndim - 1, keepdim)


@register_function(functional=True)
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows of a 2-d ``input``, ``i < j`` in row-major order.

    >>> ember.nn.functional.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input._data.ndim != 2:
        raise op_error(RuntimeError, "pdist", f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if not input._dtype.is_floating_point:
        raise op_error(RuntimeError, "pdist", f"pdist only supports floating-point dtypes, got {input._dtype.name}")
    if p < 0:
        raise op_error(RuntimeError, "pdist", f"pdist only supports non-negative p values, got {p}")
    first, second = np.triu_indices(input._data.shape[0], 1)
    difference = input[from_array(first)] - input[from_array(second)]
    return _vector_norm(difference, p, 1, False)


@register_function
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of ``x1`` (``(*, P, M)``) and each row of ``x2`` (``(*, R, M)``).

    >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [1.0, 0.0]]))
    tensor([[5., 1.]])
    """
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise op_error(RuntimeError, "cdist", f"cdist only supports at least 2D tensors, {name} got: {t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise op_error(RuntimeError, "cdist", f"X1 and X2 must have the same number of columns. X1: "
                       f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    if not (x1._dtype.is_floating_point and x2._dtype.is_floating_point):
        raise op_error(RuntimeError, "cdist", f"cdist only supports floating-point dtypes, X1 got: {x1._dtype.name}, "
                       f"X2 got: {x2._dtype.name}")
    if p < 0:
        raise op_error(RuntimeError, "cdist", f"cdist only supports non-negative p values, got {p}")
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _vector_norm(difference, p, -1, False)

