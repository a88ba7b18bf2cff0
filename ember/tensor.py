"""The Tensor: a NumPy array, its dtype, and its place in the autograd graph.

Ops live in ``ember/ops``; the methods and operators here call them. Views share memory (and a version
counter) with their base, as in PyTorch.

>>> import ember
>>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([[2., 4.],
        [6., 8.]])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dtypes
from ember import execution_hook as _execution_hook
from ember.autograd.grad_mode import STATE as _GRAD
from ember.device import CPU, to_device

__all__ = ["Tensor", "from_array"]


class VersionCounter:
    """Counts in-place writes to a storage; views share their base's counter."""

    # One is made for every tensor: with no __init__ that is a bare allocation, and ``value`` reads this
    # class default until the first in-place write stores the instance's own.
    value = 0


class Tensor:
    """A multi-dimensional array with autograd, PyTorch's ``torch.Tensor``.

    Build tensors with ``ember.tensor``; ``Tensor(data)`` also works (float32 by default for lists).

    >>> ember.Tensor([1, 2]).dtype
    ember.float32
    """

    __slots__ = ("_data", "_dtype", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "_base", "_view_of", "_grad_accumulator", "_retains_grad", "_hooks", "__weakref__",
                 "__dict__")

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self._data = None
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version = VersionCounter()
        self._base = None
        self._view_of = None
        self._grad_accumulator = None
        self._retains_grad = False
        self._hooks = None
        return self

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        if self._data is not None:  # built by __new__ of a subclass, e.g. Parameter
            return
        to_device(device)
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            if isinstance(data, Tensor):
                arr = data._data
            else:
                arr = np.asarray(data)
                if arr.dtype.kind in "fiu" and dtype is None and arr.dtype != np.float32:
                    arr = arr.astype(_dtypes.get_default_dtype().numpy_dtype)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args or (0,)
            arr = np.empty(tuple(shape), dtype=_dtypes.get_default_dtype().numpy_dtype)
        if dtype is not None:
            arr = arr.astype(_dtypes.to_dtype(dtype).numpy_dtype, copy=False)
        self._data = arr
        self._dtype = _dtypes.from_numpy_dtype(arr.dtype)
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------------------- metadata
    @property
    def data(self) -> "Tensor":
        """The same storage, detached from the graph; assigning replaces this tensor's values."""
        return from_array(self._data, version=self._version)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._dtype = value._dtype

    @property
    def dtype(self) -> _dtypes.dtype:
        return self._dtype

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    is_sparse = False
    is_quantized = False
    is_meta = False
    is_nested = False
    layout = "strided"

    @property
    def shape(self):
        from ember.size import Size
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of one dimension.

        >>> ember.zeros(2, 3).size(-1)
        3
        """
        from ember.size import Size
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim=None):
        """Strides in elements, as PyTorch reports them.

        >>> ember.zeros(2, 3).stride()
        (3, 1)
        """
        if self._data.size == 0:
            # NumPy reports zero strides for empty arrays; PyTorch reports contiguous ones.
            strides, step = [], 1
            for n in reversed(self._data.shape):
                strides.append(step)
                step *= max(n, 1)
            strides = tuple(reversed(strides))
        else:
            item = self._data.itemsize
            strides = tuple(s // item for s in self._data.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self) -> int:
        if not self._data.size:
            return 0
        root = self._base._data if self._base is not None else self._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        start = self._data.__array_interface__["data"][0]
        origin = root.__array_interface__["data"][0]
        return (start - origin) // self._data.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self):
        base = self._base if self._base is not None else self
        return base._data

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._dtype.is_signed

    def get_device(self) -> int:
        return -1

    @property
    def _version_value(self):
        return self._version.value

    # ----------------------------------------------------------------------------- autograd
    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (None until then).

        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 3).sum().backward(); x.grad
        tensor([3., 3.])
        """
        return self._grad

    @grad.setter
    def grad(self, value):
        if _HOOK is not None and self._requires_grad and self.grad_fn is None and _HOOK.grad_assigned(self, value):
            return  # ember.compile records ``leaf.grad = None`` to replay it at every call
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Turn gradient tracking on or off for a leaf tensor.

        >>> ember.zeros(2).requires_grad_().requires_grad
        True
        """
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                                   "to use a computed variable in a subgraph that doesn't require "
                                   "differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self._dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def output_nr(self) -> int:
        return self._output_nr

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute gradients of this tensor with respect to the graph's leaves.

        >>> x = ember.ones(3, requires_grad=True)
        >>> (2 * x).sum().backward(); x.grad
        tensor([2., 2., 2.])
        """
        from ember.autograd.differentiate import backward
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; its return replaces the grad.

        >>> x = ember.ones(2, requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward(); x.grad
        tensor([10., 10.])
        """
        from ember.autograd.hooks import register_tensor_hook
        return register_tensor_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for a non-leaf tensor after backward.

        >>> x = ember.ones(2, requires_grad=True); y = x * 2; y.retain_grad()
        >>> y.sum().backward(); y.grad
        tensor([1., 1.])
        """
        from ember.autograd.hooks import retain_grad
        retain_grad(self)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory and version counter).

        >>> ember.ones(1, requires_grad=True).detach().requires_grad
        False
        """
        # Like PyTorch, the result is not an autograd view (no _base): writing into it is allowed even when
        # self is a leaf that requires grad; the shared version counter still catches stale saved tensors.
        return from_array(self._data, version=self._version)

    def detach_(self) -> "Tensor":
        if self._base is not None and self._base.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------------------- conversion
    def numpy(self, *, force=False) -> np.ndarray:
        """The data as a NumPy array sharing memory.

        >>> ember.tensor([1, 2]).numpy()
        array([1, 2])
        """
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`.numpy()`")
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("converting a tensor to a NumPy array")
        arr = self._data
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> ember.tensor([2.5]).item()
        2.5
        """
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`.item()`")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if self._dtype is not _dtypes.bfloat16 else float(self._data.reshape(()))

    def tolist(self):
        """Nested Python lists of numbers.

        >>> ember.tensor([[1, 2]]).tolist()
        [[1, 2]]
        """
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`.tolist()`")
        if self._dtype is _dtypes.bfloat16:
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def __float__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`float(tensor)`")
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`int(tensor)`")
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("using a tensor as an index")
        if self._dtype.category == 2 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("`bool(tensor)` (an `if`/`while` on a tensor)")
        if self._data.size != 1:
            amount = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous")
        return bool(self._data.reshape(()))

    def __complex__(self):
        return complex(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("printing a tensor")
        from ember.formatting import tensor_repr
        return tensor_repr(self)

    def _repr_prefix(self) -> str:
        # PyTorch prints a tensor (and a parameter's data) as tensor(...), another subclass by its name.
        cls = type(self)
        return "tensor(" if cls is Tensor or cls.__name__ == "Parameter" else f"{cls.__name__}("

    def __str__(self):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("printing a tensor")
        return self.__repr__()

    def __format__(self, spec):
        if _HOOK is not None:  # ember.compile is capturing
            _HOOK.value_read("formatting a tensor")
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.")
        new = type(self).__new__(type(self))
        new._data = self._data.copy()
        new._dtype = self._dtype
        new._requires_grad = self._requires_grad
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        if hasattr(self, "__dict__") and self.__dict__:
            import copy
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._data.copy() if not self._data.flags.c_contiguous else self._data,
                                  self._requires_grad, type(self)))

    def __getstate__(self):
        return None

    # ----------------------------------------------------------------------------- dtype/device moves
    def to(self, *args, **kwargs) -> "Tensor":
        """Convert dtype and/or device: ``t.to(ember.float64)``, ``t.to("cpu")``, ``t.to(other)``.

        >>> ember.tensor([1, 2]).to(ember.float32)
        tensor([1., 2.])
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._dtype
            elif isinstance(a, _dtypes.dtype) or (a in (float, int, bool)) or type(a).__name__ == "dtype":
                dtype = a
            elif isinstance(a, bool):
                pass
            else:
                device = a
        to_device(device)
        if dtype is None:
            return self.clone() if copy else self
        dtype = _dtypes.to_dtype(dtype)
        if dtype is self._dtype and not copy:
            return self
        from ember.ops.arithmetic import Cast
        return Cast(self, dtype=dtype)

    def type(self, dtype=None):
        if dtype is None:
            return "torch." + self._dtype.torch_name
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.split(".")[-1]
            for d in _dtypes.ALL_DTYPES:
                if d.torch_name == name:
                    return self.to(d)
        return self.to(_dtypes.to_dtype(dtype))

    def type_as(self, other) -> "Tensor":
        return self.to(other._dtype)

    def float(self): return self.to(_dtypes.float32)
    def double(self): return self.to(_dtypes.float64)
    def half(self): return self.to(_dtypes.float16)
    def bfloat16(self): return self.to(_dtypes.bfloat16)
    def long(self): return self.to(_dtypes.int64)
    def int(self): return self.to(_dtypes.int32)
    def short(self): return self.to(_dtypes.int16)
    def char(self): return self.to(_dtypes.int8)
    def byte(self): return self.to(_dtypes.uint8)
    def bool(self): return self.to(_dtypes.bool)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False):
        to_device("cuda")

    def pin_memory(self):
        return self

    def is_pinned(self) -> bool:
        return False

    def share_memory_(self):
        return self

    def is_shared(self) -> bool:
        return False

    # ----------------------------------------------------------------------------- creation helpers
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ember.ops.creation import tensor
        if isinstance(data, Tensor):
            data = data.detach()
        return tensor(data, dtype=self._dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops.creation import zeros
        return zeros(*size, dtype=self._dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops.creation import ones
        return ones(*size, dtype=self._dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops.creation import empty
        return empty(*size, dtype=self._dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ember.ops.creation import full
        return full(size, fill_value, dtype=self._dtype if dtype is None else dtype, requires_grad=requires_grad)

    # ----------------------------------------------------------------------------- operators
    # Bodies call the op library (bound at the end of ember/ops/__init__.py).
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __iadd__(self, other): return _ops.add_(self, other)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __isub__(self, other): return _ops.sub_(self, other)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __imul__(self, other): return _ops.mul_(self, other)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __itruediv__(self, other): return _ops.div_(self, other)
    def __floordiv__(self, other): return _ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.floor_divide(other, self)
    def __ifloordiv__(self, other): return _ops.floor_divide_(self, other)
    def __mod__(self, other): return _ops.remainder(self, other)
    def __rmod__(self, other): return _ops.remainder(other, self)
    def __imod__(self, other): return _ops.remainder_(self, other)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __ipow__(self, other): return _ops.pow_(self, other)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __invert__(self): return _ops.bitwise_not(self)
    def __and__(self, other): return _ops.bitwise_and(self, other)
    def __rand__(self, other): return _ops.bitwise_and(other, self)
    def __iand__(self, other): return _ops.bitwise_and_(self, other)
    def __or__(self, other): return _ops.bitwise_or(self, other)
    def __ror__(self, other): return _ops.bitwise_or(other, self)
    def __ior__(self, other): return _ops.bitwise_or_(self, other)
    def __xor__(self, other): return _ops.bitwise_xor(self, other)
    def __rxor__(self, other): return _ops.bitwise_xor(other, self)
    def __ixor__(self, other): return _ops.bitwise_xor_(self, other)
    def __lshift__(self, other): return _ops.bitwise_left_shift(self, other)
    def __rshift__(self, other): return _ops.bitwise_right_shift(self, other)
    def __eq__(self, other): return _ops.eq(self, other)
    def __ne__(self, other): return _ops.ne(self, other)
    def __lt__(self, other): return _ops.lt(self, other)
    def __le__(self, other): return _ops.le(self, other)
    def __gt__(self, other): return _ops.gt(self, other)
    def __ge__(self, other): return _ops.ge(self, other)
    def __getitem__(self, index): return _ops.getitem(self, index)
    def __setitem__(self, index, value): _ops.setitem(self, index, value)

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self._data.ndim}-D tensor.")
        return _ops.transpose(self, -2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        return self.mT

    @property
    def real(self):
        return self

    def __torch_function__(self, *args, **kwargs):
        return NotImplemented


def _rebuild_tensor(data, requires_grad, cls=Tensor):
    t = from_array(np.array(data), cls=cls)
    t._requires_grad = requires_grad
    return t


_new = object.__new__
_HOOK = None  # the installed execution hook (ember/execution_hook.py keeps this global equal to it)
_execution_hook.mirror(globals(), "_HOOK")
_BY_NUMPY = _dtypes._BY_NUMPY


def from_array(data: np.ndarray, requires_grad=False, grad_fn=None, version=None, cls=Tensor) -> Tensor:
    """The Tensor over ``data`` as it is: no copy, no checks. Every op result and every tensor Ember makes
    internally is built here (users call ``ember.tensor``/``ember.from_numpy``); ``data`` must be a NumPy
    array of a dtype Ember has.

    >>> import numpy as np
    >>> from_array(np.arange(3.0)).dtype
    ember.float64
    """
    t = _new(cls)
    t._data = data
    t._dtype = _BY_NUMPY[data.dtype]
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = grad_fn
    t._output_nr = 0
    t._version = VersionCounter() if version is None else version
    t._base = None
    t._view_of = None
    t._grad_accumulator = None
    t._retains_grad = False
    t._hooks = None
    if _HOOK is not None:  # ember.compile is capturing (ember/execution_hook.py)
        _HOOK.tensor_made(t)
    return t


def _wrap_dim(dim, ndim, op_name="op"):
    from ember.ops.arguments import wrap_dim
    return wrap_dim(dim, ndim, op_name)


_ = _GRAD  # grad mode is read by the dispatcher; imported here so `ember.tensor` pulls it in first
_ops = None  # set to the ember.ops module once it is imported
