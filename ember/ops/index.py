"""Indexing: ``t[index]`` and ``t[index] = value`` (basic, integer and boolean), and the ops that read or write
elements at given positions: index_put, nonzero, gather/scatter, index_select/index_add/index_copy/index_fill/
index_reduce, masked_fill/masked_scatter/masked_select, take/take_along_dim/put, and the positions of values in
sorted sequences (searchsorted/bucketize).

Basic indexing (ints, slices, None, Ellipsis) returns a view; integer-array and boolean indexing
return copies, as in PyTorch. Each op is registered once with its function, method, in-place and ``out=``
forms (see ``registry.py``).

>>> import ember
>>> x = ember.arange(6).reshape(2, 3)
>>> x[1, ::2]
tensor([3, 5])
>>> x[x > 3]
tensor([4, 5])
>>> x[0] = -1; x
tensor([[-1, -1, -1],
        [ 3,  4,  5]])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.errors import op_error
from ember.ops.arguments import wrap_dim
from ember.ops.registry import (_Scratch, check_inplace_allowed, register_function, register_op, write_out,
                                write_result_into)
from ember.tensor import Tensor, from_array


def normalize_index(index, op_name="index"):
    """Turn a PyTorch index into a NumPy one: tensors become arrays, and only valid types pass."""
    if isinstance(index, tuple) or (isinstance(index, list) and _sequence_as_tuple(index)):
        return tuple(_normalize_one(i, op_name) for i in index)
    return _normalize_one(index, op_name)


def _sequence_as_tuple(index):
    """PyTorch (still) reads a short list holding tensors, sequences, slices, None or ... as a tuple of indices."""
    if len(index) >= 32:
        return False
    return any(isinstance(i, (Tensor, list, tuple, slice)) or i is None or i is Ellipsis for i in index)


def _normalize_one(i, op_name):
    if i is None or i is Ellipsis or isinstance(i, (int, slice)) and not isinstance(i, bool):
        if isinstance(i, slice) and (isinstance(i.start, Tensor) or isinstance(i.stop, Tensor) or isinstance(i.step, Tensor)):
            return slice(*(int(v) if isinstance(v, Tensor) else v for v in (i.start, i.stop, i.step)))
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise op_error(ValueError, op_name, "step must be greater than zero")
        return i
    if isinstance(i, Tensor):
        if i._dtype.category == 2:
            raise op_error(IndexError, op_name, "tensors used as indices must be long, int, byte or bool tensors")
        if i._dtype.name == "uint8":
            return i._data.astype(bool)
        return i._data
    if isinstance(i, bool):
        return i
    if isinstance(i, (list, np.ndarray)):
        arr = np.asarray(i)
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "f":
            raise op_error(IndexError, op_name, "tensors used as indices must be long, int, byte or bool tensors")
        if arr.dtype == object:
            arr = np.asarray([int(v) if isinstance(v, Tensor) else v for v in i])
        return arr
    if hasattr(i, "__index__"):
        return i.__index__()
    raise op_error(IndexError, op_name, "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                   f"Variables are valid indices (got {type(i).__name__})")


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) and not isinstance(i, bool) for i in items)


@register_op
class GetItem:
    """``input[index]`` (``Tensor.__getitem__``); see the module docstring.

    >>> ember.arange(5)[[0, 2, 2]]
    tensor([0, 2, 2])
    """

    name = "getitem"
    kind = "index"
    promote = "none"
    view = True
    out = False

    def function(input, index):
        np_index = normalize_index(index, "getitem")
        try:
            return GetItem(input, index=np_index)
        except IndexError as e:
            text = str(e).split(" (inputs:")[0].removeprefix("getitem: ")
            raise op_error(IndexError, "getitem", text.replace(" for axis ", " for dimension ")) from None

    def forward(ctx, a, index):
        ctx.index = index
        out = a[index]
        if out.__class__ is not np.ndarray:
            # Integer indexing down to 0-d gives a NumPy scalar (a copy); a trailing ... gives a 0-d view.
            out = a[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    def backward(ctx, grad):
        return IndexBackward(grad, shape=ctx.input_meta[0][0], index=ctx.index)


@register_op
class IndexBackward:
    """Scatter-add ``grad`` into zeros of the indexed tensor's shape (repeated indices accumulate)."""

    name = "index_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad
        else:
            np.add.at(out, index, grad)
        return out

    def backward(ctx, grad):
        return GetItem.function(grad, ctx.index)


@register_op
class IndexPut:
    """A copy of ``input`` with ``values`` put at ``indices`` (a tuple of index tensors).

    >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor([1.0, 2.0]), accumulate=True)
    tensor([3., 0., 0.])
    """

    name = "index_put"
    kind = "index"
    save = ()
    method = True
    out = False

    def function(input, indices, values, accumulate=False):
        np_index = normalize_index(tuple(indices), "index_put")
        if not isinstance(values, Tensor):
            from ember.ops.creation import tensor
            values = tensor(values, dtype=input._dtype)
        return IndexPut(input, values, index=np_index, accumulate=accumulate)

    def inplace(self, indices, values, accumulate=False):
        """In-place ``index_put``.

        >>> x = ember.zeros(3); x.index_put_((ember.tensor([1]),), ember.tensor([5.0]))
        tensor([0., 5., 0.])
        """
        return _write_back(self, lambda: IndexPut.function(self, indices, values, accumulate), "index_put_")

    def forward(ctx, a, values, index, accumulate):
        ctx.index = index
        ctx.accumulate = accumulate
        out = a.copy()
        if accumulate:
            np.add.at(out, index, values)
        else:
            out[index] = values
        return out

    def backward(ctx, grad):
        grad_self = grad
        if not ctx.accumulate and ctx.next_edges[0] is not None:
            mask = np.ones(grad._data.shape, dtype=bool)
            mask[ctx.index] = False
            grad_self = grad * from_array(mask)
        grad_values = GetItem.function(grad, ctx.index) if ctx.next_edges[1] is not None else None
        return grad_self, grad_values


