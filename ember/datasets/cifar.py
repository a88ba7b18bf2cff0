"""CIFAR-10 and CIFAR-100 from the "python version" pickle batches you already have. Ember never downloads.

The batches are read with a restricted unpickler that only rebuilds plain containers (dict, list, str, bytes,
numbers) and NumPy arrays: a pickle naming any other callable (``os.system``, ``builtins.eval``...) is refused
with a ``ValueError`` before anything runs.

>>> import os, pickle, tempfile
>>> from ember.datasets import CIFAR10
>>> root = tempfile.mkdtemp(); folder = os.path.join(root, "cifar-10-batches-py"); os.makedirs(folder)
>>> batch = {"data": np.zeros((2, 3072), dtype=np.uint8), "labels": [3, 8]}
>>> with open(os.path.join(folder, "test_batch"), "wb") as f:
...     pickle.dump(batch, f)
>>> image, label = CIFAR10(root, train=False)[1]
>>> image.shape, image.dtype, label
((32, 32, 3), dtype('uint8'), 8)
"""

from __future__ import annotations

import importlib
import os
import pickle

import numpy as np

from ember.datasets.vision import VisionDataset, find_file, reject_download

__all__ = ["CIFAR10", "CIFAR100", "restricted_pickle_load"]

_CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _numpy_attribute(module_names, name):
    for module_name in module_names:
        try:
            return getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            continue
    return None


def _latin1_encode(text, encoding="latin1", errors="strict"):
    # Pickles of bytes made at protocol < 3 call _codecs.encode(text, "latin1"); nothing else is needed.
    if encoding not in ("latin1", "latin-1") or errors != "strict":
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_globals() -> dict:
    # NumPy 2 pickles name numpy._core, NumPy 1 pickles (and the CIFAR files) name numpy.core; both map to the
    # same safe array constructors without importing the deprecated numpy.core shim.
    core = ("numpy._core.multiarray", "numpy.core.multiarray")
    numeric = ("numpy._core.numeric", "numpy.core.numeric")
    reconstruct = _numpy_attribute(core, "_reconstruct")
    scalar = _numpy_attribute(core, "scalar")
    frombuffer = _numpy_attribute(numeric, "_frombuffer")
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): _latin1_encode, ("codecs", "encode"): _latin1_encode}
    for module_name in core:
        allowed[(module_name, "_reconstruct")] = reconstruct
        allowed[(module_name, "scalar")] = scalar
    for module_name in numeric:
        allowed[(module_name, "_frombuffer")] = frombuffer
    return {key: value for key, value in allowed.items() if value is not None}


class _RestrictedUnpickler(pickle.Unpickler):
    _allowed = None

    def find_class(self, module, name):
        if _RestrictedUnpickler._allowed is None:
            _RestrictedUnpickler._allowed = _allowed_globals()
        found = _RestrictedUnpickler._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: only plain containers and "
                                         "NumPy arrays are allowed")
        return found


def restricted_pickle_load(path):
    """Unpickle a data file allowing only plain containers, numbers, strings and NumPy arrays.

    Python-2 pickles (like the CIFAR batches) are decoded with ``encoding="latin1"``, as torchvision does. A
    pickle that names any other global, or a corrupt one, raises ``ValueError`` naming the file.

    >>> import os, pickle, tempfile
    >>> from ember.datasets import restricted_pickle_load
    >>> path = os.path.join(tempfile.mkdtemp(), "batch")
    >>> with open(path, "wb") as f:
    ...     pickle.dump({"labels": [1, 2], "data": np.arange(3, dtype=np.uint8)}, f)
    >>> restricted_pickle_load(path)["data"]
    array([0, 1, 2], dtype=uint8)
    >>> with open(path, "wb") as f:
    ...     pickle.dump(print, f)
    >>> try:
    ...     restricted_pickle_load(path)
    ... except ValueError as error:
    ...     print(str(error).split(": ", 1)[1])
    unsafe or corrupt pickle: refusing to load global builtins.print: only plain containers and NumPy arrays are allowed
    """
    path = os.fsdecode(path)
    with open(path, "rb") as handle:
        try:
            return _RestrictedUnpickler(handle, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
                UnicodeDecodeError, OverflowError, MemoryError) as error:
            raise ValueError(f"{path!r}: unsafe or corrupt pickle: {error}") from None


def _text_keys(entry, path):
    if not isinstance(entry, dict):
        raise ValueError(f"{path!r}: expected a pickled dict (a CIFAR batch), got {type(entry).__name__}")
    return {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in entry.items()}


