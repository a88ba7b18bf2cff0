"""Datasets over arrays you already have: ``ArrayDataset`` (NumPy arrays, ``.npy``/``.npz`` files) and
``CSVDataset`` (comma-separated text, optionally gzipped).

Items follow the loaders' convention: the sample is a NumPy array exactly as stored (a uint8 image stack gives
uint8 (H, W[, C]) images for ``ToTensor()``; a feature table gives 1-D rows — pass ``transform=ember.as_tensor``
for tensors, or let the DataLoader's collate convert them); a scalar target is a Python int or float.

>>> import os, tempfile
>>> from ember.datasets import ArrayDataset
>>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
>>> np.savez(path, x=np.arange(6, dtype=np.float32).reshape(3, 2), y=np.array([0, 1, 1]))
>>> dataset = ArrayDataset(path)
>>> len(dataset), dataset[2]
(3, (array([4., 5.], dtype=float32), 1))
"""

from __future__ import annotations

import csv
import gzip
import io
import os

import numpy as np

from ember.datasets.vision import VisionDataset, find_file
from ember.tensor import Tensor

__all__ = ["ArrayDataset", "CSVDataset"]

_DATA_KEYS = ("data", "x", "X", "features", "images", "inputs")
_TARGET_KEYS = ("targets", "y", "Y", "labels", "label", "target")


def _is_path(value) -> bool:
    return isinstance(value, (str, bytes, os.PathLike))


def _as_array(value, what: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    raise TypeError(f"ArrayDataset: {what} must be a NumPy array, an ember Tensor, a list or a path to a .npy/.npz "
                    f"file, got {type(value).__name__}")


def _load_npy(path: str, mmap_mode):
    path = find_file([path], "ArrayDataset", "array file")
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, EOFError, OSError) as error:
        raise ValueError(f"ArrayDataset: {path!r} is not a readable .npy/.npz file ({error}); object arrays "
                         "(which need pickle) are refused") from None


def _pick_key(archive, key, defaults, path, what):
    names = list(archive.keys())
    if key is not None:
        if key not in names:
            raise KeyError(f"ArrayDataset: {path!r} has no array {key!r}; it holds {names}")
        return key
    for candidate in defaults:
        if candidate in names:
            return candidate
    return None


