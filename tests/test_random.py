"""Random numbers: shapes, dtypes, ranges, reproducibility, statistics and errors (PyTorch's streams are not
reproduced, so values are checked statistically, errors against PyTorch)."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.random import dropout_mask

N = 200_000


def _np(t):
    return t.float().numpy() if t.dtype in (ember.bfloat16, ember.float16) else t.numpy()


def _same_error(fn):
    """Run ``fn(lib)`` with torch and ember; both must raise, ember with torch's exception type (or subclass)."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ember)
    assert isinstance(got.value, type(expected.value)), f"torch raised {expected.value!r}, ember {got.value!r}"
    return str(got.value)


# ------------------------------------------------------------------------------------ factories
@pytest.mark.parametrize("make", [
    lambda lib: lib.rand(2, 3), lambda lib: lib.rand((2, 3)), lambda lib: lib.rand([4]), lambda lib: lib.rand(()),
    lambda lib: lib.rand(0, 2), lambda lib: lib.rand(2, dtype=lib.float64), lambda lib: lib.rand(3, dtype=lib.float16),
    lambda lib: lib.rand(3, dtype=lib.bfloat16), lambda lib: lib.randn(2, 3), lambda lib: lib.randn(lib.Size([5])),
    lambda lib: lib.randn(2, dtype=lib.float64), lambda lib: lib.rand(size=(2, 2)),
    lambda lib: lib.randint(5, (3,)), lambda lib: lib.randint(2, 5, (3, 2)), lambda lib: lib.randint(5, size=(2,)),
    lambda lib: lib.randint(high=5, size=(2,)), lambda lib: lib.randint(5, (3,), dtype=lib.float32),
    lambda lib: lib.randint(-5, 5, (4,), dtype=lib.int8), lambda lib: lib.randperm(5),
    lambda lib: lib.randperm(0), lambda lib: lib.randperm(5, dtype=lib.float32),
    lambda lib: lib.rand_like(lib.zeros(2, 3, dtype=lib.float64)), lambda lib: lib.randn_like(lib.zeros(4)),
    lambda lib: lib.randint_like(lib.zeros(2), 5), lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.int32), 3, 5),
    lambda lib: lib.rand_like(lib.zeros(2), dtype=lib.float16),
    lambda lib: lib.normal(lib.zeros(2), lib.ones(2)), lambda lib: lib.normal(0.0, lib.ones(3)),
    lambda lib: lib.normal(lib.zeros(2, 1), 1.0), lambda lib: lib.normal(0.0, 1.0, (2,)),
    lambda lib: lib.normal(0, 1, size=(2, 3)), lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)),
    lambda lib: lib.normal(0.0, 1.0, (2,), dtype=lib.float64),
    lambda lib: lib.normal(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5)), lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.float64)),
    lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.int64), p=0.5), lambda lib: lib.bernoulli(lib.zeros(2, 2), 0.3),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 2), lambda lib: lib.multinomial(lib.ones(2, 3), 2),
    lambda lib: lib.multinomial(lib.ones(3), 5, replacement=True),
    lambda lib: lib.poisson(lib.full((3,), 2.0)), lambda lib: lib.poisson(lib.full((2,), 2.0, dtype=lib.float64)),
])
def test_shape_and_dtype_match_torch(make):
    expected, got = make(torch), make(ember)
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.dtype.name == str(expected.dtype).replace("torch.", "")
    assert got.requires_grad == expected.requires_grad


