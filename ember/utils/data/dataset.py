"""Datasets: map-style (``__getitem__`` + ``__len__``) and iterable-style (``__iter__``), and the wrappers
that combine them.

>>> from ember.utils.data import TensorDataset, random_split
>>> dataset = TensorDataset(ember.arange(10), ember.arange(10) * 2)
>>> dataset[3]
(tensor(3), tensor(6))
>>> [len(part) for part in random_split(dataset, [0.8, 0.2])]
[8, 2]
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import Generic, Iterable, Sequence, TypeVar

import ember

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split"]

_T_co = TypeVar("_T_co", covariant=True)


class Dataset(Generic[_T_co]):
    """A map from keys (usually ``0 .. len - 1``) to samples. Subclasses define ``__getitem__`` and usually
    ``__len__``; they may define ``__getitems__(indices)`` to fetch a whole batch at once. ``a + b`` concatenates.

    >>> from ember.utils.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> data = Squares() + Squares()
    >>> len(data), data[5]
    (8, 1)
    """

    def __getitem__(self, index) -> _T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[_T_co]) -> ConcatDataset[_T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co]):
    """A stream of samples: subclasses define ``__iter__``. With ``num_workers > 0`` every worker iterates its own
    copy, so split the work with :func:`~ember.utils.data.get_worker_info` to avoid duplicates. ``a + b`` chains.

    >>> from ember.utils.data import IterableDataset, DataLoader, get_worker_info
    >>> class Range(IterableDataset):
    ...     def __init__(self, n): self.n = n
    ...     def __iter__(self):
    ...         info = get_worker_info()
    ...         if info is None:
    ...             return iter(range(self.n))
    ...         return iter(range(info.id, self.n, info.num_workers))
    >>> [int(x) for x in DataLoader(Range(4))]
    [0, 1, 2, 3]
    >>> sorted(int(x) for x in DataLoader(Range(4), num_workers=2))
    [0, 1, 2, 3]
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[_T_co]):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the rows of tensors sharing their first dimension: item ``i`` is ``(t[i] for t in tensors)``.

    >>> from ember.utils.data import TensorDataset
    >>> data = TensorDataset(ember.zeros(3, 2), ember.tensor([1, 2, 3]))
    >>> len(data), data[2]
    (3, (tensor([0., 0.]), tensor(3)))
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise IndexError("TensorDataset needs at least one tensor, got none")
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            sizes = [tuple(tensor.shape) for tensor in tensors]
            raise AssertionError(f"Size mismatch between tensors: their first dimensions must agree, got shapes {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Several same-length datasets side by side: item ``i`` is a tuple (positional datasets) or a dict (keyword
    datasets) of their items ``i``.

    >>> from ember.utils.data import StackDataset
    >>> StackDataset([1, 2], "ab")[1], StackDataset(x=[1, 2], y="ab")[0]
    ((2, 'b'), {'x': 1, 'y': 'a'})
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                                 "input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            datasets = list(kwargs.values())
            self._length = len(datasets[0])
            if any(self._length != len(dataset) for dataset in datasets):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def _items(self, dataset, indices):
        if callable(getattr(dataset, "__getitems__", None)):
            items = dataset.__getitems__(indices)
            if len(items) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
            return items
        return [dataset[idx] for idx in indices]

    def __getitems__(self, indices: list):
        if isinstance(self.datasets, dict):
            columns = {key: self._items(dataset, indices) for key, dataset in self.datasets.items()}
            return [{key: column[i] for key, column in columns.items()} for i in range(len(indices))]
        columns = [self._items(dataset, indices) for dataset in self.datasets]
        return [tuple(column[i] for column in columns) for i in range(len(indices))]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[_T_co]):
    """Map-style datasets one after another.

    >>> from ember.utils.data import ConcatDataset
    >>> data = ConcatDataset([[1, 2], [3, 4, 5]])
    >>> len(data), data[2], data[-1], data.cumulative_sizes
    (5, 3, 5, [2, 5])
    """

    @staticmethod
    def cumsum(sequence):
        """Running totals of the datasets' lengths.

        >>> ConcatDataset.cumsum([[1], [2, 3]])
        [1, 3]
        """
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]

    @property
    def cummulative_sizes(self):
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`", FutureWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained lazily.

    >>> from ember.utils.data import ChainDataset, IterableDataset
    >>> class Count(IterableDataset):
    ...     def __init__(self, n): self.n = n
    ...     def __iter__(self): return iter(range(self.n))
    >>> list(ChainDataset([Count(2), Count(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(dataset)
        return total


class Subset(Dataset[_T_co]):
    """The items of ``dataset`` at ``indices``, in that order.

    >>> from ember.utils.data import Subset
    >>> part = Subset("abcde", [4, 0])
    >>> len(part), part[0], part.__getitems__([1, 0])
    (2, 'e', ['a', 'e'])
    """

    def __init__(self, dataset: Dataset[_T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # The DataLoader fetches batches through __getitems__, which would silently bypass an overridden __getitem__.
        if type(self).__getitem__ is not Subset.__getitem__ and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When subclassing Subset and "
                "overriding __getitem__, you must also override __getitems__ to ensure DataLoader works correctly "
                "with your custom logic. A simple implementation:\n\n"
                "def __getitems__(self, indices):\n    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths, or of the given fractions
    (summing to 1: each gets ``floor(fraction * len)``, and the remainder is dealt out one by one, round robin).
    The same generator seed gives the same split; without a generator, ``ember.manual_seed`` decides.

    >>> from ember.utils.data import random_split
    >>> a, b = random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(42))
    >>> len(a), len(b), sorted(list(a) + list(b)) == list(range(10))
    (3, 7, True)
    >>> [len(part) for part in random_split(range(10), [0.34, 0.33, 0.33])]
    [4, 3, 3]
    """
    if generator is None:
        generator = ember.default_generator
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths: list[int] = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(math.floor(len(dataset) * fraction))
        remainder = len(dataset) - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2)
    if sum(lengths) != len(dataset):
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! (lengths {list(lengths)} "
                         f"sum to {sum(lengths)}, the dataset has {len(dataset)} items)")
    indices = ember.randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
