"""Reductions, scans and sorting: sum, mean, prod, var/std, max/min, norms, cumsum, median, sort, topk, unique ...

Every op follows PyTorch: ``dim`` as an int or a tuple, negative dims, ``keepdim``, ``dtype=`` where torch
has it, the same result dtypes (bool and integer sums are int64), errors on empty reductions that have no
identity, NaN propagation, and named results (``.values``/``.indices``) from ``ember.return_types``.

Gradients follow PyTorch too: reducing ``max``/``min``/``median``/``sort``/``topk`` over a dim sends the
gradient to the selected element; the full ``max()``/``min()``/``median()`` and ``amax``/``amin`` share it
evenly among ties. float16 and bfloat16 inputs are accumulated in float32.

>>> import ember
>>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> ember.sum(x, dim=0)
tensor([4., 6.])
>>> x.mean(-1, keepdim=True)
tensor([[1.5000],
        [3.5000]])
>>> x.max(dim=1)
ember.return_types.max(
values=tensor([2., 4.]),
indices=tensor([1, 1]))
"""

from __future__ import annotations

import builtins as _builtins
import math

import numpy as np

from ember import dtypes as _dt
from ember import return_types as _return_types
from ember.errors import op_error
from ember.ops.arithmetic import Abs, Where
from ember.ops.math_functions import Exp, Log, Sign
from ember.ops.registry import write_out as _maybe_out
from ember.ops.arguments import wrap_dim, wrap_dims
from ember.ops.registry import _torch_type_name, apply_inplace, register_op
from ember.tensor import Tensor, from_array

__all__ = ["sum", "mean", "sum_to_size", "nansum", "nanmean", "prod", "var", "std", "var_mean", "std_mean",
           "max", "min", "amax", "amin", "aminmax", "argmax", "argmin", "logsumexp", "norm", "cumsum",
           "cumprod", "cummax", "cummin", "logcumsumexp", "all", "any", "median", "nanmedian", "mode",
           "kthvalue", "quantile", "nanquantile", "topk", "sort", "argsort", "msort", "unique",
           "unique_consecutive", "count_nonzero"]

_FLOAT16 = np.dtype(np.float16)
_BFLOAT16 = np.dtype(_dt.bfloat16.numpy_dtype)
_FLOAT32 = np.dtype(np.float32)


# ------------------------------------------------------------------------------------------ helpers
def _upcast(a):
    """float16/bfloat16 data as float32: PyTorch accumulates these in float32."""
    if a.dtype == _FLOAT16 or a.dtype == _BFLOAT16:
        return a.astype(_FLOAT32)
    return a


def _is_float(a) -> bool:
    return a.dtype.kind == "f" or a.dtype == _BFLOAT16


def _reduction_dims(input, dim, op_name):
    """NumPy axes to reduce: every dim for None/()/[]; none for a 0-d tensor (whose only dims are 0 and -1)."""
    ndim = input._data.ndim
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = wrap_dims(dim, ndim, op_name)
    return dims if ndim else ()


def _single_dim(input, dim, op_name):
    """One dim as a NumPy axis (0 for a 0-d tensor, which the forwards treat as one element)."""
    if isinstance(dim, (tuple, list)):
        raise op_error(TypeError, op_name, f"dim must be an int, got {type(dim).__name__} {tuple(dim)}")
    return wrap_dim(dim, input._data.ndim, op_name)


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _restore_reduced(t, shape, dims, keepdim):
    """``t`` with the reduced dims put back as size 1, so it broadcasts against the input."""
    if keepdim or not dims or len(shape) == t._data.ndim:
        return t
    return t.reshape(_kept_shape(shape, dims))


def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _check_nonempty_dims(input, dims, op_name):
    """PyTorch's error for max/min-like reductions over a dim of size 0 (they have no identity)."""
    shape = input._data.shape
    for d in dims:
        if shape[d] == 0:
            raise op_error(IndexError, op_name, f"Expected reduction dim {d} to have non-zero size.")


def _check_float_input(input, op_name, message):
    if input._dtype.category != 2:
        raise op_error(RuntimeError, op_name, message.format(dtype=_torch_type_name(input._dtype)))


def _result_dtype(input, dtype, promote_integers):
    """The ``dtype=`` argument, or PyTorch's default: bool/integer sums and products are int64."""
    if dtype is not None:
        return _dt.to_dtype(dtype)
    if promote_integers and input._dtype.category < 2:
        return _dt.int64
    return input._dtype


def _out(result, out):
    if out is None:
        return result
    if isinstance(result, tuple):
        for r, o in zip(result, out):
            _maybe_out(r, o)
        return type(result)(tuple(out)) if hasattr(result, "_fields") else tuple(out)
    return _maybe_out(result, out)


def _take(t, dim, index):
    """``t`` indexed along ``dim`` by the integer array ``index`` (a differentiable gather)."""
    return t[(slice(None),) * dim + (index,)]


def _const(array):
    return from_array(np.asarray(array))


def _where(condition, a, b):
    return Where(_const(condition), a, b)


# ------------------------------------------------------------------------------------------ sum, mean
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
        if a.dtype == _BFLOAT16:
            a = a.astype(_FLOAT32)
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
        ctx.count = _count(a.shape, dims)
        if ctx.count == 0:  # the mean of nothing is nan (NumPy would also warn)
            return np.full(_reduced_shape(a.shape, dims, keepdim), np.nan, dtype.numpy_dtype)
        low_precision = dtype is _dt.float16 or dtype is _dt.bfloat16
        if a.dtype == _BFLOAT16:
            a = a.astype(_FLOAT32)
        # A sum and one division: faster than np.mean, and the same float32 accumulation for half types.
        total = np.sum(a, axis=dims, keepdims=keepdim, dtype=_FLOAT32 if low_precision else dtype.numpy_dtype)
        if total.__class__ is np.ndarray:
            np.divide(total, ctx.count, out=total)
        else:
            total = np.asarray(total / ctx.count)
        return total.astype(dtype.numpy_dtype, copy=False) if low_precision else total

    def backward(ctx, grad):
        if not ctx.keepdim and ctx.dims:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return grad.expand(ctx.shape) / ctx.count if ctx.count else grad.expand(ctx.shape)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of all elements, or over ``dim`` (an int or tuple of ints); bool and integer inputs give int64.

    >>> ember.sum(ember.tensor([True, True, False]))
    tensor(2)
    >>> ember.sum(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), (0, 1), keepdim=True)
    tensor([[10.]])
    """
    dims = _reduction_dims(input, dim, "sum")
    return _out(Sum(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True)), out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean; integer inputs need ``dtype=`` as in PyTorch. The mean over no elements is nan.

    >>> ember.mean(ember.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    >>> ember.mean(ember.tensor([1, 2]), dtype=ember.float64).item()
    1.5
    """
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    if dt.category < 2:
        raise op_error(RuntimeError, "mean", "mean(): could not infer output dtype. Input dtype must be either a "
                       f"floating point or complex dtype. Got: {_torch_type_name(dt)}")
    dims = _reduction_dims(input, dim, "mean")
    return _out(Mean(input, dims=dims, keepdim=keepdim, dtype=dt), out)


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


