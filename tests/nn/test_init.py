"""ember.nn.init against torch.nn.init: distributions (statistically), deterministic fills (exactly), gains, errors."""

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("param", [None, 0.2, 1, 0.0])
def test_calculate_gain_leaky_relu_param(param):
    assert init.calculate_gain("leaky_relu", param) == torch.nn.init.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("args", [("leaky_relu", True), ("leaky_relu", "0.1"), ("softplus",), ("gelu",)])
def test_calculate_gain_errors(args):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError):
        init.calculate_gain(*args)


def _stats(t):
    values = t.detach().float().numpy().astype(np.float64)
    return values.mean(), values.std(), values.min(), values.max()


def test_uniform_and_normal_statistics():
    ember.manual_seed(0)
    mean, std, lo, hi = _stats(init.uniform_(ember.empty(200, 100), -3.0, 5.0))
    assert lo >= -3.0 and hi < 5.0 and abs(mean - 1.0) < 0.05 and abs(std - 8 / math.sqrt(12)) < 0.03
    mean, std, _, _ = _stats(init.normal_(ember.empty(200, 100), 2.0, 0.5))
    assert abs(mean - 2.0) < 0.01 and abs(std - 0.5) < 0.01


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (0.0, 1.0, -0.1, 0.1),
                                          (1.0, 1.0, 0.5, 3.0)])
def test_trunc_normal_statistics(mean, std, a, b):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e = _stats(init.trunc_normal_(ember.empty(200, 100), mean, std, a, b))
    t = _stats(torch.nn.init.trunc_normal_(torch.empty(200, 100), mean, std, a, b))
    assert e[2] >= a and e[3] <= b
    scale = b - a
    assert abs(e[0] - t[0]) < 0.02 * scale and abs(e[1] - t[1]) < 0.02 * scale


def test_trunc_normal_warns_far_mean():
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(ember.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


@pytest.mark.parametrize("shape", [(64, 128), (32, 16, 3, 3)])
def test_xavier_and_kaiming_statistics(shape):
    ember.manual_seed(0)
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    _, std, lo, hi = _stats(init.xavier_uniform_(ember.empty(*shape), gain=1.0))
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.03 * bound
    _, std, _, _ = _stats(init.xavier_normal_(ember.empty(*shape), gain=2.0))
    assert abs(std - 2 * math.sqrt(2.0 / (fan_in + fan_out))) < 0.03 * std
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + 5)) / math.sqrt(fan_in)
    _, std, lo, hi = _stats(init.kaiming_uniform_(ember.empty(*shape), a=math.sqrt(5)))
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.03 * bound
    _, std, _, _ = _stats(init.kaiming_normal_(ember.empty(*shape), mode="fan_out", nonlinearity="relu"))
    assert abs(std - math.sqrt(2.0) / math.sqrt(fan_out)) < 0.03 * std


def test_generator_reproducibility():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.xavier_normal_,
               init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_):
        a = fn(ember.empty(5, 6), generator=g1)
        b = fn(ember.empty(5, 6), generator=g2)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(init.sparse_(ember.empty(5, 6), 0.4, generator=g1).numpy(),
                                  init.sparse_(ember.empty(5, 6), 0.4, generator=g2).numpy())


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye_exact(shape):
    np.testing.assert_array_equal(init.eye_(ember.empty(*shape)).numpy(), torch.nn.init.eye_(torch.empty(*shape)).numpy())


@pytest.mark.parametrize("shape,groups", [((4, 3, 5), 1), ((6, 4, 3, 3), 2), ((4, 2, 3, 4, 5), 1), ((6, 2, 3), 3)])
def test_dirac_exact(shape, groups):
    np.testing.assert_array_equal(init.dirac_(ember.empty(*shape), groups).numpy(),
                                  torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())


def test_constant_ones_zeros_exact():
    x = ember.empty(2, 3)
    assert init.constant_(x, 0.25) is x and x.tolist() == [[0.25] * 3] * 2
    assert init.ones_(x).tolist() == [[1.0] * 3] * 2
    assert init.zeros_(x).tolist() == [[0.0] * 3] * 2
    assert init.constant_(ember.empty(3, dtype=ember.int64), 2).tolist() == [2, 2, 2]


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
def test_orthogonal(shape):
    q = init.orthogonal_(ember.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1) / 2.0
    rows, cols = q.shape
    gram = q @ q.T if rows < cols else q.T @ q
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.0, 1.0])
def test_sparse_zero_fraction_per_column(sparsity):
    ember.manual_seed(0)
    w = init.sparse_(ember.empty(10, 7), sparsity, std=0.5).numpy()
    zeros = (w == 0).sum(axis=0)
    assert (zeros == math.ceil(sparsity * 10)).all()
    nonzero = w[w != 0]
    if nonzero.size:
        assert np.abs(nonzero).max() < 5 * 0.5


