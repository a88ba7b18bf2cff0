"""Pooling layers against torch.nn: outputs (and indices), input gradients, repr."""

from __future__ import annotations

import pytest
import torch

import ember
from tests.nn.parity import assert_close, check_layer_parity, to_ember

POOL_CASES = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, (3, 11)),
    ("MaxPool1d", (2,), {"return_indices": True}, (2, 3, 9)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8, 7)),
    ("MaxPool2d", ((2, 3),), {"dilation": (2, 1), "return_indices": True}, (3, 7, 8)),
    ("MaxPool3d", (2,), {"stride": 1, "return_indices": True}, (1, 2, 3, 4, 4)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, (2, 3, 10)),
    ("AvgPool1d", (2,), {}, (3, 9)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}, (2, 3, 7, 7)),
    ("AvgPool2d", ((3, 2),), {"padding": (1, 1), "ceil_mode": True, "count_include_pad": False}, (2, 3, 7, 6)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (3, 6, 6)),
    ("AvgPool3d", (2,), {"stride": 1, "padding": 1, "count_include_pad": False, "divisor_override": None},
     (1, 2, 3, 4, 4)),
    ("AvgPool3d", (2,), {"divisor_override": 5, "ceil_mode": True}, (1, 2, 3, 5, 5)),
    ("LPPool1d", (2, 3), {"stride": 2}, (2, 3, 9)),
    ("LPPool1d", (1.5, 2), {"ceil_mode": True}, (2, 3, 9)),
    ("LPPool2d", (3, 2), {}, (2, 3, 6, 6)),
    ("LPPool2d", (2, (2, 3)), {"stride": (1, 2), "ceil_mode": True}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (3, 7, 5)),
    ("AdaptiveAvgPool3d", ((2, 3, 1),), {}, (1, 2, 5, 6, 3)),
    ("AdaptiveMaxPool1d", (3,), {"return_indices": True}, (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (4,), {"return_indices": True}, (3, 9, 9)),
    ("AdaptiveMaxPool3d", (2,), {"return_indices": True}, (1, 2, 5, 4, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", POOL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(POOL_CASES)])
def test_pool_parity(name, args, kwargs, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    if name.startswith("LPPool"):
        x = x.abs() + 0.1  # fractional powers of negative sums are NaN in both libraries
    check_layer_parity(getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), x)


@pytest.mark.parametrize("dims, kwargs, shape", [
    (1, {"kernel_size": 2}, (2, 3, 8)),
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (3, 9)),
    (2, {"kernel_size": 2}, (2, 3, 6, 4)),
    (2, {"kernel_size": 2}, (3, 5, 5)),
    (2, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 7, 7)),
    (3, {"kernel_size": 2}, (1, 2, 4, 4, 5)),
])
def test_max_unpool_round_trip(dims, kwargs, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    t_pool = getattr(torch.nn, f"MaxPool{dims}d")(**kwargs, return_indices=True)
    t_unpool = getattr(torch.nn, f"MaxUnpool{dims}d")(**kwargs)
    e_unpool = getattr(ember.nn, f"MaxUnpool{dims}d")(**kwargs)
    assert repr(e_unpool) == repr(t_unpool)
    pooled, indices = t_pool(x)
    output_size = list(x.shape[-dims:])
    default_size = [(o - 1) * t_unpool.stride[d] - 2 * t_unpool.padding[d] + t_unpool.kernel_size[d]
                    for d, o in enumerate(pooled.shape[-dims:])]
    if default_size == output_size:  # otherwise the indices point outside the default output
        check_layer_parity(e_unpool, t_unpool, pooled, indices)
    check_layer_parity(e_unpool, t_unpool, pooled, indices, modes=("train",),
                       forward=lambda m, p, i: m(p, i, output_size=output_size))
    e_out, e_idx = getattr(ember.nn, f"MaxPool{dims}d")(**kwargs, return_indices=True)(to_ember(x))
    assert_close(e_idx, indices)
    assert_close(e_unpool(e_out, e_idx, output_size=output_size), t_unpool(pooled, indices, output_size=output_size))


@pytest.mark.parametrize("make_pair", [
    lambda nn: nn.MaxPool2d(3),
    lambda nn: nn.MaxPool1d(2, stride=1, padding=1, dilation=1, return_indices=True, ceil_mode=True),
    lambda nn: nn.AvgPool1d(3, stride=2),
    lambda nn: nn.AvgPool2d((2, 3), padding=1, divisor_override=2),
    lambda nn: nn.AvgPool3d(2, ceil_mode=True),
    lambda nn: nn.LPPool2d(2, 3),
    lambda nn: nn.LPPool1d(1.5, 3, stride=2),
    lambda nn: nn.AdaptiveMaxPool2d((None, 4)),
    lambda nn: nn.AdaptiveAvgPool3d(1),
    lambda nn: nn.MaxUnpool2d((2, 3), stride=1),
])
def test_pool_repr(make_pair):
    assert repr(make_pair(ember.nn)) == repr(make_pair(torch.nn))


def test_pool_errors():
    with pytest.raises(RuntimeError):
        ember.nn.MaxPool2d(2)(ember.randn(2, 3, 4, 4, 4, 4))
    with pytest.raises(RuntimeError):
        ember.nn.AvgPool2d(5)(ember.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError):
        ember.nn.MaxPool2d(4, padding=3)(ember.randn(1, 1, 8, 8))


def test_pool_stack_in_eval_mode():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.MaxPool2d(2), torch.nn.AdaptiveAvgPool2d(1))
    e_model = [ember.nn.MaxPool2d(2), ember.nn.AdaptiveAvgPool2d(1)]
    x = torch.randn(2, 3, 8, 8)
    e_x = to_ember(x)
    for layer in e_model:
        e_x = layer.eval()(e_x)
    assert_close(e_x, t_model.eval()(x))
