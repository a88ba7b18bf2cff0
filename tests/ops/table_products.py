"""Op table entries: matrix and tensor products, and the layers' linear and bilinear maps (ember/ops/products.py)."""

import numpy as np

from tests.ops.harness import ALL_FLOATS, FLOATS, T, ErrorInput, NonContig, OpInfo, Sample, low_precision

PRODUCT_DTYPES = ALL_FLOATS + ("int64", "int32", "uint8")
LOW_PRECISION_TOLERANCE = dict(rtol=1.6e-2, atol=2e-3)


def _einsum(lib, *operands, equation):
    return lib.einsum(equation, *operands)


def _vander(lib, x, *args, **kwargs):
    """``vander``; torch's reference for gradients is ``torch.linalg.vander`` (flipped unless ``increasing``): in
    PyTorch 2.13 ``torch.vander``'s backward raises ("one of the variables needed for gradient computation has been
    modified by an inplace operation": it writes cumprod's result into a slice of its own output). Its values are
    compared in ``vander_values``."""
    N, increasing = (list(args) + [None, False])[:2] if args else (kwargs.get("N"), kwargs.get("increasing", False))
    if lib.__name__ == "torch" and x.requires_grad and (x.shape[0] if N is None else N) > 1:
        powers = lib.linalg.vander(x, N=N)
        return powers if increasing else powers.flip(-1)
    return lib.vander(x, *args, **kwargs)


VANDER_SAMPLES = [
    Sample((4,)), Sample((4,), 3).named("N3"), Sample((3,), 5, True).named("N5_increasing"),
    Sample((3,), increasing=True).named("increasing"), Sample((0,), 3).named("empty_N3"),
    Sample(np.array([0.0, 2.0, -1.5, 0.0])).named("zeros"),
]
# No power of x but the 0th: a constant, which requires no grad (in PyTorch too).
VANDER_CONSTANT_SAMPLES = [Sample((3,), 1).named("N1"), Sample((3,), 0).named("N0"), Sample((0,)).named("empty"),
                           Sample((1,)).named("one")]


MATMUL_SAMPLES = [
    Sample((2, 3), (3, 4)).named("matrix_matrix"),
    Sample((5, 2, 3), (5, 3, 4)).named("batch_batch"),
    Sample((3,), (3,)).named("dot"),
    Sample((2, 3), (3,)).named("matrix_vector"),
    Sample((3,), (3, 4)).named("vector_matrix"),
    Sample((5, 2, 3), (3,)).named("batch_vector"),
    Sample((3,), (5, 3, 4)).named("vector_batch"),
    Sample((5, 2, 3), (3, 4)).named("batch_matrix"),
    Sample((2, 3), (5, 3, 4)).named("matrix_batch"),
    Sample((2, 1, 2, 3), (4, 3, 2)).named("broadcast_batch"),
    Sample((1, 2, 3), (4, 3, 5)).named("broadcast_size1_batch"),
    Sample(NonContig((2, 3)), NonContig((3, 4))).named("noncontig"),
    Sample(NonContig((4, 2, 3)), (3, 5)).named("noncontig_batch_matrix"),
    Sample((2, 0), (0, 3)).named("empty_k"),
    Sample((0, 3), (3, 2)).named("empty_rows"),
    Sample((3, 2, 0), (0, 4)).named("empty_k_batched"),
]
MATMUL_ERRORS = [
    ErrorInput(Sample((2, 3), (4, 5)), RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\).*"
               r"\(2, 3\) and \(4, 5\)"),
    ErrorInput(Sample((3,), (4,)), RuntimeError, r"inconsistent tensor size.*\(3,\) and \(4,\)"),
    ErrorInput(Sample((5, 2, 3), (4,)), RuntimeError, r"size mismatch.*\(5, 2, 3\) and \(4,\)"),
    ErrorInput(Sample((4,), (2, 3)), RuntimeError, r"cannot be multiplied \(1x4 and 2x3\)"),
    ErrorInput(Sample((2, 2, 3), (3, 3, 4)), RuntimeError, r"cannot be broadcast.*\(2, 2, 3\) and \(3, 3, 4\)"),
    ErrorInput(Sample((), (3,)), RuntimeError, r"at least 1D, but they are 0D and 1D"),
    ErrorInput(Sample(T((2, 3)), T((3, 2), "float64")), RuntimeError, r"same dtype, but got: float != double"),
    ErrorInput(Sample(T((2, 3), "bool"), T((3, 2), "bool")), NotImplementedError, r"not implemented for 'Bool'"),
]

