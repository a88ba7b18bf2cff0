"""The Tensor's own API against PyTorch: metadata, conversions, new_* helpers, Python protocols, repr, and
creation details (memory sharing, exact arange/linspace values)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember


def _both(fn):
    """``fn(torch)`` and ``fn(ember)``."""
    return fn(torch), fn(ember)


def _same_error(fn):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ember)
    assert isinstance(got.value, type(expected.value)), f"torch raised {expected.value!r}, ember {got.value!r}"


def _text(value):
    return repr(value).replace("torch.", "ember.")


# ------------------------------------------------------------------------------------ metadata
@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(2, 3).shape, lambda lib: lib.zeros(2, 3).size(), lambda lib: lib.zeros(2, 3).size(1),
    lambda lib: lib.zeros(2, 3).size(-2), lambda lib: lib.zeros(2, 3).size(dim=1), lambda lib: lib.zeros(()).size(),
    lambda lib: lib.zeros(2, 3, 4).dim(), lambda lib: lib.zeros(()).ndim, lambda lib: lib.zeros(2, 3).ndimension(),
    lambda lib: lib.zeros(2, 3).numel(), lambda lib: lib.zeros(2, 3).nelement(), lambda lib: lib.zeros(0, 3).numel(),
    lambda lib: lib.zeros(2, dtype=lib.float16).dtype, lambda lib: lib.zeros(2).device,
    lambda lib: lib.zeros(2, 3).T.shape, lambda lib: lib.zeros(2, 3, 4).mT.shape, lambda lib: lib.zeros(3).T.shape,
    lambda lib: lib.zeros(2, 3).element_size(), lambda lib: lib.zeros(2, dtype=lib.float16).itemsize,
    lambda lib: lib.zeros(2, 3, dtype=lib.float16).nbytes, lambda lib: lib.zeros(2).is_floating_point(),
    lambda lib: lib.zeros(2, dtype=lib.uint8).is_signed(), lambda lib: lib.zeros(2).is_cuda,
    lambda lib: lib.zeros(2).get_device(), lambda lib: lib.zeros(2).is_leaf, lambda lib: lib.zeros(2).grad_fn,
    lambda lib: lib.zeros(2).requires_grad, lambda lib: lib.zeros(2, requires_grad=True).requires_grad,
    lambda lib: (lib.zeros(2, requires_grad=True) * 2).is_leaf,
    lambda lib: (lib.zeros(2, requires_grad=True) * 2).requires_grad,
    lambda lib: lib.zeros(2, requires_grad=True).detach().requires_grad,
    lambda lib: lib.zeros(2, requires_grad=True).data.requires_grad,
    lambda lib: lib.zeros(2, 3).size()[1:], lambda lib: lib.zeros(2, 3).shape + (4,),
    lambda lib: (4,) + lib.zeros(2, 3).shape, lambda lib: lib.zeros(2, 3).shape.numel(),
    lambda lib: lib.zeros(2, 3).shape == (2, 3), lambda lib: str(lib.zeros(2, 3).shape), lambda lib: lib.Size([2, 3]) * 2,
    lambda lib: lib.Size([lib.tensor(2)]), lambda lib: lib.Size([]),
    lambda lib: pickle.loads(pickle.dumps(lib.Size([2, 3]))),
])
def test_metadata_matches_torch(fn):
    expected, got = _both(fn)
    assert _text(got) == _text(expected)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(2, 3).size(2), lambda lib: lib.zeros(2, 3).size(-3), lambda lib: lib.zeros(3).mT,
    lambda lib: lib.zeros(2, 3, 4).stride(3), lambda lib: lib.Size([2.5]),
])
def test_metadata_errors_match_torch(fn):
    _same_error(fn)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(2, 3).stride(), lambda lib: lib.zeros(2, 3).t().stride(), lambda lib: lib.zeros(2, 3, 4).stride(1),
    lambda lib: lib.zeros(2, 3, 4).stride(-1), lambda lib: lib.zeros(()).stride(), lambda lib: lib.zeros(0, 5).stride(),
    lambda lib: lib.zeros(5, 0).stride(), lambda lib: lib.zeros(4, 1, 5).stride(),
    lambda lib: lib.zeros(4, 1, 5).expand(4, 3, 5).stride(), lambda lib: lib.zeros(4, 5)[1:, 2:].storage_offset(),
    lambda lib: lib.zeros(4, 5)[2].storage_offset(), lambda lib: lib.zeros(4, 5)[:, 3].storage_offset(),
    lambda lib: lib.zeros(4, 5).storage_offset(), lambda lib: lib.zeros(4, 5).t()[1].storage_offset(),
    lambda lib: lib.zeros(4, 5)[1:].detach().storage_offset(), lambda lib: lib.zeros(4, 5)[1:].reshape(-1).storage_offset(),
    lambda lib: lib.zeros(2, 3).t().is_contiguous(), lambda lib: lib.zeros(2, 3).t().contiguous().is_contiguous(),
    lambda lib: lib.zeros(2, 3).is_contiguous(), lambda lib: lib.zeros(4, 5)[:, ::2].is_contiguous(),
])
def test_strides_offsets_contiguity(fn):
    expected, got = _both(fn)
    assert got == expected


def test_contiguous_returns_self_when_already_contiguous():
    x = ember.zeros(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.tolist() == x.t().tolist()


# ------------------------------------------------------------------------------------ conversions
@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([1.5]).item(), lambda lib: lib.tensor([[7]]).item(), lambda lib: lib.tensor(True).item(),
    lambda lib: lib.tensor([1.5], dtype=lib.bfloat16).item(), lambda lib: lib.tensor(2.5, dtype=lib.float16).item(),
    lambda lib: lib.tensor([1.5, 2.25], dtype=lib.bfloat16).tolist(), lambda lib: lib.tensor(2.5, dtype=lib.float16).tolist(),
    lambda lib: lib.tensor([[1, 2]], dtype=lib.int8).tolist(), lambda lib: lib.tensor([True, False]).tolist(),
    lambda lib: lib.tensor([1.0], requires_grad=True).tolist(), lambda lib: lib.tensor(3).tolist(),
    lambda lib: lib.zeros(2, 0).tolist(),
    lambda lib: lib.tensor([1.7, -2.7]).to(lib.int32), lambda lib: lib.tensor([1.7, -2.7]).to(dtype=lib.float64),
    lambda lib: lib.tensor([1.7, -2.7]).to("cpu"), lambda lib: lib.tensor([1.7, -2.7]).to("cpu", lib.float16),
    lambda lib: lib.tensor([1.7, -2.7]).to(lib.tensor([1])),
    lambda lib: lib.tensor([1.7, -2.7]).to(lib.device("cpu"), dtype=lib.bfloat16),
    lambda lib: lib.tensor([1.7, 300]).byte(), lambda lib: lib.tensor([1.7, -2.7]).char(),
    lambda lib: lib.tensor([1.7, -2.7]).short(), lambda lib: lib.tensor([1.7, -2.7]).int(),
    lambda lib: lib.tensor([1.7, -2.7]).long(), lambda lib: lib.tensor([1.7, -2.7]).half(),
    lambda lib: lib.tensor([1.7, -2.7]).bfloat16(), lambda lib: lib.tensor([1.7, -2.7]).double(),
    lambda lib: lib.tensor([1, 0]).float(), lambda lib: lib.tensor([1.7, 0]).bool(), lambda lib: lib.tensor([1.7, 0]).type(),
    lambda lib: lib.tensor([1, 0]).type(), lambda lib: lib.tensor([1, 0], dtype=lib.bfloat16).type(),
    lambda lib: lib.tensor([1, 0]).type(lib.float64), lambda lib: lib.tensor([1, 0]).type("torch.DoubleTensor"),
    lambda lib: lib.tensor([1.5, 0]).type_as(lib.tensor([1])), lambda lib: lib.tensor([1.5, 2.5]).cpu(),
])
def test_conversions_match_torch(fn):
    expected, got = _both(fn)
    assert _text(got) == _text(expected)


def test_to_returns_self_unless_a_copy_is_needed():
    x = ember.tensor([1.0, 2.0])
    assert x.to(ember.float32) is x and x.to("cpu") is x and x.to(x) is x
    y = x.to(ember.float32, copy=True)
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy()) and y.tolist() == x.tolist()
    z = x.to(copy=True)
    assert z is not x and not np.shares_memory(z.numpy(), x.numpy())


def test_to_keeps_the_graph():
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.to(lib.float64)
        assert y.requires_grad and y.grad_fn is not None
        (y * 3).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == lib.float32


def test_to_unavailable_device_raises():
    with pytest.raises(RuntimeError, match="not available"):
        ember.zeros(2).to("cuda")


def test_numpy_shares_memory():
    x = ember.tensor([1.0, 2.0])
    arr = x.numpy()
    arr[0] = 5
    assert x.tolist() == [5.0, 2.0]
    x[1] = 7
    assert arr.tolist() == [5.0, 7.0]


def test_numpy_refuses_tensors_that_require_grad():
    _same_error(lambda lib: lib.tensor([1.0], requires_grad=True).numpy())
    assert ember.tensor([1.0], requires_grad=True).numpy(force=True).tolist() == [1.0]
    assert ember.tensor([1.0], requires_grad=True).detach().numpy().tolist() == [1.0]


def test_detach_shares_memory_and_version():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 9
    assert x.tolist() == [9.0, 2.0]
    assert d._version is x._version


def test_clone_copies_and_keeps_the_graph():
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        assert c.requires_grad and c.grad_fn is not None
        (c * 2).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]
    y = ember.tensor([1, 2])
    c = y.clone()
    c[0] = 5
    assert y.tolist() == [1, 2]


def test_data_is_detached_and_shares_memory():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    x.data = ember.tensor([3.0, 4.0, 5.0])
    assert x.tolist() == [3.0, 4.0, 5.0] and x.requires_grad


# ------------------------------------------------------------------------------------ new_* and requires_grad_
@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(2, 3).new_zeros(4), lambda lib: lib.zeros(2).new_zeros((2, 3)),
    lambda lib: lib.zeros(2).new_zeros(lib.Size([2])), lambda lib: lib.zeros(2).new_zeros([2, 1]),
    lambda lib: lib.zeros(2).new_ones(3, requires_grad=True), lambda lib: lib.zeros(2, dtype=lib.float64).new_full([2], 7),
    lambda lib: lib.zeros(2, dtype=lib.int32).new_empty(3).dtype, lambda lib: lib.zeros(2, dtype=lib.float16).new_tensor([1, 2]),
    lambda lib: lib.zeros(2).new_tensor(np.array([1, 2])), lambda lib: lib.zeros(2, dtype=lib.int32).new_tensor([1.5, 2]),
    lambda lib: lib.zeros(2, dtype=lib.int64).new_tensor([1.5], dtype=lib.float64),
    lambda lib: lib.zeros(2, dtype=lib.int64).new_zeros(2, dtype=lib.float32),
    lambda lib: lib.zeros(2, dtype=lib.int32).new_full((2,), True), lambda lib: lib.zeros(2).new_full((2,), 3),
    lambda lib: lib.zeros(2).new_ones(2, 3, dtype=lib.int8), lambda lib: lib.zeros(2).new_empty((0,)).shape,
    lambda lib: lib.zeros(2).requires_grad_(), lambda lib: lib.zeros(2).requires_grad_(False),
    lambda lib: (lib.zeros(2, requires_grad=True) * 2).requires_grad_(True),
])
def test_new_methods_and_requires_grad_(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, got = _both(fn)
    assert _text(got) == _text(expected)


def test_new_tensor_from_a_tensor_is_a_detached_copy():
    source = ember.tensor([1.0, 2.0], requires_grad=True)
    t = ember.zeros(1).new_tensor(source)
    assert not t.requires_grad and t.tolist() == [1.0, 2.0]
    t[0] = 5
    assert source.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(2, dtype=lib.int64).requires_grad_(),
    lambda lib: (lib.zeros(2, requires_grad=True) * 2).requires_grad_(False),
    lambda lib: lib.tensor([1, 2], requires_grad=True),
])
def test_requires_grad_errors(fn):
    _same_error(fn)


# ------------------------------------------------------------------------------------ Python protocols
@pytest.mark.parametrize("fn", [
    lambda lib: len(lib.zeros(3, 2)), lambda lib: [x.item() for x in lib.arange(3)],
    lambda lib: [tuple(x.shape) for x in lib.zeros(2, 3)], lambda lib: bool(lib.tensor([0.0])),
    lambda lib: bool(lib.tensor(float("nan"))), lambda lib: bool(lib.tensor([[3]])), lambda lib: float(lib.tensor([3])),
    lambda lib: int(lib.tensor(3.9)), lambda lib: int(lib.tensor(-3.9)), lambda lib: int(lib.tensor([[5]])),
    lambda lib: int(lib.tensor([True])), lambda lib: [0, 1, 2][lib.tensor(1)], lambda lib: [0, 1, 2][lib.tensor([1])],
    lambda lib: [0, 1, 2][lib.tensor(True)], lambda lib: f"{lib.tensor(3.14159):.2f}", lambda lib: f"{lib.tensor(3):03d}",
    lambda lib: f"{lib.tensor(2.5)}", lambda lib: "{}".format(lib.tensor([1, 2])), lambda lib: f"{lib.tensor([3.5])}",
    lambda lib: complex(lib.tensor(2.0)), lambda lib: float(lib.tensor(2, dtype=lib.bfloat16)),
    lambda lib: range(10)[lib.tensor(2):lib.tensor(5)], lambda lib: lib.tensor(3).__index__(),
])
def test_python_protocols(fn):
    expected, got = _both(fn)
    assert _text(got) == _text(expected)


@pytest.mark.parametrize("fn", [
    lambda lib: len(lib.zeros(())), lambda lib: iter(lib.zeros(())), lambda lib: bool(lib.tensor([1, 2])),
    lambda lib: bool(lib.tensor([])), lambda lib: float(lib.tensor([3, 4])), lambda lib: float(lib.tensor([])),
    lambda lib: int(lib.tensor([3, 4])), lambda lib: int(lib.tensor(float("nan"))), lambda lib: [0, 1][lib.tensor(1.0)],
    lambda lib: [0, 1, 2][lib.tensor([1, 2])], lambda lib: f"{lib.tensor([3.5]):.2f}", lambda lib: lib.tensor([1, 2]).item(),
])
def test_python_protocol_errors(fn):
    _same_error(fn)


def test_iteration_yields_views():
    x = ember.zeros(2, 3)
    rows = list(x)
    rows[0][1] = 4
    assert x.tolist() == [[0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]


def test_deepcopy():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.grad = ember.tensor([0.5, 0.5])
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.is_leaf and y.tolist() == [1.0, 2.0]
    assert y.grad.tolist() == [0.5, 0.5] and y.grad is not x.grad
    assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    pair = copy.deepcopy([x, x])
    assert pair[0] is pair[1]
    _same_error(lambda lib: copy.deepcopy(lib.ones(2, requires_grad=True) * 2))


@pytest.mark.parametrize("make", [
    lambda: ember.tensor([[1.5, 2.0], [3.0, 4.0]]), lambda: ember.tensor([1, 2], dtype=ember.int8),
    lambda: ember.tensor([1.5], dtype=ember.bfloat16), lambda: ember.tensor(True), lambda: ember.zeros(0, 3),
    lambda: ember.arange(12.0).reshape(3, 4).t(), lambda: ember.tensor([1.0, 2.0], requires_grad=True),
])
def test_pickle_round_trip(make):
    x = make()
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is x.dtype and y.shape == x.shape and y.requires_grad == x.requires_grad
    assert y.tolist() == x.tolist()


def test_tensor_constructor():
    assert repr(ember.Tensor()) == repr(torch.Tensor())
    assert ember.Tensor(2, 3).shape == (2, 3) and ember.Tensor((2, 3)).tolist() == torch.Tensor((2, 3)).tolist()
    for data in ([1, 2], [[1, 2]], np.array([1, 2]), np.array([1.0, 2.0])):
        assert ember.Tensor(data).dtype is ember.float32


# ------------------------------------------------------------------------------------ creation details
def test_from_numpy_shares_memory_and_rejects_unsupported_dtypes():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    a[0] = 10
    t[1] = 20
    assert t.tolist() == [10.0, 20.0, 2.0, 3.0] and a.tolist() == [10.0, 20.0, 2.0, 3.0]
    assert ember.from_numpy(np.zeros(2, dtype=np.float16)).dtype is ember.float16
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.<U1"):
        ember.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):
        ember.from_numpy(np.zeros(2, dtype=np.complex64))
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy([1, 2])


def test_as_tensor_and_asarray_share_memory():
    a = np.zeros(3, dtype=np.float32)
    assert np.shares_memory(ember.as_tensor(a).numpy(), a)
    assert not np.shares_memory(ember.as_tensor(a, dtype=ember.float64).numpy(), a)
    assert np.shares_memory(ember.asarray(a).numpy(), a)
    assert not np.shares_memory(ember.asarray(a, copy=True).numpy(), a)
    t = ember.ones(2)
    assert ember.as_tensor(t) is t and ember.asarray(t) is t
    with pytest.raises(ValueError):
        ember.asarray(a, dtype=ember.float64, copy=False)
    assert ember.asarray([1, 2], requires_grad=False).dtype is ember.int64
    assert ember.asarray(np.ones(2), requires_grad=True).requires_grad


def test_tensor_copies_its_input():
    a = np.zeros(3)
    t = ember.tensor(a)
    a[0] = 1
    assert t.tolist() == [0.0, 0.0, 0.0] and t.dtype is ember.float64
    source = ember.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copied = ember.tensor(source)
    copied[0] = 5
    assert source.tolist() == [1.0, 1.0]


def test_tensor_of_zero_dim_tensors():
    values = [ember.tensor(1.5), ember.tensor(2.5, requires_grad=True)]
    t = ember.tensor(values)
    assert t.tolist() == [1.5, 2.5] and not t.requires_grad
    assert ember.tensor([ember.tensor(1, dtype=ember.int32), ember.tensor(2, dtype=ember.int32)]).dtype is ember.int32
    assert ember.tensor([ember.tensor(1.0, dtype=ember.bfloat16)]).dtype is ember.bfloat16


def test_zeros_out_argument():
    out = ember.empty(3, dtype=ember.int64)
    assert ember.zeros(2, 2, out=out) is out
    assert out.shape == (2, 2) and out.dtype is ember.int64 and out.tolist() == [[0, 0], [0, 0]]
    same = ember.ones(4)
    view = same[:2]
    ember.zeros(2, out=view)
    assert same.tolist() == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="does not match dtype of out"):
        ember.zeros(2, dtype=ember.float32, out=ember.empty(2, dtype=ember.int64))
    assert ember.arange(4, out=ember.empty(0)).tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("args,dtype", [
    ((0, 1, 0.1), "float32"), ((0, 10, 0.3), "float32"), ((-1, 1, 0.001), "float32"), ((0, 1000, 0.7), "float32"),
    ((1.5, 100.1, 0.37), "float64"), ((0, 10, 0.3), "float64"), ((0, 1e4, 0.1), "float64"), ((0, 1, 0.1), "float16"),
    ((0, 1, 0.1), "bfloat16"), ((-3, 3, 0.7), "float32"),
])
def test_arange_values_are_bit_identical(args, dtype):
    expected = torch.arange(*args, dtype=getattr(torch, dtype)).float().numpy()
    got = ember.arange(*args, dtype=getattr(ember, dtype)).float().numpy()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("args,dtype", [
    ((0, 1, 10), "float32"), ((0.1, 0.9, 100), "float32"), ((-5, 5, 1001), "float32"), ((0, 1, 20000), "float32"),
    ((-2.5, 1e3, 77), "float64"), ((0.1, 0.9, 100), "float64"), ((0, 1, 10), "float64"), ((-1, 1, 7), "float16"),
    ((0.3, 17, 53), "bfloat16"),
])
def test_linspace_values_are_bit_identical(args, dtype):
    expected = torch.linspace(*args, dtype=getattr(torch, dtype)).float().numpy()
    got = ember.linspace(*args, dtype=getattr(ember, dtype)).float().numpy()
    np.testing.assert_array_equal(got, expected)


def test_ranges_are_bit_identical_on_random_arguments():
    rng = np.random.default_rng(1)
    for _ in range(40):
        start, step, n = float(rng.uniform(-100, 100)), float(rng.uniform(0.001, 5)), int(rng.integers(1, 3000))
        end = start + step * n * rng.uniform(0.5, 1)
        for name in ("float32", "float64", "float16", "bfloat16"):
            kw = dict(dtype=getattr(torch, name)), dict(dtype=getattr(ember, name))
            for expected, got in [(torch.arange(start, end, step, **kw[0]), ember.arange(start, end, step, **kw[1])),
                                  (torch.linspace(start, end, n, **kw[0]), ember.linspace(start, end, n, **kw[1])),
                                  (torch.logspace(start / 50, end / 1000, n % 50, **kw[0]),
                                   ember.logspace(start / 50, end / 1000, n % 50, **kw[1]))]:
                np.testing.assert_array_equal(got.float().numpy(), expected.float().numpy())


def test_meshgrid_views_share_memory():
    x = ember.arange(3)
    grid, _ = ember.meshgrid(x, ember.arange(2), indexing="ij")
    assert np.shares_memory(grid.numpy(), x.numpy())


# ------------------------------------------------------------------------------------ repr
REPR_CASES = [
    "lib.tensor([1., 2., 3.])", "lib.tensor([1.5, 2., 3.])", "lib.tensor([1e-5, 1.])", "lib.tensor([1e9, 1.])",
    "lib.tensor([123456789., 1.])", "lib.tensor([0.1, 1000.])", "lib.tensor([0.1, 100.5])", "lib.tensor([-1.5, 2.25, -3.125])",
    "lib.tensor([-1., 2., -3.])", "lib.tensor([float('inf'), 1., float('nan')])", "lib.tensor([float('inf'), 1.5, -float('inf')])",
    "lib.tensor([float('nan')])", "lib.tensor([0., 0.])", "lib.tensor([0., -0.])", "lib.tensor(0.)", "lib.tensor(-0.)",
    "lib.tensor(3.5)", "lib.tensor(1e-8)", "lib.tensor(7)", "lib.tensor(True)", "lib.tensor([True, False])",
    "lib.tensor([1, -20, 300])", "lib.tensor([[1, 2], [3, 4]])", "lib.tensor([[1.5, 2], [3, 4]])",
    "lib.arange(24.).reshape(2, 3, 4)", "lib.arange(24).reshape(2, 3, 4) - 10", "lib.arange(120.).reshape(2, 3, 4, 5) / 7",
    "lib.arange(2000)", "lib.arange(2000.) / 3", "lib.arange(2000).reshape(40, 50)", "lib.arange(2000.).reshape(10, 10, 20)",
    "lib.arange(30.) / 7", "lib.arange(100) * 12345", "lib.arange(1001).reshape(1001, 1)", "lib.tensor([], dtype=lib.int64)",
    "lib.tensor([])", "lib.zeros(0, 3)", "lib.zeros(0, 3, dtype=lib.int64)", "lib.zeros(2, 0, dtype=lib.float64)",
    "lib.zeros(0, dtype=lib.float16)", "lib.zeros(0, dtype=lib.bool)", "lib.zeros(1, 0, 3)",
    "lib.tensor([1.5, 2.5], dtype=lib.float16)", "lib.tensor([1.5, 2.5], dtype=lib.bfloat16)",
    "lib.tensor([1.1, 2.7], dtype=lib.bfloat16)", "lib.tensor([1.1, 2.7], dtype=lib.float64)",
    "lib.tensor([1, 2], dtype=lib.int8)", "lib.tensor([1, 2], dtype=lib.uint8)", "lib.tensor([1, 2], dtype=lib.int16)",
    "lib.tensor([1, 2], dtype=lib.int32)", "lib.tensor(5, dtype=lib.int32)", "lib.tensor(5, dtype=lib.float64)",
    "lib.tensor([1., 2.], requires_grad=True)", "lib.tensor(1., requires_grad=True)",
    "lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)", "lib.tensor([1., 2.], requires_grad=True) * 2",
    "lib.tensor([1., 2.], requires_grad=True) + 2", "lib.tensor([1., 2.], dtype=lib.float16, requires_grad=True) * 2",
    "lib.arange(100.) / 3 + lib.zeros(100, requires_grad=True)", "lib.linspace(0, 1, 30)", "lib.linspace(-1e5, 1e5, 11)",
    "lib.linspace(-1e-5, 1e-5, 11)", "lib.tensor([1e-4, 1.])", "lib.tensor([0.99999e-4, 1.])", "lib.tensor([1e8, 1.])",
    "lib.tensor([1.000001e8, 1.])", "lib.tensor([1., 999.9])", "lib.tensor([1., 1000.1])", "lib.tensor([123.456, 0.001])",
    "lib.tensor([[1e-10, 1e10], [1, 2]])", "lib.tensor([1e300, 1e-300], dtype=lib.float64)",
    "lib.tensor([65504., 1.], dtype=lib.float16)", "lib.arange(10.).reshape(1, 10)", "lib.arange(40.).reshape(2, 20) / 9",
    "lib.arange(36.).reshape(6, 6, 1)", "lib.ones(3, 1, 1, 1)", "lib.tensor([[[1]]])", "lib.full((3,), 123456789012)",
    "lib.tensor([-9223372036854775808, 9223372036854775807])", "lib.tensor([0.5, 1e-5], dtype=lib.bfloat16)",
    "lib.tensor([100000.], dtype=lib.bfloat16)", "lib.arange(10000.).reshape(100, 100)", "lib.arange(1001.)",
    "lib.arange(1000.)", "lib.tensor([[True, False], [False, True]])", "lib.tensor([-1e-5, 1.])",
    "lib.eye(3, dtype=lib.int8)", "lib.arange(30.).reshape(3, 10) * 1e6", "lib.arange(-5., 5.) / 1e5",
    "lib.tensor([float('nan'), float('inf')], dtype=lib.float16)", "lib.tensor([1.23456789e-20, 4.5], dtype=lib.float64)",
    "lib.arange(5000.).reshape(50, 100)[:, ::2]", "lib.arange(60.).reshape(3, 4, 5).permute(2, 0, 1)",
]


@pytest.mark.parametrize("expression", REPR_CASES)
def test_repr_matches_torch(expression):
    expected, got = _both(lambda lib: eval(expression, {"lib": lib}))
    assert repr(got) == repr(expected).replace("torch.", "ember.")
    assert str(got) == str(expected).replace("torch.", "ember.")


PRINT_OPTIONS = [
    dict(precision=2), dict(precision=8), dict(sci_mode=True), dict(sci_mode=False), dict(threshold=5),
    dict(edgeitems=1, threshold=10), dict(linewidth=40), dict(linewidth=200), dict(profile="short"), dict(profile="full"),
    dict(precision=0), dict(edgeitems=0, threshold=3),
]
PRINT_CASES = ["lib.arange(30.) / 7", "lib.tensor([1e-5, 1., 123.])", "lib.arange(2000).reshape(40, 50)",
               "lib.tensor([[1.5, -2.25], [3.0, 1e6]])", "lib.arange(12)", "lib.tensor([1., 2.], requires_grad=True) * 3",
               "lib.tensor(3.14159)", "lib.arange(1500.).reshape(3, 500)"]


@pytest.fixture
def restore_print_options():
    yield
    torch.set_printoptions(profile="default")
    ember.set_printoptions(profile="default")


@pytest.mark.parametrize("options", PRINT_OPTIONS, ids=[str(o) for o in PRINT_OPTIONS])
@pytest.mark.parametrize("expression", PRINT_CASES)
def test_repr_with_print_options(options, expression, restore_print_options):
    torch.set_printoptions(**options)
    ember.set_printoptions(**options)
    expected, got = _both(lambda lib: eval(expression, {"lib": lib}))
    assert repr(got) == repr(expected).replace("torch.", "ember.")


def test_repr_with_default_dtype_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for expression in ("lib.tensor([1.5, 2.0])", "lib.tensor([1.5], dtype=lib.float32)", "lib.zeros(0)",
                           "lib.zeros(0, dtype=lib.float32)"):
            expected, got = _both(lambda lib: eval(expression, {"lib": lib}))
            assert repr(got) == repr(expected).replace("torch.", "ember.")
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_repr_of_a_subclass_uses_its_name():
    class MyTensor(ember.Tensor):
        pass

    value = MyTensor([1.0, 2.0])
    assert repr(value) == "MyTensor([1., 2.])"


@pytest.mark.parametrize("a, b, kwargs", [
    ([1.0, float("inf"), -float("inf"), float("nan"), 2.0], [1.0 + 1e-9, float("inf"), float("inf"), float("nan"), 2.1], {}),
    ([1.0, float("nan"), 0.0], [1.0, float("nan"), 1e-9], {"equal_nan": True}),
    ([1.0, 2.0], [1.05, 2.0], {"rtol": 0.1, "atol": 0.0}),
    ([1, 2, 3], [1, 3, 3], {}),
])
def test_isclose_allclose_equal_match_torch(a, b, kwargs):
    ea, eb, ta, tb = ember.tensor(a), ember.tensor(b), torch.tensor(a), torch.tensor(b)
    assert ember.isclose(ea, eb, **kwargs).tolist() == torch.isclose(ta, tb, **kwargs).tolist()
    assert ember.allclose(ea, eb, **kwargs) == torch.allclose(ta, tb, **kwargs)
    assert ember.equal(ea, eb) == torch.equal(ta, tb) and ember.equal(ea, ea.clone()) == torch.equal(ta, ta.clone())
    with pytest.raises(RuntimeError):
        ember.isclose(ea, eb.double())