@pytest.mark.parametrize("fn", [
    lambda lib: lib.rand(2, dtype=lib.int64), lambda lib: lib.randn(2, dtype=lib.int64), lambda lib: lib.rand(-1),
    lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.int64)), lambda lib: lib.randn_like(lib.zeros(2, dtype=lib.int32)),
    lambda lib: lib.randint(5, 2, (3,)), lambda lib: lib.randint(5, 5, (3,)), lambda lib: lib.randint(0, 2 ** 63, (2,)),
    lambda lib: lib.randint(-1, 300, (2,), dtype=lib.uint8), lambda lib: lib.randint(5, 3),
    lambda lib: lib.randperm(-1), lambda lib: lib.randperm(300, dtype=lib.uint8),
    lambda lib: lib.normal(lib.zeros(2), -1.0), lambda lib: lib.normal(0.0, -1.0, (2,)),
    lambda lib: lib.normal(lib.zeros(2), lib.ones(3)), lambda lib: lib.normal(lib.zeros(4), lib.ones(2, 2)),
    lambda lib: lib.normal(lib.zeros(2, dtype=lib.int64), 1.0), lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
    lambda lib: lib.bernoulli(lib.full((3,), 1.5)), lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 3), lambda lib: lib.multinomial(lib.tensor([0.2, -0.8]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1), lambda lib: lib.multinomial(lib.tensor([np.nan, 1.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([np.inf, 1.0]), 1), lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    lambda lib: lib.multinomial(lib.ones(3), 0), lambda lib: lib.multinomial(lib.ones(3, dtype=lib.int64), 1),
    lambda lib: lib.multinomial(lib.tensor(1.0), 1), lambda lib: lib.multinomial(lib.ones(0), 1),
    lambda lib: lib.multinomial(lib.tensor([[1.0, 1.0], [0.0, 0.0]]), 1),
    lambda lib: lib.poisson(lib.full((3,), -2.0)), lambda lib: lib.poisson(lib.ones(3, dtype=lib.int64)),
])
def test_errors_match_torch(fn):
    _same_error(fn)


def test_error_messages_name_the_problem():
    assert "probability tensor contains either `inf`, `nan` or element < 0" in _same_error(
        lambda lib: lib.multinomial(lib.tensor([0.2, -0.8]), 1))
    assert "invalid multinomial distribution (sum of probabilities <= 0)" in _same_error(
        lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1))
    assert "cannot sample n_sample > prob_dist.size(-1) samples without replacement" in _same_error(
        lambda lib: lib.multinomial(lib.tensor([0.2, 0.8]), 3))
    assert "normal expects std >= 0.0" in _same_error(lambda lib: lib.normal(lib.zeros(2), -1.0))
    assert "random_ expects 'from' to be less than 'to'" in _same_error(lambda lib: lib.randint(5, 2, (3,)))


def test_rand_ranges_and_statistics():
    x = _np(ember.rand(N))
    assert x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 1 / 12) < 0.005


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
def test_rand_never_reaches_one(dtype):
    x = _np(ember.rand(N, dtype=dtype))
    assert x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
def test_randn_statistics(dtype):
    x = _np(ember.randn(N, dtype=dtype)).astype(np.float64)
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01


def test_randint_range_and_uniformity():
    x = ember.randint(3, 8, (N,)).numpy()
    assert x.dtype == np.int64 and x.min() == 3 and x.max() == 7
    counts = np.bincount(x - 3) / N
    np.testing.assert_allclose(counts, 0.2, atol=0.01)


def test_randint_large_bounds():
    x = ember.randint(-2 ** 62, 2 ** 62, (1000,)).numpy()
    assert x.min() >= -2 ** 62 and x.max() < 2 ** 62 and x.std() > 2 ** 59


def test_randperm_is_a_permutation():
    for n in (0, 1, 7, 1000):
        assert sorted(ember.randperm(n).tolist()) == list(range(n))
    assert ember.randperm(1000).tolist() != list(range(1000))


def test_randint_like_and_rand_like_keep_shape_and_dtype():
    base = ember.zeros(4, 5, dtype=ember.int16)
    x = ember.randint_like(base, 10)
    assert x.shape == (4, 5) and x.dtype is ember.int16 and int(x.numpy().max()) < 10
    y = ember.rand_like(ember.zeros(3, dtype=ember.float64), requires_grad=True)
    assert y.dtype is ember.float64 and y.requires_grad and y.is_leaf


@pytest.mark.parametrize("mean,std,size", [(2.0, 0.5, (N,)), (ember.full((N,), -1.0), 2.0, None),
                                           (3.0, ember.full((N,), 0.25), None),
                                           (ember.full((N,), 1.0), ember.full((N,), 3.0), None)])
def test_normal_overloads_statistics(mean, std, size):
    x = (ember.normal(mean, std, size) if size else ember.normal(mean, std)).numpy().astype(np.float64)
    expected_mean = mean if isinstance(mean, float) else float(mean.numpy()[0])
    expected_std = std if isinstance(std, float) else float(std.numpy()[0])
    assert abs(x.mean() - expected_mean) < 0.02 * max(1, expected_std)
    assert abs(x.std() - expected_std) < 0.02 * expected_std


def test_normal_broadcasts_mean_and_std():
    x = ember.normal(ember.tensor([[0.0], [100.0]]), ember.tensor([0.0, 0.0, 0.0]))
    assert x.tolist() == [[0.0, 0.0, 0.0], [100.0, 100.0, 100.0]]


