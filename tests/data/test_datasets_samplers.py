"""Datasets, random_split and samplers against torch.utils.data where the result is deterministic."""

from __future__ import annotations

import itertools
import warnings

import pytest
import torch
import torch.utils.data as tdata

import ember
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, Dataset, DistributedSampler, IterableDataset,
                              RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                              TensorDataset, WeightedRandomSampler, random_split)


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def _raises_like_torch(torch_call, ember_call, error_type=Exception):
    with pytest.raises(error_type) as torch_error:
        torch_call()
    with pytest.raises(type(torch_error.value)) as ember_error:
        ember_call()
    # Ember may add detail (the offending values) after torch's message.
    assert str(ember_error.value).startswith(str(torch_error.value))


# ----------------------------------------------------------------------------------------------- datasets
def test_tensor_dataset():
    x, y = ember.arange(12.0).reshape(4, 3), ember.tensor([0, 1, 0, 1])
    data = TensorDataset(x, y)
    assert len(data) == 4
    row, label = data[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 0
    assert data[1:3][0].shape == (2, 3)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ember.zeros(3), ember.zeros(4))
    with pytest.raises(IndexError, match="at least one tensor"):
        TensorDataset()


def test_stack_dataset():
    assert StackDataset([1, 2], "ab")[1] == (2, "b")
    assert StackDataset(x=[1, 2], y="ab")[0] == {"x": 1, "y": "a"}
    assert StackDataset(Subset("abc", [2, 0]), [1, 2]).__getitems__([1, 0]) == [("a", 2), ("c", 1)]
    assert StackDataset(k=Subset("abc", [2, 0])).__getitems__([0]) == [{"k": "c"}]
    assert len(StackDataset([1, 2, 3])) == 3
    for args, kwargs in [(([1], [1, 2]), {}), ((), {"a": [1], "b": [1, 2]}), (([1],), {"a": [1]}), ((), {})]:
        _raises_like_torch(lambda: tdata.StackDataset(*args, **kwargs), lambda: StackDataset(*args, **kwargs), ValueError)


def test_concat_dataset_matches_torch():
    parts = [list(range(3)), list(range(10, 12)), [], list(range(20, 24))]
    ours, theirs = ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-len(ours), len(ours))] == [theirs[i] for i in range(-len(theirs), len(theirs))]
    _raises_like_torch(lambda: theirs[-100], lambda: ours[-100], ValueError)
    _raises_like_torch(lambda: tdata.ConcatDataset([]), lambda: ConcatDataset([]), AssertionError)
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Count(2)])
    with pytest.warns(FutureWarning):
        assert ours.cummulative_sizes == ours.cumulative_sizes


def test_dataset_add_operators():
    class Letters(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return "ab"[i]

    joined = Letters() + Letters()
    assert isinstance(joined, ConcatDataset) and [joined[i] for i in range(4)] == ["a", "b", "a", "b"]
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_chain_dataset_rejects_map_datasets():
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([[1, 2]]))


def test_subset():
    part = Subset("abcdef", [5, 1, 3])
    assert len(part) == 3 and part[0] == "f" and part.__getitems__([2, 0]) == ["d", "f"]
    nested = Subset(part, [2, 0])
    assert nested.__getitems__([0, 1]) == ["d", "f"]

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        class Doubled(Subset):
            def __getitem__(self, idx):
                return 2 * super().__getitem__(idx)
        Doubled([1, 2], [0])


def test_random_split_lengths_match_torch():
    cases = [[3, 7], [0.3, 0.3, 0.4], [0.34, 0.33, 0.33], [0.5, 0.5], [1.0], [0.1] * 10, [10, 0]]
    for lengths in cases:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            theirs = tdata.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
            ours = random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
        assert [len(p) for p in ours] == [len(p) for p in theirs]
        assert sorted(itertools.chain.from_iterable(ours)) == list(range(10))


def test_random_split_is_reproducible():
    first = [list(p) for p in random_split(range(20), [5, 15], generator=ember.Generator().manual_seed(3))]
    again = [list(p) for p in random_split(range(20), [5, 15], generator=ember.Generator().manual_seed(3))]
    other = [list(p) for p in random_split(range(20), [5, 15], generator=ember.Generator().manual_seed(4))]
    assert first == again and first != other
    ember.manual_seed(7)
    default_first = [list(p) for p in random_split(range(20), [0.5, 0.5])]
    ember.manual_seed(7)
    assert default_first == [list(p) for p in random_split(range(20), [0.5, 0.5])]


def test_random_split_errors_and_warnings_match_torch():
    _raises_like_torch(lambda: tdata.random_split(range(10), [3, 3]), lambda: random_split(range(10), [3, 3]), ValueError)
    with pytest.raises(ValueError) as torch_error:
        tdata.random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError) as ember_error:
        random_split(range(10), [1.5, -0.5])
    assert str(ember_error.value) == str(torch_error.value)
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(3), [1.0, 0.0])


