"""Ember's dtypes, the default dtype, and PyTorch's type-promotion rules.

Each :class:`dtype` wraps the NumPy dtype that stores it (bfloat16 comes from ml_dtypes).

>>> import ember
>>> ember.promote_types(ember.uint8, ember.int8)
ember.int16
>>> (ember.ones(2, dtype=ember.int32) * 2.5).dtype
ember.float32
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "half", "bfloat16",
    "float32", "float", "float64", "double", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
    "finfo", "iinfo",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float


class dtype:
    """A tensor element type, e.g. ``ember.float32``.

    >>> ember.float16.itemsize, ember.float16.is_floating_point
    (2, True)
    """

    __slots__ = ("name", "numpy_dtype", "itemsize", "is_floating_point", "is_signed", "category",
                 "rank", "torch_name", "__weakref__")

    def __init__(self, name, numpy_dtype, category, rank, torch_name):
        self.name = name
        self.numpy_dtype = np.dtype(numpy_dtype)
        self.itemsize = self.numpy_dtype.itemsize
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = name not in ("bool", "uint8")
        self.rank = rank
        self.torch_name = torch_name

    is_complex = False

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise NotImplementedError("ember has no complex dtypes yet")


bool = dtype("bool", np.bool_, 0, 0, "BoolTensor")
uint8 = dtype("uint8", np.uint8, 1, 1, "ByteTensor")
int8 = dtype("int8", np.int8, 1, 1, "CharTensor")
int16 = dtype("int16", np.int16, 1, 2, "ShortTensor")
int32 = dtype("int32", np.int32, 1, 3, "IntTensor")
int64 = dtype("int64", np.int64, 1, 4, "LongTensor")
float16 = dtype("float16", np.float16, 2, 1, "HalfTensor")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2, 1, "BFloat16Tensor")
float32 = dtype("float32", np.float32, 2, 2, "FloatTensor")
float64 = dtype("float64", np.float64, 2, 3, "DoubleTensor")

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
FLOATING_DTYPES = (float16, bfloat16, float32, float64)
INTEGRAL_DTYPES = (uint8, int8, int16, int32, int64)

_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NUMPY = {d.numpy_dtype: d for d in ALL_DTYPES}


def _dtype_by_name(name):
    return _BY_NAME[name]


def torch_type_name(dt) -> str:
    """PyTorch's name for ``dt`` in its messages ("Float", "Long" ...).

    >>> torch_type_name(float32), torch_type_name(int64)
    ('Float', 'Long')
    """
    return dt.torch_name[:-len("Tensor")]


# ------------------------------------------------------------------------------------ compute precision
# The one rule for half precision, read by every op family: float16 and bfloat16 data are computed in
# float32 and rounded once at the end, as PyTorch's kernels do (its "opmath" type); a chain of half
# operations would round at every step.
HALF_NUMPY_DTYPES = frozenset((float16.numpy_dtype, bfloat16.numpy_dtype))
_OPMATH_NUMPY = np.dtype(np.float32)


def opmath(array):
    """``array`` in the precision ops compute it in: float32 for float16/bfloat16 data, else itself.

    >>> import numpy as np
    >>> opmath(np.ones(2, np.float16)).dtype, opmath(np.ones(2, np.float64)).dtype
    (dtype('float32'), dtype('float64'))
    """
    return array.astype(_OPMATH_NUMPY) if array.dtype in HALF_NUMPY_DTYPES else array


def rounded_like(result, like):
    """``result`` (computed by :func:`opmath`) rounded back to ``like``'s dtype.

    >>> import numpy as np
    >>> rounded_like(np.ones(2, np.float32), np.ones(2, np.float16)).dtype
    dtype('float16')
    """
    return result.astype(like.dtype, copy=False) if result.dtype != like.dtype else result


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype that stores as ``np_dtype``; NumPy types Ember lacks map to the nearest."""
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    np_dtype = np.dtype(np_dtype)
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    kind = np_dtype.kind
    if kind == "u":
        return int64
    if kind == "i":
        return int64
    if kind == "f":
        return float64
    if kind == "b":
        return bool
    raise TypeError(f"can't convert a NumPy array of dtype {np_dtype} to an ember tensor; "
                    f"supported: {', '.join(d.name for d in ALL_DTYPES)}")