@register_op
class Nansum:
    name = "nansum"
    kind = "reduce"
    promote = "none"

    def forward(ctx, a, dims, keepdim, dtype):
        ctx.dims = dims
        ctx.keepdim = keepdim
        if _is_float(a):
            ctx.kept = ~np.isnan(a)
            a = np.where(ctx.kept, a, 0)
        if dtype is _dt.float16 or dtype is _dt.bfloat16:
            return np.sum(a, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dtype.numpy_dtype)
        return np.sum(_upcast(a), axis=dims, keepdims=keepdim, dtype=dtype.numpy_dtype)

    def backward(ctx, grad):
        shape = ctx.input_meta[0][0]
        grad = _restore_reduced(grad, shape, ctx.dims, ctx.keepdim)
        return grad * _const(ctx.kept)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero.

    >>> ember.nansum(ember.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    dims = _reduction_dims(input, dim, "nansum")
    return _out(Nansum(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True)), out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (nan where there are none).

    >>> ember.nanmean(ember.tensor([[1.0, float("nan")], [2.0, 4.0]]), dim=1)
    tensor([1., 3.])
    """
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    if input._dtype.category < 2:
        raise op_error(RuntimeError, "nanmean", "nanmean(): expected input to have floating point or complex "
                       f"dtype but got {_torch_type_name(input._dtype)}")
    dims = _reduction_dims(input, dim, "nanmean")
    counts = np.sum(~np.isnan(input._data), axis=dims, keepdims=keepdim)
    total = Nansum(input, dims=dims, keepdim=keepdim, dtype=dt)
    return _out(total / _const(counts.astype(total._data.dtype)), out)


# ------------------------------------------------------------------------------------------ prod
@register_op
class Prod:
    name = "prod"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, dims, keepdim, dtype):
        ctx.dims = dims
        ctx.keepdim = keepdim
        if a.dtype != dtype.numpy_dtype:
            a = a.astype(dtype.numpy_dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            if dtype is _dt.float16 or dtype is _dt.bfloat16:
                return np.prod(a.astype(_FLOAT32), axis=dims, keepdims=keepdim).astype(dtype.numpy_dtype)
            return np.prod(a, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        out = ctx.output
        dims = ctx.dims
        if not dims:
            return grad
        shape = x._data.shape
        grad = _restore_reduced(grad, shape, dims, ctx.keepdim)
        if x._data.size == 0:
            return grad.expand(shape)
        if x._dtype is not out._dtype:
            x = x.to(out._dtype)
        if not (x._data == 0).any():
            return grad * (_restore_reduced(out, shape, dims, ctx.keepdim) / x)
        # With zeros, out / x is 0/0: multiply the products of the elements before and after each one.
        if len(dims) == 1:
            others = _product_of_others(x, dims[0])
        else:
            others = _product_of_others(x.reshape(-1), 0).reshape(shape)
        return grad * others


def _exclusive_cumprod(x, dim):
    n = x._data.shape[dim]
    shifted = _take(x, dim, np.concatenate([[0], np.arange(n - 1)]).astype(np.int64))
    first = np.zeros((1,) * dim + (n,) + (1,) * (x._data.ndim - dim - 1), dtype=bool)
    first.reshape(-1)[0] = True
    return cumprod(_where(first, 1, shifted), dim)


def _product_of_others(x, dim):
    """For each element, the product of all other elements along ``dim`` (differentiable, exact with zeros)."""
    reverse = np.arange(x._data.shape[dim] - 1, -1, -1)
    before = _exclusive_cumprod(x, dim)
    after = _take(_exclusive_cumprod(_take(x, dim, reverse), dim), dim, reverse)
    return before * after


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along one ``dim``; bool and integer inputs give int64.

    >>> ember.prod(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([ 2., 12.])
    >>> ember.prod(ember.tensor([2, 3]))
    tensor(6)
    """
    if dim is None:
        dims = tuple(range(input._data.ndim))
    else:
        dims = (_single_dim(input, dim, "prod"),) if input._data.ndim else ()
    return _out(Prod(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True)), out)


# ------------------------------------------------------------------------------------------ var, std
def _correction(unbiased, correction, op_name):
    if correction is not None:
        if unbiased is not None:
            raise op_error(RuntimeError, op_name, "Cannot pass both correction and unbiased arguments")
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var_std_args(input, dim, unbiased, correction, op_name):
    if isinstance(dim, bool):  # var(x, True): the old positional ``unbiased``
        dim, unbiased = None, dim
    _check_float_input(input, op_name, "std and var only support floating point and complex dtypes")
    return _reduction_dims(input, dim, op_name), _correction(unbiased, correction, op_name)


def _variance(a, dims, correction, keepdim):
    compute = _upcast(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = _count(a.shape, dims)
        centered = compute - np.mean(compute, axis=dims, keepdims=True) if n else compute
        squares = np.sum(centered * centered, axis=dims, keepdims=keepdim)
        result = squares / np.asarray(_builtins.max(n - correction, 0), dtype=squares.dtype)
    return result.astype(a.dtype, copy=False)


def _var_backward(grad, x, dims, correction, keepdim):
    shape = x._data.shape
    grad = _restore_reduced(grad, shape, dims, keepdim)
    denominator = _builtins.max(_count(shape, dims) - correction, 0)
    scale = 2.0 / denominator if denominator else math.inf
    centered = x - Mean(x, dims=dims, keepdim=True, dtype=x._dtype)
    return grad * centered * scale


@register_op
class Var:
    name = "var"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, a, dims, correction, keepdim):
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return _variance(a, dims, correction, keepdim)

    def backward(ctx, grad):
        return _var_backward(grad, ctx.inputs[0], ctx.dims, ctx.correction, ctx.keepdim)


@register_op
class Std:
    name = "std"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, dims, correction, keepdim):
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return np.sqrt(_variance(a, dims, correction, keepdim))

    def backward(ctx, grad):
        out = ctx.output
        # d sqrt(v) = dv / (2 sqrt(v)); PyTorch defines it as 0 where the std is 0.
        scaled = Where(out == 0, 0, grad / (out * 2))
        return _var_backward(scaled, ctx.inputs[0], ctx.dims, ctx.correction, ctx.keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0).

    >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    >>> ember.var(x), ember.var(x, correction=0)
    (tensor(1.6667), tensor(1.2500))
    """
    dims, c = _var_std_args(input, dim, unbiased, correction, "var")
    return _out(Var(input, dims=dims, correction=c, keepdim=keepdim), out)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (see :func:`var`).

    >>> ember.std(ember.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
    tensor([1.4142, 0.0000])
    """
    dims, c = _var_std_args(input, dim, unbiased, correction, "std")
    return _out(Std(input, dims=dims, correction=c, keepdim=keepdim), out)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(input, ...), mean(input, ...))`` in one call.

    >>> ember.var_mean(ember.tensor([1.0, 2.0, 3.0]))
    (tensor(1.), tensor(2.))
    """
    dims, c = _var_std_args(input, dim, unbiased, correction, "var_mean")
    return (Var(input, dims=dims, correction=c, keepdim=keepdim),
            Mean(input, dims=dims, keepdim=keepdim, dtype=input._dtype))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(input, ...), mean(input, ...))`` in one call.

    >>> ember.std_mean(ember.tensor([1.0, 3.0]), correction=0)
    (tensor(1.), tensor(2.))
    """
    dims, c = _var_std_args(input, dim, unbiased, correction, "std_mean")
    return (Std(input, dims=dims, correction=c, keepdim=keepdim),
            Mean(input, dims=dims, keepdim=keepdim, dtype=input._dtype))


# ------------------------------------------------------------------------------------------ selecting values
def _along_axis_index(indices, axis):
    """A NumPy fancy index that addresses ``indices`` along ``axis`` and every other position as itself."""
    grids = list(np.indices(indices.shape, sparse=True))
    grids[axis] = indices
    return tuple(grids)