@register_function
def setitem(input, index, value):
    """``input[index] = value`` (``Tensor.__setitem__``), in place, recorded for autograd when needed.

    >>> x = ember.zeros(3); ember.setitem(x, 1, 5.0); x
    tensor([0., 5., 0.])
    """
    np_index = normalize_index(index, "setitem")
    if STATE.enabled and input._requires_grad and input.grad_fn is None and _is_basic(np_index):
        raise op_error(RuntimeError, "setitem", "a view of a leaf Variable that requires grad is being used in an "
                       "in-place operation.")
    check_inplace_allowed(input, "setitem")
    needs_graph = STATE.enabled and (input._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if not needs_graph:
        data = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value._dtype.category > input._dtype.category:
            data = data.astype(input._data.dtype)
        try:
            input._data[np_index] = data
        except (ValueError, IndexError, TypeError) as e:
            shape = tuple(value._data.shape) if isinstance(value, Tensor) else ()
            raise op_error(IndexError if isinstance(e, IndexError) else RuntimeError, "setitem",
                           f"{e} (tensor shape {tuple(input._data.shape)}, value shape {shape})") from None
        input._version.value += 1
        return
    if not isinstance(value, Tensor):
        from ember.ops.creation import tensor
        value = tensor(value, dtype=input._dtype)
    elif value._dtype is not input._dtype:
        value = value.to(input._dtype)
    result = IndexPut(input, value, index=np_index, accumulate=False)
    write_result_into(input, result, "setitem")


@register_function(method=True, out=True)
def nonzero(input, *, as_tuple=False):
    """Indices of nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-d tensors.

    >>> ember.nonzero(ember.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    data = input._data
    if as_tuple:
        idx = np.nonzero(data) if data.ndim else np.nonzero(data.reshape(1))
        return tuple(from_array(i.astype(np.int64)) for i in idx)
    if data.ndim == 0:
        return from_array(np.zeros((1 if data else 0, 0), np.int64))
    return from_array(np.stack(np.nonzero(data), axis=1).astype(np.int64, copy=False))


@register_function(method=True)
def argwhere(input):
    """Indices of nonzero elements as an (n, ndim) tensor (``nonzero(input)``).

    >>> ember.argwhere(ember.tensor([[0, 1], [1, 0]]))
    tensor([[0, 1],
            [1, 0]])
    """
    return nonzero(input)


# ------------------------------------------------------------------------------------ checks
def _dtype_name(t):
    return _dt.torch_type_name(t._dtype)


def _check_index_tensor(index, op_name, allow_int32=False):
    if not isinstance(index, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    name = index._dtype.name
    if name != "int64" and not (allow_int32 and name == "int32"):
        raise op_error(RuntimeError, op_name, f"{op_name}(): Expected dtype int64 for index")


def _check_bounds(index, size, dim, op_name, allow_negative=False, exc=RuntimeError):
    data = index._data if isinstance(index, Tensor) else index
    if data.size == 0:
        return
    low, high = int(data.min()), int(data.max())
    bad = None
    if high >= size:
        bad = high
    elif low < (-size if allow_negative else 0):
        bad = low
    if bad is not None:
        raise op_error(exc, op_name, f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _scatter_shape_check(self_shape, index_shape, dim, op_name, src_shape=None):
    if len(index_shape) != len(self_shape) and index_shape and self_shape:
        raise op_error(RuntimeError, op_name, "Index tensor must have the same number of dimensions as self tensor")
    if src_shape is not None and len(src_shape) != len(index_shape) and index_shape and src_shape:
        raise op_error(RuntimeError, op_name, "Index tensor must have the same number of dimensions as src tensor")
    for d, n in enumerate(index_shape):
        if (d != dim and self_shape and n > self_shape[d]) or (src_shape and n > src_shape[d]):
            message = (f"Expected index {list(index_shape)} to be no larger than self {list(self_shape)} apart from "
                       f"dimension {dim}")
            if src_shape is not None:
                message += f" and to be no larger size than src {list(src_shape)}"
            raise op_error(RuntimeError, op_name, message)


def _fill_value(input, value, op_name):
    """A fill value as the op takes it: a number as it is, a 0-d tensor in ``input``'s dtype."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise op_error(RuntimeError, op_name, f"{op_name}_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
        if value._dtype is not input._dtype:
            value = value.to(input._dtype)
    return value


def _scatter_positions(index, dim):
    """A NumPy index tuple addressing, for each element of ``index``, the element it scatters to."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _leading(array, shape):
    """``array`` cut down to the leading ``shape`` (scatter/gather use only that part of src/self)."""
    if array.shape == shape:
        return array
    return array[tuple(slice(0, n) for n in shape)]


def _as_1d(a):
    return a.reshape(1) if a.ndim == 0 else a


# ------------------------------------------------------------------------------------ gather and scatter
@register_op
class Gather:
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]`` for ``dim=0``.

    >>> ember.gather(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([[0, 0], [1, 0]]))
    tensor([[1, 1],
            [4, 3]])
    """

    name = "gather"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index, *, sparse_grad=False):
        _check_index_tensor(index, "gather", allow_int32=True)
        if index._dtype.name == "int32":
            index = index.long()
        ndim = input._data.ndim
        d = wrap_dim(dim, ndim, "gather")
        ishape, shape = index._data.shape, input._data.shape
        if ndim and index._data.ndim and index._data.ndim != ndim:
            raise op_error(RuntimeError, "gather", "Index tensor must have the same number of dimensions as input "
                           "tensor")
        for k, n in enumerate(ishape):
            if ndim and k != d and n > shape[k]:
                raise op_error(RuntimeError, "gather", f"Size does not match at dimension {k} expected index "
                               f"{list(ishape)} to be no larger than self {list(shape)} apart from dimension {d}")
        _check_bounds(index, shape[d] if ndim else 1, d, "gather")
        if ndim and not index._data.ndim:
            index = index.reshape((1,) * ndim)
        return Gather(input, index, dim=d)

    def forward(ctx, a, index, dim):
        ctx.index = index
        ctx.dim = dim
        if a.ndim == 0:
            return a[()] * np.ones(index.shape, a.dtype) if index.ndim else a.copy()
        shape = tuple(n if d != dim else a.shape[d] for d, n in enumerate(index.shape))
        return np.take_along_axis(_leading(a, shape), index, axis=dim)

    def backward(ctx, grad):
        shape, _ = ctx.input_meta[0]
        zeros = from_array(np.zeros(shape, dtype=grad._data.dtype))
        return ScatterAdd(zeros, from_array(ctx.index), grad, dim=ctx.dim), None