def to_dtype(value) -> dtype:
    """Accept an ember dtype, a NumPy dtype, a Python type or a name and return the ember dtype."""
    if value.__class__ is dtype:
        return value
    if value is _builtin_float:
        return _default[0]
    if value is _builtin_int:
        return int64
    if value is _builtin_bool:
        return bool
    if isinstance(value, str):
        found = _BY_NAME.get(value.replace("torch.", "").replace("ember.", ""))
        if found is not None:
            return found
        aliases = {"half": float16, "float": float32, "double": float64, "long": int64,
                   "int": int32, "short": int16}
        if value in aliases:
            return aliases[value]
        raise TypeError(f"unknown dtype name {value!r}")
    torch_name = getattr(value, "__module__", None) == "torch" or type(value).__module__ == "torch"
    if torch_name:
        return to_dtype(str(value))
    try:
        return from_numpy_dtype(np.dtype(value))
    except TypeError:
        raise TypeError(f"expected an ember dtype (e.g. ember.float32), got {value!r}") from None


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype of new floating-point tensors (float32 unless changed).

    >>> ember.get_default_dtype()
    ember.float32
    """
    return _default[0]


def set_default_dtype(d) -> None:
    """Set the dtype of new floating-point tensors; only floating dtypes are allowed.

    >>> ember.set_default_dtype(ember.float64); ember.tensor([1.0]).dtype
    ember.float64
    >>> ember.set_default_dtype(ember.float32)
    """
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == 0:
        return a
    if a.category == 1:
        if {a, b} == {uint8, int8}:
            return int16
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return other
        return a if a.rank > b.rank else b
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a.rank > b.rank else b


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(type1, type2) -> dtype:
    """The smallest dtype both can be cast to without loss, as ``torch.promote_types``.

    >>> ember.promote_types(ember.float16, ember.int64)
    ember.float16
    """
    return _PROMOTE[to_dtype(type1), to_dtype(type2)]


def _scalar_dtype(value) -> dtype:
    cls = value.__class__
    if cls is _builtin_bool:
        return bool
    if cls is _builtin_int:
        return int64
    if cls is _builtin_float:
        return _default[0]
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    if isinstance(value, (_builtin_bool, np.bool_)):
        return bool
    if isinstance(value, _builtin_int):
        return int64
    if isinstance(value, _builtin_float):
        return _default[0]
    if isinstance(value, complex):
        raise TypeError("ember has no complex dtypes")
    raise TypeError(f"expected a tensor or a number, got {type(value).__name__}")


_result_cache: dict = {}


def result_type_of(args) -> dtype:
    """PyTorch's promotion over tensors and Python scalars.

    Dimensioned tensors win over 0-d tensors, which win over Python scalars, unless the lower-priority
    operand is of a higher category (bool < integer < floating), in which case the result is the
    higher category's type at that priority (a float scalar gives the default dtype).
    """
    key = []
    for a in args:
        d = getattr(a, "_dtype", None)
        if d is not None:
            key.append((d, 2 if a._data.ndim else 1))
        elif a is not None:
            key.append((_scalar_dtype(a), 0))
    key = tuple(key)
    found = _result_cache.get(key)
    if found is not None and (found[1] is _default[0]):
        return found[0]
    best = [None, None, None]  # per priority: scalar, zero-dim, dimensioned
    for d, prio in key:
        cur = best[prio]
        best[prio] = d if cur is None else _PROMOTE[cur, d]
    result = None
    for prio in (2, 1, 0):
        d = best[prio]
        if d is None:
            continue
        if result is None:
            result = d
        elif d.category > result.category:
            if prio == 0 and d.category == 2:
                result = _default[0]
            elif prio == 0 and d.category == 1:
                result = int64
            else:
                result = d
    if result is None:
        result = _default[0]
    _result_cache[key] = (result, _default[0])
    return result


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an arithmetic op on these operands returns, as ``torch.result_type``.

    >>> ember.result_type(ember.tensor([1, 2]), 1.0)
    ember.float32
    """
    return result_type_of((tensor1, tensor2))


def can_cast(from_, to) -> bool:
    """Whether a same-kind cast is allowed, as ``torch.can_cast``.

    >>> ember.can_cast(ember.float32, ember.int32)
    False
    """
    return to_dtype(from_).category <= to_dtype(to).category


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo`` (``dtype`` is the dtype's name, as in PyTorch).

    >>> ember.finfo(ember.float16).max
    65504.0
    >>> ember.finfo(ember.bfloat16)
    finfo(resolution=0.01, min=-3.38953e+38, max=3.38953e+38, eps=0.0078125, smallest_normal=1.17549e-38, \
tiny=1.17549e-38, dtype=bfloat16)
    """

    def __init__(self, type=None):
        d = _default[0] if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError(f"ember.finfo() requires a floating point input type, got {d}. Use ember.iinfo for "
                            "integer types")
        info = ml_dtypes.finfo(d.numpy_dtype) if d is bfloat16 else np.finfo(d.numpy_dtype)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps = _builtin_float(info.eps)
        self.max = _builtin_float(info.max)
        self.min = _builtin_float(info.min)
        self.tiny = self.smallest_normal = _builtin_float(info.tiny)
        self.resolution = 10.0 ** -_builtin_int(info.precision)

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``.

    >>> ember.iinfo(ember.int8)
    iinfo(min=-128, max=127, dtype=int8)
    """

    def __init__(self, type):
        d = to_dtype(type)
        if d.category != 1:
            raise TypeError(f"ember.iinfo() requires an integer input type, got {d}"
                            + (". Use ember.finfo for floating point types" if d.category == 2 else ""))
        info = np.iinfo(d.numpy_dtype)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.max = _builtin_int(info.max)
        self.min = _builtin_int(info.min)

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
