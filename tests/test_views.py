"""Views, version counters and in-place autograd, each compared with PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import ember


def _array(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().numpy() if t.requires_grad else t.numpy()


def _both(fn):
    """Run ``fn(lib)`` with torch and ember; return both results (or the exceptions they raised)."""
    results = []
    for lib in (torch, ember):
        try:
            results.append(fn(lib))
        except Exception as e:  # noqa: BLE001 - the test compares error types
            results.append(e)
    return results


# ------------------------------------------------------------------------------------ memory sharing
VIEWS = {
    "view": lambda lib, x: x.view(4, 3),
    "view_as": lambda lib, x: x.view_as(lib.zeros(12)),
    "reshape_contiguous": lambda lib, x: x.reshape(2, 6),
    "flatten": lambda lib, x: x.flatten(),
    "slice": lambda lib, x: x[1:, ::2],
    "int_index": lambda lib, x: x[1],
    "ellipsis_none": lambda lib, x: x[..., None, 1],
    "transpose": lambda lib, x: x.transpose(0, 1),
    "t": lambda lib, x: x.t(),
    "swapaxes": lambda lib, x: x.swapaxes(0, 1),
    "permute": lambda lib, x: x.unsqueeze(0).permute(2, 0, 1),
    "narrow": lambda lib, x: x.narrow(1, 1, 2),
    "narrow_tensor_start": lambda lib, x: x.narrow(0, lib.tensor(1), 2),
    "select": lambda lib, x: x.select(1, -1),
    "unsqueeze": lambda lib, x: x.unsqueeze(1),
    "squeeze": lambda lib, x: x[:1].squeeze(0),
    "squeeze_tuple": lambda lib, x: x.unsqueeze(0).unsqueeze(2).squeeze((0, 2)),
    "diagonal": lambda lib, x: x.diagonal(1),
    "diagonal_dims": lambda lib, x: x.view(3, 2, 2).diagonal(0, 1, 2),
    "unbind": lambda lib, x: x.unbind(1)[2],
    "split": lambda lib, x: x.split(2)[1],
    "split_sizes": lambda lib, x: x.split([1, 3], dim=1)[1],
    "chunk": lambda lib, x: x.chunk(2, dim=1)[0],
    "tensor_split": lambda lib, x: lib.tensor_split(x, [1, 2], dim=1)[1],
    "unflatten": lambda lib, x: x.unflatten(1, (2, 2)),
    "movedim": lambda lib, x: x.movedim(0, 1),
    "unfold": lambda lib, x: x.unfold(1, 2, 2),
    "as_strided": lambda lib, x: x.as_strided((2, 2), (1, 4), 1),
    "detach": lambda lib, x: x.detach(),
    "mT": lambda lib, x: x.mT,
}


@pytest.mark.parametrize("name", VIEWS)
def test_write_through_view_reaches_base(name):
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = VIEWS[name](lib, x)
        v.mul_(-1)
        version = x._version if lib is torch else x._version.value
        view_version = v._version if lib is torch else v._version.value
        return _array(x).copy(), _array(v).copy(), version, view_version
    (tx, tv, t_version, t_view_version), (ex, ev, e_version, e_view_version) = _both(run)
    np.testing.assert_array_equal(ex, tx)
    np.testing.assert_array_equal(ev, tv)
    assert e_version == t_version and e_view_version == t_view_version


@pytest.mark.parametrize("name", VIEWS)
def test_write_to_base_shows_in_view(name):
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = VIEWS[name](lib, x)
        x.add_(100)
        x[0, 0] = -5
        return _array(v).copy(), v._base is x if name != "detach" else True
    (tv, t_base), (ev, e_base) = _both(run)
    np.testing.assert_array_equal(ev, tv)
    assert e_base == t_base


def test_expand_shares_memory_but_refuses_writes():
    for lib in (torch, ember):
        x = lib.zeros(1, 3)
        e = x.expand(2, 3)
        x.add_(1)
        assert _array(e).tolist() == [[1.0] * 3] * 2
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e.add_(1)


def test_views_share_version_counter():
    def run(lib):
        x = lib.zeros(4, 3)
        a, b = x[1:], x.t()
        versions = []
        for step in (lambda: a.add_(1), lambda: b.mul_(2), lambda: x.zero_() if hasattr(x, "zero_") else x.mul_(0),
                     lambda: x.__setitem__(0, 1.0)):
            step()
            versions.append(tuple(t._version if lib is torch else t._version.value for t in (x, a, b)))
        return versions
    t, e = _both(run)
    assert e == t


def test_reshape_of_noncontiguous_copies():
    for lib in (torch, ember):
        x = lib.arange(6.0).reshape(2, 3).t()
        r = x.reshape(6)
        r[0] = 100
        assert _array(x)[0, 0] == 0
        assert r._base is None


def test_view_of_noncontiguous_raises_torch_error():
    t, e = _both(lambda lib: lib.arange(6.0).reshape(2, 3).t().view(6))
    assert isinstance(t, RuntimeError) and isinstance(e, RuntimeError)
    assert "view size is not compatible with input tensor's size and stride" in str(e)
    assert "Use .reshape(...) instead." in str(e)


def test_view_bad_shape_error():
    t, e = _both(lambda lib: lib.zeros(6).view(4, 2))
    assert type(e) is type(t) is RuntimeError
    assert "shape '[4, 2]' is invalid for input of size 6" in str(e)


def test_base_attribute():
    for lib in (torch, ember):
        x = lib.zeros(3, 4)
        assert x._base is None
        assert x[1]._base is x
        assert x[1][1:]._base is x
        assert x.t().t()._base is x
        assert x[[0, 1]]._base is None  # advanced indexing copies
        assert x.clone()._base is None


def test_advanced_index_is_a_copy():
    for lib in (torch, ember):
        x = lib.zeros(3)
        y = x[lib.tensor([0, 1])]
        y.add_(1)
        m = x[x == 0]
        m.add_(1)
        assert _array(x).tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------------------------ in-place errors
def test_inplace_on_view_of_leaf_requiring_grad_raises():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                               "in-place operation"):
            x[1:].mul_(2)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            x.add_(1)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[0] = 5.0


def test_inplace_on_leaf_view_allowed_under_no_grad():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            x[1:].mul_(2)
            x[0] = 5.0
        return _array(x).tolist()
    t, e = _both(run)
    assert e == t


SAVED = {
    "exp_output": lambda lib, x: (lambda y: (y.add_(1), y)[1])(x.exp()),
    "exp_output_through_view": lambda lib, x: (lambda y: (y[0].mul_(2), y)[1])(x.exp()),
    "mul_input": lambda lib, x: (lambda y: (lambda z: (y.add_(1), z)[1])(y * y))(x * 1),
    "pow_input": lambda lib, x: (lambda y: (lambda z: (y.mul_(2), z)[1])(y ** 3))(x + 0),
    "getitem_then_write": lambda lib, x: (lambda y: (lambda z: (y[2].mul_(0), z)[1])(y ** 2))(x * 1),
}


@pytest.mark.parametrize("name", SAVED)
def test_modifying_saved_tensor_raises(name):
    def run(lib):
        x = lib.tensor([0.5, 1.0, 1.5], requires_grad=True)
        SAVED[name](lib, x).sum().backward()
        return x.grad
    t, e = _both(run)
    assert isinstance(t, RuntimeError), f"torch did not raise: {t}"
    assert isinstance(e, RuntimeError), f"ember did not raise: {e}"
    assert "modified by an inplace operation" in str(e)
    version = re.search(r"is at version (\d+); expected version (\d+)", str(t)).groups()
    assert re.search(r"is at version (\d+); expected version (\d+)", str(e)).groups() == version


def test_sigmoid_and_tanh_outputs_are_saved():
    for name in ("sigmoid", "tanh"):
        if not hasattr(ember, name):
            continue
        for lib in (torch, ember):
            x = lib.tensor([0.5, -1.0], requires_grad=True)
            y = getattr(lib, name)(x)
            y.mul_(2)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.sum().backward()


def test_unrelated_inplace_does_not_raise():
    def run(lib):
        x = lib.tensor([0.5, 1.0, 1.5], requires_grad=True)
        y = x * 2  # mul by a number saves only x
        y.add_(1)
        y.sum().backward()
        return x.grad.tolist()
    t, e = _both(run)
    assert e == t


def test_multi_output_view_inplace_raises():
    for lib in (torch, ember):
        x = lib.ones(4, requires_grad=True)
        y = x * 1
        for view in (y.split(2)[0], y.unbind(0)[1], y.chunk(2)[1], y.view(2, 2).unbind(0)[0][0:1]):
            with pytest.raises(RuntimeError, match="This view is the output of a function that returns multiple views"):
                view.mul_(2)


def test_multi_output_view_inplace_without_grad_is_fine():
    def run(lib):
        x = lib.arange(4.0)
        a, b = x.split(2)
        a.mul_(10)
        b[0] = -1
        return _array(x).tolist()
    t, e = _both(run)
    assert e == t


def test_view_made_in_no_grad_modified_with_grad_raises():
    for lib in (torch, ember):
        y = lib.ones(3, requires_grad=True) * 1
        with lib.no_grad():
            v = y[1:]
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
            v.mul_(2)


# ------------------------------------------------------------------------------------ autograd through views
def _grads(fn):
    def run(lib):
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        z = lib.tensor(rng.standard_normal(4), requires_grad=True)
        w = lib.tensor(rng.standard_normal((3, 4)))
        fn(lib, x, z, w).backward()
        return [None if t.grad is None else _array(t.grad).copy() for t in (x, z)]
    return run


SCENARIOS = {
    "setitem_slice": lambda lib, x, z, w: (lambda y: (y.__setitem__((0, slice(None, 2)), z[:2] * 3), y * w)[1])(
        x.clone()).sum(),
    "two_level_view": lambda lib, x, z, w: (lambda y: (y[1:][:, 1].mul_(z[:2]), y * w)[1])(x * 2).sum(),
    "use_view_afterwards": lambda lib, x, z, w: (lambda y: (lambda v: (v.add_(z), (v * 2).sum() + (y * w).sum())[1])(
        y[0]))(x * 1),
    "stale_view_after_base_inplace": lambda lib, x, z, w: (lambda y: (lambda v: (y.mul_(2), (v * z).sum())[1])(
        y[0]))(x * 1),
    "stale_intermediate_view": lambda lib, x, z, w: (lambda y: (lambda v1: (v1[0].mul_(z), (v1 * w[1:]).sum())[1])(
        y[1:]))(x * 1),
    "base_without_grad": lambda lib, x, z, w: (lambda y: (y.__setitem__(1, z * x[0]), (y * w).sum())[1])(
        lib.zeros(3, 4, dtype=lib.float64)),
    "view_of_base_without_grad": lambda lib, x, z, w: (lambda y: (y[1:][0].add_(z), (y * w).sum())[1])(
        lib.zeros(3, 4, dtype=lib.float64)),
    "twice_through_view": lambda lib, x, z, w: (lambda y: (lambda v: (v.mul_(z), v.mul_(z), (y * w).sum())[2])(
        y[0]))(x.clone()),
    "flat_view_sum": lambda lib, x, z, w: (lambda y: (y.view(-1)[2:6].copy_(z) if hasattr(y, "copy_") else
                                                      y.view(-1).__setitem__(slice(2, 6), z), y.sum())[1])(x * 1),
    "transposed_grad": lambda lib, x, z, w: (lambda y: (y.view(-1)[2:6].mul_(z), (y.t() * w.t()).sum())[1])(x * 1),
    "diagonal": lambda lib, x, z, w: (lambda y: (y.diagonal().mul_(z[:3]), (y * w).sum())[1])(x * 1),
    "narrow_select": lambda lib, x, z, w: (lambda y: (y.narrow(1, 1, 2).select(0, 2).add_(z[:2]), (y * w).sum())[1])(
        x * 1),
    "advanced_setitem": lambda lib, x, z, w: (lambda y: (y.__setitem__((lib.tensor([0, 2]), lib.tensor([1, 1])), z[:2]),
                                                         (y * w).sum())[1])(x * 1),
    "mask_setitem_number": lambda lib, x, z, w: (lambda y: (y.__setitem__(x > 0, 0.5), (y * w).sum())[1])(x * 1),
    "mask_setitem_tensor": lambda lib, x, z, w: (lambda y: (y.__setitem__(x > 0, (x * 3)[x > 0]), (y * w).sum())[1])(
        x * 1),
    "setitem_on_view": lambda lib, x, z, w: (lambda y: (lambda v: (v.__setitem__((slice(None), 0), z[:2]),
                                                                   (v * w[1:]).sum() + (y * y).sum())[1])(y[1:]))(x * 1),
    "unsqueeze_select": lambda lib, x, z, w: (lambda y: (y.unsqueeze(0)[0, 1].mul_(z), (y * w).sum())[1])(x * 1),
    "permute_of_reshape": lambda lib, x, z, w: (lambda y: (y.permute(2, 0, 1)[1].mul_(2), (y.reshape(3, 4) * w).sum())[
        1])((x * 1).reshape(3, 2, 2)),
    "squeeze_of_unsqueeze": lambda lib, x, z, w: (lambda y: (y.squeeze(1)[0].mul_(z), (y.squeeze(1) * w).sum())[1])(
        (x * 1).unsqueeze(1)),
    "unfold_window": lambda lib, x, z, w: (lambda y: (y.unfold(1, 2, 2)[..., 0].mul_(3), (y * w).sum())[1])(x * 1),
    "ellipsis_none_setitem": lambda lib, x, z, w: (lambda y: (y.__setitem__((None, Ellipsis, 1), z[:3]),
                                                              (y * w).sum())[1])(x.clone()),
    "strided_setitem": lambda lib, x, z, w: (lambda y: (y.__setitem__((slice(None, None, 2), slice(1, None, 2)), 7.0),
                                                        (y * w).sum())[1])(x.clone()),
    "duplicate_advanced_get": lambda lib, x, z, w: (x[[0, 0, 2]] * w).sum() + x[lib.tensor([[1, 1], [1, 2]]), 0].sum(),
    "scatter_inplace": lambda lib, x, z, w: (lambda y: (y.scatter_(1, lib.tensor([[3], [0], [1]]), z[:3, None]),
                                                        (y * w).sum())[1])(x * 1),
    "index_add_inplace_on_view": lambda lib, x, z, w: (lambda y: (y[1:].index_add_(1, lib.tensor([0, 0]),
                                                                                   z[:2].expand(2, 2) * 1.0),
                                                                  (y * w).sum())[1])(x * 1),
    "masked_fill_inplace_on_view": lambda lib, x, z, w: (lambda y: (y.t().masked_fill_(w.t() > 0, 2.0),
                                                                    (y * z).sum())[1])(x * 1),
    "index_fill_tensor_value": lambda lib, x, z, w: (lambda y: (y.index_fill_(0, lib.tensor([1]), z[0]),
                                                                (y * w).sum())[1])(x * 1),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_inplace_autograd_matches_torch(name):
    t, e = _both(_grads(SCENARIOS[name]))
    if isinstance(t, Exception):
        assert isinstance(e, type(t)), f"torch raised {t!r}, ember gave {e!r}"
        return
    assert not isinstance(e, Exception), f"ember raised {e!r}"
    for tg, eg in zip(t, e):
        assert (tg is None) == (eg is None)
        if tg is not None:
            np.testing.assert_allclose(eg, tg, rtol=1e-10, atol=1e-12)


def test_setitem_through_view_double_backward():
    def f(x, z):
        y = x * 1
        y.t()[1:][:, 0] = z * z
        return (y * y).sum()
    x = ember.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    z = ember.tensor(np.random.default_rng(2).standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(f, (x, z))
    assert ember.autograd.gradgradcheck(f, (x, z))


def test_grad_fn_names_after_inplace():
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    y[0] = 5.0
    assert y.grad_fn.name() in ("IndexPutBackward0", "CopySlices")
    v = y[1:]
    v.mul_(2)
    assert y.grad_fn.name() == "CopySlicesBackward0"
    assert v.grad_fn is not None and v.requires_grad


# ------------------------------------------------------------------------------------ in-place index ops
INPLACE = {
    "scatter_": lambda lib, x: x.scatter_(1, lib.tensor([[2], [0]]), lib.tensor([[9.0], [8.0]])),
    "scatter_value": lambda lib, x: x.scatter_(1, lib.tensor([[2], [0]]), 7.0),
    "scatter_add_": lambda lib, x: x.scatter_add_(0, lib.tensor([[1, 1, 0]]), lib.ones(1, 3)),
    "scatter_reduce_": lambda lib, x: x.scatter_reduce_(1, lib.tensor([[0, 0], [1, 1]]), lib.ones(2, 2) * 5, "amax"),
    "index_add_": lambda lib, x: x.index_add_(1, lib.tensor([0, 0]), lib.ones(2, 2), alpha=2),
    "index_copy_": lambda lib, x: x.index_copy_(0, lib.tensor([1]), lib.ones(1, 3)),
    "index_fill_": lambda lib, x: x.index_fill_(1, lib.tensor([-1]), -3.0),
    "masked_fill_": lambda lib, x: x.masked_fill_(x > 2, 0.5),
    "masked_scatter_": lambda lib, x: x.masked_scatter_(x > 2, lib.arange(6.0) * 10),
    "put_": lambda lib, x: x.put_(lib.tensor([0, 5]), lib.tensor([-1.0, -2.0])),
    "index_put_": lambda lib, x: x.index_put_((lib.tensor([1]), lib.tensor([2])), lib.tensor(4.0), accumulate=True),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_index_ops(name):
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        view = x.t()
        out = INPLACE[name](lib, x)
        return out is x, _array(x).copy(), _array(view).copy(), x._version if lib is torch else x._version.value
    t, e = _both(run)
    assert e[0] and t[0]
    np.testing.assert_array_equal(e[1], t[1])
    np.testing.assert_array_equal(e[2], t[2])
    assert e[3] == t[3]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_index_ops_on_leaf_raise(name):
    x = ember.arange(6.0).reshape(2, 3).requires_grad_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        INPLACE[name](ember, x)


@pytest.mark.parametrize("restride", ["t_", "transpose_", "squeeze_", "unsqueeze_"])
def test_a_view_taken_before_its_base_is_restrided_in_place_backpropagates_to_the_right_elements(restride):
    args = {"t_": (), "transpose_": (0, 1), "squeeze_": (), "unsqueeze_": (0,)}[restride]
    grads = []
    for lib in (torch, ember):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        base = a * 1
        row = base[0]
        getattr(base, restride)(*args)
        (row * lib.tensor([5.0, 7.0])).sum().backward()
        grads.append(a.grad.tolist())
    assert grads[0] == grads[1]


def test_an_inplace_write_through_a_view_of_a_restrided_base_raises_instead_of_a_wrong_gradient():
    a = ember.ones(2, 2, requires_grad=True)
    base = a * 1
    row = base[0]
    base.t_()
    row.mul_(2)
    with pytest.raises(RuntimeError, match="restrided in place"):
        base.sum().backward()


def test_a_view_taken_before_its_base_data_was_replaced_backpropagates_as_in_torch():
    grads = []
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        y = x * 1
        view = y[:2]
        y.data = lib.full((3,), 5.0)  # other memory: the view is taken again of the new values
        y.mul_(2)
        (view * 3).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
