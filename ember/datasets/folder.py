"""``DatasetFolder`` and ``ImageFolder``: one class per subfolder of ``root``, as in torchvision.

::

    root/cat/001.png
    root/cat/nested/002.png
    root/dog/003.npy

Image files are decoded with Pillow, an optional dependency (``pip install ember[vision]``); ``.npy`` images
(arrays of shape (H, W) or (H, W, C)) load without it. An image item is a uint8 NumPy array (H, W, 3) in RGB
— the part torchvision's PIL image plays; ``ember.vision.transforms.ToTensor()`` converts it.

>>> import os, tempfile
>>> from ember.datasets import ImageFolder
>>> root = tempfile.mkdtemp()
>>> for name in ("cat", "dog"):
...     os.makedirs(os.path.join(root, name))
...     np.save(os.path.join(root, name, "0.npy"), np.zeros((4, 5, 3), dtype=np.uint8))
>>> folder = ImageFolder(root)
>>> folder.classes, folder.class_to_idx, len(folder)
(['cat', 'dog'], {'cat': 0, 'dog': 1}, 2)
>>> image, label = folder[1]
>>> image.shape, label
((4, 5, 3), 1)
"""

from __future__ import annotations

import os

import numpy as np

from ember.datasets.vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "NPY_EXTENSIONS", "default_loader", "pil_loader",
           "npy_loader", "image_loader", "find_classes", "make_dataset", "has_file_allowed_extension"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
NPY_EXTENSIONS = (".npy",)


def _pillow_image(path: str):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"Reading the image {path!r} needs Pillow, an optional dependency of Ember: "
                          "pip install ember[vision]   (or: pip install Pillow). "
                          ".npy images load without it.") from None
    return Image


def pil_loader(path):
    """Open an image file with Pillow and convert it to RGB; returns a ``PIL.Image`` (as torchvision's).

    >>> import os, tempfile
    >>> from ember.datasets import pil_loader
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> from PIL import Image
    >>> Image.new("L", (3, 2)).save(path)
    >>> pil_loader(path).mode, pil_loader(path).size
    ('RGB', (3, 2))
    """
    path = os.fsdecode(path)
    image_module = _pillow_image(path)
    with open(path, "rb") as handle:
        try:
            image = image_module.open(handle)
            return image.convert("RGB")
        except (OSError, ValueError, SyntaxError) as error:
            raise ValueError(f"{path!r}: Pillow could not decode this image ({error})") from None


def image_loader(path) -> np.ndarray:
    """Decode an image file with Pillow into a uint8 NumPy array (H, W, 3), RGB.

    >>> import os, tempfile
    >>> from ember.datasets import image_loader
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> Image.new("RGB", (3, 2), (255, 0, 0)).save(path)
    >>> image_loader(path)[0, 0]
    array([255,   0,   0], dtype=uint8)
    """
    return np.array(pil_loader(path))


def npy_loader(path) -> np.ndarray:
    """Load a ``.npy`` image (an array (H, W) or (H, W, C)) without Pickle; no Pillow needed.

    >>> import os, tempfile
    >>> from ember.datasets import npy_loader
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> np.save(path, np.ones((2, 2), dtype=np.uint8))
    >>> npy_loader(path).shape
    (2, 2)
    """
    path = os.fsdecode(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path!r}: not a readable .npy array file ({error})") from None


def default_loader(path) -> np.ndarray:
    """Ember's image loader: ``.npy`` files with NumPy, anything else with Pillow (RGB); a uint8 array for images.

    >>> import os, tempfile
    >>> from ember.datasets import default_loader
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> np.save(path, np.zeros((2, 3, 3), dtype=np.uint8))
    >>> default_loader(path).shape
    (2, 3, 3)
    """
    path = os.fsdecode(path)
    if path.lower().endswith(NPY_EXTENSIONS):
        return npy_loader(path)
    return image_loader(path)


