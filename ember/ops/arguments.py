"""Argument normalization shared by the op families: dims, shapes, sizes."""

from __future__ import annotations

from ember.errors import op_error

__all__ = ["wrap_dim", "wrap_dims", "as_shape"]


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