ADD_PRODUCT_ERRORS = {
    "addmm": [ErrorInput(Sample((3, 4), (2, 3), (3, 4)), RuntimeError, r"\(3, 4\) cannot be broadcast.*\(2, 4\)"),
              ErrorInput(Sample((2, 4), (2, 3), (4, 4)), RuntimeError, r"cannot be multiplied \(2x3 and 4x4\)"),
              ErrorInput(Sample(T((2, 4), "float64"), (2, 3), (3, 4)), RuntimeError, r"same dtype")],
    "addmv": [ErrorInput(Sample((2,), (2, 3), (4,)), RuntimeError, r"size mismatch.*\(2, 3\) and \(4,\)")],
    "addbmm": [ErrorInput(Sample((2, 4), (3, 2, 3), (2, 3, 4)), RuntimeError, r"same number of batches, got 3 and 2")],
    "baddbmm": [ErrorInput(Sample((3, 2, 4), (3, 2, 3), (3, 4, 4)), RuntimeError, r"Incompatible matrix sizes")],
    "addr": [ErrorInput(Sample((3, 4), (3, 1), (4,)), RuntimeError, r"Expected 1-D argument vec1, but got 2-D")],
}

ADDMV_SAMPLES = [Sample((2,), (2, 3), (3,)), Sample((1,), (2, 3), (3,), beta=2, alpha=0.5),
                 Sample((), NonContig((2, 3)), (3,))]

EINSUM_SAMPLES = [
    Sample((2, 3), (3, 4), equation="ij,jk->ik"),
    Sample((2, 3, 4), (2, 4, 5), equation="bij,bjk->bik"),
    Sample((2, 3), (3, 4), equation="ij,jk"),
    Sample((5, 2, 3), (3, 4), equation="...ij,...jk->...ik"),
    Sample((2, 1, 3), (4, 3), equation="...j,...j->..."),
    Sample((3, 3), equation="ii->i"),
    Sample((3, 3), equation="ii"),
    Sample((3, 3, 4), equation="iij->ij"),
    Sample((3, 4), equation="ij->"),
    Sample((3, 4), equation="ij->ji"),
    Sample((3, 4), equation="ij->j"),
    Sample((3,), (4,), equation="i,j->ij"),
    Sample((1, 3), (4, 1), equation="ij,ij->ij"),
    Sample((2, 3), (1, 4), equation="ij,jk->ik"),
    Sample((3,), (3,), (3,), equation="i,i,i->"),
    Sample((2, 3), (4, 5), equation="bA,aB"),
    Sample((2, 3), (3, 4), (4, 5), equation="ij,jk,kl->il"),
    Sample((4, 32, 32), (4, 32, 32), equation="bij,bjk->bik"),
    Sample(NonContig((2, 3)), (3, 4), equation="i j , j k -> i k"),
    Sample((2, 0), (0, 3), equation="ij,jk->ik"),
]
EINSUM_ERRORS = [
    ErrorInput(Sample((2, 3), (4, 5), equation="ij,jk->ik"), RuntimeError, r"subscript j has size 4 for operand 1"),
    ErrorInput(Sample((2, 3), equation="ij,jk->ik"), RuntimeError, r"fewer operands"),
    ErrorInput(Sample((2, 3), (3,), equation="ij"), RuntimeError, r"more operands"),
    ErrorInput(Sample((2, 3), equation="ijk->i"), RuntimeError, r"number of subscripts in the equation \(3\) does not "
               r"match the number of dimensions \(2\)"),
    ErrorInput(Sample((3, 4), equation="ij->jj"), RuntimeError, r"output subscript j appears more than once"),
    ErrorInput(Sample((3, 4), equation="ij->k"), RuntimeError, r"output subscript k does not appear"),
    ErrorInput(Sample((3, 4), equation="ii->i"), RuntimeError, r"subscript i is repeated for operand 0"),
    ErrorInput(Sample((3, 3), equation="i1->i"), RuntimeError, r"invalid subscript given at index 1"),
    ErrorInput(Sample(T((2, 3)), T((3,), "float64"), equation="ij,j->i"), RuntimeError, r"expected scalar type Float"),
]