@register_op
class ValueSelectingBackward:
    """Scatter ``grad`` into zeros of the input's shape at ``indices`` along ``dim`` (the gradient of a pick)."""

    name = "value_selecting_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, indices, dim, shape, keepdim, accumulate):
        ctx.dim, ctx.keepdim, ctx.accumulate = dim, keepdim, accumulate
        ctx.indices = indices
        out = np.zeros(shape if shape else (1,), dtype=grad.dtype)
        if not shape:
            grad, indices, dim = grad.reshape(1), indices.reshape(1), 0
        elif not keepdim:
            grad, indices = np.expand_dims(grad, dim), np.expand_dims(indices, dim)
        if accumulate:
            np.add.at(out, _along_axis_index(indices, dim), grad)
        else:
            np.put_along_axis(out, indices, grad, axis=dim)
        return out.reshape(shape)

    def backward(ctx, grad):
        indices = from_array(ctx.indices)
        return ValueSelectingGather(grad, indices, dim=ctx.dim, keepdim=ctx.keepdim, accumulate=ctx.accumulate), None


@register_op
class ValueSelectingGather:
    """Pick the elements at ``indices`` along ``dim`` (``take_along_dim``, dropping ``dim`` unless ``keepdim``)."""

    name = "value_selecting_gather"
    kind = "index"
    promote = "none"

    def forward(ctx, a, indices, dim, keepdim, accumulate):
        ctx.dim, ctx.keepdim, ctx.accumulate = dim, keepdim, accumulate
        ctx.indices = indices
        if a.ndim == 0:
            return np.broadcast_to(a, indices.shape).copy()
        picked = np.take_along_axis(a, indices if keepdim else np.expand_dims(indices, dim), axis=dim)
        return picked if keepdim else picked.squeeze(dim)

    def backward(ctx, grad):
        return ValueSelectingBackward(grad, from_array(ctx.indices), dim=ctx.dim, shape=ctx.input_meta[0][0],
                                      keepdim=ctx.keepdim, accumulate=ctx.accumulate), None




def _selecting_op(op_name, compute, keeps_dim=False, accumulate=False):
    """Register an op returning ``(values, indices)`` picked along one dim by ``compute(a, dim, keepdim, **opts)``.

    Its gradient goes to the picked elements (``accumulate`` when one element can be picked more than once).
    ``keeps_dim``: the outputs have the input's rank (sort, topk, cummax) rather than a reduced one.
    """
    def forward(ctx, a, dim, keepdim, **options):
        if a.ndim == 0:
            values, indices = compute(a.reshape(1), 0, keeps_dim, **options)
            values, indices = values.reshape(()), indices.reshape(())
        else:
            values, indices = compute(a, dim, keepdim or keeps_dim, **options)
        ctx.indices, ctx.dim, ctx.keepdim = indices, dim, keepdim or keeps_dim
        return values, indices

    def backward(ctx, grad, grad_indices=None):
        if grad is None:
            return None
        return ValueSelectingBackward(grad, from_array(ctx.indices), dim=ctx.dim, shape=ctx.input_meta[0][0],
                                      keepdim=ctx.keepdim, accumulate=accumulate)

    camel = "".join(part.title() for part in op_name.split("_"))
    return register_op(type(camel, (), {"name": op_name, "kind": "reduce", "promote": "none",
                                        "forward": forward, "backward": backward}))


def _pick(a, order, position, dim, keepdim):
    """Values and indices at ``position`` (an int or kept-shape array) of the per-row ``order`` along ``dim``."""
    if isinstance(position, (int, np.integer)):
        index = np.take(order, [position], axis=dim)
    else:
        index = np.take_along_axis(order, position, axis=dim)
    values = np.take_along_axis(a, index, axis=dim)
    if not keepdim:
        index, values = index.squeeze(dim), values.squeeze(dim)
    return values, index.astype(np.int64, copy=False)


def _sortable(a):
    """Data ordered as PyTorch orders it (bfloat16 viewed as float32, whose sort NumPy knows)."""
    return a.astype(_FLOAT32) if a.dtype == _BFLOAT16 else a


def _stable_argsort(a, dim, descending):
    """Stable order with NaN as the largest value: last ascending, first descending (PyTorch's rule)."""
    a = _sortable(a)
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    n = a.shape[dim]
    # Sorting the reversed data ascending and reading it backwards keeps equal elements in their order.
    order = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return (n - 1) - np.flip(order, dim)


def _max_dim(a, dim, keepdim):
    index = np.expand_dims(np.argmax(_sortable(a), axis=dim), dim)
    return _pick(a, index, 0, dim, keepdim)


def _min_dim(a, dim, keepdim):
    index = np.expand_dims(np.argmin(_sortable(a), axis=dim), dim)
    return _pick(a, index, 0, dim, keepdim)


def _has_nan(a, dim):
    return np.isnan(a).any(axis=dim, keepdims=True) if _is_float(a) else None


