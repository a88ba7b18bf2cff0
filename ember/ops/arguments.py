"""Argument normalization shared by the op families: dims, shapes, sizes, per-dimension ints."""

from __future__ import annotations

import numbers

from ember.errors import op_error
from ember.tensor import Tensor

__all__ = ["wrap_dim", "wrap_dims", "as_shape", "int_tuple", "require_tensor"]


def wrap_dim(dim, ndim: int, op_name: str = "op") -> int:
    """Turn a possibly negative ``dim`` into an index in ``range(ndim)``; 0-d tensors accept 0 and -1."""
    if dim.__class__ is not int:
        if hasattr(dim, "__index__") and not isinstance(dim, bool):
            dim = dim.__index__()
        else:
            raise op_error(TypeError, op_name, f"dim must be an int, got {type(dim).__name__}")
    bound = ndim if ndim > 0 else 1
    if dim < -bound or dim >= bound:
        raise op_error(IndexError, op_name,
                       f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim + bound if dim < 0 else dim


def wrap_dims(dims, ndim: int, op_name: str = "op") -> tuple:
    """Normalize an int or a sequence of ints to a sorted tuple of distinct non-negative dims."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int) or hasattr(dims, "__index__"):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim, op_name) for d in dims)
    if len(set(out)) != len(out):
        raise op_error(RuntimeError, op_name, f"dim {out} appears multiple times in the list of dims")
    return out


def as_shape(size, op_name: str = "op") -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(ember.Size)`` and return a tuple of ints."""
    if len(size) == 1 and not isinstance(size[0], int) and size[0] is not None and not hasattr(size[0], "__index__"):
        size = size[0]
    elif len(size) == 1 and hasattr(size[0], "_data") and size[0]._data.ndim == 1:
        size = size[0].tolist()
    try:
        shape = tuple(int(s.__index__()) if not isinstance(s, int) else s for s in size)
    except (AttributeError, TypeError):
        raise op_error(TypeError, op_name, f"size must be a sequence of ints, got {size!r}") from None
    for s in shape:
        if s < 0 and s != -1:
            raise op_error(RuntimeError, op_name, f"negative dimension {s} in size {shape}")
    return shape


def int_tuple(value, n: int, name: str, op_name: str) -> tuple:
    """``value`` (an int or a sequence of 1 or ``n`` ints) as a tuple of ``n`` ints: the kernel sizes, strides,
    paddings and dilations of the convolution and pooling ops.

    >>> int_tuple(2, 3, "stride", "conv3d"), int_tuple([1, 2], 2, "padding", "conv2d")
    ((2, 2, 2), (1, 2))
    """
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) == 1:
            items = items * n
        if len(items) != n:
            raise op_error(RuntimeError, op_name, f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={list(value)}")
    else:
        items = [value] * n
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            if hasattr(v, "__index__") and not isinstance(v, bool):
                v = v.__index__()
            else:
                raise op_error(TypeError, op_name, f"{name} must be an int or a tuple of ints, got {value!r}")
        out.append(int(v))
    return tuple(out)


def require_tensor(op_name: str, value, name: str, position: int | None = None):
    """``value``, or PyTorch's TypeError when it is not a Tensor, naming argument ``name`` (at ``position``).

    >>> require_tensor("mm", [1.0], "mat2", 2)
    Traceback (most recent call last):
    TypeError: mm: mm(): argument 'mat2' (position 2) must be Tensor, not list
      called from ...
    """
    if not isinstance(value, Tensor):
        where = f" (position {position})" if position is not None else ""
        raise op_error(TypeError, op_name, f"{op_name}(): argument '{name}'{where} must be Tensor, not "
                       f"{type(value).__name__}")
    return value
