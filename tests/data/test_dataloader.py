"""DataLoader in the main process: batching, drop_last, len, options and their errors against torch."""

from __future__ import annotations

import collections
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
from ember.utils.data import (BatchSampler, DataLoader, IterableDataset, SequentialSampler, SubsetRandomSampler,
                              TensorDataset)
from tests.data.helpers import normalize

Sample = collections.namedtuple("Sample", ["image", "label"])


class MapData:
    """A plain map-style dataset (no Dataset base class needed) returning a mixed structure."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "y": i, "name": f"s{i}", "pair": Sample(float(i), i % 2 == 0)}


class Stream(IterableDataset, tdata.IterableDataset):
    """An IterableDataset to both frameworks, so one object feeds both loaders."""

    def __init__(self, n, reported=None):
        self.n, self.reported = n, reported

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.reported is None else self.reported


def _both(dataset, **kwargs):
    return DataLoader(dataset, **kwargs), tdata.DataLoader(dataset, **kwargs)


@pytest.mark.parametrize("n, batch_size, drop_last", list(itertools.product([0, 1, 5, 6], [1, 2, 4, 7], [False, True])))
def test_batches_and_len_match_torch(n, batch_size, drop_last):
    ours, theirs = _both(MapData(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [normalize(b) for b in ours] == [normalize(b) for b in theirs]


def test_batch_size_none_converts_single_samples_like_torch():
    ours, theirs = _both(MapData(3), batch_size=None)
    assert len(ours) == len(theirs) == 3
    assert [normalize(b) for b in ours] == [normalize(b) for b in theirs]


def test_tensor_dataset_batches():
    x, y = ember.arange(10.0).reshape(5, 2), ember.arange(5)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].tolist() == [[0.0, 1.0], [2.0, 3.0]] and batches[0][0].dtype == ember.float32


def test_sampler_and_batch_sampler_options_match_torch():
    sampler = [4, 0, 2]
    ours, theirs = _both(MapData(5), sampler=sampler, batch_size=2)
    assert [normalize(b) for b in ours] == [normalize(b) for b in theirs]
    ours, theirs = _both(MapData(5), batch_sampler=[[3, 1], [0]])
    assert len(ours) == len(theirs) == 2
    assert [normalize(b) for b in ours] == [normalize(b) for b in theirs]
    loader = DataLoader(MapData(5), batch_sampler=BatchSampler(SequentialSampler(range(5)), 3, True))
    assert loader.batch_size is None and len(loader) == 1


def test_custom_collate_fn():
    loader = DataLoader(list(range(5)), batch_size=2, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [1, 5, 4]


def test_shuffle_is_reproducible_with_a_generator_and_with_manual_seed():
    def epoch(loader):
        return [b.tolist() for b in loader]

    first = epoch(DataLoader(list(range(12)), batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(9)))
    again = epoch(DataLoader(list(range(12)), batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(9)))
    assert first == again and sorted(itertools.chain.from_iterable(first)) == list(range(12))
    loader = DataLoader(list(range(12)), batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(9))
    assert epoch(loader) != epoch(loader)  # a new order every epoch
    ember.manual_seed(1)
    seeded = epoch(DataLoader(list(range(12)), batch_size=4, shuffle=True))
    ember.manual_seed(1)
    assert seeded == epoch(DataLoader(list(range(12)), batch_size=4, shuffle=True))


def test_subset_random_sampler_loader_covers_indices():
    loader = DataLoader(list(range(10)), sampler=SubsetRandomSampler([1, 3, 5]), batch_size=2)
    assert sorted(itertools.chain.from_iterable(b.tolist() for b in loader)) == [1, 3, 5] and len(loader) == 2


@pytest.mark.parametrize("n, batch_size, drop_last", [(7, 2, False), (7, 2, True), (6, 3, False), (5, None, False)])
def test_iterable_dataset_batches_and_len_match_torch(n, batch_size, drop_last):
    ours, theirs = _both(Stream(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [normalize(b) for b in ours] == [normalize(b) for b in theirs]


def test_iterable_dataset_len_warning_matches_torch():
    ours, theirs = _both(Stream(5, reported=2), batch_size=1)
    for loader in (ours, theirs):
        assert len(loader) == 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            list(loader)
        messages = [str(w.message) for w in caught]
        assert len(messages) == 3 and "was reported to be 2(when accessing len(dataloader)), but 3 samples" in messages[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(DataLoader(Stream(5, reported=2)))  # no len() asked: no warning


INVALID_OPTIONS = [
    ({"num_workers": -1}, ValueError),
    ({"timeout": -1}, ValueError),
    ({"prefetch_factor": 2}, ValueError),
    ({"num_workers": 1, "prefetch_factor": -1}, ValueError),
    ({"persistent_workers": True}, ValueError),
    ({"sampler": [0, 1], "shuffle": True}, ValueError),
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError),
    ({"batch_sampler": [[0]], "drop_last": True}, ValueError),
    ({"batch_size": None, "drop_last": True}, ValueError),
    ({"multiprocessing_context": "fork"}, ValueError),
    ({"num_workers": 1, "multiprocessing_context": "no-such-method"}, ValueError),
    ({"num_workers": 1, "multiprocessing_context": 3}, TypeError),
]


@pytest.mark.parametrize("kwargs, error", INVALID_OPTIONS)
def test_invalid_options_match_torch(kwargs, error):
    with pytest.raises(error) as torch_error:
        tdata.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(error) as ember_error:
        DataLoader(list(range(4)), **kwargs)
    assert str(ember_error.value) == str(torch_error.value)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_rejects_order_options_like_torch(kwargs):
    with pytest.raises(ValueError) as torch_error:
        tdata.DataLoader(Stream(3), **kwargs)
    with pytest.raises(ValueError) as ember_error:
        DataLoader(Stream(3), **kwargs)
    assert str(ember_error.value).split(", but got")[0] == str(torch_error.value).split(", but got")[0]


def test_attributes_frozen_after_init_like_torch():
    for attribute in ("batch_size", "sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=f"{attribute} attribute should not be set after DataLoader is initialized"):
            setattr(DataLoader([1]), attribute, None)
    loader = DataLoader([1])
    loader.num_workers = 0  # other attributes may change


def test_timeout_without_workers_is_rejected_like_torch():
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(tdata.DataLoader([1], timeout=1))
    with pytest.raises(AssertionError, match="requires timeout == 0"):
        iter(DataLoader([1], timeout=1))


def test_pin_memory_is_accepted_with_torchs_warning():
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = [b.tolist() for b in DataLoader([1, 2], batch_size=2, pin_memory=True)]
    assert batches == [[1, 2]]


def test_iterator_len_and_pickling():
    iterator = iter(DataLoader(list(range(5)), batch_size=2))
    assert len(iterator) == 3
    with pytest.raises(NotImplementedError):
        iterator.__getstate__()


def test_worker_number_warning_like_torch():
    with pytest.warns(UserWarning, match="This DataLoader will create 9999 worker processes in total"):
        DataLoader([1], num_workers=9999)


def test_import_is_light():
    import subprocess
    import sys
    code = ("import sys, time; import ember; start = time.perf_counter(); import ember.utils.data; "
            "print(time.perf_counter() - start, 'multiprocessing' in sys.modules)")
    seconds, imported_multiprocessing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                       check=True).stdout.split()
    assert imported_multiprocessing == "False" and float(seconds) < 0.5


def test_torch_loader_of_ember_tensors_is_not_needed():
    # Sanity check of the oracle itself: torch's collate gives the dtypes these tests compare against.
    assert tdata.default_collate([1.0, 2.0]).dtype == torch.float64