OPS = [
    OpInfo("matmul", samples=MATMUL_SAMPLES, dtypes=PRODUCT_DTYPES, gradgradcheck=True, errors=MATMUL_ERRORS),
    OpInfo("mm", samples=[Sample((2, 3), (3, 4)), Sample(NonContig((3, 3)), (3, 2)), Sample((2, 0), (0, 3)),
                          Sample((0, 2), (2, 3))],
           dtypes=PRODUCT_DTYPES, gradgradcheck=True, errors=[
               ErrorInput(Sample((2, 3), (4, 5)), RuntimeError, r"cannot be multiplied \(2x3 and 4x5\)"),
               ErrorInput(Sample((2, 3, 1), (3, 5)), RuntimeError, r"self must be a matrix.*\(2, 3, 1\)"),
               ErrorInput(Sample((3, 3), (3,)), RuntimeError, r"mat2 must be a matrix")]),
    OpInfo("bmm", samples=[Sample((4, 2, 3), (4, 3, 5)), Sample(NonContig((3, 2, 2)), (3, 2, 4)),
                           Sample((0, 2, 3), (0, 3, 4)), Sample((2, 2, 0), (2, 0, 3))],
           dtypes=PRODUCT_DTYPES, gradgradcheck=True, errors=[
               ErrorInput(Sample((2, 2, 3), (3, 3, 5)), RuntimeError, r"\(2, 2, 3\) and \(3, 3, 5\)"),
               ErrorInput(Sample((2, 3), (2, 3, 5)), RuntimeError, r"batch1 must be a 3D tensor")]),
    OpInfo("mv", samples=[Sample((2, 3), (3,)), Sample(NonContig((3, 2)), (2,)), Sample((2, 0), (0,))],
           dtypes=PRODUCT_DTYPES, errors=[
               ErrorInput(Sample((2, 3), (4,)), RuntimeError, r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
               ErrorInput(Sample((3,), (3,)), RuntimeError, r"vector \+ matrix @ vector expected")]),
    OpInfo("dot", samples=[Sample((3,), (3,)), Sample((0,), (0,))], dtypes=PRODUCT_DTYPES, errors=[
        ErrorInput(Sample((3,), (4,)), RuntimeError, r"inconsistent tensor size.*\(3,\) and \(4,\)"),
        ErrorInput(Sample((3, 1), (3,)), RuntimeError, r"1D tensors expected, but got 2D and 1D"),
        ErrorInput(Sample(T((3,)), T((3,), "float64")), RuntimeError, r"expected both vectors to have same dtype"),
        ErrorInput(Sample(T((3,), "bool"), T((3,), "bool")), NotImplementedError, r"\"dot\" not implemented")]),
    OpInfo("vdot", samples=[Sample((3,), (3,))], dtypes=FLOATS + ("int64",)),
    OpInfo("inner", samples=[Sample((3,), (3,)), Sample((2, 3), (4, 3)), Sample((2, 5, 3), (3,)), Sample((), (2, 3)),
                             Sample(NonContig((3, 2)), (4, 2))],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((2, 3), (4,)), RuntimeError, r"last dimension must match.*\[2, 3\] and \[4\]"),
               ErrorInput(Sample(T((3,)), T((3,), "float64")), RuntimeError, r"same dtype")]),
    OpInfo("outer", samples=[Sample((3,), (4,)), Sample((0,), (2,)), Sample(T((3,), "int64"), (2,)).named("promote")],
           dtypes=ALL_FLOATS + ("int64",), errors=[
               ErrorInput(Sample((3,), (4, 1)), RuntimeError, r"Expected 1-D argument vec2, but got 2-D")]),
    OpInfo("ger", samples=[Sample((3,), (4,))]),
    OpInfo("addmm", samples=[Sample((2, 4), (2, 3), (3, 4)), Sample((4,), (2, 3), (3, 4), beta=0.5, alpha=2),
                             Sample((1, 4), NonContig((2, 3)), (3, 4), alpha=-1), Sample((), (2, 3), (3, 4)),
                             Sample((2, 4), (2, 3), (3, 4), beta=0), Sample((2, 3), (2, 0), (0, 3))],
           dtypes=ALL_FLOATS + ("int64",), gradgradcheck=True, errors=ADD_PRODUCT_ERRORS["addmm"]),
    OpInfo("addmv", samples=ADDMV_SAMPLES, dtypes=FLOATS + ("int64",), errors=ADD_PRODUCT_ERRORS["addmv"]),
    # PyTorch rounds a half-precision GEMV once or twice depending on the matrix layout: allow two roundings.
    OpInfo("addmv[low precision]", fn=lambda lib, *a, **k: lib.addmv(*a, **k), samples=ADDMV_SAMPLES,
           dtypes=("float16", "bfloat16"), gradcheck=False, **LOW_PRECISION_TOLERANCE),
    OpInfo("addbmm", samples=[Sample((2, 4), (3, 2, 3), (3, 3, 4)), Sample((4,), (3, 2, 3), (3, 3, 4), beta=0.5, alpha=2),
                              Sample((2, 4), (0, 2, 3), (0, 3, 4))],
           dtypes=ALL_FLOATS + ("int64",), errors=ADD_PRODUCT_ERRORS["addbmm"]),
    OpInfo("baddbmm", samples=[Sample((3, 2, 4), (3, 2, 3), (3, 3, 4)),
                               Sample((2, 4), (3, 2, 3), (3, 3, 4), beta=-1, alpha=0.5),
                               Sample((3, 2, 4), NonContig((3, 2, 3)), (3, 3, 4))],
           dtypes=ALL_FLOATS + ("int64",), errors=ADD_PRODUCT_ERRORS["baddbmm"]),
    OpInfo("addr", samples=[Sample((3, 4), (3,), (4,)), Sample((4,), (3,), (4,), beta=2, alpha=3)],
           dtypes=ALL_FLOATS + ("int64",), errors=ADD_PRODUCT_ERRORS["addr"]),
    OpInfo("einsum", fn=_einsum, samples=EINSUM_SAMPLES, dtypes=FLOATS + ("int64",), gradgradcheck=True,
           errors=EINSUM_ERRORS),
    # PyTorch contracts pairwise through bmm/sum and rounds half precision between steps; ember rounds once.
    OpInfo("einsum[low precision]", fn=_einsum, samples=EINSUM_SAMPLES, dtypes=("float16", "bfloat16"),
           gradcheck=False, **LOW_PRECISION_TOLERANCE),
    OpInfo("tensordot", samples=[Sample((2, 3, 4), (3, 4, 5)), Sample((2, 3), (3, 5), dims=([1], [0])),
                                 Sample((2, 3, 4), (4, 3, 5), dims=([1, 2], [1, 0])), Sample((2, 3), (4,), dims=0),
                                 Sample((3, 2), (2, 3), dims=([-1], [-2])), Sample((2, 3), (3, 5), dims=1)],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((2, 3), (4, 5), dims=1), RuntimeError, r"contracted dimensions need to match, but first "
                          r"has size 3 in dim -1 and second has size 4 in dim 0"),
               ErrorInput(Sample((2, 3), (3, 5), dims=-1), RuntimeError, r"dims >= 0"),
               ErrorInput(Sample((2, 3), (3, 5), dims=([1], [0, 1])), RuntimeError, r"same length")]),
    OpInfo("kron", samples=[Sample((2, 3), (4, 5)), Sample((2,), (3,)), Sample((2, 3), (4,)), Sample((), (2,))],
           dtypes=FLOATS + ("int64", "bool")),
    OpInfo("linalg.multi_dot", fn=lambda lib, *ts: lib.linalg.multi_dot(list(ts)),
           samples=[Sample((2, 3), (3, 4)), Sample((2, 3), (3, 4), (4, 5)), Sample((3,), (3, 4), (4,)),
                    Sample((3,), (3, 4), (4, 2), (2, 6))],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((2, 3), (3, 4), (5, 2)), RuntimeError, r"tensors 1 and 2 with shapes \[3, 4\] and \[5, 2\]"),
               ErrorInput(Sample((2, 3)), RuntimeError, r"expected at least 2 tensors but got 1"),
               ErrorInput(Sample((2, 3), (2, 3, 4), (4, 2)), RuntimeError, r"tensor 1 must be 2D but got 3D")]),
    OpInfo("chain_matmul", fn=lambda lib, *ts: lib.chain_matmul(*ts),
           samples=[Sample((2, 3), (3, 4), (4, 5)), Sample((5, 2), (2, 5), (5, 1))]),
    OpInfo("linalg.vecdot", samples=[Sample((3, 4), (4,)), Sample((3, 4), (3, 1), dim=0), Sample(NonContig((2, 3)), (2, 3))],
           dtypes=FLOATS, errors=[
               ErrorInput(Sample(T((3, 4), "int64"), T((4,), "int64")), RuntimeError, r"floating point"),
               ErrorInput(Sample(T((3, 4)), T((4,), "float64")), RuntimeError, r"same dtype"),
               ErrorInput(Sample((3, 4), (5,)), RuntimeError, r"cannot be broadcast")]),
    # ------------------------------------------------------------------------------ linear, bilinear
    OpInfo("nn.functional.linear", dtypes=FLOATS + ("int64",), gradgradcheck=True,
           samples=[
               Sample((2, 3), (4, 3), (4,)).named("2d_bias"),
               Sample((2, 5, 3), (4, 3)).named("3d_no_bias"),
               Sample((2, 2, 2, 3), (4, 3), (4,)).named("4d_bias"),
               Sample((3,), (4, 3), (4,)).named("1d_input"),
               Sample((2, 3), (3,)).named("1d_weight"),
               Sample(NonContig((3, 4)), NonContig((5, 4)), (5,)).named("noncontig"),
               Sample((0, 3), (4, 3), (4,)).named("empty"),
               Sample((2, 3), (4, 3), (1,)).named("broadcast_bias"),
           ],
           errors=[
               ErrorInput(Sample((2, 3), (4, 5)), RuntimeError,
                          r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\).*\[2, 3\].*\[4, 5\]"),
               ErrorInput(Sample((2, 3), T((4, 3), "float64")), RuntimeError, r"same dtype.*float32.*float64"),
           ]),
    OpInfo("nn.functional.bilinear", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 3), (2, 4), (5, 3, 4), (5,)).named("2d_bias"),
               Sample((2, 2, 3), (2, 2, 4), (5, 3, 4)).named("3d_no_bias"),
               Sample(NonContig((2, 3)), (2, 4), (2, 3, 4), (2,)).named("noncontig"),
           ],
           errors=[
               ErrorInput(Sample((2, 3), (2, 4), (5, 4, 4)), RuntimeError, r"input1 size does not match weight size"),
               ErrorInput(Sample((2, 3), (3, 4), (5, 3, 4)), RuntimeError, r"batch dimensions do not match"),
           ]),
    OpInfo("vander", fn=_vander, dtypes=FLOATS, gradgradcheck=True, samples=VANDER_SAMPLES, errors=[
        ErrorInput(Sample((2, 2)), RuntimeError, r"x must be a one-dimensional tensor."),
        ErrorInput(Sample(()), RuntimeError, r"x must be a one-dimensional tensor."),
        ErrorInput(Sample((3,), -1), RuntimeError, r"N must be non-negative."),
        ErrorInput(Sample((3,), 2.0), TypeError, r"vander\(\): argument 'N' must be int, not float"),
    ]),
    OpInfo("vander_constant", fn=_vander, gradcheck=False, samples=VANDER_CONSTANT_SAMPLES),
    OpInfo("vander_values", fn=lambda lib, x, *a, **k: lib.vander(x, *a, **k), grad=False,
           dtypes=ALL_FLOATS + ("int64", "int32", "int8", "uint8", "bool"), samples=VANDER_SAMPLES + VANDER_CONSTANT_SAMPLES),
]

OPS += [low_precision(info) for info in OPS if info.name in ("nn.functional.linear", "nn.functional.bilinear")]
