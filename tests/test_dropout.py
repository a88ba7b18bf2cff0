"""Dropout family (random masks: compared with PyTorch by their statistics and rules, not values) and the
in-place activation variants of ember/ops/activation.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F


def _x(*shape, requires_grad=False):
    return ember.ones(*shape, requires_grad=requires_grad)


# ------------------------------------------------------------------------------------ dropout
@pytest.mark.parametrize("fn", [F.dropout, F.alpha_dropout, F.feature_alpha_dropout])
def test_p_zero_and_eval_are_identity(fn):
    x = ember.randn(4, 3, 5)
    assert fn(x, 0.0, True) is x or np.array_equal(fn(x, 0.0, True).numpy(), x.numpy())
    assert np.array_equal(fn(x, 0.7, False).numpy(), x.numpy())


def test_dropout_p_one_gives_zeros_and_zero_gradient():
    x = ember.randn(10, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_keeps_expected_value_and_drop_rate():
    ember.manual_seed(0)
    y = F.dropout(_x(200_000), 0.3)
    values = y.numpy()
    assert set(np.unique(values).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert abs((values == 0).mean() - 0.3) < 0.01
    assert abs(values.mean() - 1.0) < 0.01


def test_dropout_is_reproducible_under_manual_seed():
    ember.manual_seed(123)
    a = F.dropout(_x(100), 0.5)
    ember.manual_seed(123)
    b = F.dropout(_x(100), 0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    c = F.dropout(_x(100), 0.5)
    assert not np.array_equal(a.numpy(), c.numpy())


def test_dropout_gradient_equals_mask():
    ember.manual_seed(0)
    x = ember.randn(50, 4, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.detach().sum()
    y.sum().backward()
    mask = np.where(x.detach().numpy() != 0, y.detach().numpy() / x.detach().numpy(), 0)
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)
    assert (np.isclose(x.grad.numpy(), 0) | np.isclose(x.grad.numpy(), 1 / 0.6)).all()


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                  "feature_alpha_dropout"])
def test_probability_out_of_range_raises_like_torch(name, p):
    shape = {"dropout1d": (2, 3, 4), "dropout3d": (1, 2, 3, 4, 5)}.get(name, (2, 3, 4, 5))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(torch.nn.functional, name)(torch.ones(shape), p, True)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        getattr(F, name)(ember.ones(*shape), p, True)


def test_dropout_inplace_writes_into_input():
    ember.manual_seed(0)
    x = _x(100)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy()).tolist()) <= {0.0, 2.0}
    y = _x(10)
    ember.dropout_(y, 0.5, True)
    assert set(np.unique(y.numpy()).tolist()) <= {0.0, 2.0}


def test_dropout_inplace_on_a_non_leaf_backpropagates():
    ember.manual_seed(0)
    x = ember.randn(20, requires_grad=True)
    h = x * 2
    F.dropout(h, 0.5, inplace=True)
    h.sum().backward()
    assert (np.isclose(x.grad.numpy(), 0) | np.isclose(x.grad.numpy(), 4.0)).all()


@pytest.mark.parametrize("fn,shape,channel_axis", [
    (F.dropout1d, (4, 6, 7), 1), (F.dropout1d, (6, 7), 0), (F.dropout2d, (4, 6, 3, 3), 1),
    (F.dropout3d, (2, 6, 2, 2, 2), 1), (F.dropout3d, (6, 2, 2, 2), 0)])
def test_channel_dropout_zeroes_whole_channels(fn, shape, channel_axis):
    ember.manual_seed(0)
    y = fn(_x(*shape), 0.5).numpy()
    spatial = tuple(range(channel_axis + 1, len(shape)))
    dropped = (y == 0).all(axis=spatial)
    kept = (y == 2).all(axis=spatial)
    assert (dropped | kept).all()
    assert dropped.any() and kept.any()


def test_dropout1d_rejects_wrong_rank_like_torch():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        torch.nn.functional.dropout1d(torch.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5))


@pytest.mark.parametrize("shape,expect", [((2, 3), "Received a 2-D input to dropout2d"),
                                          ((2, 3, 4), "Received a 3D input to dropout2d")])
def test_dropout2d_warns_like_torch(shape, expect):
    with pytest.warns(UserWarning, match=expect):
        torch.nn.functional.dropout2d(torch.ones(shape))
    with pytest.warns(UserWarning, match=expect):
        F.dropout2d(ember.ones(*shape))


def test_dropout2d_on_3d_input_is_channelwise_over_dim_1():
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = F.dropout2d(_x(8, 6, 5), 0.5).numpy()
    assert ((y == 0).all(axis=2) | (y == 2).all(axis=2)).all()


def test_alpha_dropout_preserves_mean_and_variance():
    ember.manual_seed(0)
    x = ember.randn(400_000)
    y = F.alpha_dropout(x, 0.2, True).numpy()
    assert abs(y.mean()) < 0.01
    assert abs(y.std() - 1) < 0.01


def test_alpha_dropout_values_match_torch_formula():
    ember.manual_seed(0)
    x = ember.randn(1000)
    y = F.alpha_dropout(x, 0.25, True).numpy()
    alpha_prime = -1.7580993408473766
    a = (alpha_prime ** 2 * 0.25 + 1) ** -0.5 / 0.75 ** 0.5
    b = -a * alpha_prime * 0.25
    kept = np.isclose(y, a * x.numpy() + b, atol=1e-6)
    dropped = np.isclose(y, a * alpha_prime + b, atol=1e-6)
    assert (kept | dropped).all() and dropped.any() and kept.any()


def test_feature_alpha_dropout_is_channelwise():
    ember.manual_seed(0)
    y = F.feature_alpha_dropout(ember.zeros(16, 8, 5), 0.5, True).numpy()
    assert (y == y[:, :, :1]).all()


def test_top_level_dropout_signatures():
    x = _x(3, 4)
    assert ember.dropout(x, 0.5, False) is x
    assert ember.feature_dropout(x, 0.2, False) is x
    assert ember.alpha_dropout(x, 0.2, False) is x
    assert ember.feature_alpha_dropout(x, 0.2, False) is x


# ------------------------------------------------------------------------------------ in-place activations
INPLACE = [
    ("relu_", lambda lib, t: lib.relu_(t)),
    ("F.relu inplace", lambda lib, t: lib.nn.functional.relu(t, inplace=True)),
    ("leaky_relu_", lambda lib, t: lib.nn.functional.leaky_relu_(t, 0.2)),
    ("hardtanh_", lambda lib, t: lib.nn.functional.hardtanh_(t, -0.5, 0.5)),
    ("relu6 inplace", lambda lib, t: lib.nn.functional.relu6(t, inplace=True)),
    ("elu_", lambda lib, t: lib.nn.functional.elu_(t, 0.7)),
    ("selu_", lambda lib, t: lib.selu_(t)),
    # alpha = 2: PyTorch's celu backward rounds 1 / alpha to float32 (alpha.toFloat()), ember keeps double.
    ("celu_", lambda lib, t: lib.celu_(t, 2.0)),
    ("threshold_", lambda lib, t: lib.threshold_(t, 0.1, -3.0)),
    ("silu inplace", lambda lib, t: lib.nn.functional.silu(t, inplace=True)),
    ("mish inplace", lambda lib, t: lib.nn.functional.mish(t, inplace=True)),
    ("hardswish inplace", lambda lib, t: lib.nn.functional.hardswish(t, inplace=True)),
    ("hardsigmoid inplace", lambda lib, t: lib.nn.functional.hardsigmoid(t, inplace=True)),
    ("rrelu_ eval", lambda lib, t: lib.rrelu_(t, 0.1, 0.3)),
    ("Tensor.relu_", lambda lib, t: t.relu_()),
]


@pytest.mark.parametrize("name,fn", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_activation_matches_torch_and_backpropagates(name, fn):
    data = np.random.default_rng(0).uniform(-3, 3, size=(4, 5)).astype(np.float64)
    grad_out = np.random.default_rng(1).uniform(-1, 1, size=(4, 5))
    results = []
    for lib in (torch, ember):
        leaf = lib.tensor(data, requires_grad=True)
        hidden = leaf * 1.5
        returned = fn(lib, hidden)
        assert returned is hidden
        hidden.backward(lib.tensor(grad_out))
        results.append((hidden.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-12)


def test_inplace_activation_without_grad_writes_into_memory():
    x = ember.tensor([-1.0, 2.0])
    view = x[:]
    ember.relu_(x)
    assert view.tolist() == [0.0, 2.0]


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ember.relu_(x)


def test_rrelu_training_draws_slopes_in_range_and_gradient_equals_them():
    ember.manual_seed(0)
    x = ember.tensor(-np.ones(1000), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        torch.nn.functional.softmax(torch.ones(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(ember.ones(2, 3))
    np.testing.assert_allclose(y.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient():
    ember.manual_seed(0)
    logits = ember.randn(5, 4, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert (y.detach().numpy().sum(-1) == 1).all()
    assert set(np.unique(y.detach().numpy()).tolist()) <= {0.0, 1.0}
    (y * ember.arange(4.0)).sum().backward()
    assert np.abs(logits.grad.numpy()).sum() > 0
