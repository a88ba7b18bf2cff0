"""Activation layers against torch.nn: repr, state_dict, outputs and gradients (tests/nn/parity.py)."""

from __future__ import annotations

import warnings

import pytest
import torch

import ember
from tests.nn.parity import check_layer_parity, to_ember

# (class name, constructor args, constructor kwargs); every layer runs on a (2, 4, 6) input.
CASES = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {"inplace": True}),
    ("PReLU", (), {}), ("PReLU", (), {"num_parameters": 4, "init": 0.1}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}),
    ("CELU", (), {}), ("CELU", (), {"alpha": 2.0, "inplace": True}),
    ("SELU", (), {}), ("SELU", (), {"inplace": True}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("SiLU", (), {"inplace": True}),
    ("Mish", (), {}), ("Mish", (), {"inplace": True}),
    ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-0.5, 0.7), {"inplace": True}),
    ("Hardsigmoid", (), {}), ("Hardsigmoid", (), {"inplace": True}),
    ("Hardswish", (), {}), ("Hardswish", (), {"inplace": True}),
    ("Hardshrink", (), {}), ("Hardshrink", (0.3,), {}),
    ("Softshrink", (), {}), ("Softshrink", (), {"lambd": 0.3}),
    ("Tanhshrink", (), {}), ("Softsign", (), {}), ("LogSigmoid", (), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 1.0), {}),
    ("Threshold", (0.1, -2.0), {}), ("Threshold", (0.1, -2.0, True), {}),
    ("GLU", (), {}), ("GLU", (1,), {}),
    ("RReLU", (), {}), ("RReLU", (0.1, 0.2), {"inplace": True}),
    ("Softmax", (), {"dim": 1}), ("Softmax", (-1,), {}), ("Softmax", (), {}),
    ("LogSoftmax", (), {"dim": 1}), ("LogSoftmax", (), {}),
    ("Softmin", (), {"dim": 2}), ("Softmin", (), {}),
    ("Softmax2d", (), {}),
]


def _case_id(case):
    name, args, kwargs = case
    return name + "".join(f"-{a}" for a in args) + "".join(f"-{k}={v}" for k, v in kwargs.items())


def _call_on_copy(module, x):
    # In-place layers may not write into a leaf that requires grad (torch refuses), so feed them a fresh non-leaf.
    return module(x * 1)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_activation_matches_torch(case):
    name, args, kwargs = case
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Implicit dimension choice")
        t = getattr(torch.nn, name)(*args, **kwargs)
        e = getattr(ember.nn, name)(*args, **kwargs)
        # RReLU draws its slopes at random in training; its training behaviour is tested below.
        modes = ("eval",) if name == "RReLU" else ("train", "eval")
        check_layer_parity(e, t, x, modes=modes, forward=_call_on_copy)


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU", "Hardtanh", "Threshold"])
def test_inplace_layers_write_into_their_input(name):
    args = (0.0, -1.0) if name == "Threshold" else ()
    x = torch.randn(3, 5)
    t_in, e_in = x.clone(), to_ember(x)
    t_out = getattr(torch.nn, name)(*args, inplace=True)(t_in)
    e_out = getattr(ember.nn, name)(*args, inplace=True)(e_in)
    assert e_out is e_in and t_out is t_in
    assert torch.equal(torch.from_numpy(e_in.numpy()), t_in)


def test_rrelu_training_draws_slopes_in_range_and_backpropagates_them():
    ember.manual_seed(0)
    x = ember.full((4000,), -1.0, requires_grad=True)
    y = ember.nn.RReLU(0.1, 0.3)(x)
    slopes = -y.detach()
    assert float(slopes.min()) >= 0.1 and float(slopes.max()) <= 0.3
    assert abs(float(slopes.mean()) - 0.2) < 0.01 and float(slopes.std()) > 0.04
    y.sum().backward()
    assert torch.allclose(torch.from_numpy(x.grad.numpy()), torch.from_numpy(slopes.numpy()))
    positive = ember.nn.RReLU()(ember.tensor([0.5, 2.0]))
    assert positive.tolist() == [0.5, 2.0]


def test_prelu_parameters_dtype_and_state_dict_match_torch():
    t, e = torch.nn.PReLU(3, init=0.3, dtype=torch.float64), ember.nn.PReLU(3, init=0.3, dtype=ember.float64)
    assert e.weight.dtype == ember.float64 and e.weight.requires_grad
    assert e.weight.tolist() == pytest.approx(t.weight.tolist())
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    x = torch.randn(2, 3, 5, dtype=torch.float64)
    check_layer_parity(e, t, x)
    e.weight.data.fill_(0.0)
    e.reset_parameters()
    assert e.weight.tolist() == pytest.approx([0.3] * 3)


def test_attributes_and_defaults_match_torch():
    for name, attrs in [("LeakyReLU", ["negative_slope", "inplace"]), ("RReLU", ["lower", "upper", "inplace"]),
                        ("Hardtanh", ["min_val", "max_val", "inplace"]), ("ReLU6", ["min_val", "max_val", "inplace"]),
                        ("Softplus", ["beta", "threshold"]), ("GELU", ["approximate"]), ("GLU", ["dim"]),
                        ("Softmax", ["dim"]), ("ELU", ["alpha", "inplace"]), ("PReLU", ["num_parameters", "init"])]:
        t, e = getattr(torch.nn, name)(), getattr(ember.nn, name)()
        for attr in attrs:
            assert getattr(e, attr) == getattr(t, attr), (name, attr)
    assert isinstance(ember.nn.ReLU6(), ember.nn.Hardtanh)


def test_constructor_errors_and_deprecations_match_torch():
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match="must be greater than min_val"):
            lib.nn.Hardtanh(1.0, 1.0)
        with pytest.warns(FutureWarning, match="min_value"):
            m = lib.nn.Hardtanh(min_value=-2.0)
        assert m.min_val == -2.0
    with pytest.raises(ValueError, match="3D or 4D"):
        ember.nn.Softmax2d()(ember.zeros(2, 2))


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ember.nn.Softmax()(ember.zeros(2, 3))
