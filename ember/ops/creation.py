"""Creating tensors from Python values: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and _like), arange,
linspace, logspace, eye, tril_indices/triu_indices, meshgrid, empty_strided.

These are not ops (nothing to differentiate, no operands to dispatch on): each is a function registered with
``register_function``, which makes it public as ``ember.<name>``. Random tensors are in ``random.py``.

Dtype inference follows PyTorch: Python floats give the default dtype, ints give int64, bools give bool,
NumPy arrays and scalars keep their dtype, and mixed elements promote.

>>> import ember
>>> ember.tensor([[1, 2], [3, 4]]).dtype
ember.int64
>>> ember.zeros(2, 3).shape
ember.Size([2, 3])
>>> ember.arange(0, 1, 0.25)
tensor([0.0000, 0.2500, 0.5000, 0.7500])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.device import to_device
from ember.errors import op_error
from ember.ops.registry import register_function
from ember.tensor import Tensor, from_array

_builtin_range = range
_PY_SCALARS = frozenset((int, float, bool))


# ------------------------------------------------------------------------------------ dtype inference
def _scalar_dtype(x, op_name):
    """The dtype PyTorch infers for one element of a nested sequence."""
    cls = x.__class__
    if cls is float:
        return _dt._default[0]
    if cls is int:
        return _dt.int64
    if cls is bool:
        return _dt.bool
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise op_error(TypeError, op_name, f"a list element is a tensor of shape {tuple(x._data.shape)}; only "
                           "one-element tensors can be list elements (combine tensors with ember.stack)")
        return x._dtype
    if isinstance(x, np.generic):
        return _numpy_to_ember(x.dtype, op_name)
    if isinstance(x, (bool, np.bool_)):
        return _dt.bool
    if isinstance(x, int):
        return _dt.int64
    if isinstance(x, float):
        return _dt._default[0]
    if isinstance(x, complex):
        raise op_error(TypeError, op_name, "ember has no complex dtypes")
    if x is None:
        raise op_error(RuntimeError, op_name, "Could not infer dtype of NoneType")
    if isinstance(x, (str, bytes)):
        raise op_error(TypeError, op_name, f"new(): invalid data type '{type(x).__name__}'")
    raise op_error(TypeError, op_name, f"Could not infer dtype of {type(x).__name__}: elements must be numbers, "
                   "bools or one-element tensors")


def _numpy_to_ember(np_dtype, op_name):
    found = _dt._BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    kind = np_dtype.kind
    if kind in "iu":
        return _dt.int64
    if kind == "f":
        return _dt.float64
    if kind == "b":
        return _dt.bool
    raise op_error(TypeError, op_name, f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported "
                   "types are: float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool.")


def _is_sequence(x):
    return isinstance(x, (list, tuple, _builtin_range, np.ndarray))


def _scan_sequence(data, op_name):
    """Shape of a nested sequence and the set of its elements' dtypes (Python scalars as types).

    Raises PyTorch's errors for ragged nesting; elements are checked at C speed where they are plain
    Python numbers.
    """
    shape = []
    x = data
    while _is_sequence(x):
        if isinstance(x, np.ndarray):
            shape.extend(x.shape)
            break
        shape.append(len(x))
        if not len(x):
            break
        x = x[0]
    ndim = len(shape)
    kinds = set()

    def walk(seq, depth):
        if isinstance(seq, np.ndarray):
            if seq.shape != tuple(shape[depth:]):
                raise op_error(ValueError, op_name, f"expected sequence of length {shape[depth]} at dim {depth} "
                               f"(got an array of shape {seq.shape})")
            kinds.add(_numpy_to_ember(seq.dtype, op_name))
            return
        if len(seq) != shape[depth]:
            raise op_error(ValueError, op_name, f"expected sequence of length {shape[depth]} at dim {depth} "
                           f"(got {len(seq)})")
        if depth == ndim - 1:
            types = set(map(type, seq))
            if types <= _PY_SCALARS:
                kinds.update(types)
                return
            for element in seq:
                if _is_sequence(element):
                    raise op_error(TypeError, op_name, f"expected a number at dim {depth + 1}, got a sequence: "
                                   "the nested lists must be of equal depth")
                kinds.add(_scalar_dtype(element, op_name))
            return
        for element in seq:
            if not _is_sequence(element):
                raise op_error(TypeError, op_name, f"expected a sequence at dim {depth + 1}, got "
                               f"{type(element).__name__}: the nested lists must be of equal depth")
            walk(element, depth + 1)

    if ndim and shape[0]:
        walk(data, 0)
    return tuple(shape), kinds


def _kinds_dtype(kinds):
    if not kinds:
        return _dt._default[0]
    result = None
    for k in kinds:
        d = _dt._default[0] if k is float else _dt.int64 if k is int else _dt.bool if k is bool else k
        result = d if result is None else _dt._PROMOTE[result, d]
    return result


def _plain_values(seq):
    """Nested lists with tensors replaced by their values (for np.array)."""
    out = []
    for x in seq:
        if isinstance(x, Tensor):
            out.append(x.item())
        elif isinstance(x, (list, tuple, _builtin_range)):
            out.append(_plain_values(x))
        else:
            out.append(x)
    return out


def _overflow(op_name):
    return op_error(ValueError, op_name, "Overflow when unpacking long long: Python ints must fit in int64")


def _fast_scan(data):
    """The element types of a flat or 2-D list of Python numbers, or None when the general scan is needed."""
    if not data:
        return None
    first = data[0]
    if first.__class__ is not list and first.__class__ is not tuple:
        types = set(map(type, data))
        return types if types <= _PY_SCALARS else None
    width = len(first)
    if not width:
        return None
    types = set()
    for row in data:
        if (row.__class__ is not list and row.__class__ is not tuple) or len(row) != width:
            return None
        types.update(map(type, row))
    return types if types <= _PY_SCALARS else None


def _data_to_array(data, op_name, exact=False):
    """A NumPy array and the ember dtype PyTorch would infer for ``data`` (may share memory with ``data``).

    Python numbers are built straight in the inferred dtype unless ``exact`` asks for their full precision
    (float64 / int64), which an explicit ``dtype=`` conversion needs.
    """
    if isinstance(data, Tensor):
        return data._data, data._dtype
    if isinstance(data, np.ndarray):
        return data, _numpy_to_ember(data.dtype, op_name)
    cls = data.__class__
    if cls in _PY_SCALARS or isinstance(data, np.generic) or not _is_sequence(data):
        dt = _scalar_dtype(data, op_name)
        try:
            # With an explicit dtype a Python float keeps full precision until the final cast.
            build = np.float64 if exact and isinstance(data, float) else dt.numpy_dtype
            arr = np.array(data.item() if isinstance(data, Tensor) else data, dtype=build)
        except OverflowError:
            raise _overflow(op_name) from None
        return arr, dt
    kinds = _fast_scan(data) if cls is list or cls is tuple else None
    if kinds is None:
        shape, kinds = _scan_sequence(data, op_name)
        if not kinds:
            dt = _dt._default[0]
            return np.zeros(shape, dtype=dt.numpy_dtype), dt
    dt = _kinds_dtype(kinds)
    if kinds <= _PY_SCALARS:
        build = np.int64 if dt is _dt.int64 else np.bool_ if dt is _dt.bool else \
            np.float64 if exact or dt is _dt.bfloat16 else dt.numpy_dtype
        try:
            if build is np.float32 or build is np.float16:
                with np.errstate(over="ignore"):  # PyTorch turns out-of-range floats into inf silently
                    arr = np.array(data, dtype=build)
            else:
                arr = np.array(data, dtype=build)
        except OverflowError:
            raise _overflow(op_name) from None
        return arr, dt
    arr = np.array(_plain_values(data) if any(isinstance(k, _dt.dtype) for k in kinds) else data)
    if arr.dtype == object:
        raise op_error(TypeError, op_name, "could not build a tensor: elements must be numbers, bools or one-element "
                       "tensors, in nested lists of equal lengths")
    return arr, dt


def _check_fits(arr, dt, op_name):
    """PyTorch's overflow check when Python numbers are converted to an integer dtype."""
    if dt.category != 1 or arr.size == 0 or arr.dtype.kind == "b":
        return
    info = np.iinfo(dt.numpy_dtype)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = True
    else:
        low = -info.max if dt is _dt.uint8 else info.min
        bad = bool(arr.min() < low or arr.max() > info.max)
    if bad:
        raise op_error(RuntimeError, op_name, f"value cannot be converted to type {dt.name} without overflow")