@register_op
class Scatter:
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at ``index`` along ``dim``.

    ``reduce="add"`` or ``"multiply"`` combines instead of overwriting.

    >>> ember.zeros(2, 3).scatter(1, ember.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """

    name = "scatter"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index, src=None, value=None, *, reduce=None):
        if src is None:
            src = value
        d = _scatter_args(input, dim, index, src, "scatter")
        index = index.long()
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise op_error(RuntimeError, "scatter", "reduce argument must be either add or multiply.")
            if not isinstance(src, Tensor):
                src = from_array(np.full(index._data.shape, src, dtype=input._data.dtype))
            if reduce == "add":
                return ScatterAdd(input, index, src, dim=d)
            return ScatterReduce(input, index, src, dim=d, reduce="prod", include_self=True)
        return Scatter(input, index, src, dim=d)

    def inplace(self, dim, index, src=None, value=None, *, reduce=None):
        return _write_back(self, lambda: Scatter.function(self, dim, index, src, value, reduce=reduce), "scatter_")

    def forward(ctx, a, index, src, dim):
        ctx.index = index
        ctx.dim = dim
        ctx.src_is_tensor = isinstance(src, np.ndarray)
        out = np.array(_as_1d(a), copy=True)
        index = _as_1d(index)
        if ctx.src_is_tensor:
            src = _leading(_as_1d(src), index.shape)
        out[_scatter_positions(index, dim)] = src
        return out.reshape(a.shape)

    def backward(ctx, grad):
        index = from_array(ctx.index)
        grad_self = Scatter(grad, index, 0, dim=ctx.dim) if ctx.next_edges[0] is not None else None
        grad_src = None
        if ctx.src_is_tensor and ctx.next_edges[2] is not None:
            grad_src = Gather(grad, index, dim=ctx.dim)
            src_shape = ctx.input_meta[2][0]
            if grad_src._data.shape != src_shape:
                grad_src = _pad_to(grad_src, src_shape)
        return grad_self, None, grad_src


def _pad_to(grad, shape):
    """Zero-extend ``grad`` (the leading part of a larger src) to ``shape``."""
    from ember.ops.movement import ConstantPad
    pad = []
    for have, want in zip(reversed(grad._data.shape), reversed(shape)):
        pad += [0, want - have]
    return ConstantPad(grad, pad=tuple(pad), value=0)


@register_op
class ScatterAdd:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices accumulate).

    >>> ember.zeros(3).scatter_add(0, ember.tensor([0, 0, 2]), ember.tensor([1.0, 2.0, 3.0]))
    tensor([3., 0., 3.])
    """

    name = "scatter_add"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index, src):
        d = _scatter_args(input, dim, index, src, "scatter_add")
        index = index.long()
        return ScatterAdd(input, index, src, dim=d)

    def inplace(self, dim, index, src):
        return _write_back(self, lambda: ScatterAdd.function(self, dim, index, src), "scatter_add_")

    def forward(ctx, a, index, src, dim):
        ctx.index = index
        ctx.dim = dim
        out = np.array(_as_1d(a), copy=True)
        index = _as_1d(index)
        np.add.at(out, _scatter_positions(index, dim), _leading(_as_1d(src), index.shape))
        return out.reshape(a.shape)

    def backward(ctx, grad):
        grad_src = None
        if ctx.next_edges[2] is not None:
            grad_src = Gather(grad, from_array(ctx.index), dim=ctx.dim)
            src_shape = ctx.input_meta[2][0]
            if grad_src._data.shape != src_shape:
                grad_src = _pad_to(grad_src, src_shape)
        return grad, None, grad_src


_REDUCE_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}