def test_in_place_on_parameter_without_history():
    p = ember.nn.Parameter(ember.empty(3, 4))
    version = p._version.value if hasattr(p._version, "value") else None
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.kaiming_normal_,
               init.orthogonal_, init.eye_, init.zeros_, init.ones_, lambda t: init.constant_(t, 1.5),
               lambda t: init.sparse_(t, 0.5)):
        assert fn(p) is p
        assert p.requires_grad and p.grad_fn is None and p.is_leaf
    if version is not None:
        assert p._version.value > version


def test_init_writes_through_views():
    base = ember.zeros(4, 6)
    init.ones_(base[:, ::2])
    assert base.numpy()[:, ::2].sum() == 12 and base.numpy()[:, 1::2].sum() == 0
    init.eye_(base[:, 1::2])
    np.testing.assert_array_equal(base.numpy()[:, 1::2], np.eye(4, 3))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtypes_preserved(dtype):
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_, init.kaiming_uniform_,
               init.orthogonal_, init.eye_, lambda t: init.sparse_(t, 0.3)):
        t = fn(ember.empty(4, 5, dtype=getattr(ember, dtype)))
        assert t.dtype == getattr(ember, dtype)
        assert np.isfinite(t.float().numpy()).all()


ERROR_CASES = [
    ("xavier_uniform_", (3,), {}), ("xavier_normal_", (), {}), ("kaiming_uniform_", (4,), {}),
    ("kaiming_normal_", (2, 3), {"mode": "fan_avg"}), ("kaiming_uniform_", (2, 3), {"nonlinearity": "gelu"}),
    ("eye_", (2, 3, 4), {}), ("dirac_", (2, 3), {}), ("dirac_", (3, 2, 3), {"groups": 2}), ("orthogonal_", (3,), {}),
    ("sparse_", (2, 3, 4), {"sparsity": 0.1}), ("_calculate_fan_in_and_fan_out", (5,), {}),
    ("_calculate_correct_fan", (2, 3), {"mode": "fan_x"}),
]

INTEGER_CASES = [("uniform_", {}), ("normal_", {}), ("trunc_normal_", {}), ("xavier_uniform_", {}), ("kaiming_normal_", {}),
                 ("orthogonal_", {}), ("sparse_", {"sparsity": 0.5})]


@pytest.mark.parametrize("name,kwargs", INTEGER_CASES)
def test_random_inits_reject_integer_tensors_like_torch(name, kwargs):
    with pytest.raises(Exception) as torch_error:
        getattr(torch.nn.init, name)(torch.zeros(3, 3, dtype=torch.int64), **kwargs)
    with pytest.raises(torch_error.type):
        getattr(init, name)(ember.zeros(3, 3, dtype=ember.int64), **kwargs)
    assert init.eye_(ember.zeros(2, 2, dtype=ember.int64)).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("name,shape,kwargs", ERROR_CASES)
def test_errors_match_torch(name, shape, kwargs):
    with pytest.raises(Exception) as torch_error:
        getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs)
    with pytest.raises(torch_error.type):
        getattr(init, name)(ember.empty(*shape), **kwargs)


def test_zero_element_kaiming_warns_and_returns():
    t = ember.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(t) is t
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_normal_(t) is t


def test_fan_computation_matches_torch():
    for shape in [(3, 5), (8, 4, 3), (16, 8, 3, 3), (2, 3, 1, 2, 5)]:
        assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        for mode in ("fan_in", "fan_out", "FAN_IN"):
            assert init._calculate_correct_fan(ember.empty(*shape), mode) == \
                torch.nn.init._calculate_correct_fan(torch.empty(*shape), mode)


def test_deprecated_aliases_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.uniform(ember.empty(2))
        init.xavier_normal(ember.empty(2, 2))
    assert [w.category for w in caught] == [FutureWarning, FutureWarning]
    assert set(init.__all__) == set(torch.nn.init.__all__)
