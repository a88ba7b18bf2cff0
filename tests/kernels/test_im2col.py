"""The C im2col (ember/kernels/im2col.py) writes exactly the columns of the NumPy path, for every stride,
padding and dilation; convolutions through it match torch."""

import itertools

import numpy as np
import pytest
import torch

import ember
from ember.kernels import im2col, loader as kernels
from ember.ops import convolution

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


def _numpy_columns(x, kernel, stride, dilation, pads, out, monkeypatch):
    monkeypatch.setitem(im2col._STATE, "lib", None)
    try:
        return convolution._conv_columns(x, kernel, stride, dilation, pads, out)
    finally:
        monkeypatch.undo()


@needs_compiler
@pytest.mark.parametrize("kernel,stride,dilation,padding", list(itertools.product(
    [(1, 1), (3, 3), (2, 3), (7, 7)], [(1, 1), (2, 2), (1, 3)], [(1, 1), (2, 1)], [(0, 0), (1, 1), (3, 2)])))
def test_columns_equal_the_numpy_path(kernel, stride, dilation, padding, monkeypatch):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 9)).astype(np.float32)
    pads = tuple((p, p) for p in padding)
    out = tuple(convolution._out_size(s, k, st, d, pad) for s, k, st, d, pad in
                zip(x.shape[2:], kernel, stride, dilation, pads))
    if min(out) <= 0:
        pytest.skip("window larger than the padded input")
    fused = im2col.columns(x, kernel, stride, dilation, pads, out)
    expected = _numpy_columns(x, kernel, stride, dilation, pads, out, monkeypatch)
    np.testing.assert_array_equal(fused, expected)


@needs_compiler
def test_conv2d_through_the_kernel_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 13, 10)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    options = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    ex, ew = ember.from_numpy(x).requires_grad_(), ember.from_numpy(w).requires_grad_()
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    ours = ember.nn.functional.conv2d(ex, ew, **options)
    theirs = torch.nn.functional.conv2d(tx, tw, **options)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_kernel_declines_what_it_does_not_cover():
    assert im2col.columns(np.ones((1, 1, 3, 3)), (2, 2), (1, 1), (1, 1), ((0, 0), (0, 0)), (2, 2)) is None
    view = np.ones((1, 1, 3, 6), np.float32)[..., ::2]
    assert im2col.columns(view, (2, 2), (1, 1), (1, 1), ((0, 0), (0, 0)), (2, 2)) is None
