"""Dropout, distance, padding, pixel/channel shuffle and upsampling layers against torch.nn (tests/nn/parity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.nn.parity import check_layer_parity

# (class name, constructor args, constructor kwargs, input shape)
CASES = [
    ("PairwiseDistance", (), {}, [(4, 5), (4, 5)]),
    ("PairwiseDistance", (1.0,), {"eps": 1e-3, "keepdim": True}, [(4, 5), (1, 5)]),
    ("CosineSimilarity", (), {}, [(4, 5, 2), (4, 5, 2)]),
    ("CosineSimilarity", (), {"dim": -1, "eps": 1e-6}, [(4, 5), (5,)]),
    ("ZeroPad1d", (2,), {}, [(2, 3, 4)]), ("ZeroPad1d", ((1, 0),), {}, [(3, 4)]),
    ("ZeroPad2d", (1,), {}, [(2, 3, 4, 4)]), ("ZeroPad2d", ((1, 0, 2, -1),), {}, [(3, 4, 4)]),
    ("ZeroPad3d", ((1, 0, 0, 1, 2, 0),), {}, [(1, 2, 2, 3, 2)]),
    ("ConstantPad1d", (2, 3.5), {}, [(2, 3, 4)]), ("ConstantPad2d", ((1, 2, 0, 1), -1.0), {}, [(2, 3, 4)]),
    ("ConstantPad3d", (1, 0.5), {}, [(1, 2, 2, 3, 2)]),
    ("ReflectionPad1d", (2,), {}, [(2, 3, 4)]), ("ReflectionPad1d", ((3, 1),), {}, [(3, 4)]),
    ("ReflectionPad2d", ((1, 2, 2, 0),), {}, [(2, 3, 4, 4)]), ("ReflectionPad3d", (1,), {}, [(1, 2, 2, 3, 3)]),
    ("ReplicationPad1d", ((2, 3),), {}, [(2, 3, 4)]), ("ReplicationPad2d", (2,), {}, [(2, 3, 4, 4)]),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), {}, [(1, 2, 2, 3, 3)]),
    ("CircularPad1d", (2,), {}, [(2, 3, 4)]), ("CircularPad2d", ((1, 2, 2, 0),), {}, [(3, 4, 4)]),
    ("CircularPad3d", (1,), {}, [(1, 2, 2, 3, 3)]),
    ("PixelShuffle", (2,), {}, [(2, 8, 3, 2)]), ("PixelUnshuffle", (2,), {}, [(2, 3, 4, 6)]),
    ("ChannelShuffle", (3,), {}, [(2, 6, 2, 2)]),
    ("Upsample", (), {"scale_factor": 2}, [(2, 3, 4)]),
    ("Upsample", (), {"size": (5, 3), "mode": "bilinear"}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"scale_factor": (2, 1.5), "mode": "bilinear", "align_corners": True}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"scale_factor": 1.7, "mode": "bicubic", "recompute_scale_factor": True}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"size": 5, "mode": "linear"}, [(2, 3, 4)]),
    ("Upsample", (), {"scale_factor": 2, "mode": "trilinear"}, [(1, 1, 2, 3, 2)]),
    ("Upsample", (), {"scale_factor": 1.5, "mode": "nearest-exact"}, [(1, 2, 3, 4)]),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, [(1, 2, 3, 4)]),
    ("UpsamplingNearest2d", (), {"size": (4, 6)}, [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}, [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d", (), {"size": 5}, [(1, 2, 3, 4)]),
    ("Dropout", (0.3,), {}, [(4, 5)]), ("Dropout1d", (), {}, [(2, 3, 4)]), ("Dropout2d", (0.1,), {}, [(2, 3, 4, 4)]),
    ("Dropout3d", (), {"inplace": True}, [(2, 3, 2, 2, 2)]), ("AlphaDropout", (0.2,), {}, [(4, 5)]),
    ("FeatureAlphaDropout", (), {}, [(2, 3, 4)]),
]


def _case_id(case):
    name, args, kwargs, _ = case
    return name + "".join(f"-{a}" for a in args) + "".join(f"-{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_layer_matches_torch(case):
    name, args, kwargs, shapes = case
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(*shape, generator=g) for shape in shapes]
    t, e = getattr(torch.nn, name)(*args, **kwargs), getattr(ember.nn, name)(*args, **kwargs)
    # Dropout masks need not match torch's draws: their training behaviour is tested statistically below.
    modes = ("eval",) if "Dropout" in name else ("train", "eval")
    check_layer_parity(e, t, *inputs, modes=modes, forward=lambda m, *xs: m(*(x * 1 for x in xs)))


def test_attributes_match_torch():
    pairs = [("PairwiseDistance", (), ["norm", "eps", "keepdim"]), ("CosineSimilarity", (), ["dim", "eps"]),
             ("ZeroPad2d", (1,), ["padding", "value"]), ("ReflectionPad3d", ([1, 2, 3, 4, 5, 6],), ["padding"]),
             ("ConstantPad1d", (3, 2), ["padding", "value"]), ("CircularPad2d", (2,), ["padding"]),
             ("Upsample", (None, (2, 3)), ["name", "size", "scale_factor", "mode", "align_corners",
                                           "recompute_scale_factor"]),
             ("UpsamplingBilinear2d", (4,), ["name", "size", "scale_factor", "mode", "align_corners"]),
             ("Dropout2d", (0.25, True), ["p", "inplace"]), ("PixelShuffle", (3,), ["upscale_factor"]),
             ("ChannelShuffle", (4,), ["groups"])]
    for name, args, attrs in pairs:
        t, e = getattr(torch.nn, name)(*args), getattr(ember.nn, name)(*args)
        assert repr(e) == repr(t)
        for attr in attrs:
            assert getattr(e, attr) == getattr(t, attr) and type(getattr(e, attr)) is type(getattr(t, attr)), \
                (name, attr)
    assert isinstance(ember.nn.ZeroPad2d(1), ember.nn.ConstantPad2d)
    assert isinstance(ember.nn.UpsamplingNearest2d(2), ember.nn.Upsample)


def test_input_dimension_errors_match_torch():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
            lib.nn.CircularPad1d(1)(lib.zeros(1, 1, 1, 3))
        with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
            lib.nn.CircularPad3d(1)(lib.zeros(2, 2, 3))
        for name in ["Dropout", "Dropout2d", "AlphaDropout"]:
            for p in (-0.1, 1.5):
                with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
                    getattr(lib.nn, name)(p)


DROPOUT_FEATURE_DIMS = {"Dropout1d": 1, "Dropout2d": 2, "Dropout3d": 3}


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
@pytest.mark.parametrize("p", [0.2, 0.6])
def test_dropout_training_zeroes_with_rate_p_and_scales_survivors(name, p):
    ember.manual_seed(0)
    spatial = DROPOUT_FEATURE_DIMS.get(name, 0)
    shape = (8, 500) + (2,) * spatial if spatial else (8, 500)
    x = ember.rand(*shape, requires_grad=True) + 0.5
    x.retain_grad()
    layer = getattr(ember.nn, name)(p)
    y = layer(x)
    kept = (y != 0).numpy()
    values = x.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy()[kept], values[kept] / (1 - p), rtol=1e-6)
    assert abs(1 - kept.mean() - p) < 0.03
    if spatial:
        per_channel = kept.reshape(8, 500, -1)
        assert (per_channel.all(-1) | ~per_channel.any(-1)).all(), "feature dropout must drop whole channels"
    y.backward(ember.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    assert layer.train()(x).requires_grad


@pytest.mark.parametrize("name", ["Dropout", "Dropout2d", "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_edge_probabilities(name):
    x = ember.randn(4, 6, 3, 2)
    layer = getattr(ember.nn, name)
    np.testing.assert_array_equal(layer(0.0)(x).numpy(), x.numpy())
    if "Alpha" not in name:
        assert float(layer(1.0)(x).abs().sum()) == 0.0


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_keeps_selu_statistics(name):
    ember.manual_seed(0)
    x = ember.randn(200, 400, 2) if name == "FeatureAlphaDropout" else ember.randn(200, 400)
    y = getattr(ember.nn, name)(0.3)(x)
    assert abs(float(y.mean())) < 0.03 and abs(float(y.std()) - 1) < 0.03
    alpha_prime = -1.7580993408473766
    a = (0.7 * (1 + 0.3 * alpha_prime ** 2)) ** -0.5
    dropped_value = a * alpha_prime + (-a * alpha_prime * 0.3)
    dropped = np.isclose(y.numpy(), dropped_value, atol=1e-6)
    assert abs(dropped.mean() - 0.3) < 0.02
    if name == "FeatureAlphaDropout":
        assert (dropped.all(-1) | ~dropped.any(-1)).all()
    layer = getattr(ember.nn, name)(0.3).eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_dropout_inplace_writes_into_input():
    ember.manual_seed(0)
    x = ember.ones(10, 10)
    y = ember.nn.Dropout(0.5, inplace=True)(x)
    assert y is x and float((x == 0).sum()) > 0 and set(x.unique().tolist()) == {0.0, 2.0}


def test_stateless_layers_have_torch_state_dict_and_submodules():
    for name, args in [("ReflectionPad2d", (1,)), ("PixelShuffle", (2,)), ("Upsample", (None, 2))]:
        assert list(getattr(ember.nn, name)(*args).state_dict()) == list(getattr(torch.nn, name)(*args).state_dict())
    loss = ember.nn.TripletMarginWithDistanceLoss()
    assert [n for n, _ in loss.named_modules()] == ["", "distance_function"]


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": 2}])
def test_fold_unfold_match_torch(kwargs):
    from tests.nn.parity import check_layer_parity
    x = torch.randn(2, 3, 6, 7)
    check_layer_parity(ember.nn.Unfold(**kwargs), torch.nn.Unfold(**kwargs), x)
    columns = torch.nn.Unfold(**kwargs)(x).detach()
    check_layer_parity(ember.nn.Fold((6, 7), **kwargs), torch.nn.Fold((6, 7), **kwargs), columns)