def _cast(arr, dt):
    if arr.dtype == dt.numpy_dtype:
        return arr
    if arr.dtype.kind != "f" and dt is not _dt.bfloat16:
        return arr.astype(dt.numpy_dtype)
    with np.errstate(all="ignore"):
        if dt is _dt.bfloat16 and arr.dtype.kind != "f":
            return arr.astype(np.float32).astype(dt.numpy_dtype)
        return arr.astype(dt.numpy_dtype)


def _finish(arr, requires_grad, op_name):
    t = from_array(arr)
    if requires_grad:
        if t._dtype.category != 2:
            raise op_error(RuntimeError, op_name, "Only Tensors of floating point and complex dtype can require "
                           f"gradients (got dtype {t._dtype})")
        t._requires_grad = True
    return t


# ------------------------------------------------------------------------------------ from data
@register_function(constant=True)
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    >>> ember.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    >>> ember.tensor([1, 2.5]).dtype, ember.tensor(np.zeros(2)).dtype
    (ember.float32, ember.float64)
    """
    if device is not None:
        to_device(device)
    arr, dt = _data_to_array(data, "tensor", exact=dtype is not None)
    if dtype is not None:
        target = _dt.to_dtype(dtype)
        if not isinstance(data, (np.ndarray, Tensor)):
            _check_fits(arr, target, "tensor")
        dt = target
    out = _cast(arr, dt)
    if out is arr and (isinstance(data, (np.ndarray, Tensor)) or not out.flags.c_contiguous
                       or not out.flags.writeable):
        out = np.array(arr, copy=True)
    if out.dtype.byteorder not in "=|":
        out = out.astype(out.dtype.newbyteorder("="))
    return _finish(out, requires_grad, "tensor")


@register_function(constant=True)
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` (a tensor or NumPy array) when no conversion is needed.

    >>> a = np.zeros(2); ember.as_tensor(a).numpy() is a
    True
    """
    to_device(device)
    target = None if dtype is None else _dt.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data if target is None or target is data._dtype else data.to(target)
    if isinstance(data, np.ndarray) and data.dtype in _dt._BY_NUMPY:
        if target is None or target.numpy_dtype == data.dtype:
            return from_array(data)
        return from_array(_cast(data, target))
    return tensor(data, dtype=target)