@register_op
class ScatterReduce:
    """Combine ``src`` into ``input`` at ``index`` with ``reduce`` in sum, prod, mean, amax, amin.

    >>> ember.tensor([1.0, 2.0]).scatter_reduce(0, ember.tensor([0, 0]), ember.tensor([5.0, 3.0]), "amax")
    tensor([5., 2.])
    """

    name = "scatter_reduce"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index, src, reduce, *, include_self=True):
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise op_error(RuntimeError, "scatter_reduce", "reduce argument must be either sum, prod, mean, amax or "
                           f"amin, got {reduce}")
        d = _scatter_args(input, dim, index, src, "scatter_reduce")
        index = index.long()
        return ScatterReduce(input, index, src, dim=d, reduce=reduce, include_self=bool(include_self))

    def inplace(self, dim, index, src, reduce, *, include_self=True):
        return _write_back(self, lambda: ScatterReduce.function(self, dim, index, src, reduce,
                                                                include_self=include_self), "scatter_reduce_")

    def forward(ctx, a, index, src, dim, reduce, include_self):
        ctx.index = index
        ctx.dim = dim
        ctx.reduce = reduce
        ctx.include_self = include_self
        shape = a.shape
        a, index = _as_1d(a), _as_1d(index)
        src = _leading(_as_1d(src), index.shape)
        positions = _scatter_positions(index, dim)
        out = np.array(a, copy=True)
        if not include_self:
            if reduce in _REDUCE_IDENTITY:
                out[positions] = _REDUCE_IDENTITY[reduce]
            elif out.dtype.kind == "f" or out.dtype.name == "bfloat16":
                out[positions] = -np.inf if reduce == "amax" else np.inf
            elif out.dtype.kind == "b":
                out[positions] = reduce == "amin"
            else:
                info = np.iinfo(out.dtype)
                out[positions] = info.min if reduce == "amax" else info.max
        counts = None
        if reduce in ("sum", "mean"):
            np.add.at(out, positions, src)
            if reduce == "mean":
                counts = np.ones(out.shape, dtype=np.int64) if include_self else np.zeros(out.shape, dtype=np.int64)
                if not include_self:
                    counts[...] = 1
                    counts[positions] = 0
                np.add.at(counts, positions, 1)
                counts = np.maximum(counts, 1)
                if out.dtype.kind in "iub":
                    out = np.floor_divide(out, counts).astype(out.dtype)
                else:
                    out = (out / counts).astype(out.dtype)
        elif reduce == "prod":
            np.multiply.at(out, positions, src)
        elif reduce == "amax":
            np.maximum.at(out, positions, src)
        else:
            np.minimum.at(out, positions, src)
        if ctx.__class__ is not _Scratch:
            ctx.counts = counts
            ctx.factors = _scatter_reduce_factors(a, src, out, positions, reduce, include_self)
        return out.reshape(shape)

    def backward(ctx, grad):
        index, dim = from_array(ctx.index), ctx.dim
        self_shape = ctx.input_meta[0][0]
        src_shape = ctx.input_meta[2][0]
        grad_self = grad_src = None
        reduce = ctx.reduce
        if reduce in ("sum", "mean"):
            if reduce == "mean":
                grad = grad / from_array(ctx.counts.reshape(self_shape).astype(grad._data.dtype))
            if ctx.next_edges[0] is not None:
                grad_self = grad if ctx.include_self else Scatter(grad, index, 0, dim=dim)
            if ctx.next_edges[2] is not None:
                grad_src = Gather(grad, index, dim=dim)
        else:
            factor_self, factor_src = ctx.factors
            if ctx.next_edges[0] is not None:
                grad_self = grad * from_array(factor_self.reshape(self_shape).astype(grad._data.dtype))
            if ctx.next_edges[2] is not None:
                grad_src = Gather(grad, index, dim=dim) * from_array(factor_src.astype(grad._data.dtype))
        if grad_src is not None and grad_src._data.shape != src_shape:
            grad_src = _pad_to(grad_src, src_shape)
        return grad_self, None, grad_src


def _scatter_reduce_factors(a, src, out, positions, reduce, include_self):
    """d out / d a and d out / d src (per element) for prod, amax and amin; None for sum and mean."""
    if reduce in ("sum", "mean") or a.dtype.kind in "iub":
        return None
    touched = np.zeros(a.shape, dtype=bool)
    touched[positions] = True
    self_counts = ~touched | include_self
    if reduce in ("amax", "amin"):
        # Ties share the gradient equally, as in PyTorch.
        hit_self = (a == out) & self_counts
        hit_src = src == out[positions]
        count = hit_self.astype(np.float64)
        np.add.at(count, positions, hit_src)
        count = np.maximum(count, 1)
        return hit_self / count, hit_src / count[positions]
    # prod: the product of the other factors, computed without dividing by zero.
    nonzero_product = np.where(self_counts & (a != 0), a, 1).astype(np.float64)
    np.multiply.at(nonzero_product, positions, np.where(src != 0, src, 1))
    zeros = (self_counts & (a == 0)).astype(np.int64)
    np.add.at(zeros, positions, src == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_a = np.where(a != 0, a, 1)
        self_factor = np.where(a != 0, np.where(zeros == 0, nonzero_product / safe_a, 0),
                               np.where(zeros == 1, nonzero_product, 0))
        self_factor = np.where(self_counts, self_factor, 0)
        product_at, zeros_at = nonzero_product[positions], zeros[positions]
        safe_src = np.where(src != 0, src, 1)
        src_factor = np.where(src != 0, np.where(zeros_at == 0, product_at / safe_src, 0),
                              np.where(zeros_at == 1, product_at, 0))
    return self_factor, src_factor


def _scatter_args(input, dim, index, src, op_name):
    _check_index_tensor(index, op_name, allow_int32=True)
    ndim = input._data.ndim
    d = wrap_dim(dim, ndim, op_name)
    src_shape = src._data.shape if isinstance(src, Tensor) else None
    if isinstance(src, Tensor) and src._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, "scatter(): Expected self.dtype to be equal to src.dtype")
    _scatter_shape_check(input._data.shape, index._data.shape, d, op_name, src_shape)
    _check_bounds(index, input._data.shape[d] if ndim else 1, d, op_name)
    return d


def _write_back(input, compute, op_name):
    check_inplace_allowed(input, op_name)
    write_result_into(input, compute(), op_name)
    return input


# ------------------------------------------------------------------------------------ index_* along a dim
def _along(a, dim):
    """``a`` with ``dim`` moved first (a view), so that ``[index]`` addresses positions along ``dim``."""
    return np.moveaxis(_as_1d(a), dim, 0) if dim else _as_1d(a)


@register_op
class IndexSelect:
    """The slices of ``input`` at ``index`` (a 1-d int tensor) along ``dim``.

    >>> ember.arange(6).reshape(2, 3).index_select(1, ember.tensor([2, 0]))
    tensor([[2, 0],
            [5, 3]])
    """

    name = "index_select"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index):
        if not isinstance(index, Tensor) or index._dtype.name not in ("int64", "int32"):
            raise op_error(RuntimeError, "index_select", "index_select(): Expected dtype int32 or int64 for index")
        if index._data.ndim > 1:
            raise op_error(IndexError, "index_select", "index_select(): Index is supposed to be a vector")
        ndim = input._data.ndim
        d = wrap_dim(dim, ndim, "index_select")
        if ndim == 0 and index._data.size != 1:
            raise op_error(RuntimeError, "index_select", f"index_select(): Index to scalar can have only 1 value, got "
                           f"{index._data.size} value(s)")
        size = input._data.shape[d] if ndim else 1
        data = index._data
        if data.size and (data.min() < 0 or data.max() >= size):
            bad = int(data.min()) if data.min() < 0 else int(data.max())
            raise op_error(IndexError, "index_select", f"index out of range in self: INDICES element is out of DATA "
                           f"bounds, id={bad} axis_dim={size}")
        return IndexSelect(input, index if index._dtype.name == "int64" else index.long(), dim=d)

    def forward(ctx, a, index, dim):
        ctx.index = index
        ctx.dim = dim
        if a.ndim == 0:
            return a.copy()
        return np.take(a, _as_1d(index), axis=dim)

    def backward(ctx, grad):
        shape, _ = ctx.input_meta[0]
        zeros = from_array(np.zeros(shape, dtype=grad._data.dtype))
        return IndexAdd(zeros, from_array(ctx.index), grad, dim=ctx.dim, alpha=1), None


