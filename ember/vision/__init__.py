"""``ember.vision``: torchvision's names for Ember — ``ember.vision.transforms`` and ``ember.vision.datasets``
(the same module as ``ember.datasets``), so ``import torchvision.datasets``-style code ports by changing the import.

>>> from ember.vision import datasets, transforms
>>> datasets is ember.datasets
True
>>> transforms.ToTensor()(np.zeros((2, 2), dtype=np.uint8)).shape
ember.Size([1, 2, 2])
"""

import sys as _sys

from ember import datasets
from ember.vision import transforms

# `import ember.vision.datasets` must find the alias rather than look for a file.
_sys.modules[__name__ + ".datasets"] = datasets

__all__ = ["datasets", "transforms"]
