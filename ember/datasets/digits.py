"""``Digits``: the UCI handwritten digits (1797 8x8 images), shipped inside Ember so examples run offline.

The data file is ``ember/datasets/data/digits.csv.gz`` (CC BY 4.0, Alpaydin & Kaynak 1998; see
``ember/datasets/data/LICENSE-digits.txt`` for the licence and attribution).

>>> from ember.datasets import Digits
>>> train, test = Digits(train=True), Digits(train=False)
>>> len(train), len(test)
(1437, 360)
>>> image, label = train[0]
>>> image.shape, image.dtype, type(label)
(ember.Size([1, 8, 8]), ember.float32, <class 'int'>)
"""

from __future__ import annotations

import gzip
import os

import numpy as np

import ember
from ember.datasets.vision import VisionDataset, find_file

__all__ = ["Digits"]

_DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_SHIPPED_FILE = os.path.join(_DATA_DIR, "digits.csv.gz")
_NUM_TEST = 360
_SPLIT_SEED = 0
_NUMBER_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Parsed files and their splits, keyed by absolute path: a process parses each file once.
_CACHE: dict = {}


def _parse(path: str):
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"Digits: could not parse {path!r} as comma-separated integers ({error})") from None
    if table.shape[1] != 65:
        raise ValueError(f"Digits: {path!r} has rows of {table.shape[1]} values; expected 65 "
                         "(64 pixel values in 0..16, then the label 0..9)")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.size and (pixels.min() < 0 or pixels.max() > 16):
        raise ValueError(f"Digits: {path!r} has pixel values outside 0..16 (found {pixels.min()}..{pixels.max()})")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"Digits: {path!r} has labels outside 0..9 (found {labels.min()}..{labels.max()})")
    return pixels.astype(np.uint8).reshape(-1, 8, 8), labels


def _stratified_test_indices(labels: np.ndarray, num_test: int, seed: int) -> np.ndarray:
    """Rows of the test split: a class gets ``num_test`` * its share, rounded by largest remainder."""
    counts = np.bincount(labels, minlength=10)
    quota = counts * num_test / len(labels)
    per_class = np.floor(quota).astype(np.int64)
    # Largest-remainder rounding so the classes' counts add up to exactly num_test; ties go to the lower class.
    shortfall = num_test - int(per_class.sum())
    per_class[np.argsort(-(quota - per_class), kind="stable")[:shortfall]] += 1
    rng = np.random.Generator(np.random.PCG64(seed))
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class[c]] for c in range(10)]
    return np.sort(np.concatenate(chosen))


def _load(path: str):
    path = os.path.abspath(path)
    mtime = os.stat(path).st_mtime_ns
    cached = _CACHE.get(path)
    if cached is None or cached[0] != mtime:
        images, labels = _parse(path)
        num_test = round(len(labels) * _NUM_TEST / 1797)
        test_rows = _stratified_test_indices(labels, num_test, _SPLIT_SEED)
        is_test = np.zeros(len(labels), dtype=bool)
        is_test[test_rows] = True
        cached = (mtime, images, labels, np.flatnonzero(~is_test), test_rows)
        _CACHE[path] = cached
    return cached[1:]


class Digits(VisionDataset):
    """The UCI handwritten digits (shipped with Ember): items ``(image, label)``.

    ``image`` is a float32 tensor of shape (1, 8, 8) holding the pixel counts divided by 16, so it lies in
    [0, 1]; ``transform`` (if given) receives that tensor and its result is returned instead (use tensor
    transforms such as ``Normalize`` or ``Resize`` — not ``ToTensor``, the image already is one). ``label`` is
    the digit as a Python int (``target_transform`` applies to it).

    Attributes: ``data`` (uint8 tensor (N, 8, 8) of the raw counts 0..16), ``targets`` (int64 tensor (N,)),
    ``classes`` (``["0 - zero", ..., "9 - nine"]``), ``class_to_idx``.

    The split is fixed: of the 1797 digits, 360 form the test set and 1437 the training set. Each class gives
    the test set its share of 360 (``count * 360 / 1797``, rounded down, then one more to the classes with the
    largest remainders, the lower class first on ties), picked as the first rows of a permutation of the
    class's rows drawn, class 0 to 9 in turn, from one ``numpy.random.Generator(numpy.random.PCG64(0))``.
    Both splits keep the file's row order. The split does not depend on ``ember.manual_seed``.

    ``root``: None reads the shipped file; otherwise a directory holding ``digits.csv.gz`` or ``digits.csv``
    in the same format (64 pixel values in 0..16 and the label per row). The parsed file is cached per process.

    >>> from ember.datasets import Digits
    >>> digits = Digits()
    >>> digits.data.shape, digits.targets[:5].tolist()
    (ember.Size([1437, 8, 8]), [0, 1, 2, 3, 4])
    >>> image, label = digits[0]
    >>> float(image.min()), float(image.max()), label
    (0.0, 0.9375, 0)
    >>> Digits(train=False, transform=lambda image: image.flatten())[0][0].shape
    ember.Size([64])
    """

    classes = [f"{digit} - {name}" for digit, name in enumerate(_NUMBER_NAMES)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if root is None:
            path = _SHIPPED_FILE
        else:
            path = find_file([os.path.join(self.root, name) for name in ("digits.csv.gz", "digits.csv")],
                             "Digits", "digits file")
        images, labels, train_rows, test_rows = _load(path)
        rows = train_rows if train else test_rows
        self._images = images[rows]
        self._labels = labels[rows]
        self._scaled = (self._images.astype(np.float32) / np.float32(16)).reshape(-1, 1, 8, 8)
        self.data = ember.from_numpy(self._images)
        self.targets = ember.from_numpy(self._labels)

    @property
    def class_to_idx(self) -> dict:
        return {name: index for index, name in enumerate(self.classes)}

    def __getitem__(self, index):
        image = ember.from_numpy(self._scaled[index].copy())
        return self.apply_transforms(image, int(self._labels[index]))

    def __len__(self) -> int:
        return len(self._labels)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"