def _median_dim(a, dim, keepdim):
    order = _stable_argsort(a, dim, False)
    values, indices = _pick(a, order, (a.shape[dim] - 1) // 2, dim, True)
    nan_rows = _has_nan(a, dim)
    if nan_rows is not None and nan_rows.any():
        first_nan = np.expand_dims(np.argmax(np.isnan(a), axis=dim), dim)
        indices = np.where(nan_rows, first_nan, indices)
        values = np.where(nan_rows, np.asarray(np.nan, a.dtype), values)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices


def _nanmedian_dim(a, dim, keepdim):
    order = _stable_argsort(a, dim, False)
    if not _is_float(a):
        return _pick(a, order, (a.shape[dim] - 1) // 2, dim, keepdim)
    counts = np.sum(~np.isnan(a), axis=dim, keepdims=True)
    return _pick(a, order, np.maximum((counts - 1) // 2, 0), dim, keepdim)


def _mode_dim(a, dim, keepdim):
    order = np.argsort(_sortable(a), axis=dim, kind="stable")
    ordered = np.take_along_axis(a, order, axis=dim)
    moved = np.moveaxis(ordered, dim, -1)
    positions = np.arange(moved.shape[-1])
    starts = np.ones(moved.shape, dtype=bool)
    starts[..., 1:] = moved[..., 1:] != moved[..., :-1]
    run_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=-1)
    # The first position where a run reaches the longest length ends the smallest most frequent value,
    # and (the sort being stable) holds its last occurrence: PyTorch's choice.
    end = np.argmax(positions - run_start, axis=-1)
    return _pick(a, order, np.expand_dims(end, dim), dim, keepdim)


def _kthvalue_dim(a, dim, keepdim, k):
    return _pick(a, _stable_argsort(a, dim, False), k - 1, dim, keepdim)


def _sort_dim(a, dim, keepdim, descending):
    order = _stable_argsort(a, dim, descending)
    return np.take_along_axis(a, order, axis=dim), order.astype(np.int64, copy=False)


def _topk_dim(a, dim, keepdim, k, largest):
    n = a.shape[dim]
    if 0 < k and 4 * k < n:
        # Partition first (NaN counts as the largest, as in PyTorch), then sort only the k candidates.
        keys = _sortable(a)
        candidates = np.argpartition(keys, n - k if largest else k - 1, axis=dim)
        candidates = np.take(candidates, np.arange(n - k, n) if largest else np.arange(k), axis=dim)
        within = _stable_argsort(np.take_along_axis(keys, candidates, axis=dim), dim, largest)
        order = np.take_along_axis(candidates, within, axis=dim)
    else:
        order = np.take(_stable_argsort(a, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(a, order, axis=dim), order.astype(np.int64, copy=False)


def _cumulative_extreme(a, dim, accumulate):
    compute = _sortable(a)
    values = accumulate(compute, axis=dim)
    chosen = compute == values
    if _is_float(compute):
        chosen |= np.isnan(compute)
    shape = [1] * a.ndim
    shape[dim] = a.shape[dim]
    positions = np.arange(a.shape[dim]).reshape(shape)
    # Ties and NaNs move the index to the latest position, as PyTorch does.
    indices = np.maximum.accumulate(np.where(chosen, positions, 0), axis=dim)
    return values.astype(a.dtype, copy=False), indices.astype(np.int64, copy=False)


def _cummax_dim(a, dim, keepdim):
    return _cumulative_extreme(a, dim, np.maximum.accumulate)


def _cummin_dim(a, dim, keepdim):
    return _cumulative_extreme(a, dim, np.minimum.accumulate)


MaxDim = _selecting_op("max_dim", _max_dim)
MinDim = _selecting_op("min_dim", _min_dim)
MedianDim = _selecting_op("median_dim", _median_dim)
NanmedianDim = _selecting_op("nanmedian_dim", _nanmedian_dim)
ModeDim = _selecting_op("mode", _mode_dim)
Kthvalue = _selecting_op("kthvalue", _kthvalue_dim)
Sort = _selecting_op("sort", _sort_dim, keeps_dim=True)
Topk = _selecting_op("topk", _topk_dim, keeps_dim=True)
Cummax = _selecting_op("cummax", _cummax_dim, keeps_dim=True, accumulate=True)
Cummin = _selecting_op("cummin", _cummin_dim, keeps_dim=True, accumulate=True)


# ------------------------------------------------------------------------------------------ max, min
def _share_among_ties(grad, x, out, dims, keepdim, nan_matches):
    """The gradient of a max/min/median over ``dims``: split evenly among the elements equal to the result."""
    x_data = x._data
    out_data = out._data if keepdim or not dims else out._data.reshape(_kept_shape(x_data.shape, dims))
    chosen = x_data == out_data
    if nan_matches and _is_float(x_data):
        chosen |= np.isnan(x_data) & np.isnan(out_data)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = chosen / np.sum(chosen, axis=dims, keepdims=True)
    return _restore_reduced(grad, x_data.shape, dims, keepdim) * _const(weight.astype(grad._data.dtype))


def _extreme_op(op_name, reduce, nan_matches):
    """Register a max/min-like reduction whose gradient is shared among ties (NaN ties NaN for max()/min())."""
    def forward(ctx, a, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return reduce(a, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        return _share_among_ties(grad, ctx.inputs[0], ctx.output, ctx.dims, ctx.keepdim, nan_matches)

    return register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                  "save": ("inputs", "output"), "forward": forward,
                                                  "backward": backward}))


Amax = _extreme_op("amax", np.max, False)
Amin = _extreme_op("amin", np.min, False)
MaxAll = _extreme_op("max", np.max, True)
MinAll = _extreme_op("min", np.min, True)


def _check_numel_for_full_reduction(input, op_name, error=RuntimeError):
    if input._data.size == 0:
        raise op_error(error, op_name, f"{op_name}(): Expected reduction dim to be specified for input.numel() == 0. "
                       "Specify the reduction dim with the 'dim' argument.")


def _elementwise_extreme(input, other, op_name, out):
    from ember import ops
    elementwise = getattr(ops, "maximum" if op_name == "max" else "minimum", None)
    if elementwise is not None:
        return elementwise(input, other, out=out) if out is not None else elementwise(input, other)
    # Until ember.maximum/minimum exist: the same values, NaN-propagating, without torch's tie split.
    pick_input = (input > other) if op_name == "max" else (input < other)
    pick_input = pick_input | (input != input)
    return _out(Where(pick_input & (other == other), input, other), out)


def _max_min(input, dim, keepdim, other, out, op_name):
    if isinstance(dim, Tensor) or other is not None:
        return _elementwise_extreme(input, dim if other is None else other, op_name, out)
    if dim is None:
        _check_numel_for_full_reduction(input, op_name)
        full = MaxAll if op_name == "max" else MinAll
        return _out(full(input, dims=tuple(range(input._data.ndim)), keepdim=False), out)
    axis = _single_dim(input, dim, op_name)
    if input._data.ndim:
        _check_nonempty_dims(input, (axis,), op_name)
    op = MaxDim if op_name == "max" else MinDim
    result_type = _return_types.max if op_name == "max" else _return_types.min
    return _out(result_type(op(input, dim=axis, keepdim=keepdim)), out)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """The largest element; with ``dim``, ``(values, indices)`` of the largest along it; with a tensor, the
    elementwise maximum. NaN is the largest value; ties pick the first index.

    >>> x = ember.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]])
    >>> ember.max(x)
    tensor(7.)
    >>> ember.max(x, 1).indices
    tensor([1, 0])
    """
    return _max_min(input, dim, keepdim, other, out, "max")


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """The smallest element; with ``dim``, ``(values, indices)`` of the smallest along it (see :func:`max`).

    >>> ember.min(ember.tensor([[1.0, 5.0], [7.0, 0.0]]), dim=0)
    ember.return_types.min(
    values=tensor([1., 0.]),
    indices=tensor([0, 1]))
    """
    return _max_min(input, dim, keepdim, other, out, "min")


def _amax_amin(input, dim, keepdim, out, op, op_name):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        _check_numel_for_full_reduction(input, op_name)
    dims = _reduction_dims(input, dim, op_name)
    _check_nonempty_dims(input, dims, op_name)
    return _out(op(input, dims=dims, keepdim=keepdim), out)


def amax(input, dim=(), keepdim=False, *, out=None):
    """The largest values over ``dim`` (an int or tuple; all dims by default); ties share the gradient.

    >>> ember.amax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([5., 7.])
    """
    return _amax_amin(input, dim, keepdim, out, Amax, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    """The smallest values over ``dim`` (an int or tuple; all dims by default); ties share the gradient.

    >>> ember.amin(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=(0, 1))
    tensor(1.)
    """
    return _amax_amin(input, dim, keepdim, out, Amin, "amin")


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` over ``dim`` (or all elements) in one call.

    >>> ember.aminmax(ember.tensor([3.0, -1.0, 2.0]))
    ember.return_types.aminmax(
    min=tensor(-1.),
    max=tensor(3.))
    """
    if dim is None:
        if input._data.size == 0:
            raise op_error(RuntimeError, "aminmax", "aminmax(): cannot compute aminmax over an empty dimension as "
                           "the operation has no identity.")
        dims = tuple(range(input._data.ndim))
    else:
        dims = (_single_dim(input, dim, "aminmax"),) if input._data.ndim else ()
        _check_nonempty_dims(input, dims, "aminmax")
    smallest, largest = Amin(input, dims=dims, keepdim=keepdim), Amax(input, dims=dims, keepdim=keepdim)
    return _out(_return_types.aminmax((smallest, largest)), out)


def _arg_extreme_op(op_name, pick):
    def forward(a, dim, keepdim):
        a = _sortable(a)
        if dim is None:
            index = pick(a.reshape(-1))
            return np.asarray(index, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ())
        if a.ndim == 0:
            return np.zeros((), dtype=np.int64)
        return pick(a, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)

    return register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                  "forward": forward}))


Argmax = _arg_extreme_op("argmax", np.argmax)
Argmin = _arg_extreme_op("argmin", np.argmin)


def _arg_extreme(input, dim, keepdim, op, op_name):
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f"{op_name}(): does not support bool input")
    if dim is None:
        _check_numel_for_full_reduction(input, op_name, IndexError)
        return op(input, dim=None, keepdim=keepdim)
    axis = _single_dim(input, dim, op_name)
    if input._data.ndim:
        _check_nonempty_dims(input, (axis,), op_name)
    return op(input, dim=axis, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element along ``dim``, or in the flattened tensor when ``dim`` is None.

    >>> ember.argmax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]))
    tensor(2)
    >>> ember.argmax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1, keepdim=True)
    tensor([[1],
            [0]])
    """
    return _out(_arg_extreme(input, dim, keepdim, Argmax, "argmax"), out)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element along ``dim``, or in the flattened tensor when ``dim`` is None.

    >>> ember.argmin(ember.tensor([4.0, 1.0, 1.0]))
    tensor(1)
    """
    return _out(_arg_extreme(input, dim, keepdim, Argmin, "argmin"), out)


# ------------------------------------------------------------------------------------------ logsumexp
@register_op
class Logsumexp:
    name = "logsumexp"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        compute = _upcast(a)
        if compute.size == 0:
            return np.full(_reduced_shape(a.shape, dims, keepdim), -np.inf, dtype=a.dtype)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            shift = np.max(compute, axis=dims, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0)
            total = np.log(np.sum(np.exp(compute - shift), axis=dims, keepdims=True)) + shift
        if not keepdim:
            total = total.reshape(_reduced_shape(a.shape, dims, False))
        return total.astype(a.dtype, copy=False)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        shape = x._data.shape
        out = _restore_reduced(ctx.output, shape, ctx.dims, ctx.keepdim)
        return _restore_reduced(grad, shape, ctx.dims, ctx.keepdim) * Exp(x - out)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow; integer inputs give floats.

    >>> ember.logsumexp(ember.tensor([1000.0, 1000.0], dtype=ember.float64), dim=0).item()
    1000.6931471805599
    """
    dims = _reduction_dims(input, dim, "logsumexp")
    if input._dtype.category < 2:
        input = input.to(_dt.get_default_dtype())
    return _out(Logsumexp(input, dims=dims, keepdim=keepdim), out)


# ------------------------------------------------------------------------------------------ norms
@register_op
class VectorNorm:
    name = "linalg_vector_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, ord, dims, keepdim):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        magnitude = np.abs(_upcast(a))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if ord == 2 and not keepdim and len(dims) == a.ndim and magnitude.flags.c_contiguous:
                flat = magnitude.reshape(-1)
                result = np.sqrt(np.dot(flat, flat))
            elif ord == 2:
                result = np.sqrt(np.sum(magnitude * magnitude, axis=dims, keepdims=keepdim))
            elif ord == 1:
                result = np.sum(magnitude, axis=dims, keepdims=keepdim)
            elif ord == math.inf:
                result = np.max(magnitude, axis=dims, keepdims=keepdim, initial=0)
            elif ord == -math.inf:
                result = np.min(magnitude, axis=dims, keepdims=keepdim)
            elif ord == 0:
                result = np.sum(magnitude != 0, axis=dims, keepdims=keepdim).astype(magnitude.dtype)
            else:
                result = np.sum(magnitude ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
        return np.asarray(result).astype(a.dtype, copy=False)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        p = ctx.ord
        shape = x._data.shape
        grad = _restore_reduced(grad, shape, ctx.dims, ctx.keepdim)
        norm = _restore_reduced(ctx.output, shape, ctx.dims, ctx.keepdim)
        if p == 0:
            return x * 0
        if p == 1:
            return grad * Sign(x)
        if p == 2:
            return x * Where(norm == 0, 0, grad / norm)
        if p == math.inf or p == -math.inf:
            return _share_among_ties(grad, Abs(x), norm, ctx.dims, True, False) * Sign(x)
        magnitude = Abs(x)
        if p < 1:
            scaled = Where(x == 0, 0, Sign(x) * magnitude ** (p - 1))
            return scaled * grad * norm ** (1 - p)
        scaled = Sign(x) * magnitude ** (p - 1) if p < 2 else x * magnitude ** (p - 2)
        return scaled * Where(norm == 0, 0, grad / norm ** (p - 1))


def _norm_dtype(input, dtype, op_name):
    if input._dtype.category < 2:
        raise op_error(RuntimeError, op_name, "Expected a floating point or complex tensor as input. Got "
                       f"{_torch_type_name(input._dtype)}")
    if dtype is None:
        return input
    dt = _dt.to_dtype(dtype)
    if dt.category < 2:
        raise op_error(RuntimeError, op_name, f"dtype should be floating point or complex, but got {_torch_type_name(dt)}")
    if _dt.promote_types(input._dtype, dt) is not dt:
        raise op_error(RuntimeError, op_name, f"the dtype of the input ({_torch_type_name(input._dtype)}) should be "
                       f"convertible without narrowing to the specified dtype ({_torch_type_name(dt)})")
    return input.to(dt)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` viewed as a vector over ``dim`` (all dims by default): ``sum(|x|**ord)**(1/ord)``,
    with ``inf``/``-inf`` the max/min of ``|x|`` and ``0`` the count of nonzeros.

    >>> ember.ops.reduce.vector_norm(ember.tensor([3.0, -4.0]))
    tensor(5.)
    >>> ember.ops.reduce.vector_norm(ember.tensor([[3.0, -4.0]]), ord=float("inf"), dim=1)
    tensor([4.])
    """
    op_name = "linalg.vector_norm"
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise op_error(TypeError, op_name, f"argument 'ord' must be Number, not {type(ord).__name__}")
    x = _norm_dtype(x, dtype, op_name)
    dims = _reduction_dims(x, dim, op_name)
    if ord < 0 or ord == math.inf:
        shape = x._data.shape
        if _builtins.any(shape[d] == 0 for d in dims):
            shown = "inf" if ord == math.inf else ("-inf" if ord == -math.inf else f"{ord:g}")
            raise op_error(RuntimeError, op_name, f"linalg.vector_norm cannot compute the {shown} norm on an empty "
                           "tensor because the operation does not have an identity")
    return _out(VectorNorm(x, ord=float(ord), dims=dims, keepdim=keepdim), out)


@register_op
class SingularValues:
    """Singular values of a batch of matrices, for the nuclear and spectral norms (gradient ``U diag(g) Vh``)."""

    name = "matrix_norm_singular_values"
    kind = "opaque"
    promote = "none"

    def forward(ctx, a):
        u, s, vh = np.linalg.svd(_upcast(a), full_matrices=False)
        ctx.u, ctx.vh = u.astype(a.dtype, copy=False), vh.astype(a.dtype, copy=False)
        return s.astype(a.dtype, copy=False)

    def backward(ctx, grad):
        u, vh = _const(ctx.u), _const(ctx.vh)
        weighted = u * grad.unsqueeze(-2)
        return Sum(weighted.unsqueeze(-1) * vh.unsqueeze(-3), dims=(weighted._data.ndim - 1,), keepdim=False,
                   dtype=grad._dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``, ``1``, ``-1``, ``2``, ``-2``.

    >>> ember.ops.reduce.matrix_norm(ember.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    op_name = "linalg.matrix_norm"
    A = _norm_dtype(A, dtype, op_name)
    ndim = A._data.ndim
    if ndim < 2:
        raise op_error(RuntimeError, op_name, "The input tensor A must have at least 2 dimensions.")
    if isinstance(dim, int) or len(dim) != 2:
        shown = dim if isinstance(dim, int) else " ".join(str(d) for d in dim)
        raise op_error(RuntimeError, op_name, f"dim must be a 2-tuple. Got {shown}")
    dim0, dim1 = (wrap_dim(d, ndim, op_name) for d in dim)
    if dim0 == dim1:
        raise op_error(RuntimeError, op_name, f"dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return _out(VectorNorm(A, ord=2.0, dims=(dim0, dim1), keepdim=keepdim), out)
    if ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, str):
        if abs(ord) == math.inf:
            dim0, dim1 = dim1, dim0
        if not keepdim and dim0 < dim1:
            dim1 -= 1
        summed = VectorNorm(A, ord=1.0, dims=(dim0,), keepdim=keepdim)
        return _out((Amax if ord > 0 else Amin)(summed, dims=(dim1,), keepdim=keepdim), out)
    if ord in ("nuc", 2, -2):
        moved = A.permute(*[d for d in range(ndim) if d not in (dim0, dim1)], dim0, dim1)
        singular = _singular_values(moved)
        if ord == "nuc":
            result = Sum(singular, dims=(ndim - 2,), keepdim=False, dtype=singular._dtype)
        else:
            result = (Amax if ord == 2 else Amin)(singular, dims=(ndim - 2,), keepdim=False)
        if keepdim:
            for d in _builtins.sorted((dim0, dim1)):
                result = result.unsqueeze(d)
        return _out(result, out)
    raise op_error(RuntimeError, op_name, f"Order {ord} not supported.")


def _singular_values(matrices):
    from ember.ops.linalg import svdvals  # the linalg family imports this one: imported when first used
    return svdvals(matrices)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The ``p``-norm: ``'fro'`` (2-norm of all elements or of ``dim``), ``'nuc'``, or a number (vector norm).

    >>> ember.norm(ember.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor(5.)
    >>> ember.norm(ember.tensor([[3.0, 4.0], [1.0, 1.0]]), p=1, dim=1)
    tensor([7., 2.])
    """
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype, out=out)
        if dims is None:
            dims = list(range(input._data.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype, out=out)


LINALG = {"vector_norm": vector_norm, "matrix_norm": matrix_norm}


# ------------------------------------------------------------------------------------------ scans
def _scan_input(a, dim):
    """0-d data as one element along axis 0, so NumPy's accumulate works; the caller restores the shape."""
    return (a.reshape(1), 0) if a.ndim == 0 else (a, dim)


@register_op
class Cumsum:
    name = "cumsum"
    kind = "opaque"
    promote = "none"

    def forward(ctx, a, dim, dtype, reverse):
        ctx.dim, ctx.reverse = dim, reverse
        shape = a.shape
        a, dim = _scan_input(a, dim)
        low_precision = dtype is _dt.float16 or dtype is _dt.bfloat16
        compute_dtype = _FLOAT32 if low_precision else dtype.numpy_dtype
        if reverse:
            result = np.flip(np.cumsum(np.flip(a, dim), axis=dim, dtype=compute_dtype), dim)
        else:
            result = np.cumsum(_upcast(a) if a.dtype == _BFLOAT16 else a, axis=dim, dtype=compute_dtype)
        return result.astype(dtype.numpy_dtype, copy=False).reshape(shape)

    def backward(ctx, grad):
        return Cumsum(grad, dim=ctx.dim, dtype=grad._dtype, reverse=not ctx.reverse)


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sum along ``dim``; bool and integer inputs give int64.

    >>> ember.cumsum(ember.tensor([1, 2, 3]), dim=0)
    tensor([1, 3, 6])
    """
    axis = _single_dim(input, dim, "cumsum")
    return _out(Cumsum(input, dim=axis, dtype=_result_dtype(input, dtype, True), reverse=False), out)


def cumsum_(input, dim, *, dtype=None):
    """In-place :func:`cumsum`.

    >>> x = ember.tensor([1.0, 2.0, 3.0]); x.cumsum_(0)
    tensor([1., 3., 6.])
    """
    axis = _single_dim(input, dim, "cumsum_")
    return apply_inplace(Cumsum, input, dim=axis, dtype=input._dtype if dtype is None else _dt.to_dtype(dtype),
                         reverse=False)


@register_op
class Cumprod:
    name = "cumprod"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, dim, dtype):
        ctx.dim = dim
        shape = a.shape
        a, axis = _scan_input(a, dim)
        low_precision = dtype is _dt.float16 or dtype is _dt.bfloat16
        with np.errstate(over="ignore", invalid="ignore"):
            result = np.cumprod(a, axis=axis, dtype=_FLOAT32 if low_precision else dtype.numpy_dtype)
        return result.astype(dtype.numpy_dtype, copy=False).reshape(shape)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        out = ctx.output
        if x._data.ndim == 0:
            return grad
        dim = ctx.dim
        if x._dtype is not out._dtype:
            x = x.to(out._dtype)
        x_data = x._data
        if x_data.size == 0 or not (x_data == 0).any():
            return Cumsum(grad * out, dim=dim, dtype=grad._dtype, reverse=True) / x
        # d out_j / d x_k = prod_{i <= j, i != k} x_i. Before the first zero z of a row this is out_j / x_k;
        # at z it is (prod_{i<z} x_i) * (prod_{z<i<=j} x_i); after z every product holds x_z = 0.
        zeros_so_far = np.cumsum(x_data == 0, axis=dim)
        before = zeros_so_far == 0
        first_zero = (x_data == 0) & (zeros_so_far == 1)
        after = (zeros_so_far >= 1) & ~first_zero
        suffix_sums = Cumsum(grad * out, dim=dim, dtype=grad._dtype, reverse=True)
        before_zero = _where(before, suffix_sums / _where(before, x, 1), 0)
        prefix = Cumprod(_where(before, x, 1), dim=dim, dtype=out._dtype)
        suffix = Cumprod(_where(after, x, 1), dim=dim, dtype=out._dtype)
        at_zero = _where(first_zero, prefix * Cumsum(grad * suffix, dim=dim, dtype=grad._dtype, reverse=True), 0)
        return before_zero + at_zero


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative product along ``dim``; bool and integer inputs give int64. Gradients are exact with zeros.

    >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """
    axis = _single_dim(input, dim, "cumprod")
    return _out(Cumprod(input, dim=axis, dtype=_result_dtype(input, dtype, True)), out)


def cumprod_(input, dim, *, dtype=None):
    """In-place :func:`cumprod`.

    >>> x = ember.tensor([1.0, 2.0, 3.0]); x.cumprod_(0)
    tensor([1., 2., 6.])
    """
    axis = _single_dim(input, dim, "cumprod_")
    return apply_inplace(Cumprod, input, dim=axis, dtype=input._dtype if dtype is None else _dt.to_dtype(dtype))


@register_op
class Logcumsumexp:
    name = "logcumsumexp"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

    def forward(ctx, a, dim, reverse):
        ctx.dim, ctx.reverse = dim, reverse
        shape = a.shape
        compute, axis = _scan_input(_upcast(a), dim)
        with np.errstate(invalid="ignore"):
            if reverse:
                result = np.flip(np.logaddexp.accumulate(np.flip(compute, axis), axis=axis), axis)
            else:
                result = np.logaddexp.accumulate(compute, axis=axis)
        return result.astype(a.dtype, copy=False).reshape(shape)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        out = ctx.output
        # PyTorch's formula: split the gradient by sign so each part is accumulated in log space.
        lowest = float(_dt.finfo(grad._dtype).min)
        log_magnitude = Log(Abs(grad))
        positive = Where(grad > 0, log_magnitude, lowest)
        negative = Where(grad < 0, log_magnitude, lowest)
        flipped = not ctx.reverse
        from_positive = Exp(Logcumsumexp(positive - out, dim=ctx.dim, reverse=flipped) + x)
        from_negative = Exp(Logcumsumexp(negative - out, dim=ctx.dim, reverse=flipped) + x)
        return from_positive - from_negative


def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(input)))`` along ``dim``, computed without overflow.

    >>> ember.logcumsumexp(ember.tensor([0.0, 0.0, 1000.0]), dim=0)
    tensor([0.0000e+00, 6.9315e-01, 1.0000e+03])
    """
    axis = _single_dim(input, dim, "logcumsumexp")
    if input._dtype.category < 2:
        raise op_error(RuntimeError, "logcumsumexp", f'"logcumsumexp_out_cpu" not implemented for '
                       f"'{_torch_type_name(input._dtype)}'")
    return _out(Logcumsumexp(input, dim=axis, reverse=False), out)


def _cumulative_extreme_public(input, dim, op, result_type, op_name):
    axis = _single_dim(input, dim, op_name)
    return result_type(op(input, dim=axis, keepdim=True))


def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and the index where it was reached (the latest one on ties; NaN sticks).

    >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0, 5.0]), dim=0)
    ember.return_types.cummax(
    values=tensor([1., 3., 3., 5.]),
    indices=tensor([0, 1, 1, 3]))
    """
    return _out(_cumulative_extreme_public(input, dim, Cummax, _return_types.cummax, "cummax"), out)


def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and the index where it was reached (see :func:`cummax`).

    >>> ember.cummin(ember.tensor([3.0, 1.0, 2.0]), dim=0).values
    tensor([3., 1., 1.])
    """
    return _out(_cumulative_extreme_public(input, dim, Cummin, _return_types.cummin, "cummin"), out)


# ------------------------------------------------------------------------------------------ logical reductions
def _logical_reduction_op(op_name, reduce):
    def forward(a, dims, keepdim):
        result = reduce(a, axis=dims, keepdims=keepdim)
        return result.astype(np.uint8) if a.dtype == np.uint8 else np.asarray(result)

    return register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                  "forward": forward}))


All = _logical_reduction_op("all", np.all)
Any = _logical_reduction_op("any", np.any)


def _logical_dims(input, dim, op_name):
    # Unlike sum, all/any over dim=() reduce nothing.
    if dim is None:
        return tuple(range(input._data.ndim))
    dims = wrap_dims(dim, input._data.ndim, op_name)
    return dims if input._data.ndim else ()


def all(input, dim=None, keepdim=False, *, out=None):
    """Whether every element (over ``dim``, if given) is nonzero; uint8 inputs give uint8 as in PyTorch.

    >>> ember.all(ember.tensor([[True, False], [True, True]]), dim=1)
    tensor([False,  True])
    """
    return _out(All(input, dims=_logical_dims(input, dim, "all"), keepdim=keepdim), out)


def any(input, dim=None, keepdim=False, *, out=None):
    """Whether any element (over ``dim``, if given) is nonzero; uint8 inputs give uint8 as in PyTorch.

    >>> ember.any(ember.tensor([0.0, 0.5]))
    tensor(True)
    """
    return _out(Any(input, dims=_logical_dims(input, dim, "any"), keepdim=keepdim), out)


@register_op
class CountNonzero:
    name = "count_nonzero"
    kind = "reduce"
    promote = "none"

    def forward(a, dims):
        return np.asarray(np.count_nonzero(a, axis=dims), dtype=np.int64)


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (an int or tuple; all by default), as int64.

    >>> ember.count_nonzero(ember.tensor([[0, 1, 2], [3, 0, 0]]), dim=1)
    tensor([2, 1])
    """
    return CountNonzero(input, dims=_reduction_dims(input, dim, "count_nonzero"))


# ------------------------------------------------------------------------------------------ order statistics
def _full_median_op(op_name, pick):
    def forward(ctx, a):
        flat = a.reshape(-1)
        if flat.size == 0:
            return np.asarray(np.nan, dtype=a.dtype)
        return pick(flat, 0, False)[0]

    def backward(ctx, grad):
        (x,) = ctx.inputs
        return _share_among_ties(grad, x, ctx.output, tuple(range(x._data.ndim)), False, True)

    return register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                  "save": ("inputs", "output"), "forward": forward,
                                                  "backward": backward}))


