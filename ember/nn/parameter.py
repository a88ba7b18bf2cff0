"""``Parameter``, ``Buffer`` and ``UninitializedParameter`` (for Lazy layers), as in ``torch.nn``.

>>> import ember
>>> p = ember.nn.Parameter(ember.zeros(2))
>>> p.requires_grad, isinstance(p, ember.Tensor)
(True, True)
>>> p
Parameter containing:
tensor([0., 0.], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        self = Tensor.__new__(cls)
        if data is None:
            data_array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            data_array = data._data
        else:
            data_array = np.asarray(data)
        from ember import dtypes
        self._data = data_array
        self._dtype = dtypes.from_numpy_dtype(data_array.dtype)
        if isinstance(data, Tensor):
            self._version = data._version
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (np.array(self._data), self._requires_grad, type(self)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_copy_tensor(self), self._requires_grad)
        if self.grad is not None:
            result.grad = _copy_tensor(self.grad)
        memo[id(self)] = result
        return result


def _copy_tensor(t):
    from ember.tensor import from_array
    return from_array(np.array(t._data, copy=True))


def _rebuild_parameter(data, requires_grad, cls=Parameter):
    from ember.tensor import from_array
    return cls(from_array(data), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module, as ``torch.nn.Buffer``."""

    __slots__ = ("persistent",)

    def __new__(cls, data=None, *, persistent=True):
        from ember.tensor import from_array
        base = data if isinstance(data, Tensor) else from_array(np.asarray(data if data is not None else np.empty(0, np.float32)))
        self = Tensor.__new__(cls)
        self._data = base._data
        self._dtype = base._dtype
        self.persistent = persistent
        return self

    def __init__(self, data=None, *, persistent=True):
        pass


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; Lazy layers materialize it on their first call."""

    __slots__ = ()

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Parameter.__new__(cls, None, requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter its shape (uninitialized values) and turn it into a normal Parameter."""
        from ember import dtypes
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        self._data = np.empty(tuple(shape), dtype=dt.numpy_dtype)
        self._dtype = dt
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"

    # Parameter's copy/pickle paths pass data to __new__, whose first argument here is requires_grad.
    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad,))

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter. This error usually happens in "
                           "`load_state_dict` when trying to load an uninitialized parameter into an initialized "
                           "one. Call `forward` to initialize the parameters before accessing their attributes.")


class UninitializedBuffer(Buffer):
    """A buffer whose shape is not known yet."""

    __slots__ = ()

    def materialize(self, shape, device=None, dtype=None):
        from ember import dtypes
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        self._data = np.empty(tuple(shape), dtype=dt.numpy_dtype)
        self._dtype = dt
        self.__class__ = Tensor


def is_lazy(param) -> bool:
    """Whether ``param`` is still uninitialized.

    >>> ember.nn.parameter.is_lazy(ember.nn.UninitializedParameter())
    True
    """
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
