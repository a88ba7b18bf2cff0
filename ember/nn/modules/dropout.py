"""Dropout layers (``torch.nn`` dropout family): random zeroing in training, identity in eval.

>>> import ember
>>> ember.nn.Dropout(p=0.2)
Dropout(p=0.2, inplace=False)
"""

from __future__ import annotations

import ember.nn.functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` in training and scale the rest by ``1 / (1 - p)``.

    >>> ember.manual_seed(0)
    <...>
    >>> x = ember.ones(1000)
    >>> y = ember.nn.Dropout(0.5)(x)
    >>> sorted(set(y.tolist())), 400 < int((y == 0).sum()) < 600
    ([0.0, 2.0], True)
    >>> ember.nn.Dropout(0.5).eval()(x) is x
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability ``p`` in training.

    >>> y = ember.nn.Dropout1d(0.5)(ember.ones(4, 8, 3))
    >>> bool(((y == 0).all(-1) | (y == 2).all(-1)).all())
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of a (N, C, H, W) or (C, H, W) input with probability ``p`` in training.

    >>> y = ember.nn.Dropout2d(0.5)(ember.ones(4, 8, 2, 2))
    >>> bool(((y == 0).all((-2, -1)) | (y == 2).all((-2, -1))).all())
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p`` in training.

    >>> y = ember.nn.Dropout3d(0.5)(ember.ones(2, 8, 2, 2, 2))
    >>> bool(((y == 0).all((-3, -2, -1)) | (y == 2).all((-3, -2, -1))).all())
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and the output is
    affinely corrected to keep zero mean and unit variance.

    >>> x = ember.randn(10000)
    >>> y = ember.nn.AlphaDropout(0.2)(x)
    >>> abs(float(y.mean())) < 0.1, abs(float(y.std()) - 1) < 0.1
    (True, True)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (dim 1): every element of a dropped channel takes the same value.

    >>> y = ember.nn.FeatureAlphaDropout(0.5)(ember.zeros(4, 8, 3))
    >>> bool((y == y[..., :1]).all())
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)