# ----------------------------------------------------------------------------------------------- samplers
def test_sequential_and_batch_samplers_match_torch():
    for n, batch_size, drop_last in itertools.product([0, 1, 7, 9], [1, 3, 9, 10], [False, True]):
        ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(SequentialSampler("abc")) == [0, 1, 2] and len(SequentialSampler("abc")) == 3


@pytest.mark.parametrize("kwargs", [{"batch_size": 0, "drop_last": False}, {"batch_size": True, "drop_last": False},
                                    {"batch_size": 2.0, "drop_last": False}, {"batch_size": 2, "drop_last": 1}])
def test_batch_sampler_errors_match_torch(kwargs):
    _raises_like_torch(lambda: tdata.BatchSampler(range(3), **kwargs), lambda: BatchSampler(range(3), **kwargs), ValueError)


def test_random_sampler_permutations_and_reproducibility():
    ours = list(RandomSampler(range(10), generator=ember.Generator().manual_seed(1)))
    assert sorted(ours) == list(range(10))
    assert ours == list(RandomSampler(range(10), generator=ember.Generator().manual_seed(1)))
    generator = ember.Generator().manual_seed(1)
    sampler = RandomSampler(range(10), generator=generator)
    assert list(sampler) != list(sampler)  # the generator advances: each epoch differs
    ember.manual_seed(5)
    default_order = list(RandomSampler(range(10)))
    ember.manual_seed(5)
    assert default_order == list(RandomSampler(range(10)))


def test_random_sampler_num_samples_and_replacement():
    longer = list(RandomSampler(range(4), num_samples=10))
    assert len(longer) == 10 and sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]
    assert len(RandomSampler(range(4), num_samples=10)) == len(tdata.RandomSampler(range(4), num_samples=10)) == 10
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=70))
    assert len(drawn) == 70 and set(drawn) <= {0, 1, 2}
    assert len(list(RandomSampler(range(3), replacement=True))) == 3


@pytest.mark.parametrize("kwargs, error", [({"replacement": 1}, TypeError), ({"num_samples": 0}, ValueError),
                                           ({"num_samples": 2.5}, ValueError)])
def test_random_sampler_errors_match_torch(kwargs, error):
    _raises_like_torch(lambda: tdata.RandomSampler(range(3), **kwargs), lambda: RandomSampler(range(3), **kwargs), error)
    _raises_like_torch(lambda: tdata.RandomSampler([]), lambda: RandomSampler([]), ValueError)


def test_subset_random_sampler():
    indices = [10, 20, 30, 40]
    drawn = list(SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(0)))
    assert sorted(drawn) == indices and len(SubsetRandomSampler(indices)) == 4
    assert drawn == list(SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(0)))


def test_weighted_random_sampler():
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=ember.Generator().manual_seed(0)))
    assert set(drawn) == {1, 3} and drawn.count(3) > drawn.count(1)
    without = list(WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False))
    assert sorted(without) == [0, 1, 2, 3]
    sampler = WeightedRandomSampler([1, 2], 5)
    assert len(sampler) == 5 and sampler.weights.dtype == ember.float64


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], True), ([1.0, 2.0], 2, 1), ([[1.0, 2.0]], 2)])
def test_weighted_random_sampler_errors_match_torch(args):
    _raises_like_torch(lambda: tdata.WeightedRandomSampler(*args), lambda: WeightedRandomSampler(*args), ValueError)


@pytest.mark.parametrize("n, replicas, drop_last", list(itertools.product([1, 5, 8, 10, 11], [1, 2, 3, 4], [False, True])))
def test_distributed_sampler_partitioning_matches_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = tdata.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert (len(ours), ours.num_samples, ours.total_size) == (len(theirs), theirs.num_samples, theirs.total_size)


def test_distributed_sampler_padding_beyond_dataset_matches_torch():
    for rank in range(5):
        ours = DistributedSampler(range(2), num_replicas=5, rank=rank, shuffle=False)
        theirs = tdata.DistributedSampler(range(2), num_replicas=5, rank=rank, shuffle=False)
        assert list(ours) == list(theirs)


def test_distributed_sampler_shuffle():
    def shards(epoch, seed=0):
        samplers = [DistributedSampler(range(10), num_replicas=3, rank=r, seed=seed) for r in range(3)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(s) for s in samplers]

    epoch0 = shards(0)
    assert sorted(set(itertools.chain.from_iterable(epoch0))) == list(range(10))
    assert [len(s) for s in epoch0] == [4, 4, 4]
    assert shards(0) == epoch0 and shards(1) != epoch0 and shards(0, seed=1) != epoch0


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match="distributed training is not initialised"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="num_replicas= and rank="):
        DistributedSampler(range(4), num_replicas=2)
    _raises_like_torch(lambda: tdata.DistributedSampler(range(4), num_replicas=2, rank=2),
                       lambda: DistributedSampler(range(4), num_replicas=2, rank=2), ValueError)
    _raises_like_torch(lambda: tdata.DistributedSampler(range(4), num_replicas=2, rank=-1),
                       lambda: DistributedSampler(range(4), num_replicas=2, rank=-1), ValueError)
