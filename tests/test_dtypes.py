"""Dtypes against PyTorch: promote_types, result_type over tensors / 0-d tensors / Python scalars, can_cast,
the default dtype, finfo and iinfo."""

import itertools

import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
SCALARS = {"bool": True, "int": 2, "float": 2.5}


def _name(dtype):
    return str(dtype).replace("torch.", "").replace("ember.", "")


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types(a, b):
    expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert _name(ember.promote_types(getattr(ember, a), getattr(ember, b))) == _name(expected)


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_can_cast(a, b):
    assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b))


def _operand(lib, kind, name):
    if kind == "scalar":
        return SCALARS[name]
    dtype = getattr(lib, name)
    return lib.ones(2, dtype=dtype) if kind == "tensor" else lib.ones((), dtype=dtype)


OPERANDS = [("tensor", n) for n in NAMES] + [("zerodim", n) for n in NAMES] + [("scalar", s) for s in SCALARS]
PAIRS = [(x, y) for x, y in itertools.product(OPERANDS, OPERANDS) if not (x[0] == "scalar" and y[0] == "scalar")]


@pytest.mark.parametrize("x,y", PAIRS, ids=[f"{x[0]}-{x[1]}-{y[0]}-{y[1]}" for x, y in PAIRS])
def test_result_type(x, y):
    expected = torch.result_type(_operand(torch, *x), _operand(torch, *y))
    assert _name(ember.result_type(_operand(ember, *x), _operand(ember, *y))) == _name(expected)


@pytest.mark.parametrize("x,y", [(("tensor", "int32"), ("scalar", "float")), (("tensor", "uint8"), ("zerodim", "int64")),
                                 (("zerodim", "float16"), ("tensor", "int64")), (("tensor", "bool"), ("scalar", "int")),
                                 (("tensor", "bfloat16"), ("zerodim", "float64")),
                                 (("tensor", "int8"), ("zerodim", "float16"))])
def test_arithmetic_follows_result_type(x, y):
    expected = torch.add(_operand(torch, *x), _operand(torch, *y)).dtype
    assert _name(ember.add(_operand(ember, *x), _operand(ember, *y)).dtype) == _name(expected)


@pytest.fixture
def float64_default():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_default_dtype_is_float32():
    assert ember.get_default_dtype() is ember.float32
    assert ember.tensor([1.0]).dtype is ember.float32


@pytest.mark.parametrize("build", [
    lambda lib: lib.tensor([1.0, 2.0]), lambda lib: lib.tensor(1.5), lambda lib: lib.tensor([1, 2.5]),
    lambda lib: lib.ones(2, dtype=lib.int32) + 1.5, lambda lib: lib.tensor([1, 2]) * 0.5,
    lambda lib: lib.tensor([1, 2]) / 2, lambda lib: lib.zeros(2), lambda lib: lib.arange(0.5, 3),
    lambda lib: lib.full((2,), 1.5), lambda lib: lib.linspace(0, 1, 3), lambda lib: lib.rand(2),
    lambda lib: lib.tensor([1.0], dtype=lib.float32) + 1.0, lambda lib: lib.ones(2, dtype=lib.float16) * 2.5,
    lambda lib: lib.tensor([True]) + 0.5, lambda lib: lib.tensor([]),
])
def test_default_dtype_float64(float64_default, build):
    assert ember.get_default_dtype() is ember.float64
    assert _name(build(ember).dtype) == _name(build(torch).dtype)


def test_default_dtype_changes_result_type(float64_default):
    assert ember.result_type(ember.tensor([1, 2]), 1.0) is ember.float64
    assert ember.result_type(ember.tensor([1, 2], dtype=ember.float32), 1.0) is ember.float32


def test_default_dtype_repr(float64_default):
    assert repr(ember.tensor([1.5])) == repr(torch.tensor([1.5]))
    assert repr(ember.tensor([1.5], dtype=ember.float32)) == repr(torch.tensor([1.5], dtype=torch.float32)).replace(
        "torch.", "ember.")


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)
    assert ember.get_default_dtype() is ember.float32


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo(name):
    expected, got = torch.finfo(getattr(torch, name)), ember.finfo(getattr(ember, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(got, attr) == getattr(expected, attr), attr
    assert repr(got) == repr(expected)


def test_finfo_default_and_errors():
    assert ember.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError):
        ember.finfo(ember.int32)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    expected, got = torch.iinfo(getattr(torch, name)), ember.iinfo(getattr(ember, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(got, attr) == getattr(expected, attr), attr
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("name", ["bool", "float32"])
def test_iinfo_rejects_non_integers(name):
    with pytest.raises(TypeError):
        torch.iinfo(getattr(torch, name))
    with pytest.raises(TypeError):
        ember.iinfo(getattr(ember, name))


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    t, e = getattr(torch, name), getattr(ember, name)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert e.is_complex == t.is_complex
    assert repr(e) == repr(t).replace("torch.", "ember.")


@pytest.mark.parametrize("alias,name", [("half", "float16"), ("float", "float32"), ("double", "float64"),
                                        ("short", "int16"), ("int", "int32"), ("long", "int64")])
def test_dtype_aliases(alias, name):
    assert getattr(ember, alias) is getattr(ember, name)


def test_dtype_pickles_to_the_same_object():
    import pickle
    for name in NAMES:
        assert pickle.loads(pickle.dumps(getattr(ember, name))) is getattr(ember, name)
