"""Reductions, scans and sorting: sum, mean, prod, var/std, max/min, argmax, logsumexp, cumsum, median, mode,
quantile, sort, topk, unique, all/any, count_nonzero, bincount/histc, trace, cov/corrcoef ...

The rule for what lives here: an op that reduces a tensor over dims, or scans, sorts or picks along one,
treating its elements as values with no matrix structure. Vector and matrix norms are linear algebra and live
in ``decompositions.py``, products of matrices in ``products.py``. Each op is registered once with its function,
method and ``out=`` forms (see ``registry.py``); functions that choose among several ops (``max`` takes the full,
per-dim or elementwise one; ``median``, ``quantile``, ``var_mean`` ...) are registered with ``register_function``.

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
import warnings

import numpy as np

from ember import dtypes as _dt
from ember import return_types as _return_types
from ember.dtypes import opmath as _opmath
from ember.dtypes import rounded_like as _back
from ember.errors import op_error
from ember.ops.arguments import wrap_dim, wrap_dims
from ember.ops.arithmetic import Abs, Where
from ember.ops.math_functions import Exp, Log, Sqrt
from ember.ops.registry import _torch_type_name, apply_inplace, register_function, register_op, write_out
from ember.tensor import Tensor, from_array

_BFLOAT16 = np.dtype(_dt.bfloat16.numpy_dtype)
_FLOAT32 = np.dtype(np.float32)


# ------------------------------------------------------------------------------------------ helpers
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
    """``out=`` for functions whose result may be a (named) tuple of tensors, written one by one."""
    if out is None or not isinstance(result, tuple):
        result = result
        return result if out is None else write_out(result, out)
    for r, o in zip(result, out):
        write_out(r, o)
    return type(result)(tuple(out)) if hasattr(result, "_fields") else tuple(out)


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
    """Sum of all elements, or over ``dim`` (an int or tuple of ints); bool and integer inputs give int64.

    >>> ember.sum(ember.tensor([True, True, False]))
    tensor(2)
    >>> ember.sum(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), (0, 1), keepdim=True)
    tensor([[10.]])
    """

    name = "sum"
    kind = "reduce"
    promote = "none"
    method = True

    def function(input, dim=None, keepdim=False, *, dtype=None, out=None):
        dims = _reduction_dims(input, dim, "sum")
        result = Sum(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True))
        return result if out is None else write_out(result, out)

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
    """Arithmetic mean; integer inputs need ``dtype=`` as in PyTorch. The mean over no elements is nan.

    >>> ember.mean(ember.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    >>> ember.mean(ember.tensor([1, 2]), dtype=ember.float64).item()
    1.5
    """

    name = "mean"
    kind = "reduce"
    promote = "none"
    method = True

    def function(input, dim=None, keepdim=False, *, dtype=None, out=None):
        dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
        if dt.category < 2:
            raise op_error(RuntimeError, "mean", "mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_torch_type_name(dt)}")
        dims = _reduction_dims(input, dim, "mean")
        result = Mean(input, dims=dims, keepdim=keepdim, dtype=dt)
        return result if out is None else write_out(result, out)

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


@register_function(method=True)
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
    """Sum treating NaN as zero.

    >>> ember.nansum(ember.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """

    name = "nansum"
    kind = "reduce"
    promote = "none"
    method = True

    def function(input, dim=None, keepdim=False, *, dtype=None):
        dims = _reduction_dims(input, dim, "nansum")
        return Nansum(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True))

    def forward(ctx, a, dims, keepdim, dtype):
        ctx.dims = dims
        ctx.keepdim = keepdim
        if _is_float(a):
            ctx.kept = ~np.isnan(a)
            a = np.where(ctx.kept, a, 0)
        if dtype is _dt.float16 or dtype is _dt.bfloat16:
            return np.sum(a, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dtype.numpy_dtype)
        return np.sum(_opmath(a), axis=dims, keepdims=keepdim, dtype=dtype.numpy_dtype)

    def backward(ctx, grad):
        shape = ctx.input_meta[0][0]
        grad = _restore_reduced(grad, shape, ctx.dims, ctx.keepdim)
        return grad * _const(ctx.kept)


@register_function(method=True, out=True)
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
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
    return total / _const(counts.astype(total._data.dtype))


# ------------------------------------------------------------------------------------------ prod
@register_op
class Prod:
    """Product of all elements, or along one ``dim``; bool and integer inputs give int64.

    >>> ember.prod(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([ 2., 12.])
    >>> ember.prod(ember.tensor([2, 3]))
    tensor(6)
    """

    name = "prod"
    kind = "reduce"
    promote = "none"
    method = True

    def function(input, dim=None, keepdim=False, *, dtype=None):
        if dim is None:
            dims = tuple(range(input._data.ndim))
        else:
            dims = (_single_dim(input, dim, "prod"),) if input._data.ndim else ()
        return Prod(input, dims=dims, keepdim=keepdim, dtype=_result_dtype(input, dtype, True))
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
    return Cumprod.function(_where(first, 1, shifted), dim)


def _product_of_others(x, dim):
    """For each element, the product of all other elements along ``dim`` (differentiable, exact with zeros)."""
    reverse = np.arange(x._data.shape[dim] - 1, -1, -1)
    before = _exclusive_cumprod(x, dim)
    after = _take(_exclusive_cumprod(_take(x, dim, reverse), dim), dim, reverse)
    return before * after


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
    compute = _opmath(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = _count(a.shape, dims)
        centered = compute - np.mean(compute, axis=dims, keepdims=True) if n else compute
        squares = np.sum(centered * centered, axis=dims, keepdims=keepdim)
        result = squares / np.asarray(_builtins.max(n - correction, 0), dtype=squares.dtype)
    return _back(result, a)


def _var_backward(grad, x, dims, correction, keepdim):
    shape = x._data.shape
    grad = _restore_reduced(grad, shape, dims, keepdim)
    denominator = _builtins.max(_count(shape, dims) - correction, 0)
    scale = 2.0 / denominator if denominator else math.inf
    centered = x - Mean(x, dims=dims, keepdim=True, dtype=x._dtype)
    return grad * centered * scale


@register_op
class Var:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0).

    >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    >>> ember.var(x), ember.var(x, correction=0)
    (tensor(1.6667), tensor(1.2500))
    """

    name = "var"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    method = True

    def function(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        dims, c = _var_std_args(input, dim, unbiased, correction, "var")
        return Var(input, dims=dims, correction=c, keepdim=keepdim)

    def forward(ctx, a, dims, correction, keepdim):
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return _variance(a, dims, correction, keepdim)

    def backward(ctx, grad):
        return _var_backward(grad, ctx.inputs[0], ctx.dims, ctx.correction, ctx.keepdim)


@register_op
class Std:
    """Standard deviation over ``dim`` with Bessel's ``correction`` (see :func:`var`).

    >>> ember.std(ember.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
    tensor([1.4142, 0.0000])
    """

    name = "std"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")
    method = True

    def function(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        dims, c = _var_std_args(input, dim, unbiased, correction, "std")
        return Std(input, dims=dims, correction=c, keepdim=keepdim)

    def forward(ctx, a, dims, correction, keepdim):
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return np.sqrt(_variance(a, dims, correction, keepdim))

    def backward(ctx, grad):
        out = ctx.output
        # d sqrt(v) = dv / (2 sqrt(v)); PyTorch defines it as 0 where the std is 0.
        scaled = Where(out == 0, 0, grad / (out * 2))
        return _var_backward(scaled, ctx.inputs[0], ctx.dims, ctx.correction, ctx.keepdim)


@register_function
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(input, ...), mean(input, ...))`` in one call.

    >>> ember.var_mean(ember.tensor([1.0, 2.0, 3.0]))
    (tensor(1.), tensor(2.))
    """
    dims, c = _var_std_args(input, dim, unbiased, correction, "var_mean")
    return (Var(input, dims=dims, correction=c, keepdim=keepdim),
            Mean(input, dims=dims, keepdim=keepdim, dtype=input._dtype))


@register_function
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


def _selecting_op(op_name, compute, keeps_dim=False, accumulate=False, function=None):
    """Register an op returning ``(values, indices)`` picked along one dim by ``compute(a, dim, keepdim, **opts)``.

    Its gradient goes to the picked elements (``accumulate`` when one element can be picked more than once).
    ``keeps_dim``: the outputs have the input's rank (sort, topk, cummax) rather than a reduced one.
    ``function``: the op's public function (documented by its docstring, also a Tensor method; it writes ``out=``
    itself), for the ops that have one of their own (``max``, ``median`` ... choose among several ops).
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

    attrs = {"name": op_name, "kind": "reduce", "promote": "none", "forward": forward, "backward": backward}
    if function is not None:
        attrs.update(function=function, method=True, out=False, __doc__=function.__doc__, __module__=__name__)
    camel = "".join(part.title() for part in op_name.split("_"))
    return register_op(type(camel, (), attrs))


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


def _extreme_op(op_name, reduce, nan_matches, doc=None):
    """Register a max/min-like reduction whose gradient is shared among ties (NaN ties NaN for max()/min());
    with ``doc``, it is public (``amax``/``amin``: function, method and ``out=``)."""
    def forward(ctx, a, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        return reduce(a, axis=dims, keepdims=keepdim)

    def backward(ctx, grad):
        return _share_among_ties(grad, ctx.inputs[0], ctx.output, ctx.dims, ctx.keepdim, nan_matches)

    attrs = {"name": op_name, "kind": "reduce", "promote": "none", "save": ("inputs", "output"),
             "forward": forward, "backward": backward}
    if doc is not None:
        def function(input, dim=(), keepdim=False):
            if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
                _check_numel_for_full_reduction(input, op_name)
            dims = _reduction_dims(input, dim, op_name)
            _check_nonempty_dims(input, dims, op_name)
            return op(input, dims=dims, keepdim=keepdim)
        attrs.update(function=function, method=True, __doc__=doc, __module__=__name__)
    op = register_op(type(op_name.title(), (), attrs))
    return op


Amax = _extreme_op("amax", np.max, False, doc="""The largest values over ``dim`` (an int or tuple; all dims by default); ties
    share the gradient.

    >>> ember.amax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([5., 7.])
    """)
Amin = _extreme_op("amin", np.min, False, doc="""The smallest values over ``dim`` (an int or tuple; all dims by default); ties
    share the gradient.

    >>> ember.amin(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=(0, 1))
    tensor(1.)
    """)
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


@register_function(method=True)
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


@register_function(method=True)
def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """The smallest element; with ``dim``, ``(values, indices)`` of the smallest along it (see :func:`max`).

    >>> ember.min(ember.tensor([[1.0, 5.0], [7.0, 0.0]]), dim=0)
    ember.return_types.min(
    values=tensor([1., 0.]),
    indices=tensor([0, 1]))
    """
    return _max_min(input, dim, keepdim, other, out, "min")


@register_function(method=True)
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


def _arg_extreme_op(op_name, pick, doc):
    """Register ``argmax``/``argmin`` (the index ``pick`` chooses) with its function, method and ``out=``."""
    def forward(a, dim, keepdim):
        a = _sortable(a)
        if dim is None:
            index = pick(a.reshape(-1))
            return np.asarray(index, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ())
        if a.ndim == 0:
            return np.zeros((), dtype=np.int64)
        return pick(a, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)

    def function(input, dim=None, keepdim=False):
        if input._dtype is _dt.bool:
            raise op_error(RuntimeError, op_name, f"{op_name}(): does not support bool input")
        if dim is None:
            _check_numel_for_full_reduction(input, op_name, IndexError)
            return op(input, dim=None, keepdim=keepdim)
        axis = _single_dim(input, dim, op_name)
        if input._data.ndim:
            _check_nonempty_dims(input, (axis,), op_name)
        return op(input, dim=axis, keepdim=keepdim)

    op = register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                "forward": forward, "function": function, "method": True,
                                                "__doc__": doc, "__module__": __name__}))
    return op


Argmax = _arg_extreme_op("argmax", np.argmax, """Index of the largest element along ``dim``, or in the flattened tensor when ``dim``
    is None.

    >>> ember.argmax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]))
    tensor(2)
    >>> ember.argmax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1, keepdim=True)
    tensor([[1],
            [0]])
    """)
Argmin = _arg_extreme_op("argmin", np.argmin, """Index of the smallest element along ``dim``, or in the flattened tensor when ``dim``
    is None.

    >>> ember.argmin(ember.tensor([4.0, 1.0, 1.0]))
    tensor(1)
    """)


# ------------------------------------------------------------------------------------------ logsumexp
@register_op
class Logsumexp:
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow; integer inputs give floats.

    >>> ember.logsumexp(ember.tensor([1000.0, 1000.0], dtype=ember.float64), dim=0).item()
    1000.6931471805599
    """

    name = "logsumexp"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")
    method = True

    def function(input, dim, keepdim=False):
        dims = _reduction_dims(input, dim, "logsumexp")
        if input._dtype.category < 2:
            input = input.to(_dt.get_default_dtype())
        return Logsumexp(input, dims=dims, keepdim=keepdim)

    def forward(ctx, a, dims, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        compute = _opmath(a)
        if compute.size == 0:
            return np.full(_reduced_shape(a.shape, dims, keepdim), -np.inf, dtype=a.dtype)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            shift = np.max(compute, axis=dims, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0)
            total = np.log(np.sum(np.exp(compute - shift), axis=dims, keepdims=True)) + shift
        if not keepdim:
            total = total.reshape(_reduced_shape(a.shape, dims, False))
        return _back(total, a)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        shape = x._data.shape
        out = _restore_reduced(ctx.output, shape, ctx.dims, ctx.keepdim)
        return _restore_reduced(grad, shape, ctx.dims, ctx.keepdim) * Exp(x - out)


# ------------------------------------------------------------------------------------------ scans
def _scan_input(a, dim):
    """0-d data as one element along axis 0, so NumPy's accumulate works; the caller restores the shape."""
    return (a.reshape(1), 0) if a.ndim == 0 else (a, dim)


@register_op
class Cumsum:
    """Cumulative sum along ``dim``; bool and integer inputs give int64.

    >>> ember.cumsum(ember.tensor([1, 2, 3]), dim=0)
    tensor([1, 3, 6])
    """

    name = "cumsum"
    kind = "opaque"
    promote = "none"
    method = True

    def function(input, dim, *, dtype=None):
        axis = _single_dim(input, dim, "cumsum")
        return Cumsum(input, dim=axis, dtype=_result_dtype(input, dtype, True), reverse=False)

    def inplace(self, dim, *, dtype=None):
        axis = _single_dim(self, dim, "cumsum_")
        return apply_inplace(Cumsum, self, dim=axis, dtype=self._dtype if dtype is None else _dt.to_dtype(dtype),
                             reverse=False)

    def forward(ctx, a, dim, dtype, reverse):
        ctx.dim, ctx.reverse = dim, reverse
        shape = a.shape
        a, dim = _scan_input(a, dim)
        low_precision = dtype is _dt.float16 or dtype is _dt.bfloat16
        compute_dtype = _FLOAT32 if low_precision else dtype.numpy_dtype
        if reverse:
            result = np.flip(np.cumsum(np.flip(a, dim), axis=dim, dtype=compute_dtype), dim)
        else:
            result = np.cumsum(_opmath(a) if a.dtype == _BFLOAT16 else a, axis=dim, dtype=compute_dtype)
        return result.astype(dtype.numpy_dtype, copy=False).reshape(shape)

    def backward(ctx, grad):
        return Cumsum(grad, dim=ctx.dim, dtype=grad._dtype, reverse=not ctx.reverse)


@register_op
class Cumprod:
    """Cumulative product along ``dim``; bool and integer inputs give int64. Gradients are exact with zeros.

    >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """

    name = "cumprod"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    method = True

    def function(input, dim, *, dtype=None):
        axis = _single_dim(input, dim, "cumprod")
        return Cumprod(input, dim=axis, dtype=_result_dtype(input, dtype, True))

    def inplace(self, dim, *, dtype=None):
        axis = _single_dim(self, dim, "cumprod_")
        return apply_inplace(Cumprod, self, dim=axis, dtype=self._dtype if dtype is None else _dt.to_dtype(dtype))

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


@register_op
class Logcumsumexp:
    """``log(cumsum(exp(input)))`` along ``dim``, computed without overflow.

    >>> ember.logcumsumexp(ember.tensor([0.0, 0.0, 1000.0]), dim=0)
    tensor([0.0000e+00, 6.9315e-01, 1.0000e+03])
    """

    name = "logcumsumexp"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    method = True

    def function(input, dim):
        axis = _single_dim(input, dim, "logcumsumexp")
        if input._dtype.category < 2:
            raise op_error(RuntimeError, "logcumsumexp", f'"logcumsumexp_out_cpu" not implemented for '
                           f"'{_torch_type_name(input._dtype)}'")
        return Logcumsumexp(input, dim=axis, reverse=False)

    def forward(ctx, a, dim, reverse):
        ctx.dim, ctx.reverse = dim, reverse
        shape = a.shape
        compute, axis = _scan_input(_opmath(a), dim)
        with np.errstate(invalid="ignore"):
            if reverse:
                result = np.flip(np.logaddexp.accumulate(np.flip(compute, axis), axis=axis), axis)
            else:
                result = np.logaddexp.accumulate(compute, axis=axis)
        return _back(result, a).reshape(shape)

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


def _cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and the index where it was reached (the latest one on ties; NaN sticks).

    >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0, 5.0]), dim=0)
    ember.return_types.cummax(
    values=tensor([1., 3., 3., 5.]),
    indices=tensor([0, 1, 1, 3]))
    """
    axis = _single_dim(input, dim, "cummax")
    return _out(_return_types.cummax(Cummax(input, dim=axis, keepdim=True)), out)


Cummax = _selecting_op("cummax", _cummax_dim, keeps_dim=True, accumulate=True, function=_cummax)


def _cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and the index where it was reached (see :func:`cummax`).

    >>> ember.cummin(ember.tensor([3.0, 1.0, 2.0]), dim=0).values
    tensor([3., 1., 1.])
    """
    axis = _single_dim(input, dim, "cummin")
    return _out(_return_types.cummin(Cummin(input, dim=axis, keepdim=True)), out)