def _names(values):
    return [name.decode("latin1") if isinstance(name, bytes) else str(name) for name in values]


class CIFAR10(VisionDataset):
    """CIFAR-10 from ``cifar-10-batches-py`` (``data_batch_1`` .. ``data_batch_5``, ``test_batch``,
    ``batches.meta``) under ``root`` (or the batch files directly in ``root``): items ``(image, label)``.

    ``image`` is a (32, 32, 3) uint8 NumPy array (HWC, RGB; ``ToTensor()`` makes it a float (3, 32, 32) tensor in
    [0, 1]); ``label`` is a Python int. As in torchvision, ``data`` is the uint8 NumPy array (N, 32, 32, 3),
    ``targets`` a list of ints, ``classes`` the names from ``batches.meta`` (the standard names if that file is
    absent) and ``class_to_idx`` a dict. ``download=True`` raises: Ember never downloads.

    >>> from ember.datasets import CIFAR10
    >>> CIFAR10.base_folder
    'cifar-10-batches-py'
    """

    base_folder = "cifar-10-batches-py"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"
    num_classes = 10

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        name = type(self).__name__
        if self.root is None:
            raise TypeError(f"{name}: root must be the directory holding {self.base_folder}/, got None")
        reject_download(download, name, f"in {os.path.join(self.root, self.base_folder)} (extract the python "
                                        "version archive there)")
        self.train = train
        images, targets = [], []
        for file_name in self.train_list if train else self.test_list:
            path = self._find(file_name, "batch")
            entry = _text_keys(restricted_pickle_load(path), path)
            data, labels = self._check_batch(entry, path)
            images.append(data)
            targets.extend(labels)
        self.data = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.targets = targets
        self.classes = self._load_classes()
        self.class_to_idx = {class_name: index for index, class_name in enumerate(self.classes)}

    def _find(self, file_name: str, what: str) -> str:
        candidates = [os.path.join(self.root, self.base_folder, file_name), os.path.join(self.root, file_name)]
        return find_file(candidates, type(self).__name__, f"{what} file {file_name!r}")

    def _check_batch(self, entry, path):
        data = entry.get("data")
        key = self.labels_key if self.labels_key in entry else "labels"
        labels = entry.get(key)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            found = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise ValueError(f"{path!r}: 'data' must be a uint8 array of shape (N, 3072), found {found}")
        if labels is None:
            raise ValueError(f"{path!r}: no {self.labels_key!r} entry (keys: {sorted(entry)})")
        labels_array = np.asarray(labels)
        if labels_array.ndim != 1 or labels_array.dtype.kind not in "iu":
            raise ValueError(f"{path!r}: {key!r} must be a list of integer labels, found {labels_array.dtype} values "
                             f"of shape {labels_array.shape}")
        labels = labels_array.tolist()
        if len(labels) != len(data):
            raise ValueError(f"{path!r}: {len(data)} images but {len(labels)} labels")
        if labels and not 0 <= min(labels) <= max(labels) < self.num_classes:
            raise ValueError(f"{path!r}: labels must lie in 0..{self.num_classes - 1}, found {min(labels)}..{max(labels)}")
        return data, labels

    def _load_classes(self):
        candidates = [os.path.join(self.root, self.base_folder, self.meta["filename"]),
                      os.path.join(self.root, self.meta["filename"])]
        for path in candidates:
            if os.path.isfile(path):
                entry = _text_keys(restricted_pickle_load(path), path)
                if self.meta["key"] not in entry:
                    raise ValueError(f"{path!r}: no {self.meta['key']!r} entry (keys: {sorted(entry)})")
                return _names(entry[self.meta["key"]])
        return self._default_classes()

    def _default_classes(self):
        return list(_CIFAR10_CLASSES)

    def __getitem__(self, index):
        return self.apply_transforms(self.data[index].copy(), self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 from ``cifar-100-python`` (``train``, ``test``, ``meta``) under ``root``: items ``(image,
    fine_label)``, otherwise as :class:`CIFAR10`. ``classes`` are the 100 fine label names from ``meta``
    (``"0"`` .. ``"99"`` if that file is absent).

    >>> from ember.datasets import CIFAR100
    >>> CIFAR100.train_list, CIFAR100.test_list
    (['train'], ['test'])
    """

    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"
    num_classes = 100

    def _default_classes(self):
        return [str(index) for index in range(100)]