@register_function(constant=True)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """Convert ``obj`` to a tensor, sharing memory when possible (``copy=True`` forces a copy,
    ``copy=False`` forbids one).

    >>> a = np.arange(3); t = ember.asarray(a); a[0] = 9; t
    tensor([9, 1, 2])
    """
    to_device(device)
    target = None if dtype is None else _dt.to_dtype(dtype)
    if isinstance(obj, Tensor) or (isinstance(obj, np.ndarray) and obj.dtype in _dt._BY_NUMPY):
        source = obj._data if isinstance(obj, Tensor) else obj
        needs_cast = target is not None and target.numpy_dtype != source.dtype
        if copy is False and needs_cast:
            raise op_error(ValueError, "asarray", f"can't alias a {source.dtype} array as {target} with copy=False")
        if needs_cast:
            out = from_array(_cast(source, target))
        elif copy:
            out = from_array(source.copy())
        elif isinstance(obj, Tensor):
            out = obj
        else:
            out = from_array(source)
    else:
        if copy is False:
            raise op_error(ValueError, "asarray", f"can't alias a {type(obj).__name__} with copy=False: only "
                           "tensors and NumPy arrays can be shared")
        out = tensor(obj, dtype=target)
    if requires_grad:
        if out is obj:
            out = out.detach()
        out.requires_grad_(True)
    return out


