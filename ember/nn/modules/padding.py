"""Padding layers (``torch.nn`` padding family): constant/zero, reflection, replication and circular padding of
the last 1, 2 or 3 dims, via ``ember.nn.functional.pad``.

``padding`` is an int (the same on every side) or a tuple ``(left, right[, top, bottom[, front, back]])``.

>>> import ember
>>> ember.nn.ZeroPad2d((1, 0, 0, 0))(ember.ones(1, 1, 1))
tensor([[[0., 1.]]])
"""

from __future__ import annotations

import ember.nn.functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def _sides(padding, count: int) -> tuple:
    """An int repeated on every side, or the given sequence as a tuple (as torch's ``_ntuple``)."""
    if isinstance(padding, (list, tuple)):
        return tuple(padding)
    return (padding,) * count


class _CircularPadNd(Module):
    _spatial_dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _sides(padding, 2 * self._spatial_dims)

    def forward(self, input: Tensor) -> Tensor:
        ndim = input.dim()
        if ndim != self._spatial_dims + 1 and ndim != self._spatial_dims + 2:
            raise ValueError(f"expected {self._spatial_dims + 1}D or {self._spatial_dims + 2}D input "
                             f"(got {ndim}D input)")
        return F.pad(input, self.padding, "circular")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class CircularPad1d(_CircularPadNd):
    """Wrap-around padding of the last dim of a (C, W) or (N, C, W) input.

    >>> ember.nn.CircularPad1d(1)(ember.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 1., 2., 3., 1.]])
    """

    _spatial_dims = 1


class CircularPad2d(_CircularPadNd):
    """Wrap-around padding of the last 2 dims of a (C, H, W) or (N, C, H, W) input.

    >>> ember.nn.CircularPad2d((1, 0, 0, 0))(ember.tensor([[[1.0, 2.0]]]))
    tensor([[[2., 1., 2.]]])
    """

    _spatial_dims = 2


class CircularPad3d(_CircularPadNd):
    """Wrap-around padding of the last 3 dims of a (C, D, H, W) or (N, C, D, H, W) input.

    >>> ember.nn.CircularPad3d(1)(ember.ones(1, 1, 1, 1)).shape
    ember.Size([1, 3, 3, 3])
    """

    _spatial_dims = 3


class _ConstantPadNd(Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``.

    >>> ember.nn.ConstantPad1d((0, 2), 7.0)(ember.tensor([1.0]))
    tensor([1., 7., 7.])
    """

    def __init__(self, padding, value: float) -> None:
        super().__init__(value)
        self.padding = _sides(padding, 2)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``.

    >>> ember.nn.ConstantPad2d(1, -1.0)(ember.zeros(1, 1))
    tensor([[-1., -1., -1.],
            [-1.,  0., -1.],
            [-1., -1., -1.]])
    """

    def __init__(self, padding, value: float) -> None:
        super().__init__(value)
        self.padding = _sides(padding, 4)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``.

    >>> ember.nn.ConstantPad3d((1, 1, 0, 0, 0, 0), 2.0)(ember.zeros(1, 1, 1))
    tensor([[[2., 0., 2.]]])
    """

    def __init__(self, padding, value: float) -> None:
        super().__init__(value)
        self.padding = _sides(padding, 6)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros.

    >>> ember.nn.ZeroPad1d(1)(ember.tensor([5.0]))
    tensor([0., 5., 0.])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros.

    >>> ember.nn.ZeroPad2d(1)(ember.ones(1, 1)).sum()
    tensor(1.)
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros.

    >>> ember.nn.ZeroPad3d(1)(ember.ones(1, 1, 1)).shape
    ember.Size([3, 3, 3])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(Module):
    _spatial_dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _sides(padding, 2 * self._spatial_dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "reflect")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    """Mirror padding of the last dim (the edge value is not repeated).

    >>> ember.nn.ReflectionPad1d(2)(ember.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """

    _spatial_dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Mirror padding of the last 2 dims.

    >>> ember.nn.ReflectionPad2d((1, 0, 0, 0))(ember.tensor([[[1.0, 2.0]]]))
    tensor([[[2., 1., 2.]]])
    """

    _spatial_dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Mirror padding of the last 3 dims.

    >>> ember.nn.ReflectionPad3d(1)(ember.ones(1, 2, 2, 2)).shape
    ember.Size([1, 4, 4, 4])
    """

    _spatial_dims = 3


class _ReplicationPadNd(Module):
    _spatial_dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _sides(padding, 2 * self._spatial_dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "replicate")

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReplicationPad1d(_ReplicationPadNd):
    """Edge-value padding of the last dim.

    >>> ember.nn.ReplicationPad1d((2, 1))(ember.tensor([[1.0, 2.0]]))
    tensor([[1., 1., 1., 2., 2.]])
    """

    _spatial_dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Edge-value padding of the last 2 dims.

    >>> ember.nn.ReplicationPad2d((0, 1, 0, 0))(ember.tensor([[[1.0, 2.0]]]))
    tensor([[[1., 2., 2.]]])
    """

    _spatial_dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Edge-value padding of the last 3 dims.

    >>> ember.nn.ReplicationPad3d(1)(ember.ones(1, 1, 1, 1)).shape
    ember.Size([1, 3, 3, 3])
    """

    _spatial_dims = 3
