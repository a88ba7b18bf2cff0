"""Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten against torch.nn (tests/nn/parity.py)."""

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests.nn.parity import assert_close, check_layer_parity, to_ember


@pytest.mark.parametrize("args,kwargs,shape", [
    ((4, 3), {}, (5, 4)),
    ((4, 3), {"bias": False}, (2, 6, 4)),
    ((4, 1), {}, (4,)),
    ((1, 5), {}, (3, 2, 2, 1)),
    ((3, 2), {}, (0, 3)),
])
def test_linear_parity(args, kwargs, shape):
    check_layer_parity(nn.Linear(*args, **kwargs), torch.nn.Linear(*args, **kwargs), torch.randn(*shape))


def test_linear_float64():
    e, t = nn.Linear(3, 2, dtype=ember.float64), torch.nn.Linear(3, 2, dtype=torch.float64)
    assert e.weight.dtype == ember.float64 and e.bias.dtype == ember.float64
    check_layer_parity(e, t, torch.randn(4, 3, dtype=torch.float64), rtol=1e-12, atol=1e-12)


def test_linear_double_after_construction():
    e, t = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    check_layer_parity(e, t, torch.randn(4, 3, dtype=torch.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args,kwargs,shapes", [
    ((3, 4, 2), {}, [(5, 3), (5, 4)]),
    ((2, 3, 4), {"bias": False}, [(2, 3, 2), (2, 3, 3)]),
    ((1, 1, 1), {}, [(3, 1), (3, 1)]),
])
def test_bilinear_parity(args, kwargs, shapes):
    check_layer_parity(nn.Bilinear(*args, **kwargs), torch.nn.Bilinear(*args, **kwargs),
                       *[torch.randn(*s) for s in shapes], rtol=1e-5)


def test_identity_parity():
    check_layer_parity(nn.Identity(3, foo=1), torch.nn.Identity(3, foo=1), torch.randn(2, 3))


@pytest.mark.parametrize("args,shape", [((), (2, 3, 4)), ((0, -1), (2, 3, 4)), ((-3, -2), (2, 3, 4, 5)),
                                        ((1, 1), (2, 3)), ((2,), (1, 2, 3, 4))])
def test_flatten_parity(args, shape):
    e, t = check_layer_parity(nn.Flatten(*args), torch.nn.Flatten(*args), torch.randn(*shape))
    assert tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 6), (3, 12)), (-1, [2, -1], (2, 8)), (0, (1, 2), (2, 3)),
                                             (1, (3,), (2, 3, 4))])
def test_unflatten_parity(dim, sizes, shape):
    check_layer_parity(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), torch.randn(*shape))


@pytest.mark.parametrize("sizes", [(2, 2.0), 4, "ab", None])
def test_unflatten_bad_sizes(sizes):
    with pytest.raises(TypeError):
        torch.nn.Unflatten(1, sizes)
    with pytest.raises(TypeError):
        nn.Unflatten(1, sizes)


def test_flatten_bad_dims_raise_like_torch():
    x = torch.randn(2, 3)
    with pytest.raises(IndexError):
        torch.nn.Flatten(3)(x)
    with pytest.raises(IndexError):
        nn.Flatten(3)(to_ember(x))
    with pytest.raises(RuntimeError):
        torch.nn.Unflatten(1, (2, 2))(x)
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (2, 2))(to_ember(x))


@pytest.mark.parametrize("make", [
    lambda lib: lib.Linear(-1, 3), lambda lib: lib.Linear(2.5, 3), lambda lib: lib.Linear("a", 3),
    lambda lib: lib.Bilinear(0, 2, 3), lambda lib: lib.Bilinear(2, -2, 3), lambda lib: lib.Bilinear(2, 2, 3.0),
])
def test_constructor_errors_match_torch(make):
    with pytest.raises(Exception) as torch_error:
        make(torch.nn)
    with pytest.raises(torch_error.type):
        make(nn)


def test_device_kwarg():
    assert nn.Linear(2, 3, device="cpu").weight.device.type == "cpu"
    with pytest.raises(RuntimeError):
        nn.Linear(2, 3, device="cuda")