def test_bernoulli_statistics():
    p = ember.tensor([0.0, 0.2, 0.9, 1.0]).expand(N // 4, 4).contiguous()
    x = ember.bernoulli(p).numpy()
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(x.mean(axis=0), [0.0, 0.2, 0.9, 1.0], atol=0.01)
    y = ember.bernoulli(ember.zeros(N, dtype=ember.int64), p=0.3).numpy()
    assert y.dtype == np.int64 and abs(y.mean() - 0.3) < 0.01


def test_multinomial_with_replacement_frequencies():
    probs = ember.tensor([1.0, 2.0, 0.0, 7.0])
    x = ember.multinomial(probs, N, replacement=True).numpy()
    np.testing.assert_allclose(np.bincount(x, minlength=4) / N, [0.1, 0.2, 0.0, 0.7], atol=0.01)


def test_multinomial_without_replacement_draws_distinct():
    rows = ember.multinomial(ember.rand(50, 10) + 0.01, 10).numpy()
    for row in rows:
        assert sorted(row.tolist()) == list(range(10))
    first = ember.multinomial(ember.tensor([1.0, 2.0, 7.0]).expand(N // 10, 3).contiguous(), 1).numpy()[:, 0]
    np.testing.assert_allclose(np.bincount(first, minlength=3) / len(first), [0.1, 0.2, 0.7], atol=0.015)


def test_multinomial_without_replacement_uses_zero_probability_categories_last():
    for _ in range(20):
        assert ember.multinomial(ember.tensor([1.0, 0.0, 0.0]), 2).tolist()[0] == 0
    assert sorted(ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 1.0]), 2).tolist()) == [1, 3]


