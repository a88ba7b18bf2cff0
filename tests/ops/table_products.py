"""Op table entries: matrix products and ``linalg`` (ember/ops/decompositions.py, ember/linalg.py).

Decompositions run on well-conditioned matrices built inside ``fn`` (``A + n*I``, ``A @ A^T + n*I``,
``A + A^T``), so gradients flow through the construction and gradcheck sees a smooth function. Where the
result is only defined up to sign (singular vectors, eigenvectors) ``fn`` returns gauge-invariant
quantities: squared entries and the reconstruction.
"""

import numpy as np

from tests.ops.harness import ALL_FLOATS, FLOATS, T, ErrorInput, NonContig, OpInfo, Sample

PRODUCT_DTYPES = ALL_FLOATS + ("int64", "int32", "uint8")
LINALG_TOLERANCE = dict(rtol=1e-4, atol=1e-5)
LOW_PRECISION_TOLERANCE = dict(rtol=1.6e-2, atol=2e-3)


def _conditioned(lib, a):
    """``a + n*I``: entries of ``a`` are in [-1, 1], so the matrix is diagonally dominant and well-conditioned."""
    n = a.shape[-1]
    return a + n * lib.eye(n, dtype=a.dtype)


def _positive_definite(lib, a):
    n = a.shape[-1]
    return a @ a.mT + n * lib.eye(n, dtype=a.dtype)


def _svd_invariants(lib, a, full_matrices=True):
    U, S, Vh = lib.linalg.svd(a, full_matrices=full_matrices)
    k = min(a.shape[-2:])
    u, vh = U[..., :, :k], Vh[..., :k, :]
    return S, u * u, vh * vh, (u * S.unsqueeze(-2)) @ vh


def _eigh_invariants(lib, a, UPLO="L"):
    values, vectors = lib.linalg.eigh(a + a.mT, UPLO=UPLO)
    return values, vectors * vectors, (vectors * values.unsqueeze(-2)) @ vectors.mT


def _einsum(lib, *operands, equation):
    return lib.einsum(equation, *operands)


