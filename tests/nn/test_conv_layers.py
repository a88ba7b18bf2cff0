"""Convolution layers against torch.nn: outputs, gradients, state_dict, repr, init and constructor errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from tests.nn.parity import check_layer_parity, copy_torch_state

CONV_CASES = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 8)),
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 2, "dilation": 2}, (2, 3, 9)),
    ("Conv1d", (3, 4, 4), {"padding": "same", "padding_mode": "reflect"}, (2, 3, 8)),
    ("Conv1d", (2, 4, 3), {"padding": "valid", "groups": 2, "bias": False}, (2, 8)),
    ("Conv2d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 7, 7)),
    ("Conv2d", (4, 6, (3, 2)), {"padding": "same", "padding_mode": "circular", "dilation": 2}, (2, 4, 7, 6)),
    ("Conv2d", (4, 6, 3), {"padding": (1, 2), "padding_mode": "replicate", "bias": False}, (4, 6, 5)),
    ("Conv2d", (2, 3, 2), {"padding": 1, "padding_mode": "zeros", "stride": (1, 2)}, (1, 2, 4, 5)),
    ("Conv3d", (2, 4, 2), {"padding": 1, "padding_mode": "reflect"}, (1, 2, 3, 4, 4)),
    ("Conv3d", (2, 2, (1, 2, 3)), {"padding": "same", "groups": 2}, (2, 3, 3, 4)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    ("ConvTranspose1d", (3, 4, 3), {"padding": 1, "bias": False}, (3, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2, "dilation": 2, "output_padding": 1},
     (2, 4, 4, 4)),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2}, (1, 2, 2, 3, 3)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name, args, kwargs, shape", CONV_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_CASES)])
def test_conv_parity(name, args, kwargs, shape):
    torch.manual_seed(0)
    check_layer_parity(getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs),
                       torch.randn(*shape))


def test_conv_float64_dtype_kwarg():
    torch.manual_seed(0)
    layer = ember.nn.Conv2d(2, 3, 3, dtype=ember.float64)
    assert layer.weight.dtype == ember.float64 and layer.bias.dtype == ember.float64
    check_layer_parity(layer, torch.nn.Conv2d(2, 3, 3, dtype=torch.float64),
                       torch.randn(1, 2, 5, 5, dtype=torch.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, dims", [("ConvTranspose1d", 1), ("ConvTranspose2d", 2), ("ConvTranspose3d", 3)])
def test_conv_transpose_output_size(name, dims):
    torch.manual_seed(0)
    t_layer, e_layer = getattr(torch.nn, name)(2, 3, 3, stride=2), getattr(ember.nn, name)(2, 3, 3, stride=2)
    x = torch.randn(1, 2, *([3] * dims))
    for size in ([8] * dims, [1, 3] + [8] * dims, [7] * dims):
        check_layer_parity(e_layer, t_layer, x, modes=("train",), forward=lambda m, x: m(x, output_size=size))
    with pytest.raises(ValueError, match="requested an output size"):
        e_layer(ember.randn(1, 2, *([3] * dims)), output_size=[9] * dims)
    with pytest.raises(ValueError, match="output_size must have"):
        e_layer(ember.randn(1, 2, *([3] * dims)), output_size=[8] * (dims + 3))


@pytest.mark.parametrize("name, args", [("Conv1d", (6, 8, 3)), ("Conv2d", (6, 4, (3, 5))), ("Conv3d", (4, 6, 2)),
                                        ("ConvTranspose2d", (6, 8, 3)), ("Conv2d", (6, 6, 3))])
def test_conv_default_init(name, args):
    layer = getattr(ember.nn, name)(*args, groups=2)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
    # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and so for the bias.
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert np.abs(weight).max() > 0.7 * bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.25 * bound
    ember.manual_seed(3)
    again = getattr(ember.nn, name)(*args, groups=2)
    ember.manual_seed(3)
    np.testing.assert_array_equal(again.weight.detach().numpy(), getattr(ember.nn, name)(*args, groups=2).weight.detach().numpy())


@pytest.mark.parametrize("make, error, match", [
    (lambda: ember.nn.Conv2d(4, 4, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: ember.nn.Conv2d(3, 4, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
    (lambda: ember.nn.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels must be divisible by groups"),
    (lambda: ember.nn.Conv1d(4, 3, 3, padding="full"), ValueError, "Invalid padding string"),
    (lambda: ember.nn.Conv1d(4, 3, 3, padding="same", stride=2), ValueError, "not supported for strided"),
    (lambda: ember.nn.Conv1d(4, 3, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda: ember.nn.ConvTranspose2d(4, 3, 3, padding_mode="reflect"), ValueError, 'Only "zeros" padding mode'),
    (lambda: ember.nn.Conv2d(4, 3, 3, device="cuda"), RuntimeError, "not available"),
])
def test_conv_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_conv_wrong_input_channels():
    with pytest.raises(RuntimeError, match="channels"):
        ember.nn.Conv2d(3, 4, 3)(ember.randn(1, 2, 5, 5))


@pytest.mark.parametrize("lazy, eager, shape", [
    ("LazyConv1d", "Conv1d", (2, 5, 8)), ("LazyConv2d", "Conv2d", (5, 6, 6)), ("LazyConv3d", "Conv3d", (1, 5, 3, 3, 3)),
    ("LazyConvTranspose1d", "ConvTranspose1d", (2, 5, 4)), ("LazyConvTranspose2d", "ConvTranspose2d", (1, 5, 3, 3)),
    ("LazyConvTranspose3d", "ConvTranspose3d", (1, 5, 2, 2, 2))])
def test_lazy_conv(lazy, eager, shape):
    torch.manual_seed(0)
    t_layer, e_layer = getattr(torch.nn, lazy)(4, 3), getattr(ember.nn, lazy)(4, 3)
    assert repr(e_layer) == repr(t_layer)
    assert e_layer.has_uninitialized_params()
    x = torch.randn(*shape)
    t_layer(x)
    e_layer(ember.tensor(x.numpy()))
    assert type(e_layer).__name__ == eager and e_layer.in_channels == 5
    weight = e_layer.weight.detach().numpy()
    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
    assert np.abs(weight).max() <= 1 / math.sqrt(fan_in)
    check_layer_parity(e_layer, t_layer, x, modes=("train",))


def test_lazy_conv_loads_state_before_first_call():
    torch.manual_seed(0)
    t_layer = torch.nn.Conv2d(3, 4, 3, groups=1)
    e_layer = ember.nn.LazyConv2d(4, 3)
    copy_torch_state(e_layer, t_layer)
    x = torch.randn(1, 3, 5, 5)
    out = e_layer(ember.tensor(x.numpy()))
    assert e_layer.in_channels == 3
    np.testing.assert_allclose(out.detach().numpy(), t_layer(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_conv_train_step_matches_torch():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 3))
    e_conv1, e_conv2 = ember.nn.Conv2d(2, 4, 3, padding=1), ember.nn.Conv2d(4, 1, 3)
    copy_torch_state(e_conv1, t_model[0])
    copy_torch_state(e_conv2, t_model[2])
    x = torch.randn(2, 2, 6, 6)
    for _ in range(3):
        t_loss = t_model(x).square().mean()
        e_loss = e_conv2(ember.relu(e_conv1(ember.tensor(x.numpy())))).square().mean()
        np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-5)
        t_model.zero_grad()
        t_loss.backward()
        e_loss.backward()
        with torch.no_grad():
            for p in t_model.parameters():
                p -= 0.1 * p.grad
        with ember.no_grad():
            for p in list(e_conv1.parameters()) + list(e_conv2.parameters()):
                p -= 0.1 * p.grad
                p.grad = None
    np.testing.assert_allclose(e_conv1.weight.detach().numpy(), t_model[0].weight.detach().numpy(), rtol=1e-5, atol=1e-6)
