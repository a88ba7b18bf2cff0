"""``ember.nn.utils.parametrize`` and ``parametrizations`` against torch: the injected class and property, state-dict
layout, values and gradients through parametrizations, right_inverse, removal, caching, and the errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from ember.nn.utils import parametrizations as E_P
from ember.nn.utils import parametrize as E
from tests.nn.parity import assert_close, copy_torch_state, to_ember, to_torch

T = torch.nn.utils.parametrize
T_P = torch.nn.utils.parametrizations


def _define(nn):
    """The same user parametrizations written against torch.nn or ember.nn."""

    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, X):
            return X * self.factor

        def right_inverse(self, Y):
            return Y / self.factor

    class RankOne(nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone()

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:-1]

    return Symmetric, Scale, RankOne, Shrink


T_SYM, T_SCALE, T_RANK1, T_SHRINK = _define(torch.nn)
E_SYM, E_SCALE, E_RANK1, E_SHRINK = _define(ember.nn)


def _linear_pair(in_features=3, out_features=3, bias=True):
    torch.manual_seed(0)
    layer_t = torch.nn.Linear(in_features, out_features, bias=bias)
    layer_e = ember.nn.Linear(in_features, out_features, bias=bias)
    copy_torch_state(layer_e, layer_t)
    return layer_t, layer_e


def _check_forward_backward(layer_e, layer_t, x, params=None, atol=1e-5):
    out_t = layer_t(x)
    out_e = layer_e(to_ember(x))
    assert_close(out_e, out_t, atol=atol, what="output")
    weights = torch.linspace(-1, 1, out_t.numel()).reshape(out_t.shape)
    out_t.backward(weights)
    out_e.backward(to_ember(weights))
    ember_params = dict(layer_e.named_parameters())
    names = [n for n, _ in layer_t.named_parameters()]
    assert list(ember_params) == names
    for name, p in layer_t.named_parameters():
        if params is None or name in params:
            assert_close(ember_params[name].grad, p.grad, atol=atol, what=f"grad of {name}")


# ------------------------------------------------------------------------------------------------ parametrize
def test_register_parametrization_layout_values_and_grads():
    layer_t, layer_e = _linear_pair()
    weight_e = layer_e.weight
    T.register_parametrization(layer_t, "weight", T_SYM())
    returned = E.register_parametrization(layer_e, "weight", E_SYM())
    assert returned is layer_e
    assert type(layer_e).__name__ == type(layer_t).__name__ == "ParametrizedLinear"
    assert isinstance(layer_e, ember.nn.Linear) and type(layer_e).__bases__ == (ember.nn.Linear,)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert repr(layer_e) == repr(layer_t)
    # The registered original is the very Parameter the module held (optimizers keep working), set to right_inverse.
    assert layer_e.parametrizations.weight.original is weight_e
    assert_close(layer_e.parametrizations.weight.original, layer_t.parametrizations.weight.original)
    assert_close(layer_e.weight, layer_t.weight)
    assert E.is_parametrized(layer_e) and E.is_parametrized(layer_e, "weight") and not E.is_parametrized(layer_e, "bias")
    assert E.type_before_parametrizations(layer_e) is ember.nn.Linear
    _check_forward_backward(layer_e, layer_t, torch.randn(2, 3))


def test_chained_parametrizations_and_right_inverse_assignment():
    layer_t, layer_e = _linear_pair()
    for lib, layer, sym, scale in ((T, layer_t, T_SYM, T_SCALE), (E, layer_e, E_SYM, E_SCALE)):
        lib.register_parametrization(layer, "weight", sym())
        lib.register_parametrization(layer, "weight", scale(3.0))
        lib.register_parametrization(layer, "bias", scale(2.0))
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert repr(layer_e) == repr(layer_t)
    assert_close(layer_e.weight, layer_t.weight)
    _check_forward_backward(layer_e, layer_t, torch.randn(2, 3))
    value = torch.arange(9.0).reshape(3, 3)
    original_id = id(layer_e.parametrizations.weight.original)
    layer_t.weight = value
    layer_e.weight = to_ember(value)
    assert id(layer_e.parametrizations.weight.original) == original_id
    assert_close(layer_e.parametrizations.weight.original, layer_t.parametrizations.weight.original)
    assert_close(layer_e.weight, layer_t.weight)


def test_multi_tensor_right_inverse():
    layer_t, layer_e = _linear_pair(3, 3, bias=False)
    T.register_parametrization(layer_t, "weight", T_RANK1())
    E.register_parametrization(layer_e, "weight", E_RANK1())
    assert list(layer_e.state_dict()) == list(layer_t.state_dict()) == ["parametrizations.weight.original0",
                                                                        "parametrizations.weight.original1"]
    assert layer_e.parametrizations.weight.ntensors == 2 and not layer_e.parametrizations.weight.is_tensor
    assert_close(layer_e.weight, layer_t.weight)
    _check_forward_backward(layer_e, layer_t, torch.randn(2, 3))
    value = torch.randn(3, 3)
    layer_t.weight = value
    layer_e.weight = to_ember(value)
    assert_close(layer_e.weight, layer_t.weight)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        E.remove_parametrizations(layer_e, "weight", leave_parametrized=False)
    T.remove_parametrizations(layer_t, "weight")
    E.remove_parametrizations(layer_e, "weight")
    assert isinstance(layer_e.weight, ember.nn.Parameter) and type(layer_e) is ember.nn.Linear
    assert_close(layer_e.weight, layer_t.weight)


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations(leave_parametrized):
    layer_t, layer_e = _linear_pair()
    for lib, layer, sym, scale in ((T, layer_t, T_SYM, T_SCALE), (E, layer_e, E_SYM, E_SCALE)):
        lib.register_parametrization(layer, "weight", sym())
        lib.register_parametrization(layer, "bias", scale(2.0))
    original = layer_e.parametrizations.weight.original
    T.remove_parametrizations(layer_t, "weight", leave_parametrized=leave_parametrized)
    E.remove_parametrizations(layer_e, "weight", leave_parametrized=leave_parametrized)
    assert type(layer_e).__name__ == "ParametrizedLinear"  # bias is still parametrized
    assert layer_e.weight is original
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert_close(layer_e.weight, layer_t.weight)
    T.remove_parametrizations(layer_t, "bias", leave_parametrized=leave_parametrized)
    E.remove_parametrizations(layer_e, "bias", leave_parametrized=leave_parametrized)
    assert type(layer_e) is ember.nn.Linear and not hasattr(layer_e, "parametrizations")
    assert not hasattr(type(layer_e), "weight")
    assert list(layer_e.state_dict()) == list(layer_t.state_dict()) == ["weight", "bias"]
    assert_close(layer_e.bias, layer_t.bias)
    _check_forward_backward(layer_e, layer_t, torch.randn(2, 3))


def test_parametrize_a_buffer_and_unsafe():
    class Holder(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("table", ember.arange(6.0).reshape(3, 2))

    holder = E.register_parametrization(Holder(), "table", E_SCALE(2.0))
    assert list(holder.state_dict()) == ["parametrizations.table.original"]
    assert not holder.parametrizations.table.original.requires_grad
    assert_close(holder.table, torch.arange(6.0).reshape(3, 2))
    layer = E.register_parametrization(ember.nn.Linear(2, 3), "weight", E_SHRINK(), unsafe=True)
    assert layer.weight.shape == (2, 2)
    assert layer.parametrizations.weight.unsafe


def test_cached():
    layer = E.register_parametrization(ember.nn.Linear(2, 2), "weight", E_SCALE(2.0))
    assert layer.weight is not layer.weight
    with E.cached():
        first = layer.weight
        assert layer.weight is first
        with E.cached():
            assert layer.weight is first
        assert layer.weight is first
    assert layer.weight is not first
    assert not E._cache


def test_deepcopy_and_pickle():
    layer = E.register_parametrization(ember.nn.Linear(2, 2), "weight", E_SCALE(2.0))
    clone = copy.deepcopy(layer)
    assert type(clone) is type(layer)
    assert clone.parametrizations.weight.original is not layer.parametrizations.weight.original
    assert_close(clone.weight, to_torch(layer.weight))
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported through state_dict"):
        pickle.dumps(layer)


def test_transfer_parametrizations_and_params():
    source = E.register_parametrization(ember.nn.Linear(2, 2), "weight", E_SCALE(2.0))
    target = E.transfer_parametrizations_and_params(source, ember.nn.Linear(2, 2))
    assert E.is_parametrized(target, "weight")
    assert_close(target.weight, to_torch(source.weight))


def test_parametrize_errors():
    layer = ember.nn.Linear(3, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name 'w'"):
        E.register_parametrization(layer, "w", E_SCALE(2.0))
    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless `unsafe` flag is enabled"):
        E.register_parametrization(layer, "weight", E_SHRINK())
    assert type(layer) is ember.nn.Linear and "weight" in layer._parameters  # left untouched

    class ToDouble(ember.nn.Module):
        def forward(self, X):
            return X.double()

    with pytest.raises(ValueError, match="may not change the dtype"):
        E.register_parametrization(layer, "weight", ToDouble())
    E.register_parametrization(layer, "weight", E_SCALE(2.0))
    with pytest.raises(ValueError, match=r"module.weight.shape"):
        E.register_parametrization(layer, "weight", E_SHRINK())
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        E.remove_parametrizations(layer, "bias")
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        layer.weight = ember.nn.Parameter(ember.ones(3, 3))
    with pytest.raises(ValueError, match="requires one or more modules"):
        E.ParametrizationList([], ember.ones(1))


def test_right_inverse_missing_raises_on_assignment():
    class NoInverse(ember.nn.Module):
        def forward(self, X):
            return X * 2

    layer = E.register_parametrization(ember.nn.Linear(2, 2), "weight", NoInverse())
    with pytest.raises(RuntimeError, match="parametrization NoInverse does not implement right_inverse"):
        layer.weight = ember.ones(2, 2)


# ------------------------------------------------------------------------------------------------ weight_norm
@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", None), ("conv", 0), ("conv", 2)])
def test_parametrizations_weight_norm(kind, dim):
    torch.manual_seed(0)
    if kind == "linear":
        layer_t, layer_e, x = torch.nn.Linear(4, 3), ember.nn.Linear(4, 3), torch.randn(2, 4)
    else:
        layer_t, layer_e, x = torch.nn.Conv2d(2, 3, 3), ember.nn.Conv2d(2, 3, 3), torch.randn(1, 2, 5, 5)
    copy_torch_state(layer_e, layer_t)
    T_P.weight_norm(layer_t, dim=dim)
    E_P.weight_norm(layer_e, dim=dim)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert repr(layer_e) == repr(layer_t)
    for key, value in layer_t.state_dict().items():
        assert_close(layer_e.state_dict()[key], value, what=key)
    with torch.no_grad():
        layer_t.parametrizations.weight.original0.mul_(1.3)
        layer_t.parametrizations.weight.original1.add_(0.05)
    copy_torch_state(layer_e, layer_t)
    _check_forward_backward(layer_e, layer_t, x)
    T.remove_parametrizations(layer_t, "weight")
    E.remove_parametrizations(layer_e, "weight")
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert_close(layer_e.weight, layer_t.weight)


def test_parametrizations_weight_norm_loads_old_state_dict():
    torch.manual_seed(0)
    old_t = torch.nn.Linear(4, 3)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(old_t)
    old_state = {k: to_ember(v) for k, v in old_t.state_dict().items()}
    assert sorted(old_state) == ["bias", "weight_g", "weight_v"]
    layer_e = E_P.weight_norm(ember.nn.Linear(4, 3))
    assert layer_e.load_state_dict(old_state).missing_keys == []
    assert_close(layer_e.weight, old_t.weight)


# ------------------------------------------------------------------------------------------------ spectral_norm
@pytest.mark.parametrize("kind,kwargs", [("linear", {}), ("linear", {"n_power_iterations": 2, "dim": 1}),
                                         ("conv", {}), ("convT", {})])
def test_parametrizations_spectral_norm(kind, kwargs):
    torch.manual_seed(0)
    if kind == "linear":
        layer_t, layer_e, x = torch.nn.Linear(5, 4), ember.nn.Linear(5, 4), torch.randn(3, 5)
    elif kind == "conv":
        layer_t, layer_e, x = torch.nn.Conv2d(2, 3, 3), ember.nn.Conv2d(2, 3, 3), torch.randn(1, 2, 5, 5)
    else:
        layer_t, layer_e, x = torch.nn.ConvTranspose2d(3, 2, 3), ember.nn.ConvTranspose2d(3, 2, 3), torch.randn(1, 3, 4, 4)
    copy_torch_state(layer_e, layer_t)
    T_P.spectral_norm(layer_t, **kwargs)
    E_P.spectral_norm(layer_e, **kwargs)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert repr(layer_e) == repr(layer_t)
    assert layer_e.parametrizations.weight[0].dim == layer_t.parametrizations.weight[0].dim
    copy_torch_state(layer_e, layer_t)  # the random initial u and v
    sn_t, sn_e = layer_t.parametrizations.weight[0], layer_e.parametrizations.weight[0]
    u_buffer = sn_e._u
    for step in range(3):
        _check_forward_backward(layer_e, layer_t, x)
        assert_close(sn_e._u, sn_t._u, what=f"u step {step}")
        assert_close(sn_e._v, sn_t._v, what=f"v step {step}")
        layer_t.zero_grad()
        layer_e.zero_grad()
    assert sn_e._u is u_buffer  # the power iteration writes in place
    layer_t.eval()
    layer_e.eval()
    u_before = sn_e._u.clone()
    _check_forward_backward(layer_e, layer_t, x)
    assert_close(sn_e._u, to_torch(u_before), what="eval mode leaves u alone")


def test_spectral_norm_power_method_from_same_start():
    # The 15 warm-up iterations at construction, from u and v copied out of torch.
    weight = torch.randn(4, 6)
    sn_t = T_P._SpectralNorm(weight)
    sn_e = E_P._SpectralNorm(to_ember(weight))
    start_u, start_v = torch.randn(4), torch.randn(6)
    sn_t._u.copy_(torch.nn.functional.normalize(start_u, dim=0))
    sn_t._v.copy_(torch.nn.functional.normalize(start_v, dim=0))
    sn_e._u.copy_(to_ember(sn_t._u))
    sn_e._v.copy_(to_ember(sn_t._v))
    sn_t._power_method(weight, 15)
    sn_e._power_method(to_ember(weight), 15)
    assert_close(sn_e._u, sn_t._u)
    assert_close(sn_e._v, sn_t._v)


def test_spectral_norm_1d_and_errors():
    bias_t = torch.randn(5)
    sn_t, sn_e = T_P._SpectralNorm(bias_t), E_P._SpectralNorm(to_ember(bias_t))
    assert list(sn_e.state_dict()) == list(sn_t.state_dict()) == []
    assert_close(sn_e(to_ember(bias_t)), sn_t(bias_t))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] but got 2\)"):
        E_P.spectral_norm(ember.nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        E_P.spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        E_P.spectral_norm(ember.nn.Linear(2, 2), name="w")


# ------------------------------------------------------------------------------------------------ orthogonal
@pytest.mark.parametrize("shape,orthogonal_map,use_trivialization", [
    ((4, 4), None, True),
    ((4, 4), "cayley", True),
    ((4, 4), "householder", True),
    ((3, 5), None, True),
    ((5, 3), "matrix_exp", True),
    ((3, 5), "cayley", True),
    ((5, 3), "householder", False),
    ((4, 4), "householder", False),
    ((3, 5), "householder", False),
])
def test_orthogonal_matches_torch(shape, orthogonal_map, use_trivialization):
    out_features, in_features = shape
    layer_t, layer_e = _linear_pair(in_features, out_features)
    T_P.orthogonal(layer_t, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    E_P.orthogonal(layer_e, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert repr(layer_e) == repr(layer_t)
    if shape[0] == shape[1] or not use_trivialization:  # rectangular completion draws random numbers
        for key, value in layer_t.state_dict().items():
            assert_close(layer_e.state_dict()[key], value, atol=1e-5, what=key)
    weight = layer_e.weight
    gram = weight @ weight.T if shape[0] <= shape[1] else weight.T @ weight
    assert float((gram - ember.eye(min(shape))).abs().max()) < 1e-5
    # Move the parameter off its initial point so the map is exercised away from the identity.
    with torch.no_grad():
        layer_t.parametrizations.weight.original.add_(torch.randn(shape) * 0.3)
    copy_torch_state(layer_e, layer_t)
    assert_close(layer_e.weight, layer_t.weight, atol=1e-5)
    _check_forward_backward(layer_e, layer_t, torch.randn(2, in_features), atol=1e-5)


def test_orthogonal_assignment_and_batches():
    torch.manual_seed(0)
    layer_t, layer_e = _linear_pair(4, 4)
    T_P.orthogonal(layer_t)
    E_P.orthogonal(layer_e)
    q = torch.linalg.qr(torch.randn(4, 4)).Q
    layer_t.weight = q
    layer_e.weight = to_ember(q)
    assert_close(layer_e.weight, layer_t.weight, atol=1e-5)
    for key, value in layer_t.state_dict().items():
        assert_close(layer_e.state_dict()[key], value, atol=1e-5, what=key)
    not_orthogonal = torch.randn(4, 4)
    layer_t.weight = not_orthogonal
    layer_e.weight = to_ember(not_orthogonal)
    assert_close(layer_e.weight, layer_t.weight, atol=1e-5)

    class Batched(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = ember.nn.Parameter(ember.randn(2, 3, 3))

    batched = E_P.orthogonal(Batched(), orthogonal_map="householder")
    w = batched.weight
    assert float((w @ w.mT - ember.eye(3)).abs().max()) < 1e-5


def test_orthogonal_gradgrad_and_errors():
    from ember.nn.utils.parametrizations import _matrix_exp
    a = ember.tensor(np.random.RandomState(0).randn(3, 3) * 0.5, requires_grad=True)
    assert ember.autograd.gradcheck(_matrix_exp, (a,))
    assert ember.autograd.gradgradcheck(_matrix_exp, (a,))
    assert_close(_matrix_exp(a), torch.matrix_exp(to_torch(a)), atol=1e-12, rtol=1e-10)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
        E_P.orthogonal(ember.nn.Linear(2, 2), name="bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
        E_P.orthogonal(ember.nn.Linear(2, 2), orthogonal_map="svd")
    # Registration treats the missing inverse as the identity (as torch); assigning a value then raises.
    cayley = E_P.orthogonal(ember.nn.Linear(2, 2), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        cayley.weight = ember.eye(2)
    layer = E_P.orthogonal(ember.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        layer.parametrizations.weight[0].right_inverse(ember.ones(3, 3))