def _lstsq(lib, a, b, driver=None):
    result = lib.linalg.lstsq(a, b, driver=driver)
    return result.solution, result.residuals, result.rank, result.singular_values


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
    OpInfo("linalg.cross", samples=[Sample((4, 3), (4, 3)), Sample((4, 3), (1, 3)), Sample((3, 4), (3, 4), dim=0),
                                    Sample((2, 3, 5), (2, 3, 5), dim=-2)],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((4, 4), (4, 4)), RuntimeError, r"dimension -1 must have length 3. Got 4 and 4"),
               ErrorInput(Sample((2, 3), (3,)), RuntimeError, r"same number of dimensions"),
               ErrorInput(Sample((3, 3), (3, 3), dim=5), IndexError, r"Dimension out of range")]),
    OpInfo("cross", fn=lambda lib, a, b, dim: lib.cross(a, b, dim=dim),
           samples=[Sample((4, 3), (4, 3), dim=1), Sample((3, 2), (3, 2), dim=0)]),
    OpInfo("linalg.multi_dot", fn=lambda lib, *ts: lib.linalg.multi_dot(list(ts)),
           samples=[Sample((2, 3), (3, 4)), Sample((2, 3), (3, 4), (4, 5)), Sample((3,), (3, 4), (4,)),
                    Sample((3,), (3, 4), (4, 2), (2, 6))],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((2, 3), (3, 4), (5, 2)), RuntimeError, r"tensors 1 and 2 with shapes \[3, 4\] and \[5, 2\]"),
               ErrorInput(Sample((2, 3)), RuntimeError, r"expected at least 2 tensors but got 1"),
               ErrorInput(Sample((2, 3), (2, 3, 4), (4, 2)), RuntimeError, r"tensor 1 must be 2D but got 3D")]),
    OpInfo("chain_matmul", fn=lambda lib, *ts: lib.chain_matmul(*ts),
           samples=[Sample((2, 3), (3, 4), (4, 5)), Sample((5, 2), (2, 5), (5, 1))]),

    # ------------------------------------------------------------------------------ linalg
    OpInfo("linalg.inv", fn=lambda lib, a, shift=True: lib.linalg.inv(_conditioned(lib, a) if shift else a),
           samples=[Sample((3, 3)), Sample((2, 4, 4)), Sample(NonContig((3, 3))), Sample((1, 1)), Sample((0, 0)),
                    Sample((2, 0, 0))],
           dtypes=FLOATS, low=-1, high=1, gradgradcheck=True, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample(np.zeros((3, 3), np.float32), shift=False), RuntimeError,
                          r"linalg.inv: The diagonal element 1 is zero, the inversion could not be completed"),
               ErrorInput(Sample(np.array([[[1, 0], [0, 1]], [[1, 2], [2, 4]]], np.float32), shift=False),
                          RuntimeError, r"\(Batch element 1\): The diagonal element 2 is zero"),
               ErrorInput(Sample((2, 3), shift=False), RuntimeError, r"square matrices, but they are 2 by 3"),
               ErrorInput(Sample((3,), shift=False), RuntimeError, r"at least 2 dimensions"),
               ErrorInput(Sample(T((2, 2), "int64"), shift=False), RuntimeError, r"Expected a floating point.*Got Long"),
               ErrorInput(Sample(T((2, 2), "float16"), shift=False), RuntimeError, r"Half")]),
    OpInfo("linalg.solve", fn=lambda lib, a, b, shift=True, left=True: lib.linalg.solve(
               _conditioned(lib, a) if shift else a, b, left=left),
           samples=[Sample((3, 3), (3,)), Sample((3, 3), (3, 2)), Sample((2, 3, 3), (2, 3)), Sample((2, 3, 3), (3, 4)),
                    Sample((3, 3), (2, 3, 4)), Sample((3, 3), (4, 3), left=False), Sample(NonContig((3, 3)), (3, 1)),
                    Sample((4, 1, 2, 2), (3, 2, 1))],
           dtypes=FLOATS, low=-1, high=1, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3, 3), (4,)), RuntimeError, r"Incompatible shapes of A and B for the equation AX = B "
                          r"\(3x3 and 4x1\)"),
               ErrorInput(Sample((3, 3), (3, 4), left=False), RuntimeError, r"XA = B \(3x3 and 3x4\)"),
               ErrorInput(Sample(np.zeros((3, 3), np.float32), (3,), shift=False), RuntimeError,
                          r"The solver failed because the input matrix is singular"),
               ErrorInput(Sample(T((3, 3)), T((3,), "float64")), RuntimeError, r"same dtype")]),
    OpInfo("linalg.solve_triangular",
           fn=lambda lib, a, b, upper, left=True, unitriangular=False: lib.linalg.solve_triangular(
               _conditioned(lib, a), b, upper=upper, left=left, unitriangular=unitriangular),
           samples=[Sample((3, 3), (3, 2), upper=True), Sample((3, 3), (3, 2), upper=False),
                    Sample((2, 3, 3), (3, 4), upper=True, left=True, unitriangular=True),
                    Sample((3, 3), (2, 3), upper=False, left=False)],
           dtypes=FLOATS, low=-1, high=1, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3, 3), (2, 2), upper=True), RuntimeError, r"Incompatible shapes")]),
    OpInfo("linalg.det", fn=lambda lib, a, shift=True: lib.linalg.det(_conditioned(lib, a) if shift else a),
           samples=[Sample((3, 3)), Sample((2, 4, 4)), Sample(NonContig((3, 3))), Sample((1, 1)), Sample((0, 0))],
           dtypes=FLOATS, low=-1, high=1, gradgradcheck=True, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((2, 3), shift=False), RuntimeError, r"square matrices, but they are 2 by 3"),
               ErrorInput(Sample(T((2, 2), "int64"), shift=False), RuntimeError, r"Got Long")]),
    OpInfo("det", fn=lambda lib, a: lib.det(_conditioned(lib, a)), samples=[Sample((3, 3))], low=-1, high=1),
    OpInfo("linalg.slogdet", fn=lambda lib, a, negate=False: lib.linalg.slogdet(
               -_conditioned(lib, a) if negate else _conditioned(lib, a)),
           samples=[Sample((3, 3)), Sample((2, 3, 3), negate=True), Sample((4, 4), negate=True)],
           dtypes=FLOATS, low=-1, high=1, **LINALG_TOLERANCE),
    OpInfo("logdet", fn=lambda lib, a, negate=False: lib.logdet(-_conditioned(lib, a) if negate else _conditioned(lib, a)),
           samples=[Sample((3, 3)), Sample((2, 2, 2))], dtypes=FLOATS, low=-1, high=1, **LINALG_TOLERANCE),
    OpInfo("logdet[negative det]", fn=lambda lib, a: lib.logdet(-_conditioned(lib, a)), samples=[Sample((3, 3))],
           dtypes=FLOATS, low=-1, high=1, grad=False),
    OpInfo("linalg.cholesky", fn=lambda lib, a, upper=False, spd=True: lib.linalg.cholesky(
               _positive_definite(lib, a) if spd else a, upper=upper),
           samples=[Sample((3, 3)), Sample((2, 4, 4)), Sample((3, 3), upper=True), Sample(NonContig((3, 3)))],
           dtypes=FLOATS, low=-1, high=1, gradgradcheck=True, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample(-np.eye(3, dtype=np.float32), spd=False), RuntimeError,
                          r"not positive-definite \(the leading minor of order 1 is not positive-definite\)"),
               ErrorInput(Sample(np.array([[[1, 0], [0, 1]], [[1, 2], [2, 1]]], np.float32), spd=False), RuntimeError,
                          r"\(Batch element 1\).*leading minor of order 2"),
               ErrorInput(Sample((2, 3), spd=False), RuntimeError, r"square matrices")]),
    OpInfo("cholesky", fn=lambda lib, a: lib.cholesky(_positive_definite(lib, a)), samples=[Sample((3, 3))],
           low=-1, high=1, **LINALG_TOLERANCE),
    OpInfo("linalg.qr", fn=lambda lib, a, mode="reduced": tuple(lib.linalg.qr(a, mode=mode)),
           samples=[Sample((4, 3)), Sample((3, 3)), Sample((3, 5)), Sample((2, 4, 3)), Sample((3, 3), mode="complete"),
                    Sample((2, 3, 4), mode="complete"), Sample(NonContig((4, 3)))],
           dtypes=FLOATS, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3, 3), mode="x"), RuntimeError, r"unrecognized mode 'x'"),
               ErrorInput(Sample((3,)), RuntimeError, r"at least 2 dimensions")]),
    OpInfo("linalg.qr[mode=r]", fn=lambda lib, a: lib.linalg.qr(a, mode="r").R,
           samples=[Sample((4, 3)), Sample((2, 3, 5))], dtypes=FLOATS, grad=False, **LINALG_TOLERANCE),
    OpInfo("qr", fn=lambda lib, a, some=True: tuple(lib.qr(a, some=some)), samples=[Sample((4, 3)), Sample((3, 3), some=False)],
           **LINALG_TOLERANCE),
    OpInfo("linalg.svd", fn=_svd_invariants,
           samples=[Sample((4, 3)), Sample((3, 4)), Sample((3, 3)), Sample((2, 4, 3), full_matrices=False),
                    Sample((3, 5), full_matrices=False), Sample(NonContig((3, 4)))],
           dtypes=FLOATS, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3,)), RuntimeError, r"at least 2 dimensions")]),
    OpInfo("svd", fn=lambda lib, a, some=True: (lambda r: (r.S, (r.U * r.S.unsqueeze(-2)) @ r.V.mT))(lib.svd(a, some=some)),
           samples=[Sample((4, 3)), Sample((3, 3))], **LINALG_TOLERANCE),
    OpInfo("linalg.svdvals", samples=[Sample((4, 3)), Sample((2, 3, 5)), Sample(NonContig((3, 3)))], dtypes=FLOATS,
           **LINALG_TOLERANCE),
    OpInfo("linalg.eigh", fn=lambda lib, a, UPLO="L", symmetrize=True: _eigh_invariants(lib, a, UPLO) if symmetrize
           else lib.linalg.eigh(a, UPLO=UPLO), samples=[Sample((3, 3)), Sample((2, 4, 4)), Sample((3, 3), UPLO="U")],
           dtypes=FLOATS, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3, 3), UPLO="X"), RuntimeError, r"Expected UPLO argument to be 'L' or 'U', but got X"),
               ErrorInput(Sample((2, 3), symmetrize=False), RuntimeError, r"square matrices, but they are 2 by 3")]),
    OpInfo("linalg.eigvalsh", fn=lambda lib, a, UPLO="L": lib.linalg.eigvalsh(a + a.mT, UPLO=UPLO),
           samples=[Sample((3, 3)), Sample((2, 4, 4), UPLO="U")], dtypes=FLOATS, **LINALG_TOLERANCE),
    OpInfo("linalg.pinv", fn=lambda lib, a, hermitian=False: lib.linalg.pinv(a + a.mT if hermitian else a,
                                                                             hermitian=hermitian),
           samples=[Sample((4, 3)), Sample((3, 5)), Sample((2, 3, 3)), Sample((3, 3), hermitian=True)],
           dtypes=FLOATS, **LINALG_TOLERANCE),
    OpInfo("pinverse", samples=[Sample((4, 3))], **LINALG_TOLERANCE),
    OpInfo("linalg.matrix_rank",
           samples=[Sample((4, 3)), Sample((2, 3, 3)), Sample((4, 3), atol=1.0), Sample((4, 3), rtol=0.5),
                    Sample((3, 3), hermitian=True), Sample((0, 3))],
           dtypes=FLOATS, grad=False),
    OpInfo("linalg.matrix_power", fn=lambda lib, a, n, shift=True: lib.linalg.matrix_power(
               _conditioned(lib, a) if shift else a, n),
           samples=[Sample((3, 3), n=3), Sample((3, 3), n=0), Sample((3, 3), n=1), Sample((2, 3, 3), n=2),
                    Sample((3, 3), n=-2), Sample((3, 3), n=6)],
           dtypes=FLOATS, low=-1, high=1, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((3, 4), n=2, shift=False), RuntimeError, r"square matrices, but they are 3 by 4")]),
    OpInfo("matrix_power", fn=lambda lib, a, n: lib.matrix_power(a, n),
           samples=[Sample((3, 3), n=2), Sample((2, 2, 2), n=5)], dtypes=("int64", "float16"), low=-1, high=1),
    OpInfo("linalg.lstsq", fn=_lstsq,
           samples=[Sample((5, 3), (5, 2)), Sample((5, 3), (5, 2), driver="gels"), Sample((5, 3), (5,)),
                    Sample((2, 5, 3), (2, 5, 2)), Sample((3, 3), (3, 1))],
           dtypes=FLOATS, **LINALG_TOLERANCE, errors=[
               ErrorInput(Sample((5, 3), (4, 2)), RuntimeError, r"input.size\(-2\) should match other.size\(-2\)"),
               ErrorInput(Sample((5, 3), (5, 2), driver="foo"), RuntimeError, r"should be one of"),
               ErrorInput(Sample(T((5, 3)), T((5, 2), "float64")), RuntimeError, r"same dtype")]),
    # singular_values depends on A but has no gradient (as in PyTorch), so finite differences cannot agree.
    OpInfo("linalg.lstsq[svd drivers]", fn=_lstsq, samples=[
        Sample((5, 3), (5, 2), driver="gelsd"), Sample((5, 3), (5, 2), driver="gelss"), Sample((5, 3), (5,), driver="gelsd"),
        Sample((2, 4, 2), (2, 4, 1), driver="gelsd")], dtypes=FLOATS, gradcheck=False, **LINALG_TOLERANCE),
    OpInfo("linalg.vecdot", samples=[Sample((3, 4), (4,)), Sample((3, 4), (3, 1), dim=0), Sample(NonContig((2, 3)), (2, 3))],
           dtypes=FLOATS, errors=[
               ErrorInput(Sample(T((3, 4), "int64"), T((4,), "int64")), RuntimeError, r"floating point"),
               ErrorInput(Sample(T((3, 4)), T((4,), "float64")), RuntimeError, r"same dtype"),
               ErrorInput(Sample((3, 4), (5,)), RuntimeError, r"cannot be broadcast")]),
    OpInfo("linalg.norm", samples=[Sample((3, 4)), Sample((3, 4), ord=1), Sample((3, 4), dim=1), Sample((5,), ord=3),
                                   Sample((3, 4), ord="nuc"), Sample((2, 3, 4), dim=(0, 2), keepdim=True)],
           dtypes=FLOATS, **LINALG_TOLERANCE),
]
