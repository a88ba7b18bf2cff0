"""``ember.Size``: the tuple subclass that ``Tensor.shape`` returns, as ``torch.Size``.

>>> import ember
>>> ember.zeros(2, 3).shape
ember.Size([2, 3])
>>> ember.zeros(2, 3).shape.numel()
6
"""

from __future__ import annotations

import math

__all__ = ["Size"]


class Size(tuple):
    """An immutable shape; compares equal to plain tuples.

    >>> ember.Size([2, 3]) + (4,)
    ember.Size([2, 3, 4])
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        dims = []
        for i, s in enumerate(sizes):
            if s.__class__ is not int:
                if isinstance(s, bool) or isinstance(s, float) or not hasattr(s, "__index__"):
                    raise TypeError(f"ember.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')")
                s = s.__index__()
            dims.append(s)
        return tuple.__new__(cls, dims)

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple(self) * times)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))
