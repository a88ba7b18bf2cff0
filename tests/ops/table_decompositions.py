"""Op table entries: decompositions, solves, inverses, determinants, ranks, cross products and norms
(ember/ops/decompositions.py, ember/linalg.py).

Decompositions run on well-conditioned matrices built inside ``fn`` (``A + n*I``, ``A @ A^T + n*I``,
``A + A^T``), so gradients flow through the construction and gradcheck sees a smooth function. Where the
result is only defined up to sign (singular vectors, eigenvectors) ``fn`` returns gauge-invariant
quantities: squared entries and the reconstruction.
"""

import numpy as np
import torch

from ember.ops.decompositions import VectorNorm, matrix_norm

from tests.ops.harness import ALL_FLOATS, FLOATS, T, ErrorInput, NonContig, OpInfo, Raw, Sample, inplace, low_precision

LINALG_TOLERANCE = dict(rtol=1e-4, atol=1e-5)
ZERO_ROWS = np.array([[0.0, 0.0], [3.0, 0.0]])
LINALG = {"vector_norm": VectorNorm.function, "matrix_norm": matrix_norm}


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


def _lstsq(lib, a, b, driver=None):
    result = lib.linalg.lstsq(a, b, driver=driver)
    return result.solution, result.residuals, result.rank, result.singular_values


def _linalg(name):
    """torch.linalg.<name>, and for ember the decompositions family's function that ember.linalg re-exports."""
    return lambda lib, *a, **k: (getattr(lib.linalg, name) if lib is torch else LINALG[name])(*a, **k)


