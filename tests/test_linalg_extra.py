"""Linear algebra behaviour the op table does not cover: call forms, in-place and ``out=`` variants, triangle
reading, singular inputs, ``*_ex`` info, errors raised in backward, and double backward of the decompositions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _pair(array, requires_grad=False):
    return (ember.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def _close(e, t, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def _random(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def test_tensor_methods_and_operator():
    a, b = _random(2, 3), _random(3, 4, seed=1)
    ea, ta = _pair(a)
    eb, tb = _pair(b)
    _close(ea @ eb, ta @ tb)
    _close(ea.matmul(eb), ta.matmul(tb))
    _close(ea.mm(eb), ta.mm(tb))
    _close(ea.mv(eb[:, 0]), ta.mv(tb[:, 0]))
    _close(ea[0].dot(eb[:, 0]), ta[0].dot(tb[:, 0]))
    _close(ea[0].outer(eb[0]), ta[0].outer(tb[0]))
    square = _random(3, 3, seed=2) + 3 * np.eye(3)
    es, ts = _pair(square)
    _close(es.det(), ts.det())
    _close(es.inverse(), ts.inverse())
    _close(es.matrix_power(3), ts.matrix_power(3))


def test_out_argument():
    a, b = _random(2, 3), _random(3, 4, seed=1)
    out = ember.empty(2, 4)
    result = ember.matmul(ember.tensor(a), ember.tensor(b), out=out)
    assert result is out
    _close(out, torch.tensor(a) @ torch.tensor(b))


@pytest.mark.parametrize("name,shapes", [
    ("addmm", [(2, 4), (2, 3), (3, 4)]), ("addmv", [(2,), (2, 3), (3,)]), ("addbmm", [(2, 4), (3, 2, 3), (3, 3, 4)]),
    ("baddbmm", [(3, 2, 4), (3, 2, 3), (3, 3, 4)]), ("addr", [(3, 4), (3,), (4,)])])
def test_inplace_add_products(name, shapes):
    arrays = [_random(*s, seed=i) for i, s in enumerate(shapes)]
    e_args = [ember.tensor(x) for x in arrays]
    t_args = [torch.tensor(x) for x in arrays]
    e_result = getattr(e_args[0], name + "_")(*e_args[1:], beta=0.5, alpha=2)
    getattr(t_args[0], name + "_")(*t_args[1:], beta=0.5, alpha=2)
    assert e_result is e_args[0]
    _close(e_args[0], t_args[0])


def test_inplace_add_product_rejects_broadcast_self():
    with pytest.raises(RuntimeError, match=r"does not match the shape of self"):
        ember.ones(4).addmm_(ember.ones(2, 3), ember.ones(3, 4))


def test_inplace_addmm_gradient():
    base, tbase = _pair(_random(2, 4), requires_grad=True)
    m1, tm1 = _pair(_random(2, 3, seed=1), requires_grad=True)
    m2, tm2 = _pair(_random(3, 4, seed=2), requires_grad=True)
    e = (base * 1).addmm_(m1, m2, beta=2)
    t = (tbase * 1).addmm_(tm1, tm2, beta=2)
    (e * e).sum().backward()
    (t * t).sum().backward()
    for eg, tg in ((base.grad, tbase.grad), (m1.grad, tm1.grad), (m2.grad, tm2.grad)):
        _close(eg, tg)


def test_addmm_beta_zero_ignores_nan_and_integer_scalars_truncate():
    nan_input = ember.tensor([[1.0, float("nan")]])
    assert not ember.addmm(nan_input, ember.ones(1, 2), ember.ones(2, 2), beta=0).isnan().any()
    ints = [np.full((2, 2), 3, dtype=np.int64), np.ones((2, 2), np.int64), np.ones((2, 2), np.int64)]
    e = ember.addmm(*[ember.tensor(x) for x in ints], beta=0.5, alpha=2)
    t = torch.addmm(*[torch.tensor(x) for x in ints], beta=0.5, alpha=2)
    assert e.tolist() == t.tolist()


def test_einsum_call_forms():
    a, b = _random(2, 3), _random(3, 4, seed=1)
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    expected = torch.einsum("ij,jk->ik", ta, tb)
    _close(ember.einsum("ij,jk->ik", [ea, eb]), expected)
    _close(ember.einsum(ea, [0, 1], eb, [1, 2], [0, 2]), torch.einsum(ta, [0, 1], tb, [1, 2], [0, 2]))
    _close(ember.einsum(ea, [Ellipsis, 1], eb, [1, 2]), torch.einsum(ta, [Ellipsis, 1], tb, [1, 2]))


def test_einsum_same_operand_twice_accumulates_gradient():
    ex, tx = _pair(_random(3, 3), requires_grad=True)
    ember.einsum("ij,jk->", ex, ex).backward()
    torch.einsum("ij,jk->", tx, tx).backward()
    _close(ex.grad, tx.grad)


def test_einsum_integer_reduction_is_int64():
    assert torch.einsum("ij->i", torch.ones(2, 3, dtype=torch.int32)).dtype == torch.int64
    assert ember.einsum("ij->i", ember.ones(2, 3, dtype=ember.int32)).dtype is ember.int64


def test_einsum_large_contraction_uses_path_and_matches():
    a, b, c = _random(20, 30), _random(30, 40, seed=1), _random(40, 10, seed=2)
    e = ember.einsum("ij,jk,kl->il", *[ember.tensor(x) for x in (a, b, c)])
    _close(e, torch.einsum("ij,jk,kl->il", *[torch.tensor(x) for x in (a, b, c)]), rtol=1e-10)


def test_cross_without_dim_warns_and_uses_first_size_3_dim():
    a, b = _random(3, 4), _random(3, 4, seed=1)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        e = ember.cross(ember.tensor(a), ember.tensor(b))
    with pytest.warns(UserWarning):
        t = torch.cross(torch.tensor(a), torch.tensor(b))
    _close(e, t)


def test_kron_of_noncontiguous_input():
    a, b = _random(3, 2), _random(2, 2, seed=1)
    e = ember.kron(ember.tensor(a).t(), ember.tensor(b))
    t = torch.kron(torch.tensor(a).t().contiguous(), torch.tensor(b))  # torch's kron rejects the transposed view
    _close(e, t)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_one_triangle(uplo):
    a = _random(4, 4)  # not symmetric: only the chosen triangle may matter
    e = ember.linalg.eigvalsh(ember.tensor(a), UPLO=uplo)
    t = torch.linalg.eigvalsh(torch.tensor(a), UPLO=uplo)
    _close(e, t, rtol=1e-10, atol=1e-12)
    values, vectors = ember.linalg.eigh(ember.tensor(a), UPLO=uplo)
    tvalues, tvectors = torch.linalg.eigh(torch.tensor(a), UPLO=uplo)
    _close(values, tvalues, rtol=1e-10, atol=1e-12)
    _close(vectors.abs(), tvectors.abs(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_reads_one_triangle(upper):
    spd = _random(3, 3) @ _random(3, 3).T + 3 * np.eye(3)
    garbage = spd.copy()
    if upper:
        garbage[np.tril_indices(3, -1)] = 99.0
    else:
        garbage[np.triu_indices(3, 1)] = 99.0
    e = ember.linalg.cholesky(ember.tensor(garbage), upper=upper)
    t = torch.linalg.cholesky(torch.tensor(garbage), upper=upper)
    _close(e, t, rtol=1e-12)


def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix():
    # PyTorch 2.13 returns zeros here (det is exactly 0, so its grad * det * A^{-T} vanishes); the gradient of det
    # is the cofactor matrix, which is not zero for a rank n-1 matrix.
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    e = ember.tensor(singular, requires_grad=True)
    ember.linalg.det(e).backward()
    cofactors = np.array([[np.linalg.det(np.delete(np.delete(singular, i, 0), j, 1)) * (-1) ** (i + j)
                           for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(e.grad.numpy(), cofactors, atol=1e-10)


def test_linalg_error_is_a_runtime_error_and_names_the_call():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ember.linalg.LinAlgError, match=r"singular[\s\S]*called from .*test_linalg_extra.py"):
        ember.linalg.solve(ember.zeros(2, 2), ember.ones(2))


def test_ex_variants_report_info():
    singular = ember.stack([ember.eye(2), ember.zeros(2, 2)]) if hasattr(ember, "stack") else None
    if singular is None:
        pytest.skip("ember.stack is not available")
    e = ember.linalg.inv_ex(singular)
    t = torch.linalg.inv_ex(torch.stack([torch.eye(2), torch.zeros(2, 2)]))
    assert e.info.tolist() == t.info.tolist()
    _close(e.inverse[0], t.inverse[0])
    not_pd = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
    e = ember.linalg.cholesky_ex(ember.tensor(not_pd))
    t = torch.linalg.cholesky_ex(torch.tensor(not_pd))
    assert e.info.tolist() == t.info.tolist()
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.cholesky_ex(ember.tensor(not_pd), check_errors=True)


def test_solve_triangular_with_zero_diagonal_gives_infinities_like_torch():
    a = np.array([[0.0, 1.0], [0.0, 2.0]])
    b = np.array([[1.0], [1.0]])
    e = ember.linalg.solve_triangular(ember.tensor(a), ember.tensor(b), upper=True)
    t = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    np.testing.assert_array_equal(np.isinf(e.numpy()), np.isinf(t.numpy()))


def test_qr_backward_errors_match_torch():
    for mode, shape, match in (("r", (4, 3), "not computed when mode='r'"),
                               ("complete", (4, 3), "mode='complete' and nrows > ncols")):
        a = ember.tensor(_random(*shape), requires_grad=True)
        q, r = ember.linalg.qr(a, mode=mode)
        with pytest.raises(RuntimeError, match=match):
            r.sum().backward()


def test_slogdet_result_fields_and_logdet_of_singular():
    sign, logabsdet = ember.linalg.slogdet(ember.zeros(2, 2))
    assert sign.item() == 0 and logabsdet.item() == float("-inf")
    assert ember.logdet(ember.zeros(2, 2)).item() == float("-inf")
    assert np.isnan(ember.logdet(-ember.eye(3)).item())


def test_matrix_power_zero_keeps_graph_like_torch():
    e = ember.eye(2, requires_grad=True)
    t = torch.eye(2, requires_grad=True)
    assert ember.linalg.matrix_power(e, 0).requires_grad == torch.linalg.matrix_power(t, 0).requires_grad


def test_matrix_rank_tol_and_hermitian():
    a = np.array([[1.0, 2.0], [2.0, 4.0 + 1e-3]])
    for kwargs in ({}, {"atol": 1e-2}, {"rtol": 1e-2}, {"hermitian": True}, {"atol": 1e-5, "rtol": 1e-1}):
        e = ember.linalg.matrix_rank(ember.tensor(a), **kwargs)
        t = torch.linalg.matrix_rank(torch.tensor(a), **kwargs)
        assert e.item() == t.item(), kwargs


def test_pinv_rcond_and_pinverse():
    a = np.diag([1.0, 1e-9])
    _close(ember.pinverse(ember.tensor(a)), torch.pinverse(torch.tensor(a)))
    _close(ember.linalg.pinv(ember.tensor(a), hermitian=True), torch.linalg.pinv(torch.tensor(a), hermitian=True))
    _close(ember.linalg.pinv(ember.tensor(a), atol=1e-3), torch.linalg.pinv(torch.tensor(a), atol=1e-3))


@pytest.mark.parametrize("build", [
    lambda lib, a: lib.linalg.svdvals(a),
    lambda lib, a: lib.linalg.eigvalsh(a + a.mT),
    lambda lib, a: lib.linalg.slogdet(a + 3 * lib.eye(3, dtype=a.dtype)).logabsdet,
    lambda lib, a: lib.linalg.solve(a + 3 * lib.eye(3, dtype=a.dtype), a[:, :2]),
    lambda lib, a: lib.linalg.qr(a)[0] * lib.linalg.qr(a)[1].diagonal().sign(),
    lambda lib, a: _svd_product(lib, a),
    lambda lib, a: lib.linalg.eigh(a + a.mT).eigenvectors ** 2,
    lambda lib, a: lib.linalg.pinv(a[:, :2]),
], ids=["svdvals", "eigvalsh", "slogdet", "solve", "qr", "svd", "eigh", "pinv"])
def test_double_backward_of_decompositions(build):
    a = ember.tensor(_random(3, 3), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: build(ember, x), (a,), atol=1e-4, rtol=1e-3)


def _svd_product(lib, a):
    u, s, vh = lib.linalg.svd(a)
    return (u * s.unsqueeze(-2)) @ vh + u * u


def test_full_matrices_svd_gradient_ignores_completion_columns():
    a, ta = _pair(_random(4, 2), requires_grad=True)
    u, s, vh = ember.linalg.svd(a, full_matrices=True)
    tu, ts, tvh = torch.linalg.svd(ta, full_matrices=True)
    (u[:, :2] ** 2).sum().backward()
    (tu[:, :2] ** 2).sum().backward()
    _close(a.grad, ta.grad, atol=1e-10)


def test_multi_dot_picks_cheap_order_and_matches():
    shapes = [(10, 100), (100, 5), (5, 50), (50, 2)]
    arrays = [_random(*s, seed=i) for i, s in enumerate(shapes)]
    e = ember.linalg.multi_dot([ember.tensor(x) for x in arrays])
    t = torch.linalg.multi_dot([torch.tensor(x) for x in arrays])
    _close(e, t, rtol=1e-10)


def test_linalg_norm_forms():
    a = _random(3, 4)
    for args, kwargs in (((), {}), ((2,), {"dim": (0, 1)}), (("fro",), {}), ((float("inf"),), {}), ((), {"dim": 0})):
        _close(ember.linalg.norm(ember.tensor(a), *args, **kwargs), torch.linalg.norm(torch.tensor(a), *args, **kwargs))
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        ember.linalg.norm(ember.ones(2, 2, 2), ord=2)


def test_matmul_of_batch_and_matrix_is_folded_without_copying_the_batch():
    a = ember.tensor(_random(4, 5, 3))
    b = ember.tensor(_random(3, 2, seed=1))
    result = a @ b
    expected = torch.tensor(a.numpy()) @ torch.tensor(b.numpy())
    _close(result, expected, rtol=1e-12)
    assert result.is_contiguous()
