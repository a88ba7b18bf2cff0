"""Fold and Unfold: sliding local blocks to columns and back (``torch.nn.Fold`` / ``torch.nn.Unfold``)."""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sum columns ``(N, C * prod(kernel_size), L)`` back into blocks of ``output_size``.

    >>> fold = ember.nn.Fold(output_size=(3, 3), kernel_size=2)
    >>> fold
    Fold(output_size=(3, 3), kernel_size=2, dilation=1, padding=0, stride=1)
    >>> fold(ember.ones(1, 4, 4)).squeeze().tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return ("output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, padding={padding}, "
                "stride={stride}".format(**self.__dict__))


class Unfold(Module):
    """Extract sliding local blocks of ``(N, C, *)`` input as columns ``(N, C * prod(kernel_size), L)``.

    >>> unfold = ember.nn.Unfold(kernel_size=2)
    >>> unfold(ember.ones(1, 1, 3, 3)).shape
    ember.Size([1, 4, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return "kernel_size={kernel_size}, dilation={dilation}, padding={padding}, stride={stride}".format(**self.__dict__)
