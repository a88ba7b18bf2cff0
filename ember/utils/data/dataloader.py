"""``DataLoader``: iterate a dataset in (optionally shuffled) batches, loading in the main process or in worker
processes, with ``torch.utils.data.DataLoader``'s options and semantics.

Worker processes (``num_workers > 0``) are forked on Linux (``multiprocessing_context`` picks another start
method). Each gets the seed ``base_seed + worker_id`` for ember, ``random`` and NumPy; batches come back in
order (unless ``in_order=False``) as pickled NumPy data. A worker's exception is raised again in the main
process with the worker's traceback; a worker that dies raises ``RuntimeError`` instead of hanging; the workers
stop when the iterator is exhausted, garbage-collected, or the main process exits.

>>> from ember.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(ember.arange(5.0)), batch_size=2)
>>> len(loader), [batch[0].tolist() for batch in loader]
(3, [[0.0, 1.0], [2.0, 3.0], [4.0]])
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import time
import warnings
from typing import Any, Callable, Generic, Iterable, TypeVar

import ember
from ember.utils.data import _utils
from ember.utils.data._utils.collate import default_collate, default_convert
from ember.utils.data._utils.fetch import _DatasetKind
from ember.utils.data._utils.worker import ExceptionWrapper, get_worker_info
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

_T_co = TypeVar("_T_co", covariant=True)


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the "indices" of an IterableDataset, which ignores them."""

    def __iter__(self):
        while True:
            yield None


def _base_seed(generator) -> int:
    return int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())