Cummin = _selecting_op("cummin", _cummin_dim, keeps_dim=True, accumulate=True, function=_cummin)


# ------------------------------------------------------------------------------------------ logical reductions
def _logical_reduction_op(op_name, reduce, doc):
    """Register ``all``/``any`` (``reduce`` is NumPy's) with its function, method and ``out=``."""
    def forward(a, dims, keepdim):
        result = reduce(a, axis=dims, keepdims=keepdim)
        return result.astype(np.uint8) if a.dtype == np.uint8 else np.asarray(result)

    def function(input, dim=None, keepdim=False):
        # Unlike sum, all/any over dim=() reduce nothing.
        if dim is None:
            dims = tuple(range(input._data.ndim))
        else:
            dims = wrap_dims(dim, input._data.ndim, op_name) if input._data.ndim else ()
        return op(input, dims=dims, keepdim=keepdim)

    op = register_op(type(op_name.title(), (), {"name": op_name, "kind": "reduce", "promote": "none",
                                                "forward": forward, "function": function, "method": True,
                                                "__doc__": doc, "__module__": __name__}))
    return op


All = _logical_reduction_op("all", np.all, """Whether every element (over ``dim``, if given) is nonzero; uint8 inputs give uint8 as
    in PyTorch.

    >>> ember.all(ember.tensor([[True, False], [True, True]]), dim=1)
    tensor([False,  True])
    """)
