"""Reductions: sum, mean, and (for the autograd engine) sum_to_size.

>>> import ember
>>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> ember.sum(x, dim=0)
tensor([4., 6.])
>>> x.mean(-1, keepdim=True)
tensor([[1.5000],
        [3.5000]])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.ops.arguments import wrap_dims
from ember.ops.registry import register_op
from ember.tensor import Tensor

__all__ = ["sum", "mean", "sum_to_size"]


def _sum_dtype(dtype):
    """PyTorch sums bool and integer tensors in int64."""
    return _dt.int64 if dtype.category < 2 else dtype


@register_op
class Sum:
    name = "sum"
    kind = "reduce"
    promote = "none"

    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape = a.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        if dtype is _dt.float16 or dtype is _dt.bfloat16:  # accumulate in float32, as PyTorch does
            return np.sum(a, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dtype.numpy_dtype)
        return np.sum(a, axis=dims, keepdims=keepdim, dtype=dtype.numpy_dtype)

    def backward(ctx, grad):
        if not ctx.keepdim and ctx.dims:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return grad.expand(ctx.shape)


@register_op
class Mean:
    name = "mean"
    kind = "reduce"
    promote = "none"

    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape = a.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        count = 1
        for d in dims:
            count *= a.shape[d]
        ctx.count = count
        if dtype is _dt.float16 or dtype is _dt.bfloat16:
            return np.mean(a, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dtype.numpy_dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.mean(a, axis=dims, keepdims=keepdim, dtype=dtype.numpy_dtype)

    def backward(ctx, grad):
        if not ctx.keepdim and ctx.dims:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return grad.expand(ctx.shape) / ctx.count


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over ``dim`` (an int or tuple of ints).

    >>> ember.sum(ember.tensor([True, True, False]))
    tensor(2)
    """
    dims = wrap_dims(dim, input._data.ndim, "sum") if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    dt = _sum_dtype(input._dtype) if dtype is None else _dt.to_dtype(dtype)
    result = Sum(input, dims=dims, keepdim=keepdim, dtype=dt)
    if out is not None:
        from ember.ops.elementwise import _maybe_out
        return _maybe_out(result, out)
    return result


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean; integer inputs need ``dtype=`` as in PyTorch.

    >>> ember.mean(ember.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    """
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    if dt.category < 2:
        from ember.errors import op_error
        raise op_error(RuntimeError, "mean", "mean(): could not infer output dtype. Input dtype must be either a "
                       f"floating point or complex dtype. Got: {dt.name.title()}")
    dims = wrap_dims(dim, input._data.ndim, "mean") if dim is not None and dim != () and dim != [] else tuple(range(input._data.ndim))
    result = Mean(input, dims=dims, keepdim=keepdim, dtype=dt)
    if out is not None:
        from ember.ops.elementwise import _maybe_out
        return _maybe_out(result, out)
    return result


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size``, which it must broadcast from (the gradient of an expand).

    >>> ember.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]])
    """
    from ember.ops.arguments import as_shape
    shape = as_shape(size, "sum_to_size")
    have = input._data.shape
    if have == shape:
        return input
    lead = len(have) - len(shape)
    if lead < 0:
        raise RuntimeError(f"sum_to_size: size {list(shape)} is not expandable to the tensor's size {list(have)}")
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and have[lead + i] != 1:
            dims.append(lead + i)
        elif s != have[lead + i]:
            raise RuntimeError(f"sum_to_size: size {list(shape)} is not expandable to the tensor's size {list(have)}")
    result = Sum(input, dims=tuple(dims), keepdim=True, dtype=input._dtype) if dims else input
    if lead:
        result = result.reshape(shape)
    return result


TENSOR_METHODS = {"sum": sum, "mean": mean, "sum_to_size": sum_to_size}
_ = Tensor
