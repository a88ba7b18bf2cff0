"""The op test table's machinery: each :class:`OpInfo` entry is checked against PyTorch 2.13 CPU.

An entry names the op, a function ``fn(lib, *inputs, **kwargs)`` that runs it given a library (called
with ``torch`` and with ``ember``), sample inputs, and error inputs. For every sample and dtype we check
forward values, dtype and shape; then gradients of every float input for a random output gradient;
then ``ember.autograd.gradcheck`` in float64 (and ``gradgradcheck`` where the entry asks).

Sample arguments:
- a tuple of ints: a random tensor of that shape in the dtype under test;
- ``T(shape, dtype=..., low=..., high=..., grad=...)``: a random tensor with explicit settings;
- ``NonContig(shape)``: a random tensor of that shape that is a non-contiguous (transposed) view;
- ``Idx(shape, high)``: an int64 tensor of indices in ``[0, high)``; ``Mask(shape)``: a bool tensor;
- a NumPy array: that exact data; anything else (numbers, None, tuples of ints inside ``Raw``) as is.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember

FLOATS = ("float32", "float64")
ALL_FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
ALL = ("bool",) + INTS + ALL_FLOATS

TOLERANCES = {  # (rtol, atol): torch.testing's defaults per dtype
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
}


@dataclasses.dataclass
class T:
    shape: tuple
    dtype: str | None = None
    low: float | None = None
    high: float | None = None
    grad: bool | None = None
    noncontig: bool = False


def NonContig(shape, **kw):
    return T(tuple(shape), noncontig=True, **kw)


@dataclasses.dataclass
class Idx:
    shape: tuple
    high: int
    low: int = 0


@dataclasses.dataclass
class Mask:
    shape: tuple


@dataclasses.dataclass
class Raw:
    value: Any


class Sample:
    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.name = None

    def named(self, name):
        self.name = name
        return self

    def __repr__(self):
        if self.name:
            return self.name
        parts = [repr(a.shape) if isinstance(a, T) else repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ",".join(parts)[:60]


@dataclasses.dataclass
class ErrorInput:
    sample: Sample
    error: type
    match: str
    dtype: str = "float32"


@dataclasses.dataclass
class OpInfo:
    name: str
    fn: Callable | None = None
    samples: list = dataclasses.field(default_factory=list)
    dtypes: tuple = ("float32",)
    grad: bool = True
    gradcheck: bool = True
    gradgradcheck: bool = False
    errors: list = dataclasses.field(default_factory=list)
    low: float = -2.0
    high: float = 2.0
    rtol: float | None = None
    atol: float | None = None
    grad_rtol: float | None = None
    grad_atol: float | None = None
    compare: bool = True          # False for random ops: only shapes/dtypes are compared
    gradcheck_eps: float = 1e-6
    gradcheck_atol: float = 1e-5
    gradcheck_rtol: float = 1e-3
    skip: dict = dataclasses.field(default_factory=dict)  # {dtype: reason} or {"grad": reason}

    def __post_init__(self):
        if self.fn is None:
            name = self.name
            self.fn = lambda lib, *a, **k: _resolve(lib, name)(*a, **k)

    def __repr__(self):
        return self.name


def inplace(name):
    """An entry's ``fn`` for the in-place method ``name`` (``x.name_(...)``), run on a copy of its first input so
    the leaf the gradients are taken for stays unwritten."""
    def fn(lib, x, *args, **kwargs):
        return getattr(x.clone(), name)(*args, **kwargs)
    return fn


def low_precision(info: OpInfo) -> OpInfo:
    """The entry's samples in float16/bfloat16. PyTorch's CPU kernels round some intermediates to the
    low-precision dtype where Ember keeps float32, so results may differ by a few units in the last place:
    compared with a relative tolerance of 2e-2 (a few bfloat16 ulps)."""
    return OpInfo(info.name + "_low_precision", fn=info.fn, samples=info.samples, dtypes=("float16", "bfloat16"),
                  gradcheck=False, rtol=2e-2, atol=1e-2)


def _resolve(lib, dotted):
    obj = lib
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------------------------------ building inputs
def _random(rng, shape, dtype, low, high):
    np_dtype = np.dtype(ember.dtypes.to_dtype(dtype).numpy_dtype)
    if dtype == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype in INTS:
        lo = 0 if dtype == "uint8" else int(max(low, -9))
        hi = int(min(max(high, lo + 1), 10)) + 1
        return rng.integers(lo, hi, size=shape).astype(np_dtype)
    values = rng.uniform(low, high, size=shape)
    return values.astype(np.float32).astype(np_dtype) if dtype == "bfloat16" else values.astype(np_dtype)


def build_inputs(info: OpInfo, sample: Sample, dtype: str, seed: int):
    """NumPy values for each argument, plus which are tensors needing grad."""
    rng = np.random.default_rng(seed)
    values, wants_grad, noncontig = [], [], []
    for a in sample.args:
        if isinstance(a, tuple) and all(isinstance(x, int) for x in a):
            a = T(a)
        if isinstance(a, T):
            dt = a.dtype or dtype
            shape = tuple(reversed(a.shape)) if a.noncontig else a.shape
            arr = _random(rng, shape, dt, info.low if a.low is None else a.low, info.high if a.high is None else a.high)
            values.append(arr)
            float_dt = dt in ALL_FLOATS
            wants_grad.append(float_dt and info.grad if a.grad is None else a.grad)
            noncontig.append(a.noncontig)
        elif isinstance(a, Idx):
            values.append(rng.integers(a.low, a.high, size=a.shape).astype(np.int64))
            wants_grad.append(False)
            noncontig.append(False)
        elif isinstance(a, Mask):
            values.append(rng.random(a.shape) > 0.5)
            wants_grad.append(False)
            noncontig.append(False)
        elif isinstance(a, np.ndarray):
            values.append(a)
            wants_grad.append(False)
            noncontig.append(False)
        else:
            values.append(Raw(a.value if isinstance(a, Raw) else a))
            wants_grad.append(False)
            noncontig.append(False)
    return values, wants_grad, noncontig


def to_torch_tensor(arr, requires_grad, noncontig):
    if arr.dtype.name == "bfloat16":
        t = torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    else:
        t = torch.from_numpy(arr.copy())
    if noncontig:
        t = t.t() if t.dim() == 2 else t.permute(*reversed(range(t.dim())))
        if requires_grad:
            leaf = t.detach().requires_grad_(True)
            return leaf, leaf
        return t, t
    if requires_grad:
        t.requires_grad_(True)
    return t, t


def to_ember_tensor(arr, requires_grad, noncontig):
    t = ember.tensor(arr)
    if noncontig:
        t = t.permute(*reversed(range(t.dim())))
        assert not t.is_contiguous() or t.dim() < 2 or 1 in t.shape
        if requires_grad:
            leaf = t.detach().requires_grad_(True)
            return leaf, leaf
        return t, t
    if requires_grad:
        t.requires_grad_(True)
    return t, t


def make_args(values, wants_grad, noncontig, lib):
    convert = to_torch_tensor if lib is torch else to_ember_tensor
    args, leaves = [], []
    for v, g, nc in zip(values, wants_grad, noncontig):
        if isinstance(v, Raw):
            args.append(v.value)
            leaves.append(None)
        else:
            t, leaf = convert(v, g, nc)
            args.append(t)
            leaves.append(leaf if g else None)
    return args, leaves


# ------------------------------------------------------------------------------------ comparing
def ember_to_torch(t):
    arr = t._data
    if arr.dtype.name == "bfloat16":
        return torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(arr, copy=True, order="C"))


def flatten_outputs(out):
    if isinstance(out, (tuple, list)):
        result = []
        for o in out:
            result.extend(flatten_outputs(o))
        return result
    return [out]


def assert_same(ember_out, torch_out, dtype, info, what="output", compare_values=True, rtol=None, atol=None):
    e_list, t_list = flatten_outputs(ember_out), flatten_outputs(torch_out)
    assert len(e_list) == len(t_list), f"{what}: ember returned {len(e_list)} values, torch {len(t_list)}"
    for i, (e, t) in enumerate(zip(e_list, t_list)):
        if isinstance(t, torch.Tensor):
            assert isinstance(e, ember.Tensor), f"{what}[{i}]: expected a Tensor, got {type(e).__name__}"
            assert tuple(e.shape) == tuple(t.shape), f"{what}[{i}] shape: ember {tuple(e.shape)}, torch {tuple(t.shape)}"
            assert e.dtype.name == str(t.dtype).replace("torch.", ""), \
                f"{what}[{i}] dtype: ember {e.dtype.name}, torch {t.dtype}"
            if compare_values:
                default_rtol, default_atol = TOLERANCES.get(e.dtype.name, (0, 0))
                torch.testing.assert_close(ember_to_torch(e), t.detach(), rtol=rtol or default_rtol,
                                           atol=atol or default_atol, equal_nan=True,
                                           msg=lambda m: f"{info.name} {what}[{i}] ({dtype}): {m}")
        elif isinstance(t, (int, float, bool)):
            assert e == pytest.approx(t, nan_ok=True), f"{what}[{i}]: ember {e}, torch {t}"
        elif t is None:
            assert e is None or (isinstance(e, ember.Tensor) and not e.numpy().any()), f"{what}[{i}]: expected None"
        else:
            assert e == t, f"{what}[{i}]: ember {e!r}, torch {t!r}"


def run_sample(info: OpInfo, sample: Sample, dtype: str, seed: int = 0):
    values, wants_grad, noncontig = build_inputs(info, sample, dtype, seed)
    t_args, t_leaves = make_args(values, wants_grad, noncontig, torch)
    e_args, e_leaves = make_args(values, wants_grad, noncontig, ember)
    if not info.compare:
        torch.manual_seed(seed)
    torch_out = info.fn(torch, *t_args, **sample.kwargs)
    if not info.compare:
        ember.manual_seed(seed)
    ember_out = info.fn(ember, *e_args, **sample.kwargs)
    assert_same(ember_out, torch_out, dtype, info, compare_values=info.compare, rtol=info.rtol, atol=info.atol)

    if not info.grad or "grad" in info.skip or not any(x is not None for x in t_leaves):
        return
    t_outs = [o for o in flatten_outputs(torch_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    e_outs = [o for o in flatten_outputs(ember_out) if isinstance(o, ember.Tensor) and o.requires_grad]
    assert len(t_outs) == len(e_outs), f"{info.name}: {len(e_outs)} outputs require grad in ember, {len(t_outs)} in torch"
    if not t_outs:
        return
    rng = np.random.default_rng(seed + 1)
    grad_values = [_random(rng, tuple(o.shape), str(o.dtype).replace("torch.", ""), -1, 1) for o in t_outs]
    t_grads_out = [to_torch_tensor(g, False, False)[0] for g in grad_values]
    e_grads_out = [ember.tensor(g) for g in grad_values]
    t_wrt = [x for x in t_leaves if x is not None]
    e_wrt = [x for x in e_leaves if x is not None]
    t_grads = torch.autograd.grad(t_outs, t_wrt, t_grads_out, allow_unused=True)
    e_grads = ember.autograd.grad(e_outs, e_wrt, e_grads_out, allow_unused=True)
    for i, (tg, eg) in enumerate(zip(t_grads, e_grads)):
        if tg is None:
            assert eg is None or not eg.numpy().any(), f"{info.name}: grad {i} should be None/zero"
            continue
        assert eg is not None, f"{info.name}: ember gave no gradient for input {i}"
        assert_same(eg, tg, dtype, info, what=f"grad[{i}]", rtol=info.grad_rtol or info.rtol,
                    atol=info.grad_atol or info.atol)


def run_ember_sample(info: OpInfo, sample: Sample, dtype: str, seed: int = 0, second_order: bool = False):
    """The entry's function on ``sample`` in ember only, its backward where it has one, and the backward of that
    with ``second_order`` (no comparison)."""
    values, wants_grad, noncontig = build_inputs(info, sample, dtype, seed)
    args, leaves = make_args(values, wants_grad, noncontig, ember)
    if not info.compare:
        ember.manual_seed(seed)
    try:
        out = info.fn(ember, *args, **sample.kwargs)
    except Exception:  # an entry's sample may be an expected failure in some dtype: the op still ran
        return
    outs = [o for o in flatten_outputs(out) if isinstance(o, ember.Tensor) and o.requires_grad]
    wrt = [leaf for leaf in leaves if leaf is not None]
    if not (info.grad and outs and wrt):
        return
    seeds = [ember.ones_like(o).requires_grad_(second_order) for o in outs]
    grads = ember.autograd.grad(outs, wrt, seeds, allow_unused=True, create_graph=second_order)
    again = [g for g in grads if g is not None and g.requires_grad]
    if second_order and again:  # through the first backward's ops, to the inputs and the output gradients
        ember.autograd.grad(again, wrt + seeds, [ember.ones_like(g) for g in again], allow_unused=True)


def run_gradcheck(info: OpInfo, sample: Sample, second_order: bool, seed: int = 0):
    values, wants_grad, noncontig = build_inputs(info, sample, "float64", seed)
    args, leaves = make_args(values, wants_grad, noncontig, ember)
    positions = [i for i, leaf in enumerate(leaves) if leaf is not None]
    if not positions:
        pytest.skip("no differentiable inputs")

    def fn(*wrt):
        full = list(args)
        for p, w in zip(positions, wrt):
            full[p] = w
        out = info.fn(ember, *full, **sample.kwargs)
        return tuple(o for o in flatten_outputs(out) if isinstance(o, ember.Tensor))

    wrt = [args[p] for p in positions]
    check = ember.autograd.gradgradcheck if second_order else ember.autograd.gradcheck
    assert check(fn, tuple(wrt), eps=info.gradcheck_eps, atol=info.gradcheck_atol, rtol=info.gradcheck_rtol)


def run_error(info: OpInfo, err: ErrorInput, seed: int = 0):
    values, wants_grad, noncontig = build_inputs(info, err.sample, err.dtype, seed)
    t_args, _ = make_args(values, [False] * len(values), noncontig, torch)
    e_args, _ = make_args(values, [False] * len(values), noncontig, ember)
    with pytest.raises(Exception) as torch_error:
        info.fn(torch, *t_args, **err.sample.kwargs)
    with pytest.raises(err.error) as ember_error:
        info.fn(ember, *e_args, **err.sample.kwargs)
    message = str(ember_error.value)
    assert re.search(err.match, message), f"{info.name}: error message {message!r} does not match {err.match!r}"
    assert "test_" in message or "called from" in message, \
        f"{info.name}: the error does not point at the calling line: {message!r}"
    del torch_error
