"""Row-wise C kernels (ember/kernels/rowwise.py): softmax and layer_norm forward and backward against torch,
including the edge values a softmax meets in attention (masked -inf, all-masked rows, NaN, large scores)."""

import numpy as np
import pytest
import torch

import ember
from ember.kernels import rowwise, loader as kernels

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


def _scores(shape=(6, 37), seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    x[0, 3:] = -np.inf   # a masked row
    x[1, :] = -np.inf    # fully masked: NaN, as torch
    x[2, 5] = np.nan     # NaN spreads over its row
    x[3, :4] = [80.0, -80.0, 88.0, -100.0]
    return x


@needs_compiler
def test_softmax_matches_torch_on_attention_edge_values():
    x = _scores()
    got = rowwise.softmax(x)
    expected = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-7, equal_nan=True)
    assert (got[0, 3:] == 0).all()  # masked positions are exactly 0


@needs_compiler
def test_softmax_backward_matches_torch():
    x = np.random.default_rng(1).standard_normal((9, 130)).astype(np.float32) * 3
    grad = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.softmax(tx, dim=-1)
    ty.backward(torch.from_numpy(grad))
    got = rowwise.softmax_backward(grad, ty.detach().numpy())
    np.testing.assert_allclose(got, tx.grad.numpy(), rtol=1e-5, atol=1e-7)


@needs_compiler
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_forward_and_backward_match_torch(affine):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((64, 48)) * 4 + 2).astype(np.float32)
    weight = rng.standard_normal(48).astype(np.float32) if affine else None
    bias = rng.standard_normal(48).astype(np.float32) if affine else None
    grad = rng.standard_normal(x.shape).astype(np.float32)
    out, xhat, rstd = rowwise.layer_norm(x, weight, bias, 1e-5)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(weight).requires_grad_() if affine else None
    tb = torch.from_numpy(bias).requires_grad_() if affine else None
    ty = torch.nn.functional.layer_norm(tx, (48,), tw, tb, 1e-5)
    ty.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(out, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    dx, dw, db = rowwise.layer_norm_backward(grad, xhat, rstd, weight, True, affine, affine)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    if affine:
        np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-4, atol=1e-4)


@needs_compiler
def test_eager_ops_run_the_kernels(monkeypatch):
    calls = []
    for name in ("softmax", "softmax_backward", "layer_norm", "layer_norm_backward"):
        original = getattr(rowwise, name)

        def counting(*args, _name=name, _original=original):
            calls.append(_name)
            return _original(*args)
        monkeypatch.setattr(rowwise, name, counting)
    x = ember.randn(4, 8, requires_grad=True)
    norm = ember.nn.LayerNorm(8)
    (ember.softmax(norm(x), dim=-1) * ember.arange(8.0)).sum().backward()
    assert sorted(set(calls)) == ["layer_norm", "layer_norm_backward", "softmax", "softmax_backward"]
    assert x.grad is not None and norm.weight.grad is not None


def test_kernels_decline_what_they_do_not_cover():
    assert rowwise.softmax(np.ones((2, 3))) is None                       # float64
    assert rowwise.softmax(np.ones((2, 6), np.float32)[:, ::2]) is None   # not contiguous
    assert rowwise.layer_norm(np.ones((2, 3), np.float32), np.ones(4, np.float32), None, 1e-5) is None
    assert rowwise.softmax_backward(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)) is None
