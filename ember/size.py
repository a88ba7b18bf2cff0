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
    """An immutable shape; compares equal to plain tuples."""

    __slots__ = ()

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
