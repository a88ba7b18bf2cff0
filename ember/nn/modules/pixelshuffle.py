"""Channel/space rearrangement layers: ``PixelShuffle``, ``PixelUnshuffle`` and ``ChannelShuffle``
(torch keeps the last in ``torch/nn/modules/channelshuffle.py``; it lives here with its kin).

>>> import ember
>>> ember.nn.PixelShuffle(2)(ember.zeros(1, 8, 3, 3)).shape
ember.Size([1, 2, 6, 6])
"""

from __future__ import annotations

import ember.nn.functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]


class PixelShuffle(Module):
    """Rearrange (*, C * r^2, H, W) into (*, C, H * r, W * r), ``r`` the ``upscale_factor``.

    >>> ember.nn.PixelShuffle(2)(ember.arange(4.0).reshape(1, 4, 1, 1))
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Inverse of ``PixelShuffle``: (*, C, H * r, W * r) into (*, C * r^2, H, W).

    >>> ember.nn.PixelUnshuffle(2)(ember.arange(4.0).reshape(1, 1, 2, 2)).flatten()
    tensor([0., 1., 2., 3.])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Split the channels (dim 1) into ``groups`` and interleave them (ShuffleNet).

    >>> ember.nn.ChannelShuffle(2)(ember.arange(4.0).reshape(1, 4, 1, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