def test_poisson_statistics():
    rates = ember.tensor([0.0, 1.0, 4.0, 20.0]).expand(N // 4, 4).contiguous()
    x = ember.poisson(rates).numpy()
    np.testing.assert_allclose(x.mean(axis=0), [0.0, 1.0, 4.0, 20.0], rtol=0.02, atol=0.01)
    assert (x == np.round(x)).all()


# ------------------------------------------------------------------------------------ reproducibility
@pytest.mark.parametrize("draw", [
    lambda g: ember.rand(5, generator=g), lambda g: ember.randn(5, generator=g),
    lambda g: ember.randint(0, 100, (5,), generator=g), lambda g: ember.randperm(10, generator=g),
    lambda g: ember.normal(0.0, 1.0, (5,), generator=g), lambda g: ember.bernoulli(ember.full((5,), 0.5), generator=g),
    lambda g: ember.multinomial(ember.ones(10), 5, generator=g), lambda g: ember.poisson(ember.ones(5), generator=g),
    lambda g: ember.empty(5).uniform_(generator=g), lambda g: ember.empty(5).normal_(generator=g),
    lambda g: ember.empty(5).exponential_(generator=g), lambda g: ember.empty(5).random_(0, 100, generator=g),
    lambda g: ember.rand_like(ember.zeros(5), generator=g),
])
def test_generators_reproduce(draw):
    a = draw(ember.Generator().manual_seed(123)).tolist()
    b = draw(ember.Generator().manual_seed(123)).tolist()
    c = draw(ember.Generator().manual_seed(124)).tolist()
    assert a == b and a != c


@pytest.mark.parametrize("draw", [
    lambda: ember.rand(5), lambda: ember.randn(3, 3), lambda: ember.randint(10, (4,)), lambda: ember.randperm(8),
    lambda: ember.normal(ember.zeros(4), 1.0), lambda: ember.multinomial(ember.ones(6), 3),
    lambda: ember.zeros(5).bernoulli_(0.5), lambda: ember.empty(4).cauchy_(),
])
def test_manual_seed_reproduces(draw):
    ember.manual_seed(7)
    a = draw().tolist()
    ember.manual_seed(7)
    assert draw().tolist() == a


def test_generator_state_round_trip():
    g = ember.Generator().manual_seed(3)
    ember.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype is ember.uint8 and state.dim() == 1
    a = ember.randn(5, generator=g).tolist()
    assert ember.randn(5, generator=g).tolist() != a
    g.set_state(state)
    assert ember.randn(5, generator=g).tolist() == a
    assert g.initial_seed() == 3
    other = ember.Generator().set_state(state)
    assert other.initial_seed() == 3 and ember.randn(5, generator=other).tolist() == a


def test_generator_set_state_rejects_bad_states():
    with pytest.raises(TypeError):
        ember.Generator().set_state(ember.zeros(45))
    with pytest.raises(RuntimeError):
        ember.Generator().set_state(ember.zeros(10, dtype=ember.uint8))


def test_default_generator_state_round_trip():
    state = ember.get_rng_state()
    a = ember.rand(4).tolist()
    ember.set_rng_state(state)
    assert ember.rand(4).tolist() == a


def test_manual_seed_and_initial_seed():
    assert isinstance(ember.manual_seed(11), ember.Generator)
    assert ember.initial_seed() == 11
    assert ember.default_generator.initial_seed() == 11
    ember.manual_seed(-1)
    assert ember.initial_seed() == 2 ** 64 - 1
    new_seed = ember.seed()
    assert ember.initial_seed() == new_seed


def test_generators_are_independent_of_the_default():
    ember.manual_seed(0)
    a = ember.rand(3).tolist()
    ember.manual_seed(0)
    ember.rand(3, generator=ember.Generator().manual_seed(99))
    assert ember.rand(3).tolist() == a


def test_random_module():
    import ember.random as random_module
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"):
        assert hasattr(random_module, name) and hasattr(torch.random, name)
    assert ember.random.manual_seed(5).initial_seed() == 5


def test_fork_rng_restores_the_state():
    ember.manual_seed(0)
    with ember.random.fork_rng():
        inside = ember.rand(3).tolist()
        ember.manual_seed(1234)
        ember.rand(100)
    assert ember.rand(3).tolist() == inside
    ember.manual_seed(0)
    with ember.random.fork_rng(enabled=False):
        first = ember.rand(3).tolist()
    assert ember.rand(3).tolist() != first


def test_fork_rng_restores_after_an_exception():
    ember.manual_seed(0)
    expected = ember.rand(2).tolist()
    ember.manual_seed(0)
    with pytest.raises(ValueError):
        with ember.random.fork_rng():
            ember.rand(10)
            raise ValueError("boom")
    assert ember.rand(2).tolist() == expected


# ------------------------------------------------------------------------------------ in-place fills
def test_uniform_():
    x = ember.empty(N).uniform_(-2, 3)
    values = x.numpy()
    assert values.min() >= -2 and values.max() < 3 and abs(values.mean() - 0.5) < 0.02
    assert ember.zeros(3).uniform_(**{"from": 1, "to": 2}).numpy().min() >= 1


def test_normal_():
    x = ember.empty(N, dtype=ember.float64).normal_(3.0, 0.5).numpy()
    assert abs(x.mean() - 3) < 0.01 and abs(x.std() - 0.5) < 0.01


@pytest.mark.parametrize("dtype,args,low,high", [
    (ember.float32, (), 0, 2 ** 24), (ember.float16, (), 0, 2 ** 11), (ember.bfloat16, (), 0, 2 ** 8),
    (ember.int64, (5,), 0, 4), (ember.int8, (-5, 0), -5, -1), (ember.uint8, (), 0, 255), (ember.bool, (), 0, 1),
    (ember.float32, (2, 5), 2, 4), (ember.int32, (), 0, 2 ** 31 - 1),
])
def test_random_(dtype, args, low, high):
    x = _np(ember.zeros(20000, dtype=dtype).random_(*args)).astype(np.float64)
    assert x.min() >= low and x.max() <= high
    assert (x == np.round(x)).all()
    if high - low < 50:
        assert x.min() == low and x.max() == high


def test_random_from_keyword_keeps_the_upper_bound():
    x = ember.zeros(1000, dtype=ember.uint8).random_(**{"from": 250}).numpy()
    assert x.min() >= 250 and x.max() <= 255


@pytest.mark.parametrize("dtype", [ember.float32, ember.int64, ember.bool])
def test_bernoulli_(dtype):
    x = _np(ember.zeros(N, dtype=dtype).bernoulli_(0.25)).astype(np.float64)
    assert set(np.unique(x).tolist()) <= {0.0, 1.0} and abs(x.mean() - 0.25) < 0.01
    p = ember.tensor([0.0, 1.0]).expand(N // 2, 2).contiguous()
    y = ember.zeros(N // 2, 2).bernoulli_(p).numpy()
    assert (y[:, 0] == 0).all() and (y[:, 1] == 1).all()


def test_exponential_geometric_log_normal_cauchy_():
    assert abs(ember.empty(N).exponential_(4.0).numpy().mean() - 0.25) < 0.01
    g = ember.empty(N).geometric_(0.25).numpy()
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.1
    assert ember.zeros(10, dtype=ember.int64).geometric_(0.5).dtype is ember.int64
    log = np.log(ember.empty(N, dtype=ember.float64).log_normal_(1.0, 0.5).numpy())
    assert abs(log.mean() - 1) < 0.01 and abs(log.std() - 0.5) < 0.01
    c = ember.empty(N).cauchy_(2.0, 0.5).numpy()
    assert abs(np.median(c) - 2) < 0.02
    assert abs(np.percentile(c, 75) - np.percentile(c, 25) - 1.0) < 0.05


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(3).uniform_(3, 2), lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
    lambda lib: lib.zeros(3).normal_(1, -2), lambda lib: lib.zeros(3, dtype=lib.int64).normal_(),
    lambda lib: lib.zeros(3).random_(5, 2), lambda lib: lib.zeros(3, dtype=lib.uint8).random_(0, 300),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-5, 0), lambda lib: lib.zeros(3).bernoulli_(1.5),
    lambda lib: lib.zeros(3).exponential_(-2), lambda lib: lib.zeros(3).exponential_(0),
    lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(), lambda lib: lib.zeros(3).geometric_(1.5),
    lambda lib: lib.zeros(3).geometric_(0), lambda lib: lib.zeros(3).log_normal_(1, -2),
    lambda lib: lib.zeros(3).cauchy_(0, -1), lambda lib: lib.zeros(3, requires_grad=True).uniform_(),
    lambda lib: lib.zeros(3, requires_grad=True).normal_(),
])
def test_inplace_errors_match_torch(fn):
    _same_error(fn)


