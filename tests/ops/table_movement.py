"""Op table entries: shape and movement ops (ember/ops/movement.py)."""

import numpy as np

from tests.ops.harness import ALL, ALL_FLOATS, FLOATS, T, ErrorInput, NonContig, OpInfo, Raw, Sample, inplace

SOME = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool")


def _cat(lib, *tensors, **kw):
    return lib.cat(tensors, **kw)


def _stacker(name):
    def fn(lib, *tensors, **kw):
        return getattr(lib, name)(tensors, **kw)
    return fn


def _pad(lib, x, *pad, **kw):
    return lib.nn.functional.pad(x, pad, **kw)


def _block_diag(lib, *tensors):
    return lib.block_diag(*tensors)


def _cartesian_prod(lib, *tensors):
    return lib.cartesian_prod(*tensors)


def _restride_view(lib, x):
    """In-place view ops on a view, then a write through it: the base's gradient splits at the restrided view."""
    base = x * 1
    view = base[1:]
    view.t_()
    view.unsqueeze_(0)
    view.mul_(lib.arange(view.numel(), dtype=x.dtype).reshape(view.shape))
    return base, view.squeeze_(0) * 2


def _restride_twice(lib, x):
    """Two in-place view ops in a row on a non-view, then ops reading it: gradients reach x through both."""
    y = x * 1
    y.transpose_(0, 1)
    y.unsqueeze_(1)
    return y * lib.arange(y.numel(), dtype=x.dtype).reshape(y.shape)


def _restride_leaf(lib, x, name, *args):
    return getattr(x.requires_grad_(), name)(*args)


def _restride_saved(lib, x):
    """A backward that saved a tensor later restrided in place raises (the engine's error has no caller's line, so this
    is a sample: 1 when it raised as PyTorch does)."""
    y = x.requires_grad_() * 1
    z = y * y
    y.t_()
    try:
        z.sum().backward()
    except RuntimeError as error:
        return lib.tensor(float("modified by an inplace operation" in str(error)))
    return lib.tensor(0.0)


JOIN_SAMPLES = [
    Sample((2, 3), (2, 3)),
    Sample((2, 3), (4, 3), (1, 3)).named("three"),
    Sample((2, 3), (2, 1), dim=1).named("dim1"),
    Sample((2, 3), (2, 2), dim=-1).named("negdim"),
    Sample(NonContig((3, 2)), (1, 2)).named("noncontig"),
    Sample((0, 3), (2, 3)).named("empty_rows"),
    Sample((0,), (2, 3)).named("legacy_empty"),
    Sample((2, 3), T((2, 3), "int64", grad=False)).named("promote"),
    Sample(T((2,), "int8"), T((2,), "uint8")).named("int8_uint8"),
]

