"""Convolution, pooling and resampling behaviour beyond the op table: double backward against PyTorch,
adjointness, realistic sizes (the fast paths), index exactness of resampling, and unsupported options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import ops


def _pair(shape, rng, dtype=np.float64, requires_grad=True):
    data = rng.standard_normal(shape).astype(dtype)
    return ember.tensor(data, requires_grad=requires_grad), torch.tensor(data, requires_grad=requires_grad)


def _close(e, t, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(padding="same", dilation=2),
                                    dict(groups=2, padding=1)])
def test_conv2d_double_backward_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    xe, xt = _pair((2, 4, 6, 5), rng)
    we, wt = _pair((4, 4 // kwargs.get("groups", 1), 3, 3), rng)
    results = []
    for lib, x, w in ((ember, xe, we), (torch, xt, wt)):
        y = lib.nn.functional.conv2d(x, w, **kwargs)
        gx, gw = (ember.autograd if lib is ember else torch.autograd).grad((y * y).sum(), (x, w), create_graph=True)
        penalty = (gx * gx).sum() + (gw * gw * gw).sum()
        results.append((ember.autograd if lib is ember else torch.autograd).grad(penalty, (x, w)))
    for e, t in zip(*results):
        _close(e, t, rtol=1e-9, atol=1e-9)


def test_conv_transpose_double_backward_matches_torch():
    rng = np.random.default_rng(1)
    xe, xt = _pair((1, 4, 3, 4), rng)
    we, wt = _pair((4, 3, 3, 2), rng)
    results = []
    for lib, x, w in ((ember, xe, we), (torch, xt, wt)):
        autograd = ember.autograd if lib is ember else torch.autograd
        y = lib.nn.functional.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2)
        gx, gw = autograd.grad(y.sum() * y.sum(), (x, w), create_graph=True)
        results.append(autograd.grad((gx * gx).sum() + (gw * gw).sum(), (x, w)))
    for e, t in zip(*results):
        _close(e, t, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)])
def test_max_pool_double_backward_matches_torch(kwargs):
    rng = np.random.default_rng(2)
    xe, xt = _pair((2, 3, 7, 6), rng)
    results = []
    for lib, x in ((ember, xe), (torch, xt)):
        autograd = ember.autograd if lib is ember else torch.autograd
        y = lib.nn.functional.max_pool2d(x * x, **kwargs)
        (gx,) = autograd.grad((y * y).sum(), (x,), create_graph=True)
        results.append(autograd.grad((gx * gx * gx).sum(), (x,)))
    _close(results[0][0], results[1][0], rtol=1e-9, atol=1e-9)


def test_conv_transpose_is_the_adjoint_of_conv():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 4, 9, 8)))
    w = ember.tensor(rng.standard_normal((6, 2, 3, 2)))
    y = ember.tensor(rng.standard_normal((2, 6, 5, 5)))
    forward = EF.conv2d(x, w, stride=2, padding=(1, 2), dilation=(1, 2), groups=2)
    assert forward.shape == y.shape
    adjoint = EF.conv_transpose2d(y, w, stride=2, padding=(1, 2), dilation=(1, 2), groups=2, output_padding=(0, 1))
    assert adjoint.shape == x.shape
    assert float((forward * y).sum()) == pytest.approx(float((x * adjoint).sum()), rel=1e-10)


@pytest.mark.parametrize("shape,weight,kwargs", [
    ((64, 1, 28, 28), (32, 1, 3, 3), dict()),
    ((8, 32, 13, 13), (64, 32, 3, 3), dict()),
    ((4, 8, 12, 10), (16, 8, 3, 3), dict(padding=1)),
    ((4, 8, 12, 10), (16, 8, 5, 5), dict(padding=2, stride=2)),
    ((4, 8, 12, 10), (8, 1, 3, 3), dict(padding=1, groups=8)),
    ((2, 4, 6, 7, 5), (6, 4, 3, 3, 3), dict(padding=1)),
    ((3, 6, 40), (4, 6, 5), dict(padding=2, dilation=3)),
])
def test_conv_realistic_sizes_match_torch(shape, weight, kwargs):
    rng = np.random.default_rng(4)
    xe, xt = _pair(shape, rng, np.float32)
    we, wt = _pair(weight, rng, np.float32)
    be, bt = _pair(weight[:1], rng, np.float32)
    name = {3: "conv1d", 4: "conv2d", 5: "conv3d"}[len(shape)]
    ye = getattr(EF, name)(xe, we, be, **kwargs)
    yt = getattr(TF, name)(xt, wt, bt, **kwargs)
    _close(ye, yt, rtol=1e-4, atol=1e-4)
    grad = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    ge = ember.autograd.grad(ye, (xe, we, be), ember.tensor(grad))
    gt = torch.autograd.grad(yt, (xt, wt, bt), torch.tensor(grad))
    for e, t in zip(ge, gt):
        _close(e, t, rtol=1e-3, atol=1e-3)


def test_weight_only_gradient_and_no_grad_inference():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    w = ember.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    EF.conv2d(x, w).sum().backward()
    wt = torch.tensor(w.detach().numpy(), requires_grad=True)
    TF.conv2d(torch.tensor(x.numpy()), wt).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert x.grad is None
    with ember.no_grad():
        z = EF.conv2d(x, w)
    assert not z.requires_grad and z.grad_fn is None


@pytest.mark.parametrize("mode,kwargs", [
    ("bilinear", dict(align_corners=False)), ("bilinear", dict(align_corners=True)), ("bicubic", dict()),
    ("nearest", dict()), ("nearest-exact", dict()), ("area", dict()),
])
@pytest.mark.parametrize("size", [(17, 31), (64, 64), (7, 100), (33, 15)])
def test_interpolate_sizes_match_torch(mode, kwargs, size):
    rng = np.random.default_rng(6)
    xe, xt = _pair((1, 2, 21, 32), rng, np.float32)
    ye = EF.interpolate(xe, size=size, mode=mode, **kwargs)
    yt = TF.interpolate(xt, size=size, mode=mode, **kwargs)
    _close(ye, yt, rtol=1e-4, atol=1e-4)
    grad = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    _close(ember.autograd.grad(ye, xe, ember.tensor(grad))[0], torch.autograd.grad(yt, xt, torch.tensor(grad))[0],
           rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scale", [0.3, 0.5, 1.1, 1.5, 2.0, 2.7, 3.0])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
def test_interpolate_scale_factors_match_torch(scale, mode):
    rng = np.random.default_rng(7)
    xe, xt = _pair((1, 1, 13, 29), rng, np.float32, requires_grad=False)
    for recompute in (None, True):
        ye = EF.interpolate(xe, scale_factor=scale, mode=mode, recompute_scale_factor=recompute)
        yt = TF.interpolate(xt, scale_factor=scale, mode=mode, recompute_scale_factor=recompute)
        _close(ye, yt, rtol=1e-5, atol=1e-5)


def test_max_pool_propagates_nan_and_reports_indices_like_torch():
    data = np.array([[[[np.nan, 1.0, 2.0, np.nan], [0.0, np.nan, 3.0, 4.0]]]], dtype=np.float32)
    ve, ie = EF.max_pool2d(ember.tensor(data), 2, return_indices=True)
    vt, it = TF.max_pool2d(torch.tensor(data), 2, return_indices=True)
    np.testing.assert_array_equal(ve.numpy(), vt.numpy())
    np.testing.assert_array_equal(ie.numpy(), it.numpy())


def test_max_pool_infinite_gradient_stays_at_the_maximum():
    x = ember.tensor([[[[1.0, 2.0], [3.0, 0.0]]]], requires_grad=True)
    y = EF.max_pool2d(x, 2)
    (g,) = ember.autograd.grad(y, x, ember.tensor([[[[float("inf")]]]]))
    np.testing.assert_array_equal(g.numpy(), np.array([[[[0.0, 0.0], [np.inf, 0.0]]]], dtype=np.float32))


def test_unsupported_options_raise_clearly():
    x = ember.ones(1, 1, 4, 4)
    with pytest.raises(NotImplementedError, match="antialias"):
        EF.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="bicubic"):
        EF.grid_sample(x, ember.zeros(1, 2, 2, 2), mode="bicubic", align_corners=False)
    grid = ember.zeros(1, 2, 2, 2, requires_grad=True)
    out = EF.grid_sample(x.requires_grad_(), grid, align_corners=False)
    (g,) = ember.autograd.grad(out.sum(), grid, create_graph=True)
    with pytest.raises(NotImplementedError, match="double backward of grid_sample"):
        ember.autograd.grad(g.sum(), grid)


def test_exports_follow_torch():
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                 "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
                 "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"):
        assert hasattr(torch, name) and callable(getattr(ember, name)), name
    for name in ("avg_pool2d", "interpolate", "grid_sample", "affine_grid", "unfold", "fold", "lp_pool2d",
                 "max_unpool2d", "adaptive_max_pool2d", "upsample_bilinear"):
        assert hasattr(TF, name) and not hasattr(torch, name) and callable(getattr(EF, name)), name
        assert name not in ops.__all__, name