def _python_value(value):
    """A 0-d value as a Python scalar (what classification labels are); arrays are copied."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value.copy()
    return np.asarray(value).item()


class ArrayDataset(VisionDataset):
    """Samples ``data[i]`` with optional targets ``targets[i]``: items ``(sample, target)``, or just ``sample``
    when there are no targets.

    ``data``: a NumPy array, an ember Tensor, a list, or a path to a ``.npy`` file or a ``.npz`` archive. From a
    ``.npz`` the samples are the array named ``data_key`` (default: the first of ``data``, ``x``, ``X``,
    ``features``, ``images``, ``inputs``) and the targets ``targets_key`` (default: the first of ``targets``,
    ``y``, ``Y``, ``labels``, ``label``, ``target``; none is fine). ``targets``: an array/Tensor/list or a
    ``.npy`` path, overriding the archive's. ``label_column``: instead, split the targets off a 2-D ``data`` as
    this column (negative counts from the end). ``mmap_mode`` is passed to ``numpy.load`` (e.g. ``"r"`` for
    arrays larger than memory). Files are loaded with ``allow_pickle=False``.

    Samples are NumPy arrays as stored (copied per item); a scalar target is a Python int/float/bool, a
    non-scalar one a NumPy array. ``data`` and ``targets`` hold the arrays.

    >>> from ember.datasets import ArrayDataset
    >>> table = np.array([[0.5, 1.5, 0], [2.5, 3.5, 1]])
    >>> ArrayDataset(table, label_column=-1)[1]
    (array([2.5, 3.5]), 1)
    >>> images = np.zeros((4, 8, 8), dtype=np.uint8)
    >>> from ember.vision import transforms
    >>> ArrayDataset(images, targets=[0, 1, 2, 3], transform=transforms.ToTensor())[3][0].shape
    ember.Size([1, 8, 8])
    """

    def __init__(self, data, targets=None, *, label_column=None, data_key=None, targets_key=None, transform=None,
                 target_transform=None, mmap_mode=None):
        super().__init__(os.fsdecode(data) if _is_path(data) else None, transform=transform,
                         target_transform=target_transform)
        archive_targets = None
        if _is_path(data):
            path = self.root
            loaded = _load_npy(path, mmap_mode)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    key = _pick_key(loaded, data_key, _DATA_KEYS, path, "data")
                    if key is None:
                        raise KeyError(f"ArrayDataset: {path!r} holds {list(loaded.keys())}; name the samples' array "
                                       f"with data_key= (looked for {', '.join(_DATA_KEYS)})")
                    data = loaded[key]
                    target_key = _pick_key(loaded, targets_key, _TARGET_KEYS, path, "targets")
                    archive_targets = None if target_key is None else loaded[target_key]
            else:
                if data_key is not None or targets_key is not None:
                    raise ValueError(f"ArrayDataset: data_key/targets_key only apply to .npz archives; {path!r} "
                                     "holds a single array")
                data = loaded
        else:
            data = _as_array(data, "data")
        if targets is not None:
            targets = _load_npy(os.fsdecode(targets), mmap_mode) if _is_path(targets) else _as_array(targets, "targets")
            if isinstance(targets, np.lib.npyio.NpzFile):
                raise ValueError("ArrayDataset: targets must be a .npy file or an array, not a .npz archive "
                                 "(give the archive as data and pick targets_key)")
        elif archive_targets is not None:
            targets = archive_targets
        if label_column is not None:
            if targets is not None:
                raise ValueError("ArrayDataset: give either targets or label_column, not both")
            if data.ndim != 2:
                raise ValueError(f"ArrayDataset: label_column needs 2-D data (rows of features), got shape {data.shape}")
            columns = data.shape[1]
            if not -columns <= label_column < columns:
                raise IndexError(f"ArrayDataset: label_column {label_column} is out of range for {columns} columns")
            column = label_column % columns
            targets = data[:, column]
            if targets.dtype.kind == "f" and np.all(np.isfinite(targets)) and np.all(targets == np.round(targets)):
                targets = targets.astype(np.int64)
            data = np.delete(data, column, axis=1)
        if data.ndim == 0:
            raise ValueError("ArrayDataset: data must have a first (sample) dimension, got a 0-d array")
        if targets is not None and len(targets) != len(data):
            raise ValueError(f"ArrayDataset: {len(data)} samples but {len(targets)} targets")
        if targets is None and target_transform is not None:
            raise ValueError("ArrayDataset: target_transform was given but the dataset has no targets")
        self.data = data
        self.targets = targets

    def __getitem__(self, index):
        sample = _python_value(self.data[index]) if self.data.ndim == 1 else np.array(self.data[index])
        if self.targets is None:
            return sample if self.transform is None else self.transform(sample)
        return self.apply_transforms(sample, _python_value(self.targets[index]))

    def __len__(self) -> int:
        return len(self.data)


def _read_rows(path: str, delimiter: str):
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", newline="") as handle:
            text = handle.read()
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ValueError(f"CSVDataset: could not read {path!r} as text ({error})") from None
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


class CSVDataset(VisionDataset):
    """Rows of a CSV file (optionally ``.gz``): items ``(features, label)``, or ``features`` when
    ``label_column=None``.

    ``label_column``: the label's column, an int (negative counts from the end; default the last) or, with a
    header row, its name. ``header``: ``"infer"`` (default: the first row is a header if any field of it is not
    a number), True or False. Every other column is a feature and must be numeric. ``features`` is a float32
    NumPy array (pass ``transform=ember.as_tensor`` for a tensor); ``label`` is a Python int when every label is
    a whole number, else a Python float. ``data`` (float32, (N, F)), ``targets`` (int64 or float64, (N,)),
    ``feature_names`` and ``label_name`` (None without a header) describe the file.

    >>> import os, tempfile
    >>> from ember.datasets import CSVDataset
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("length,width,species\\n5.1,3.5,0\\n6.2,2.9,2\\n")
    >>> rows = CSVDataset(path, label_column="species")
    >>> rows.feature_names, rows[1]
    (['length', 'width'], (array([6.2, 2.9], dtype=float32), 2))
    >>> CSVDataset(path, transform=ember.as_tensor)[0][0]
    tensor([5.1000, 3.5000])
    """

    def __init__(self, path, label_column=-1, *, header="infer", delimiter=",", transform=None,
                 target_transform=None):
        super().__init__(os.fsdecode(path), transform=transform, target_transform=target_transform)
        path = find_file([self.root], "CSVDataset", "CSV file")
        rows = _read_rows(path, delimiter)
        if not rows:
            raise ValueError(f"CSVDataset: {path!r} is empty")
        if header == "infer":
            header = not all(_is_number(field) for field in rows[0])
        names = [field.strip() for field in rows[0]] if header else None
        body = rows[1:] if header else rows
        width = len(rows[0])
        for line, row in enumerate(body, start=2 if header else 1):
            if len(row) != width:
                raise ValueError(f"CSVDataset: {path!r} line {line} has {len(row)} fields, expected {width}")
        try:
            table = np.array(body, dtype=np.float64).reshape(len(body), width)
        except ValueError:
            line, field = next((number, field) for number, row in enumerate(body, start=2 if header else 1)
                               for field in row if not _is_number(field))
            raise ValueError(f"CSVDataset: {path!r} line {line} has the non-numeric value {field!r}; every feature "
                             "and label must be a number") from None
        column = self._resolve_column(label_column, names, width, path)
        feature_columns = [index for index in range(width) if index != column]
        self.data = np.ascontiguousarray(table[:, feature_columns], dtype=np.float32)
        self.feature_names = None if names is None else [names[index] for index in feature_columns]
        self.label_name = None if names is None or column is None else names[column]
        self.targets = None
        if column is not None:
            labels = table[:, column]
            whole = np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
            self.targets = labels.astype(np.int64) if whole else labels
        elif target_transform is not None:
            raise ValueError("CSVDataset: target_transform was given but label_column is None")

    @staticmethod
    def _resolve_column(label_column, names, width, path):
        if label_column is None:
            return None
        if isinstance(label_column, str):
            if names is None:
                raise ValueError(f"CSVDataset: label_column={label_column!r} names a column but {path!r} has no "
                                 "header row; give the column's index instead")
            if label_column not in names:
                raise KeyError(f"CSVDataset: {path!r} has no column {label_column!r}; columns: {names}")
            return names.index(label_column)
        if not -width <= label_column < width:
            raise IndexError(f"CSVDataset: label_column {label_column} is out of range for {width} columns in {path!r}")
        return label_column % width

    def __getitem__(self, index):
        features = self.data[index].copy()
        if self.targets is None:
            return features if self.transform is None else self.transform(features)
        return self.apply_transforms(features, self.targets[index].item())

    def __len__(self) -> int:
        return len(self.data)
