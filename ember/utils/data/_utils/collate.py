"""Collation: merge a list of samples into a batch (``default_collate``), or convert one sample's NumPy arrays
into tensors (``default_convert``), with ``torch.utils.data``'s rules.

>>> from ember.utils.data import default_collate
>>> default_collate([(1, 2.0, "a"), (3, 4.0, "b")])
[tensor([1, 3]), tensor([2., 4.], dtype=ember.float64), ('a', 'b')]
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Callable

import numpy as np

import ember

__all__ = ["default_convert", "default_collate", "collate", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn",
           "collate_str_fn", "default_collate_err_msg_format"]

# NumPy dtype strings of byte strings, unicode strings and Python objects: these can't become tensors.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                                  "dicts or lists; found {}")


def default_convert(data):
    """Convert the NumPy arrays and NumPy scalars in one sample into tensors, recursing into mappings,
    namedtuples and sequences (tuples become lists, as in PyTorch); anything else is returned unchanged.

    >>> from ember.utils.data import default_convert
    >>> default_convert({"x": np.array([0, 1]), "name": "a", "n": 3})
    {'x': tensor([0, 1]), 'name': 'a', 'n': 3}
    >>> default_convert((np.float32(1.5), 2))
    [tensor(1.5000), 2]
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                # A copy keeps whatever extra state the mapping type carries, which elem_type(...) would lose.
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            # Sequences such as range can be neither copied-and-assigned nor built from a list.
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate a batch, dispatching on the first element's type through ``collate_fn_map`` (exact type first,
    then ``isinstance`` in insertion order) and recursing into mappings, namedtuples and sequences.

    >>> from ember.utils.data._utils.collate import collate
    >>> collate([[1, 2], [3, 4]], collate_fn_map={int: lambda batch, *, collate_fn_map: sum(batch)})
    [4, 6]
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(other) == elem_size for other in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map: dict | None = None):
    """Stack same-shaped tensors along a new first dimension.

    >>> collate_tensor_fn([ember.zeros(2), ember.ones(2)])
    tensor([[0., 0.],
            [1., 1.]])
    """
    return ember.stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map: dict | None = None):
    """Turn NumPy arrays into tensors and collate those; string and object arrays raise TypeError.

    >>> collate_numpy_array_fn([np.zeros(2, np.float32), np.ones(2, np.float32)], collate_fn_map=default_collate_fn_map)
    tensor([[0., 0.],
            [1., 1.]])
    """
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map: dict | None = None):
    """NumPy scalars become one tensor of their dtype.

    >>> collate_numpy_scalar_fn([np.int32(1), np.int32(2)]).dtype
    ember.int32
    """
    return ember.as_tensor(list(batch))


def collate_float_fn(batch, *, collate_fn_map: dict | None = None):
    """Python floats become a float64 tensor (they are double precision).

    >>> collate_float_fn([0.5, 1.5])
    tensor([0.5000, 1.5000], dtype=ember.float64)
    """
    return ember.tensor(list(batch), dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map: dict | None = None):
    """Python ints become an int64 tensor (bools, a subclass of int, a bool tensor).

    >>> collate_int_fn([1, 2]), collate_int_fn([True, False])
    (tensor([1, 2]), tensor([ True, False]))
    """
    return ember.tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map: dict | None = None):
    """Strings and bytes are kept as they are: the batch is returned unchanged.

    >>> collate_str_fn(["a", "b"])
    ['a', 'b']
    """
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    ember.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Merge a list of samples into a batch, with PyTorch's rules: tensors are stacked along a new first
    dimension; NumPy arrays and scalars become tensors of their dtype; Python floats a float64 tensor, ints an
    int64 tensor, bools a bool tensor; strings and bytes stay a list; mappings, namedtuples and sequences are
    collated field by field (tuples give lists).

    >>> from collections import namedtuple
    >>> from ember.utils.data import default_collate
    >>> default_collate([{"x": ember.zeros(2), "y": 1}, {"x": ember.ones(2), "y": 2}])
    {'x': tensor([[0., 0.],
            [1., 1.]]), 'y': tensor([1, 2])}
    >>> Point = namedtuple("Point", ["x", "y"])
    >>> default_collate([Point(0, 0.5), Point(1, 1.5)])
    Point(x=tensor([0, 1]), y=tensor([0.5000, 1.5000], dtype=ember.float64))
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