OPS = [
    OpInfo("cat", fn=_cat, samples=JOIN_SAMPLES, dtypes=SOME, gradgradcheck=True, errors=[
        ErrorInput(Sample((2, 3), (2, 4)), RuntimeError, r"Sizes of tensors must match except in dimension 0"),
        ErrorInput(Sample((2, 3), (2, 3, 1)), RuntimeError, r"same number of dimensions"),
        ErrorInput(Sample((), (2,)), RuntimeError, r"zero-dimensional tensor \(at position 0\)"),
        ErrorInput(Sample((2, 3), dim=2), IndexError, r"Dimension out of range"),
        ErrorInput(Sample(), ValueError, r"non-empty list"),
    ]),
    OpInfo("concat", fn=lambda lib, *ts, **kw: lib.concat(ts, **kw), samples=[Sample((2, 3), (2, 1), dim=1)]),
    OpInfo("concatenate", fn=lambda lib, *ts, **kw: lib.concatenate(ts, **kw), samples=[Sample((2, 3), (1, 3))]),
    OpInfo("stack", fn=_stacker("stack"), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), (2, 3)), Sample((2, 3), (2, 3), (2, 3), dim=1), Sample((2, 3), (2, 3), dim=-1),
        Sample((), ()).named("zero_dim"), Sample((0, 2), (0, 2)).named("empty"),
        Sample(NonContig((2, 3)), (2, 3)).named("noncontig"), Sample((2,), T((2,), "int64", grad=False)).named("promote"),
    ], errors=[
        ErrorInput(Sample((2, 3), (2, 4)), RuntimeError, r"stack expects each tensor to be equal size"),
        ErrorInput(Sample(), RuntimeError, r"non-empty TensorList"),
        ErrorInput(Sample((2,), dim=3), IndexError, r"Dimension out of range"),
    ]),
    OpInfo("hstack", fn=_stacker("hstack"), dtypes=FLOATS + ("int64",), samples=[
        Sample((2,), (3,)), Sample((2, 3), (2, 1)), Sample((), (3,)).named("zero_dim")]),
    OpInfo("vstack", fn=_stacker("vstack"), samples=[Sample((3,), (3,)), Sample((3,), (2, 3)), Sample((), ())]),
    OpInfo("row_stack", fn=_stacker("row_stack"), samples=[Sample((3,), (2, 3))]),
    OpInfo("dstack", fn=_stacker("dstack"), samples=[Sample((3,), (3,)), Sample((2, 3), (2, 3, 2)), Sample((), ())]),
    OpInfo("column_stack", fn=_stacker("column_stack"), samples=[
        Sample((2,), (2, 3)), Sample((), (1, 3)).named("zero_dim"), Sample((3,), (3,))]),
    OpInfo("atleast_1d", samples=[Sample(()), Sample((2,)), Sample((2, 3))]),
    OpInfo("atleast_2d", samples=[Sample(()), Sample((2,)), Sample((2, 3, 1))]),
    OpInfo("atleast_3d", samples=[Sample(()), Sample((2,)), Sample((2, 3)), Sample((1, 2, 3, 4))]),
    OpInfo("atleast_2d_many", fn=lambda lib, a, b: lib.atleast_2d(a, b), samples=[Sample((), (3,))]),
    OpInfo("split", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((5, 2), 2), Sample((5, 2), Raw([1, 4])).named("sizes"), Sample((2, 6), 4, dim=1),
        Sample((2, 6), Raw([3, 0, 3]), dim=-1).named("zero_size"), Sample((0, 2), 2).named("empty"),
        Sample(NonContig((3, 4)), 3).named("noncontig"),
    ], errors=[
        ErrorInput(Sample((3,), Raw([1, 1])), RuntimeError, r"split_with_sizes expects split_sizes to sum exactly to 3"),
        ErrorInput(Sample((3,), 0), RuntimeError, r"split_size can only be 0 if dimension size is 0"),
        ErrorInput(Sample((3,), Raw([1, -1, 3])), RuntimeError, r"only non-negative entries"),
    ]),
    OpInfo("split_first_only", fn=lambda lib, x: lib.split(x, 2)[0] * 2, samples=[Sample((5, 2))]),
    OpInfo("chunk", dtypes=SOME, samples=[
        Sample((5,), 3), Sample((6, 2), 4), Sample((2, 7), 2, dim=1), Sample((0,), 3).named("empty"),
    ], errors=[ErrorInput(Sample((3,), 0), RuntimeError, r"chunk expects `chunks` to be greater than 0, got: 0")]),
    OpInfo("tensor_split", samples=[
        Sample((7,), 3), Sample((7, 2), Raw([1, 5, 3, 9])).named("indices"), Sample((2, 7), 4, dim=1),
        Sample((7,), np.array(2)).named("tensor_sections"), Sample((7,), np.array([2, 4])).named("tensor_indices"),
    ], errors=[
        ErrorInput(Sample((7,), 0), RuntimeError, r"number of sections must be larger than 0"),
        ErrorInput(Sample((7,), np.array([2.0])), RuntimeError, r"to have dtype of long"),
    ]),
    OpInfo("unbind", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 2)), Sample((2, 3), 1), Sample((2, 3, 4), -1), Sample(NonContig((2, 3)), 0).named("noncontig")],
        errors=[ErrorInput(Sample(()), IndexError, r"Dimension specified as 0 but tensor has no dimensions")]),
    OpInfo("unbind_partial", fn=lambda lib, x: lib.unbind(x)[1] * 3, samples=[Sample((3, 2))]),
    OpInfo("movedim", dtypes=SOME, samples=[
        Sample((2, 3, 4), 0, -1), Sample((2, 3, 4), Raw((0, 1)), Raw((2, 0))), Sample((), 0, 0).named("zero_dim")],
        errors=[
            ErrorInput(Sample((2, 3, 4), Raw((0, 1)), Raw((2,))), RuntimeError, r"should contain the same number of dims"),
            ErrorInput(Sample((2, 3, 4), Raw((0, 0)), Raw((1, 2))), RuntimeError, r"repeated dim in `source`"),
        ]),
    OpInfo("moveaxis", samples=[Sample((2, 3, 4), 1, 0)]),
    OpInfo("unflatten", fn=lambda lib, x, *a: x.unflatten(*a), dtypes=SOME, samples=[
        Sample((2, 6), 1, Raw((2, -1))), Sample((6,), 0, Raw((3, 2))), Sample((0, 2), 0, Raw((0, 5))).named("empty")],
        errors=[
            ErrorInput(Sample((6,), 0, Raw((4, -1))), RuntimeError, r"don't multiply up to the size of dim 0"),
            ErrorInput(Sample((6,), 0, Raw(())), RuntimeError, r"sizes must be non-empty"),
        ]),
    OpInfo("squeeze_dims", fn=lambda lib, x, d: x.squeeze(d), samples=[
        Sample((1, 2, 1, 3), Raw((0, 2))), Sample((1, 2, 1), Raw((-1, 1))), Sample((), 0).named("zero_dim")]),
    OpInfo("repeat", fn=lambda lib, x, *r: x.repeat(*r), dtypes=SOME, gradgradcheck=True, grad_atol=4e-3, samples=[
        Sample((2, 3), 2, 1), Sample((2,), 2, 3).named("new_dims"), Sample((2, 3), 0, 2).named("zero_repeat"),
        Sample((), 3).named("zero_dim"), Sample(NonContig((2, 3)), 2, 2).named("noncontig"),
    ], errors=[
        ErrorInput(Sample((2, 3), 2), RuntimeError, r"Number of dimensions of repeat dims can not be smaller"),
        ErrorInput(Sample((2, 3), 2, 1, -1), RuntimeError, r"negative dimension"),
    ]),
    OpInfo("tile", dtypes=FLOATS, samples=[Sample((2, 3), Raw((2,))), Sample((2,), Raw((2, 2))), Sample((), Raw((3,)))]),
    OpInfo("repeat_interleave", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), 2), Sample((2, 3), 2, dim=1), Sample((2, 3), np.array([1, 0, 2]), dim=-1).named("tensor_repeats"),
        Sample((3,), np.array(2), dim=0).named("0d_repeats"), Sample((2, 2), 3, dim=0, output_size=6).named("output_size"),
        Sample((), 2).named("zero_dim"),
    ], errors=[
        ErrorInput(Sample((2,), np.array([1, 2, 3]), dim=0), RuntimeError, r"repeats must have the same size as input"),
        ErrorInput(Sample((2,), np.array([-1, 2]), dim=0), RuntimeError, r"repeats can not be negative"),
        ErrorInput(Sample((2,), np.array([[2]]), dim=0), RuntimeError, r"repeats must be 0-dim or 1-dim tensor"),
        ErrorInput(Sample((2,), np.array([2, 2]), dim=0, output_size=3), RuntimeError, r"allocated size"),
    ]),
    OpInfo("repeat_interleave_counts", fn=lambda lib, r: lib.repeat_interleave(r), grad=False, dtypes=("int64",),
           samples=[Sample(np.array([2, 0, 1]))]),
    OpInfo("flip", fn=lambda lib, x, *d: lib.flip(x, d), dtypes=SOME, samples=[
        Sample((2, 3), 0), Sample((2, 3, 4), 0, -1), Sample((2, 3)).named("no_dims"), Sample((0, 3), 1).named("empty"),
        Sample(NonContig((2, 3)), 1).named("noncontig")],
        errors=[ErrorInput(Sample((3,), 0, 0), RuntimeError, r"dim 0 appears multiple times")]),
    OpInfo("fliplr", samples=[Sample((2, 3)), Sample((2, 3, 4))],
           errors=[ErrorInput(Sample((3,)), RuntimeError, r"Input must be >= 2-d.")]),
    OpInfo("flipud", samples=[Sample((2,)), Sample((2, 3))],
           errors=[ErrorInput(Sample(()), RuntimeError, r"Input must be >= 1-d.")]),
    OpInfo("rot90", dtypes=SOME, samples=[
        Sample((2, 3)), Sample((2, 3), 2), Sample((2, 3), -1), Sample((2, 3), 4), Sample((2, 3, 4), 1, Raw([2, 0])),
        Sample((2, 3), 3, Raw((1, 0)))], errors=[
        ErrorInput(Sample((3,), 1), RuntimeError, r"expected total dims >= 2, but got total dims = 1"),
        ErrorInput(Sample((3, 3), 1, Raw((0, 0))), RuntimeError, r"expected rotation dims to be different"),
    ]),
    OpInfo("roll", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), 1), Sample((2, 3), -4, 1), Sample((2, 3), Raw((1, 2)), Raw((0, 1))).named("tuples"),
        Sample((0, 3), 1, 1).named("empty"), Sample(NonContig((2, 3)), 2).named("noncontig_flat"),
        Sample((), 2).named("zero_dim")], errors=[
        ErrorInput(Sample((3,), 1, Raw((0, 0))), RuntimeError, r"shifts and dimensions must align"),
        ErrorInput(Sample((3,), Raw(())), RuntimeError, r"`shifts` required|shifts and dimensions must align"),
    ]),
    OpInfo("tril", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 3)), Sample((3, 4), diagonal=1), Sample((2, 3, 3), -1), Sample((0, 3)).named("empty"),
        Sample(NonContig((3, 4))).named("noncontig")],
        errors=[ErrorInput(Sample((3,)), RuntimeError, r"tril: input tensor must have at least 2 dimensions")]),
    OpInfo("triu", dtypes=SOME, samples=[Sample((3, 3)), Sample((4, 3), diagonal=-1), Sample((2, 3, 3), 2)],
           errors=[ErrorInput(Sample(()), RuntimeError, r"triu: input tensor must have at least 2 dimensions")]),
    OpInfo("diag", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3,)), Sample((3,), 1), Sample((3,), -2), Sample((3, 4)), Sample((3, 4), 2), Sample((3, 4), -1),
        Sample(NonContig((3, 4)), 1).named("noncontig"), Sample((0,)).named("empty")],
        errors=[ErrorInput(Sample((2, 3, 4)), RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D")]),
    OpInfo("diagonal", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 4)), Sample((3, 4), 1), Sample((3, 4), -2), Sample((2, 3, 4), 0, 2, 0).named("dims"),
        Sample((2, 3, 4), 1, -1, -2), Sample((2, 3), 4).named("offset_past_end"), Sample(NonContig((3, 4)), 1)],
        errors=[ErrorInput(Sample((2, 3), 0, 1, 1), RuntimeError, r"diagonal dimensions cannot be identical 1, 1")]),
    OpInfo("diag_embed", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3,)), Sample((2, 3)), Sample((2, 3), 1, 0, 2), Sample((2, 3), -1, 2, 0), Sample((2, 3), offset=2)]),
    OpInfo("narrow", dtypes=SOME, samples=[
        Sample((4, 3), 0, 1, 2), Sample((4, 3), -1, -2, 2), Sample((4, 3), 1, np.array(1), 2).named("tensor_start"),
        Sample((4, 3), 1, 3, 0).named("empty"), Sample(NonContig((3, 4)), 0, 1, 2)], errors=[
        ErrorInput(Sample((2, 3), 1, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
        ErrorInput(Sample((2, 3), 1, 1, -1), RuntimeError, r"length must be non-negative"),
        ErrorInput(Sample((), 0, 0, 1), RuntimeError, r"cannot be applied to a 0-dim tensor"),
    ]),
    OpInfo("select", dtypes=SOME, samples=[Sample((4, 3), 0, 1), Sample((4, 3), -1, -3), Sample(NonContig((3, 4)), 1, 2)],
           errors=[ErrorInput(Sample((2, 3), 1, 3), IndexError, r"select\(\): index 3 out of range for tensor of size "
                              r"\[2, 3\] at dimension 1")]),
    OpInfo("broadcast_to", dtypes=SOME, samples=[Sample((3,), Raw((2, 3))), Sample((2, 1), Raw((2, 4))),
                                                 Sample((), Raw((2,)))],
           errors=[ErrorInput(Sample((2,), Raw((3, 3))), RuntimeError, r"must match the existing size")]),
    OpInfo("broadcast_tensors", samples=[Sample((3,), (2, 1)), Sample((), (2, 3), (1, 3))],
           errors=[ErrorInput(Sample((2,), (3,)), RuntimeError, r"cannot be broadcast")]),
    OpInfo("broadcast_shapes", fn=lambda lib, *s: lib.broadcast_shapes(*s), grad=False,
           samples=[Sample(Raw((2, 1)), Raw((3,))), Sample(Raw(2), Raw((3, 1)))],
           errors=[ErrorInput(Sample(Raw((2, 1)), Raw((3, 3))), RuntimeError, r"Attempting to broadcast a dimension")]),
    OpInfo("unfold", fn=lambda lib, x, *a: x.unfold(*a), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((7,), 0, 2, 1), Sample((7,), 0, 3, 2), Sample((2, 6), 1, 3, 3), Sample((5, 2), 0, 2, 3),
        Sample((5, 4), -1, 4, 1), Sample((), 0, 1, 1).named("zero_dim"), Sample(NonContig((4, 5)), 1, 2, 2)], errors=[
        ErrorInput(Sample((3,), 0, 4, 1), RuntimeError, r"maximum size for tensor at dimension 0 is 3 but size is 4"),
        ErrorInput(Sample((3,), 0, 2, 0), RuntimeError, r"step is 0 but must be > 0"),
    ]),
    OpInfo("as_strided", fn=lambda lib, x, *a: x.as_strided(*a), samples=[
        Sample((2, 3), Raw((2, 2)), Raw((1, 2))), Sample((6,), Raw((3, 2)), Raw((1, 1))).named("overlapping"),
        Sample((2, 3), Raw((2,)), Raw((2,)), 1).named("offset")],
        errors=[ErrorInput(Sample((2, 3), Raw((2, 2)), Raw((1, 2)), 10), RuntimeError, r"out of bounds for storage")]),
    OpInfo("pad", fn=_pad, dtypes=SOME, gradgradcheck=True, samples=[
        Sample((1, 2, 3), 1, 2), Sample((1, 2, 3), -1, 2).named("crop"), Sample((2, 3), 1, 1, 2, 0, value=1.5),
        Sample((3,), 2, 1, value=3), Sample((2, 3, 2), 1, 1, 0, 0, 1, 1).named("three_dims"),
        Sample((), ).named("zero_dim_no_pad"), Sample(NonContig((2, 3)), 0, 1)], errors=[
        ErrorInput(Sample((2, 3), 1), RuntimeError, r"Padding length must be divisible by 2"),
        ErrorInput(Sample((2, 3), 1, 1, 1, 1, 1, 1), RuntimeError, r"padding length 6 and input of dimension 2"),
        ErrorInput(Sample((2, 3), 1, 1, 1, 1, 1, 1, 1, 1), RuntimeError, r"should be less than or equal to two times"),
        ErrorInput(Sample((1, 2, 3), -2, -2), RuntimeError, r"narrow\(\): length must be non-negative"),
        ErrorInput(Sample((1, 2, 3), 1, 1, mode="foo"), NotImplementedError, r"Unrecognised padding mode foo"),
    ]),
    OpInfo("pad_reflect", fn=lambda lib, x, *p, **kw: _pad(lib, x, *p, mode="reflect", **kw), dtypes=FLOATS + ("int64",),
           gradgradcheck=True, samples=[
               Sample((1, 2, 4), 2, 1), Sample((2, 4), 3, 0), Sample((1, 2, 3), -1, 1).named("crop"),
               Sample((1, 3, 4), 1, 2, 2, 1).named("2d"), Sample((1, 2, 3, 3, 3), 1, 1, 1, 1, 1, 1).named("3d")],
           errors=[
               ErrorInput(Sample((1, 2, 3), 3, 1), RuntimeError, r"Padding size should be less than the corresponding"),
               ErrorInput(Sample((3,), 1, 1), NotImplementedError, r"Padding size 2 is not supported for 1D input"),
               ErrorInput(Sample((0, 3), 1, 1), RuntimeError, r"other non-zero dimensions"),
               ErrorInput(Sample((1, 2, 3), 1, 1, value=1.0), RuntimeError, r"doesn't take in value argument"),
           ]),
    OpInfo("pad_replicate", fn=lambda lib, x, *p: _pad(lib, x, *p, mode="replicate"), dtypes=FLOATS + ("int64",),
           samples=[Sample((1, 2, 3), 4, 1), Sample((1, 2, 3), -1, 1).named("crop"), Sample((2, 3, 4), 1, 2, 3, 0),
                    Sample((1, 1, 2, 2, 2), 1, 0, 0, 1, 1, 1).named("3d")]),
    OpInfo("pad_circular", fn=lambda lib, x, *p: _pad(lib, x, *p, mode="circular"), dtypes=FLOATS + ("int64",),
           samples=[Sample((1, 2, 3), 3, 1), Sample((1, 2, 3), -1, 1).named("crop"), Sample((1, 3, 4), 1, 2, 2, 1)],
           errors=[ErrorInput(Sample((1, 2, 3), 4, 1), RuntimeError, r"Padding value causes wrapping around more than once")]),
    OpInfo("view_movement", fn=lambda lib, x: x.t().reshape(-1), dtypes=ALL, samples=[Sample((2, 3))]),
    OpInfo("view", fn=lambda lib, x, *shape: x.view(*shape), dtypes=ALL, gradgradcheck=True,
           samples=[Sample((3, 4), 4, 3), Sample((3, 4), -1).named("flatten"), Sample((2, 3, 4), 6, -1).named("merge"),
                    Sample((), 1, 1).named("zero_dim")],
           errors=[ErrorInput(Sample(NonContig((3, 4)), -1), RuntimeError, "view size is not compatible")]),
    OpInfo("swapaxes", samples=[Sample((2, 3, 4), 0, 2)]),
    OpInfo("permute_grad", fn=lambda lib, x: x.permute(2, 0, 1) * 2, dtypes=ALL_FLOATS, samples=[Sample((2, 3, 4))]),
    # ------------------------------------------------------------------ differences, flattening, diagonals
    OpInfo("diff", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3, 5)), Sample((3, 5), 2, 0).named("n2_dim0"), Sample((4,), 5).named("n_past_size"),
        Sample((2, 4), 0).named("n0"), Sample((3, 4), 1, 0, (1, 4), (2, 4)).named("prepend_append"),
        Sample((3, 4), 2, -1, (3, 2)).named("prepend"), Sample((2, 4), 1, -1, None, (2, 1)).named("append"),
        Sample((2, 4), 0, -1, (2, 1)).named("n0_ignores_prepend"), Sample(NonContig((3, 4)), 1, 0).named("noncontig"),
        Sample((0, 3)).named("empty"), Sample((0, 3), 1, 0).named("empty_dim"),
        Sample((3, 4), 1, -1, T((3, 1), "int64", grad=False)).named("promote_prepend"),
    ], errors=[
        ErrorInput(Sample(()), RuntimeError, r"diff expects input to be at least one-dimensional"),
        ErrorInput(Sample((3,), -1), RuntimeError, r"order must be non-negative but got -1"),
        ErrorInput(Sample((2, 3), 1, -1, (3,)), RuntimeError, r"diff expects prepend or append to be the same dimension"),
        ErrorInput(Sample((2, 3), 1, -1, (3, 1)), RuntimeError,
                   r"except along the differencing dimension; input.size\(0\) = 2, but got tensor.size\(0\) = 3"),
        ErrorInput(Sample((2, 3), 1, -1, 0), TypeError, r"diff\(\): argument 'prepend' must be Tensor, not int"),
        ErrorInput(Sample((2, 3), 1.0), TypeError, r"diff\(\): argument 'n' must be int, not float"),
        ErrorInput(Sample((2, 3), 1, 2), IndexError, r"Dimension out of range"),
    ]),
    OpInfo("Tensor.diff", fn=lambda lib, x, *a, **k: x.diff(*a, **k), samples=[Sample((3, 4), 1, 0)]),
    OpInfo("diff_out", fn=lambda lib, x: lib.diff(x, out=lib.empty(0, dtype=x.dtype)), grad=False,
           dtypes=("float32", "int64"), samples=[Sample((3, 4))]),
    OpInfo("ravel", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3)), Sample(NonContig((3, 4))).named("noncontig"), Sample(()).named("zero_dim"),
        Sample((0, 3)).named("empty")]),
    OpInfo("Tensor.ravel", fn=lambda lib, x: x.ravel() * 2, samples=[Sample((2, 3, 2))]),
    OpInfo("diagflat", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((3,)), Sample((2, 2)), Sample((3,), 1), Sample((2, 2), -2), Sample(()).named("zero_dim"),
        Sample((0,)).named("empty"), Sample((0,), 2).named("empty_offset"), Sample(NonContig((2, 3))).named("noncontig"),
    ], errors=[ErrorInput(Sample((3,), 1.0), TypeError, r"argument 'offset' \(position 2\) must be int, not float")]),
    OpInfo("Tensor.diagflat", fn=lambda lib, x, *a: x.diagflat(*a), samples=[Sample((2, 2), 1)]),
    # ------------------------------------------------------------------ block matrices and products of sets
    OpInfo("block_diag", fn=_block_diag, dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 2), (3,), ()), Sample((2, 3)).named("one"), Sample((0, 2), (2, 0), (0,)).named("empty_blocks"),
        Sample((2, 2), T((2,), "int64", grad=False)).named("promote"),
        Sample(T((), "float64", grad=False), (2, 2)).named("zero_dim_promote"),
        Sample(NonContig((2, 3)), (1, 1)).named("noncontig"), Sample().named("none"),
    ], errors=[
        ErrorInput(Sample((2,), (1, 1, 1)), RuntimeError, r"Input tensors must have 2 or fewer dimensions. Input 1 has 3"),
        ErrorInput(Sample(Raw([1.0])), TypeError, r"expected Tensor as element 0 in argument 0, but got list"),
    ]),
    OpInfo("cartesian_prod", fn=_cartesian_prod, dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2,), (3,)), Sample((2,), (1,), (3,)).named("three"), Sample((4,)).named("one"),
        Sample((0,), (3,)).named("empty"),
    ], errors=[
        ErrorInput(Sample((1, 2), (3,)), RuntimeError, r"Expect a 1D vector, but got shape \[1, 2\]"),
        ErrorInput(Sample(()), RuntimeError, r"Expect a 1D vector, but got shape \[\]"),
        ErrorInput(Sample((2,), T((2,), "int64")), RuntimeError, r"meshgrid expects all tensors to have the same dtype"),
        ErrorInput(Sample(), RuntimeError, r"meshgrid expects a non-empty TensorList"),
    ]),
    OpInfo("combinations", dtypes=SOME, gradgradcheck=True, samples=[
        Sample((4,)), Sample((4,), 3), Sample((4,), 1), Sample(T((3,), grad=False), 0).named("r0"), Sample((3,), 4).named("r_past_n"),
        Sample((3,), 2, True).named("with_replacement"), Sample((2,), 4, True).named("replacement_r_past_n"),
        Sample((0,)).named("empty"), Sample((1,)).named("one"),
    ], errors=[
        ErrorInput(Sample((2, 2)), RuntimeError, r"Expect a 1D vector, but got shape \[2, 2\]"),
        ErrorInput(Sample((3,), -1), RuntimeError, r"Expect a non-negative number, but got -1"),
    ]),
    # ------------------------------------------------------------------ in-place view ops
    OpInfo("Tensor.unsqueeze_", fn=inplace("unsqueeze_"), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), 0), Sample((2, 3), -1), Sample((), 0).named("zero_dim"), Sample(NonContig((2, 3)), 1)],
        errors=[ErrorInput(Sample((2, 3), 3), IndexError, r"Dimension out of range")]),
    OpInfo("Tensor.squeeze_", fn=inplace("squeeze_"), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((1, 2, 1)), Sample((1, 2, 1), 0), Sample((1, 2, 1), Raw((0, 2))).named("dims"),
        Sample((2, 3), 1).named("no_op"), Sample(()).named("zero_dim"), Sample(NonContig((1, 3))).named("noncontig")],
        errors=[ErrorInput(Sample((2, 3), 2), IndexError, r"Dimension out of range")]),
    OpInfo("Tensor.transpose_", fn=inplace("transpose_"), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3), 0, 1), Sample((2, 3, 4), -1, 0), Sample((), 0, -1).named("zero_dim"),
        Sample(NonContig((2, 3)), 0, 1).named("noncontig")],
        errors=[ErrorInput(Sample((2, 3), 0, 2), IndexError, r"Dimension out of range")]),
    OpInfo("Tensor.swapaxes_", fn=inplace("swapaxes_"), samples=[Sample((2, 3, 4), 0, 2)]),
    OpInfo("Tensor.swapdims_", fn=inplace("swapdims_"), samples=[Sample((2, 3), 1, 0)]),
    OpInfo("Tensor.t_", fn=inplace("t_"), dtypes=SOME, gradgradcheck=True, samples=[
        Sample((2, 3)), Sample((3,)).named("one_dim"), Sample(()).named("zero_dim")],
        errors=[ErrorInput(Sample((2, 3, 4)), RuntimeError, r"t_\(\) expects a tensor with <= 2 dimensions, but self is 3D")]),
    OpInfo("inplace_view_ops_through_a_view", fn=_restride_view, dtypes=FLOATS, gradgradcheck=True,
           samples=[Sample((3, 4))]),
    OpInfo("inplace_view_ops_twice", fn=_restride_twice, dtypes=FLOATS, gradgradcheck=True, samples=[Sample((2, 3))]),
    OpInfo("inplace_view_op_on_leaf", fn=_restride_leaf, grad=False, errors=[
        ErrorInput(Sample((2, 3), name, *args), RuntimeError, name + r": a leaf Variable that requires grad is being "
                   r"used in an in-place operation") for name, args in (
            ("unsqueeze_", (0,)), ("squeeze_", ()), ("transpose_", (0, 1)), ("t_", ()))]),
    OpInfo("inplace_view_op_on_leaf_view", grad=False, fn=lambda lib, x: x.requires_grad_()[0].t_(), errors=[
        ErrorInput(Sample((2, 3)), RuntimeError, r"a view of a leaf Variable that requires grad is being used")]),
    OpInfo("inplace_view_op_on_unbind_output", grad=False,
           fn=lambda lib, x: (x.requires_grad_() * 1).unbind(0)[0].unsqueeze_(0), errors=[
               ErrorInput(Sample((2, 3)), RuntimeError, r"Output 0 of Unbind is a view and is being modified inplace")]),
    OpInfo("inplace_view_op_then_saved_use", fn=_restride_saved, grad=False, samples=[Sample((2, 3))]),
]
