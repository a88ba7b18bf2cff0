"""``ember.utils.data``: datasets, samplers and the DataLoader, with ``torch.utils.data``'s API.

>>> from ember.utils.data import DataLoader, TensorDataset
>>> features, labels = ember.arange(8.0).reshape(4, 2), ember.tensor([0, 1, 0, 1])
>>> for x, y in DataLoader(TensorDataset(features, labels), batch_size=2):
...     print(x.shape, y.tolist())
ember.Size([2, 2]) [0, 1]
ember.Size([2, 2]) [0, 1]
"""

from ember.utils.data.dataloader import DataLoader, _DatasetKind, default_collate, default_convert, get_worker_info
from ember.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                                      TensorDataset, random_split)
from ember.utils.data.distributed import DistributedSampler
from ember.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "_DatasetKind", "default_collate",
           "default_convert", "get_worker_info", "random_split"]
