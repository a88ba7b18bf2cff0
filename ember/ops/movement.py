"""Shape and movement ops: reshape/view, expand, permute, transpose, squeeze/unsqueeze, clone...

Views share memory with their input (writing through one writes the other) and share its version
counter, as in PyTorch.

>>> import ember
>>> x = ember.arange(6).reshape(2, 3)
>>> x.t()
tensor([[0, 3],
        [1, 4],
        [2, 5]])
>>> v = x.view(-1); v[0] = 100; x[0, 0].item()
100
"""

from __future__ import annotations

import numpy as np

from ember.errors import op_error
from ember.ops.arguments import as_shape, wrap_dim
from ember.ops.registry import register_op
from ember.tensor import Tensor

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "squeeze", "unsqueeze", "flatten",
           "clone", "t", "expand_copy"]


def _infer_shape(shape, numel, op_name):
    if -1 in shape:
        if shape.count(-1) > 1:
            raise op_error(RuntimeError, op_name, "only one dimension can be inferred")
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise op_error(RuntimeError, op_name, f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    total = 1
    for s in shape:
        total *= s
    if total != numel:
        raise op_error(RuntimeError, op_name, f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


@register_op
class Reshape:
    """Reshape, returning a view when the strides allow it and a copy otherwise."""

    name = "reshape"
    kind = "movement"
    promote = "none"
    view = True

    def forward(a, shape):
        return np.reshape(a, shape)

    def backward(ctx, grad):
        return grad.reshape(ctx.input_meta[0][0])


@register_op
class View:
    """Reshape that must not copy: fails like PyTorch when the strides don't allow it."""

    name = "view"
    kind = "movement"
    promote = "none"
    view = True

    def forward(a, shape):
        try:
            return np.reshape(a, shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None

    def backward(ctx, grad):
        return grad.reshape(ctx.input_meta[0][0])


@register_op
class Expand:
    name = "expand"
    kind = "movement"
    promote = "none"
    view = True

    def forward(a, shape):
        return np.broadcast_to(a, shape)

    def backward(ctx, grad):
        from ember.ops.reduce import sum_to_size
        return sum_to_size(grad, ctx.input_meta[0][0])


@register_op
class Permute:
    name = "permute"
    kind = "movement"
    promote = "none"
    view = True

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    def backward(ctx, grad):
        return grad.permute(tuple(int(i) for i in np.argsort(ctx.dims)))


@register_op
class Transpose:
    name = "transpose"
    kind = "movement"
    promote = "none"
    view = True

    def forward(ctx, a, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1)

    def backward(ctx, grad):
        return grad.transpose(*ctx.dims)


@register_op
class Clone:
    name = "clone"
    kind = "elementwise"
    promote = "none"

    def forward(a):
        return np.array(a, copy=True, order="C")

    def backward(ctx, grad):
        return grad


def reshape(input, *shape):
    """The same data in a new shape (a view when possible); one dimension may be -1.

    >>> ember.arange(4).reshape(2, -1).shape
    ember.Size([2, 2])
    """
    shape = _infer_shape(as_shape(shape, "reshape"), input._data.size, "reshape")
    if shape == input._data.shape:
        return Reshape(input, shape=shape) if input._requires_grad else _alias(input)
    return Reshape(input, shape=shape)


def view(input, *shape):
    """A view with a new shape; raises when the memory layout would need a copy.

    >>> ember.zeros(2, 3).view(6).shape
    ember.Size([6])
    """
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(shape[0], "__index__"):
        from ember import dtypes
        target = dtypes.to_dtype(shape[0])
        if target.itemsize != input._dtype.itemsize:
            raise op_error(RuntimeError, "view", "view(dtype) with a different element size is not supported")
        from ember.tensor import _make
        out = _make(input._data.view(target.numpy_dtype), version=input._version)
        out._base = input if input._base is None else input._base
        return out
    shape = _infer_shape(as_shape(shape, "view"), input._data.size, "view")
    return View(input, shape=shape)


def _alias(input):
    from ember.tensor import _make
    out = _make(input._data.view(), version=input._version)
    out._base = input if input._base is None else input._base
    return out


def expand(input, *sizes):
    """Broadcast to a larger shape without copying; -1 keeps a dimension.

    >>> ember.tensor([[1], [2]]).expand(2, 3)
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """
    sizes = as_shape(sizes, "expand")
    have = input._data.shape
    if len(sizes) < len(have):
        raise op_error(RuntimeError, "expand", f"the number of sizes provided ({len(sizes)}) must be greater or equal "
                       f"to the number of dimensions in the tensor ({len(have)})")
    lead = len(sizes) - len(have)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s == -1:
                raise op_error(RuntimeError, "expand", f"the expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
            target.append(s)
            continue
        current = have[i - lead]
        if s == -1:
            s = current
        elif current != 1 and s != current:
            raise op_error(RuntimeError, "expand", f"The expanded size of the tensor ({s}) must match the existing "
                           f"size ({current}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                           f"sizes: {list(have)}")
        target.append(s)
    target = tuple(target)
    if target == have:
        return input if not input._requires_grad else Expand(input, shape=target)
    return Expand(input, shape=target)


def expand_as(input, other):
    """``input.expand(other.shape)``.

    >>> ember.tensor([1]).expand_as(ember.zeros(3)).shape
    ember.Size([3])
    """
    return expand(input, other._data.shape)


def expand_copy(input, *sizes):
    return clone(expand(input, *sizes))


def permute(input, *dims):
    """Reorder dimensions (a view).

    >>> ember.zeros(2, 3, 4).permute(2, 0, 1).shape
    ember.Size([4, 2, 3])
    """
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise op_error(RuntimeError, "permute", f"number of dims don't match in permute: the tensor has {ndim} "
                       f"dimensions but {len(dims)} were given")
    dims = tuple(wrap_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise op_error(RuntimeError, "permute", f"repeated dim in permute: {dims}")
    return Permute(input, dims=dims)


def transpose(input, dim0, dim1):
    """Swap two dimensions (a view).

    >>> ember.zeros(2, 3).transpose(0, 1).shape
    ember.Size([3, 2])
    """
    ndim = input._data.ndim
    d0, d1 = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
    return Transpose(input, dim0=d0, dim1=d1)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions.

    >>> ember.zeros(2, 3).t().shape
    ember.Size([3, 2])
    """
    if input._data.ndim > 2:
        raise op_error(RuntimeError, "t", f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (all of them, or those in ``dim``).

    >>> ember.zeros(1, 2, 1).squeeze().shape
    ember.Size([2])
    """
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {wrap_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape(input, shape=new)


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim``.

    >>> ember.zeros(2).unsqueeze(-1).shape
    ember.Size([2, 1])
    """
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return Reshape(input, shape=shape[:d] + (1,) + shape[d:])


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` through ``end_dim`` into one.

    >>> ember.zeros(2, 3, 4).flatten(1).shape
    ember.Size([2, 12])
    """
    shape = input._data.shape
    if len(shape) == 0:
        return Reshape(input, shape=(1,))
    s = wrap_dim(start_dim, len(shape), "flatten")
    e = wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise op_error(RuntimeError, "flatten", "flatten() has invalid args: start_dim cannot come after end_dim")
    merged = 1
    for x in shape[s:e + 1]:
        merged *= x
    return Reshape(input, shape=shape[:s] + (merged,) + shape[e + 1:])


def clone(input, *, memory_format=None):
    """A copy that is still connected to the graph.

    >>> a = ember.ones(2); b = a.clone(); b[0] = 5; a
    tensor([1., 1.])
    """
    return Clone(input)


def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy.

    >>> ember.zeros(2, 3).t().contiguous().is_contiguous()
    True
    """
    if input._data.flags.c_contiguous:
        return input
    return Clone(input)


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "expand": expand, "expand_as": expand_as, "permute": permute,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "flatten": flatten, "clone": clone, "contiguous": contiguous,
    "reshape_as": lambda input, other: reshape(input, other._data.shape),
    "view_as": lambda input, other: view(input, other._data.shape),
}
__all__ += ["view", "expand", "expand_as", "contiguous"]
_ = Tensor