@register_function(constant=True)
def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (writes through either are seen by both).

    >>> a = np.arange(3); t = ember.from_numpy(a); a[0] = 7; t
    tensor([7, 1, 2])
    """
    if not isinstance(ndarray, np.ndarray):
        raise op_error(TypeError, "from_numpy", f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in _dt._BY_NUMPY:
        raise op_error(TypeError, "from_numpy", f"can't convert np.ndarray of type numpy.{ndarray.dtype}. The only "
                       "supported types are: float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, "
                       "and bool.")
    return from_array(ndarray)


# ------------------------------------------------------------------------------------ filled tensors
def _creation_shape(size, size_kwarg, op_name):
    if not size_kwarg and size and all(s.__class__ is int and s >= 0 for s in size):
        return size
    if size_kwarg:
        if set(size_kwarg) != {"size"} or size:
            raise op_error(TypeError, op_name, f"got unexpected keyword arguments {sorted(size_kwarg)}")
        size = (size_kwarg["size"],)
    if not size:
        raise op_error(TypeError, op_name, 'missing 1 required positional arguments: "size"')
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
        if isinstance(size, Tensor):
            size = size.tolist() if size._data.ndim else [size.item()]
    return _shape_tuple(size, op_name)


def _shape_tuple(size, op_name):
    if size.__class__ is tuple and all(s.__class__ is int and s >= 0 for s in size):
        return size
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size,)
    shape = []
    try:
        for s in size:
            if isinstance(s, (bool, float)) or not hasattr(s, "__index__"):
                raise TypeError
            shape.append(s.__index__())
    except TypeError:
        raise op_error(TypeError, op_name, f"size must be a tuple of ints, got {size!r}") from None
    for s in shape:
        if s < 0:
            raise op_error(RuntimeError, op_name, f"Trying to create tensor with negative dimension {s}: {shape}")
    return tuple(shape)


def _resolve_dtype(dtype, out, default, op_name):
    if out is not None:
        if not isinstance(out, Tensor):
            raise op_error(TypeError, op_name, f"out must be a Tensor, got {type(out).__name__}")
        if dtype is not None and _dt.to_dtype(dtype) is not out._dtype:
            target = _dt.to_dtype(dtype)
            raise op_error(RuntimeError, op_name, f"dtype {_dt.torch_type_name(target)} does not match dtype of "
                           f"out parameter ({_dt.torch_type_name(out._dtype)})")
        return out._dtype
    return default if dtype is None else _dt.to_dtype(dtype)


def write_array_out(out: Tensor, arr: np.ndarray, op_name: str) -> Tensor:
    """Store a creation function's array in ``out=``, resized to its shape whatever ``out``'s was, as PyTorch's
    factory functions do (``registry.write_out`` copies an op's result tensor and resizes only an empty ``out``)."""
    from ember.autograd.grad_mode import STATE
    if STATE.enabled and out._requires_grad:
        raise op_error(RuntimeError, op_name, "out=... arguments don't support automatic differentiation, but one "
                       "of the arguments requires grad.")
    if out._data.shape == arr.shape:
        np.copyto(out._data, arr, casting="unsafe")
    else:
        out._data = arr.astype(out._data.dtype, copy=False)
    out._version.value += 1
    return out


def _fill_dtype(fill):
    if isinstance(fill, (bool, np.bool_)):
        return _dt.bool
    if isinstance(fill, (int, np.integer)):
        return _dt.int64
    if isinstance(fill, float):
        return _dt._default[0]
    if isinstance(fill, np.floating):
        return _dt._default[0]
    if isinstance(fill, complex):
        raise op_error(TypeError, "full", "ember has no complex dtypes")
    raise op_error(TypeError, "full", f"fill_value must be a number, got {type(fill).__name__}")


_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
              "float64": 1.7976931348623157e308}


def _check_scalar_fits(value, dt, op_name):
    """PyTorch refuses fill values the dtype can't hold (e.g. 300 for uint8, 1e10 for float16)."""
    if dt.category == 0 or isinstance(value, (bool, np.bool_)):
        return
    if dt.category == 1:
        info = np.iinfo(dt.numpy_dtype)
        low = -info.max if dt is _dt.uint8 else info.min
        ok = math.isfinite(value) and low <= value <= info.max
    else:
        ok = not math.isfinite(value) or abs(value) <= _FLOAT_MAX[dt.name]
    if not ok:
        raise op_error(RuntimeError, op_name, f"value cannot be converted to type {dt.name} without overflow "
                       f"(got {value})")


def _filled(shape, fill, dt, out, requires_grad, op_name):
    npdt = dt.numpy_dtype
    if fill is None:
        arr = np.empty(shape, dtype=npdt)
    elif fill == 0 and not (isinstance(fill, float) and math.copysign(1.0, fill) < 0):
        arr = np.zeros(shape, dtype=npdt)
    else:
        with np.errstate(all="ignore"):
            value = np.array(fill).astype(npdt)  # C-style conversion: truncates floats, wraps -1 to 255 for uint8
        arr = np.full(shape, value, dtype=npdt)
    if out is not None:
        return write_array_out(out, arr, op_name)
    return _finish(arr, requires_grad, op_name)


@register_function(constant=True)
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          **size_kwarg) -> Tensor:
    """A tensor of zeros; the size may be given as ints, a tuple, a list or an ``ember.Size``.

    >>> ember.zeros(2)
    tensor([0., 0.])
    >>> ember.zeros((2, 1), dtype=ember.int32)
    tensor([[0],
            [0]], dtype=ember.int32)
    """
    to_device(device)
    shape = _creation_shape(size, size_kwarg, "zeros")
    return _filled(shape, 0, _resolve_dtype(dtype, out, _dt._default[0], "zeros"), out, requires_grad, "zeros")


@register_function(constant=True)
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
         **size_kwarg) -> Tensor:
    """A tensor of ones.

    >>> ember.ones(2, dtype=ember.int32)
    tensor([1, 1], dtype=ember.int32)
    """
    to_device(device)
    shape = _creation_shape(size, size_kwarg, "ones")
    return _filled(shape, 1, _resolve_dtype(dtype, out, _dt._default[0], "ones"), out, requires_grad, "ones")


