"""2-d max pooling in C (ember/kernels/pool.py) against the NumPy path and PyTorch."""

import numpy as np
import pytest

import ember
from ember.kernels import pool
from ember.ops import pooling

pytestmark = pytest.mark.skipif(pool._EAGER.library() is None, reason="the compile extra is not available")

GEOMETRIES = [  # kernel, stride, dilation, padding, ceil_mode
    ((2, 2), (2, 2), (1, 1), (0, 0), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), False),
    ((3, 2), (1, 2), (2, 1), (1, 0), True),
    ((2, 3), (3, 2), (1, 1), (1, 1), True),
]


def _input(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 3, (2, 3, 9, 8)).astype(np.float32)  # small integers: many ties
    x[0, 0, :3, :3] = -np.inf
    x[0, 1, 2, 2] = np.nan
    x[1, 2, 4, 4:6] = np.nan
    return x


def _numpy_path(monkeypatch):
    monkeypatch.setitem(pool._STATE, "lib", None)
    monkeypatch.setitem(pool._STATE, "checked", True)


@pytest.mark.parametrize("kernel,stride,dilation,padding,ceil_mode", GEOMETRIES)
def test_values_and_winners_match_the_numpy_path(kernel, stride, dilation, padding, ceil_mode, monkeypatch):
    x = ember.tensor(_input(0))
    geometry = pooling._pool_geometry("max_pool2d", x.shape[2:], 2, kernel, stride, padding, dilation, ceil_mode)
    kernel_, stride_, dilation_, pads, out = geometry
    fused_values, fused_which = pooling._max_pool_arrays(x.numpy(), kernel_, stride_, dilation_, pads, out)
    _numpy_path(monkeypatch)
    values, which = pooling._max_pool_arrays(x.numpy(), kernel_, stride_, dilation_, pads, out)
    np.testing.assert_array_equal(fused_values, values)
    np.testing.assert_array_equal(fused_which, which)


@pytest.mark.parametrize("kernel,stride,dilation,padding,ceil_mode", GEOMETRIES)
def test_forward_indices_and_gradient_match_torch(kernel, stride, dilation, padding, ceil_mode):
    torch = pytest.importorskip("torch")
    data = _input(1)
    data[np.isnan(data)] = 0.5  # a NaN's gradient would make every comparison below NaN
    grad = np.random.default_rng(2).standard_normal(
        torch.nn.functional.max_pool2d(torch.tensor(data), kernel, stride, padding, dilation, ceil_mode).shape
    ).astype(np.float32)
    x = ember.tensor(data, requires_grad=True)
    values, indices = ember.nn.functional.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode,
                                                     return_indices=True)
    values.backward(ember.tensor(grad))
    tx = torch.tensor(data, requires_grad=True)
    tvalues, tindices = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, dilation, ceil_mode,
                                                       return_indices=True)
    tvalues.backward(torch.tensor(grad))
    np.testing.assert_array_equal(values.detach().numpy(), tvalues.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), tindices.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())  # both add in output order


def test_inference_takes_the_values_only_kernel():
    x = ember.tensor(_input(3))
    with ember.no_grad():
        got = ember.nn.functional.max_pool2d(x, 3, 2, 1)
    expected = ember.nn.functional.max_pool2d(x, 3, 2, 1)  # recording: the kernel with winners
    np.testing.assert_array_equal(got.numpy(), expected.detach().numpy())


def test_what_the_kernel_does_not_take_goes_to_numpy():
    x = np.ones((1, 1, 4, 4), np.float64)
    assert pool.max_pool(x, (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), (2, 2)) is None
    assert pool.max_pool(np.ones((1, 1, 4), np.float32), (2,), (2,), (1,), ((0, 0),), (2,)) is None
    big = np.ones((1, 1, 16, 16), np.float32)
    assert pool.max_pool(big, (12, 12), (1, 1), (1, 1), ((0, 0), (0, 0)), (5, 5)) is None  # 144 offsets