Any = _logical_reduction_op("any", np.any, """Whether any element (over ``dim``, if given) is nonzero; uint8 inputs give uint8 as in
    PyTorch.

    >>> ember.any(ember.tensor([0.0, 0.5]))
    tensor(True)
    """)


@register_op
class CountNonzero:
    """Number of nonzero elements over ``dim`` (an int or tuple; all by default), as int64.

    >>> ember.count_nonzero(ember.tensor([[0, 1, 2], [3, 0, 0]]), dim=1)
    tensor([2, 1])
    """

    name = "count_nonzero"
    kind = "reduce"
    promote = "none"
    method = True
    out = False

    def function(input, dim=None):
        return CountNonzero(input, dims=_reduction_dims(input, dim, "count_nonzero"))

    def forward(a, dims):
        return np.asarray(np.count_nonzero(a, axis=dims), dtype=np.int64)


# ------------------------------------------------------------------------------------------ counting, histograms
@register_op
class Bincount:
    """How often each value ``0 .. max(input)`` occurs in a 1-d tensor of non-negative integers (int64), or the sum
    of ``weights`` at its positions (float32 for float32 weights, else float64); at least ``minlength`` bins.

    >>> ember.bincount(ember.tensor([1, 3, 1]), minlength=5)
    tensor([0, 2, 0, 1, 0])
    >>> ember.tensor([0, 2, 2]).bincount(ember.tensor([0.5, 1.0, 2.0]))
    tensor([0.5000, 0.0000, 3.0000])
    """

    name = "bincount"
    kind = "reduce"
    promote = "none"
    method = True
    out = False

    def function(input, weights=None, minlength=0):
        if input._dtype.category != 1:
            raise op_error(NotImplementedError, "bincount",
                           f'"bincount_cpu" not implemented for \'{_torch_type_name(input._dtype)}\'')
        if minlength < 0:
            raise op_error(RuntimeError, "bincount", "minlength should be >= 0")
        data = input._data
        if data.ndim != 1 or (data.size and data.min() < 0):
            raise op_error(RuntimeError, "bincount", "bincount only supports 1-d non-negative integral inputs.")
        if weights is not None and (weights._data.ndim != 1 or weights._data.shape[0] != data.shape[0]):
            raise op_error(RuntimeError, "bincount", "weights should be 1-d and have the same length as input")
        return Bincount(input, weights, minlength=int(minlength))

    def forward(a, weights, minlength):
        length = _builtins.max(minlength, int(a.max()) + 1 if a.size else 0)
        if weights is None:
            return np.bincount(a, minlength=length).astype(np.int64, copy=False)
        if weights.dtype == _FLOAT32:  # PyTorch adds float32 weights one by one in float32
            out = np.zeros(length, _FLOAT32)
            np.add.at(out, a, weights)
            return out
        return np.bincount(a, weights=weights.astype(np.float64), minlength=length)