@register_function(constant=True)
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None, **size_kwarg) -> Tensor:
    """An uninitialized tensor.

    >>> ember.empty(2, 3).shape
    ember.Size([2, 3])
    """
    to_device(device)
    shape = _creation_shape(size, size_kwarg, "empty")
    return _filled(shape, None, _resolve_dtype(dtype, out, _dt._default[0], "empty"), out, requires_grad, "empty")


@register_function(constant=True)
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor filled with ``fill_value``; without ``dtype`` it follows the value (bool, int64 or the default
    float dtype), as in PyTorch.

    >>> ember.full((2,), 7)
    tensor([7, 7])
    >>> ember.full((2,), True).dtype, ember.full((2,), 0.5).dtype
    (ember.bool, ember.float32)
    """
    to_device(device)
    if isinstance(fill_value, Tensor):
        if fill_value._data.size != 1:
            raise op_error(RuntimeError, "full", f"fill_value must be a number or a one-element tensor, got shape "
                           f"{tuple(fill_value._data.shape)}")
        fill_value = fill_value.item()
    if isinstance(size, (int, np.integer)):
        raise op_error(TypeError, "full", f"argument 'size' must be tuple of ints, not int (use full(({size},), ...))")
    shape = _shape_tuple(size, "full")
    dt = _resolve_dtype(dtype, out, None, "full") or _fill_dtype(fill_value)
    _check_scalar_fits(fill_value, dt, "full")
    return _filled(shape, fill_value, dt, out, requires_grad, "full")


def _like(input, fill, dtype, requires_grad, op_name):
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"argument 'input' must be Tensor, not {type(input).__name__}")
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    if fill is not None and fill is not True and fill is not False and dt.category == 2:
        fill = float(fill)
    return _filled(input._data.shape, fill, dt, None, requires_grad, op_name)


@register_function(constant=True)
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with ``input``'s shape and dtype.

    >>> ember.zeros_like(ember.tensor([1, 2]))
    tensor([0, 0])
    """
    to_device(device)
    return _like(input, 0, dtype, requires_grad, "zeros_like")


@register_function(constant=True)
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with ``input``'s shape and dtype.

    >>> ember.ones_like(ember.zeros(2))
    tensor([1., 1.])
    """
    to_device(device)
    return _like(input, 1, dtype, requires_grad, "ones_like")


@register_function(constant=True)
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialized, with ``input``'s shape and dtype.

    >>> ember.empty_like(ember.zeros(2, 2)).shape
    ember.Size([2, 2])
    """
    to_device(device)
    return _like(input, None, dtype, requires_grad, "empty_like")