def has_file_allowed_extension(filename, extensions) -> bool:
    """Whether ``filename`` ends (case-insensitively) with one of ``extensions``.

    >>> from ember.datasets import has_file_allowed_extension
    >>> has_file_allowed_extension("a/B.PNG", (".png", ".jpg"))
    True
    """
    return os.fsdecode(filename).lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def find_classes(directory):
    """The sorted subfolder names of ``directory`` and a name -> index dict.

    >>> import os, tempfile
    >>> from ember.datasets import find_classes
    >>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "b")); os.makedirs(os.path.join(root, "a"))
    >>> find_classes(root)
    (['a', 'b'], {'a': 0, 'b': 1})
    """
    directory = os.fsdecode(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Dataset folder {directory!r} does not exist (or is not a directory)")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory!r}: expected one subfolder per class")
    return classes, {name: index for index, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """``[(path, class_index), ...]`` for the files under each class folder, walked in sorted order.

    Give exactly one of ``extensions`` and ``is_valid_file``. A class folder without a valid file raises
    ``FileNotFoundError`` unless ``allow_empty``.

    >>> import os, tempfile
    >>> from ember.datasets import make_dataset
    >>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "a"))
    >>> open(os.path.join(root, "a", "x.npy"), "wb").close()
    >>> [(os.path.basename(path), index) for path, index in make_dataset(root, extensions=".npy")]
    [('x.npy', 0)]
    """
    directory = os.path.expanduser(os.fsdecode(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_idx' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    instances = []
    found_classes = set()
    for class_name in sorted(class_to_idx):
        class_index = class_to_idx[class_name]
        class_dir = os.path.join(directory, class_name)
        if not os.path.isdir(class_dir):
            continue
        for folder, _, file_names in sorted(os.walk(class_dir, followlinks=True)):
            for file_name in sorted(file_names):
                path = os.path.join(folder, file_name)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found_classes.add(class_name)
    empty_classes = set(class_to_idx) - found_classes
    if empty_classes and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty_classes))} in {directory!r}. "
        if extensions is not None:
            message += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(message)
    return instances


class DatasetFolder(VisionDataset):
    """Samples arranged one class per subfolder of ``root``, read by ``loader(path)``: items ``(sample, class)``.

    Attributes as torchvision: ``classes`` (sorted folder names), ``class_to_idx``, ``samples`` (list of
    ``(path, class_index)``), ``targets``, ``loader``, ``extensions``. Override ``find_classes`` or
    ``make_dataset`` to change how folders map to classes.

    >>> import os, tempfile
    >>> from ember.datasets import DatasetFolder
    >>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "pos"))
    >>> with open(os.path.join(root, "pos", "a.txt"), "w") as f:
    ...     _ = f.write("hello")
    >>> folder = DatasetFolder(root, loader=lambda path: open(path).read(), extensions=(".txt",))
    >>> folder[0]
    ('hello', 0)
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        """See :func:`ember.datasets.make_dataset`.

        >>> from ember.datasets import DatasetFolder
        >>> DatasetFolder.make_dataset.__name__
        'make_dataset'
        """
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory):
        """See :func:`ember.datasets.find_classes`.

        >>> from ember.datasets import DatasetFolder
        >>> callable(DatasetFolder.find_classes)
        True
        """
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self.apply_transforms(self.loader(path), target)

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images arranged one class per subfolder of ``root``: items ``(image, class_index)``.

    Files with an extension in ``IMG_EXTENSIONS`` (decoded by Pillow to RGB) or ``.npy`` (loaded by NumPy) are
    used, unless ``is_valid_file`` decides. ``image`` is what ``loader`` returns: with the default loader a uint8
    NumPy array (H, W, 3) for image files and the stored array for ``.npy`` files. ``imgs`` is ``samples``.

    >>> import os, tempfile
    >>> from ember.datasets import ImageFolder
    >>> from ember.vision import transforms
    >>> root = tempfile.mkdtemp(); os.makedirs(os.path.join(root, "a"))
    >>> np.save(os.path.join(root, "a", "0.npy"), np.full((2, 2, 3), 255, dtype=np.uint8))
    >>> ImageFolder(root, transform=transforms.ToTensor())[0][0].shape
    ember.Size([3, 2, 2])
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS + NPY_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform, is_valid_file=is_valid_file,
                         allow_empty=allow_empty)
        self.imgs = self.samples
