"""Shared helpers for the data tests: comparing ember and torch outputs, and guarding tests against hangs."""

from __future__ import annotations

import collections.abc
import contextlib
import signal

import numpy as np
import torch

import ember


def normalize(value):
    """A structure comparable across frameworks: tensors become (dtype name, shape, values); containers keep
    their type."""
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        return ("tensor", str(value.dtype).rsplit(".", 1)[-1], tuple(value.shape), value.detach().numpy().tolist())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    if isinstance(value, collections.abc.Mapping):
        return (type(value), {key: normalize(item) for key, item in value.items()})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value), tuple(normalize(item) for item in value))
    if isinstance(value, (list, tuple)):
        return (type(value), [normalize(item) for item in value])
    return (type(value), value)


def to_torch(value):
    """The same sample with ember tensors replaced by torch tensors (for feeding torch's collate)."""
    if isinstance(value, ember.Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return type(value)({key: to_torch(item) for key, item in value.items()})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(to_torch(item) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(item) for item in value)
    return value


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail the test with TimeoutError instead of hanging if the block takes longer than ``seconds``."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded its {seconds} s deadline (a DataLoader hang?)")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