@register_op
class IndexAdd:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim`` (duplicates add up).

    >>> ember.zeros(3).index_add(0, ember.tensor([0, 0, 2]), ember.tensor([1.0, 2.0, 3.0]))
    tensor([3., 0., 3.])
    """

    name = "index_add"
    kind = "index"
    promote = "none"
    method = True

    def function(input, dim, index, source, *, alpha=1):
        d, index = _index_source_check(input, dim, index, source, "index_add")
        if source._dtype is not input._dtype:
            raise op_error(RuntimeError, "index_add", f"index_add_(): self ({_dtype_name(input)}) and source "
                           f"({_dtype_name(source)}) must have the same scalar type")
        return IndexAdd(input, index, source, dim=d, alpha=alpha)

    def inplace(self, dim, index, source, *, alpha=1):
        return _write_back(self, lambda: IndexAdd.function(self, dim, index, source, alpha=alpha), "index_add_")

    def forward(ctx, a, index, source, dim, alpha):
        ctx.index = index
        ctx.dim = dim
        ctx.alpha = alpha
        out = np.array(a, copy=True)
        values = source if alpha == 1 else source * np.asarray(alpha).astype(source.dtype)
        np.add.at(_along(out, dim), _as_1d(index), _along(values, dim))
        return out

    def backward(ctx, grad):
        grad_source = None
        if ctx.next_edges[2] is not None:
            grad_source = IndexSelect(grad, from_array(ctx.index), dim=ctx.dim)
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
            grad_source = grad_source.reshape(ctx.input_meta[2][0])
        return grad, None, grad_source


def _index_source_check(input, dim, index, source, op_name, exc=RuntimeError, allow_negative=False):
    _check_index_tensor(index, op_name, allow_int32=True)
    if index._data.ndim > 1:
        raise op_error(IndexError, op_name, f"{op_name}(): Index is supposed to be a vector")
    ndim = input._data.ndim
    d = wrap_dim(dim, ndim, op_name)
    if source is not None:
        sshape, shape = source._data.shape, input._data.shape
        n = index._data.size
        source_len = sshape[d] if source._data.ndim else 1
        if source._data.ndim != ndim and not (source._data.ndim <= 1 and ndim <= 1):
            raise op_error(IndexError, op_name, f"{op_name}(): When source and destination are not scalars, their "
                           f"dimensionality must match. Source dimensionality ({source._data.ndim}), destination "
                           f"dimensionality ({ndim})")
        if source_len != n:
            raise op_error(RuntimeError, op_name, f"{op_name}(): Number of indices ({n}) should be equal to "
                           f"source.size(dim): ({source_len}), for dim: {d}")
        for k in range(ndim):
            if k != d and source._data.ndim and sshape[k] != shape[k]:
                raise op_error(RuntimeError, op_name, f"{op_name}(): source ({list(sshape)}) and self ({list(shape)}) "
                               f"must match in shape apart from dimension {d}")
    _check_bounds(index, input._data.shape[d] if ndim else 1, d, op_name, allow_negative, exc)
    return d, index if index._dtype.name == "int64" else index.long()


@register_op
class IndexCopy:
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` along ``dim``.

    >>> ember.zeros(2, 3).index_copy(1, ember.tensor([2]), ember.ones(2, 1))
    tensor([[0., 0., 1.],
            [0., 0., 1.]])
    """

    name = "index_copy"
    kind = "index"
    promote = "none"
    method = True
    out = False

    def function(input, dim, index, source):
        if source._dtype is not input._dtype:
            raise op_error(RuntimeError, "index_copy", "index_copy_(): self and source expected to have the same "
                           f"dtype, but got (self) {_dtype_name(input)} and (source) {_dtype_name(source)}")
        d, index = _index_source_check(input, dim, index, source, "index_copy", exc=IndexError)
        return IndexCopy(input, index, source, dim=d)

    def inplace(self, dim, index, source):
        return _write_back(self, lambda: IndexCopy.function(self, dim, index, source), "index_copy_")

    def forward(ctx, a, index, source, dim):
        ctx.index = index
        ctx.dim = dim
        out = np.array(a, copy=True)
        _along(out, dim)[_as_1d(index)] = _along(source, dim)
        return out

    def backward(ctx, grad):
        index = from_array(ctx.index)
        grad_self = IndexFill(grad, index, 0, dim=ctx.dim) if ctx.next_edges[0] is not None else None
        grad_source = None
        if ctx.next_edges[2] is not None:
            grad_source = IndexSelect(grad, index, dim=ctx.dim).reshape(ctx.input_meta[2][0])
        return grad_self, None, grad_source