@register_function(constant=True)
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` with ``input``'s shape and dtype (the value is converted to that dtype).

    >>> ember.full_like(ember.zeros(2), 3)
    tensor([3., 3.])
    """
    to_device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = input._dtype if dtype is None else _dt.to_dtype(dtype)
    _check_scalar_fits(fill_value, dt, "full_like")
    return _like(input, fill_value, dtype, requires_grad, "full_like")


@register_function(constant=True)
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialized tensor with the given element strides.

    >>> ember.empty_strided((2, 3), (1, 2)).stride()
    (1, 2)
    """
    to_device(device)
    shape = _shape_tuple(size, "empty_strided")
    strides = _shape_tuple(stride, "empty_strided")
    if len(shape) != len(strides):
        raise op_error(RuntimeError, "empty_strided", f"mismatch in length of strides and shape: size {shape}, "
                       f"stride {strides}")
    dt = _dt._default[0] if dtype is None else _dt.to_dtype(dtype)
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    buffer = np.empty(extent, dtype=dt.numpy_dtype)
    item = buffer.itemsize
    arr = np.lib.stride_tricks.as_strided(buffer, shape, tuple(s * item for s in strides)) if extent else \
        np.empty(shape, dtype=dt.numpy_dtype)
    t = _finish(arr, requires_grad, "empty_strided")
    if extent:
        t._base = from_array(buffer)
    return t


# ------------------------------------------------------------------------------------ ranges
# PyTorch fills ranges with an AVX2 kernel: values in chunks of 2 * (32 bytes / itemsize) are computed as
# vectors (a base per vector plus lane * step), the tail element by element, and the compiler fuses
# multiply-adds. Reproducing that gives bit-identical arange/linspace results on AVX2 machines.
_VECTOR_BYTES = 32


_SPLITTER = 134217729.0  # 2**27 + 1: splits a float64 into two 26-bit halves (Dekker)
_EXACT_INDEX = float(1 << 26)  # integer-valued factors below this need no splitting


def _fma_step(step, factors, addends):
    """``step * factors + addends`` rounded once, in float64.

    ``step`` is one Python float; ``factors`` are integer-valued float64 with magnitude below 2**26, so the
    product's rounding error is found exactly by Dekker's method and added back with a two-sum.
    """
    scaled = _SPLITTER * step
    step_high = scaled - (scaled - step)
    step_low = step - step_high
    product = step * factors
    product_error = (step_high * factors - product) + step_low * factors
    total = product + addends
    rounded_part = total - product
    sum_error = (product - (total - rounded_part)) + (addends - rounded_part)
    return total + (sum_error + product_error)


def _range_values(start, step, n, npdt):
    """``start + step * i`` as PyTorch's AVX2 kernel rounds it, in ``npdt``.

    Whole vectors get ``base + lane * step`` with ``base`` rounded to the dtype; the tail gets
    ``start + i * step``. Both steps are fused multiply-adds.
    """
    start, step = float(start), float(step)
    itemsize = np.dtype(npdt).itemsize
    if n >= _EXACT_INDEX or not abs(start) + abs(step) * n < 1e300:
        with np.errstate(all="ignore"):
            return (start + step * np.arange(n, dtype=np.float64)).astype(npdt)
    idx = np.arange(n, dtype=np.float64)
    lanes = max(1, _VECTOR_BYTES // itemsize)
    vectorized_end = (n // (2 * lanes)) * (2 * lanes)
    if not vectorized_end and itemsize > 2:
        return _fma_step(step, idx, start).astype(npdt)
    lane = idx % lanes
    lane[vectorized_end:] = 0.0
    first = idx - lane
    if itemsize == 2:
        # 16-bit floats accumulate in float32: float32 operands multiply exactly in float64, so one rounding
        # to float32 afterwards is the fused multiply-add.
        start, step = float(np.float32(start)), float(np.float32(step))
        base = (step * first + start).astype(np.float32).astype(npdt).astype(np.float64)
        return (step * lane + base).astype(np.float32).astype(npdt)
    base = _fma_step(step, first, start).astype(npdt).astype(np.float64)
    return _fma_step(step, lane, base).astype(npdt)


def _number(value, name, op_name):
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise op_error(RuntimeError, op_name, f"{name} must be a number or a one-element tensor")
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, (int, float)):
        raise op_error(TypeError, op_name, f"{name} must be a number, got {type(value).__name__}")
    return value


@register_function(constant=True)
def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound or the step is a float.

    >>> ember.arange(3)
    tensor([0, 1, 2])
    >>> ember.arange(1, 2, 0.25)
    tensor([1.0000, 1.2500, 1.5000, 1.7500])
    """
    if device is not None:
        to_device(device)
    if end is None:
        start, end = 0, start
    if (start.__class__ is int and end.__class__ is int and step.__class__ is int and dtype is None and out is None
            and step > 0 and end >= start):
        return _finish(np.arange(start, end, step, dtype=np.int64), requires_grad, "arange")
    start, end, step = (_number(v, n, "arange") for v, n in ((start, "start"), (end, "end"), (step, "step")))
    all_ints = all(isinstance(v, int) for v in (start, end, step))
    dt = _resolve_dtype(dtype, out, _dt.int64 if all_ints else _dt._default[0], "arange")
    if not all(math.isfinite(v) for v in (start, end)):
        raise op_error(RuntimeError, "arange", f"unsupported range: {start} -> {end}")
    if step == 0:
        raise op_error(RuntimeError, "arange", "step must be nonzero")
    if (end - start) * step < 0:
        raise op_error(RuntimeError, "arange", f"upper bound and lower bound inconsistent with step sign "
                       f"(start={start}, end={end}, step={step})")
    if dt.category == 1:
        # PyTorch truncates the bounds and step to integers; the length comes from the truncated values for
        # int64 and from the original ones for the other integer types.
        int_start, int_end, int_step = int(start), int(end), int(step)
        if int_step == 0:
            raise op_error(ValueError, "arange", f"step must be nonzero (the step {step} truncates to 0 for {dt})")
        if dt is _dt.int64:
            sign = (int_step > 0) - (int_step < 0)
            n = abs(int_end - int_start + int_step - sign) // abs(int_step)
        else:
            n = int(math.ceil((end - start) / step))
        arr = (int_start + int_step * np.arange(max(n, 0), dtype=np.int64)).astype(dt.numpy_dtype)
    elif dt.category == 2:
        n = int(math.ceil((end - start) / step))
        arr = _range_values(start, step, n, dt.numpy_dtype)
    else:
        raise op_error(NotImplementedError, "arange", '"arange_cpu" not implemented for \'Bool\'')
    if out is not None:
        return write_array_out(out, arr, "arange")
    return _finish(arr, requires_grad, "arange")


@register_function(constant=True)
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated in PyTorch: like ``arange`` but includes ``end`` and returns the default float dtype.

    >>> ember.range(1, 3)
    tensor([1., 2., 3.])
    """
    to_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, n, "range") for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise op_error(RuntimeError, "range", "step must be nonzero")
    dt = _resolve_dtype(dtype, out, _dt._default[0], "range")
    n = int(math.floor((end - start) / step)) + 1
    if n < 0:
        raise op_error(RuntimeError, "range", "upper bound and lower bound inconsistent with step sign")
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(dt.numpy_dtype)
    if out is not None:
        return write_array_out(out, arr, "range")
    return _finish(arr, requires_grad, "range")


def _steps(steps, op_name):
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise op_error(TypeError, op_name, f"steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise op_error(RuntimeError, op_name, f"number of steps must be non-negative, got {steps}")
    return int(steps)


def _linspace_values(start, end, steps, npdt):
    """PyTorch's CPU linspace in float64: fused ``start + step * i`` for the first half, ``end - step * (steps -
    1 - i)`` for the second."""
    if steps == 1:
        return np.array([start], dtype=np.float64)
    scalar = np.dtype(npdt).type
    s, e = scalar(start), scalar(end)
    step = float((e - s) / scalar(steps - 1)) if np.dtype(npdt).kind == "f" else (float(e) - float(s)) / (steps - 1)
    if steps >= _EXACT_INDEX or not abs(float(s)) + abs(float(e)) + abs(step) * steps < 1e300:
        idx = np.arange(steps, dtype=np.float64)
        return np.where(idx < steps // 2, float(s) + step * idx, float(e) - step * (steps - 1 - idx))
    half = steps // 2
    factors = np.arange(steps, dtype=np.float64)
    factors[half:] -= steps - 1  # end - step * k is end + step * (-k)
    addends = np.full(steps, float(s))
    addends[half:] = float(e)
    return _fma_step(step, factors, addends)


def _linspace_half(start, end, steps, npdt):
    """16-bit floats: PyTorch rounds every intermediate (step, product, sum) to the dtype."""
    if steps <= 1:
        return np.array([start] * steps, dtype=np.float64)
    s, e = np.array(start).astype(npdt), np.array(end).astype(npdt)
    step = ((e - s) / np.array(steps - 1).astype(npdt)).astype(npdt)
    idx = np.arange(steps)
    half = steps // 2
    head = s + step * idx[:half].astype(npdt)
    tail = e - step * (steps - 1 - idx[half:]).astype(npdt)
    return np.concatenate((head.astype(npdt), tail.astype(npdt))).astype(np.float64)


@register_function(constant=True)
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> ember.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    to_device(device)
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    steps = _steps(steps, "linspace")
    dt = _resolve_dtype(dtype, out, _dt._default[0], "linspace")
    if dt.category == 2 and dt.itemsize == 2:
        values = _linspace_half(start, end, steps, dt.numpy_dtype)
    elif dt.category == 2:
        values = _linspace_values(start, end, steps, dt.numpy_dtype) if steps else np.zeros(0)
    else:
        values = np.trunc(_linspace_values(int(start), int(end), steps, np.int64)) if steps else np.zeros(0)
    arr = values.astype(dt.numpy_dtype)
    if out is not None:
        return write_array_out(out, arr, "linspace")
    return _finish(arr, requires_grad, "linspace")


@register_function(constant=True)
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent.

    >>> ember.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    >>> ember.logspace(0, 3, 4, base=2)
    tensor([1., 2., 4., 8.])
    """
    to_device(device)
    start, end = _number(start, "start", "logspace"), _number(end, "end", "logspace")
    base = float(_number(base, "base", "logspace"))
    steps = _steps(steps, "logspace")
    dt = _resolve_dtype(dtype, out, _dt._default[0], "logspace")
    # PyTorch: exponents in float64 from start/end held in the output dtype (their difference rounded there too).
    compute = dt.numpy_dtype if dt.category == 2 else np.int64
    with np.errstate(all="ignore"):
        s, e = np.array(start).astype(compute), np.array(end).astype(compute)
        difference = float((e - s).astype(compute))
    if steps == 1:
        exponents = np.array([float(start)])
    else:
        step = difference / (steps - 1) if steps else 0.0
        idx = np.arange(steps, dtype=np.float64)
        half = steps // 2
        exponents = np.concatenate((float(s) + step * idx[:half], float(e) - step * ((steps - 1) - idx[half:])))
    with np.errstate(all="ignore"):
        values = np.power(base, exponents)
        if dt.category == 2:
            # 16-bit floats are converted from double through float, as c10::Half/BFloat16 do
            arr = (values.astype(np.float32) if dt.itemsize == 2 else values).astype(dt.numpy_dtype)
        else:
            arr = np.trunc(values).astype(np.int64).astype(dt.numpy_dtype)
    if out is not None:
        return write_array_out(out, arr, "logspace")
    return _finish(arr, requires_grad, "logspace")


@register_function(constant=True)
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An ``n`` x ``m`` matrix with ones on the diagonal (``m`` defaults to ``n``).

    >>> ember.eye(2, 3)
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    to_device(device)
    n = _number(n, "n", "eye")
    m = n if m is None else _number(m, "m", "eye")
    for name, value in (("n", n), ("m", m)):
        if not isinstance(value, int):
            raise op_error(TypeError, "eye", f"{name} must be an int, got {type(value).__name__}")
        if value < 0:
            raise op_error(RuntimeError, "eye", f"{name} must be greater or equal to 0, got {value}")
    dt = _resolve_dtype(dtype, out, _dt._default[0], "eye")
    arr = np.eye(n, m, dtype=dt.numpy_dtype)
    if out is not None:
        return write_array_out(out, arr, "eye")
    return _finish(arr, requires_grad, "eye")


def _triangle_indices(row, col, offset, dtype, op_name, lower):
    for name, value in (("row", row), ("col", col)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise op_error(TypeError, op_name, f"{name} must be an int, got {type(value).__name__}")
        if value < 0:
            raise op_error(RuntimeError, op_name, f"{name} must be non-negative, got {value}")
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    if dt.category != 1:
        raise op_error(NotImplementedError, op_name, f'"{op_name}" not implemented for \'{_dt.torch_type_name(dt)}\'')
    rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return from_array(np.stack((rows, cols)).astype(dt.numpy_dtype).reshape(2, -1))


@register_function(constant=True)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """Row and column indices (a 2 x N tensor) of the lower triangle of a ``row`` x ``col`` matrix.

    >>> ember.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    to_device(device)
    return _triangle_indices(row, col, offset, dtype, "tril_indices", lower=True)


@register_function(constant=True)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """Row and column indices (a 2 x N tensor) of the upper triangle of a ``row`` x ``col`` matrix.

    >>> ember.triu_indices(2, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    to_device(device)
    return _triangle_indices(row, col, offset, dtype, "triu_indices", lower=False)


@register_function(constant=True)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (default) puts tensor i along dim i, ``'xy'``
    swaps the first two dims. The grids are expanded views, so gradients flow back to the inputs.

    >>> xs, ys = ember.meshgrid(ember.arange(2), ember.arange(3), indexing="xy")
    >>> xs
    tensor([[0, 1],
            [0, 1],
            [0, 1]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise op_error(RuntimeError, "meshgrid", "meshgrid expects a non-empty TensorList")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise op_error(RuntimeError, "meshgrid", f'indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if not isinstance(t, Tensor):
            raise op_error(TypeError, "meshgrid", f"expected tensors, got {type(t).__name__}")
        if t._data.ndim > 1:
            raise op_error(RuntimeError, "meshgrid", f"Expected 0D or 1D tensor in the tensor list but got a tensor "
                           f"of shape {tuple(t._data.shape)}")
        if t._dtype is not tensors[0]._dtype:
            raise op_error(RuntimeError, "meshgrid", f"meshgrid expects all tensors to have the same dtype, got "
                           f"{tensors[0]._dtype} and {t._dtype}")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = list(tensors)
    if swap:
        ordered[0], ordered[1] = ordered[1], ordered[0]
    shape = tuple(t._data.size for t in ordered)
    grids = []
    for i, t in enumerate(ordered):
        view_shape = [1] * len(ordered)
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@register_function(constant=True)
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A 0-d tensor (default float dtype).

    >>> ember.scalar_tensor(2)
    tensor(2.)
    """
    return tensor(_number(s, "s", "scalar_tensor"), dtype=dtype or _dt._default[0], device=device,
                  requires_grad=requires_grad)
