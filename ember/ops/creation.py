"""Creating tensors: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and _like), arange.

>>> import ember
>>> ember.tensor([[1, 2], [3, 4]]).dtype
ember.int64
>>> ember.zeros(2, 3).shape
ember.Size([2, 3])
>>> ember.arange(0, 1, 0.25)
tensor([0.0000, 0.2500, 0.5000, 0.7500])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.device import to_device
from ember.errors import op_error
from ember.ops.arguments import as_shape
from ember.tensor import Tensor, _make

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "arange", "scalar_tensor"]


def _infer_array(data):
    """A NumPy array for Python data, with PyTorch's dtype inference (floats -> default dtype)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)):
        data = _unwrap_nested(data)
    arr = np.asarray(data)
    if arr.dtype == object:
        raise TypeError(f"could not build a tensor from {type(data).__name__}: elements must be numbers, "
                        "bools or tensors of one element, in lists of equal lengths")
    if arr.dtype.kind == "f" and not isinstance(data, np.generic):
        arr = arr.astype(_dt.get_default_dtype().numpy_dtype)
    elif arr.dtype.kind == "c":
        raise TypeError("ember has no complex dtypes")
    elif arr.dtype.kind in "US":
        raise TypeError(f"new(): invalid data type '{arr.dtype.name}'")
    return arr


def _unwrap_nested(data):
    out = []
    for x in data:
        if isinstance(x, Tensor):
            out.append(x._data if x._dtype is not _dt.bfloat16 else x._data.astype(np.float32))
        elif isinstance(x, (list, tuple)):
            out.append(_unwrap_nested(x))
        else:
            out.append(x)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    >>> ember.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    to_device(device)
    arr = _infer_array(data)
    if dtype is not None:
        arr = np.array(arr, dtype=_dt.to_dtype(dtype).numpy_dtype, copy=True)
    else:
        if arr.dtype not in _dt._BY_NUMPY:
            arr = arr.astype(_dt.from_numpy_dtype(arr.dtype).numpy_dtype)
        arr = np.array(arr, copy=True)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` (a tensor or NumPy array) when it can.

    >>> a = np.zeros(2); ember.as_tensor(a).numpy() is a
    True
    """
    to_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or _dt.to_dtype(dtype) is data._dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype in _dt._BY_NUMPY:
        t = _make(data)
        return t if dtype is None else t.to(dtype)
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array.

    >>> a = np.arange(3); t = ember.from_numpy(a); a[0] = 7; t
    tensor([7, 1, 2])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in _dt._BY_NUMPY:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype}. The only supported types are: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return _make(ndarray)


def _filled(size, fill, dtype, requires_grad, op_name, device=None):
    to_device(device)
    shape = as_shape(size, op_name)
    if dtype is None:
        if isinstance(fill, bool):
            dt = _dt.bool
        elif isinstance(fill, int):
            dt = _dt.int64 if op_name == "full" else _dt.get_default_dtype()
        else:
            dt = _dt.get_default_dtype()
    else:
        dt = _dt.to_dtype(dtype)
    if fill is None:
        arr = np.empty(shape, dtype=dt.numpy_dtype)
    elif fill == 0:
        arr = np.zeros(shape, dtype=dt.numpy_dtype)
    else:
        arr = np.full(shape, fill, dtype=dt.numpy_dtype)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros.

    >>> ember.zeros(2)
    tensor([0., 0.])
    """
    return _filled(size, 0.0, dtype, requires_grad, "zeros", device)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones.

    >>> ember.ones(2, dtype=ember.int32)
    tensor([1, 1], dtype=ember.int32)
    """
    return _filled(size, 1.0, dtype, requires_grad, "ones", device)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None) -> Tensor:
    """An uninitialized tensor.

    >>> ember.empty(2, 3).shape
    ember.Size([2, 3])
    """
    return _filled(size, None, dtype, requires_grad, "empty", device)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in PyTorch).

    >>> ember.full((2,), 7)
    tensor([7, 7])
    """
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype, requires_grad, "full",
                   device)


def _like(input, fill, dtype, requires_grad, op_name):
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    return _filled(input._data.shape, fill, dt, requires_grad, op_name)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with ``input``'s shape and dtype.

    >>> ember.zeros_like(ember.tensor([1, 2]))
    tensor([0, 0])
    """
    return _like(input, 0, dtype, requires_grad, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with ``input``'s shape and dtype.

    >>> ember.ones_like(ember.zeros(2))
    tensor([1., 1.])
    """
    return _like(input, 1, dtype, requires_grad, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialized, with ``input``'s shape and dtype.

    >>> ember.empty_like(ember.zeros(2, 2)).shape
    ember.Size([2, 2])
    """
    return _like(input, None, dtype, requires_grad, "empty_like")


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` with ``input``'s shape and dtype.

    >>> ember.full_like(ember.zeros(2), 3)
    tensor([3., 3.])
    """
    return _like(input, fill_value, dtype, requires_grad, "full_like")


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    >>> ember.arange(3)
    tensor([0, 1, 2])
    """
    to_device(device)
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise op_error(RuntimeError, "arange", "step must be nonzero")
    if (end - start) * step < 0:
        raise op_error(RuntimeError, "arange", f"upper bound and larger bound inconsistent with step sign "
                       f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dt = _dt.int64 if all(isinstance(v, (int, np.integer)) for v in values) else _dt.get_default_dtype()
    else:
        dt = _dt.to_dtype(dtype)
    if dt.category == 2 or not all(isinstance(v, (int, np.integer)) for v in values):
        n = int(np.ceil((end - start) / step))
        arr = (start + np.arange(max(n, 0), dtype=np.float64) * step).astype(dt.numpy_dtype)
    else:
        arr = np.arange(start, end, step, dtype=dt.numpy_dtype)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor (default float dtype).

    >>> ember.scalar_tensor(2)
    tensor(2.)
    """
    return tensor(s, dtype=dtype or _dt.get_default_dtype(), requires_grad=requires_grad)


TENSOR_METHODS = {}