@register_op
class Histc:
    """A histogram of the elements in ``bins`` equal bins between ``min`` and ``max`` (the data's own extremes when
    they are equal), in the input's floating dtype; elements outside are ignored, ``max`` falls in the last bin.

    >>> ember.histc(ember.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """

    name = "histc"
    kind = "reduce"
    promote = "none"
    method = True

    def function(input, bins=100, min=0, max=0):
        if not isinstance(bins, int):
            raise op_error(TypeError, "histc", f"histc(): argument 'bins' (position 2) must be int, not "
                           f"{type(bins).__name__}")
        if bins <= 0:
            raise op_error(RuntimeError, "histc", f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        low, high = float(min), float(max)
        data = input._data
        if low == high and data.size:
            low, high = float(np.min(data)), float(np.max(data))  # NaN in the data gives a NaN range
        if low == high:
            low, high = low - 1, high + 1
        if not (math.isfinite(low) and math.isfinite(high)):
            raise op_error(RuntimeError, "histc", f"torch.histc: range of [{low:g}, {high:g}] is not finite")
        if not low < high:
            raise op_error(RuntimeError, "histc", "torch.histc: max must be larger than min")
        if input._dtype.category != 2:
            kernel = "linspace_cpu" if input._dtype is _dt.bool else "histogram_cpu"
            raise op_error(NotImplementedError, "histc",
                           f'"{kernel}" not implemented for \'{_torch_type_name(input._dtype)}\'')
        return Histc(input, bins=bins, low=low, high=high)

    def forward(a, bins, low, high):
        scalar = a.dtype.type
        first, last = scalar(low), scalar(high)
        flat = a.reshape(-1)
        inside = flat[(flat >= first) & (flat <= last)]  # NaN is outside every bin
        # PyTorch's bin of x, in the input's dtype: (x - first) * bins / (last - first), truncated; the same
        # arithmetic here (exactly rounded by IEEE, so on every CPU), not a float64 approximation of it.
        with np.errstate(over="ignore"):
            position = ((inside - first) * scalar(bins) / (last - first)).astype(np.int64)
        counts = np.bincount(np.minimum(position, bins - 1), minlength=bins)
        return counts.astype(a.dtype)


# ------------------------------------------------------------------------------------------ trace, covariance
@register_function(method=True)
def trace(input):
    """The sum of a matrix's main diagonal (integer inputs give int64, as ``sum``).

    >>> ember.trace(ember.tensor([[1, 2, 3], [4, 5, 6]]))
    tensor(6)
    """
    if input._data.ndim != 2:
        raise op_error(RuntimeError, "trace", f"expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._dtype is _dt.bool:
        raise op_error(NotImplementedError, "trace", '"trace" not implemented for \'Bool\'')
    return Sum.function(input.diagonal())


def _check_weights(weights, name, integral, observations):
    kind, category = ("integral", 1) if integral else ("floating point", 2)
    if weights._data.ndim > 1:
        raise op_error(RuntimeError, "cov", f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                       f"{weights._data.ndim} dimensions")
    if weights._dtype.category != category:
        raise op_error(RuntimeError, "cov", f"cov(): expected {name} to have {kind} dtype but got {name} with "
                       f"{_torch_type_name(weights._dtype)} dtype")
    if weights._data.size != observations:
        raise op_error(RuntimeError, "cov", f"cov(): expected {name} to have the same numel as there are observations "
                       f"in the input but got {weights._data.size} != {observations}")
    if observations and weights._data.min() < 0:
        raise op_error(RuntimeError, "cov", f"cov(): {name} cannot be negative")


@register_function(method=True)
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``input``'s rows (a 1-d tensor is one variable) over its columns'
    observations, weighted by the integer frequencies ``fweights`` and the floating ``aweights``, with
    ``correction`` subtracted from the number of observations (``numpy.cov``'s ``ddof``).

    >>> ember.cov(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))
    tensor([[ 1.0000, -0.7500],
            [-0.7500,  0.5833]])
    >>> ember.cov(ember.tensor([1.0, 2.0, 4.0]), correction=0, fweights=ember.tensor([1, 1, 2]))
    tensor(1.6875)
    """
    if input._data.ndim > 2:
        raise op_error(RuntimeError, "cov", "cov(): expected input to have two or fewer dimensions but got an input with "
                       f"{input._data.ndim} dimensions")
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, "cov", "cov(): bool dtype is not supported for input")
    if not isinstance(correction, int):
        raise op_error(TypeError, "cov", f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    observations = x._data.shape[1]
    weights = None
    if fweights is not None:
        _check_weights(fweights, "fweights", True, observations)
        weights = fweights
    if aweights is not None:
        _check_weights(aweights, "aweights", False, observations)
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        total = from_array(np.array(observations, dtype=np.int64))
    else:
        total = weights.sum()
        if not total._data:
            raise op_error(RuntimeError, "cov", "cov(): weights sum to zero, can't be normalized")
    mean = (x if weights is None else x * weights).sum(1) / total
    if aweights is not None and correction != 0:
        dof = total - correction * (weights * aweights).sum() / total
    else:
        dof = total - correction
    if dof._data <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", stacklevel=2)
        dof = from_array(np.zeros((), dof._data.dtype))
    centered = x - mean.unsqueeze(1)
    products = centered.mm((centered if weights is None else centered * weights).t())
    return (products / dof).squeeze()


@register_function(method=True)
def corrcoef(input):
    """Pearson correlation coefficients of the variables in ``input``'s rows (see :func:`cov`), clipped to [-1, 1].

    >>> ember.corrcoef(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))
    tensor([[ 1.0000, -0.9820],
            [-0.9820,  1.0000]])
    """
    if input._data.ndim > 2:
        raise op_error(RuntimeError, "corrcoef", "corrcoef(): expected input to have two or fewer dimensions but got an "
                       f"input with {input._data.ndim} dimensions")
    c = cov(input)
    if c._data.ndim == 0:  # one variable: nan for a zero, nan or inf variance, else 1
        return c / c
    deviation = Sqrt(c.diagonal())
    c = c / deviation.reshape(-1, 1) / deviation.reshape(1, -1)
    return c.clamp(-1, 1)


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


@register_function(method=True)
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


@register_function(method=True)
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Like :func:`median`, ignoring NaN (nan only where every element is NaN).

    >>> ember.nanmedian(ember.tensor([float("nan"), 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    _check_orderable(input, "nanmedian", "nanmedian_cpu")
    if dim is None:
        return _out(NanmedianAll(input), out)
    return _out(_selecting_reduction(input, dim, keepdim, NanmedianDim, _return_types.nanmedian, "nanmedian"), out)


def _mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and its last index.

    >>> ember.mode(ember.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
    ember.return_types.mode(
    values=tensor(1.),
    indices=tensor(3))
    """
    return _out(_selecting_reduction(input, dim, keepdim, ModeDim, _return_types.mode, "mode"), out)


ModeDim = _selecting_op("mode", _mode_dim, function=_mode)


def _kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
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


Kthvalue = _selecting_op("kthvalue", _kthvalue_dim, function=_kthvalue)


def _sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorted values along ``dim`` and their indices; NaN sorts as the largest value. Always stable.

    >>> ember.sort(ember.tensor([3.0, float("nan"), 1.0]), descending=True)
    ember.return_types.sort(
    values=tensor([nan, 3., 1.]),
    indices=tensor([1, 0, 2]))
    """
    axis = _single_dim(input, dim, "sort")
    return _out(_return_types.sort(Sort(input, dim=axis, keepdim=True, descending=bool(descending))), out)


Sort = _selecting_op("sort", _sort_dim, keeps_dim=True, function=_sort)


@register_function(method=True)
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


@register_function(method=True, out=True)
def msort(input):
    """``input`` sorted along its first dim.

    >>> ember.msort(ember.tensor([[2, 1], [0, 5]]))
    tensor([[0, 1],
            [2, 5]])
    """
    return Sort(input, dim=0, keepdim=True, descending=False)[0]


def _topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
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


Topk = _selecting_op("topk", _topk_dim, keeps_dim=True, function=_topk)


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


@register_function(method=True, out=True)
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles (a number or 1-d tensor in [0, 1]) along ``dim`` or of all elements; NaN propagates.

    >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5000)
    >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), ember.tensor([0.25, 1.0]), interpolation="lower")
    tensor([1., 4.])
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@register_function(method=True, out=True)
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """Like :func:`quantile`, ignoring NaN.

    >>> ember.nanquantile(ember.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ------------------------------------------------------------------------------------------ unique
def _as_unique_data(a):
    return a.astype(_FLOAT32) if a.dtype == _BFLOAT16 else a


@register_op
class Unique:
    """The distinct elements (sorted), optionally with the inverse indices and the counts.

    >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    (tensor([1, 2, 3]), tensor([2, 0, 2, 1]), tensor([1, 1, 2]))
    """

    name = "unique"
    kind = "opaque"
    promote = "none"
    method = True
    out = False

    def function(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
        axis = _unique_dim(input, dim, "unique")
        if axis is not None and input._data.ndim == 0:
            axis = None
        return _unique_result(Unique(input, dim=axis), return_inverse, return_counts)

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
    """Collapse runs of equal consecutive elements (or slices along ``dim``).

    >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1]), return_counts=True)
    (tensor([1, 2, 1]), tensor([2, 2, 1]))
    """

    name = "unique_consecutive"
    kind = "opaque"
    promote = "none"
    method = True
    out = False

    def function(input, return_inverse=False, return_counts=False, dim=None):
        axis = _unique_dim(input, dim, "unique_consecutive")
        if axis is not None and input._data.ndim == 0:
            axis = None
        return _unique_result(UniqueConsecutive(input, dim=axis), return_inverse, return_counts)

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