def _cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[_T_co]):
    """Iterate over ``dataset`` in batches.

    Arguments (as ``torch.utils.data.DataLoader``): ``batch_size`` (``None`` turns batching off: samples come one
    by one, through ``default_convert``), ``shuffle`` (a new random order every epoch, from ``generator`` or the
    default generator), ``sampler`` / ``batch_sampler`` (custom orders; mutually exclusive with the options they
    replace), ``num_workers`` (worker processes; 0 loads in the main process), ``collate_fn``, ``pin_memory``
    (accepted; there is no accelerator to pin for), ``drop_last``, ``timeout`` (seconds to wait for a worker's
    batch before ``RuntimeError``), ``worker_init_fn(worker_id)``, ``multiprocessing_context``, ``generator``,
    ``prefetch_factor`` (batches in flight per worker, default 2), ``persistent_workers`` (keep the workers between
    epochs) and ``in_order`` (``False`` yields batches as they arrive).

    ``len(loader)`` is the number of batches from the sampler; for an IterableDataset it is estimated from
    ``len(dataset)``, and a warning says so if more batches arrive.

    >>> from ember.utils.data import DataLoader
    >>> _ = ember.manual_seed(0)
    >>> loader = DataLoader(list(range(6)), batch_size=4, shuffle=True, drop_last=True)
    >>> [sorted(batch.tolist()) != [] for batch in loader], len(loader)
    ([True], 1)
    >>> [batch.tolist() for batch in DataLoader(list(range(6)), batch_size=3, num_workers=2)]
    [[0, 1, 2], [3, 4, 5]]
    """

    __initialized = False

    def __init__(self, dataset: Dataset[_T_co], batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
                             "enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        # The length len(loader) reported for an IterableDataset, to warn when more batches than that arrive.
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                import multiprocessing
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                         f"{valid_start_methods!r}, but got "
                                         f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                    f"specifying the start method, but got "
                                    f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> _BaseDataLoaderIter:
        """A new iterator over the batches (with ``persistent_workers``, the same one, reset for a new epoch)."""
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # An estimate: each worker's copy of the dataset decides how many samples it really yields.
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when ``num_workers`` exceeds the CPUs this process may use (more only adds contention).

        >>> DataLoader([1], num_workers=0).check_worker_number_rationality()
        """
        if not self.num_workers:
            return
        suggested = _cpu_count()
        if suggested is None or self.num_workers > suggested:
            cpuset_checked = hasattr(os, "sched_getaffinity")
            if suggested is not None:
                detail = (f"Our suggested max number of worker in current system is {suggested}"
                          f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, which is smaller than "
                          "what this DataLoader is going to create.")
            else:
                detail = "DataLoader is not able to compute a suggested max number of worker in current system."
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {detail} Please be "
                          "aware that excessive worker creation might get DataLoader running slow or even freeze, lower "
                          "the worker number to avoid potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._shared_seed = None
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be used as the device,ignore "
                          f"pin_memory_device='{loader.pin_memory_device}'.", stacklevel=3)
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                          "won't be used.", stacklevel=3)
        self._pin_memory = False
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _base_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            message = (f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                       f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                            "IterableDataset replica at each worker. Please see "
                            "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError(f"_SingleProcessDataLoaderIter requires timeout == 0 (got timeout={self._timeout}): the "
                                 "timeout only applies to worker processes, so set num_workers > 0 or timeout=0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                                            self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._dataset_fetcher.fetch(index)


# Worker processes and queues of every live multi-process iterator, keyed by id(iterator). The iterator often ends
# up in a reference cycle (through an exception's traceback); without this reference the garbage collector would
# collect its queues together with it and run their finalizers first, stopping the feeder thread that has to send
# the workers their stop signal from the iterator's __del__.
_LIVE_WORKER_RESOURCES: dict[int, tuple] = {}


def _default_context():
    import multiprocessing
    # Fork starts workers fast and needs nothing picklable; macOS and Windows use their (spawn) default.
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates once over the dataset with worker processes.

    The main process sends ``(task_idx, indices)`` to the workers round robin through one index queue per worker,
    keeping at most ``prefetch_factor * num_workers`` tasks outstanding, and reads ``(task_idx, data)`` back from
    one result queue, holding out-of-order results in ``_task_info`` until their turn. The result queue is a
    ``SimpleQueue``: workers pickle synchronously, so an unpicklable batch becomes an error instead of being
    dropped by a feeder thread, and the main process waits on the queue's pipe together with the workers' process
    sentinels, so a dead worker is noticed at once rather than by polling.
    """

    def __init__(self, loader) -> None:
        super().__init__(loader)
        from multiprocessing import connection
        self._wait = connection.wait
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise ValueError(f"prefetch_factor must be positive with num_workers > 0, got {self._prefetch_factor}")
        context = loader.multiprocessing_context or _default_context()
        _utils._register_python_exit_flag()
        self._worker_init_fn = loader.worker_init_fn
        self._shutdown = False
        self._workers = []
        self._index_queues = []
        self._worker_result_queue = context.SimpleQueue()
        self._workers_done_event = context.Event()
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                # Indices are tiny; never block interpreter exit on flushing them to a worker that is gone.
                index_queue.cancel_join_thread()
                worker = context.Process(
                    target=_utils.worker._worker_loop,
                    args=(self._dataset_kind, self._dataset, index_queue, self._worker_result_queue,
                          self._workers_done_event, self._auto_collation, self._collate_fn, self._drop_last,
                          self._base_seed, self._worker_init_fn, worker_id, self._num_workers,
                          self._persistent_workers, self._shared_seed),
                    daemon=True)
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self._workers_status = [True] * len(self._workers)
            self._shutdown_workers()
            raise
        _LIVE_WORKER_RESOURCES[id(self)] = (self._workers, self._index_queues, self._worker_result_queue,
                                            self._workers_done_event)
        self._data_queue = self._worker_result_queue
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        # task index -> (worker_id,) while outstanding, (worker_id, data) once it arrived out of order.
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True for _ in range(self._num_workers)]
        self._workers_num_tasks = [0 for _ in range(self._num_workers)]
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for index_queue in self._index_queues:
                index_queue.put(_utils.worker._ResumeIteration(self._shared_seed))
            resume_iteration_cnt = self._num_workers
            while resume_iteration_cnt > 0:
                return_idx, return_data = self._get_data()
                if isinstance(return_idx, _utils.worker._ResumeIteration):
                    resume_iteration_cnt -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout=_utils.MP_STATUS_CHECK_INTERVAL):
        if self._shutdown:
            raise RuntimeError("DataLoader: this iterator's worker processes have been shut down (after an earlier "
                               "error); start a new iteration with iter(loader)")
        reader = self._data_queue._reader
        active = [w.sentinel for worker_id, w in enumerate(self._workers) if self._workers_status[worker_id]]
        if not active and not reader.poll():
            raise RuntimeError("DataLoader: batches are outstanding but no worker process is left to produce them")
        ready = self._wait([reader, *active], timeout)
        if reader in ready:
            return True, self._data_queue.get()
        failed_workers = []
        for worker_id, w in enumerate(self._workers):
            if self._workers_status[worker_id] and not w.is_alive():
                failed_workers.append(w)
                self._mark_worker_as_unavailable(worker_id)
        if failed_workers:
            pids = ", ".join(str(w.pid) for w in failed_workers)
            codes = ", ".join(str(w.exitcode) for w in failed_workers)
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit code(s) {codes}); a "
                               "worker that is killed (e.g. out of memory) or calls os._exit loses its batch. Rerun "
                               "with num_workers=0 to see the error in the main process.")
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if success:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self):
        while True:
            # Skip tasks of workers that stopped (an exhausted IterableDataset copy) without sending data.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx, None)
                if info:
                    worker_id = info[0]
                    if len(info) == 2 or self._workers_status[worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable:
                if isinstance(data, _utils.worker._IterableDatasetStopIteration):
                    if self._persistent_workers:
                        self._workers_status[data.worker_id] = False
                    else:
                        self._mark_worker_as_unavailable(data.worker_id)
                    self._try_put_index()
                    continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(idx)[0]
                    return self._process_data(data, worker_id)
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                if self._in_order:
                    break
                if self._workers_num_tasks[worker_queue_idx] < max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._workers_num_tasks[worker_queue_idx] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_idx):
        self._workers_num_tasks[worker_idx] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False) -> None:
        # The worker exits once it reads None (or is terminated at shutdown if it is stuck).
        try:
            self._index_queues[worker_id].put(None)
        except (OSError, ValueError):
            pass
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        if _utils is None or _utils.python_exit_status is True or _utils.python_exit_status is None:
            return
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for worker_id in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[worker_id]:
                    self._mark_worker_as_unavailable(worker_id, shutdown=True)
            # Workers blocked writing a result into the pipe can only exit once it is read: drain while they stop.
            reader = self._worker_result_queue._reader
            deadline = time.monotonic() + _utils.SHUTDOWN_GRACE_PERIOD
            while time.monotonic() < deadline:
                alive = [w.sentinel for w in self._workers if w.is_alive()]
                if not alive:
                    break
                if reader in self._wait([reader, *alive], deadline - time.monotonic()):
                    reader.recv_bytes()
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_utils.MP_STATUS_CHECK_INTERVAL)
            for w in self._workers:
                if w.exitcode is not None:
                    w.close()
            _LIVE_WORKER_RESOURCES.pop(id(self), None)

    def __del__(self) -> None:
        if getattr(self, "_workers", None) is not None:
            self._shutdown_workers()
