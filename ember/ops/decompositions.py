"""Linear algebra beyond products: decompositions (cholesky, qr, svd, eigh), solves, inverses, determinants,
pseudo-inverses, ranks, condition numbers, matrix powers, cross products, and the vector and matrix norms (with
``renorm``, which caps them); most of them are ``torch.linalg``'s, and ``ember.linalg`` gathers them from here.

The rule for which linear-algebra file an op lives in: an op whose result is a sum of products of its operands'
entries (matmul, einsum, addmm, ``linalg.multi_dot``, ``linalg.vecdot``, ``nn.functional.linear`` ...) is in
``products.py``; what factors, inverts, solves or measures a matrix is here, with the matrix powers and cross
products that ``torch.linalg`` groups with them. Each op is registered once with its function, method and
``out=`` forms (see ``registry.py``); a dotted name (``"linalg.inv"``) puts the function in ``ember.linalg``,
and functions built from other ops (``pinv``, ``lstsq``, ``matrix_norm`` ...) are registered with
``register_function``. PyTorch's older spellings (``ember.inverse``, ``ember.cholesky``, ``ember.qr``,
``ember.svd`` ...) keep their own arguments and results.

Decompositions take float32/float64. Backward formulas follow PyTorch's (``FunctionsManual.cpp``) and are
written with ember ops, so they can be differentiated again.

>>> import ember
>>> ember.linalg.inv(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
tensor([[0.5000, 0.0000],
        [0.0000, 0.2500]])
>>> ember.linalg.norm(ember.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ember import dtypes as _dt
from ember import return_types as _rt
from ember.autograd.engine import Node
from ember.autograd.grad_mode import STATE
from ember.dtypes import opmath as _opmath
from ember.dtypes import rounded_like as _back
from ember.errors import broadcast_message, op_error
from ember.ops.arguments import require_tensor, wrap_dim
from ember.ops.arithmetic import Abs, Where
from ember.ops.math_functions import Sign
from ember.ops.products import Matmul, _check_float, _eye, _matrix_text, _same_dtype_rule
from ember.ops.reduce import Amax, Amin, Sum, _reduction_dims, _restore_reduced, _share_among_ties
from ember.ops.registry import (_torch_type_name, check_inplace_allowed, register_function, register_op, write_out,
                                write_result_into)
from ember.tensor import Tensor, from_array


class LinAlgError(RuntimeError):
    """A linear algebra routine failed on its input (a singular matrix, or one that is not positive-definite).

    It is a ``RuntimeError``, as ``torch.linalg.LinAlgError`` is.

    >>> try:
    ...     ember.linalg.inv(ember.zeros(2, 2))
    ... except ember.linalg.LinAlgError as e:
    ...     print(str(e).splitlines()[0])
    linalg.inv: The diagonal element 1 is zero, the inversion could not be completed because the input matrix is singular.
    """


# ------------------------------------------------------------------------------------------ helpers
@functools.lru_cache(maxsize=256)
def _triangle_mask(n, m, offset, lower, dtype):
    mask = np.tri(n, m, offset, dtype=dtype) if lower else 1 - np.tri(n, m, offset - 1, dtype=dtype)
    mask.flags.writeable = False
    return mask


def _tril(x, offset=0):
    n, m = x._data.shape[-2:]
    return x * from_array(_triangle_mask(n, m, offset, True, x._data.dtype))


def _triu(x, offset=0):
    n, m = x._data.shape[-2:]
    return x * from_array(_triangle_mask(n, m, offset, False, x._data.dtype))


def _diag_embed(x):
    """A batch of diagonal matrices with ``x`` (..., n) on the diagonal."""
    return x.unsqueeze(-1) * _eye(x._data.shape[-1], x)


# ------------------------------------------------------------------------------------------ checks
def _check_matrix_input(op_name, A, square=True, arg="A"):
    require_tensor(op_name, A, arg, 1)
    shape = A._data.shape
    if len(shape) < 2:
        raise op_error(RuntimeError, op_name, f"The input tensor {arg} must have at least 2 dimensions (got shape "
                       f"{tuple(shape)}).")
    if square and shape[-1] != shape[-2]:
        raise op_error(RuntimeError, op_name, f"{arg} must be batches of square matrices, but they are {shape[-2]} by "
                       f"{shape[-1]} matrices")
    _check_float(op_name, A)


def _first_zero_pivot(matrix):
    """1-based column of the first zero pivot of LU with partial pivoting (LAPACK getrf's ``info``), or 0."""
    m = np.array(matrix, dtype=matrix.dtype, copy=True)
    n = m.shape[0]
    first = 0
    for j in range(n):
        p = j + int(np.argmax(np.abs(m[j:, j])))
        if m[p, j] == 0:
            first = first or j + 1
            continue
        if p != j:
            m[[j, p]] = m[[p, j]]
        m[j + 1:, j] /= m[j, j]
        m[j + 1:, j + 1:] -= np.outer(m[j + 1:, j], m[j, j + 1:])
    return first


def _singular_batch(a):
    """(batch index, zero pivot) of the first singular matrix in ``a``; pivot is 0 if rounding hid it."""
    matrices = a.reshape((-1,) + a.shape[-2:])
    for b, matrix in enumerate(matrices):
        pivot = _first_zero_pivot(matrix)
        if pivot:
            return b, pivot
    return 0, 0


def _batch_prefix(a, b):
    return f"(Batch element {b}): " if a.ndim > 2 else ""


# ------------------------------------------------------------------------------------------ inv, solve
@register_op
class LinalgInv:
    """Inverse of a square matrix (or a batch of them); raises :class:`LinAlgError` if one is singular.
    Backward: ``-A^{-T} grad A^{-T}``.

    >>> ember.linalg.inv(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[-2.0000,  1.0000],
            [ 1.5000, -0.5000]])
    """

    name = "linalg_inv"
    kind = "opaque"
    promote = "none"
    save = ("output",)
    names = ("linalg.inv",)

    def function(A):
        _check_matrix_input("linalg.inv", A)
        return LinalgInv(A)

    def forward(a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            b, pivot = _singular_batch(a)
            where = f"The diagonal element {pivot} is zero, the" if pivot else "The"
            raise op_error(LinAlgError, "linalg.inv", f"{_batch_prefix(a, b)}{where} inversion could not be completed "
                           "because the input matrix is singular.") from None

    def backward(ctx, grad):
        inverse_t = ctx.output.mT
        return -Matmul(Matmul(inverse_t, grad), inverse_t)


@register_function(method=True, out=True)
def inverse(input):
    """Same as :func:`ember.linalg.inv`.

    >>> ember.inverse(ember.tensor([[4.0]]))
    tensor([[0.2500]])
    """
    return LinalgInv.function(input)


@register_function(names=("linalg.inv_ex",))
def inv_ex(A, *, check_errors=False, out=None):
    """:func:`inv` that reports singular matrices in ``info`` (the 1-based zero pivot, 0 if invertible)
    instead of raising, unless ``check_errors``.

    >>> ember.linalg.inv_ex(ember.zeros(2, 2)).info
    tensor(1, dtype=ember.int32)
    """
    _check_matrix_input("linalg.inv_ex", A)
    data = A._data
    matrices = data.reshape((-1,) + data.shape[-2:])
    info = np.array([_first_zero_pivot(m) for m in matrices], dtype=np.int32).reshape(data.shape[:-2])
    if check_errors and info.any():
        LinalgInv(A)
    if not info.any():
        return _rt.linalg_inv_ex((write_out(LinalgInv(A), out), from_array(info)))
    with np.errstate(all="ignore"):
        result = np.full(data.shape, np.inf, dtype=data.dtype)
        ok = info.reshape(-1) == 0
        flat = result.reshape(matrices.shape)
        if ok.any():
            flat[ok] = np.linalg.inv(matrices[ok])
    return _rt.linalg_inv_ex((write_out(from_array(result), out), from_array(info)))


@register_op
class LinalgSolve:
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``) for square ``A``; batch dims broadcast and ``B`` may
    be a (batch of) vector(s).

    >>> ember.linalg.solve(ember.tensor([[2.0, 0.0], [0.0, 4.0]]), ember.tensor([2.0, 2.0]))
    tensor([1.0000, 0.5000])
    """

    name = "linalg_solve"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    names = ("linalg.solve",)

    def function(A, B, *, left=True):
        op_name = "linalg.solve"
        _check_matrix_input(op_name, A)
        require_tensor(op_name, B, "B", 2)
        if A._dtype is not B._dtype:
            raise op_error(RuntimeError, op_name, f"Expected A and B to have the same dtype, but found A of type "
                           f"{_torch_type_name(A._dtype)} and B of type {_torch_type_name(B._dtype)} instead")
        a_shape, b_shape = A._data.shape, B._data.shape
        vector = len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and b_shape == a_shape[:-1])
        n = a_shape[-1]
        if not left:
            if vector:
                matrix_b = b_shape + (1,)
            else:
                matrix_b = b_shape
            if matrix_b[-1] != n:
                raise op_error(RuntimeError, op_name, f"Incompatible shapes of A and B for the equation XA = B "
                               f"({n}x{n} and {_matrix_text(matrix_b[-2:])})")
            return LinalgSolve.function(A.mT, B.mT, left=True).mT
        rows = b_shape[-1] if vector else b_shape[-2] if len(b_shape) >= 2 else None
        if rows != n:
            shown = f"{b_shape[-1]}x1" if vector else _matrix_text(b_shape[-2:])
            raise op_error(RuntimeError, op_name, f"Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                           f"{shown})")
        batch_b = b_shape[:-1] if vector else b_shape[:-2]
        try:
            np.broadcast_shapes(a_shape[:-2], batch_b)
        except ValueError:
            raise op_error(RuntimeError, op_name, f"the batch dimensions of A {tuple(a_shape)} and B {tuple(b_shape)} "
                           f"cannot be broadcast: {broadcast_message([a_shape[:-2], batch_b])}") from None
        return LinalgSolve(A, B, vector=vector)

    def forward(ctx, a, b, vector):
        ctx.vector = vector
        try:
            if vector:
                return np.linalg.solve(a, b[..., None])[..., 0]
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            index, _ = _singular_batch(a)
            raise op_error(LinAlgError, "torch.linalg.solve", f"{_batch_prefix(a, index)}The solver failed because the "
                           "input matrix is singular.") from None

    def backward(ctx, grad):
        a, _ = ctx.inputs
        x = ctx.output
        grad_b = LinalgSolve(a.mT, grad, vector=ctx.vector)
        if ctx.next_edges[0] is None:
            return None, grad_b
        if ctx.vector:
            grad_a = -(grad_b.unsqueeze(-1) * x.unsqueeze(-2))
        else:
            grad_a = -Matmul(grad_b, x.mT)
        return grad_a, grad_b


@register_function(names=("linalg.solve_ex",))
def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """:func:`solve` that reports a singular ``A`` in ``info`` (its first zero pivot, 0 if invertible) instead of
    raising, unless ``check_errors``.

    >>> ember.linalg.solve_ex(ember.eye(2), ember.ones(2)).info
    tensor(0, dtype=ember.int32)
    """
    try:
        result = LinalgSolve.function(A, B, left=left)
    except LinAlgError:
        if check_errors:
            raise
        data = A._data
        info = np.array([_first_zero_pivot(m) for m in data.reshape((-1,) + data.shape[-2:])], dtype=np.int32)
        with np.errstate(all="ignore"):
            # What LAPACK leaves for a singular system is unspecified; like inv_ex, report infinities.
            identity = from_array(np.broadcast_to(np.eye(data.shape[-1], dtype=data.dtype), data.shape))
            shape = LinalgSolve.function(identity, B, left=left)._data.shape
        return _rt.linalg_solve_ex((write_out(from_array(np.full(shape, np.inf, dtype=data.dtype)), out),
                                    from_array(info.reshape(data.shape[:-2]))))
    info = np.zeros(A._data.shape[:-2], dtype=np.int32)
    return _rt.linalg_solve_ex((write_out(result, out), from_array(info)))


@register_op
class LinalgSolveTriangular:
    """Solve ``A X = B`` (or ``X A = B``) for triangular ``A``: only its upper (``upper=True``) or lower triangle is
    read, and with ``unitriangular`` its diagonal is taken to be ones.

    >>> A = ember.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> ember.linalg.solve_triangular(A, ember.tensor([[3.0], [4.0]]), upper=True)
    tensor([[1.],
            [1.]])
    """

    name = "linalg_solve_triangular"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    names = ("linalg.solve_triangular",)

    def function(A, B, *, upper, left=True, unitriangular=False):
        op_name = "linalg.solve_triangular"
        _check_matrix_input(op_name, A)
        require_tensor(op_name, B, "B", 2)
        if B._data.ndim < 2:
            raise op_error(RuntimeError, op_name, f"The input tensor B must have at least 2 dimensions (got shape "
                           f"{tuple(B._data.shape)}).")
        if A._dtype is not B._dtype:
            raise op_error(RuntimeError, op_name, f"Expected A and B to have the same dtype, but found A of type "
                           f"{_torch_type_name(A._dtype)} and B of type {_torch_type_name(B._dtype)} instead")
        n = A._data.shape[-1]
        b_shape = B._data.shape
        if (b_shape[-2] if left else b_shape[-1]) != n:
            equation = "AX = B" if left else "XA = B"
            raise op_error(RuntimeError, op_name, f"Incompatible shapes of A and B for the equation {equation} ({n}x{n} and "
                           f"{_matrix_text(b_shape[-2:])})")
        return LinalgSolveTriangular(A, B, upper=upper, left=left, unitriangular=unitriangular)

    def forward(ctx, a, b, upper, left, unitriangular):
        ctx.upper, ctx.left, ctx.unitriangular = upper, left, unitriangular
        t = np.triu(a) if upper else np.tril(a)
        if unitriangular:
            index = np.arange(t.shape[-1])
            t[..., index, index] = 1
        if not left:
            return np.swapaxes(_triangular_solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2), not upper), -1, -2)
        return _triangular_solve(t, b, upper)

    def backward(ctx, grad):
        a, _ = ctx.inputs
        x = ctx.output
        upper, left, unit = ctx.upper, ctx.left, ctx.unitriangular
        grad_b = LinalgSolveTriangular(a.mT, grad, upper=not upper, left=left, unitriangular=unit)
        if ctx.next_edges[0] is None:
            return None, grad_b
        grad_a = -Matmul(grad_b, x.mT) if left else -Matmul(x.mT, grad_b)
        offset = 1 if unit else 0
        grad_a = _triu(grad_a, offset) if upper else _tril(grad_a, -offset)
        return grad_a, grad_b


def _triangular_solve(t, b, upper):
    try:
        return np.linalg.solve(t, b)
    except np.linalg.LinAlgError:
        pass
    # A zero on the diagonal: substitute row by row so infinities and NaNs come out as LAPACK's trsm gives them.
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    n = t.shape[-1]
    t = np.broadcast_to(t, batch + t.shape[-2:])
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(t, b))
    with np.errstate(all="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            known = slice(i + 1, n) if upper else slice(0, i)
            x[..., i, :] = (x[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, known], x[..., known, :])) / \
                t[..., i, i, None]
    return x


# ------------------------------------------------------------------------------------------ determinants
def _cofactor(a):
    """Cofactor matrix (gradient of det) that stays finite for singular matrices, from the SVD."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1) if n else s
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (sign[..., None, None] * (u * others[..., None, :]) @ vh).astype(a.dtype)


@register_op
class LinalgDet:
    """Determinant of a square matrix (or batch). Backward: ``grad * det * A^{-T}`` (the cofactor matrix when A
    is singular).

    >>> ember.linalg.det(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """

    name = "linalg_det"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    names = ("linalg.det", "det")
    method = True

    def function(A):
        _check_matrix_input("linalg.det", A)
        return LinalgDet(A)

    def forward(a):
        return np.linalg.det(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        det = ctx.output
        if np.all(det._data != 0):
            return (grad * det).unsqueeze(-1).unsqueeze(-1) * LinalgInv(a).mT
        # The inverse does not exist; this gradient is correct but treated as a constant by double backward.
        return grad.unsqueeze(-1).unsqueeze(-1) * from_array(_cofactor(a._data))


@register_op
class LinalgSlogdet:
    """``(sign, logabsdet)`` with ``det(A) = sign * exp(logabsdet)``, stable for tiny or huge determinants.
    Backward: ``grad_logabsdet * A^{-T}``.

    >>> ember.linalg.slogdet(ember.tensor([[-2.0, 0.0], [0.0, 3.0]]))
    ember.return_types.linalg_slogdet(
    sign=tensor(-1.),
    logabsdet=tensor(1.7918))
    """

    name = "linalg_slogdet"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)
    names = ("linalg.slogdet",)
    out = False  # a (sign, logabsdet) pair; out= is accepted and ignored

    def function(A, *, out=None):
        return _slogdet("linalg.slogdet", A, _rt.linalg_slogdet)

    def forward(a):
        sign, logabsdet = np.linalg.slogdet(a)
        return np.asarray(sign), np.asarray(logabsdet)

    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.inputs
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * LinalgInv(a).mT


def _slogdet(op_name, A, result_type):
    _check_matrix_input(op_name, A)
    return result_type(LinalgSlogdet(A))


@register_function(method=True)
def slogdet(input):
    """Same as :func:`ember.linalg.slogdet` (named ``slogdet``).

    >>> ember.slogdet(ember.eye(2)).logabsdet
    tensor(0.)
    """
    return _slogdet("slogdet", input, _rt.slogdet)


@register_function(method=True)
def logdet(input):
    """Log of the determinant: ``nan`` when it is negative, ``-inf`` when zero.

    >>> ember.logdet(ember.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(1.7918)
    """
    sign, logabsdet = _slogdet("logdet", input, tuple)
    if (sign._data < 0).any():
        return Where(from_array(sign._data >= 0), logabsdet, math.nan)
    return logabsdet


# ------------------------------------------------------------------------------------------ cholesky
def _not_positive_definite(op_name, a):
    matrices = a.reshape((-1,) + a.shape[-2:])
    for b, matrix in enumerate(matrices):
        n = matrix.shape[-1]
        for order in range(1, n + 1):
            try:
                np.linalg.cholesky(matrix[:order, :order])
            except np.linalg.LinAlgError:
                return op_error(LinAlgError, op_name, f"{_batch_prefix(a, b)}The factorization could not be completed "
                                f"because the input is not positive-definite (the leading minor of order {order} is "
                                "not positive-definite).")
    return op_error(LinAlgError, op_name, "The factorization could not be completed because the input is not "
                    "positive-definite.")


@register_op
class LinalgCholesky:
    """Cholesky factor of a symmetric positive-definite matrix: lower ``L`` with ``A = L L^T`` (only the lower
    triangle of A is read), or upper ``U`` with ``upper=True`` (``A = U^T U``).

    >>> ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """

    name = "linalg_cholesky"
    kind = "opaque"
    promote = "none"
    save = ("output",)
    names = ("linalg.cholesky",)

    def function(A, *, upper=False):
        _check_matrix_input("linalg.cholesky", A)
        return LinalgCholesky(A, upper=bool(upper))

    def forward(ctx, a, upper):
        ctx.upper = upper
        source = np.swapaxes(a, -1, -2) if upper else a  # the upper triangle of A is the lower of A^T
        try:
            factor = np.linalg.cholesky(source)
        except np.linalg.LinAlgError:
            raise _not_positive_definite("linalg.cholesky", source) from None
        return np.ascontiguousarray(np.swapaxes(factor, -1, -2)) if upper else factor

    def backward(ctx, grad):
        factor = ctx.output
        if ctx.upper:
            factor, grad = factor.mT, grad.mT
        # PyTorch's cholesky_backward: A^{-T}-conjugated Phi(L^T gL), symmetrized.
        phi = _tril(Matmul(factor.mT, grad))
        phi = 0.5 * (phi + _tril(phi, -1).mT)
        grad_a = LinalgSolveTriangular(factor.mT, phi, upper=True, left=True, unitriangular=False)
        return LinalgSolveTriangular(factor, grad_a, upper=False, left=False, unitriangular=False)


@register_function(method=True, out=True)
def cholesky(input, upper=False):
    """Cholesky factor (PyTorch's older ``torch.cholesky``; prefer :func:`ember.linalg.cholesky`).

    >>> ember.cholesky(ember.tensor([[4.0]]))
    tensor([[2.]])
    """
    return LinalgCholesky.function(input, upper=upper)


@register_function(names=("linalg.cholesky_ex",))
def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """:func:`linalg.cholesky` that returns ``info`` (the order of the first non positive-definite leading minor,
    0 on success) instead of raising, unless ``check_errors``.

    >>> ember.linalg.cholesky_ex(ember.eye(2)).info
    tensor(0, dtype=ember.int32)
    """
    _check_matrix_input("linalg.cholesky_ex", A)
    try:
        factor = LinalgCholesky(A, upper=bool(upper))
    except LinAlgError:
        if check_errors:
            raise
        data = A._data
        matrices = data.reshape((-1,) + data.shape[-2:])
        info = np.zeros(len(matrices), dtype=np.int32)
        factors = np.zeros_like(matrices)
        for b, matrix in enumerate(matrices):
            source = matrix.T if upper else matrix
            try:
                f = np.linalg.cholesky(source)
                factors[b] = f.T if upper else f
            except np.linalg.LinAlgError:
                info[b] = next(k for k in range(1, matrix.shape[-1] + 1)
                               if _cholesky_fails(source[:k, :k]))
        return _rt.linalg_cholesky_ex((write_out(from_array(factors.reshape(data.shape)), out),
                                       from_array(info.reshape(data.shape[:-2]))))
    info = np.zeros(A._data.shape[:-2], dtype=np.int32)
    return _rt.linalg_cholesky_ex((write_out(factor, out), from_array(info)))


def _cholesky_fails(matrix):
    try:
        np.linalg.cholesky(matrix)
        return False
    except np.linalg.LinAlgError:
        return True


# ------------------------------------------------------------------------------------------ qr
def _solve_by_r_transpose(x, r):
    """``x @ r^{-T}`` for upper-triangular ``r``."""
    return LinalgSolveTriangular(r.mT, x, upper=False, left=False, unitriangular=False)


def _qr_grad_tall(q, r, grad_q, grad_r):
    """QR backward for m >= n (as in TensorFlow's and PyTorch's formula)."""
    qdq = Matmul(q.mT, grad_q)
    qdq_skew = qdq - qdq.mT
    rdr = Matmul(r, grad_r.mT)
    rdr_skew = rdr - rdr.mT
    lower = _tril(qdq_skew + rdr_skew)
    grad_a = Matmul(q, grad_r + _solve_by_r_transpose(lower, r))
    return grad_a + _solve_by_r_transpose(grad_q - Matmul(q, qdq), r)


@register_op
class LinalgQr:
    """QR decomposition ``A = Q R`` by Householder reflections (LAPACK geqrf/orgqr): ``mode`` ``'reduced'`` (Q is
    m x k), ``'complete'`` (Q is m x m) or ``'r'`` (only R; Q is empty).

    >>> Q, R = ember.linalg.qr(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> R.abs()
    tensor([[5.0000, 2.2000],
            [0.0000, 0.4000]])
    """

    name = "linalg_qr"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")
    names = ("linalg.qr",)
    out = False  # a (Q, R) pair; out= is accepted and ignored

    def function(A, mode="reduced", *, out=None):
        op_name = "linalg.qr"
        if mode not in ("reduced", "complete", "r"):
            raise op_error(RuntimeError, op_name, f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
        _check_matrix_input(op_name, A, square=False)
        return _rt.linalg_qr(LinalgQr(A, mode=mode))

    def forward(ctx, a, mode):
        ctx.mode = mode
        if mode == "r":
            return np.empty((0,), dtype=a.dtype), np.linalg.qr(a, mode="r")
        q, r = np.linalg.qr(a, mode=mode)
        return q, r

    def backward(ctx, grad_q, grad_r):
        (a,) = ctx.inputs
        m, n = a._data.shape[-2:]
        if ctx.mode == "r":
            raise op_error(RuntimeError, "linalg.qr", "The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                           "through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise op_error(RuntimeError, "linalg.qr", "The QR decomposition is not differentiable when "
                           "mode='complete' and nrows > ncols.")
        q, r = ctx.outputs
        if m >= n:
            return _qr_grad_tall(q, r, grad_q, grad_r)
        # Wide A = [X | Y]: X = Q U is a square QR, and Y = Q V only feeds gradients through Q.
        y = a[..., :, m:]
        u, grad_u, grad_v = r[..., :, :m], grad_r[..., :, :m], grad_r[..., :, m:]
        grad_x = _qr_grad_tall(q, u, grad_q + Matmul(y, grad_v.mT), grad_u)
        grad_y = Matmul(q, grad_v)
        # Concatenate along the last dim with matmuls by [I 0] and [0 I], which double backward understands.
        return Matmul(grad_x, _eye(m, grad_x, n)) + Matmul(grad_y, _eye(n - m, grad_y, n, m))


@register_function(method=True)
def qr(input, some=True, *, out=None):
    """QR decomposition (PyTorch's older ``torch.qr``: ``some=False`` is ``mode='complete'``).

    >>> ember.qr(ember.eye(2)).R.abs()
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_matrix_input("qr", input, square=False)
    return _rt.qr(LinalgQr(input, mode="reduced" if some else "complete"))


# ------------------------------------------------------------------------------------------ svd, eigh
@register_op
class LinalgSvd:
    """Singular value decomposition ``A = U diag(S) Vh`` (LAPACK gesdd), singular values in descending order. The
    signs of singular vectors are not unique, so compare ``U * S @ Vh`` or ``|U|`` rather than ``U``.

    >>> U, S, Vh = ember.linalg.svd(ember.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> S
    tensor([3., 2.])
    """

    name = "linalg_svd"
    kind = "opaque"
    promote = "none"
    save = ("output",)
    names = ("linalg.svd",)
    out = False  # (U, S, Vh); out= is accepted and ignored

    def function(A, full_matrices=True, *, driver=None, out=None):
        _check_matrix_input("linalg.svd", A, square=False)
        return _rt.linalg_svd(LinalgSvd(A, full_matrices=bool(full_matrices)))

    def forward(ctx, a, full_matrices):
        ctx.full_matrices = full_matrices
        ctx.shape = a.shape[-2:]
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        return u, s, vh

    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.outputs
        return _svd_backward(u, s, vh, grad_u, grad_s, grad_vh, ctx.shape, ctx.full_matrices)


def _svd_backward(u, s, vh, grad_u, grad_s, grad_vh, shape, full_matrices):
    """PyTorch's svd_backward for real matrices (gradients of the gauge-dependent parts are projected out)."""
    m, n = shape
    k = min(m, n)
    if full_matrices and m != n:
        # Columns of U (rows of Vh) past k are any orthonormal completion: their gradients are ignored.
        u, grad_u = u[..., :, :k], grad_u[..., :, :k]
        vh, grad_vh = vh[..., :k, :], grad_vh[..., :k, :]
    s_squared = s * s
    gaps = s_squared.unsqueeze(-2) - s_squared.unsqueeze(-1) + _eye(k, s)
    uhgu = Matmul(u.mT, grad_u)
    uhgu = uhgu - uhgu.mT
    vhgv = Matmul(vh, grad_vh.mT)
    vhgv = vhgv - vhgv.mT
    inner = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / gaps + _diag_embed(grad_s)
    if m > n:
        grad_a = Matmul(u, inner)
        grad_u_scaled = grad_u / s.unsqueeze(-2)
        grad_a = grad_a + grad_u_scaled - Matmul(u, Matmul(u.mT, grad_u_scaled))
        return Matmul(grad_a, vh)
    if m < n:
        grad_a = Matmul(inner, vh)
        grad_vh_scaled = grad_vh / s.unsqueeze(-1)
        grad_a = grad_a + grad_vh_scaled - Matmul(Matmul(grad_vh_scaled, vh.mT), vh)
        return Matmul(u, grad_a)
    return Matmul(u, Matmul(inner, vh))


@register_function(method=True)
def svd(input, some=True, compute_uv=True, *, out=None):
    """PyTorch's older ``torch.svd``: returns ``V`` (not ``Vh``) and reduced factors unless ``some=False``.

    >>> ember.svd(ember.tensor([[2.0, 0.0], [0.0, 1.0]])).S
    tensor([2., 1.])
    """
    _check_matrix_input("svd", input, square=False)
    if not compute_uv:
        s = LinalgSvdvals.function(input)
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        zeros_u = from_array(np.zeros(batch + (m, m if not some else min(m, n)), dtype=input._data.dtype))
        zeros_v = from_array(np.zeros(batch + (n, n if not some else min(m, n)), dtype=input._data.dtype))
        return _rt.svd((zeros_u, s, zeros_v))
    u, s, vh = LinalgSvd(input, full_matrices=not some)
    return _rt.svd((u, s, vh.mT))


@register_op
class LinalgSvdvals:
    """Singular values of A in descending order. Backward: ``U diag(grad) Vh``.

    >>> ember.linalg.svdvals(ember.tensor([[0.0, 2.0], [-3.0, 0.0]]))
    tensor([3., 2.])
    """

    name = "linalg_svdvals"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)
    names = ("linalg.svdvals",)

    def function(A, *, driver=None):
        _check_matrix_input("linalg.svdvals", A, square=False)
        return LinalgSvdvals(A)

    def forward(ctx, a):
        if isinstance(ctx, Node):  # a graph is being recorded: keep the vectors the gradient needs
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            ctx.u, ctx.vh = u, vh
            return s
        return np.linalg.svd(a, compute_uv=False)

    def backward(ctx, grad):
        if STATE.enabled:  # create_graph: the vectors must themselves be differentiable functions of A
            u, _, vh = LinalgSvd(ctx.inputs[0], full_matrices=False)
        else:
            u, vh = from_array(ctx.u), from_array(ctx.vh)
        return Matmul(u * grad.unsqueeze(-2), vh)


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise op_error(RuntimeError, "linalg.eigh", f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@register_op
class LinalgEigh:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix (LAPACK syevd); only the lower
    (``UPLO='L'``) or upper triangle is read. Eigenvector signs are not unique.

    >>> ember.linalg.eigh(ember.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """

    name = "linalg_eigh"
    kind = "opaque"
    promote = "none"
    save = ("output",)
    names = ("linalg.eigh",)
    out = False  # (eigenvalues, eigenvectors); out= is accepted and ignored

    def function(A, UPLO="L", *, out=None):
        _check_uplo(UPLO)
        _check_matrix_input("linalg.eigh", A)
        return _rt.linalg_eigh(LinalgEigh(A, UPLO=UPLO))

    def forward(a, UPLO):
        values, vectors = np.linalg.eigh(a, UPLO=UPLO)
        return values, vectors

    def backward(ctx, grad_values, grad_vectors):
        values, vectors = ctx.outputs
        n = values._data.shape[-1]
        vhgv = Matmul(vectors.mT, grad_vectors)
        vhgv = 0.5 * (vhgv - vhgv.mT)
        gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + _eye(n, values)
        inner = vhgv / gaps + _diag_embed(grad_values)
        return Matmul(vectors, Matmul(inner, vectors.mT))


@register_op
class LinalgEigvalsh:
    """Eigenvalues (ascending) of a symmetric matrix. Backward: ``V diag(grad) V^T``.

    >>> ember.linalg.eigvalsh(ember.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """

    name = "linalg_eigvalsh"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)
    names = ("linalg.eigvalsh",)

    def function(A, UPLO="L"):
        _check_uplo(UPLO)
        _check_matrix_input("linalg.eigvalsh", A)
        return LinalgEigvalsh(A, UPLO=UPLO)

    def forward(ctx, a, UPLO):
        ctx.uplo = UPLO
        if isinstance(ctx, Node):
            values, ctx.vectors = np.linalg.eigh(a, UPLO=UPLO)
            return values
        return np.linalg.eigvalsh(a, UPLO=UPLO)

    def backward(ctx, grad):
        if STATE.enabled:
            _, vectors = LinalgEigh(ctx.inputs[0], UPLO=ctx.uplo)
        else:
            vectors = from_array(ctx.vectors)
        return Matmul(vectors * grad.unsqueeze(-2), vectors.mT)


# ------------------------------------------------------------------------------------------ pinv, rank, power
def _tolerances(A, atol, rtol, op_name):
    """PyTorch's rule: rtol defaults to eps * max(m, n), or to 0 when only a positive atol is given."""
    m, n = A._data.shape[-2:]
    eps = float(np.finfo(A._data.dtype).eps)
    default_rtol = eps * max(m, n)
    atol_value = 0.0 if atol is None else atol
    if rtol is None:
        rtol_value = default_rtol if atol is None else None
    else:
        rtol_value = rtol
    for name, value in (("atol", atol_value), ("rtol", rtol_value)):
        if value is not None and not isinstance(value, (int, float, Tensor)):
            raise op_error(TypeError, op_name, f"{name} must be a float or a Tensor, got {type(value).__name__}")
    if rtol_value is None:
        atol_array = atol_value._data if isinstance(atol_value, Tensor) else np.asarray(atol_value)
        rtol_value = from_array(np.where(atol_array > 0, 0.0, default_rtol).astype(A._data.dtype))
    return atol_value, rtol_value


def _as_array(value, dtype):
    return value._data.astype(dtype) if isinstance(value, Tensor) else np.asarray(value, dtype=dtype)


@register_function(names=("linalg.pinv",), out=True)
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """Moore-Penrose pseudo-inverse from the SVD (or the eigen-decomposition when ``hermitian``); singular values
    at or below ``max(atol, rtol * largest)`` count as zero. Differentiable where the singular values are distinct.

    >>> ember.linalg.pinv(ember.tensor([[1.0, 0.0], [0.0, 0.0]]))
    tensor([[1., 0.],
            [0., 0.]])
    """
    op_name = "linalg.pinv"
    if rcond is not None:
        if rtol is not None:
            raise op_error(RuntimeError, op_name, "pass either rcond or rtol, not both")
        rtol, atol = rcond, 0.0
    _check_matrix_input(op_name, A, square=hermitian)
    m, n = A._data.shape[-2:]
    if A._data.size == 0:
        return from_array(np.zeros(A._data.shape[:-2] + (n, m), dtype=A._data.dtype))
    atol, rtol = _tolerances(A, atol, rtol, op_name)
    dtype = A._data.dtype
    if hermitian:
        values, vectors = LinalgEigh(A, UPLO="L")
        magnitude = values.abs()
        largest = np.max(magnitude._data, axis=-1, keepdims=True)
        cutoff = np.maximum(_as_array(atol, dtype)[..., None], _as_array(rtol, dtype)[..., None] * largest)
        keep = magnitude._data > cutoff
        inverse_values = Where(from_array(keep), 1 / Where(from_array(keep), values, 1.0), 0.0)
        return Matmul(vectors * inverse_values.unsqueeze(-2), vectors.mT)
    u, s, vh = LinalgSvd(A, full_matrices=False)
    largest = s._data[..., :1]
    cutoff = np.maximum(_as_array(atol, dtype)[..., None], _as_array(rtol, dtype)[..., None] * largest)
    keep = from_array(s._data > cutoff)
    inverse_s = Where(keep, 1 / Where(keep, s, 1.0), 0.0)
    return Matmul(vh.mT * inverse_s.unsqueeze(-2), u.mT)


@register_function(method=True)
def pinverse(input, rcond=1e-15):
    """Pseudo-inverse with relative cutoff ``rcond`` (PyTorch's ``torch.pinverse``).

    >>> ember.pinverse(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return pinv(input, rtol=rcond, atol=0.0)


@register_function(names=("linalg.matrix_rank",), out=True)
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """Number of singular values above ``max(atol, rtol * largest)`` (int64; not differentiable).

    >>> ember.linalg.matrix_rank(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    op_name = "linalg.matrix_rank"
    if tol is not None:
        atol, rtol = tol, 0.0
    _check_matrix_input(op_name, A, square=hermitian)
    data = A._data
    if data.size == 0:
        return from_array(np.zeros(data.shape[:-2], dtype=np.int64))
    atol, rtol = _tolerances(A, atol, rtol, op_name)
    values = np.abs(np.linalg.eigvalsh(data)) if hermitian else np.linalg.svd(data, compute_uv=False)
    largest = np.max(values, axis=-1, keepdims=True)
    cutoff = np.maximum(_as_array(atol, data.dtype)[..., None], _as_array(rtol, data.dtype)[..., None] * largest)
    return from_array(np.asarray(np.sum(values > cutoff, axis=-1), dtype=np.int64))


@register_function(names=("linalg.matrix_power", "matrix_power"), method=True, out=True)
def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (by repeated squaring); ``n = 0`` gives the identity and negative
    ``n`` powers of the inverse. Integer matrices are allowed for ``n >= 0``.

    >>> ember.linalg.matrix_power(ember.tensor([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    op_name = "linalg.matrix_power"
    require_tensor(op_name, A, "A", 1)
    shape = A._data.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        if len(shape) < 2:
            raise op_error(RuntimeError, op_name, f"The input tensor A must have at least 2 dimensions (got shape "
                           f"{tuple(shape)}).")
        raise op_error(RuntimeError, op_name, f"A must be batches of square matrices, but they are {shape[-2]} by "
                       f"{shape[-1]} matrices")
    if not isinstance(n, int) or isinstance(n, bool):
        raise op_error(TypeError, op_name, f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        identity = from_array(np.broadcast_to(np.eye(shape[-1], dtype=A._data.dtype), shape))
        return A * 0 + identity if A._requires_grad else from_array(np.array(identity._data))
    if n < 0:
        A = LinalgInv.function(A)
        n = -n
    result = None
    power = A
    while n:
        if n & 1:
            result = power if result is None else Matmul(result, power)
        n >>= 1
        if n:
            power = Matmul(power, power)
    return result


# ------------------------------------------------------------------------------------------ lstsq
_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@register_function(names=("linalg.lstsq",))
def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (the minimum-norm one when A is rank-deficient), with PyTorch's
    CPU outputs per ``driver`` (default ``'gelsy'``): ``residuals`` (squared, when m > n and A has full rank,
    except for gelsy), ``rank`` (not for gels) and ``singular_values`` (gelsd, gelss).

    >>> ember.linalg.lstsq(ember.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), ember.tensor([[1.0], [2.0], [3.0]])).solution
    tensor([[1.],
            [2.]])
    """
    op_name = "torch.linalg.lstsq"
    require_tensor(op_name, A, "A", 1)
    require_tensor(op_name, B, "B", 2)
    if driver is None:
        driver = "gelsy"
    if driver not in _LSTSQ_DRIVERS:
        raise op_error(RuntimeError, op_name, "parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._dtype is not B._dtype:
        raise op_error(RuntimeError, op_name, f"Expected input and other to have the same dtype, but got input's dtype "
                       f"{_torch_type_name(A._dtype)} and other's dtype {_torch_type_name(B._dtype)}")
    _check_matrix_input(op_name, A, square=False, arg="input")
    a_shape, b_shape = A._data.shape, B._data.shape
    if len(b_shape) < 1 or not (len(a_shape) >= len(b_shape) and len(a_shape) - len(b_shape) <= 1):
        raise op_error(RuntimeError, op_name, f"input.dim() must be greater or equal to other.dim() and (input.dim() - "
                       f"other.dim()) <= 1 (shapes {tuple(a_shape)} and {tuple(b_shape)})")
    vector = len(b_shape) == len(a_shape) - 1
    rows = b_shape[-1] if vector else b_shape[-2]
    if rows != a_shape[-2]:
        which = "other.size(-1)" if vector else "other.size(-2)"
        raise op_error(RuntimeError, op_name, f"input.size(-2) should match {which} (shapes {tuple(a_shape)} and "
                       f"{tuple(b_shape)})")
    matrix_b = B.unsqueeze(-1) if vector else B
    try:
        batch = np.broadcast_shapes(a_shape[:-2], matrix_b._data.shape[:-2])
    except ValueError:
        raise op_error(RuntimeError, op_name, broadcast_message([a_shape[:-2], matrix_b._data.shape[:-2]])) from None
    m, n = a_shape[-2:]
    nrhs = matrix_b._data.shape[-1]
    dtype = A._data.dtype
    a_all = np.broadcast_to(A._data, batch + (m, n)).reshape((-1, m, n))
    b_all = np.broadcast_to(matrix_b._data, batch + (m, nrhs)).reshape((-1, m, nrhs))
    cutoff = rcond if rcond is not None else float(np.finfo(dtype).eps) * max(m, n)
    solutions, ranks, singular = [], [], []
    for a_item, b_item in zip(a_all, b_all):
        x, _, rank, s = np.linalg.lstsq(a_item, b_item, rcond=cutoff)
        solutions.append(x)
        ranks.append(rank)
        singular.append(s)
    k = min(m, n)
    solution = np.stack(solutions).reshape(batch + (n, nrhs)).astype(dtype) if solutions else np.zeros(
        batch + (n, nrhs), dtype)
    rank = np.asarray(ranks, dtype=np.int64).reshape(batch)
    empty = np.zeros((0,), dtype=dtype)
    tracked = STATE.enabled and (A._requires_grad or B._requires_grad)
    if tracked:
        # The solution is pinv(A) @ B; composing it keeps the gradient PyTorch defines for lstsq.
        solution_tensor = Matmul(pinv(A, rtol=cutoff, atol=0.0), matrix_b)
    else:
        solution_tensor = from_array(solution)
    if driver != "gelsy" and m > n and (driver == "gels" or np.all(rank == n)):
        if tracked:
            difference = Matmul(A, solution_tensor) - matrix_b
            residuals = (difference * difference).sum(-2)
        else:
            difference = np.matmul(np.broadcast_to(A._data, batch + (m, n)), solution) - np.broadcast_to(
                matrix_b._data, batch + (m, nrhs))
            residuals = from_array(np.sum(difference * difference, axis=-2).astype(dtype))
    else:
        # Empty, but part of the graph as in PyTorch (its residuals output always requires grad).
        residuals = solution_tensor.reshape(-1)[:0] if tracked else from_array(empty)
    rank_out = np.zeros((0,), dtype=np.int64) if driver == "gels" else rank
    singular_out = (np.stack(singular).reshape(batch + (k,)).astype(dtype) if singular else np.zeros(batch + (k,), dtype)
                    ) if driver in ("gelsd", "gelss") else empty
    if vector:
        solution_tensor = solution_tensor.squeeze(-1)
    return _rt.linalg_lstsq((solution_tensor, residuals, from_array(rank_out), from_array(singular_out)))


# ------------------------------------------------------------------------------------------ cross
@register_op
class LinalgCross:
    """Cross product of 3-vectors along ``dim`` (default the last); other dims broadcast.

    >>> ember.linalg.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """

    name = "linalg_cross"
    kind = "opaque"
    save = ("inputs",)
    promote = staticmethod(_same_dtype_rule("linalg.cross", "linalg_cross", lambda a, b: f"expected scalar type "
                                            f"{_torch_type_name(a)} but found {_torch_type_name(b)}"))
    names = ("linalg.cross",)

    def function(input, other, *, dim=-1):
        return _cross("linalg.cross", input, other, dim)

    def forward(ctx, a, b, dim):
        ctx.dim = dim
        return np.cross(a, b, axis=dim)

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = LinalgCross(b, grad, dim=ctx.dim) if ctx.next_edges[0] is not None else None
        grad_b = LinalgCross(grad, a, dim=ctx.dim) if ctx.next_edges[1] is not None else None
        return grad_a, grad_b


def _cross(op_name, input, other, dim):
    require_tensor(op_name, input, "input", 1)
    require_tensor(op_name, other, "other", 2)
    a_shape, b_shape = input._data.shape, other._data.shape
    if len(a_shape) != len(b_shape):
        raise op_error(RuntimeError, op_name, f"linalg.cross: inputs must have the same number of dimensions, got "
                       f"shapes {tuple(a_shape)} and {tuple(b_shape)}")
    d = wrap_dim(dim, len(a_shape), op_name)
    if a_shape[d] != 3 or b_shape[d] != 3:
        raise op_error(RuntimeError, op_name, f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                       f"{a_shape[d]} and {b_shape[d]} (shapes {tuple(a_shape)} and {tuple(b_shape)})")
    try:
        np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        raise op_error(RuntimeError, op_name, broadcast_message([a_shape, b_shape])) from None
    return LinalgCross(input, other, dim=d)


@register_function(method=True)
def cross(input, other, dim=None, *, out=None):
    """Cross product along ``dim``; without ``dim``, the first dim of size 3 (deprecated in PyTorch: pass
    ``dim`` or use :func:`ember.linalg.cross`).

    >>> ember.cross(ember.tensor([[1.0, 0.0, 0.0]]), ember.tensor([[0.0, 0.0, 1.0]]), dim=1)
    tensor([[ 0., -1.,  0.]])
    """
    if dim is None:
        require_tensor("cross", input, "input", 1)
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the dim "
                      "explicitly or simply use torch.linalg.cross. The default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        sizes = input._data.shape
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise op_error(RuntimeError, "cross", f"no dimension of size 3 in input (shape {tuple(sizes)})")
    return write_out(_cross("cross", input, other, dim), out)


# ------------------------------------------------------------------------------------------ norms
@register_op
class VectorNorm:
    """The ``ord``-norm of ``x`` viewed as a vector over ``dim`` (all dims by default): ``sum(|x|**ord)**(1/ord)``,
    with ``inf``/``-inf`` the max/min of ``|x|`` and ``0`` the count of nonzeros.

    >>> ember.linalg.vector_norm(ember.tensor([3.0, -4.0]))
    tensor(5.)
    >>> ember.linalg.vector_norm(ember.tensor([[3.0, -4.0]]), ord=float("inf"), dim=1)
    tensor([4.])
    """

    name = "linalg_vector_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs", "output")
    names = ("linalg.vector_norm",)

    def function(x, ord=2, dim=None, keepdim=False, *, dtype=None):
        op_name = "linalg.vector_norm"
        if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
            raise op_error(TypeError, op_name, f"argument 'ord' must be Number, not {type(ord).__name__}")
        x = _norm_dtype(x, dtype, op_name)
        dims = _reduction_dims(x, dim, op_name)
        if ord < 0 or ord == math.inf:
            shape = x._data.shape
            if any(shape[d] == 0 for d in dims):
                shown = "inf" if ord == math.inf else ("-inf" if ord == -math.inf else f"{ord:g}")
                raise op_error(RuntimeError, op_name, f"linalg.vector_norm cannot compute the {shown} norm on an empty "
                               "tensor because the operation does not have an identity")
        return VectorNorm(x, ord=float(ord), dims=dims, keepdim=keepdim)

    def forward(ctx, a, ord, dims, keepdim):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        magnitude = np.abs(_opmath(a))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if ord == 2 and not keepdim and len(dims) == a.ndim and magnitude.flags.c_contiguous:
                flat = magnitude.reshape(-1)
                result = np.sqrt(np.dot(flat, flat))
            elif ord == 2:
                result = np.sqrt(np.sum(magnitude * magnitude, axis=dims, keepdims=keepdim))
            elif ord == 1:
                result = np.sum(magnitude, axis=dims, keepdims=keepdim)
            elif ord == math.inf:
                result = np.max(magnitude, axis=dims, keepdims=keepdim, initial=0)
            elif ord == -math.inf:
                result = np.min(magnitude, axis=dims, keepdims=keepdim)
            elif ord == 0:
                result = np.sum(magnitude != 0, axis=dims, keepdims=keepdim).astype(magnitude.dtype)
            else:
                result = np.sum(magnitude ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)
        return _back(np.asarray(result), a)

    def backward(ctx, grad):
        (x,) = ctx.inputs
        p = ctx.ord
        shape = x._data.shape
        grad = _restore_reduced(grad, shape, ctx.dims, ctx.keepdim)
        norm = _restore_reduced(ctx.output, shape, ctx.dims, ctx.keepdim)
        if p == 0:
            return x * 0
        if p == 1:
            return grad * Sign(x)
        if p == 2:
            return x * Where(norm == 0, 0, grad / norm)
        if p == math.inf or p == -math.inf:
            return _share_among_ties(grad, Abs(x), norm, ctx.dims, True, False) * Sign(x)
        magnitude = Abs(x)
        if p < 1:
            scaled = Where(x == 0, 0, Sign(x) * magnitude ** (p - 1))
            return scaled * grad * norm ** (1 - p)
        scaled = Sign(x) * magnitude ** (p - 1) if p < 2 else x * magnitude ** (p - 2)
        return scaled * Where(norm == 0, 0, grad / norm ** (p - 1))


def _norm_dtype(input, dtype, op_name):
    if input._dtype.category < 2:
        raise op_error(RuntimeError, op_name, "Expected a floating point or complex tensor as input. Got "
                       f"{_torch_type_name(input._dtype)}")
    if dtype is None:
        return input
    dt = _dt.to_dtype(dtype)
    if dt.category < 2:
        raise op_error(RuntimeError, op_name, f"dtype should be floating point or complex, but got {_torch_type_name(dt)}")
    if _dt.promote_types(input._dtype, dt) is not dt:
        raise op_error(RuntimeError, op_name, f"the dtype of the input ({_torch_type_name(input._dtype)}) should be "
                       f"convertible without narrowing to the specified dtype ({_torch_type_name(dt)})")
    return input.to(dt)


@register_function(names=("linalg.matrix_norm",), out=True)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``, ``1``, ``-1``, ``2``, ``-2``.

    >>> ember.linalg.matrix_norm(ember.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    op_name = "linalg.matrix_norm"
    A = _norm_dtype(A, dtype, op_name)
    ndim = A._data.ndim
    if ndim < 2:
        raise op_error(RuntimeError, op_name, "The input tensor A must have at least 2 dimensions.")
    if isinstance(dim, int) or len(dim) != 2:
        shown = dim if isinstance(dim, int) else " ".join(str(d) for d in dim)
        raise op_error(RuntimeError, op_name, f"dim must be a 2-tuple. Got {shown}")
    dim0, dim1 = (wrap_dim(d, ndim, op_name) for d in dim)
    if dim0 == dim1:
        raise op_error(RuntimeError, op_name, f"dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return VectorNorm(A, ord=2.0, dims=(dim0, dim1), keepdim=keepdim)
    if ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, str):
        if abs(ord) == math.inf:
            dim0, dim1 = dim1, dim0
        if not keepdim and dim0 < dim1:
            dim1 -= 1
        summed = VectorNorm(A, ord=1.0, dims=(dim0,), keepdim=keepdim)
        return (Amax if ord > 0 else Amin)(summed, dims=(dim1,), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.permute(*[d for d in range(ndim) if d not in (dim0, dim1)], dim0, dim1)
        singular = LinalgSvdvals.function(moved)
        if ord == "nuc":
            result = Sum(singular, dims=(ndim - 2,), keepdim=False, dtype=singular._dtype)
        else:
            result = (Amax if ord == 2 else Amin)(singular, dims=(ndim - 2,), keepdim=False)
        if keepdim:
            for d in sorted((dim0, dim1)):
                result = result.unsqueeze(d)
        return result
    raise op_error(RuntimeError, op_name, f"Order {ord} not supported.")


def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


@register_function(method=_norm_method)
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The ``p``-norm: ``'fro'`` (2-norm of all elements or of ``dim``), ``'nuc'``, or a number (vector norm).

    >>> ember.norm(ember.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor(5.)
    >>> ember.norm(ember.tensor([[3.0, 4.0], [1.0, 1.0]]), p=1, dim=1)
    tensor([7., 2.])
    """
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return VectorNorm.function(input, 2, dims, keepdim, dtype=dtype, out=out)
        if dims is None:
            dims = list(range(input._data.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return VectorNorm.function(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype, out=out)


@register_function(names=("linalg.norm",), out=True)
def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector or matrix norm, chosen as ``torch.linalg.norm`` does: with ``dim`` an int (or ``A`` 1-D) a vector
    norm, with ``dim`` a pair (or ``A`` 2-D and ``ord`` given) a matrix norm, and with neither ``ord`` nor ``dim``
    the 2-norm of all elements.

    >>> ember.linalg.norm(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return VectorNorm.function(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise op_error(RuntimeError, "linalg.norm", f"If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return VectorNorm.function(A, 2, None, keepdim, dtype=dtype)
    ndim = A.dim()
    if ndim == 1:
        return VectorNorm.function(A, ord, None, keepdim, dtype=dtype)
    if ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise op_error(RuntimeError, "linalg.norm", f"If dim is not specified but ord is, the input must be 1D or 2D. Got "
                   f"{ndim}D.")


def _renorm_(self, p, dim, maxnorm):
    """In-place :func:`ember.renorm`: writes the result into ``self`` (which it returns).

    >>> x = ember.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> x.renorm_(2, 0, 1.0) is x, x[0]
    (True, tensor([0.6000, 0.8000]))
    """
    check_inplace_allowed(self, "renorm_")
    # from a copy of self: the norm's and the product's backward read the values the write below replaces
    write_result_into(self, renorm(self.clone(), p, dim, maxnorm), "renorm_")
    return self


@register_function(method=True, inplace=_renorm_, out=True)
def renorm(input, p, dim, maxnorm):
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm``, scaled down to norm ``maxnorm``
    (by ``maxnorm / (norm + 1e-7)``, as PyTorch); the other slices unchanged. float16/bfloat16 norms in float32.

    >>> ember.renorm(ember.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    p, maxnorm = float(p), float(maxnorm)
    if not p > 0:
        raise op_error(RuntimeError, "renorm", "non-positive-norm not supported")
    if maxnorm < 0:
        raise op_error(RuntimeError, "renorm", f"expected maxnorm to be >= 0 but got {maxnorm:g}")
    ndim = input._data.ndim
    if ndim < 2:
        raise op_error(RuntimeError, "renorm", f"input needs at least 2 dimensions, got {ndim} dimensions")
    d = wrap_dim(dim, ndim, "renorm")
    half = input._dtype in (_dt.float16, _dt.bfloat16)
    norm = VectorNorm.function(input, p, tuple(i for i in range(ndim) if i != d), True,
                               dtype=_dt.float32 if half else None)
    factor = Where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * (factor.to(input._dtype) if half else factor)


@register_function(names=("linalg.cond",), out=True)
def cond(A, p=None):
    """Condition number of A in the ``p`` norm: the ratio of the largest to the smallest singular value for
    ``p`` in (None, 2, -2), else ``norm(A, p) * norm(inv(A), p)`` ('fro', 'nuc', 1, -1, inf, -inf).

    >>> ember.linalg.cond(ember.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor(2.)
    """
    op_name = "linalg.cond"
    _check_matrix_input(op_name, A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        singular = LinalgSvdvals.function(A)
        largest, smallest = singular[..., 0], singular[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    return matrix_norm(A, p) * matrix_norm(LinalgInv.function(A), p)


@register_function(names=("linalg.diagonal",))
def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix in A (``torch.linalg.diagonal``: ``ember.diagonal`` with matrix defaults).

    >>> ember.linalg.diagonal(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 4.])
    """
    from ember.ops.movement import Diagonal
    return Diagonal.function(A, offset=offset, dim1=dim1, dim2=dim2)
