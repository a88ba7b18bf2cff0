"""``ember.datasets``: datasets with torchvision's names and layouts (also importable as ``ember.vision.datasets``).

``Digits`` ships inside Ember (UCI handwritten digits, CC BY 4.0); the others read files you already have —
Ember never downloads. Image items are uint8 NumPy arrays (H, W) or (H, W, C), the part torchvision's PIL images
play: ``ember.vision.transforms.ToTensor()`` turns them into float (C, H, W) tensors in [0, 1].

>>> from ember.datasets import Digits
>>> image, label = Digits()[0]
>>> image.shape, label
(ember.Size([1, 8, 8]), 0)
"""

from ember.datasets.arrays import ArrayDataset, CSVDataset
from ember.datasets.cifar import CIFAR10, CIFAR100, restricted_pickle_load
from ember.datasets.digits import Digits
from ember.datasets.folder import (IMG_EXTENSIONS, NPY_EXTENSIONS, DatasetFolder, ImageFolder, default_loader,
                                   find_classes, has_file_allowed_extension, image_loader, make_dataset, npy_loader,
                                   pil_loader)
from ember.datasets.mnist import KMNIST, MNIST, FashionMNIST, read_idx, write_idx
from ember.datasets.vision import StandardTransform, VisionDataset
from ember.errors import MissingFeatureError as _MissingFeatureError

__all__ = ["Digits", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "DatasetFolder", "ImageFolder",
           "ArrayDataset", "CSVDataset", "VisionDataset", "StandardTransform", "IMG_EXTENSIONS", "NPY_EXTENSIONS",
           "default_loader", "pil_loader", "image_loader", "npy_loader", "find_classes", "make_dataset",
           "has_file_allowed_extension", "read_idx", "write_idx", "restricted_pickle_load"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise _MissingFeatureError(f"torchvision.datasets.{name} is not implemented in Ember (available: "
                               f"{', '.join(__all__[:10])}); Ember reads files you already have and never downloads")
