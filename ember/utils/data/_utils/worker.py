"""The DataLoader worker process: its loop, its seeding, ``get_worker_info()``, and how its exceptions travel
back to the main process.

>>> from ember.utils.data import get_worker_info
>>> get_worker_info() is None  # in the main process
True
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

import ember
from ember.utils.data._utils.fetch import _DatasetKind

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper", "KeyErrorMessage"]

MP_STATUS_CHECK_INTERVAL = 5.0
"""Seconds between checks that the other side (the main process, or a worker) is still alive."""


class KeyErrorMessage(str):
    """A str whose repr is itself: KeyError shows ``repr(arg)``, which would print a traceback as one line.

    >>> print(repr(KeyErrorMessage("a\\nb")))
    a
    b
    """

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, picklable, so a worker can send it to the main process;
    ``reraise()`` raises the same type there with the worker's traceback in the message.

    >>> try:
    ...     raise ValueError("bad sample")
    ... except ValueError:
    ...     wrapper = ExceptionWrapper(where="in DataLoader worker process 0")
    >>> try:
    ...     wrapper.reraise()
    ... except ValueError as error:
    ...     print(str(error).splitlines()[0])
    Caught ValueError in DataLoader worker process 0.
    """

    def __init__(self, exc_info=None, where: str = "in background"):
        # Keep only the formatted text: holding the traceback object would keep every frame's locals alive.
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_type_name = self.exc_type.__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def __getstate__(self):
        state = dict(self.__dict__)
        # A type the main process can't import (a class defined inside a function) would make the whole message
        # unpicklable; RuntimeError then carries it, with the original type's name in the text.
        try:
            import pickle
            pickle.dumps(self.exc_type)
        except Exception:
            state["exc_type"] = RuntimeError
        return state

    def reraise(self):
        """Raise the wrapped exception's type in this process with the original traceback in its message."""
        msg = f"Caught {self.exc_type_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # Exception types whose constructor takes other arguments can't be rebuilt from a message.
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            # The local would tie the exception to this frame's traceback in a cycle that keeps the DataLoader
            # iterator (and its worker processes) alive until the garbage collector runs.
            del exception


@dataclass(frozen=True)
class WorkerInfo:
    """What a DataLoader worker knows about itself (see :func:`get_worker_info`).

    >>> info = WorkerInfo(id=0, num_workers=2, seed=7, dataset=[1, 2])
    >>> info.id, info.num_workers, info.seed
    (0, 2, 7)
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its :class:`WorkerInfo` (``id``, ``num_workers``, ``seed``, and
    ``dataset``, this process's copy of the dataset); ``None`` in the main process. Use it in an
    ``IterableDataset.__iter__`` or a ``worker_init_fn`` to give each worker its own share of the data.

    >>> from ember.utils.data import get_worker_info
    >>> print(get_worker_info())
    None
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """Sent by a worker whose IterableDataset copy is exhausted."""
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch: rebuild the fetcher and acknowledge."""
    seed: int | None = None


class ManagerWatchdog:
    """Tells a worker whether the main process still lives (a fork child is re-parented when its parent dies).

    >>> ManagerWatchdog().is_alive()
    True
    """

    def __init__(self) -> None:
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self) -> bool:
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """Four 32-bit words to seed NumPy's legacy generator in a worker, from NumPy's SeedSequence hashing (as
    PyTorch does), so NumPy's stream differs from Python's ``random`` seeded with the same number.

    >>> _generate_state(0, 0) != _generate_state(0, 1)
    True
    """
    mask32 = 0xFFFFFFFF
    shift = 16
    mult_a, mult_b = 0x931E8875, 0x58F38DED
    mix_l, mix_r = 0xCA01F9DD, 0x4973F715
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    hash_const = [0x43B0D7E5]

    def hash_value(value):
        value = (value ^ hash_const[0]) & mask32
        hash_const[0] = (hash_const[0] * mult_a) & mask32
        value = (value * hash_const[0]) & mask32
        return (value ^ (value >> shift)) & mask32

    def mix(x, y):
        result = (((mix_l * x) & mask32) - ((mix_r * y) & mask32)) & mask32
        return (result ^ (result >> shift)) & mask32

    pool = [hash_value(value) for value in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_value(pool[i_src]))
    out_const = 0x8B51F9DD
    state = []
    for value in pool:
        value = (value ^ out_const) & mask32
        out_const = (out_const * mult_b) & mask32
        value = (value * out_const) & mask32
        state.append((value ^ (value >> shift)) & mask32)
    return state


def _put(data_queue, message, worker_id: int) -> None:
    try:
        data_queue.put(message)
    except (BrokenPipeError, ConnectionError, EOFError):
        raise
    except Exception:
        # The batch could not be pickled; it must not vanish silently, or the main process would wait for it.
        data_queue.put((message[0], ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")))


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
                 base_seed, init_fn, worker_id, num_workers, persistent_workers, shared_seed) -> None:
    """A worker's life: seed, run ``init_fn``, then fetch batches for the indices the main process sends until
    it sends ``None``, the main process dies, or the iterator shuts down."""
    try:
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # Set once this worker's IterableDataset copy is exhausted: later tasks are skipped until None arrives.
        iteration_end = False
        watchdog = ManagerWatchdog()
        while watchdog.is_alive():
            try:
                task = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(task, _ResumeIteration):
                data_queue.put((task, None))
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = task
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as error:
                    if isinstance(error, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            _put(data_queue, (idx, data), worker_id)
            del data, idx, index, task
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole process group; the main process raises KeyboardInterrupt itself.
        pass
    except (BrokenPipeError, ConnectionError, EOFError):
        # The main process has gone away.
        pass