@register_op
class IndexFill:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at positions ``index`` along ``dim``.

    >>> ember.zeros(2, 3).index_fill(1, ember.tensor([0, -1]), 7.0)
    tensor([[7., 0., 7.],
            [7., 0., 7.]])
    """

    name = "index_fill"
    kind = "index"
    promote = "none"
    method = True
    out = False

    def function(input, dim, index, value):
        d, index = _index_source_check(input, dim, index, None, "index_fill", IndexError, allow_negative=True)
        value = _fill_value(input, value, "index_fill")
        if isinstance(value, Tensor) and not value._requires_grad:
            value = value._data.item() if value._dtype.name != "bfloat16" else float(value._data)
        return IndexFill(input, index, value, dim=d)

    def inplace(self, dim, index, value):
        return _write_back(self, lambda: IndexFill.function(self, dim, index, value), "index_fill_")

    def forward(ctx, a, index, value, dim):
        ctx.index = index
        ctx.dim = dim
        out = np.array(a, copy=True)
        _along(out, dim)[_as_1d(index)] = value
        return out

    def backward(ctx, grad):
        index = from_array(ctx.index)
        grad_self = IndexFill(grad, index, 0, dim=ctx.dim) if ctx.next_edges[0] is not None else None
        grad_value = None
        if ctx.next_edges[2] is not None:
            # Each filled position counts once, however often the index repeats it.
            from ember.ops.reduce import Sum
            grad_value = Sum.function(grad - IndexFill(grad, index, 0, dim=ctx.dim))
        return grad_self, None, grad_value


@register_function(method=True, inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Combine slices of ``source`` into ``input`` at ``index`` along ``dim`` with prod, mean, amax or amin.

    >>> ember.ones(3).index_reduce(0, ember.tensor([0, 0]), ember.tensor([2.0, 3.0]), "prod")
    tensor([6., 1., 1.])
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise op_error(RuntimeError, "index_reduce", "index_reduce(): Expected reduce to be one of prod, mean, amax or "
                       f"amin but got {reduce}.")
    d, index = _index_source_check(input, dim, index, source, "index_reduce")
    if source._dtype is not input._dtype:
        raise op_error(RuntimeError, "index_reduce", f"index_reduce_(): self ({_dtype_name(input)}) and source "
                       f"({_dtype_name(source)}) must have the same scalar type")
    sshape = source._data.shape
    if not sshape:
        return ScatterReduce(input, index.reshape(input._data.shape), source.reshape(input._data.shape), dim=0,
                             reduce=reduce, include_self=bool(include_self))
    spread = [1] * len(sshape)
    spread[d] = sshape[d]
    scatter_index = index.reshape(spread).expand(sshape)
    if input._data.shape[d] < sshape[d] or any(sshape[k] > input._data.shape[k] for k in range(len(sshape)) if k != d):
        scatter_index = scatter_index.contiguous()
    return ScatterReduce(input, scatter_index, source, dim=d, reduce=reduce, include_self=bool(include_self))


# ------------------------------------------------------------------------------------ masks
def _check_mask(mask, op_name):
    if not isinstance(mask, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._dtype.name != "bool":
        raise op_error(RuntimeError, op_name, f"{op_name} only supports boolean masks, but got mask with dtype "
                       f"{_mask_dtype_name(mask)}")


def _mask_dtype_name(mask):
    return {"int64": "long int", "int32": "int", "uint8": "unsigned char", "float32": "float"}.get(
        mask._dtype.name, _dtype_name(mask))


@register_op
class MaskedFill:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where ``mask`` (broadcast) is True.

    >>> ember.tensor([1, 2, 3]).masked_fill(ember.tensor([True, False, True]), 0)
    tensor([0, 2, 0])
    """

    name = "masked_fill"
    kind = "index"
    promote = "none"
    method = True
    out = False
    softmax_chain_role = "mask"  # ember.compile fuses masked_fill(x, mask, number) into a softmax chain

    def function(input, mask, value):
        _check_mask(mask, "masked_fill_")
        value = _fill_value(input, value, "masked_fill")
        if isinstance(value, Tensor) and not value._requires_grad:
            value = value._data
        return MaskedFill(input, mask, value)

    def inplace(self, mask, value):
        """In-place :func:`ember.masked_fill`; ``mask`` must broadcast to ``input``'s shape.

        >>> ember.zeros(3).masked_fill_(ember.tensor([True, False, True]), 1.0)
        tensor([1., 0., 1.])
        """
        return _write_back(self, lambda: MaskedFill.function(self, mask, value), "masked_fill_")

    def forward(ctx, a, mask, value):
        ctx.mask = mask
        fill = np.asarray(value).astype(a.dtype)
        if mask.ndim <= a.ndim and np.broadcast_shapes(mask.shape, a.shape) == a.shape:
            out = np.array(a, copy=True, order="C")  # a copy and a masked write: half of np.where's time
            np.copyto(out, fill, where=mask)
            return out
        out = np.where(mask, fill, a)
        return out if out.dtype == a.dtype else out.astype(a.dtype)

    def backward(ctx, grad):
        mask = from_array(ctx.mask)
        grad_self = MaskedFill(grad, mask, 0) if ctx.next_edges[0] is not None else None
        grad_value = None
        if ctx.next_edges[2] is not None:
            from ember.ops.reduce import Sum
            grad_value = Sum.function(MaskedFill(grad, ~mask, 0))
        return grad_self, None, grad_value


@register_op
class MaskedScatter:
    """A copy of ``input`` with consecutive elements of ``source`` written where ``mask`` is True.

    >>> ember.zeros(4).masked_scatter(ember.tensor([True, False, True, False]), ember.tensor([1.0, 2.0]))
    tensor([1., 0., 2., 0.])
    """

    name = "masked_scatter"
    kind = "index"
    promote = "none"
    method = True
    out = False

    def function(input, mask, source):
        if source._dtype is not input._dtype:
            raise op_error(RuntimeError, "masked_scatter", "masked_scatter: expected self and source to have same "
                           f"dtypes but got{_dtype_name(input)} and {_dtype_name(source)}")
        _check_mask(mask, "masked_scatter_")
        try:
            shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
        except ValueError:
            from ember.errors import broadcast_message
            raise op_error(RuntimeError, "masked_scatter",
                           broadcast_message([input._data.shape, mask._data.shape])) from None
        if np.count_nonzero(np.broadcast_to(mask._data, shape)) > source._data.size:
            raise op_error(RuntimeError, "masked_scatter", "masked_scatter: Number of elements of source < number of "
                           "ones in mask")
        return MaskedScatter(input, mask, source)

    def inplace(self, mask, source):
        return _write_back(self, lambda: MaskedScatter.function(self, mask, source), "masked_scatter_")

    def forward(ctx, a, mask, source):
        shape = np.broadcast_shapes(a.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        ctx.mask = mask
        out = np.array(np.broadcast_to(a, shape), copy=True)
        out[mask] = source.reshape(-1)[:np.count_nonzero(mask)]
        return out

    def backward(ctx, grad):
        mask = from_array(ctx.mask)
        grad_self = MaskedFill(grad, mask, 0) if ctx.next_edges[0] is not None else None
        grad_source = None
        if ctx.next_edges[2] is not None:
            grad_source = MaskedScatterBackward(grad, mask, shape=ctx.input_meta[2][0])
        return grad_self, None, grad_source


@register_op
class MaskedScatterBackward:
    """The gradient reaching ``source``: ``grad[mask]`` in its leading elements, zeros after."""

    name = "masked_scatter_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, mask, shape):
        ctx.mask = mask
        selected = grad[mask]
        out = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=grad.dtype)
        out[:selected.size] = selected
        return out.reshape(shape)

    def backward(ctx, grad):
        zeros = from_array(np.zeros(ctx.mask.shape, dtype=grad._data.dtype))
        return MaskedScatter(zeros, from_array(ctx.mask), grad), None