MedianAll = _full_median_op("median", _median_dim)
NanmedianAll = _full_median_op("nanmedian", _nanmedian_dim)


def _check_orderable(input, op_name, kernel):
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f'"{kernel}" not implemented for \'Bool\'')


def _selecting_reduction(input, dim, keepdim, op, result_type, op_name, **options):
    axis = _single_dim(input, dim, op_name)
    if input._data.ndim:
        _check_nonempty_dims(input, (axis,), op_name)
    return result_type(op(input, dim=axis, keepdim=keepdim, **options))


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median of all elements; with ``dim``, ``(values, indices)`` along it. NaN propagates.

    >>> ember.median(ember.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    >>> ember.median(ember.tensor([[4.0, 1.0, 3.0], [0.0, 9.0, 8.0]]), dim=1).indices
    tensor([2, 2])
    """
    _check_orderable(input, "median", "median_cpu")
    if dim is None:
        return _out(MedianAll(input), out)
    return _out(_selecting_reduction(input, dim, keepdim, MedianDim, _return_types.median, "median"), out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Like :func:`median`, ignoring NaN (nan only where every element is NaN).

    >>> ember.nanmedian(ember.tensor([float("nan"), 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    _check_orderable(input, "nanmedian", "nanmedian_cpu")
    if dim is None:
        return _out(NanmedianAll(input), out)
    return _out(_selecting_reduction(input, dim, keepdim, NanmedianDim, _return_types.nanmedian, "nanmedian"), out)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and its last index.

    >>> ember.mode(ember.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
    ember.return_types.mode(
    values=tensor(1.),
    indices=tensor(3))
    """
    return _out(_selecting_reduction(input, dim, keepdim, ModeDim, _return_types.mode, "mode"), out)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element along ``dim`` (``k`` counts from 1) and its index.

    >>> ember.kthvalue(ember.tensor([5.0, 1.0, 4.0]), 2)
    ember.return_types.kthvalue(
    values=tensor(4.),
    indices=tensor(2))
    """
    _check_orderable(input, "kthvalue", "kthvalue_cpu")
    axis = _single_dim(input, dim, "kthvalue")
    size = input._data.shape[axis] if input._data.ndim else 1
    if not 1 <= k <= size:
        raise op_error(RuntimeError, "kthvalue", f"kthvalue(): selected number k out of range for dimension {axis}")
    return _out(_return_types.kthvalue(Kthvalue(input, dim=axis, keepdim=keepdim, k=int(k))), out)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorted values along ``dim`` and their indices; NaN sorts as the largest value. Always stable.

    >>> ember.sort(ember.tensor([3.0, float("nan"), 1.0]), descending=True)
    ember.return_types.sort(
    values=tensor([nan, 3., 1.]),
    indices=tensor([1, 0, 2]))
    """
    axis = _single_dim(input, dim, "sort")
    return _out(_return_types.sort(Sort(input, dim=axis, keepdim=True, descending=bool(descending))), out)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (see :func:`sort`).

    >>> ember.argsort(ember.tensor([[3, 1, 2]]), dim=1)
    tensor([[1, 2, 0]])
    """
    axis = _single_dim(input, dim, "argsort")
    data = input._data
    if data.ndim == 0:
        return from_array(np.zeros((), dtype=np.int64))
    return from_array(_stable_argsort(data, axis, bool(descending)).astype(np.int64, copy=False))


def msort(input, *, out=None):
    """``input`` sorted along its first dim.

    >>> ember.msort(ember.tensor([[2, 1], [0, 5]]))
    tensor([[0, 1],
            [2, 5]])
    """
    return _out(Sort(input, dim=0, keepdim=True, descending=False)[0], out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim``, in sorted order, and their indices.

    >>> ember.topk(ember.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    ember.return_types.topk(
    values=tensor([5., 4.]),
    indices=tensor([1, 3]))
    """
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, "topk", "topk does not support bool dtypes on CPU")
    axis = _single_dim(input, dim, "topk")
    size = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise op_error(RuntimeError, "topk", f"selected index k out of range (k={k}, size of dim {axis} is {size})")
    if input._data.ndim == 0:
        k = 1
    return _out(_return_types.topk(Topk(input, dim=axis, keepdim=True, k=int(k), largest=bool(largest))), out)