OPS = [
    # ------------------------------------------------------------------------------ inverses, solves, determinants
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
    # ------------------------------------------------------------------------------ cross products
    OpInfo("linalg.cross", samples=[Sample((4, 3), (4, 3)), Sample((4, 3), (1, 3)), Sample((3, 4), (3, 4), dim=0),
                                    Sample((2, 3, 5), (2, 3, 5), dim=-2)],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((4, 4), (4, 4)), RuntimeError, r"dimension -1 must have length 3. Got 4 and 4"),
               ErrorInput(Sample((2, 3), (3,)), RuntimeError, r"same number of dimensions"),
               ErrorInput(Sample((3, 3), (3, 3), dim=5), IndexError, r"Dimension out of range")]),
    OpInfo("cross", fn=lambda lib, a, b, dim: lib.cross(a, b, dim=dim),
           samples=[Sample((4, 3), (4, 3), dim=1), Sample((3, 2), (3, 2), dim=0)]),
    # ------------------------------------------------------------------------------ norms
    OpInfo("linalg.norm", samples=[Sample((3, 4)), Sample((3, 4), ord=1), Sample((3, 4), dim=1), Sample((5,), ord=3),
                                   Sample((3, 4), ord="nuc"), Sample((2, 3, 4), dim=(0, 2), keepdim=True)],
           dtypes=FLOATS, **LINALG_TOLERANCE),
    OpInfo("norm", samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((3, 4), 2, 1), Sample((3, 4), 3.5, 1),
                            Sample((3, 4), 0.5, Raw((0, 1))), Sample((3, 4), float("inf"), 1), Sample((3, 4), -float("inf")),
                            Sample((3, 4), 0, 1), Sample((3, 4), -1, 0), Sample((3, 4), "fro", Raw((0, 1)), True),
                            Sample((3, 4), "nuc"), Sample((2, 3, 4), "nuc", Raw((0, 2))), Sample(()), Sample((0, 3)),
                            Sample(NonContig((3, 4)), 2, 0), Sample((3, 4), p=2, dim=1, keepdim=True)],
           dtypes=ALL_FLOATS, gradgradcheck=True, skip={"bfloat16": "rounding", "float16": "rounding"},
           errors=[ErrorInput(Sample((3,)), RuntimeError, r"Expected a floating point", dtype="int64"),
                   ErrorInput(Sample((0, 3), float("inf")), RuntimeError, r"cannot compute the inf norm"),
                   ErrorInput(Sample((3, 4), "nuc", 1), RuntimeError, r"dim must be a 2-tuple"),
                   ErrorInput(Sample((3, 4), "bad"), RuntimeError, r"not supported")]),
    OpInfo("norm_half", fn=lambda lib, x, *a: lib.norm(x, *a), samples=[Sample((3, 4)), Sample((3, 4), 1)],
           dtypes=("float16", "bfloat16"), gradcheck=False),
    OpInfo("norm_zeros", fn=lambda lib, x, *a: lib.norm(x, *a),
           samples=[Sample(ZERO_ROWS, p, 1) for p in (2, 3, 0.5, -1, 1, 0, float("inf"))], dtypes=("float64",),
           grad=False),
    OpInfo("Tensor.norm", fn=lambda lib, x, *a, **k: x.norm(*a, **k),
           samples=[Sample((3, 4)), Sample((3, 4), dim=1), Sample((3, 4), p=1)], dtypes=FLOATS),
    OpInfo("linalg.vector_norm", fn=_linalg("vector_norm"), samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((3, 4), 3, 1),
                                          Sample((2, 3, 4), float("inf"), Raw((0, 2)), True), Sample((0, 3), 0),
                                          Sample((0, 3), float("inf"), 1)],
           dtypes=FLOATS, errors=[ErrorInput(Sample((3,), "fro"), TypeError, r"must be Number")]),
    OpInfo("linalg.vector_norm_dtype", fn=lambda lib, x, *a: _linalg("vector_norm")(lib, x, *a, dtype=lib.float64),
           samples=[Sample((3, 4)), Sample((3, 4), 1)], dtypes=("float16", "float32")),
    OpInfo("linalg.matrix_norm", fn=_linalg("matrix_norm"), samples=[Sample((3, 4)), Sample((3, 4), 1), Sample((3, 4), -1),
                                          Sample((3, 4), float("inf")), Sample((2, 3, 4), -float("inf"), Raw((0, 2))),
                                          Sample((2, 3, 4), 1, Raw((2, 0)), True), Sample((3, 4), 2), Sample((3, 4), -2),
                                          Sample((2, 3, 4), "nuc", keepdim=True)],
           dtypes=FLOATS,
           errors=[ErrorInput(Sample((3,)), RuntimeError, r"at least 2 dimensions"),
                   ErrorInput(Sample((3, 4), 3), RuntimeError, r"Order 3 not supported"),
                   ErrorInput(Sample((3, 4), dim=(1, 1)), RuntimeError, r"dims must be different")]),
    OpInfo("renorm", dtypes=FLOATS, gradgradcheck=True, samples=[
        Sample((3, 4), 2, 0, 1.0), Sample((3, 4), 2, 1, 2.5).named("some_rows_kept"),
        Sample((2, 3, 4), 1, 1, 1.5).named("p1_3d"), Sample((3, 4), float("inf"), 0, 1.0).named("p_inf"),
        Sample((3, 4), 3, -1, 2.0).named("p3"), Sample((3, 4), 0.5, 0, 4.0).named("p_half"),
        Sample(NonContig((3, 4)), 2, 0, 1.0).named("noncontig"), Sample((0, 3), 2, 0, 1.0).named("empty"),
        Sample((3, 4), 2, 0, 0.0).named("maxnorm0"), Sample((3, 4), 2, 0, 100).named("int_maxnorm_none_scaled"),
    ], errors=[
        ErrorInput(Sample((3, 4), 0, 0, 1.0), RuntimeError, r"renorm: non-positive-norm not supported"),
        ErrorInput(Sample((3, 4), -1, 0, 1.0), RuntimeError, r"renorm: non-positive-norm not supported"),
        ErrorInput(Sample((3, 4), 2, 0, -1), RuntimeError, r"renorm: expected maxnorm to be >= 0 but got -1"),
        ErrorInput(Sample((3, 4), 2, 0, -0.5), RuntimeError, r"renorm: expected maxnorm to be >= 0 but got -0.5"),
        ErrorInput(Sample((3,), 2, 0, 1.0), RuntimeError, r"renorm: input needs at least 2 dimensions, got 1 dimensions"),
        ErrorInput(Sample((3, 4), 2, 2, 1.0), IndexError, r"Dimension out of range"),
        ErrorInput(Sample((3, 4), 2, 0, 1.0), RuntimeError, r"linalg.vector_norm: Expected a floating point or complex "
                   r"tensor as input. Got Long", dtype="int64"),
    ]),
    OpInfo("Tensor.renorm", fn=lambda lib, x, *a: x.renorm(*a), samples=[Sample((3, 4), 2, 1, 1.0)]),
    OpInfo("Tensor.renorm_", fn=inplace("renorm_"), dtypes=FLOATS, gradgradcheck=True,
           samples=[Sample((3, 4), 2, 0, 1.0), Sample((2, 3, 2), 1, -1, 2.0)]),
    OpInfo("renorm_out", fn=lambda lib, x, *a: lib.renorm(x, *a, out=lib.empty(0, dtype=x.dtype)), grad=False,
           samples=[Sample((3, 4), 2, 0, 1.0)]),
]

OPS += [low_precision(info) for info in OPS if info.name in ("renorm",)]
