"""``DistributedSampler``: give each of ``num_replicas`` processes its own equal share of a dataset.

>>> from ember.utils.data import DistributedSampler
>>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
[[0, 2, 4], [1, 3, 0]]
"""

from __future__ import annotations

import math
from typing import Iterator, TypeVar

import ember
from ember.utils.data.dataset import Dataset
from ember.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

_T_co = TypeVar("_T_co", covariant=True)


def _distributed_default(what: str) -> int:
    """World size or rank from an initialised ``ember.distributed`` process group, else a clear error."""
    try:
        import ember.distributed as dist
        initialized = dist.is_available() and dist.is_initialized()
    except (ImportError, AttributeError, NotImplementedError):
        dist, initialized = None, False
    if not initialized:
        argument = "num_replicas" if what == "world_size" else "rank"
        raise ValueError(f"DistributedSampler: {argument} was not given and distributed training is not initialised "
                         "(no default process group). Pass num_replicas= and rank= explicitly, or call "
                         "ember.distributed.init_process_group() first.")
    return dist.get_world_size() if what == "world_size" else dist.get_rank()


class DistributedSampler(Sampler[_T_co]):
    """Indices for replica ``rank`` of ``num_replicas``: the (optionally shuffled) index list is padded by
    repeating its start (or, with ``drop_last``, cut) to a multiple of ``num_replicas``, and replica ``r`` takes
    every ``num_replicas``-th index from position ``r``. The shuffle depends on ``seed + epoch`` only, so every
    replica agrees; call ``set_epoch`` at the start of each epoch for a new order.

    >>> from ember.utils.data import DistributedSampler
    >>> sampler = DistributedSampler(range(7), num_replicas=3, rank=1, shuffle=False, drop_last=True)
    >>> list(sampler), len(sampler)
    ([1, 4], 2)
    >>> sampler = DistributedSampler(range(8), num_replicas=2, rank=0, seed=1)
    >>> sampler.set_epoch(3); first = list(sampler); sampler.set_epoch(3)
    >>> list(sampler) == first
    True
    """

    def __init__(self, dataset: Dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _distributed_default("world_size")
        if rank is None:
            rank = _distributed_default("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # Round down so that every replica gets the same number of samples.
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[_T_co]:
        if self.shuffle:
            generator = ember.Generator().manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=generator).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which (with ``seed``) decides the shuffle; the same epoch gives the same order.

        >>> from ember.utils.data import DistributedSampler
        >>> sampler = DistributedSampler(range(4), num_replicas=1, rank=0)
        >>> sampler.set_epoch(2); sampler.epoch
        2
        """
        self.epoch = epoch
