"""default_collate / default_convert against torch.utils.data's on every structure and error."""

from __future__ import annotations

import collections
import types

import numpy as np
import pytest
import torch.utils.data as tdata

import ember
from ember.utils.data import default_collate, default_convert
from ember.utils.data._utils import collate as ember_collate_module
from tests.data.helpers import normalize, to_torch

Point = collections.namedtuple("Point", ["x", "y"])


class MyList(list):
    pass


class Opaque:
    pass


def _arrays(*dtypes):
    rng = np.random.default_rng(0)
    return [[(rng.standard_normal((2, 3)) * 10).astype(dtype) for _ in range(3)] for dtype in dtypes]


COLLATE_BATCHES = {
    "tensor_float32": [ember.tensor(a) for a in _arrays(np.float32)[0]],
    "tensor_float64": [ember.tensor(a) for a in _arrays(np.float64)[0]],
    "tensor_float16": [ember.tensor(a) for a in _arrays(np.float16)[0]],
    "tensor_int64": [ember.tensor(a) for a in _arrays(np.int64)[0]],
    "tensor_int32": [ember.tensor(a) for a in _arrays(np.int32)[0]],
    "tensor_uint8": [ember.tensor(a) for a in _arrays(np.uint8)[0]],
    "tensor_bool": [ember.tensor(a > 0) for a in _arrays(np.float32)[0]],
    "tensor_0d": [ember.tensor(1.5), ember.tensor(2.5)],
    "tensor_empty": [ember.zeros(0, 2), ember.zeros(0, 2)],
    "tensor_noncontiguous": [ember.arange(12.0).reshape(3, 4).t(), ember.arange(12.0).reshape(3, 4).t()],
    "ndarray_float32": _arrays(np.float32)[0],
    "ndarray_float64": _arrays(np.float64)[0],
    "ndarray_int8": _arrays(np.int8)[0],
    "ndarray_int16": _arrays(np.int16)[0],
    "ndarray_bool": [np.array([True, False]), np.array([False, False])],
    "ndarray_0d": [np.array(1.0), np.array(2.0)],
    "np_scalar_float32": [np.float32(1.5), np.float32(2)],
    "np_scalar_float64": [np.float64(1.5), np.float64(2)],
    "np_scalar_int32": [np.int32(1), np.int32(2)],
    "np_scalar_int64": [np.int64(1), np.int64(2)],
    "np_scalar_uint8": [np.uint8(1), np.uint8(2)],
    "np_scalar_bool": [np.bool_(True), np.bool_(False)],
    "python_int": [1, 2, 3],
    "python_float": [1.0, 2.5],
    "python_bool": [True, False],
    "python_int_then_float": [1, 2.5],
    "str": ["a", "bc"],
    "bytes": [b"a", b"bc"],
    "dict": [{"x": 1, "y": 2.0, "name": "a"}, {"x": 3, "y": 4.0, "name": "b"}],
    "ordered_dict": [collections.OrderedDict(b=1, a=np.float32(2)), collections.OrderedDict(b=3, a=np.float32(4))],
    "mapping_proxy": [types.MappingProxyType({"k": 1}), types.MappingProxyType({"k": 2})],
    "namedtuple": [Point(1, 2.0), Point(3, 4.0)],
    "namedtuple_of_tensors": [Point(ember.zeros(2), 1), Point(ember.ones(2), 2)],
    "tuple": [(1, 2.0, "a"), (3, 4.0, "b")],
    "list": [[1, 2], [3, 4]],
    "list_subclass": [MyList([1, 2]), MyList([3, 4])],
    "range": [range(2), range(2, 4)],
    "nested": [{"a": (ember.zeros(2), [1, 2]), "b": {"c": np.int16(3)}},
               {"a": (ember.ones(2), [3, 4]), "b": {"c": np.int16(5)}}],
    "tensor_pair_from_dataset": [(ember.tensor([1.0, 2.0]), ember.tensor(0)), (ember.tensor([3.0, 4.0]), ember.tensor(1))],
}


@pytest.mark.parametrize("name", list(COLLATE_BATCHES))
def test_default_collate_matches_torch(name):
    batch = COLLATE_BATCHES[name]
    expected = tdata.default_collate(to_torch(batch))
    assert normalize(default_collate(batch)) == normalize(expected)


COLLATE_ERRORS = {
    "ragged_tensors": ([ember.zeros(2), ember.zeros(3)], RuntimeError,
                       "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"),
    "ragged_ndarrays": ([np.zeros(2), np.zeros(3)], RuntimeError, "stack expects each tensor to be equal size"),
    "ragged_lists": ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    "object": ([Opaque(), Opaque()], TypeError, None),
    "none": ([None, None], TypeError, None),
    "string_arrays": ([np.array(["a"]), np.array(["b"])], TypeError, None),
    "object_arrays": ([np.array([{}], dtype=object)], TypeError, None),
}


@pytest.mark.parametrize("name", list(COLLATE_ERRORS))
def test_default_collate_errors_match_torch(name):
    batch, error_type, fragment = COLLATE_ERRORS[name]
    with pytest.raises(error_type) as torch_error:
        tdata.default_collate(to_torch(batch))
    with pytest.raises(error_type) as ember_error:
        default_collate(batch)
    if fragment is None:
        assert str(ember_error.value) == str(torch_error.value)
    else:
        assert fragment in str(torch_error.value) and fragment in str(ember_error.value)


CONVERT_SAMPLES = {
    "ndarray": np.arange(6, dtype=np.int32).reshape(2, 3),
    "ndarray_float16": np.ones(3, np.float16),
    "np_scalar": np.float64(2.5),
    "np_bool": np.bool_(True),
    "string_array_kept": np.array(["a", "b"]),
    "int_kept": 3,
    "str_kept": "abc",
    "dict": {"a": np.zeros(2, np.float32), "b": 1},
    "namedtuple": Point(np.array(0), np.array([1.0])),
    "tuple_becomes_list": (np.array([1]), "x"),
    "list": [np.array([1, 2]), np.array([3, 4])],
    "list_subclass": MyList([np.int8(1)]),
    "range": range(3),
    "tensor_kept": ember.tensor([1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(CONVERT_SAMPLES))
def test_default_convert_matches_torch(name):
    sample = CONVERT_SAMPLES[name]
    assert normalize(default_convert(sample)) == normalize(tdata.default_convert(to_torch(sample)))


def test_default_convert_returns_tensors_unchanged():
    t = ember.tensor([1.0])
    assert default_convert(t) is t


def test_collate_fn_map_is_extensible():
    def collate_opaque(batch, *, collate_fn_map=None):
        return len(batch)
    custom_map = {**ember_collate_module.default_collate_fn_map, Opaque: collate_opaque}
    assert ember_collate_module.collate([(Opaque(), 1), (Opaque(), 2)], collate_fn_map=custom_map)[0] == 2


def test_collate_keeps_autograd():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([a, a * 2])
    batch.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_torch_style_imports_resolve():
    from ember.utils.data._utils.collate import default_collate as from_utils
    from ember.utils.data.dataloader import default_collate as from_dataloader
    assert from_utils is from_dataloader is default_collate
    assert ember.utils.data.default_convert is default_convert


def test_compat_maps_torch_utils_data():
    import ember.compat
    ember.compat.install()
    try:
        import torch as facade
        from torch.utils.data.dataloader import default_collate as via_compat
        assert via_compat is default_collate
        assert facade.utils.data.DataLoader is ember.utils.data.DataLoader
    finally:
        ember.compat.uninstall()
