"""Op table entries: reductions, scans, sorting and order statistics (ember/ops/reduce.py)."""

import numpy as np

from tests.ops.harness import ALL, ALL_FLOATS, FLOATS, INTS, T, ErrorInput, Idx, NonContig, OpInfo, Raw, Sample

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


# Values on histc's bin edges and NaN/inf outside its range: PyTorch's bin arithmetic, rounding included.
ON_EDGES = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.1, -0.1, np.nan, np.inf, -np.inf], dtype=np.float32)
# Many weights into few bins: float32 weights are added one by one in float32 (not pairwise, not in float64).
MANY_INDICES = np.random.default_rng(1).integers(0, 3, size=5000)
MANY_WEIGHTS = np.random.default_rng(2).uniform(-2, 2, size=5000).astype(np.float32)


def _cov(lib, x, fweights=None, aweights=None, **kwargs):
    return lib.cov(x, fweights=fweights, aweights=aweights, **kwargs)


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
    # ------------------------------------------------------------------------------ counting, histograms
    OpInfo("bincount", dtypes=("int64",), grad=False, samples=[
        Sample(Idx((6,), 4)), Sample(Idx((6,), 4), None, 7).named("minlength"), Sample(Idx((0,), 1)).named("empty"),
        Sample(Idx((0,), 1), None, 3).named("empty_minlength"),
        Sample(T((8,), "uint8", low=0, high=6)).named("uint8"), Sample(T((8,), "int8", low=0, high=6)).named("int8"),
        Sample(T((8,), "int16", low=0, high=6)).named("int16"), Sample(T((8,), "int32", low=0, high=6)).named("int32"),
    ], errors=[
        ErrorInput(Sample(T((3,), "bool")), NotImplementedError, r'"bincount_cpu" not implemented for \'Bool\''),
        ErrorInput(Sample((3,)), NotImplementedError, r'"bincount_cpu" not implemented for \'Float\''),
        ErrorInput(Sample(np.array([[1, 2]])), RuntimeError, r"bincount only supports 1-d non-negative integral inputs"),
        ErrorInput(Sample(np.array(2)), RuntimeError, r"bincount only supports 1-d non-negative integral inputs"),
        ErrorInput(Sample(np.array([-1, 2])), RuntimeError, r"bincount only supports 1-d non-negative integral inputs"),
        ErrorInput(Sample(np.array([1, 2]), None, -1), RuntimeError, r"minlength should be >= 0"),
        ErrorInput(Sample(np.array([1, 2]), (3,)), RuntimeError, r"weights should be 1-d and have the same length"),
        ErrorInput(Sample(np.array([1, 2]), (2, 1)), RuntimeError, r"weights should be 1-d and have the same length"),
    ]),
    # The weights' dtype sets the result's: float32 stays float32, every other dtype gives float64. (PyTorch returns
    # int64 zeros for an empty input even with weights, a bug this entry does not test: ember gives the weighted dtype.)
    OpInfo("bincount_weights", fn=lambda lib, x, w, *a: lib.bincount(x, w, *a), grad=False,
           dtypes=ALL_FLOATS + ("int64", "int32", "uint8", "bool"), samples=[
               Sample(Idx((6,), 4), (6,)), Sample(Idx((6,), 4), (6,), 6).named("minlength"),
           ]),
    OpInfo("bincount_strided_weights", fn=lambda lib, x, w: lib.bincount(x, w[:, 1]), grad=False,
           dtypes=("float32", "float64"), samples=[Sample(Idx((5,), 3), (5, 2))]),
    OpInfo("bincount_float32_order", fn=lambda lib, x, w: lib.bincount(x, w), grad=False, rtol=1e-12, atol=1e-12,
           samples=[Sample(MANY_INDICES, MANY_WEIGHTS)]),
    OpInfo("Tensor.bincount", fn=lambda lib, x, *a, **k: x.bincount(*a, **k), grad=False, dtypes=("int64",),
           samples=[Sample(Idx((5,), 3), minlength=4)]),
    OpInfo("histc", grad=False, dtypes=ALL_FLOATS, samples=[
        Sample((20,), 10, -1, 1), Sample((3, 4)).named("data_range"), Sample((5,), 4, 0, 0).named("zero_range"),
        Sample(NonContig((3, 4)), 7).named("noncontig"), Sample((0,), 5).named("empty"), Sample((), 3).named("zero_dim"),
        Sample((10,), 5, 0.5, 1.5).named("partial_range"), Sample((4,), 3, 1, 1).named("equal_min_max"),
        Sample(np.ones(3, dtype=np.float32), 4).named("constant"), Sample((6,), 4, -1, 2.5).named("max_only"),
        Sample(ON_EDGES, 10, 0, 1).named("edges_nan_inf"),
        Sample(ON_EDGES.astype(np.float64), 10, 0, 1).named("edges_float64"),
    ], errors=[
        ErrorInput(Sample((3,), 0), RuntimeError, r"torch.histogram\(\): bins must be > 0, but got 0 for dimension 0"),
        ErrorInput(Sample((3,), 3, 2, 1), RuntimeError, r"torch.histc: max must be larger than min"),
        ErrorInput(Sample((3,), 3, 0, float("inf")), RuntimeError, r"torch.histc: range of \[0, inf\] is not finite"),
        ErrorInput(Sample(np.array([1.0, np.nan]), 3), RuntimeError, r"torch.histc: range of .* is not finite"),
        ErrorInput(Sample((3,), 3.0), TypeError, r"histc\(\): argument 'bins' \(position 2\) must be int, not float"),
        ErrorInput(Sample((3,), 3), NotImplementedError, r'"histogram_cpu" not implemented for \'Long\'', "int64"),
        ErrorInput(Sample((3,), 3), NotImplementedError, r'"linspace_cpu" not implemented for \'Bool\'', "bool"),
    ]),
    OpInfo("Tensor.histc", fn=lambda lib, x, *a: x.histc(*a), grad=False, samples=[Sample((8,), 4, -1, 1)]),
    OpInfo("histc_out", fn=lambda lib, x: lib.histc(x, 4, out=lib.empty(0, dtype=x.dtype)), grad=False,
           samples=[Sample((8,))]),
    # ------------------------------------------------------------------------------ trace, covariance, correlation
    OpInfo("trace", dtypes=ALL_FLOATS + INTS, gradgradcheck=True, samples=[
        Sample((3, 3)), Sample((2, 4)), Sample((4, 2)), Sample(NonContig((3, 4))).named("noncontig"),
        Sample((0, 3)).named("empty"), Sample((1, 1))], errors=[
        ErrorInput(Sample((3,)), RuntimeError, r"trace: expected a matrix, but got tensor with dim 1"),
        ErrorInput(Sample(()), RuntimeError, r"trace: expected a matrix, but got tensor with dim 0"),
        ErrorInput(Sample((2, 2, 2)), RuntimeError, r"trace: expected a matrix, but got tensor with dim 3"),
        ErrorInput(Sample((2, 2)), NotImplementedError, r'"trace" not implemented for \'Bool\'', "bool"),
    ]),
    OpInfo("Tensor.trace", fn=lambda lib, x: x.trace(), samples=[Sample((3, 4))]),
    OpInfo("cov", fn=_cov, dtypes=FLOATS + ("int64", "int32", "uint8"), gradgradcheck=True, samples=[
        Sample((3, 5)), Sample((5,)).named("one_dim"), Sample((1, 4)).named("one_variable"),
        Sample(NonContig((3, 5))).named("noncontig"), Sample((3, 5), correction=0).named("correction0"),
        Sample((3, 5), correction=2).named("correction2"), Sample(T((2, 3), grad=False), correction=3).named("no_dof"),
        Sample(T((2, 1), grad=False)).named("one_observation"), Sample((0, 3)).named("no_variables"),
        Sample((3, 5), Idx((5,), 4)).named("fweights"),
        Sample((2, 4), None, T((4,), "float64", low=0.1, high=2, grad=False)).named("float64_aweights"),
    ], errors=[
        ErrorInput(Sample((2, 2, 2)), RuntimeError, r"cov\(\): expected input to have two or fewer dimensions but got "
                   r"an input with 3 dimensions"),
        ErrorInput(Sample((2, 3)), RuntimeError, r"cov\(\): bool dtype is not supported for input", "bool"),
        ErrorInput(Sample((2, 3), (3,)), RuntimeError, r"expected fweights to have integral dtype but got fweights with "
                   r"Float dtype"),
        ErrorInput(Sample((2, 3), np.array([1, -2, 3])), RuntimeError, r"cov\(\): fweights cannot be negative"),
        ErrorInput(Sample((2, 3), np.array([[1, 2, 3]])), RuntimeError, r"expected fweights to have one or fewer "
                   r"dimensions but got fweights with 2 dimensions"),
        ErrorInput(Sample((2, 3), np.array([1, 2])), RuntimeError, r"expected fweights to have the same numel as there "
                   r"are observations in the input but got 2 != 3"),
        ErrorInput(Sample((2, 3), None, np.array([1, 2, 3])), RuntimeError, r"expected aweights to have floating point "
                   r"dtype but got aweights with Long dtype"),
        ErrorInput(Sample((2, 3), None, np.array([0.5, -1.0, 2.0])), RuntimeError, r"cov\(\): aweights cannot be negative"),
        ErrorInput(Sample((2, 3), None, np.zeros(3)), RuntimeError, r"cov\(\): weights sum to zero, can't be normalized"),
        ErrorInput(Sample((2, 3), correction=0.5), TypeError, r"cov\(\): argument 'correction' must be int, not float"),
    ]),
    OpInfo("cov_weighted", fn=_cov, dtypes=FLOATS, gradgradcheck=True, samples=[
        Sample((3, 5), None, T((5,), low=0.1, high=2)).named("aweights"),
        Sample((3, 5), Idx((5,), 4, low=1), T((5,), low=0.1, high=2)).named("both_weights"),
        Sample((3, 5), Idx((5,), 4, low=1), T((5,), low=0.1, high=2), correction=0).named("both_correction0"),
        Sample((4,), None, T((4,), low=0.1, high=2), correction=2).named("one_dim_correction2"),
    ]),
    OpInfo("Tensor.cov", fn=lambda lib, x, **k: x.cov(**k), samples=[Sample((3, 4), correction=0)]),
    OpInfo("corrcoef", dtypes=FLOATS + ("int64", "int32"), gradgradcheck=True, samples=[
        Sample((3, 5)), Sample((5,)).named("one_dim"), Sample((1, 4)).named("one_variable"),
        Sample(NonContig((3, 5))).named("noncontig"), Sample(T((2, 1), grad=False)).named("one_observation"),
        Sample(np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])).named("constant_row"),
    ], errors=[ErrorInput(Sample((2, 2, 2)), RuntimeError, r"corrcoef\(\): expected input to have two or fewer "
                          r"dimensions but got an input with 3 dimensions")]),
    OpInfo("Tensor.corrcoef", fn=lambda lib, x: x.corrcoef(), samples=[Sample((2, 4))]),
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
        if info.name in ("nansum", "prod", "var", "std", "logsumexp", "logcumsumexp", "cov", "cov_weighted", "corrcoef")]
