"""Generated C for elementwise fusion groups (ember/compiler/codegen.py): one loop per chain, the same bits as
running the ops one by one, and a fallback whenever the operands do not fit the loop."""

import numpy as np
import pytest

import ember
from ember.kernels import loader as kernels

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


def _chain(x, y):
    with ember.no_grad():
        return ember.maximum((x * 2.5 + y - 1.0).relu().neg() / 3.0, y.abs() - 4.0)


def _eager(x, y):
    return _chain(x, y).numpy()


def _edge_values(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32) * 10
    y = rng.standard_normal(n).astype(np.float32)
    x[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40]
    y[6:9] = [np.nan, np.inf, -np.inf]
    return ember.from_numpy(x), ember.from_numpy(y)


@needs_compiler
def test_fused_chain_equals_op_by_op_bit_for_bit():
    compiled = ember.compile(_chain)
    for seed in range(3):
        x, y = _edge_values(seed=seed)
        np.testing.assert_array_equal(compiled(x, y).numpy(), _eager(x, y))
    entry = compiled.last_entry
    assert len(entry.executor.fused) >= 1 and "one C loop" in entry.report()


@needs_compiler
def test_operands_that_do_not_fit_run_op_by_op():
    compiled = ember.compile(_chain)
    x, y = (ember.randn(32, 32) for _ in range(2))
    compiled(x, y)
    transposed = ember.randn(32, 32).t()  # same shape, not contiguous: the loop declines at run time
    np.testing.assert_array_equal(compiled(transposed, y).numpy(), _eager(transposed, y))
    np.testing.assert_array_equal(compiled(x, y).numpy(), _eager(x, y))


def test_ops_without_an_exact_c_form_stay_unfused():
    @ember.compile
    def f(x):
        with ember.no_grad():
            return (x * 2.0).exp() + 1.0

    x = ember.randn(100)
    f(x)
    result = f(x)
    with ember.no_grad():
        np.testing.assert_array_equal(result.numpy(), ((x * 2.0).exp() + 1.0).numpy())
    assert f.last_entry.executor.fused == []
    assert "run op by op" in f.last_entry.report()


def test_broadcast_operands_stay_unfused():
    @ember.compile
    def f(x, row):
        with ember.no_grad():
            return (x + row).relu() * 2.0

    x, row = ember.randn(8, 5), ember.randn(5)
    f(x, row)
    np.testing.assert_array_equal(f(x, row).numpy(), ((x + row).relu() * 2.0).numpy())
    assert f.last_entry.executor.fused == []
