"""Op table entries: indexing, gather/scatter, index_* and masked ops (ember/ops/index.py)."""

import numpy as np

from tests.ops.harness import FLOATS, T, ErrorInput, Idx, Mask, NonContig, OpInfo, Raw, Sample

SOME = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool")
NUMERIC = ("float32", "float64", "float16", "bfloat16", "int64", "int32")

UNIQUE_ROWS = np.array([[2, 0, 1], [0, 2, 1]])  # scatter targets without repeats: deterministic in torch


def _set(index_fn):
    """``y = x.clone(); y[index] = v`` for a lib-dependent index, returning y."""
    def fn(lib, x, v):
        y = x.clone()
        y[index_fn(lib)] = v
        return y
    return fn


def _set_view(lib, x, v):
    y = x * 1
    view = y.t()[1:]
    view[:, 0] = v * 3
    return y * 2


def _get(index_fn):
    def fn(lib, x):
        return x[index_fn(lib)]
    return fn


def _inplace(name):
    def fn(lib, x, *args, **kwargs):
        y = x.clone()
        return getattr(y, name)(*args, **kwargs)
    return fn


def _prod_with_zeros(lib, x, s, **kw):
    """Zeros in self and src (one, or two, per target) exercise prod's division-free gradient."""
    self_zeros = lib.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=x.dtype)
    src_zeros = lib.tensor([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]], dtype=s.dtype)
    index = lib.tensor([[0, 0, 1, 2], [0, 1, 1, 2]])
    return (x * self_zeros).scatter_reduce(1, index, s * src_zeros, "prod", **kw)


def _max_with_ties(lib, x, s, reduce, **kw):
    """Equal candidates for one target share its gradient."""
    index = lib.tensor([[0, 1, 0, 1], [2, 2, 2, 2]])
    return x.scatter_reduce(1, index, lib.cat([s, s], 1), reduce, **kw)


def _searchsorted(lib, sequence, values, **kwargs):
    """``searchsorted`` in the sorted random ``sequence`` (random values repeat in integer dtypes: ties for ``right``)."""
    return lib.searchsorted(lib.sort(sequence).values, values, **kwargs)


def _searchsorted_plain(lib, sequence, values, sorter=None, **kwargs):
    return lib.searchsorted(sequence, values, sorter=sorter, **kwargs)


def _searchsorted_sorter(lib, sequence, values, **kwargs):
    return lib.searchsorted(sequence, values, sorter=lib.argsort(sequence, stable=True), **kwargs)


def _searchsorted_out(lib, sequence, values, **kwargs):
    out = lib.empty(0, dtype=lib.int32 if kwargs.get("out_int32") else lib.int64)
    result = lib.searchsorted(lib.sort(sequence).values, values, out=out, **kwargs)
    assert result is out
    return out


def _bucketize(lib, values, boundaries, **kwargs):
    return lib.bucketize(values, lib.sort(boundaries).values, **kwargs)


# NaN in the sequence and the values: PyTorch's binary search places them by its comparisons, step by step.
NAN_SEQUENCE = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
NAN_VALUES = np.array([np.nan, 3.0, 1.5, 0.0, 2.5])
SEARCH_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8")
SEARCHSORTED_ERRORS = [
    ErrorInput(Sample((4,), (2,), side="middle"), RuntimeError, r"side can only be 'left' or 'right' but got middle"),
    ErrorInput(Sample((4,), (2,), side="left", right=True), RuntimeError,
               r"side and right can't be set to opposites, got side of left while right was True"),
    ErrorInput(Sample((), (2,)), RuntimeError, r"boundaries tensor should have positive dimension, but got 0 dimension"),
    ErrorInput(Sample((2, 4), (3, 2)), RuntimeError, r"the first N-1 dimensions of boundaries tensor and input value "
               r"tensor must match, but we got boundaries tensor \[2, 4\] and input value tensor \[3, 2\]"),
    ErrorInput(Sample((1, 4), (2,)), RuntimeError, r"boundaries tensor should be 1 dimension or the first N-1"),
    ErrorInput(Sample((2, 4), Raw(1.0)), RuntimeError, r"input value can be a scalar only when boundaries tensor "
               r"dimension is 1, but we got boundaries tensor dim\(2\) and input value's dim\(0\) numel\(1\)"),
    ErrorInput(Sample((4,), (2,)), NotImplementedError, r'"searchsorted_out_cpu" not implemented for \'Bool\'', "bool"),
    ErrorInput(Sample((3,), (2,), np.array([0, 1, 2], dtype=np.int32)), RuntimeError,
               r"sorter must be a tensor of long dtype but got dtype Int"),
    ErrorInput(Sample((3,), (2,), np.array([0, 1])), RuntimeError,
               r"boundary and sorter must have the same size, but got boundary tensor \[3\]and got sorter tensor \[2\]"),
    ErrorInput(Sample((3,), (2,), np.array([0, 1, 3])), RuntimeError, r"sorter index out of range"),
    ErrorInput(Sample((3,), (2,), np.array([0, -1, 2])), RuntimeError, r"sorter index out of range"),
]


