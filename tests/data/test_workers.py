"""DataLoader with worker processes: same batches as in-process loading, seeding, sharding, errors, no hangs and
no leaked processes. Every test runs under a deadline so a hang fails instead of stalling the suite."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import random
import signal
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from tests.data.helpers import deadline, normalize


class Squares(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.full((2,), float(i)), "y": i * i, "arr": np.arange(3) + i}


class WorkerInfoDataset(Dataset):
    """Each sample reports which worker made it, with that worker's seeds and random draws."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.num_workers, info.seed, info.dataset is self, ember.rand(1).item(), np.random.rand(),
                random.random(), os.getpid())


class ShardedRange(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class FailingDataset(Dataset):
    def __init__(self, error, bad_index=3):
        self.error, self.bad_index = error, bad_index

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad_index:
            raise self.error
        return i


class NeedsTwoArgs(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)


class DyingDataset(Dataset):
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 3:
            if self.how == "exit":
                os._exit(7)
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class SlowDataset(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            time.sleep(5)
        return i


def _children():
    pids = set()
    for process in multiprocessing.active_children():
        try:
            pids.add(process.pid)
        except ValueError:  # closed meanwhile (a loader freed by the garbage collector stopped it): not a child
            pass
    return pids


@pytest.fixture(autouse=True)
def _no_leaked_workers():
    before = _children()
    yield
    if _children() - before:
        # An iterator caught in a reference cycle (e.g. through pytest's exception info) stops its workers when
        # the garbage collector frees it.
        gc.collect()
    leaked = _children() - before
    assert not leaked, f"worker processes left running: {leaked}"


@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_workers_give_the_same_batches_in_order(batch_size):
    with deadline(20):
        single = [normalize(b) for b in DataLoader(Squares(), batch_size=batch_size)]
        multi = [normalize(b) for b in DataLoader(Squares(), batch_size=batch_size, num_workers=2)]
    assert multi == single


def test_shuffled_workers_follow_the_generator():
    with deadline(20):
        single = [b.tolist() for b in DataLoader(list(range(12)), batch_size=3, shuffle=True,
                                                  generator=ember.Generator().manual_seed(4))]
        multi = [b.tolist() for b in DataLoader(list(range(12)), batch_size=3, shuffle=True, num_workers=2,
                                                 generator=ember.Generator().manual_seed(4))]
        ember.manual_seed(11)
        seeded = [b.tolist() for b in DataLoader(list(range(12)), batch_size=3, shuffle=True, num_workers=2)]
        ember.manual_seed(11)
        seeded_again = [b.tolist() for b in DataLoader(list(range(12)), batch_size=3, shuffle=True, num_workers=2)]
    assert multi == single and seeded == seeded_again


def test_tensor_dataset_through_workers():
    x = ember.arange(20.0).reshape(10, 2)
    with deadline(20):
        batches = list(DataLoader(TensorDataset(x, ember.arange(10)), batch_size=4, num_workers=2, drop_last=True))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert batches[1][0].dtype == ember.float32 and batches[1][0].tolist()[0] == [8.0, 9.0]


def test_worker_info_and_seeds():
    with deadline(20):
        loader = DataLoader(WorkerInfoDataset(), batch_size=None, num_workers=2,
                            generator=ember.Generator().manual_seed(0))
        samples = list(loader)
        again = list(DataLoader(WorkerInfoDataset(), batch_size=None, num_workers=2,
                                generator=ember.Generator().manual_seed(0)))
    ids = [s[0] for s in samples]
    assert ids == [0, 1, 0, 1]  # tasks go round robin
    assert all(s[1] == 2 and s[3] for s in samples)
    base_seed = samples[0][2]
    assert samples[1][2] == base_seed + 1
    assert [s[4:7] for s in samples] == [s[4:7] for s in again]  # the same generator seed: the same worker streams
    assert samples[0][4] != samples[1][4] and samples[0][5] != samples[1][5] and samples[0][6] != samples[1][6]
    assert samples[0][7] != samples[1][7] != os.getpid()
    ember.manual_seed(0)
    random.seed(base_seed)
    assert samples[0][6] == random.random()  # Python's random is seeded with base_seed + worker_id, as in torch


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        get_worker_info().dataset.offset = 100 * (worker_id + 1)

    class Offset(Dataset):
        offset = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i + self.offset

    with deadline(20):
        values = [int(b) for b in DataLoader(Offset(), batch_size=None, num_workers=2, worker_init_fn=init)]
    assert values == [100, 201, 102, 203]


def test_iterable_dataset_sharded_per_worker():
    with deadline(20):
        values = [int(v) for v in DataLoader(ShardedRange(9), num_workers=2)]
        batched = [b.tolist() for b in DataLoader(ShardedRange(9), num_workers=2, batch_size=2)]
    assert sorted(values) == list(range(9)) and values[:4] == [0, 1, 2, 3]
    assert sorted(sum(batched, [])) == list(range(9))
    assert batched[:2] == [[0, 2], [1, 3]]  # each worker batches its own shard


def test_unsharded_iterable_dataset_duplicates_per_worker_like_torch():
    class Plain(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    with deadline(20):
        assert sorted(int(v) for v in DataLoader(Plain(), num_workers=2)) == [0, 0, 1, 1, 2, 2]


def test_worker_exception_is_reraised_with_type_and_traceback():
    with deadline(20):
        with pytest.raises(ValueError) as error:
            list(DataLoader(FailingDataset(ValueError("sample 3 is corrupt")), batch_size=2, num_workers=2))
    message = str(error.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback (most recent call last):")
    assert "in __getitem__" in message and "raise self.error" in message and "ValueError: sample 3 is corrupt" in message


def test_worker_key_error_and_unconstructible_exception():
    with deadline(20):
        with pytest.raises(KeyError) as key_error:
            list(DataLoader(FailingDataset(KeyError("missing")), num_workers=2))
        with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs in DataLoader worker process"):
            list(DataLoader(FailingDataset(NeedsTwoArgs(1, "x")), num_workers=2))
    assert "Caught KeyError" in repr(key_error.value)  # KeyError's repr keeps the traceback readable


def test_exception_in_worker_init_fn_is_reraised():
    def init(worker_id):
        raise ArithmeticError(f"init of {worker_id} failed")

    with deadline(20):
        with pytest.raises(ArithmeticError, match="Caught ArithmeticError in DataLoader worker process 0"):
            list(DataLoader(list(range(4)), num_workers=2, worker_init_fn=init))


def test_unpicklable_batch_is_an_error_not_a_hang():
    with deadline(20):
        with pytest.raises(Exception, match="in DataLoader worker process 0"):
            list(DataLoader(list(range(4)), batch_size=2, num_workers=2, collate_fn=lambda batch: (lambda: batch)))


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_dead_worker_raises_instead_of_hanging(how):
    with deadline(20):
        start = time.monotonic()
        with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
            list(DataLoader(DyingDataset(how), batch_size=2, num_workers=2))
        assert time.monotonic() - start < 5


def test_timeout_raises_like_torch():
    with deadline(20):
        loader = DataLoader(SlowDataset(), num_workers=2, timeout=0.3)
        start = time.monotonic()
        with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.3 seconds$"):
            list(loader)
        assert time.monotonic() - start < 3


def test_persistent_workers_are_reused_across_epochs():
    with deadline(20):
        loader = DataLoader(list(range(10)), batch_size=3, num_workers=2, persistent_workers=True, shuffle=True,
                            generator=ember.Generator().manual_seed(0))
        first = [b.tolist() for b in loader]
        pids = [w.pid for w in loader._iterator._workers]
        second = [b.tolist() for b in loader]
        assert [w.pid for w in loader._iterator._workers] == pids
        assert all(w.is_alive() for w in loader._iterator._workers)
        assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10)) and first != second
        stream = DataLoader(ShardedRange(5), num_workers=2, persistent_workers=True)
        assert [sorted(int(v) for v in stream) for _ in range(2)] == [list(range(5))] * 2
        del loader, stream


def test_abandoned_iterator_shuts_its_workers_down():
    with deadline(20):
        before = _children()
        iterator = iter(DataLoader(list(range(100)), batch_size=2, num_workers=2))
        next(iterator)
        workers = [w.pid for w in iterator._workers]
        assert set(workers) <= _children()
        del iterator
        gc.collect()
        assert not set(workers) & _children() and _children() <= before


def test_break_out_of_a_loop_shuts_workers_down():
    with deadline(20):
        before = _children()
        for batch in DataLoader(list(range(100)), batch_size=2, num_workers=2):
            break
        gc.collect()
        assert _children() <= before


def test_in_order_false_yields_every_batch():
    with deadline(20):
        batches = [b.tolist() for b in DataLoader(list(range(10)), batch_size=2, num_workers=2, in_order=False)]
    assert sorted(batches) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_prefetch_factor_one_and_single_worker():
    with deadline(20):
        batches = [b.tolist() for b in DataLoader(list(range(7)), batch_size=2, num_workers=1, prefetch_factor=1)]
    assert batches == [[0, 1], [2, 3], [4, 5], [6]]


def test_spawn_context_is_accepted():
    # A plain list as the dataset: the spawned worker then imports only ember, not this test module (and torch).
    with deadline(25):
        loader = DataLoader([np.arange(2) + i for i in range(3)], batch_size=3, num_workers=1,
                            multiprocessing_context="spawn")
        assert [b.tolist() for b in loader] == [[[0, 1], [1, 2], [2, 3]]]


def test_tensors_pickle_as_numpy_arrays():
    t = ember.arange(6.0).reshape(2, 3).t()
    restored = pickle.loads(pickle.dumps(t))
    assert restored.tolist() == t.tolist() and restored.dtype == t.dtype and restored.shape == t.shape
    graded = pickle.loads(pickle.dumps(ember.ones(2, requires_grad=True)))
    assert graded.requires_grad