# ------------------------------------------------------------------------------------------ quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op_name):
    if input._dtype not in (_dt.float32, _dt.float64):
        raise op_error(RuntimeError, op_name, f"{op_name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise op_error(RuntimeError, op_name, f"{op_name}() interpolation must be one of linear, lower, higher, "
                       f"midpoint or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise op_error(RuntimeError, op_name, f"{op_name}() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise op_error(RuntimeError, op_name, f"{op_name}() q tensor must be same dtype as the input tensor")
        scalar_q = q._data.ndim == 0
        qs = q._data.reshape(-1).astype(np.float64)
    else:
        scalar_q = True
        qs = np.asarray([float(q)])
    if input._data.size == 0:
        raise op_error(RuntimeError, op_name, f"{op_name}() input tensor must be non-empty")
    if ((qs < 0) | (qs > 1)).any():
        raise op_error(RuntimeError, op_name, f"{op_name}() q must be in the range [0, 1] but got "
                       f"{qs[(qs < 0) | (qs > 1)][0]:g}")
    ndim = input._data.ndim
    if dim is None:
        rows = input.reshape(-1)
        kept = (1,) * ndim
    else:
        axis = _single_dim(input, dim, op_name)
        # The reduced dim moves last (PyTorch's layout); a size-1 dim keeps its place for keepdim.
        rows = input.unsqueeze(-1).transpose(axis, -1) if ndim else input.reshape(1)
        kept = rows._data.shape[:-1]
    ordered = Sort(rows, dim=rows._data.ndim - 1, keepdim=True, descending=False)[0]
    data = ordered._data
    n = data.shape[-1]
    nan = np.isnan(data)
    if ignore_nan:
        ranks = qs * (np.sum(~nan, axis=-1, keepdims=True) - 1)
        ranks = np.where(ranks < 0, 0, ranks)
    else:
        ranks = np.where(nan.any(axis=-1, keepdims=True), n - 1, qs * (n - 1))
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)
    below = ranks.astype(np.int64)
    values = ValueSelectingGather(ordered, from_array(below), dim=data.ndim - 1, keepdim=True, accumulate=True)
    if interpolation in ("linear", "midpoint"):
        above = np.ceil(ranks).astype(np.int64)
        upper = ValueSelectingGather(ordered, from_array(above), dim=data.ndim - 1, keepdim=True, accumulate=True)
        weights = np.full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - below
        values = values + (upper - values) * _const(weights.astype(data.dtype))
    # values: (*kept, len(q)) -> (len(q), *kept), then drop what the caller did not keep.
    result = values.permute(values._data.ndim - 1, *range(values._data.ndim - 1)) if dim is not None else values
    if dim is None:
        result = result.reshape((len(qs),) + (kept if keepdim else ()))
    elif not keepdim:
        result = result.reshape((len(qs),) + tuple(s for i, s in enumerate(kept) if i != axis or not ndim)
                                if ndim else (len(qs),))
    if scalar_q:
        result = result.reshape(result._data.shape[1:])
    return result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-quantiles (a number or 1-d tensor in [0, 1]) along ``dim`` or of all elements; NaN propagates.

    >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5000)
    >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), ember.tensor([0.25, 1.0]), interpolation="lower")
    tensor([1., 4.])
    """
    return _out(_quantile(input, q, dim, keepdim, interpolation, False, "quantile"), out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """Like :func:`quantile`, ignoring NaN.

    >>> ember.nanquantile(ember.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _out(_quantile(input, q, dim, keepdim, interpolation, True, "nanquantile"), out)


# ------------------------------------------------------------------------------------------ unique
def _as_unique_data(a):
    return a.astype(_FLOAT32) if a.dtype == _BFLOAT16 else a


@register_op
class Unique:
    """Sorted distinct values (or slices along ``dim``), the inverse mapping and the counts."""

    name = "unique"
    kind = "opaque"
    promote = "none"

    def forward(a, dim):
        data = _as_unique_data(a)
        if dim is None:
            flat = data.reshape(-1)
            order = np.argsort(flat, kind="stable")
            ordered = flat[order]
            starts = np.ones(ordered.shape, dtype=bool)
            # NaNs never equal each other, so each stays distinct, as in PyTorch.
            starts[1:] = ordered[1:] != ordered[:-1]
            groups = np.cumsum(starts) - 1
            inverse = np.empty(flat.shape, dtype=np.int64)
            inverse[order] = groups
            values = ordered[starts]
            counts = np.diff(np.append(np.flatnonzero(starts), flat.size))
            return values.astype(a.dtype, copy=False), inverse.reshape(a.shape), counts.astype(np.int64)
        values, inverse, counts = np.unique(data, axis=dim, return_inverse=True, return_counts=True)
        return values.astype(a.dtype, copy=False), inverse.reshape(-1).astype(np.int64), counts.astype(np.int64)


@register_op
class UniqueConsecutive:
    """Values (or slices along ``dim``) with consecutive repeats collapsed, the inverse mapping and the counts."""

    name = "unique_consecutive"
    kind = "opaque"
    promote = "none"

    def forward(a, dim):
        data = _as_unique_data(a)
        if dim is None:
            data, axis = data.reshape(-1), 0
        else:
            axis = dim
        moved = np.moveaxis(data, axis, 0)
        rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
        starts = np.ones(rows.shape[0], dtype=bool)
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        inverse = np.cumsum(starts) - 1
        counts = np.diff(np.append(np.flatnonzero(starts), rows.shape[0]))
        values = np.compress(starts, data, axis=axis)
        inverse = inverse.reshape(a.shape) if dim is None else inverse
        return values.astype(a.dtype, copy=False), inverse.astype(np.int64), counts.astype(np.int64)


def _unique_result(results, return_inverse, return_counts):
    values, inverse, counts = results
    if not return_inverse and not return_counts:
        return values
    return (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())


def _unique_dim(input, dim, op_name):
    if dim is None:
        return None
    axis = _single_dim(input, dim, op_name)
    shape = input._data.shape
    if _builtins.any(s == 0 for i, s in enumerate(shape) if i != axis):
        raise op_error(RuntimeError, op_name, "There are 0 sized dimensions, and they aren't selected, so unique "
                       "cannot be applied")
    return axis


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (sorted), optionally with the inverse indices and the counts.

    >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    (tensor([1, 2, 3]), tensor([2, 0, 2, 1]), tensor([1, 1, 2]))
    """
    axis = _unique_dim(input, dim, "unique")
    if axis is not None and input._data.ndim == 0:
        axis = None
    return _unique_result(Unique(input, dim=axis), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``).

    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1]), return_counts=True)
    (tensor([1, 2, 1]), tensor([2, 2, 1]))
    """
    axis = _unique_dim(input, dim, "unique_consecutive")
    if axis is not None and input._data.ndim == 0:
        axis = None
    return _unique_result(UniqueConsecutive(input, dim=axis), return_inverse, return_counts)


# ------------------------------------------------------------------------------------------ Tensor methods
def _tensor_norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(input, p, dim, keepdim, dtype=dtype)


def _tensor_unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(input, sorted, return_inverse, return_counts, dim)


TENSOR_METHODS = {
    "sum": sum, "mean": mean, "sum_to_size": sum_to_size, "nansum": nansum, "nanmean": nanmean, "prod": prod,
    "var": var, "std": std, "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax,
    "argmax": argmax, "argmin": argmin, "logsumexp": logsumexp, "norm": _tensor_norm, "cumsum": cumsum,
    "cumsum_": cumsum_, "cumprod": cumprod, "cumprod_": cumprod_, "logcumsumexp": logcumsumexp,
    "cummax": cummax, "cummin": cummin, "all": all, "any": any, "count_nonzero": count_nonzero,
    "median": median, "nanmedian": nanmedian, "mode": mode, "kthvalue": kthvalue, "quantile": quantile,
    "nanquantile": nanquantile, "sort": sort, "argsort": argsort, "msort": msort, "topk": topk,
    "unique": _tensor_unique, "unique_consecutive": unique_consecutive,
}