OPS = [
    # ------------------------------------------------------------------ getitem
    OpInfo("getitem_basic", fn=_get(lambda lib: (slice(1, None), None, Ellipsis, -1)), dtypes=SOME, gradgradcheck=True,
           samples=[Sample((3, 4, 5)), Sample(NonContig((3, 4, 5))).named("noncontig")]),
    OpInfo("getitem_int", fn=_get(lambda lib: (1, -2)), dtypes=SOME, samples=[Sample((3, 4)), Sample((2, 3, 4))]),
    OpInfo("getitem_step", fn=_get(lambda lib: (slice(None, None, 2), slice(3, 0, -1) if False else slice(1, 3))),
           samples=[Sample((5, 4))]),
    OpInfo("getitem_list", fn=_get(lambda lib: [0, 2, 2, -1]), dtypes=SOME, gradgradcheck=True,
           samples=[Sample((4, 3)), Sample((4,)).named("1d")]),
    OpInfo("getitem_tensor", fn=_get(lambda lib: lib.tensor([[0, 1], [1, 1]])), dtypes=SOME, samples=[Sample((3, 2))]),
    OpInfo("getitem_two_tensors", fn=_get(lambda lib: (lib.tensor([0, 2, 0]), lib.tensor([1, -1, 1]))), dtypes=SOME,
           samples=[Sample((3, 4)), Sample((3, 4, 2)).named("trailing")]),
    OpInfo("getitem_slice_tensor", fn=_get(lambda lib: (slice(None), lib.tensor([2, 0, 2]))), samples=[Sample((3, 4, 2))]),
    OpInfo("getitem_separated", fn=_get(lambda lib: (lib.tensor([0, 1]), slice(None), lib.tensor([1, 0]))),
           samples=[Sample((2, 3, 4))]),
    OpInfo("getitem_none_tensor", fn=_get(lambda lib: (None, lib.tensor([1, 0]), Ellipsis)), samples=[Sample((2, 3))]),
    OpInfo("getitem_mask", fn=lambda lib, x: x[x > 0], dtypes=NUMERIC, gradgradcheck=True,
           samples=[Sample((3, 4)), Sample(()).named("zero_dim"), Sample((0, 2)).named("empty")]),
    OpInfo("getitem_row_mask", fn=_get(lambda lib: lib.tensor([True, False, True])), samples=[Sample((3, 2))]),
    OpInfo("getitem_mask_slice", fn=_get(lambda lib: (slice(None), lib.tensor([True, False, True, True]))),
           samples=[Sample((2, 4))]),
    OpInfo("getitem_bool_scalar", fn=_get(lambda lib: True), samples=[Sample((2, 3))]),
    OpInfo("getitem_0d_tensor_index", fn=_get(lambda lib: lib.tensor(1)), samples=[Sample((3, 2))]),
    OpInfo("getitem_errors", fn=lambda lib, x, i: x[i], grad=False, samples=[], errors=[
        ErrorInput(Sample((3,), 5), IndexError, r"index 5 is out of bounds for (dimension|axis) 0 with size 3"),
        ErrorInput(Sample((3,), np.array([0.5])), IndexError, r"tensors used as indices must be long, int"),
        ErrorInput(Sample((3,), Raw((0, 0))), IndexError, r"too many indices"),
    ]),
    # ------------------------------------------------------------------ setitem (in place, with autograd)
    OpInfo("setitem_slice", fn=_set(lambda lib: (0, slice(None, 2))), dtypes=NUMERIC, gradgradcheck=True,
           samples=[Sample((3, 4), (2,)), Sample((3, 4), ()).named("scalar_value"),
                    Sample((3, 4), (1,)).named("broadcast_value")]),
    OpInfo("setitem_list", fn=_set(lambda lib: [0, 2]), dtypes=NUMERIC, samples=[Sample((3, 4), (2, 4)),
                                                                                 Sample((3, 4), (4,))]),
    OpInfo("setitem_tensors", fn=_set(lambda lib: (lib.tensor([0, 2]), lib.tensor([1, -1]))), samples=[
        Sample((3, 4), (2,))]),
    OpInfo("setitem_mask", fn=lambda lib, x, v: _set(lambda _: x > 0)(lib, x, v), samples=[
        Sample((3, 4), ()), Sample((3, 4), (1,)).named("one_element")]),
    OpInfo("setitem_ellipsis", fn=_set(lambda lib: (Ellipsis, 1)), samples=[Sample((2, 3, 4), (2, 3))]),
    OpInfo("setitem_through_view", fn=_set_view, gradgradcheck=True, samples=[Sample((3, 4), (3,))]),
    OpInfo("setitem_number", fn=lambda lib, x: _set(lambda _: 1)(lib, x, 2.5), samples=[Sample((3, 2))]),
    # ------------------------------------------------------------------ gather / scatter
    OpInfo("gather", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), 1, Idx((3, 2), 4)), Sample((3, 4), 0, Idx((5, 4), 3)).named("repeats"),
        Sample((3, 4), -1, Idx((2, 6), 4)).named("smaller_other_dims"), Sample((), 0, np.array(0)).named("zero_dim"),
        Sample((3, 4), 1, Idx((0, 2), 4)).named("empty"), Sample(NonContig((3, 4)), 0, Idx((2, 4), 3)),
        Sample((3, 4), 1, np.array([[0], [2]], dtype=np.int32)).named("int32_index"),
    ], errors=[
        ErrorInput(Sample((2, 3), 1, np.array([[-1]])), RuntimeError, r"index -1 is out of bounds for dimension 1 with "
                   r"size 3"),
        ErrorInput(Sample((2, 3), 1, np.array([[0], [1], [0]])), RuntimeError, r"Size does not match at dimension 0"),
        ErrorInput(Sample((2, 3), 1, np.array([1])), RuntimeError, r"same number of dimensions"),
        ErrorInput(Sample((2, 3), 1, np.array([[1.0]])), RuntimeError, r"Expected dtype int64 for index"),
    ]),
    OpInfo("scatter", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), 1, UNIQUE_ROWS, (2, 3)), Sample((4, 3), 0, UNIQUE_ROWS[:, :2], T((3, 3), grad=False)).named("src_larger"),
        Sample((2, 3), -1, UNIQUE_ROWS[:, :1], (2, 1)), Sample((2, 3), 1, UNIQUE_ROWS, value=2).named("value"),
        Sample((2, 3), 1, Idx((2, 5), 3), 1.5).named("value_repeats"),
    ], errors=[
        ErrorInput(Sample((2, 3), 1, np.array([[0, 1]]), (1, 1)), RuntimeError, r"to be no larger size than src"),
        ErrorInput(Sample((2, 3), 1, np.array([[0, 3]]), (1, 2)), RuntimeError, r"index 3 is out of bounds for "
                   r"dimension 1 with size 3"),
        ErrorInput(Sample((2, 3), 1, np.array([[0, 1]]), T((1, 2), "float64")), RuntimeError,
                   r"Expected self.dtype to be equal to src.dtype"),
        ErrorInput(Sample((2, 3), 1, np.array([[0, 1]]), (1, 2), reduce="foo"), RuntimeError,
                   r"reduce argument must be either add or multiply"),
    ]),
    OpInfo("scatter_reduce_arg", fn=lambda lib, x, i, s, **kw: x.scatter(1, i, s, **kw), grad=False, dtypes=NUMERIC,
           samples=[Sample((2, 3), Idx((2, 4), 3), (2, 4), reduce="add"),
                    Sample((2, 3), Idx((2, 4), 3), (2, 4), reduce="multiply")]),
    OpInfo("scatter_add", dtypes=NUMERIC, gradgradcheck=True, samples=[
        Sample((2, 3), 1, Idx((2, 5), 3), (2, 5)), Sample((4, 3), 0, Idx((2, 2), 4), T((3, 3), grad=False)).named("src_larger"),
        Sample((3,), 0, Idx((0,), 3), (0,)).named("empty"), Sample(NonContig((3, 4)), 1, Idx((3, 2), 4), (3, 2)),
    ], errors=[ErrorInput(Sample((2, 3), 1, np.array([[0, 1]]), T((1, 2), "float64")), RuntimeError,
                          r"Expected self.dtype to be equal to src.dtype")]),
    OpInfo("scatter_reduce", dtypes=FLOATS, gradgradcheck=True, samples=[
        Sample((2, 3), 1, Idx((2, 5), 3), (2, 5), "sum"),
        Sample((2, 3), 1, Idx((2, 5), 3), (2, 5), "sum", include_self=False),
        Sample((2, 3), 1, Idx((2, 5), 3), (2, 5), "mean"),
        Sample((2, 3), 1, Idx((2, 5), 3), (2, 5), "mean", include_self=False),
        Sample((4, 3), 0, Idx((3, 2), 4), T((3, 3), grad=False), "sum").named("src_larger"),
    ], errors=[ErrorInput(Sample((2, 3), 1, np.array([[0, 1]]), (1, 2), "foo"), RuntimeError,
                          r"reduce argument must be either sum, prod, mean, amax or amin, got foo")]),
    OpInfo("scatter_reduce_nonlinear", fn=lambda lib, x, i, s, r, **kw: x.scatter_reduce(1, i, s, r, **kw),
           dtypes=FLOATS, low=0.5, high=2, samples=[
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "prod"),
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "prod", include_self=False),
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "amax"),
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "amin", include_self=False),
           ]),
    OpInfo("scatter_reduce_prod_zeros", fn=_prod_with_zeros, dtypes=FLOATS, low=0.5, high=2, samples=[
        Sample((2, 3), (2, 4)), Sample((2, 3), (2, 4), include_self=False)]),
    OpInfo("scatter_reduce_ties", fn=_max_with_ties, dtypes=FLOATS, samples=[
        Sample((2, 3), (2, 2), "amax"), Sample((2, 3), (2, 2), "amin", include_self=False)]),
    OpInfo("scatter_reduce_ints", fn=lambda lib, x, i, s, r, **kw: x.scatter_reduce(1, i, s, r, **kw), grad=False,
           dtypes=("int64", "int32", "uint8"), samples=[
               Sample((2, 3), Idx((2, 5), 3), (2, 5), r) for r in ("sum", "prod", "mean", "amax", "amin")] + [
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "amax", include_self=False).named("amax_exclude"),
               Sample((2, 3), Idx((2, 5), 3), (2, 5), "mean", include_self=False).named("mean_exclude")]),
    OpInfo("scatter_", fn=_inplace("scatter_"), samples=[Sample((2, 3), 1, UNIQUE_ROWS, (2, 3)),
                                                         Sample((2, 3), 1, UNIQUE_ROWS, value=-1.0)]),
    OpInfo("scatter_add_", fn=_inplace("scatter_add_"), samples=[Sample((2, 3), 1, Idx((2, 5), 3), (2, 5))]),
    OpInfo("scatter_reduce_", fn=_inplace("scatter_reduce_"), samples=[Sample((2, 3), 1, Idx((2, 5), 3), (2, 5),
                                                                              "mean")]),
    # ------------------------------------------------------------------ index_* along a dim
    OpInfo("index_select", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), 0, Idx((5,), 3)), Sample((3, 4), -1, Idx((2,), 4)), Sample((3, 4), 1, np.array(2)).named("0d_index"),
        Sample((), 0, np.array([0])).named("zero_dim"), Sample((3, 4), 0, Idx((0,), 3)).named("empty"),
        Sample(NonContig((3, 4)), 1, Idx((3,), 4)), Sample((3, 4), 1, np.array([1, 0], dtype=np.int32)).named("int32"),
    ], errors=[
        ErrorInput(Sample((2, 3), 1, np.array([3])), IndexError, r"out of range|out of DATA bounds"),
        ErrorInput(Sample((2, 3), 1, np.array([1.0])), RuntimeError, r"Expected dtype int32 or int64 for index"),
        ErrorInput(Sample((2, 3), 1, np.array([[1]])), IndexError, r"Index is supposed to be a vector"),
    ]),
    OpInfo("index_add", dtypes=NUMERIC, gradgradcheck=True, samples=[
        Sample((3, 4), 0, Idx((5,), 3), (5, 4)), Sample((3, 4), 1, Idx((3,), 4), (3, 3), alpha=2).named("alpha"),
        Sample(NonContig((3, 4)), -1, Idx((2,), 4), (3, 2)),
    ], errors=[
        ErrorInput(Sample((2, 3), 1, np.array([0]), T((2, 1), "float64")), RuntimeError, r"must have the same scalar type"),
        ErrorInput(Sample((2, 3), 1, np.array([0]), (2, 2)), RuntimeError, r"Number of indices \(1\) should be equal"),
        ErrorInput(Sample((2, 3), 1, np.array([3]), (2, 1)), RuntimeError, r"index 3 is out of bounds"),
    ]),
    OpInfo("index_copy", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), 0, np.array([2, 0]), (2, 4)), Sample((3, 4), 1, np.array([3]), (3, 1))],
        errors=[ErrorInput(Sample((2, 3), 1, np.array([3]), (2, 1)), IndexError, r"index 3 is out of bounds"),
                ErrorInput(Sample((2, 3), 1, np.array([0]), T((2, 1), "float64")), RuntimeError,
                           r"expected to have the same dtype")]),
    OpInfo("index_fill", dtypes=SOME, samples=[
        Sample((3, 4), 0, np.array([2, 0]), 1.5), Sample((3, 4), 1, np.array([-1]), 2),
        Sample((3, 4), 1, np.array([1, 1]), T(())).named("tensor_value")],
        errors=[ErrorInput(Sample((2, 3), 1, np.array([3]), 1.0), IndexError, r"index 3 is out of bounds"),
                ErrorInput(Sample((2, 3), 1, np.array([0]), (1,)), RuntimeError, r"0-dimensional value tensor")]),
    OpInfo("index_reduce", fn=lambda lib, x, *a, **kw: x.index_reduce(*a, **kw), dtypes=FLOATS, low=0.5, samples=[
        Sample((3, 4), 0, Idx((5,), 3), (5, 4), "prod"), Sample((3, 4), 1, Idx((3,), 4), (3, 3), "mean"),
        Sample((3, 4), 1, Idx((3,), 4), (3, 3), "amax", include_self=False)]),
    OpInfo("index_add_", fn=_inplace("index_add_"), samples=[Sample((3, 4), 0, Idx((5,), 3), (5, 4))]),
    OpInfo("index_copy_", fn=_inplace("index_copy_"), samples=[Sample((3, 4), 0, np.array([2, 0]), (2, 4))]),
    OpInfo("index_fill_", fn=_inplace("index_fill_"), samples=[Sample((3, 4), 0, np.array([2, 0]), 1.5)]),
    # ------------------------------------------------------------------ masks
    OpInfo("masked_fill", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), Mask((3, 4)), 1.5), Sample((3, 4), Mask((4,)), -1).named("broadcast_mask"),
        Sample((4,), Mask((3, 4)), 2).named("broadcast_self"), Sample((3, 4), Mask((3, 4)), T(())).named(
            "tensor_value"), Sample((), np.array(True), 0).named("zero_dim"), Sample(NonContig((3, 4)), Mask((3, 4)), 0.5),
    ], errors=[
        ErrorInput(Sample((3,), np.array([1, 0, 1]), 1.0), RuntimeError, r"only supports boolean masks"),
        ErrorInput(Sample((3,), Mask((3,)), (3,)), RuntimeError, r"only supports a 0-dimensional value tensor"),
    ]),
    OpInfo("masked_fill_", fn=_inplace("masked_fill_"), dtypes=SOME, samples=[
        Sample((3, 4), Mask((4,)), 1.5), Sample((3, 4), Mask((3, 4)), T(())).named("tensor_value")],
        errors=[ErrorInput(Sample((4,), Mask((3, 4)), 1.0), RuntimeError, r"doesn't match the broadcast shape")]),
    OpInfo("masked_scatter", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), Mask((3, 4)), (3, 4)), Sample((3, 4), Mask((4,)), (20,)).named("broadcast_longer_source"),
        Sample((4,), Mask((2, 4)), (2, 4)).named("broadcast_self")],
        errors=[ErrorInput(Sample((3,), np.array([True, False, True]), (1,)), RuntimeError,
                           r"Number of elements of source < number of ones in mask"),
                ErrorInput(Sample((3,), np.array([True, False, True]), T((3,), "float64")), RuntimeError,
                           r"expected self and source to have same dtypes")]),
    OpInfo("masked_scatter_", fn=_inplace("masked_scatter_"), samples=[Sample((3, 4), Mask((4,)), (3, 4))]),
    OpInfo("masked_select", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), Mask((3, 4))), Sample((3, 4), Mask((4,))).named("broadcast_mask"),
        Sample((4,), Mask((2, 4))).named("broadcast_self"), Sample((), np.array(True)).named("zero_dim"),
        Sample(NonContig((3, 4)), Mask((3, 4)))],
        errors=[ErrorInput(Sample((3,), np.array([1, 0, 1])), RuntimeError, r"expected BoolTensor for mask")]),
    # ------------------------------------------------------------------ flat indexing
    OpInfo("take", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4), Idx((5,), 12)), Sample((3, 4), np.array([[0, -1], [-12, 5]])).named("negative"),
        Sample((), np.array([0, 0])).named("zero_dim"), Sample(NonContig((3, 4)), Idx((2, 3), 12))],
        errors=[ErrorInput(Sample((6,), np.array([6])), IndexError, r"out of range: tried to access index 6 on a tensor "
                           r"of 6 elements")]),
    OpInfo("take_along_dim", dtypes=SOME, grad_atol=1e-3, samples=[
        Sample((3, 4), Idx((3, 2), 4), 1), Sample((3, 4), Idx((1, 4), 3), 0).named("broadcast"),
        Sample((3, 4), Idx((5,), 12)).named("flat"), Sample((3, 1), Idx((3, 4), 1), -1).named("broadcast_input")],
        errors=[ErrorInput(Sample((2, 3), np.array([0]), 1), RuntimeError, r"should have the same number of dimensions"),
                ErrorInput(Sample((2, 3), np.array([[0]], dtype=np.int32), 1), RuntimeError,
                           r"dtype of indices should be Long")]),
    OpInfo("put", dtypes=NUMERIC, samples=[
        Sample((3, 4), np.array([0, -1, 5]), (3,)), Sample((3, 4), Idx((6,), 12), (2, 3), accumulate=True)]),
    OpInfo("put_", fn=_inplace("put_"), samples=[Sample((3, 4), np.array([0, -1, 5]), (3,))]),
    OpInfo("nonzero", dtypes=SOME, grad=False, samples=[
        Sample((3, 4)), Sample(()).named("zero_dim"), Sample(T((), "bool")).named("zero_dim_bool"),
        Sample((0, 3)).named("empty"), Sample((3, 4), as_tuple=True).named("tuple"),
        Sample((), as_tuple=True).named("zero_dim_tuple")]),
    OpInfo("argwhere", dtypes=SOME, grad=False, samples=[Sample((3, 4)), Sample(())]),
    OpInfo("index_put", fn=lambda lib, x, i, v, **kw: x.index_put((lib.tensor(i),), v, **kw), samples=[
        Sample((4, 2), Raw([0, 2]), (2, 2)), Sample((4, 2), Raw([0, 0, 1]), (3, 2), accumulate=True)]),
    # ------------------------------------------------------------------ positions in sorted sequences
    OpInfo("searchsorted", fn=_searchsorted, dtypes=SEARCH_DTYPES, grad=False, samples=[
        Sample((7,), (3, 4)), Sample((7,), (3, 4), right=True).named("right"),
        Sample((7,), (3, 4), side="right").named("side_right"), Sample((7,), (3, 4), side="left").named("side_left"),
        Sample((7,), (3, 4), side="right", right=False).named("side_right_right_false"),
        Sample((2, 5), (2, 3)).named("batched"), Sample((2, 3, 5), (2, 3, 4), right=True).named("batched_3d"),
        Sample((7,), ()).named("zero_dim_value"), Sample((7,), Raw(0.5)).named("float_scalar"),
        Sample((7,), Raw(1)).named("int_scalar"), Sample((7,), Raw(-1)).named("negative_int_scalar"),
        Sample((0,), (3,)).named("empty_sequence"), Sample((7,), (0,)).named("empty_values"),
        Sample((7,), (3,), out_int32=True).named("int32"), Sample(NonContig((2, 5)), NonContig((2, 3))).named("noncontig"),
        Sample((7,), T((5,), "int64")).named("int64_values"), Sample((7,), T((5,), "float64")).named("float64_values"),
        Sample(T((7,), "int8"), (5,)).named("int8_sequence"),
        Sample(NAN_SEQUENCE, NAN_VALUES).named("nan"), Sample(NAN_SEQUENCE, NAN_VALUES, right=True).named("nan_right"),
    ]),
    OpInfo("searchsorted_sorter", fn=_searchsorted_sorter, dtypes=SEARCH_DTYPES, grad=False, samples=[
        Sample((7,), (3, 4)), Sample((2, 5), (2, 3), right=True).named("batched"),
        Sample((6,), (2, 4)).named("one_dim_sequence_batched_values")]),
    OpInfo("searchsorted_out", fn=_searchsorted_out, grad=False, samples=[
        Sample((7,), (3, 4)), Sample((7,), (3, 4), out_int32=True).named("int32")]),
    OpInfo("searchsorted_errors", fn=_searchsorted_plain, grad=False, errors=SEARCHSORTED_ERRORS),
    OpInfo("bucketize", fn=_bucketize, dtypes=SEARCH_DTYPES, grad=False, samples=[
        Sample((3, 4), (7,)), Sample((3, 4), (7,), right=True).named("right"), Sample((), (7,)).named("zero_dim"),
        Sample(Raw(0.5), (7,)).named("float_scalar"), Sample((2, 3, 4), (5,), out_int32=True).named("int32"),
        Sample((3,), (0,)).named("empty_boundaries"), Sample(NonContig((3, 4)), (6,)).named("noncontig"),
        Sample(T((4,), "float64"), (6,)).named("float64_values"),
    ]),
    OpInfo("bucketize_errors", fn=lambda lib, *a, **k: lib.bucketize(*a, **k), grad=False, errors=[
        ErrorInput(Sample((3,), (2, 2)), RuntimeError, r"boundaries tensor must be 1 dimension, but got dim\(2\)"),
        ErrorInput(Sample((3,), ()), RuntimeError, r"boundaries tensor must be 1 dimension, but got dim\(0\)"),
        ErrorInput(Sample((3,), (2,)), NotImplementedError, r'"searchsorted_out_cpu" not implemented for \'Bool\'',
                   "bool"),
    ]),
    OpInfo("searchsorted_out_dtype_error", grad=False,
           fn=lambda lib, s, v: lib.searchsorted(s, v, out=lib.empty(0, dtype=lib.int32)), errors=[
               ErrorInput(Sample((4,), (2,)), RuntimeError, r"output tensor's dtype is wrong, it can only be Int\(int32\) "
                          r"or Long\(int64\) depending on whether out_int32 flag is True, but we got output tensor's "
                          r"dtype Int and out_int32 flag is False")]),
]
