"""The eager fast paths give what the general paths give, and what PyTorch gives.

Covers the dispatcher's same-dtype shortcut (with Python scalars), ``matmul``'s 2-D and folded batch paths, and
gradient hand-over in ``AccumulateGrad`` (a fresh gradient becomes ``.grad`` without a copy, a shared one never
does).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch

import ember


def _pair(array):
    return ember.from_numpy(array.copy()), torch.from_numpy(array.copy())


def _without_fast_paths(monkeypatch):
    from ember.ops.registry import REGISTRY
    for op in REGISTRY.values():
        monkeypatch.setattr(op, "same_dtype_fast", None)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32,
                                   np.float64])
@pytest.mark.parametrize("scalar", [-1, 3, 300, 2.5, -0.0])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "eq", "lt"])
def test_tensor_scalar_matches_torch_and_the_general_path(dtype, scalar, op, monkeypatch):
    e, t = _pair(np.arange(-3, 5).astype(dtype))
    for args_e, args_t in (((e, scalar), (t, scalar)), ((scalar, e), (scalar, t))):
        expected = getattr(operator, op)(*args_t)
        got = getattr(operator, op)(*args_e)
        assert got.dtype.name == str(expected.dtype).replace("torch.", "")
        # NumPy's division may round the last bit differently from PyTorch's.
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-3 if dtype == np.float16 else 1e-6)
        with monkeypatch.context() as patch:
            _without_fast_paths(patch)
            general = getattr(operator, op)(*args_e)
        assert general.dtype is got.dtype
        np.testing.assert_array_equal(got.numpy(), general.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_same_dtype_tensors_match_torch(dtype):
    e1, t1 = _pair((np.arange(6).reshape(2, 3) % 3).astype(dtype))
    e2, t2 = _pair((np.arange(3) % 2).astype(dtype))
    for op in ("add", "mul", "eq", "maximum"):
        np.testing.assert_array_equal(getattr(ember, op)(e1, e2).numpy(), getattr(torch, op)(t1, t2).numpy())


def test_fast_path_still_raises_like_torch():
    b = ember.tensor([True, False])
    with pytest.raises(RuntimeError, match="Subtraction"):
        b - b
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        ember.matmul(ember.ones(2, 2, dtype=ember.bool), ember.ones(2, 2, dtype=ember.bool))


@pytest.mark.parametrize("shapes", [((4, 4), (4, 4)), ((2, 3, 4, 5), (1, 1, 5, 6)), ((3, 4, 5), (1, 1, 1, 5, 6)),
                                    ((3, 4, 5), (1, 5, 6)), ((2, 3, 4, 5), (3, 5, 6)), ((3, 0, 5), (1, 5, 6)),
                                    ((0, 4), (4, 3)), ((5,), (5, 2)), ((3, 4, 5), (5,))])
def test_matmul_paths_match_torch(shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    ea, ta = _pair(a)
    eb, tb = _pair(b)
    ea.requires_grad_(); ta.requires_grad_()
    eb.requires_grad_(); tb.requires_grad_()
    got, expected = ea @ eb, ta @ tb
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-5)


def _shares(x, y):
    return np.shares_memory(x._data, y._data)


def test_shared_gradient_is_copied_per_leaf():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    seed = ember.ones(3)
    (a + b).backward(seed)
    assert not _shares(a.grad, b.grad)
    assert not _shares(a.grad, seed) and not _shares(b.grad, seed)
    a.grad.add_(1.0)
    assert b.grad.tolist() == [1.0, 1.0, 1.0] and seed.tolist() == [1.0, 1.0, 1.0]
    a.grad = b.grad = None
    ((a + b) * 2).sum().backward()
    assert not _shares(a.grad, b.grad)


def test_gradient_kept_by_a_hook_is_copied():
    a = ember.randn(3, requires_grad=True)
    kept = []
    handle = a.register_hook(lambda g: kept.append(g))
    (a * 3).sum().backward()
    handle.remove()
    assert not _shares(a.grad, kept[0])
    y_grads = []
    a.grad = None
    y = a * 2
    y.register_hook(lambda g: y_grads.append(g))
    y.backward(ember.ones(3))
    assert not _shares(a.grad, y_grads[0])


def test_retained_gradient_is_not_shared():
    a = ember.randn(3, requires_grad=True)
    y = a * 1.0
    y.retain_grad()
    y.sum().backward()
    assert not _shares(a.grad, y.grad)


def test_fresh_gradient_is_taken_and_accumulates_like_torch():
    rng = np.random.default_rng(1)
    w_np, x_np = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    ew, tw = _pair(w_np)
    ew.requires_grad_(); tw.requires_grad_()
    ex, tx = _pair(x_np)
    for _ in range(3):
        (ew * ex).sum().backward()
        (tw * tx).sum().backward()
    np.testing.assert_array_equal(ew.grad.numpy(), tw.grad.numpy())
    assert ew.grad._data.flags.writeable and ew.grad._data.flags.c_contiguous
    assert not _shares(ew.grad, ex)


def test_linear_layer_gradients_are_independent():
    layer = ember.nn.Linear(4, 3)
    layer(ember.randn(2, 4)).sum().backward()
    grads = [p.grad for p in layer.parameters()]
    assert not _shares(grads[0], grads[1])
    assert grads[0]._data.base is None or grads[0]._data.base.size == grads[0]._data.size
    before = grads[1].clone()
    grads[0].zero_()
    np.testing.assert_array_equal(grads[1].numpy(), before.numpy())
