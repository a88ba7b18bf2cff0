"""Indexing: ``t[index]`` and ``t[index] = value`` (basic, integer and boolean), and friends.

Basic indexing (ints, slices, None, Ellipsis) returns a view; integer-array and boolean indexing
return copies, as in PyTorch.

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

from ember.autograd.grad_mode import STATE
from ember.errors import op_error
from ember.ops.registry import check_inplace_allowed, register_op, write_result_into
from ember.tensor import Tensor

__all__ = ["getitem", "setitem", "nonzero"]


def normalize_index(index, op_name="index"):
    """Turn a PyTorch index into a NumPy one: tensors become arrays, and only valid types pass."""
    if isinstance(index, tuple):
        return tuple(_normalize_one(i, op_name) for i in index)
    return _normalize_one(index, op_name)


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
    name = "getitem"
    kind = "index"
    promote = "none"
    view = True

    def forward(ctx, a, index):
        ctx.index = index
        return a[index]

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
        return getitem(grad, ctx.index)


@register_op
class IndexPut:
    """Out-of-place ``t[index] = values`` (with ``accumulate`` adding instead), for autograd."""

    name = "index_put"
    kind = "index"
    save = ()

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
            from ember.tensor import _make
            grad_self = grad * _make(mask)
        grad_values = getitem(grad, ctx.index) if ctx.next_edges[1] is not None else None
        return grad_self, grad_values


def getitem(input, index):
    """``input[index]``; see the module docstring.

    >>> ember.arange(5)[[0, 2, 2]]
    tensor([0, 2, 2])
    """
    return GetItem(input, index=normalize_index(index, "getitem"))


def setitem(input, index, value):
    """``input[index] = value``, in place, recorded for autograd when needed."""
    check_inplace_allowed(input, "setitem")
    np_index = normalize_index(index, "setitem")
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


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` put at ``indices`` (a tuple of index tensors).

    >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor([1.0, 2.0]), accumulate=True)
    tensor([3., 0., 0.])
    """
    np_index = normalize_index(tuple(indices), "index_put")
    if not isinstance(values, Tensor):
        from ember.ops.creation import tensor
        values = tensor(values, dtype=input._dtype)
    return IndexPut(input, values, index=np_index, accumulate=accumulate)


def index_put_(input, indices, values, accumulate=False):
    """In-place ``index_put``.

    >>> x = ember.zeros(3); x.index_put_((ember.tensor([1]),), ember.tensor([5.0]))
    tensor([0., 5., 0.])
    """
    check_inplace_allowed(input, "index_put_")
    result = index_put(input, indices, values, accumulate)
    write_result_into(input, result, "index_put_")
    return input


def nonzero(input, *, as_tuple=False):
    """Indices of nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-d tensors.

    >>> ember.nonzero(ember.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    from ember.tensor import _make
    idx = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_make(i.astype(np.int64)) for i in idx)
    return _make(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64))


TENSOR_METHODS = {"index_put": index_put, "index_put_": index_put_, "nonzero": nonzero}
__all__ += ["index_put", "index_put_"]