def test_inplace_fill_writes_through_views_and_bumps_the_version():
    base = ember.zeros(4, 4)
    column = base[:, 1]
    version = base._version.value
    column.uniform_(5, 6)
    values = base.numpy()
    assert (values[:, 1] >= 5).all() and (values[:, [0, 2, 3]] == 0).all()
    assert base._version.value > version


def test_inplace_fill_returns_self():
    x = ember.zeros(3)
    assert x.normal_() is x and x.uniform_() is x and x.bernoulli_() is x


def test_inplace_fill_on_a_non_leaf_gives_zero_gradient():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.uniform_()
        assert y.grad_fn is not None
        (y * 3).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_sampling_ops_have_zero_gradients():
    for lib in (torch, ember):
        mean = lib.zeros(3, requires_grad=True)
        std = lib.ones(3, requires_grad=True)
        y = lib.normal(mean, std)
        assert y.requires_grad and y.grad_fn is not None
        y.sum().backward()
        assert mean.grad.tolist() == [0.0] * 3 and std.grad.tolist() == [0.0] * 3
        p = lib.full((3,), 0.5, requires_grad=True)
        assert lib.bernoulli(p).requires_grad and lib.poisson(p).requires_grad
        assert not lib.multinomial(p, 1).requires_grad


def test_out_argument():
    out = ember.empty(2)
    result = ember.rand(4, out=out)
    assert result is out and out.shape == (4,)
    ints = ember.empty(3, dtype=ember.int64)
    assert ember.randint(10, (3,), out=ints) is ints
    with pytest.raises(RuntimeError):
        ember.rand(2, dtype=ember.float64, out=ember.empty(2))


# ------------------------------------------------------------------------------------ dropout_mask
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16, ember.bfloat16])
def test_dropout_mask(p, dtype):
    mask = dropout_mask((N,), p, dtype)
    assert isinstance(mask, np.ndarray) and mask.shape == (N,) and mask.dtype == dtype.numpy_dtype
    values = mask.astype(np.float64)
    scale = float(np.array(1 / (1 - p)).astype(dtype.numpy_dtype))
    assert set(np.unique(values).tolist()) <= {0.0, scale}
    assert abs((values == 0).mean() - p) < 0.01
    assert abs(values.mean() - 1) < 0.03


def test_dropout_mask_edges_and_generator():
    assert (dropout_mask((3, 4), 0.0, ember.float32) == 1).all()
    assert (dropout_mask((3, 4), 1.0, ember.float32) == 0).all()
    assert dropout_mask((0, 4), 0.5, ember.float32).shape == (0, 4)
    a = dropout_mask((100,), 0.5, np.float32, generator=ember.Generator().manual_seed(1))
    b = dropout_mask((100,), 0.5, np.float32, generator=ember.Generator().manual_seed(1))
    assert (a == b).all()
    ember.manual_seed(4)
    c = dropout_mask((100,), 0.5, ember.float32)
    ember.manual_seed(4)
    assert (dropout_mask((100,), 0.5, ember.float32) == c).all()
