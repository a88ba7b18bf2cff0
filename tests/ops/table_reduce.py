"""Op table entries: reductions, scans, sorting and order statistics (ember/ops/reduce.py)."""

import numpy as np

from tests.ops.harness import ALL, ALL_FLOATS, FLOATS, INTS, T, ErrorInput, NonContig, OpInfo, Raw, Sample

DIM_OUT_OF_RANGE = [ErrorInput(Sample((3, 4), 2), IndexError, r"Dimension out of range"),
                    ErrorInput(Sample((3, 4), -3), IndexError, r"Dimension out of range")]

# Reductions over an int or a tuple of dims, with keepdim, on 0-d, empty and non-contiguous inputs.
MULTI_DIM_SAMPLES = [
    Sample((3, 4)),
    Sample((2, 3, 4), dim=(0, 2)).named("dims"),
    Sample((3, 4), 1),
    Sample((2, 3, 4), -1, keepdim=True).named("neg_keepdim"),
    Sample((2, 3, 4), dim=(-1, 0), keepdim=True).named("dims_keepdim"),
    Sample(()).named("zero_dim"),
    Sample((), 0).named("zero_dim_dim0"),
    Sample((), -1, keepdim=True).named("zero_dim_keepdim"),
    Sample((0, 3)).named("empty"),
    Sample((0, 3), 0).named("empty_dim0"),
    Sample((0, 3), 1, keepdim=True).named("empty_dim1"),
    Sample(NonContig((3, 4)), 0).named("noncontig"),
    Sample(NonContig((2, 5)), dim=(0, 1)).named("noncontig_all"),
    Sample((3, 4), dim=()).named("empty_tuple_dims"),
]
# Reductions without identity (max, amax, argmax ...): no empty reduced dims.
NONEMPTY_SAMPLES = [
    Sample((3, 4)),
    Sample((3, 4), 1),
    Sample((2, 3, 4), -1, keepdim=True).named("neg_keepdim"),
    Sample((2, 3, 4), 0).named("dim0"),
    Sample(()).named("zero_dim"),
    Sample((), 0).named("zero_dim_dim0"),
    Sample((0, 3), 1).named("empty_other_dim"),
    Sample(NonContig((3, 4)), 0).named("noncontig"),
]
SINGLE_DIM_SAMPLES = [
    Sample((3, 4), 1),
    Sample((2, 3, 4), 0),
    Sample((2, 3, 4), -2, keepdim=True).named("neg_keepdim"),
    Sample((), 0).named("zero_dim"),
    Sample((0, 3), 1).named("empty_other_dim"),
    Sample(NonContig((3, 5)), 1).named("noncontig"),
]
SCAN_SAMPLES = [
    Sample((3, 4), 1),
    Sample((2, 3, 4), 0),
    Sample((2, 3, 4), -1).named("neg"),
    Sample((), 0).named("zero_dim"),
    Sample((0, 3), 0).named("empty"),
    Sample(NonContig((3, 5)), 1).named("noncontig"),
]

VAR_SAMPLES = [s for s in MULTI_DIM_SAMPLES if s.name not in ("zero_dim", "zero_dim_dim0", "zero_dim_keepdim",
                                                              "empty_tuple_dims")] + [
    Sample((), correction=0).named("zero_dim"), Sample((), 0, keepdim=True, correction=0).named("zero_dim_dim0")]

EMPTY_FULL_MAX = [ErrorInput(Sample((0, 3)), RuntimeError, r"Expected reduction dim to be specified")]
EMPTY_DIM_MAX = [ErrorInput(Sample((0, 3), 0), IndexError, r"Expected reduction dim 0 to have non-zero size")]

# Data with ties, to check which element PyTorch's tie rules pick (and how the gradient is shared).
TIES = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 0.0, 5.0], [2.0, 2.0, 2.0, 2.0]])
NAN_ROWS = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 1.0, 0.0, 4.0], [np.nan, 7.0, -1.0, 0.0]])
PERMUTATION = np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.int64)
WITH_ZEROS = np.array([[2.0, 0.0, 3.0, 5.0], [0.0, 1.5, 0.0, 2.0], [1.0, 2.0, -1.0, 0.5]])
INFINITIES = np.array([[-np.inf, 1.0, 2.0], [3.0, -np.inf, np.inf]])
TIES_AND_NAN = np.vstack([TIES, NAN_ROWS])
ALL_NAN_ROW = np.vstack([NAN_ROWS, [[np.nan] * 4]])


