"""MNIST-style datasets read from IDX files you already have (raw or gzipped). Ember never downloads.

Files are looked for in torchvision's layout, ``root/<ClassName>/raw/``, then ``root/<ClassName>/``, then
directly in ``root``; each name plain or with ``.gz``. The names are ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (the spelling
``train-images.idx3-ubyte`` is accepted too).

>>> import gzip, os, tempfile
>>> from ember.datasets import MNIST, write_idx
>>> root = tempfile.mkdtemp()
>>> os.makedirs(os.path.join(root, "MNIST", "raw"))
>>> images = np.zeros((2, 28, 28), dtype=np.uint8); images[1, 0, 0] = 255
>>> write_idx(os.path.join(root, "MNIST", "raw", "t10k-images-idx3-ubyte.gz"), images)
>>> write_idx(os.path.join(root, "MNIST", "raw", "t10k-labels-idx1-ubyte"), np.array([7, 2], dtype=np.uint8))
>>> test = MNIST(root, train=False)
>>> image, label = test[1]
>>> image.shape, image.dtype, int(image[0, 0]), label
((28, 28), dtype('uint8'), 255, 2)
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

import ember
from ember.datasets.vision import VisionDataset, find_file, reject_download

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "read_idx", "write_idx"]

# The IDX type byte -> the element type (IDX stores multi-byte values big-endian).
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IDX_CODES = {dtype.newbyteorder(">"): code for code, dtype in _IDX_TYPES.items()}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    # Judge compression by content, not name: a renamed or decompressed-in-place file still loads.
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path!r}: corrupt or truncated gzip data ({error})") from None
    return raw


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format; gzip-compressed or not) into a NumPy array in native byte order.

    Raises ``ValueError`` naming the file when the magic number is wrong or the data is shorter or longer
    than its header says.

    >>> import os, tempfile
    >>> from ember.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path)
    array([3, 1, 4], dtype=uint8)
    """
    path = os.fsdecode(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path!r}: not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or type_code not in _IDX_TYPES:
        raise ValueError(f"{path!r}: not an IDX file: bad magic number 0x{raw[:4].hex()} (expected 0x0000TTDD with "
                         f"type TT in {', '.join(f'{c:02x}' for c in _IDX_TYPES)} and DD dimensions, e.g. 0x00000803 "
                         "for MNIST images, 0x00000801 for labels)")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path!r}: truncated IDX header: {ndim} dimensions need {header_size} header bytes, "
                         f"the file has {len(raw)}")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing data"
        raise ValueError(f"{path!r}: IDX file {problem}: its header promises shape {shape} of {dtype.name} "
                         f"({expected} bytes of data) but it holds {actual}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write a NumPy array (uint8, int8, int16, int32, float32 or float64) as an IDX file, gzipped if the path
    ends in ``.gz``. Handy for making small MNIST-format files.

    >>> import os, tempfile
    >>> from ember.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "images-idx3-ubyte.gz")
    >>> write_idx(path, np.ones((1, 2, 2), dtype=np.uint8))
    >>> read_idx(path).shape
    (1, 2, 2)
    """
    path = os.fsdecode(path)
    array = np.asarray(array)
    big_endian = array.dtype.newbyteorder(">")
    if big_endian not in _IDX_CODES:
        raise TypeError(f"write_idx: IDX cannot store {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    header = bytes([0, 0, _IDX_CODES[big_endian], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=big_endian).tobytes()
    if path.endswith(".gz"):
        payload = gzip.compress(payload)
    with open(path, "wb") as handle:
        handle.write(payload)


class MNIST(VisionDataset):
    """MNIST from the four IDX files (raw or ``.gz``) you already have: items ``(image, label)``.

    ``image`` is a ``(28, 28)`` uint8 NumPy array (the role of torchvision's PIL image; ``ToTensor()`` makes it a
    float (1, 28, 28) tensor in [0, 1]); ``label`` is a Python int. ``data`` is a uint8 tensor (N, 28, 28) and
    ``targets`` an int64 tensor (N,), as in torchvision. ``download=True`` raises: Ember never downloads.

    Files are looked for in ``root/MNIST/raw/``, ``root/MNIST/`` and ``root/`` (FashionMNIST and KMNIST use their
    own class name as the folder).

    >>> import tempfile
    >>> from ember.datasets import MNIST
    >>> try:
    ...     MNIST(tempfile.mkdtemp())
    ... except FileNotFoundError as error:
    ...     print(str(error).splitlines()[0])
    MNIST: training images not found; looked for:
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        name = type(self).__name__
        if self.root is None:
            raise TypeError(f"{name}: root must be the directory holding the dataset files, got None")
        reject_download(download, name, f"in {os.path.join(self.root, self._folder_name(), 'raw')} (or directly in "
                                        f"{self.root}), named like train-images-idx3-ubyte.gz")
        self.train = train
        prefix = "train" if train else "t10k"
        split = "training" if train else "test"
        images_path = self._find(f"{prefix}-images", "idx3-ubyte", f"{split} images")
        labels_path = self._find(f"{prefix}-labels", "idx1-ubyte", f"{split} labels")
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{name}: {images_path!r} holds a {images.dtype} array of shape {images.shape}; "
                             "expected uint8 images of shape (N, H, W)")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(f"{name}: {labels_path!r} holds a {labels.dtype} array of shape {labels.shape}; "
                             "expected integer labels of shape (N,)")
        if len(images) != len(labels):
            raise ValueError(f"{name}: {images_path!r} has {len(images)} images but {labels_path!r} has "
                             f"{len(labels)} labels")
        self._images = images
        self._labels = labels.astype(np.int64)
        self.data = ember.from_numpy(self._images)
        self.targets = ember.from_numpy(self._labels)

    @classmethod
    def _folder_name(cls) -> str:
        return cls.__name__

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self._folder_name(), "raw")

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def _find(self, stem: str, kind: str, what: str) -> str:
        folders = [self.raw_folder, os.path.join(self.root, self._folder_name()), self.root]
        names = [f"{stem}-{kind}", f"{stem}.{kind}"]
        candidates = [os.path.join(folder, name + suffix) for folder in folders for name in names for suffix in ("", ".gz")]
        return find_file(candidates, type(self).__name__, what)

    def __getitem__(self, index):
        return self.apply_transforms(self._images[index].copy(), int(self._labels[index]))

    def __len__(self) -> int:
        return len(self._labels)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) from IDX files you already have; same files, layout and items as :class:`MNIST`,
    looked for in ``root/FashionMNIST/raw/``, ``root/FashionMNIST/`` and ``root/``.

    >>> from ember.datasets import FashionMNIST
    >>> FashionMNIST.classes[:3]
    ['T-shirt/top', 'Trouser', 'Pullover']
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST from IDX files you already have; same files, layout and items as :class:`MNIST`, looked
    for in ``root/KMNIST/raw/``, ``root/KMNIST/`` and ``root/``.

    >>> from ember.datasets import KMNIST
    >>> len(KMNIST.classes)
    10
    """

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