def test_linear_wrong_input_raises():
    with pytest.raises(RuntimeError):
        nn.Linear(3, 2)(ember.ones(2, 4))
    with pytest.raises(RuntimeError):
        nn.Bilinear(3, 4, 2)(ember.ones(2, 3), ember.ones(2, 3))


def test_linear_zero_in_features_warns_and_zero_bias():
    with pytest.warns(UserWarning, match="zero-element"):
        lin = nn.Linear(0, 3)
    assert lin.bias.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.filterwarnings("ignore:Initializing zero-element")
def test_linear_zero_in_features_forward():
    check_layer_parity(nn.Linear(0, 3), torch.nn.Linear(0, 3), torch.randn(2, 0))


@pytest.mark.parametrize("layer", ["linear", "bilinear"])
def test_default_init_distribution(layer):
    ember.manual_seed(0)
    if layer == "linear":
        module, fan_in = nn.Linear(100, 200), 100
    else:
        module, fan_in = nn.Bilinear(40, 30, 200), 40
    bound = 1 / math.sqrt(fan_in)
    for name, p in module.named_parameters():
        values = p.detach().numpy().astype(np.float64)
        assert values.min() >= -bound and values.max() <= bound, name
        if values.size >= 1000:
            assert abs(values.mean()) < 0.05 * bound and abs(values.std() - bound / math.sqrt(3)) < 0.03 * bound, name
        assert values.max() > 0.9 * bound and values.min() < -0.9 * bound, name
    torch_module = torch.nn.Linear(100, 200) if layer == "linear" else torch.nn.Bilinear(40, 30, 200)
    torch_std = torch_module.weight.detach().double().std().item()
    assert abs(module.weight.detach().numpy().std() - torch_std) < 0.03 * bound


def test_reset_parameters_uses_generator_seed():
    ember.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy()
    ember.manual_seed(3)
    b = nn.Linear(4, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_linear_attributes_and_state_dict():
    e, t = nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)
    assert (e.in_features, e.out_features, e.bias) == (t.in_features, t.out_features, None)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert isinstance(e.weight, nn.Parameter) and e.weight.requires_grad


def test_lazy_linear_materializes_then_becomes_linear():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.LazyLinear(3)
    e = nn.LazyLinear(3)
    assert repr(e) == repr(t)
    assert isinstance(e.weight, nn.UninitializedParameter) and e.has_uninitialized_params()
    x = torch.randn(4, 5)
    t(x)
    ember.manual_seed(0)
    out = e(to_ember(x))
    assert type(e) is nn.Linear and type(e.weight) is nn.Parameter and repr(e) == repr(t)
    assert tuple(out.shape) == (4, 3) and e.in_features == 5 and not e._forward_pre_hooks
    bound = 1 / math.sqrt(5)
    assert float(e.weight.abs().max()) <= bound and float(e.bias.abs().max()) <= bound
    check_layer_parity(e, t, torch.randn(2, 5))


def test_lazy_linear_dtype_and_no_bias():
    e = nn.LazyLinear(2, bias=False, dtype=ember.float64)
    out = e(ember.ones(3, 4, dtype=ember.float64))
    assert e.weight.dtype == ember.float64 and out.dtype == ember.float64 and e.bias is None
    assert list(e.state_dict()) == ["weight"]


def test_lazy_linear_loads_checkpoint_before_forward():
    t = torch.nn.Linear(6, 2)
    e = nn.LazyLinear(2)
    e.load_state_dict({k: to_ember(v) for k, v in t.state_dict().items()})
    assert not e.has_uninitialized_params() and tuple(e.weight.shape) == (2, 6)
    x = torch.randn(3, 6)
    assert_close(e(to_ember(x)), t(x))
    assert type(e) is nn.Linear and e.in_features == 6


def test_lazy_linear_state_dict_before_forward():
    e = nn.LazyLinear(2)
    state = e.state_dict()
    assert list(state) == ["weight", "bias"] and all(isinstance(v, nn.UninitializedParameter) for v in state.values())


def test_lazy_linear_deepcopy_before_forward():
    import copy
    lazy = nn.LazyLinear(3)
    twin = copy.deepcopy(lazy)
    twin(ember.ones(2, 4))
    assert type(twin) is nn.Linear and type(lazy) is nn.LazyLinear and lazy.has_uninitialized_params()