@register_op
class MaskedSelect:
    """The elements of ``input`` where ``mask`` (broadcast together) is True, as a 1-d tensor.

    >>> ember.masked_select(ember.tensor([[1, 2], [3, 4]]), ember.tensor([True, False]))
    tensor([1, 3])
    """

    name = "masked_select"
    kind = "index"
    promote = "none"
    method = True

    def function(input, mask):
        if not isinstance(mask, Tensor) or mask._dtype.name != "bool":
            raise op_error(RuntimeError, "masked_select", "masked_select: expected BoolTensor for mask")
        try:
            np.broadcast_shapes(input._data.shape, mask._data.shape)
        except ValueError:
            from ember.errors import broadcast_message
            raise op_error(RuntimeError, "masked_select",
                           broadcast_message([input._data.shape, mask._data.shape])) from None
        return MaskedSelect(input, mask)

    def forward(ctx, a, mask):
        shape = np.broadcast_shapes(a.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        ctx.mask = mask
        return np.broadcast_to(a, shape)[mask]

    def backward(ctx, grad):
        zeros = from_array(np.zeros(ctx.mask.shape, dtype=grad._data.dtype))
        return MaskedScatter(zeros, from_array(ctx.mask), grad), None


# ------------------------------------------------------------------------------------ flat indexing
def _flat_index_check(input, index, op_name):
    if not isinstance(index, Tensor) or index._dtype.name != "int64":
        raise op_error(RuntimeError, op_name, f"{op_name}(): Expected a long tensor for index, but got "
                       f"{_dtype_name(index) if isinstance(index, Tensor) else type(index).__name__}")
    n = input._data.size
    data = index._data
    if data.size and (data.max() >= n or data.min() < -n):
        bad = int(data.max()) if data.max() >= n else int(data.min())
        raise op_error(IndexError, op_name, f"out of range: tried to access index {bad} on a tensor of {n} elements.")


@register_function(method=True)
def take(input, index):
    """Elements of ``input`` viewed as 1-d, at ``index`` (negative indices count from the end).

    >>> ember.take(ember.tensor([[1, 2], [3, 4]]), ember.tensor([0, -1]))
    tensor([1, 4])
    """
    _flat_index_check(input, index, "take")
    flat = input.reshape(-1)
    return GetItem(flat, index=index._data)


@register_function(method=True, out=True)
def take_along_dim(input, indices, dim=None):
    """Values at ``indices`` along ``dim`` after broadcasting the other dims (over the flattened input if None).

    >>> ember.take_along_dim(ember.tensor([[10, 30, 20]]), ember.tensor([[0, 2, 1]]), dim=1)
    tensor([[10, 20, 30]])
    """
    if indices._dtype.name != "int64":
        raise op_error(RuntimeError, "take_along_dim", "torch.take_along_dim(): dtype of indices should be Long but got "
                       f"{_dtype_name(indices)}")
    if dim is None:
        return Gather.function(input.reshape(-1), 0, indices.reshape(-1))
    ndim = input._data.ndim
    if indices._data.ndim != ndim:
        raise op_error(RuntimeError, "take_along_dim", "torch.take_along_dim(): input and indices should have the "
                       f"same number of dimensions, but got {ndim} dimensions for input, and "
                       f"{indices._data.ndim} dimensions for indices")
    d = wrap_dim(dim, ndim, "take_along_dim")
    in_shape, idx_shape = list(input._data.shape), list(indices._data.shape)
    in_shape[d] = idx_shape[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(in_shape), tuple(idx_shape)))
    except ValueError:
        from ember.errors import broadcast_message
        raise op_error(RuntimeError, "take_along_dim", broadcast_message([input._data.shape,
                                                                          indices._data.shape])) from None
    in_target, idx_target = list(common), list(common)
    in_target[d], idx_target[d] = input._data.shape[d], indices._data.shape[d]
    return Gather.function(input.expand(in_target), d, indices.expand(idx_target))


