"""Normalization layers against torch.nn: outputs, gradients, running statistics over several steps, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.nn.parity import assert_close, check_layer_parity, copy_torch_state, to_ember


def _randomize_affine(module):
    """Non-trivial affine parameters, so that gradients and outputs depend on them."""
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(0.5, 1.5)


NORM_CASES = [
    ("BatchNorm1d", (3,), {}, (4, 3)),
    ("BatchNorm1d", (3,), {"momentum": None, "eps": 1e-3}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"affine": False}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"bias": False}, (4, 3)),
    ("BatchNorm2d", (3,), {"momentum": 0.3}, (2, 3, 4, 5)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 4, 5)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 3)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {"affine": True}, (3, 6)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": None}, (2, 3, 4, 5)),
    ("InstanceNorm3d", (2,), {"affine": True, "bias": False}, (2, 2, 3, 2, 3)),
    ("LayerNorm", (5,), {}, (2, 3, 5)),
    ("LayerNorm", ((3, 5),), {"eps": 1e-3, "bias": False}, (2, 3, 5)),
    ("LayerNorm", ([5],), {"elementwise_affine": False}, (4, 5)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (4, 4), {"affine": False, "eps": 1e-3}, (3, 4, 2, 3)),
    ("GroupNorm", (1, 4), {"bias": False}, (3, 4)),
    ("RMSNorm", (5,), {}, (2, 3, 5)),
    ("RMSNorm", ((3, 5),), {"eps": 1e-4}, (2, 3, 5)),
    ("RMSNorm", (5,), {"elementwise_affine": False}, (4, 5)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 4, 6)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", NORM_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NORM_CASES)])
def test_norm_parity(name, args, kwargs, shape):
    torch.manual_seed(0)
    t_layer, e_layer = getattr(torch.nn, name)(*args, **kwargs), getattr(ember.nn, name)(*args, **kwargs)
    _randomize_affine(t_layer)
    # Train (updating running statistics where tracked), then eval (using them); buffers compared after each.
    check_layer_parity(e_layer, t_layer, torch.randn(*shape) * 2 + 1, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("BatchNorm1d", {}, (8, 3)),
    ("BatchNorm1d", {"momentum": None}, (6, 3, 4)),
    ("BatchNorm2d", {"momentum": None, "affine": False}, (4, 3, 2, 3)),
    ("BatchNorm3d", {"momentum": 0.5}, (2, 3, 2, 2, 2)),
    ("InstanceNorm1d", {"track_running_stats": True}, (4, 3, 5)),
    ("InstanceNorm2d", {"track_running_stats": True, "affine": True, "momentum": 0.2}, (4, 3, 3, 3)),
])
def test_running_stats_over_training_steps(name, kwargs, shape):
    torch.manual_seed(0)
    t_layer, e_layer = getattr(torch.nn, name)(3, **kwargs), getattr(ember.nn, name)(3, **kwargs)
    _randomize_affine(t_layer)
    copy_torch_state(e_layer, t_layer)
    for step in range(4):
        x = torch.randn(*shape) * (step + 1) + step
        assert_close(e_layer(to_ember(x)), t_layer(x), rtol=1e-5, atol=1e-5, what=f"step {step} output")
        for buffer_name, buffer in t_layer.named_buffers():
            assert_close(getattr(e_layer, buffer_name), buffer, rtol=1e-5, atol=1e-6, what=f"step {step} {buffer_name}")
    t_layer.eval()
    e_layer.eval()
    x = torch.randn(*shape)
    assert_close(e_layer(to_ember(x)), t_layer(x), rtol=1e-5, atol=1e-5, what="eval output")
    for buffer_name, buffer in t_layer.named_buffers():
        assert_close(getattr(e_layer, buffer_name), buffer, what=f"eval {buffer_name} (unchanged)")


def test_batchnorm_eval_without_running_stats_uses_batch_stats():
    torch.manual_seed(0)
    t_layer, e_layer = torch.nn.BatchNorm1d(3, track_running_stats=False), ember.nn.BatchNorm1d(3, track_running_stats=False)
    assert list(e_layer.state_dict()) == ["weight", "bias"]
    x = torch.randn(5, 3)
    assert_close(e_layer.eval()(to_ember(x)), t_layer.eval()(x), rtol=1e-5)


def test_batchnorm_state_and_reset():
    layer = ember.nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert layer.num_batches_tracked.dtype == ember.int64 and layer.num_batches_tracked.shape == ()
    assert (layer.weight.detach().numpy() == 1).all() and (layer.bias.detach().numpy() == 0).all()
    layer(ember.randn(2, 4, 3, 3))
    assert int(layer.num_batches_tracked) == 1 and not np.allclose(layer.running_mean.numpy(), 0)
    layer.reset_running_stats()
    assert int(layer.num_batches_tracked) == 0
    np.testing.assert_array_equal(layer.running_var.numpy(), np.ones(4, np.float32))
    # Checkpoints without num_batches_tracked (torch < 0.4.1) still load.
    old = {k: v for k, v in layer.state_dict().items() if k != "num_batches_tracked"}
    ember.nn.BatchNorm2d(4).load_state_dict(old)


def test_norm_dtype_kwarg():
    torch.manual_seed(0)
    e_layer = ember.nn.BatchNorm1d(3, dtype=ember.float64)
    assert e_layer.running_mean.dtype == ember.float64 and e_layer.num_batches_tracked.dtype == ember.int64
    check_layer_parity(e_layer, torch.nn.BatchNorm1d(3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64),
                       rtol=1e-10, atol=1e-10)
    check_layer_parity(ember.nn.LayerNorm(4, dtype=ember.float64), torch.nn.LayerNorm(4, dtype=torch.float64),
                       torch.randn(2, 4, dtype=torch.float64), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("make, error, match", [
    (lambda: ember.nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 5)), ValueError, "expected 2D or 3D input"),
    (lambda: ember.nn.BatchNorm2d(3)(ember.randn(2, 3, 4)), ValueError, "expected 4D input"),
    (lambda: ember.nn.BatchNorm3d(3)(ember.randn(2, 3, 4)), ValueError, "expected 5D input"),
    (lambda: ember.nn.BatchNorm1d(3)(ember.randn(1, 3)), ValueError, "Expected more than 1 value per channel"),
    (lambda: ember.nn.BatchNorm1d(3)(ember.randn(4, 2)), RuntimeError, "running_mean"),
    (lambda: ember.nn.InstanceNorm2d(3)(ember.randn(3, 4)), ValueError, "expected 3D or 4D input"),
    (lambda: ember.nn.InstanceNorm1d(3, affine=True)(ember.randn(2, 4, 5)), ValueError, "to match num_features"),
    (lambda: ember.nn.GroupNorm(3, 4), ValueError, "must be divisible by num_groups"),
    (lambda: ember.nn.LayerNorm(4)(ember.randn(2, 5)), RuntimeError, "normalized_shape"),
    (lambda: ember.nn.LayerNorm(4, device="cuda"), RuntimeError, "not available"),
])
def test_norm_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_instance_norm_warns_on_channel_mismatch_without_affine():
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(3)(ember.randn(2, 4, 5))


@pytest.mark.parametrize("make", [
    lambda nn: nn.BatchNorm1d(3, eps=1e-3, momentum=None, affine=False),
    lambda nn: nn.BatchNorm2d(8, bias=False, track_running_stats=False),
    lambda nn: nn.InstanceNorm3d(2, affine=True),
    lambda nn: nn.LayerNorm([2, 3], elementwise_affine=False),
    lambda nn: nn.GroupNorm(2, 6, affine=False),
    lambda nn: nn.RMSNorm([4], eps=1e-6),
    lambda nn: nn.LocalResponseNorm(5, k=2),
])
def test_norm_repr(make):
    assert repr(make(ember.nn)) == repr(make(torch.nn))
