"""In-place elementwise ops (``sin_``, ``clamp_``, ``lerp_``, ``copy_``, ``fill_`` ...) compared with PyTorch:
values, the version counter, errors on leaves that require grad, and autograd through in-place writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

# method name -> (low, high) of the inputs it is defined on
UNARY_INPLACE = {
    "reciprocal_": (0.5, 2.0), "exp2_": (-2, 2), "expm1_": (-2, 2), "log2_": (0.1, 3), "log10_": (0.1, 3),
    "log1p_": (-0.5, 2), "rsqrt_": (0.2, 3), "sin_": (-2, 2), "cos_": (-2, 2), "tan_": (-1, 1),
    "asin_": (-0.9, 0.9), "acos_": (-0.9, 0.9), "atan_": (-2, 2), "arcsin_": (-0.9, 0.9), "arccos_": (-0.9, 0.9),
    "arctan_": (-2, 2), "sinh_": (-2, 2), "cosh_": (-2, 2), "tanh_": (-3, 3), "asinh_": (-2, 2),
    "acosh_": (1.1, 3), "atanh_": (-0.9, 0.9), "arcsinh_": (-2, 2), "arccosh_": (1.1, 3), "arctanh_": (-0.9, 0.9),
    "sigmoid_": (-4, 4), "logit_": (0.1, 0.9), "erf_": (-2, 2), "erfc_": (-2, 2), "erfinv_": (-0.9, 0.9),
    "lgamma_": (0.2, 4), "digamma_": (0.5, 4), "deg2rad_": (-90, 90), "rad2deg_": (-2, 2), "sinc_": (-2, 2),
    "floor_": (-3, 3), "ceil_": (-3, 3), "trunc_": (-3, 3), "fix_": (-3, 3), "frac_": (-3, 3), "round_": (-3, 3),
    "sgn_": (-2, 2), "nan_to_num_": (-2, 2), "exp_": (-2, 2), "log_": (0.1, 3), "sqrt_": (0.1, 3),
    "abs_": (-2, 2), "neg_": (-2, 2), "square_": (-2, 2),
}
FLOAT_ONLY = {name for name in UNARY_INPLACE if name not in (
    "floor_", "ceil_", "trunc_", "fix_", "round_", "sgn_", "nan_to_num_", "abs_", "neg_", "square_")}


def _pair(shape=(3, 4), low=-2.0, high=2.0, dtype=np.float32, seed=0):
    values = np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)
    return ember.tensor(values), torch.from_numpy(values.copy())


def _close(e, t, rtol=1.3e-6, atol=1e-5):
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    torch.testing.assert_close(torch.from_numpy(np.array(e.detach().numpy())), t.detach(), rtol=rtol, atol=atol,
                               equal_nan=True)


# ------------------------------------------------------------------------------------------ unary in-place
@pytest.mark.parametrize("name", sorted(UNARY_INPLACE))
def test_unary_inplace_matches_torch_and_bumps_version(name):
    low, high = UNARY_INPLACE[name]
    e, t = _pair(low=low, high=high)
    pointer, version = e.data_ptr(), e._version.value
    result = getattr(e, name)()
    getattr(t, name)()
    assert result is e
    assert e.data_ptr() == pointer, "the result must be written into the tensor's own memory"
    assert e._version.value == version + 1
    _close(e, t)


@pytest.mark.parametrize("name", sorted(UNARY_INPLACE))
def test_unary_inplace_on_noncontiguous_view_writes_through(name):
    low, high = UNARY_INPLACE[name]
    e, t = _pair((4, 3), low=low, high=high)
    getattr(e.t(), name)()
    getattr(t.t(), name)()
    _close(e, t)


@pytest.mark.parametrize("name", sorted(UNARY_INPLACE))
def test_unary_inplace_on_leaf_requiring_grad_raises(name):
    e = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(e, name)()


@pytest.mark.parametrize("name", sorted(UNARY_INPLACE))
def test_unary_inplace_autograd_through_non_leaf(name):
    low, high = UNARY_INPLACE[name]
    values = np.random.default_rng(1).uniform(low / 2, high / 2, size=(3, 4))
    xe = ember.tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    getattr(ye, name)()
    getattr(yt, name)()
    weights = np.random.default_rng(2).uniform(-1, 1, size=(3, 4))
    (ye * ember.tensor(weights)).sum().backward()
    try:
        (yt * torch.tensor(weights)).sum().backward()
    except NotImplementedError:
        pytest.skip(f"PyTorch has no derivative for {name} (ember does)")
    _close(ye, yt, rtol=1e-7, atol=1e-7)
    _close(xe.grad, xt.grad, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", sorted(FLOAT_ONLY))
def test_float_only_inplace_on_integer_tensor_raises(name):
    with pytest.raises(RuntimeError):
        getattr(torch.tensor([1, 2]), name)()
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long|not implemented for 'Long'"):
        getattr(ember.tensor([1, 2]), name)()


def test_rounding_inplace_on_integers_is_identity():
    e = ember.tensor([1, -2, 3])
    for name in ("floor_", "ceil_", "trunc_", "round_"):
        getattr(e, name)()
    assert e.tolist() == [1, -2, 3]
    assert e._version.value == 4


def test_sigmoid_inplace_example_from_the_docs_matches_torch():
    xe = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    xt = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    ye = xe * 2
    ye.sigmoid_()
    ye.sum().backward()
    yt = xt * 2
    yt.sigmoid_()
    yt.sum().backward()
    _close(xe.grad, xt.grad)
    assert ye.grad_fn is not None and not ye.is_leaf


def test_inplace_on_saved_input_is_detected_at_backward():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    a = x * 1
    b = a.sin()  # saves a
    a.cos_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_inplace_under_no_grad_on_leaf_is_allowed():
    e = ember.tensor([0.5, 1.0], requires_grad=True)
    with ember.no_grad():
        e.sigmoid_().clamp_(0, 0.7).mul_(2)
    t = torch.tensor([0.5, 1.0], requires_grad=True)
    with torch.no_grad():
        t.sigmoid_().clamp_(0, 0.7).mul_(2)
    _close(e, t)
    assert e.requires_grad and e.is_leaf


def test_inplace_on_view_updates_base_and_shares_version():
    base_e, base_t = _pair((3, 4))
    view_e, view_t = base_e[1], base_t[1]
    view_e.tanh_()
    view_t.tanh_()
    _close(base_e, base_t)
    assert base_e._version.value == view_e._version.value == 1


def test_inplace_on_view_of_non_leaf_backpropagates_to_base():
    values = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    xe, xt = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ye, yt = xe * 3, xt * 3
    ye[0].sigmoid_()
    yt[0].sigmoid_()
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    _close(xe.grad, xt.grad, rtol=1e-7, atol=1e-7)


# ------------------------------------------------------------------------------------------ other in-place ops
BINARY_INPLACE = [
    ("fmod_", lambda lib: lib.tensor([1.5, 2.0, 3.0, -2.5])),
    ("atan2_", lambda lib: lib.tensor([1.0, -2.0, 0.5, 3.0])),
    ("arctan2_", lambda lib: lib.tensor([1.0, -2.0, 0.5, 3.0])),
    ("hypot_", lambda lib: lib.tensor([1.0, -2.0, 0.5, 3.0])),
    ("copysign_", lambda lib: lib.tensor([-1.0, 2.0, -0.0, 3.0])),
    ("copysign_", lambda lib: -1.0),
    ("xlogy_", lambda lib: lib.tensor([1.0, 2.0, 0.5, 3.0])),
    ("heaviside_", lambda lib: lib.tensor([0.5, 0.5, 0.5, 0.5])),
    ("remainder_", lambda lib: lib.tensor([1.5, -2.0, 3.0, 2.5])),
    ("float_power_", lambda lib: 2),
]


@pytest.mark.parametrize("name,other", BINARY_INPLACE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BINARY_INPLACE)])
def test_binary_inplace_matches_torch(name, other):
    dtype = np.float64 if name == "float_power_" else np.float32
    values = np.array([0.5, -1.5, 0.0, 2.5], dtype=dtype)
    e, t = ember.tensor(values), torch.tensor(values)
    getattr(e, name)(other(ember))
    getattr(t, name)(other(torch))
    _close(e, t)
    assert e._version.value == 1


@pytest.mark.parametrize("name,other", BINARY_INPLACE[:5] + BINARY_INPLACE[6:7],
                         ids=[n for n, _ in BINARY_INPLACE[:5] + BINARY_INPLACE[6:7]])
def test_binary_inplace_autograd_through_non_leaf(name, other):
    values = np.array([0.5, -1.5, 0.3, 2.5])
    xe, xt = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    oe, ot = other(ember).double().requires_grad_(), other(torch).double().requires_grad_()
    ye, yt = xe * 1.5, xt * 1.5
    if name == "xlogy_":
        ye, yt = ye.abs(), yt.abs()
    getattr(ye, name)(oe)
    getattr(yt, name)(ot)
    ye.sum().backward()
    yt.sum().backward()
    _close(xe.grad, xt.grad, rtol=1e-7, atol=1e-7)
    _close(oe.grad, ot.grad, rtol=1e-7, atol=1e-7)


def test_float_power_inplace_needs_double():
    with pytest.raises(RuntimeError, match="requires dtype Double"):
        ember.ones(2).float_power_(2)


@pytest.mark.parametrize("args,kwargs", [((-0.5, 0.5), {}), ((None, 0.3), {}), ((), {"min": -0.2}),
                                         ((0.5, -0.5), {})], ids=["both", "max", "min", "inverted"])
def test_clamp_inplace_scalar_bounds(args, kwargs):
    e, t = _pair()
    e.clamp_(*args, **kwargs)
    t.clamp_(*args, **kwargs)
    _close(e, t)


def test_clamp_inplace_tensor_bounds_and_autograd():
    values = np.random.default_rng(0).uniform(-2, 2, size=(3, 4))
    lo_values, hi_values = np.full((4,), -0.5), np.random.default_rng(1).uniform(0, 1, size=(3, 1))
    xe, xt = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    lo_e, lo_t = ember.tensor(lo_values, requires_grad=True), torch.tensor(lo_values, requires_grad=True)
    hi_e, hi_t = ember.tensor(hi_values, requires_grad=True), torch.tensor(hi_values, requires_grad=True)
    ye, yt = xe * 1, xt * 1
    ye.clamp_(lo_e, hi_e)
    yt.clamp_(lo_t, hi_t)
    _close(ye, yt)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    for a, b in ((xe, xt), (lo_e, lo_t), (hi_e, hi_t)):
        _close(a.grad, b.grad, rtol=1e-7, atol=1e-7)


def test_clamp_variants_inplace():
    for name, arg in (("clamp_min_", 0.1), ("clamp_max_", -0.1), ("clip_", -0.3)):
        e, t = _pair()
        getattr(e, name)(arg)
        getattr(t, name)(arg)
        _close(e, t)


def test_clamp_inplace_integer_with_float_bound_raises():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2, 3]).clamp_(0.5)
    e = ember.tensor([1, 5, -3])
    e.clamp_(0, 2)
    assert e.tolist() == [1, 2, 0]


def test_clamp_without_bounds_raises():
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        ember.ones(2).clamp_()


@pytest.mark.parametrize("weight", [0.1, 0.9, -0.3, "tensor", "zero_dim"])
def test_lerp_inplace_matches_torch(weight):
    e, t = _pair()
    end_e, end_t = _pair(seed=1)

    def make(lib):
        if weight == "tensor":
            return lib.tensor(np.linspace(0, 1, 4, dtype=np.float32))
        if weight == "zero_dim":
            return lib.tensor(0.7)
        return weight

    pointer = e.data_ptr()
    e.lerp_(end_e, make(ember))
    t.lerp_(end_t, make(torch))
    _close(e, t)
    assert e.data_ptr() == pointer and e._version.value == 1


def test_lerp_inplace_autograd():
    values, end_values, weight_values = (np.random.default_rng(i).uniform(-1, 1, size=(3, 4)) for i in range(3))
    xe, xt = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ee, et = ember.tensor(end_values, requires_grad=True), torch.tensor(end_values, requires_grad=True)
    we, wt = ember.tensor(weight_values, requires_grad=True), torch.tensor(weight_values, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye.lerp_(ee, we)
    yt.lerp_(et, wt)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    for a, b in ((xe, xt), (ee, et), (we, wt)):
        _close(a.grad, b.grad, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", ["addcmul_", "addcdiv_"])
@pytest.mark.parametrize("value", [1, 0.5, -2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_addc_inplace_matches_torch_in_place(name, value, dtype):
    e, t = _pair(dtype=dtype)
    t1e, t1t = _pair((4,), dtype=dtype, seed=1)
    t2e, t2t = _pair((3, 1), low=0.5, high=2.0, dtype=dtype, seed=2)
    pointer = e.data_ptr()
    getattr(e, name)(t1e, t2e, value=value)
    getattr(t, name)(t1t, t2t, value=value)
    rtol, atol = (2e-3, 1e-3) if dtype == np.float16 else (1.3e-6, 1e-5)
    _close(e, t, rtol=rtol, atol=atol)
    assert e.data_ptr() == pointer and e._version.value == 1


@pytest.mark.parametrize("name", ["addcmul_", "addcdiv_"])
def test_addc_inplace_autograd(name):
    rng = np.random.default_rng(0)
    values, a, b = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4)), rng.uniform(0.5, 2, (4,))
    tensors_e = [ember.tensor(v, requires_grad=True) for v in (values, a, b)]
    tensors_t = [torch.tensor(v, requires_grad=True) for v in (values, a, b)]
    ye, yt = tensors_e[0] * 1, tensors_t[0] * 1
    getattr(ye, name)(tensors_e[1], tensors_e[2], value=0.3)
    getattr(yt, name)(tensors_t[1], tensors_t[2], value=0.3)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    for e, t in zip(tensors_e, tensors_t):
        _close(e.grad, t.grad, rtol=1e-7, atol=1e-7)


def test_addc_inplace_broadcast_beyond_self_raises():
    with pytest.raises(RuntimeError):
        torch.ones(4).addcmul_(torch.ones(3, 4), torch.ones(4))
    with pytest.raises(RuntimeError):
        ember.ones(4).addcmul_(ember.ones(3, 4), ember.ones(4))


def test_addcdiv_inplace_integer_division_raises():
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        ember.ones(2).addcdiv_(ember.tensor([1, 2]), ember.tensor([1, 2]))


def test_integer_addcmul_value_is_cast_like_torch():
    e, t = ember.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    e.addcmul_(ember.tensor([1, 1, 1]), ember.tensor([2, 2, 2]), value=2)
    t.addcmul_(torch.tensor([1, 1, 1]), torch.tensor([2, 2, 2]), value=2)
    assert e.tolist() == t.tolist()


def test_round_and_nan_to_num_inplace_with_arguments():
    e, t = _pair()
    e.round_(decimals=1)
    t.round_(decimals=1)
    _close(e, t)
    values = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    e, t = ember.tensor(values), torch.tensor(values)
    e.nan_to_num_(nan=5.0, posinf=6.0)
    t.nan_to_num_(nan=5.0, posinf=6.0)
    _close(e, t)


def test_logit_inplace_with_eps():
    e, t = _pair(low=-0.1, high=1.1)
    e.logit_(eps=0.05)
    t.logit_(eps=0.05)
    _close(e, t)


# ------------------------------------------------------------------------------------------ fill_, zero_
@pytest.mark.parametrize("dtype,value", [(np.float32, 2.5), (np.int64, 2.7), (np.int64, -3), (np.bool_, 2),
                                         (np.float16, 1e-3), (np.uint8, 7)])
def test_fill_inplace_values_and_version(dtype, value):
    e, t = ember.tensor(np.zeros((2, 3), dtype=dtype)), torch.from_numpy(np.zeros((2, 3), dtype=dtype))
    e.fill_(value)
    t.fill_(value)
    assert e.tolist() == t.tolist()
    assert e._version.value == 1


def test_fill_inplace_with_zero_dim_tensor_and_its_gradient():
    xe, xt = ember.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    ve, vt = ember.tensor(3.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye.fill_(ve)
    yt.fill_(vt)
    (ye * ember.tensor([1.0, 5.0])).sum().backward()
    (yt * torch.tensor([1.0, 5.0])).sum().backward()
    _close(ye, yt)
    _close(xe.grad, xt.grad)
    _close(ve.grad, vt.grad)


def test_fill_inplace_tensor_value_on_plain_tensor():
    e, t = ember.zeros(3, dtype=ember.int64), torch.zeros(3, dtype=torch.int64)
    e.fill_(ember.tensor(2.7))
    t.fill_(torch.tensor(2.7))
    assert e.tolist() == t.tolist()


def test_fill_inplace_errors():
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        ember.zeros(3).fill_(ember.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ember.zeros(3, requires_grad=True).fill_(1)
    with pytest.raises(RuntimeError, match="overflow"):
        ember.zeros(2, dtype=ember.int8).fill_(300)


def test_zero_inplace():
    e = ember.ones(2, 3)
    assert e.zero_() is e
    assert e.tolist() == [[0.0] * 3] * 2 and e._version.value == 1
    xe, xt = ember.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye.zero_()
    yt.zero_()
    (ye + xe).sum().backward()
    (yt + xt).sum().backward()
    _close(xe.grad, xt.grad)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ember.ones(2, requires_grad=True).zero_()
    assert ember.zero_(ember.ones(2)).tolist() == [0.0, 0.0]


# ------------------------------------------------------------------------------------------ copy_
@pytest.mark.parametrize("dst,src", [
    ((np.float32, (2, 3)), (np.float64, (2, 3))),
    ((np.int64, (2, 3)), (np.float32, (3,))),
    ((np.float32, (2, 3)), (np.int32, (2, 1))),
    ((np.bool_, (3,)), (np.float32, (3,))),
    ((np.uint8, (3,)), (np.int64, ())),
], ids=["double_to_float", "float_to_int_broadcast", "int_to_float_broadcast", "float_to_bool", "zero_dim_src"])
def test_copy_inplace_broadcasts_and_converts(dst, src):
    rng = np.random.default_rng(0)
    src_values = np.asarray(rng.uniform(-3, 3, size=src[1])).astype(src[0])
    if src[0] == np.int64:
        src_values = np.asarray(np.abs(src_values))
    e, t = ember.tensor(np.zeros(dst[1], dtype=dst[0])), torch.from_numpy(np.zeros(dst[1], dtype=dst[0]))
    pointer = e.data_ptr()
    assert e.copy_(ember.tensor(src_values)) is e
    t.copy_(torch.tensor(src_values))
    assert e.tolist() == t.tolist()
    assert e.data_ptr() == pointer and e._version.value == 1


def test_copy_inplace_bfloat16():
    values = np.array([1.2345, -2.5, 3.0], dtype=np.float32)
    e = ember.zeros(3, dtype=ember.bfloat16).copy_(ember.tensor(values))
    t = torch.zeros(3, dtype=torch.bfloat16).copy_(torch.tensor(values))
    assert e.tolist() == t.float().tolist()
    back = ember.zeros(3).copy_(e)
    assert back.tolist() == t.float().tolist()


def test_copy_inplace_gradient_flows_to_src_only():
    xe, xt = ember.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    se, st = ember.tensor([7.0], dtype=ember.float64, requires_grad=True), \
        torch.tensor([7.0], dtype=torch.float64, requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye.copy_(se)
    yt.copy_(st)
    (ye * ember.tensor([1.0, 5.0])).sum().backward()
    (yt * torch.tensor([1.0, 5.0])).sum().backward()
    _close(ye, yt)
    _close(xe.grad, xt.grad)
    _close(se.grad, st.grad)


def test_copy_inplace_makes_plain_tensor_require_grad():
    src = ember.tensor([1.0, 2.0], requires_grad=True)
    dst = ember.zeros(2)
    dst.copy_(src)
    assert dst.requires_grad and dst.grad_fn is not None
    (dst * 3).sum().backward()
    assert src.grad.tolist() == [3.0, 3.0]


def test_copy_inplace_into_view_of_non_leaf():
    xe, xt = ember.ones(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    se, st = ember.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ye, yt = xe * 2, xt * 2
    ye[1].copy_(se)
    yt[1].copy_(st)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    _close(ye, yt)
    _close(xe.grad, xt.grad)
    _close(se.grad, st.grad)


def test_copy_inplace_errors():
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ember.ones(2, requires_grad=True).copy_(ember.zeros(2))
    with pytest.raises(RuntimeError, match=r"cannot be broadcast"):
        ember.zeros(2, 3).copy_(ember.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"cannot be broadcast"):
        ember.zeros(3).copy_(ember.ones(2, 3))
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.zeros(3).copy_([1, 2, 3])


def test_copy_inplace_on_leaf_under_no_grad():
    p = ember.zeros(3, requires_grad=True)
    with ember.no_grad():
        p.copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert p.tolist() == [1.0, 2.0, 3.0] and p.is_leaf and p.requires_grad


def test_copy_inplace_from_overlapping_view():
    e, t = ember.arange(6.0), torch.arange(6.0)
    e[1:].copy_(e[:-1].clone())
    t[1:].copy_(t[:-1].clone())
    assert e.tolist() == t.tolist()


# ------------------------------------------------------------------------------------------ gradient rules
def test_maximum_minimum_split_ties_and_propagate_nan_gradients_like_torch():
    values_a = np.array([1.0, 2.0, np.nan, 3.0, 5.0])
    values_b = np.array([1.0, 3.0, 1.0, np.nan, 4.0])
    for name in ("maximum", "minimum", "fmax", "fmin"):
        ae, at = ember.tensor(values_a, requires_grad=True), torch.tensor(values_a, requires_grad=True)
        be, bt = ember.tensor(values_b, requires_grad=True), torch.tensor(values_b, requires_grad=True)
        getattr(ember, name)(ae, be).sum().backward()
        getattr(torch, name)(at, bt).sum().backward()
        _close(ae.grad, at.grad)
        _close(be.grad, bt.grad)


def test_clamp_gradient_rules_for_tensor_bounds_match_torch():
    x = [0.0, 1.0, 2.0, 3.0, 4.0]
    lo = [1.0, 1.0, 3.0, 5.0, 2.0]
    hi = [2.0, 0.5, 3.0, 4.0, 4.0]
    for bounds in ((lo, hi), (lo, None), (None, hi)):
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        be = [None if b is None else ember.tensor(b, requires_grad=True) for b in bounds]
        bt = [None if b is None else torch.tensor(b, requires_grad=True) for b in bounds]
        ember.clamp(xe, *be).sum().backward()
        torch.clamp(xt, *bt).sum().backward()
        _close(xe.grad, xt.grad)
        for e, t in zip(be, bt):
            if e is not None:
                _close(e.grad, t.grad)


def test_logit_gradient_outside_the_domain():
    values = [-0.5, 0.05, 0.5, 0.95, 1.5]
    for eps in (None, 0.1):
        xe, xt = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        ember.logit(xe, eps).sum().backward()
        torch.logit(xt, eps).sum().backward()
        _close(xe.grad, xt.grad)


def test_tanh_and_sigmoid_double_backward():
    for name in ("tanh", "sigmoid"):
        xe, xt = ember.tensor([0.3, -1.2], requires_grad=True), torch.tensor([0.3, -1.2], requires_grad=True)
        (ge,) = ember.autograd.grad(getattr(ember, name)(xe).sum(), xe, create_graph=True)
        (gt,) = torch.autograd.grad(getattr(torch, name)(xt).sum(), xt, create_graph=True)
        (gge,) = ember.autograd.grad(ge.sum(), xe)
        (ggt,) = torch.autograd.grad(gt.sum(), xt)
        _close(ge, gt)
        _close(gge, ggt)


# ------------------------------------------------------------------------------------------ API surface
TORCH_METHODS = [
    "fmod", "reciprocal", "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh",
    "arctanh", "atan2", "arctan2", "hypot", "sigmoid", "logit", "erf", "erfc", "erfinv", "floor", "ceil", "round",
    "trunc", "frac", "fix", "clamp", "clip", "clamp_min", "clamp_max", "lerp", "maximum", "minimum", "fmax", "fmin",
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "nan_to_num", "addcmul", "addcdiv", "copysign",
    "sgn", "signbit", "xlogy", "float_power", "deg2rad", "rad2deg", "positive", "heaviside", "logaddexp",
    "logaddexp2", "sinc", "digamma", "lgamma", "polygamma", "mvlgamma", "true_divide", "square", "remainder",
]


@pytest.mark.parametrize("name", TORCH_METHODS)
def test_tensor_methods_and_inplace_variants_exist_where_torch_has_them(name):
    assert callable(getattr(ember.Tensor, name))
    if hasattr(torch.Tensor, name + "_"):
        assert callable(getattr(ember.Tensor, name + "_")), f"Tensor.{name}_ is missing"
    assert callable(getattr(ember, name))
    if hasattr(torch, name + "_"):
        assert callable(getattr(ember, name + "_")), f"ember.{name}_ is missing"


def test_polygamma_method_takes_n_first():
    e, t = ember.tensor([1.5, 2.5]), torch.tensor([1.5, 2.5])
    _close(e.polygamma(1), t.polygamma(1))
    e.polygamma_(2)
    t.polygamma_(2)
    _close(e, t)


def test_out_argument():
    out_e, out_t = ember.empty(0), torch.empty(0)
    ember.sin(ember.tensor([1.0, 2.0]), out=out_e)
    torch.sin(torch.tensor([1.0, 2.0]), out=out_t)
    _close(out_e, out_t)
    out_e = ember.zeros(2)
    ember.clamp(ember.tensor([-1.0, 2.0]), 0, 1, out=out_e)
    assert out_e.tolist() == [0.0, 1.0]