@register_function(method=True, inplace=True)
def put(input, index, source, accumulate=False):
    """A copy of ``input`` (viewed as 1-d) with ``source`` written (or added) at ``index``.

    >>> ember.zeros(2, 2).put(ember.tensor([0, -1]), ember.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    _flat_index_check(input, index, "put")
    if source._dtype is not input._dtype:
        raise op_error(RuntimeError, "put", f"put_(): self and source expected to have the same dtype, but got "
                       f"self.dtype = {_dtype_name(input)} and source.dtype = {_dtype_name(source)}.")
    if index._data.size != source._data.size:
        raise op_error(RuntimeError, "put", f"put_(): Expected source and index to have the same number of elements, "
                       f"but got source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    flat = input.reshape(-1)
    result = IndexPut(flat, source.reshape(-1), index=(index._data.reshape(-1),), accumulate=bool(accumulate))
    return result.reshape(input._data.shape)


# ------------------------------------------------------------------------------------ positions in sorted sequences
def _sorted_positions(boundaries, values, right):
    """For each of ``values`` (rows matching ``boundaries``' rows), the first position in its row of ``boundaries``
    whose element is ``> value`` (``right``) or ``>= value``: PyTorch's binary search, step for step, for all values at
    once, so NaN and unsorted rows give its answers too."""
    length = boundaries.shape[-1]
    count = int(np.prod(boundaries.shape[:-1]))
    rows = boundaries.reshape(count, length)
    flat = values.reshape(1, values.size) if boundaries.ndim == 1 else values.reshape(count, values.shape[-1])
    row = np.arange(rows.shape[0])[:, None]
    start = np.zeros(flat.shape, np.int64)
    end = np.full(flat.shape, length, np.int64)
    while True:
        searching = start < end
        if not searching.any():
            break
        middle = start + ((end - start) >> 1)
        found = rows[row, np.minimum(middle, length - 1)]
        go_right = ~(found > flat) if right else ~(found >= flat)
        start = np.where(searching & go_right, middle + 1, start)
        end = np.where(searching & ~go_right, middle, end)
    return start.reshape(values.shape)


def _searchsorted_checks(boundaries, values, sorter):
    op_name = "searchsorted"
    if sorter is not None:
        if sorter._data.shape != boundaries._data.shape:
            raise op_error(RuntimeError, op_name, f"torch.searchsorted(): boundary and sorter must have the same size, but "
                           f"got boundary tensor {list(boundaries._data.shape)}and got sorter tensor "
                           f"{list(sorter._data.shape)}")
        if sorter._dtype is not _dt.int64:
            raise op_error(RuntimeError, op_name, f"torch.searchsorted(): sorter must be a tensor of long dtype but got "
                           f"dtype {_dtype_name(sorter)}")
        if sorter._data.size and (sorter._data.min() < 0 or sorter._data.max() >= sorter._data.shape[-1]):
            raise op_error(RuntimeError, op_name, "torch.searchsorted(): sorter index out of range")
    seq_shape, value_shape = boundaries._data.shape, values._data.shape
    if not value_shape and len(seq_shape) != 1:
        raise op_error(RuntimeError, op_name, f"torch.searchsorted(): input value can be a scalar only when boundaries "
                       f"tensor dimension is 1, but we got boundaries tensor dim({len(seq_shape)}) and input value's "
                       f"dim({len(value_shape)}) numel({values._data.size})")
    if not seq_shape:
        raise op_error(RuntimeError, op_name, "torch.searchsorted(): boundaries tensor should have positive dimension, "
                       "but got 0 dimension")
    if len(seq_shape) != 1 and (len(seq_shape) != len(value_shape) or seq_shape[:-1] != value_shape[:-1]):
        raise op_error(RuntimeError, op_name, "torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                       "first N-1 dimensions of boundaries tensor and input value tensor must match, but we got "
                       f"boundaries tensor {list(seq_shape)} and input value tensor {list(value_shape)}")


@register_op
class Searchsorted:
    """Where each of ``input`` would be inserted into the last dimension of ``sorted_sequence`` to keep it sorted: the
    first position whose element is ``>=`` it (``> `` with ``right=True`` or ``side="right"``), in the promoted dtype
    of both; ``sorter`` holds the indices that sort an unsorted sequence. int64 positions (int32 with ``out_int32``).

    >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6]))
    tensor([1, 3])
    >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), 3, side="right")
    tensor(2)
    """

    name = "searchsorted"
    kind = "index"
    promote = "none"
    out = False

    def function(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
        op_name = "searchsorted"
        if side is not None:
            if side not in ("left", "right"):
                raise op_error(RuntimeError, op_name, f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side}")
            if right and side != "right":
                raise op_error(RuntimeError, op_name, f"torch.searchsorted(): side and right can't be set to opposites, "
                               f"got side of {side} while right was True")
            right = side == "right"
        dtype = _dt.result_type_of((sorted_sequence, input))
        if not isinstance(input, Tensor):  # a Python number: a 0-d tensor of the promoted dtype
            input = from_array(np.asarray(input).astype(dtype.numpy_dtype))
        _searchsorted_checks(sorted_sequence, input, sorter)
        result_dtype = _dt.int32 if out_int32 else _dt.int64
        if out is not None and out._dtype is not result_dtype:
            raise op_error(RuntimeError, op_name, "torch.searchsorted(): output tensor's dtype is wrong, it can only be "
                           "Int(int32) or Long(int64) depending on whether out_int32 flag is True, but we got output "
                           f"tensor's dtype {_dtype_name(out)} and out_int32 flag is {bool(out_int32)}")
        if dtype is _dt.bool:
            raise op_error(NotImplementedError, op_name, "\"searchsorted_out_cpu\" not implemented for 'Bool'")
        result = Searchsorted(sorted_sequence, input, sorter, dtype=dtype, right=bool(right),
                              result_dtype=result_dtype)
        return write_out(result, out)

    def forward(boundaries, values, sorter, dtype, right, result_dtype):
        boundaries = boundaries.astype(dtype.numpy_dtype, copy=False)
        if sorter is not None:
            boundaries = np.take_along_axis(boundaries, sorter, axis=-1)
        positions = _sorted_positions(boundaries, values.astype(dtype.numpy_dtype, copy=False), right)
        return positions.astype(result_dtype.numpy_dtype, copy=False)


@register_function
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each of ``input`` between the sorted 1-d ``boundaries``: ``i`` with ``boundaries[i - 1] < x <=
    boundaries[i]`` (``boundaries[i - 1] <= x < boundaries[i]`` with ``right=True``); :func:`searchsorted` with the
    arguments swapped.

    >>> ember.bucketize(ember.tensor([[1, 6], [9, 3]]), ember.tensor([1, 3, 5, 7]))
    tensor([[0, 3],
            [4, 1]])
    """
    if boundaries._data.ndim != 1:
        raise op_error(RuntimeError, "bucketize", f"boundaries tensor must be 1 dimension, but got dim("
                       f"{boundaries._data.ndim})")
    return Searchsorted.function(boundaries, input, out_int32=out_int32, right=right, out=out)