def _returns_all(fn):
    """Reduce a namedtuple result to a plain tuple so the harness compares every field."""
    return lambda lib, *a, **k: tuple(fn(lib, *a, **k))


OPS = [
    # ------------------------------------------------------------------------------ sums and means
    OpInfo("sum", samples=MULTI_DIM_SAMPLES, dtypes=ALL, gradgradcheck=True, errors=DIM_OUT_OF_RANGE + [
        ErrorInput(Sample((3, 4), dim=(0, 0)), RuntimeError, r"appears multiple times")]),
    OpInfo("sum_dtype", fn=lambda lib, x, *a, **k: lib.sum(x, *a, dtype=lib.float64, **k),
           samples=[Sample((3, 4)), Sample((3, 4), 1)], dtypes=("float16", "float32", "int32", "bool")),
    OpInfo("sum_large_half", fn=lambda lib, x: lib.sum(x),
           samples=[Sample((4096,))], dtypes=("float16", "bfloat16"), low=0, high=1),
    OpInfo("Tensor.sum", fn=lambda lib, x, *a, **k: x.sum(*a, **k), samples=MULTI_DIM_SAMPLES[:4], dtypes=FLOATS),
    OpInfo("mean", samples=MULTI_DIM_SAMPLES, dtypes=ALL_FLOATS, gradgradcheck=True, errors=DIM_OUT_OF_RANGE + [
        ErrorInput(Sample((3,)), RuntimeError, r"could not infer output dtype", dtype="int64"),
        ErrorInput(Sample((3,)), RuntimeError, r"could not infer output dtype", dtype="bool")]),
    OpInfo("mean_dtype", fn=lambda lib, x, *a, **k: lib.mean(x, *a, dtype=lib.float64, **k),
           samples=[Sample((3, 4)), Sample((3, 4), 0)], dtypes=("float32", "int64")),
    OpInfo("nansum", samples=MULTI_DIM_SAMPLES[:8] + [Sample(NAN_ROWS), Sample(NAN_ROWS, 1)], dtypes=FLOATS + INTS + ("bool",)),
    OpInfo("nansum_grad", fn=lambda lib, x, **k: lib.nansum(x, **k),
           samples=[Sample(NAN_ROWS), Sample(NAN_ROWS, dim=1, keepdim=True)], dtypes=("float64",), grad=False),
    OpInfo("nanmean", samples=MULTI_DIM_SAMPLES[:8] + [Sample(NAN_ROWS), Sample(NAN_ROWS, 1)], dtypes=FLOATS,
           errors=[ErrorInput(Sample((3,)), RuntimeError, r"expected input to have floating point", dtype="int64")]),
    OpInfo("nanmean_grad", fn=lambda lib, x, **k: lib.nanmean(x, **k),
           samples=[Sample(NAN_ROWS), Sample(NAN_ROWS, dim=0)], dtypes=("float64",), grad=False),
    OpInfo("prod", samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((2, 3, 4), -1, keepdim=True),
                            Sample(()), Sample((), 0), Sample((0, 3)), Sample((0, 3), 0), Sample((0, 3), 1),
                            Sample(NonContig((3, 4)), 0)],
           dtypes=FLOATS + INTS + ("bool",), low=0.5, high=1.5, gradgradcheck=True, errors=DIM_OUT_OF_RANGE + [
               ErrorInput(Sample((3, 4), dim=(0, 1)), TypeError, r"dim must be an int")]),
    OpInfo("prod_zeros", fn=lambda lib, x, *a, **k: lib.prod(x, *a, **k),
           samples=[Sample(WITH_ZEROS), Sample(WITH_ZEROS, 1), Sample(WITH_ZEROS, 0, keepdim=True)],
           dtypes=("float64",), grad=False),
    OpInfo("prod_dtype", fn=lambda lib, x, *a: lib.prod(x, *a, dtype=lib.float64),
           samples=[Sample((3, 4)), Sample((3, 4), 1)], dtypes=("float32", "int8")),
    OpInfo("var", samples=VAR_SAMPLES + [
        Sample((3, 4), 1, correction=0).named("correction0"), Sample((3, 4), 0, True, True).named("positional"),
        Sample((3, 4), unbiased=False).named("unbiased"), Sample((3, 5), 1, correction=2.5).named("correction"),
        Sample((3, 4), True).named("positional_unbiased")],
           dtypes=FLOATS, gradgradcheck=True, errors=DIM_OUT_OF_RANGE + [
               ErrorInput(Sample((3,)), RuntimeError, r"only support floating point", dtype="int64")]),
    OpInfo("std", samples=MULTI_DIM_SAMPLES[:5] + [Sample((3, 4), 1, correction=0), Sample(NonContig((3, 4)), 0),
                                                   Sample((), correction=0).named("zero_std")],
           dtypes=FLOATS, gradgradcheck=True),
    OpInfo("var_mean", samples=[Sample((3, 4)), Sample((3, 4), 1, keepdim=True), Sample((3, 4), 0, correction=0)],
           dtypes=FLOATS),
    OpInfo("std_mean", samples=[Sample((3, 4)), Sample((3, 4), 1, keepdim=True), Sample((3, 4), 0, correction=0)],
           dtypes=FLOATS),
    # ------------------------------------------------------------------------------ max and min
    OpInfo("max", samples=[s for s in NONEMPTY_SAMPLES if not s.kwargs.get("keepdim")] + [
        Sample((3, 4), 1, keepdim=True).named("keepdim"), Sample((3, 4), (3, 4)).named("elementwise"),
        Sample((3, 4), (4,)).named("elementwise_broadcast")],
           dtypes=ALL, fn=lambda lib, *a, **k: _plain(lib.max(*a, **k)), errors=EMPTY_FULL_MAX + EMPTY_DIM_MAX),
    OpInfo("min", samples=[s for s in NONEMPTY_SAMPLES if not s.kwargs.get("keepdim")] + [
        Sample((3, 4), 1, keepdim=True).named("keepdim")],
           dtypes=ALL, fn=lambda lib, *a, **k: _plain(lib.min(*a, **k)), errors=EMPTY_FULL_MAX + EMPTY_DIM_MAX),
    OpInfo("max_ties", fn=lambda lib, x, *a, **k: _plain(lib.max(x, *a, **k)),
           samples=[Sample(TIES), Sample(TIES, 1), Sample(TIES, 0, keepdim=True)], dtypes=("float64",), grad=False),
    OpInfo("min_ties", fn=lambda lib, x, *a, **k: _plain(lib.min(x, *a, **k)),
           samples=[Sample(TIES), Sample(TIES, 1)], dtypes=("float64",), grad=False),
    OpInfo("max_nan", fn=lambda lib, x, *a, **k: _plain(lib.max(x, *a, **k)),
           samples=[Sample(NAN_ROWS), Sample(NAN_ROWS, 1)], dtypes=("float64",), grad=False),
    OpInfo("min_nan", fn=lambda lib, x, *a, **k: _plain(lib.min(x, *a, **k)),
           samples=[Sample(NAN_ROWS), Sample(NAN_ROWS, 1)], dtypes=("float64",), grad=False),
    OpInfo("Tensor.max", fn=lambda lib, x, *a, **k: _plain(x.max(*a, **k)),
           samples=[Sample((3, 4)), Sample((3, 4), dim=1), Sample((3, 4), 0, True)], dtypes=FLOATS),
    OpInfo("amax", samples=[Sample((3, 4)), Sample((2, 3, 4), dim=(0, 2)), Sample((2, 3, 4), -1, keepdim=True),
                            Sample(()), Sample((), 0), Sample((0, 3), 1), Sample(NonContig((3, 4)), 0)],
           dtypes=ALL, errors=EMPTY_DIM_MAX + DIM_OUT_OF_RANGE + [
               ErrorInput(Sample((0, 3)), RuntimeError, r"Expected reduction dim to be specified")]),
    OpInfo("amin", samples=[Sample((3, 4)), Sample((2, 3, 4), dim=(0, 2)), Sample((2, 3, 4), -1, keepdim=True),
                            Sample(()), Sample((0, 3), 1)], dtypes=ALL),
    OpInfo("amax_ties", fn=lambda lib, x, *a, **k: lib.amax(x, *a, **k),
           samples=[Sample(TIES), Sample(TIES, 1), Sample(TIES, dim=(0, 1), keepdim=True)], dtypes=("float64",), grad=False),
    OpInfo("amin_ties", fn=lambda lib, x, *a, **k: lib.amin(x, *a, **k),
           samples=[Sample(TIES), Sample(TIES, 0)], dtypes=("float64",), grad=False),
    OpInfo("aminmax", fn=lambda lib, x, **k: tuple(lib.aminmax(x, **k)),
           samples=[Sample((3, 4)), Sample((3, 4), dim=1), Sample((3, 4), dim=-1, keepdim=True), Sample(()),
                    Sample((), dim=0), Sample((0, 3), dim=1)], dtypes=ALL,
           errors=[ErrorInput(Sample((0, 3)), RuntimeError, r"cannot compute aminmax over an empty dimension"),
                   ErrorInput(Sample((0, 3), dim=0), IndexError, r"Expected reduction dim 0 to have non-zero")]),
    OpInfo("aminmax_ties", fn=lambda lib, x, **k: tuple(lib.aminmax(x, **k)),
           samples=[Sample(TIES), Sample(TIES, dim=1)], dtypes=("float64",), grad=False),
    OpInfo("argmax", samples=[s for s in NONEMPTY_SAMPLES] + [Sample((3, 4), keepdim=True).named("flat_keepdim"),
                                                               Sample(TIES, 1).named("ties"),
                                                               Sample(NAN_ROWS, 1).named("nan")],
           dtypes=FLOATS + INTS + ("float16", "bfloat16"), grad=False,
           errors=[ErrorInput(Sample((0, 3)), IndexError, r"Expected reduction dim to be specified"),
                   ErrorInput(Sample((0, 3), 0), IndexError, r"Expected reduction dim 0 to have non-zero"),
                   ErrorInput(Sample((3,)), RuntimeError, r"does not support bool", dtype="bool")]),
    OpInfo("argmin", samples=[s for s in NONEMPTY_SAMPLES] + [Sample(TIES, 1).named("ties"),
                                                               Sample(NAN_ROWS, 1).named("nan")],
           dtypes=FLOATS + INTS, grad=False),
    # ------------------------------------------------------------------------------ logsumexp
    OpInfo("logsumexp", samples=[Sample((3, 4), 1), Sample((2, 3, 4), Raw((0, 2))), Sample((2, 3, 4), -1, keepdim=True),
                                 Sample((), 0), Sample((0, 3), 0), Sample((0, 3), 1), Sample(NonContig((3, 4)), 0),
                                 Sample(np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0]]), 1)
                                 .named("infinities")],
           dtypes=FLOATS + ("int64", "bool"), gradgradcheck=True, errors=DIM_OUT_OF_RANGE),
    # ------------------------------------------------------------------------------ scans
    OpInfo("cumsum", samples=SCAN_SAMPLES, dtypes=ALL, gradgradcheck=True, errors=DIM_OUT_OF_RANGE),
    OpInfo("cumsum_dtype", fn=lambda lib, x, d: lib.cumsum(x, d, dtype=lib.float64), samples=[Sample((3, 4), 1)],
           dtypes=("float32", "int32")),
    OpInfo("cumprod", samples=SCAN_SAMPLES, dtypes=ALL, low=0.5, high=1.5, gradgradcheck=True),
    OpInfo("cumprod_zeros", fn=lambda lib, x, d: lib.cumprod(x, d),
           samples=[Sample(WITH_ZEROS, 1), Sample(WITH_ZEROS, 0)], dtypes=("float64",), grad=False),
    OpInfo("logcumsumexp", samples=SCAN_SAMPLES, dtypes=FLOATS,
           errors=[ErrorInput(Sample((3,), 0), RuntimeError, r"not implemented for 'Long'", dtype="int64")]),
    OpInfo("logcumsumexp_inf", fn=lambda lib, x, d: lib.logcumsumexp(x, d),
           samples=[Sample(INFINITIES, 1)], dtypes=("float64",), grad=False),
    OpInfo("cummax", fn=_returns_all(lambda lib, *a: lib.cummax(*a)), samples=SCAN_SAMPLES,
           dtypes=FLOATS + INTS + ("bool",), grad_atol=1e-6),
    OpInfo("cummin", fn=_returns_all(lambda lib, *a: lib.cummin(*a)), samples=SCAN_SAMPLES, dtypes=FLOATS + INTS),
    OpInfo("cummax_ties", fn=lambda lib, x, d: tuple(lib.cummax(x, d)),
           samples=[Sample(TIES_AND_NAN, 1)], dtypes=("float64",), grad=False),
    OpInfo("cummin_ties", fn=lambda lib, x, d: tuple(lib.cummin(x, d)),
           samples=[Sample(TIES_AND_NAN, 1)], dtypes=("float64",), grad=False),
    # ------------------------------------------------------------------------------ logical and counting
    OpInfo("all", samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((2, 3, 4), Raw((0, 2)), keepdim=True), Sample(()),
                           Sample((0, 3)), Sample((0, 3), 1), Sample((3, 4), Raw(())), Sample(NonContig((3, 4)), 0)],
           dtypes=ALL, grad=False, low=0, high=1, errors=DIM_OUT_OF_RANGE),
    OpInfo("any", samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((2, 3, 4), Raw((0, 2)), keepdim=True), Sample(()),
                           Sample((0, 3)), Sample((0, 3), 1), Sample((3, 4), Raw(()))],
           dtypes=ALL, grad=False, low=0, high=1),
    OpInfo("count_nonzero", samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((2, 3, 4), Raw((0, 2))), Sample(()),
                                     Sample((), 0), Sample((0, 3), 0), Sample(NonContig((3, 4)), 0)],
           dtypes=ALL, grad=False, low=-1, high=1,
           errors=[ErrorInput(Sample((3, 4), Raw((0, 0))), RuntimeError, r"appears multiple times")]),
    # ------------------------------------------------------------------------------ order statistics
    OpInfo("median", fn=lambda lib, *a, **k: _plain(lib.median(*a, **k)),
           samples=[Sample((3, 5)), Sample((3, 4)), Sample((3, 5), 1), Sample((2, 3, 4), -1, keepdim=True),
                    Sample(()), Sample((), 0), Sample((0, 3)), Sample((0, 3), 1), Sample(NonContig((3, 5)), 0),
                    Sample(PERMUTATION, 1).named("permutation")],
           dtypes=FLOATS + ("float16",), errors=[
               ErrorInput(Sample((0, 3), 0), IndexError, r"Expected reduction dim 0 to have non-zero"),
               ErrorInput(Sample((3,)), RuntimeError, r"not implemented for 'Bool'", dtype="bool")]),
    OpInfo("median_ties", fn=lambda lib, x, *a: _plain(lib.median(x, *a)),
           samples=[Sample(TIES)], dtypes=("float64",), grad=False),
    OpInfo("median_nan", fn=lambda lib, x, *a: _plain(lib.median(x, *a)),
           samples=[Sample(NAN_ROWS), Sample(NAN_ROWS, 1)], dtypes=("float64",), grad=False),
    OpInfo("nanmedian", fn=lambda lib, *a, **k: _plain(lib.nanmedian(*a, **k)),
           samples=[Sample((3, 5)), Sample((3, 5), 1), Sample((), 0), Sample((0, 3))], dtypes=FLOATS),
    OpInfo("nanmedian_nan", fn=lambda lib, x, *a: _plain(lib.nanmedian(x, *a)),
           samples=[Sample(ALL_NAN_ROW), Sample(NAN_ROWS, 1)], dtypes=("float64",), grad=False),
    OpInfo("mode", fn=_returns_all(lambda lib, *a, **k: lib.mode(*a, **k)),
           samples=[Sample((3, 5)), Sample((3, 5), 0), Sample((), 0), Sample(NonContig((3, 5)), 1, keepdim=True)],
           dtypes=FLOATS, errors=[ErrorInput(Sample((0,), 0), IndexError, r"Expected reduction dim 0")]),
    OpInfo("mode_ties", fn=lambda lib, x, *a: tuple(lib.mode(x, *a)),
           samples=[Sample(np.array([[3, 1, 3, 1, 2], [1, 3, 3, 1, 2], [4, 4, 4, 0, 0]]), 1),
                    Sample(np.array([[3, 1, 3], [1, 1, 2]]), 0)], dtypes=("int64",), grad=False),
    OpInfo("kthvalue", fn=_returns_all(lambda lib, *a, **k: lib.kthvalue(*a, **k)),
           samples=[Sample((3, 5), 2), Sample((3, 5), 1, 0), Sample((3, 5), 5, -1, True), Sample((), 1),
                    Sample(PERMUTATION, 3, 1).named("permutation"), Sample(NonContig((3, 5)), 2, 1)],
           dtypes=FLOATS + ("float16",),
           errors=[ErrorInput(Sample((3,), 4), RuntimeError, r"k out of range"),
                   ErrorInput(Sample((3,), 0), RuntimeError, r"k out of range")]),
    OpInfo("kthvalue_nan", fn=lambda lib, x, *a: tuple(lib.kthvalue(x, *a)),
           samples=[Sample(NAN_ROWS, 4), Sample(NAN_ROWS, 2)], dtypes=("float64",), grad=False),
    OpInfo("quantile", samples=[Sample((3, 5), 0.3), Sample((3, 5), 0.5, 1), Sample((3, 5), 0.5, 1, keepdim=True),
                                Sample((2, 3, 4), T((3,), low=0, high=1, grad=False), 1),
                                Sample((2, 3, 4), T((3,), low=0, high=1, grad=False), -1, keepdim=True),
                                Sample((3, 5), T((2,), low=0, high=1, grad=False), keepdim=True),
                                Sample((3, 5), T((), low=0, high=1, grad=False), 0),
                                Sample((), 0.25), Sample((), 0.25, 0), Sample(NonContig((3, 5)), 0.7, 0)]
           + [Sample((3, 5), 0.4, 1, interpolation=mode).named(mode)
              for mode in ("lower", "higher", "midpoint", "nearest")]
           + [Sample((4, 5), 0.5, 1, interpolation="nearest").named("nearest_half"),
              Sample((4, 3), 0.5, 1, interpolation="nearest").named("nearest_exact")],
           dtypes=FLOATS, errors=[
               ErrorInput(Sample((3,), 0.5), RuntimeError, r"must be either float or double", dtype="int64"),
               ErrorInput(Sample((3,), 1.5), RuntimeError, r"q must be in the range \[0, 1\]"),
               ErrorInput(Sample((0,), 0.5), RuntimeError, r"must be non-empty"),
               ErrorInput(Sample((3,), 0.5, interpolation="cubic"), RuntimeError, r"interpolation must be one of"),
               ErrorInput(Sample((3,), T((1, 1), low=0, high=1)), RuntimeError, r"q must be a scalar or 1D")]),
    OpInfo("quantile_nan", fn=lambda lib, x, *a, **k: lib.quantile(x, *a, **k),
           samples=[Sample(NAN_ROWS, 0.5), Sample(NAN_ROWS, 0.5, 1), Sample(NAN_ROWS, 0.2, 0)], dtypes=("float64",),
           grad=False),
    OpInfo("nanquantile", samples=[Sample((3, 5), 0.3), Sample((3, 5), 0.5, 1, keepdim=True)], dtypes=FLOATS),
    OpInfo("nanquantile_nan", fn=lambda lib, x, *a, **k: lib.nanquantile(x, *a, **k),
           samples=[Sample(ALL_NAN_ROW, 0.5), Sample(ALL_NAN_ROW, 0.5, 1),
                    Sample(ALL_NAN_ROW, 0.2, 0, interpolation="higher")], dtypes=("float64",), grad=False),
    OpInfo("sort", fn=_returns_all(lambda lib, *a, **k: lib.sort(*a, **k)),
           samples=[Sample((3, 5)), Sample((3, 5), 0), Sample((2, 3, 4), -2, True), Sample((3, 5), descending=True),
                    Sample(()), Sample((0, 3), 0), Sample(NonContig((3, 5)), 1),
                    Sample((3, 5), stable=True, descending=True), Sample(PERMUTATION, 1)],
           dtypes=ALL_FLOATS + INTS, errors=DIM_OUT_OF_RANGE),
    OpInfo("sort_stable_ties", fn=lambda lib, x, **k: tuple(lib.sort(x, stable=True, **k)),
           samples=[Sample(np.array([[2, 1, 2, 1, 0], [0, 0, 0, 0, 0]])),
                    Sample(np.array([[2, 1, 2, 1, 0], [3, 0, 3, 0, 3]]), descending=True),
                    Sample(np.array([[True, False, True]]), descending=True)],
           dtypes=("int64",), grad=False),
    OpInfo("sort_nan", fn=lambda lib, x, **k: tuple(lib.sort(x, **k)),
           samples=[Sample(TIES_AND_NAN), Sample(TIES_AND_NAN, descending=True),
                    Sample(TIES_AND_NAN, dim=0, descending=True)], dtypes=("float64",), grad=False),
    OpInfo("argsort", samples=[Sample((3, 5)), Sample((3, 5), 0, True), Sample(()), Sample((2, 3, 4), dim=-2),
                               Sample(np.array([[2, 1, 2, 1, 0]]), stable=True, descending=True)],
           dtypes=FLOATS + INTS, grad=False),
    OpInfo("msort", samples=[Sample((3, 5)), Sample(()), Sample(NonContig((3, 4)))], dtypes=FLOATS + INTS),
    OpInfo("topk", fn=_returns_all(lambda lib, *a, **k: lib.topk(*a, **k)),
           samples=[Sample((3, 5), 2), Sample((3, 5), 3, 0), Sample((3, 5), 2, largest=False),
                    Sample((2, 3, 4), 4, -1), Sample((3, 5), 0), Sample((), 1), Sample((), 0),
                    Sample((0, 3), 0), Sample(NonContig((3, 5)), 2, 1), Sample(PERMUTATION, 2, 1)],
           dtypes=ALL_FLOATS, errors=[
               ErrorInput(Sample((3,), 4), RuntimeError, r"selected index k out of range"),
               ErrorInput(Sample((3,), 2), RuntimeError, r"does not support bool", dtype="bool")]),
    OpInfo("topk_nan", fn=lambda lib, x, *a, **k: tuple(lib.topk(x, *a, **k)),
           samples=[Sample(NAN_ROWS, 2), Sample(NAN_ROWS, 2, largest=False)], dtypes=("float64",), grad=False),
    OpInfo("unique", fn=lambda lib, x, **k: lib.unique(x, **k),
           samples=[Sample((3, 4)), Sample((3, 4), return_inverse=True),
                    Sample((3, 4), return_counts=True), Sample((3, 4), return_inverse=True, return_counts=True),
                    Sample(()), Sample((), return_inverse=True), Sample((0, 3), return_counts=True)],
           dtypes=INTS + ("bool", "float32"), grad=False),
    OpInfo("unique_dim", fn=lambda lib, x, **k: lib.unique(x, **k),
           samples=[Sample(np.array([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True, return_counts=True),
                    Sample(np.array([[1, 2, 1], [3, 0, 3]]), dim=1, return_inverse=True),
                    Sample(np.array([[1.0, np.nan, np.nan, 1.0]]))],
           dtypes=("int64",), grad=False,
           errors=[ErrorInput(Sample(np.zeros((2, 0)), dim=0), RuntimeError, r"0 sized dimensions")]),
    OpInfo("unique_consecutive", fn=lambda lib, x, **k: lib.unique_consecutive(x, **k),
           samples=[Sample(np.array([3, 3, 1, 3, 2, 2])),
                    Sample(np.array([[3, 3], [1, 3]]), return_inverse=True, return_counts=True),
                    Sample(np.array([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True, return_counts=True),
                    Sample(np.array([[1, 1, 2], [3, 3, 0]]), dim=1, return_counts=True),
                    Sample(np.zeros((0,)), return_inverse=True, return_counts=True)],
           dtypes=("int64",), grad=False),
]


def _plain(result):
    """max/min/median return a tensor or a namedtuple; compare both fields of the latter."""
    return tuple(result) if isinstance(result, tuple) else result


def _half_precision(info, tolerance=2e-2):
    """The entry again in float16 and bfloat16, whose rounding (and gradient rounding) differs from torch's by an ulp."""
    import dataclasses
    return dataclasses.replace(info, name=info.name + "_half", dtypes=("float16", "bfloat16"), rtol=tolerance,
                               atol=tolerance, gradcheck=False, gradgradcheck=False, errors=[])


OPS += [_half_precision(info) for info in OPS
        if info.name in ("nansum", "prod", "var", "std", "logsumexp", "logcumsumexp")]
