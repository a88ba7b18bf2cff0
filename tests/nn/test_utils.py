"""``ember.nn.utils`` against ``torch.nn.utils``: gradient clipping, parameter vectors, hook-based weight/spectral
norm and conv/linear-bn fusion."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.nn.parity import assert_close, copy_torch_state, to_ember, to_torch


def _param_pairs(shapes, dtypes=None, seed=0, none_grad=()):
    """Matching torch/ember parameters with the same random gradients (index in ``none_grad``: no gradient)."""
    rs = np.random.RandomState(seed)
    dtypes = dtypes or ["float32"] * len(shapes)
    torch_params, ember_params = [], []
    for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        tp = torch.nn.Parameter(torch.zeros(shape, dtype=getattr(torch, dtype)))
        ep = ember.nn.Parameter(ember.zeros(shape, dtype=getattr(ember, dtype)))
        if i not in none_grad:
            grad = rs.randn(*shape) * 3
            tp.grad = torch.tensor(grad).to(tp.dtype)
            ep.grad = ember.tensor(grad).to(ep.dtype)
        torch_params.append(tp)
        ember_params.append(ep)
    return torch_params, ember_params


def _assert_grads(ember_params, torch_params, atol=1e-6):
    for e, t in zip(ember_params, torch_params):
        assert_close(e.grad, t.grad, atol=atol, what="grad")


# ------------------------------------------------------------------------------------------------ clip_grad
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5, 3.0, "inf"])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_matches_torch(norm_type, foreach):
    tp, ep = _param_pairs([(3, 4), (5,), (2, 2), ()], none_grad=(2,))
    total_t = torch.nn.utils.clip_grad_norm_(tp, 1.5, norm_type, foreach=foreach)
    total_e = ember.nn.utils.clip_grad_norm_(ep, 1.5, norm_type, foreach=foreach)
    assert_close(total_e, total_t, what="total norm")
    _assert_grads(ep, tp)
    assert ep[2].grad is None


def test_clip_grad_norm_mixed_dtypes_and_no_clipping():
    tp, ep = _param_pairs([(3, 4), (5,), (6,)], dtypes=["float64", "float32", "float16"])
    assert_close(ember.nn.utils.clip_grad_norm_(ep, 2.0), torch.nn.utils.clip_grad_norm_(tp, 2.0), atol=1e-3)
    # float16 gradients: torch multiplies in float32 and rounds once; ember rounds the coefficient to float16 first.
    _assert_grads(ep, tp, atol=1e-3)
    tp, ep = _param_pairs([(3,), (2,)])
    before = [p.grad.clone() for p in ep]
    assert_close(ember.nn.utils.clip_grad_norm_(ep, 1e6), torch.nn.utils.clip_grad_norm_(tp, 1e6))
    for b, p in zip(before, ep):
        assert_close(p.grad, to_torch(b))


def test_clip_grad_norm_input_forms():
    tp, ep = _param_pairs([(4,)])
    assert_close(ember.nn.utils.clip_grad_norm_(ep[0], 1.0), torch.nn.utils.clip_grad_norm_(tp[0], 1.0))
    _assert_grads(ep, tp)
    tp, ep = _param_pairs([(4,), (3,)])
    assert_close(ember.nn.utils.clip_grad_norm_(iter(ep), 1.0), torch.nn.utils.clip_grad_norm_(iter(tp), 1.0))
    _assert_grads(ep, tp)
    empty_e = ember.nn.utils.clip_grad_norm_([], 1.0)
    assert_close(empty_e, torch.nn.utils.clip_grad_norm_([], 1.0))
    with pytest.warns(UserWarning, match="empty generator"):
        ember.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(FutureWarning, match="deprecated"):
        total = ember.nn.utils.clip_grad_norm(ep, 1.0)
    assert total.shape == ()


def test_clip_grad_norm_is_not_recorded_by_autograd():
    w = ember.nn.Parameter(ember.ones(3))
    (w * w).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    total = ember.nn.utils.clip_grad_norm_([w], 1.0)
    assert not total.requires_grad


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_nonfinite(bad):
    tp, ep = _param_pairs([(3,), (2,)])
    tp[0].grad[1] = bad
    ep[0].grad[1] = bad
    with pytest.raises(RuntimeError, match=r"The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        ember.nn.utils.clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match=r"The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        torch.nn.utils.clip_grad_norm_(tp, 1.0, error_if_nonfinite=True)
    assert_close(ember.nn.utils.clip_grad_norm_(ep, 1.0), torch.nn.utils.clip_grad_norm_(tp, 1.0))
    for e, t in zip(ep, tp):
        np.testing.assert_array_equal(np.isnan(e.grad.numpy()), np.isnan(t.grad.numpy()))


def test_get_total_norm_and_clip_grads_with_norm():
    tp, ep = _param_pairs([(3, 2), (4,)])
    norm_t = torch.nn.utils.get_total_norm([p.grad for p in tp], 3.0)
    norm_e = ember.nn.utils.get_total_norm([p.grad for p in ep], 3.0)
    assert_close(norm_e, norm_t)
    torch.nn.utils.clip_grads_with_norm_(tp, 0.7, norm_t)
    assert ember.nn.utils.clip_grads_with_norm_(ep, 0.7, norm_e) is None
    _assert_grads(ep, tp)
    assert_close(ember.nn.utils.get_total_norm(ember.tensor([3.0, 4.0])), torch.nn.utils.get_total_norm(torch.tensor([3.0, 4.0])))


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_matches_torch(foreach):
    tp, ep = _param_pairs([(3, 4), (5,), (2,)], dtypes=["float32", "float64", "float16"], none_grad=(2,))
    assert torch.nn.utils.clip_grad_value_(tp, 1.25, foreach=foreach) is None
    assert ember.nn.utils.clip_grad_value_(ep, 1.25, foreach=foreach) is None
    _assert_grads(ep, tp)
    tp, ep = _param_pairs([(6,)])
    torch.nn.utils.clip_grad_value_(tp[0], 0.5)
    ember.nn.utils.clip_grad_value_(ep[0], 0.5)
    _assert_grads(ep, tp)


# ------------------------------------------------------------------------------------------------ parameters <-> vector
def test_parameters_to_vector_and_back():
    lin_t = torch.nn.Linear(3, 2)
    lin_e = ember.nn.Linear(3, 2)
    copy_torch_state(lin_e, lin_t)
    vec_t = torch.nn.utils.parameters_to_vector(lin_t.parameters())
    vec_e = ember.nn.utils.parameters_to_vector(lin_e.parameters())
    assert_close(vec_e, vec_t)
    (vec_t * torch.arange(8.0)).sum().backward()
    (vec_e * ember.arange(8.0)).sum().backward()
    assert_close(lin_e.weight.grad, lin_t.weight.grad)
    assert_close(lin_e.bias.grad, lin_t.bias.grad)
    new = np.linspace(-1, 1, 8).astype(np.float32)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), lin_t.parameters())
    vec = ember.tensor(new)
    ember.nn.utils.vector_to_parameters(vec, lin_e.parameters())
    assert_close(lin_e.weight, lin_t.weight)
    assert_close(lin_e.bias, lin_t.bias)
    assert isinstance(lin_e.weight, ember.nn.Parameter) and lin_e.weight.requires_grad
    # As in torch, the parameters now view the vector's memory.
    vec[0] = 42.0
    assert lin_e.weight[0, 0].item() == 42.0


def test_convert_parameters_errors():
    params = [ember.nn.Parameter(ember.ones(2))]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        ember.nn.utils.vector_to_parameters([1.0, 2.0], params)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0, 2.0], [torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(RuntimeError):
        ember.nn.utils.vector_to_parameters(ember.ones(1), params)
    with pytest.raises(ValueError, match="non-empty list"):
        ember.nn.utils.parameters_to_vector([])


# ------------------------------------------------------------------------------------------------ weight_norm (hooks)
def _weight_norm_pair(kind, dim):
    torch.manual_seed(0)
    if kind == "linear":
        layer_t, layer_e, x = torch.nn.Linear(4, 3), ember.nn.Linear(4, 3), torch.randn(2, 4)
    else:
        layer_t, layer_e, x = torch.nn.Conv2d(2, 3, 3), ember.nn.Conv2d(2, 3, 3), torch.randn(1, 2, 5, 5)
    copy_torch_state(layer_e, layer_t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(layer_t, dim=dim)
    with pytest.warns(FutureWarning, match="weight_norm"):
        ember.nn.utils.weight_norm(layer_e, dim=dim)
    return layer_t, layer_e, x


@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None), ("conv", 0), ("conv", 1),
                                      ("conv", 3), ("conv", -2), ("conv", None)])
def test_weight_norm_matches_torch(kind, dim):
    layer_t, layer_e, x = _weight_norm_pair(kind, dim)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert_close(layer_e.weight_g, layer_t.weight_g)
    assert_close(layer_e.weight_v, layer_t.weight_v)
    assert repr(layer_e) == repr(layer_t)
    # Change g and v (as an optimizer would) so the recomputed weight actually differs from the initial one.
    with torch.no_grad():
        layer_t.weight_g.mul_(1.5)
        layer_t.weight_v.add_(0.1)
    copy_torch_state(layer_e, layer_t)
    out_t = layer_t(x)
    out_e = layer_e(to_ember(x))
    assert_close(out_e, out_t)
    assert_close(layer_e.weight, layer_t.weight)
    weights = torch.linspace(-1, 1, out_t.numel()).reshape(out_t.shape)
    out_t.backward(weights)
    out_e.backward(to_ember(weights))
    for name in ("weight_g", "weight_v", "bias"):
        assert_close(getattr(layer_e, name).grad, getattr(layer_t, name).grad, what=name)
    torch.nn.utils.remove_weight_norm(layer_t)
    ember.nn.utils.remove_weight_norm(layer_e)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict()) == ["bias", "weight"]
    assert isinstance(layer_e.weight, ember.nn.Parameter)
    assert_close(layer_e.weight, layer_t.weight)
    assert not layer_e._forward_pre_hooks


def test_weight_norm_errors():
    layer = ember.nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.nn.utils.weight_norm(layer)
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
            ember.nn.utils.weight_norm(layer)
        with pytest.raises(ValueError, match="The module passed to `WeightNorm` can't have uninitialized"):
            ember.nn.utils.weight_norm(ember.nn.LazyLinear(2))
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found in"):
        ember.nn.utils.remove_weight_norm(layer, "bias")


def test_norm_except_dim_matches_torch():
    from ember.nn.utils.weight_norm import norm_except_dim
    x = torch.randn(2, 3, 4)
    for dim in (-1, 0, 1, 2, -2):
        for p in (2, 1, 3):
            assert_close(norm_except_dim(to_ember(x), p, dim), torch.norm_except_dim(x, p, dim), what=f"dim={dim} p={p}")


# ------------------------------------------------------------------------------------------------ spectral_norm (hooks)
def _spectral_pair(kind, **kwargs):
    torch.manual_seed(0)
    if kind == "linear":
        layer_t, layer_e, x = torch.nn.Linear(5, 4), ember.nn.Linear(5, 4), torch.randn(3, 5)
    elif kind == "conv":
        layer_t, layer_e, x = torch.nn.Conv2d(2, 3, 3), ember.nn.Conv2d(2, 3, 3), torch.randn(1, 2, 5, 5)
    else:
        layer_t, layer_e, x = (torch.nn.ConvTranspose2d(3, 2, 3), ember.nn.ConvTranspose2d(3, 2, 3),
                               torch.randn(1, 3, 4, 4))
    copy_torch_state(layer_e, layer_t)
    torch.nn.utils.spectral_norm(layer_t, **kwargs)
    ember.nn.utils.spectral_norm(layer_e, **kwargs)
    copy_torch_state(layer_e, layer_t)  # the random initial u and v
    return layer_t, layer_e, x


@pytest.mark.parametrize("kind,kwargs", [("linear", {}), ("linear", {"n_power_iterations": 3}), ("conv", {}),
                                         ("conv", {"dim": 1}), ("convT", {})])
def test_spectral_norm_matches_torch(kind, kwargs):
    layer_t, layer_e, x = _spectral_pair(kind, **kwargs)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert [n for n, _ in layer_e.named_parameters()] == [n for n, _ in layer_t.named_parameters()]
    assert repr(layer_e) == repr(layer_t)
    u_buffer = layer_e.weight_u
    for step in range(3):
        out_t, out_e = layer_t(x), layer_e(to_ember(x))
        assert_close(out_e, out_t, what=f"output step {step}")
        assert_close(layer_e.weight_u, layer_t.weight_u, what=f"u step {step}")
        assert_close(layer_e.weight_v, layer_t.weight_v, what=f"v step {step}")
        assert_close(layer_e.weight, layer_t.weight, what=f"weight step {step}")
        weights = torch.linspace(-1, 1, out_t.numel()).reshape(out_t.shape)
        out_t.backward(weights)
        out_e.backward(to_ember(weights))
        assert_close(layer_e.weight_orig.grad, layer_t.weight_orig.grad, what=f"grad step {step}")
        layer_t.zero_grad()
        layer_e.zero_grad()
    assert layer_e.weight_u is u_buffer  # updated in place
    layer_t.eval()
    layer_e.eval()
    u_before = layer_e.weight_u.clone()
    assert_close(layer_e(to_ember(x)), layer_t(x), what="eval output")
    assert_close(layer_e.weight_u, to_torch(u_before), what="eval mode leaves u alone")
    torch.nn.utils.remove_spectral_norm(layer_t)
    ember.nn.utils.remove_spectral_norm(layer_e)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
    assert_close(layer_e.weight, layer_t.weight)
    assert not (layer_e._forward_pre_hooks or layer_e._state_dict_hooks or layer_e._load_state_dict_pre_hooks)


def test_spectral_norm_two_forwards_then_backward():
    # GAN pattern: both graphs must stay valid although u and v change in place in between.
    layer_t, layer_e, x = _spectral_pair("linear")
    loss_t = layer_t(x).sum() - layer_t(x * 2).pow(2).sum()
    loss_e = layer_e(to_ember(x)).sum() - layer_e(to_ember(x * 2)).pow(2).sum()
    loss_t.backward()
    loss_e.backward()
    assert_close(layer_e.weight_orig.grad, layer_t.weight_orig.grad, atol=1e-4)


def test_spectral_norm_loads_version0_state_dict():
    # A tall weight, so that W^T W is invertible and the recovered v is well defined.
    torch.manual_seed(0)
    layer_t = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5))
    x = torch.randn(2, 3)
    layer_t(x)
    old = {k: v.clone() for k, v in layer_t.state_dict().items()}
    old["weight"] = layer_t.weight.detach().clone()
    del old["weight_v"]
    fresh_t = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5))
    fresh_e = ember.nn.utils.spectral_norm(ember.nn.Linear(3, 5))
    fresh_t.load_state_dict(copy.deepcopy(old))
    fresh_e.load_state_dict({k: to_ember(v) for k, v in old.items()})
    assert_close(fresh_e.weight_v, fresh_t.weight_v, atol=1e-4)
    fresh_t.eval()
    fresh_e.eval()
    assert_close(fresh_e(to_ember(x)), fresh_t(x), atol=1e-4)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got n_power_iterations=0"):
        ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0)
    layer = ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"):
        ember.nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found in"):
        ember.nn.utils.remove_spectral_norm(layer, "bias")
    with pytest.raises(ValueError, match="`SpectralNorm` cannot be applied as parameter `bias` is None"):
        ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(KeyError):
        ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2), name="nope")


# ------------------------------------------------------------------------------------------------ fusion
def _trained_bn(bn_t):
    with torch.no_grad():
        bn_t.running_mean.uniform_(-1, 1)
        bn_t.running_var.uniform_(0.5, 2)
        if bn_t.weight is not None:
            bn_t.weight.uniform_(0.5, 1.5)
            bn_t.bias.uniform_(-0.5, 0.5)
    return bn_t.eval()


@pytest.mark.parametrize("transpose,conv_bias,affine", [(False, True, True), (False, False, False), (True, True, True)])
def test_fuse_conv_bn_eval(transpose, conv_bias, affine):
    torch.manual_seed(0)
    if transpose:
        conv_t, conv_e = torch.nn.ConvTranspose2d(2, 3, 3, bias=conv_bias), ember.nn.ConvTranspose2d(2, 3, 3, bias=conv_bias)
    else:
        conv_t, conv_e = torch.nn.Conv2d(2, 3, 3, bias=conv_bias), ember.nn.Conv2d(2, 3, 3, bias=conv_bias)
    bn_t, bn_e = _trained_bn(torch.nn.BatchNorm2d(3, affine=affine)), ember.nn.BatchNorm2d(3, affine=affine).eval()
    conv_t.eval()
    conv_e.eval()
    copy_torch_state(conv_e, conv_t)
    copy_torch_state(bn_e, bn_t)
    fused_t = torch.nn.utils.fuse_conv_bn_eval(conv_t, bn_t, transpose=transpose)
    fused_e = ember.nn.utils.fuse_conv_bn_eval(conv_e, bn_e, transpose=transpose)
    assert fused_e is not conv_e and type(fused_e) is type(conv_e)
    assert_close(fused_e.weight, fused_t.weight)
    assert_close(fused_e.bias, fused_t.bias)
    assert isinstance(fused_e.weight, ember.nn.Parameter) and fused_e.weight.requires_grad
    x = torch.randn(1, 2, 5, 5)
    assert_close(fused_e(to_ember(x)), fused_t(x), atol=1e-5)
    assert_close(fused_e(to_ember(x)), bn_t(conv_t(x)), atol=1e-5)


def test_fuse_linear_bn_eval_and_weights():
    torch.manual_seed(0)
    lin_t, lin_e = torch.nn.Linear(4, 3).eval(), ember.nn.Linear(4, 3).eval()
    bn_t, bn_e = _trained_bn(torch.nn.BatchNorm1d(3)), ember.nn.BatchNorm1d(3).eval()
    copy_torch_state(lin_e, lin_t)
    copy_torch_state(bn_e, bn_t)
    fused_t = torch.nn.utils.fuse_linear_bn_eval(lin_t, bn_t)
    fused_e = ember.nn.utils.fuse_linear_bn_eval(lin_e, bn_e)
    assert_close(fused_e.weight, fused_t.weight)
    assert_close(fused_e.bias, fused_t.bias)
    w_t, b_t = torch.nn.utils.fuse_linear_bn_weights(lin_t.weight, None, bn_t.running_mean, bn_t.running_var, 1e-3,
                                                     bn_t.weight, bn_t.bias)
    w_e, b_e = ember.nn.utils.fuse_linear_bn_weights(lin_e.weight, None, bn_e.running_mean, bn_e.running_var, 1e-3,
                                                     bn_e.weight, bn_e.bias)
    assert_close(w_e, w_t)
    assert_close(b_e, b_t)
    assert b_e.requires_grad == b_t.requires_grad
    w_t, b_t = torch.nn.utils.fuse_conv_bn_weights(lin_t.weight.double(), None, bn_t.running_mean, bn_t.running_var,
                                                   1e-5, None, None)
    w_e, b_e = ember.nn.utils.fuse_conv_bn_weights(lin_e.weight.double(), None, bn_e.running_mean, bn_e.running_var,
                                                   1e-5, None, None)
    assert_close(w_e, w_t)
    assert_close(b_e, b_t)


def test_fusion_errors():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        ember.nn.utils.fuse_conv_bn_eval(ember.nn.Conv2d(1, 2, 1), ember.nn.BatchNorm2d(2).eval())
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        ember.nn.utils.fuse_linear_bn_eval(ember.nn.Linear(1, 2).eval(), ember.nn.BatchNorm1d(2))
    with pytest.raises(AssertionError, match="linear.out_features=2 and bn.num_features=3"):
        ember.nn.utils.fuse_linear_bn_eval(ember.nn.Linear(1, 2).eval(), ember.nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
        ember.nn.utils.fuse_conv_bn_eval(ember.nn.Conv2d(1, 2, 1).eval(),
                                         ember.nn.BatchNorm2d(2, track_running_stats=False).eval())


def test_utils_exports_match_torch():
    ours = {"clip_grad_norm", "clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_", "get_total_norm",
            "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
            "remove_spectral_norm", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
            "fuse_linear_bn_weights"}
    for name in ours:
        assert hasattr(torch.nn.utils, name) and callable(getattr(ember.nn.utils, name)), name
    assert math.isinf(float(ember.nn.utils.get_total_norm([ember.tensor([1.0, float("inf")])])))
