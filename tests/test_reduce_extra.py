"""Reductions beyond the op table: gradients with ties, zeros, NaN and infinities (exact data the table's random
inputs never hit), named results, in-place scans, ``out=`` and double backward through the zero paths."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import ember

NAN = float("nan")
INF = float("inf")
TIES = [[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 0.0, 5.0], [2.0, 2.0, 2.0, 2.0]]
NAN_ROWS = [[1.0, NAN, 3.0, NAN], [2.0, 1.0, 0.0, 4.0], [NAN, 7.0, -1.0, 0.0]]
WITH_ZEROS = [[2.0, 0.0, 3.0, 5.0], [0.0, 1.5, 0.0, 2.0], [1.0, 2.0, -1.0, 0.5], [4.0, 0.0, 0.0, 0.0]]


def _grads(fn, data, weights_seed=0):
    """The gradient of ``sum(weights * fn(x))`` in torch and in ember for the same float64 data."""
    results = []
    for lib in (torch, ember):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        out = fn(lib, x)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.dtype == lib.float64]
        rng = np.random.default_rng(weights_seed)
        total = 0
        for o in outs:
            weights = lib.tensor(rng.uniform(0.5, 1.5, size=tuple(o.shape)), dtype=lib.float64)
            total = total + (o * weights).sum()
        total.backward()
        results.append(x.grad)
    return results


def _assert_close(ember_tensor, torch_tensor):
    np.testing.assert_allclose(ember_tensor.detach().numpy(), torch_tensor.detach().numpy(), rtol=1e-10, atol=1e-12,
                               equal_nan=True)


def _check(fn, data):
    torch_grad, ember_grad = _grads(fn, data)
    _assert_close(ember_grad, torch_grad)


@pytest.mark.parametrize("name,fn", [
    ("max", lambda lib, x: x.max()),
    ("min", lambda lib, x: x.min()),
    ("max_dim", lambda lib, x: x.max(1)[0]),
    ("min_dim", lambda lib, x: x.min(0, keepdim=True)[0]),
    ("amax", lambda lib, x: x.amax()),
    ("amax_dim", lambda lib, x: x.amax(1)),
    ("amin_dims", lambda lib, x: x.amin((0, 1), keepdim=True)),
    ("aminmax", lambda lib, x: tuple(lib.aminmax(x))),
    ("aminmax_dim", lambda lib, x: tuple(lib.aminmax(x, dim=1))),
    ("median", lambda lib, x: x.median()),
    ("norm_inf", lambda lib, x: lib.norm(x, INF, 1)),
    ("matrix_norm_1", lambda lib, x: (lib.linalg.matrix_norm if lib is torch else ember.ops.decompositions.matrix_norm)(x, 1)),
    ("cummax", lambda lib, x: x.cummax(1)[0]),
    ("cummin", lambda lib, x: x.cummin(0)[0]),
    ("mode", lambda lib, x: x.mode(1)[0]),
    ("quantile_exact_rank", lambda lib, x: lib.quantile(x, 0.5, dim=1, interpolation="midpoint")),
])
def test_gradients_with_ties_match_torch(name, fn):
    _check(fn, TIES)


@pytest.mark.parametrize("name,fn", [
    ("max", lambda lib, x: x.max()),
    ("max_dim", lambda lib, x: x.max(1)[0]),
    ("median", lambda lib, x: x.median()),
    ("median_dim", lambda lib, x: x.median(1)[0]),
    ("nanmedian", lambda lib, x: x.nanmedian()),
    ("nanmedian_dim", lambda lib, x: x.nanmedian(1)[0]),
    ("nansum", lambda lib, x: x.nansum(1)),
    ("nanmean", lambda lib, x: x.nanmean(0, keepdim=True)),
    ("sort", lambda lib, x: x.sort(1, descending=True)[0]),
    ("topk", lambda lib, x: x.topk(2)[0]),
    ("kthvalue", lambda lib, x: x.kthvalue(4)[0]),
    ("cummax", lambda lib, x: x.cummax(1)[0]),
    ("quantile", lambda lib, x: lib.quantile(x, 0.3, dim=1)),
    ("nanquantile", lambda lib, x: lib.nanquantile(x, lib.tensor([0.2, 0.9], dtype=lib.float64), dim=1)),
])
def test_gradients_with_nan_match_torch(name, fn):
    _check(fn, NAN_ROWS)


@pytest.mark.parametrize("name,fn", [
    ("prod", lambda lib, x: x.prod()),
    ("prod_dim", lambda lib, x: x.prod(1)),
    ("prod_dim0_keepdim", lambda lib, x: x.prod(0, keepdim=True)),
    ("cumprod", lambda lib, x: x.cumprod(1)),
    ("cumprod_dim0", lambda lib, x: x.cumprod(0)),
    ("norm_2", lambda lib, x: lib.norm(x, 2, 1)),
    ("norm_half", lambda lib, x: lib.norm(x, 0.5, 1)),
    ("norm_3", lambda lib, x: lib.norm(x, 3, 1)),
    ("norm_negative", lambda lib, x: lib.norm(x, -1, 1)),
    ("std", lambda lib, x: (x * 0).std(1)),
])
def test_gradients_with_zeros_match_torch(name, fn):
    _check(fn, WITH_ZEROS)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_double_backward_with_zeros_matches_torch(dim):
    results = []
    for lib in (torch, ember):
        x = lib.tensor(WITH_ZEROS, dtype=lib.float64, requires_grad=True)
        out = x.prod() if dim is None else x.prod(dim)
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        weights = lib.tensor(np.arange(16.0).reshape(4, 4) / 7, dtype=lib.float64)
        (gg,) = lib.autograd.grad((g * weights).sum(), x)
        results.append(gg)
    _assert_close(results[1], results[0])


def test_cumprod_gradcheck_with_zeros():
    x = ember.tensor([[2.0, 0.0, 3.0, 5.0], [0.0, 1.5, 0.0, 2.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.cumprod(1), (x,))
    assert ember.autograd.gradcheck(lambda t: t.prod(1), (x,))


def test_logsumexp_and_logcumsumexp_infinities_match_torch():
    _check(lambda lib, x: x.logsumexp(1), [[-INF, -INF], [INF, 1.0], [1000.0, 1000.0]])
    _check(lambda lib, x: x.logcumsumexp(1), [[-INF, 1.0, 2.0], [3.0, -INF, 4.0], [1000.0, -1000.0, 1000.0]])


def test_logcumsumexp_is_stable_for_large_values():
    x = ember.tensor([1000.0, 1000.0, -1000.0], dtype=ember.float64)
    expected = torch.logcumsumexp(torch.tensor([1000.0, 1000.0, -1000.0], dtype=torch.float64), 0)
    _assert_close(ember.logcumsumexp(x, 0), expected)


def test_named_results_index_unpack_and_pickle():
    x = ember.tensor([[1.0, 5.0], [7.0, 2.0]])
    result = x.max(dim=1)
    assert isinstance(result, tuple) and len(result) == 2
    values, indices = result
    assert values is result.values and indices is result[1]
    assert type(result).__name__ == "max"
    assert ember.aminmax(x).min.item() == 1.0
    assert ember.sort(x).indices.tolist() == [[0, 1], [1, 0]]
    assert ember.topk(x, 1).values.tolist() == [[5.0], [7.0]]
    for op in (ember.median, ember.nanmedian, ember.mode):
        assert type(op(x, 1)).__name__ == op.__name__
    restored = pickle.loads(pickle.dumps(result))
    assert restored.indices.tolist() == [1, 0]
    assert "ember.return_types.max(" in repr(result)


def test_all_any_methods_and_comparisons():
    a, b = ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0])
    assert (a == b).all()
    assert not (a != b).any()
    assert bool(ember.all(a == b))
    assert ember.tensor([1, 0], dtype=ember.uint8).all().dtype == ember.uint8
    assert ember.tensor([[1, 0]]).any(dim=1, keepdim=True).tolist() == [[True]]


def test_inplace_scans_match_torch_and_track_gradients():
    for name in ("cumsum_", "cumprod_"):
        t = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, 2.0]])
        e = ember.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, 2.0]])
        getattr(t, name)(1)
        getattr(e, name)(1)
        _assert_close(e, t)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ex = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty, ey = tx * 2, ex * 2
    ty.cumprod_(0).sum().backward()
    ey.cumprod_(0).sum().backward()
    _assert_close(ex.grad, tx.grad)


def test_out_arguments():
    x = ember.tensor([[1.0, 5.0], [7.0, 2.0]])
    out = ember.empty(2)
    assert ember.sum(x, 1, out=out) is out and out.tolist() == [6.0, 9.0]
    values, indices = ember.empty(2), ember.empty(2, dtype=ember.int64)
    result = ember.max(x, 1, out=(values, indices))
    assert result.values is values and indices.tolist() == [1, 0]


def test_max_with_tensor_is_elementwise():
    x = ember.tensor([1.0, 5.0, NAN])
    y = ember.tensor([2.0, 3.0, 0.0])
    np.testing.assert_array_equal(ember.max(x, y).numpy(), [2.0, 5.0, NAN])
    np.testing.assert_array_equal(ember.min(x, other=y).numpy(), [1.0, 3.0, NAN])


def test_float16_sums_accumulate_in_float32():
    data = np.full(10000, 0.1, dtype=np.float16)
    expected = torch.from_numpy(data).sum()
    result = ember.tensor(data).sum()
    assert result.dtype == ember.float16
    assert result.item() == expected.item()
    assert ember.tensor(data).cumsum(0)[-1].item() == torch.from_numpy(data).cumsum(0)[-1].item()


def test_unique_of_float_with_nan_keeps_each_nan():
    data = [1.0, NAN, NAN, 1.0]
    values, inverse, counts = ember.unique(ember.tensor(data), return_inverse=True, return_counts=True)
    t_values, t_inverse, t_counts = torch.unique(torch.tensor(data), return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), t_values.numpy())
    assert inverse.tolist() == t_inverse.tolist() and counts.tolist() == t_counts.tolist()


def test_quantile_shapes_match_torch():
    data = np.random.default_rng(0).uniform(size=(2, 3, 4)).astype(np.float32)
    q = [0.1, 0.5]
    for kwargs in ({}, {"keepdim": True}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": 0}):
        expected = torch.quantile(torch.from_numpy(data), torch.tensor(q), **kwargs)
        result = ember.quantile(ember.tensor(data), ember.tensor(q), **kwargs)
        assert tuple(result.shape) == tuple(expected.shape), kwargs
        np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-6)


def test_errors_point_at_the_calling_line():
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified") as error:
        ember.zeros(0).max()
    assert "called from" in str(error.value)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.zeros(2, 3).sum(5)
    with pytest.raises(RuntimeError, match="Cannot pass both correction and unbiased"):
        ember.zeros(3).var(unbiased=True, correction=1)
