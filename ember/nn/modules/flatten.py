"""``Flatten`` and ``Unflatten`` (``torch.nn``): reshape a range of dimensions into one, and back.

>>> import ember
>>> x = ember.ones(2, 3, 4)
>>> ember.nn.Flatten()(x).shape, ember.nn.Unflatten(1, (3, 2, 2))(ember.ones(2, 12)).shape
(ember.Size([2, 12]), ember.Size([2, 3, 2, 2]))
"""

from __future__ import annotations

from ember.errors import op_error
from ember.nn.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Flatten dimensions ``start_dim`` .. ``end_dim`` (inclusive) into one; the batch dimension is kept by default.

    >>> ember.nn.Flatten(0, -1)(ember.ones(2, 3)).shape
    ember.Size([6])
    """

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (a tuple or list of ints; one entry may be -1).

    >>> ember.nn.Unflatten(-1, (2, -1))(ember.ones(3, 8)).shape
    ember.Size([3, 2, 4])
    """

    __constants__ = ["dim", "unflattened_size"]

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self._require_tuple_int(unflattened_size)
        self.dim = dim
        self.unflattened_size = unflattened_size

    def _require_tuple_int(self, input):
        if isinstance(input, (tuple, list)):
            for idx, elem in enumerate(input):
                if not isinstance(elem, int):
                    raise op_error(TypeError, "Unflatten", "unflattened_size must be tuple of ints, but found element "
                                   f"of type {type(elem).__name__} at pos {idx}")
            return
        raise op_error(TypeError, "Unflatten", "unflattened_size must be a tuple of ints, but found type "
                       f"{type(input).__name__}")

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
