"""The base of every Ember dataset, as ``torchvision.datasets.VisionDataset``, and helpers the loaders share.

Item convention (the same for every file loader): an image item is a ``uint8`` NumPy array, ``(H, W)`` for grey
and ``(H, W, C)`` for colour, playing the part of torchvision's PIL image; ``ember.vision.transforms.ToTensor()``
turns it into a float ``(C, H, W)`` tensor in [0, 1]. Class labels are Python ints.

>>> from ember.datasets import VisionDataset
>>> class Squares(VisionDataset):
...     def __getitem__(self, index):
...         return self.apply_transforms(index * index, index)
...     def __len__(self):
...         return 3
>>> Squares(transform=lambda x: x + 1)[2]
(5, 2)
"""

from __future__ import annotations

import os

try:
    from ember.utils.data import Dataset as _DatasetBase
except ModuleNotFoundError as _error:  # ember.utils.data is optional while the data package is being built
    if _error.name not in ("ember.utils.data", "ember.utils"):
        raise
    _DatasetBase = object

__all__ = ["VisionDataset", "StandardTransform"]


class StandardTransform:
    """Apply ``transform`` to the input and ``target_transform`` to the target, either may be None.

    >>> from ember.datasets import StandardTransform
    >>> StandardTransform(lambda x: -x, str)(1, 2)
    (-1, '2')
    """

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self):
        lines = [self.__class__.__name__]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class VisionDataset(_DatasetBase):
    """Base class of Ember's datasets: ``root``, ``transform``, ``target_transform`` (or a joint ``transforms``).

    Subclasses implement ``__getitem__`` and ``__len__`` and call ``self.apply_transforms(input, target)``.

    >>> from ember.datasets import VisionDataset
    >>> VisionDataset("data").root
    'data'
    """

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, (str, bytes, os.PathLike)):
            root = os.path.expanduser(os.fsdecode(root))
        self.root = root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError(f"{type(self).__name__}: only transforms or transform/target_transform can be passed, not both")
        self.transform = transform
        self.target_transform = target_transform
        self.transforms = StandardTransform(transform, target_transform) if has_separate else transforms

    def apply_transforms(self, input, target):
        """``(input, target)`` after this dataset's transforms."""
        if self.transforms is None:
            return input, target
        return self.transforms(input, target)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [line for line in self.extra_repr().splitlines() if line]
        if self.transforms is not None:
            lines += repr(self.transforms).splitlines()
        return "\n".join([f"Dataset {type(self).__name__}"] + ["    " + line for line in lines])


def reject_download(download, dataset_name: str, where: str) -> None:
    """Ember never downloads: explain where the files a user already has should go."""
    if download:
        raise ValueError(f"{dataset_name}(download=True): Ember never downloads datasets. Get the files yourself "
                         f"(e.g. from the dataset's official page) and put them {where}, then call "
                         f"{dataset_name}(root=..., download=False).")


def find_file(candidates, dataset_name: str, what: str) -> str:
    """The first existing path of ``candidates``; FileNotFoundError listing every path looked for otherwise."""
    for path in candidates:
        if os.path.isfile(path):
            return path
    listed = "\n  ".join(candidates)
    raise FileNotFoundError(f"{dataset_name}: {what} not found; looked for:\n  {listed}\n"
                            "Ember never downloads datasets: put the file at one of these paths.")
