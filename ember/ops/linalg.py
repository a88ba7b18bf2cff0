"""Linear algebra: matrix products (matmul, mm, bmm, einsum, tensordot ...) and the decompositions and
solvers that ``ember.linalg`` exposes (inv, solve, det, cholesky, qr, svd, eigh, pinv, lstsq ...).

Products keep PyTorch's rules: operands must share a dtype (no promotion), integer matrices are allowed,
float16/bfloat16 are multiplied in float32 and rounded once. Decompositions take float32/float64.
Backward formulas follow PyTorch's (``FunctionsManual.cpp``) and are written with ember ops, so they can be
differentiated again.

>>> import ember
>>> a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (a @ a).sum().backward(); a.grad
tensor([[ 7., 11.],
        [ 9., 13.]])
>>> ember.linalg.inv(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
tensor([[0.5000, 0.0000],
        [0.0000, 0.2500]])
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
from ember.errors import broadcast_message, op_error
from ember.ops.arguments import wrap_dim
from ember.ops.registry import _torch_type_name, apply_inplace, register_op
from ember.tensor import Tensor, from_array

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addbmm",
           "baddbmm", "addr", "einsum", "tensordot", "kron", "cross", "chain_matmul", "det", "inverse", "logdet",
           "slogdet", "cholesky", "qr", "svd", "pinverse", "matrix_power"]

_HALF = np.dtype(np.float16)
_BFLOAT16 = _dt.bfloat16.numpy_dtype
_LOW_PRECISION = frozenset((_HALF, _BFLOAT16))  # a set: `in` on a tuple of dtypes costs ~0.25 us
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                 "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool"}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


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
def _require_tensor(op_name, value, arg_name, position):
    if not isinstance(value, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument '{arg_name}' (position {position}) must be Tensor, "
                       f"not {type(value).__name__}")


def _same_dtype_rule(op_name, bool_kernel, mismatch_message):
    """A ``promote`` rule for products: PyTorch multiplies only tensors of one dtype, and never bool."""
    def rule(args):
        first = args[0]._dtype
        for other in args[1:]:
            if isinstance(other, Tensor) and other._dtype is not first:
                raise op_error(RuntimeError, op_name, mismatch_message(first, other._dtype))
        if first is _dt.bool:
            raise op_error(NotImplementedError, op_name, f'"{bool_kernel}" not implemented for \'Bool\'')
        return None
    # Read by the dispatcher: tensors that all have one of these dtypes pass this rule unchanged.
    rule.same_dtype_passes = tuple(d for d in _dt.ALL_DTYPES if d is not _dt.bool)
    return rule


def _mm_mismatch(a, b):
    return f"expected m1 and m2 to have the same dtype, but got: {_C_TYPE_NAMES[a.name]} != {_C_TYPE_NAMES[b.name]}"


def _maybe_out(result, out):
    if out is None:
        return result
    from ember.ops.registry import write_out as copy_to_out
    return copy_to_out(result, out)


def _to_float32(a):
    return a.astype(np.float32) if a.dtype in _LOW_PRECISION else a


def _np_matmul(a, b):
    """``a @ b`` on arrays, one BLAS call where possible: a batch of matrices times one matrix is folded."""
    dtype = a.dtype
    if dtype in _LOW_PRECISION:  # PyTorch accumulates half-precision products in float32
        return np.asarray(_np_matmul(a.astype(np.float32), b.astype(np.float32))).astype(dtype)
    a_ndim, b_ndim = a.ndim, b.ndim
    if a_ndim == 2 and b_ndim == 2:
        # The same GEMM as np.matmul, without the ufunc machinery (about 1 us per call on small matrices).
        return a.dot(b)
    lead = ()
    if a_ndim > 2 and b_ndim > 2 and a.flags.c_contiguous and b.size == b.shape[-2] * b.shape[-1] \
            and b.shape[-2] * b.shape[-1]:
        # b's batch dims are all 1 (broadcast over a's batch): it is one matrix, foldable as below.
        lead = (1,) * (b_ndim - a_ndim)
        b = b.reshape(b.shape[-2:])
        b_ndim = 2
    if a_ndim > 2 and b_ndim <= 2 and a.flags.c_contiguous:
        # numpy runs a stack of small GEMMs here; one (batch*n, k) @ (k, m) GEMM is faster and needs no copy.
        folded = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
        folded = folded.dot(b) if b_ndim == 2 else np.matmul(folded, b)
        return folded.reshape(lead + a.shape[:-1] + b.shape[1:])
    return np.matmul(a, b)


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


@functools.lru_cache(maxsize=256)
def _eye_array(n, m, offset, dtype):
    eye = np.eye(n, m, offset, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _eye(n, like, m=None, offset=0):
    return from_array(_eye_array(n, n if m is None else m, offset, like._data.dtype))


def _diag_embed(x):
    """A batch of diagonal matrices with ``x`` (..., n) on the diagonal."""
    return x.unsqueeze(-1) * _eye(x._data.shape[-1], x)


def _fold(t):
    """``t`` as one matrix: its leading dims folded into the rows (explicit sizes, so empty tensors work)."""
    shape = t._data.shape
    return t.reshape(math.prod(shape[:-1]), shape[-1])


# ------------------------------------------------------------------------------------------ matmul
@register_op
class Matmul:
    """``np.matmul`` with PyTorch's cases (vector-vector, matrix-vector, batched with broadcasting)."""

    name = "matmul"
    kind = "matmul"
    plain_matmul = True
    promote = staticmethod(_same_dtype_rule("matmul", "addmm_impl_cpu_", _mm_mismatch))
    save = ("inputs",)

    def forward(a, b):
        if a.ndim == 2 and b.ndim == 2 and a.dtype not in _LOW_PRECISION:
            return a.dot(b)
        return _np_matmul(a, b)

    def backward(ctx, grad):
        a, b = ctx.inputs
        need_a, need_b = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
        a_ndim, b_ndim = a._data.ndim, b._data.ndim
        grad_a = grad_b = None
        if a_ndim == 1 and b_ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if b_ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
            if need_a:
                grad_a = grad.unsqueeze(-1) * b
            if need_b:
                grad_b = Matmul(grad.reshape(-1), _fold(a))
            return grad_a, grad_b
        if a_ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
            if need_a:
                # One GEMV over the folded batch, as PyTorch does (fp16 sums then round once, like its result).
                grad_a = Matmul(grad.reshape(-1), _fold(b.mT)) if b_ndim > 2 else Matmul(b, grad)
            if need_b:
                grad_b = a.unsqueeze(-1) * grad.unsqueeze(-2)
            return grad_a, grad_b
        if need_a:
            if a_ndim == 2 and b_ndim > 2:
                grad_a = Matmul(_fold(grad.mT).mT, _fold(b.mT))
            else:
                grad_a = Matmul(grad, b.mT)
        if need_b:
            if b_ndim == 2 and a_ndim > 2:
                # The batch sum of a_i^T g_i is one GEMM over the folded batch, not a stack to sum afterwards.
                grad_b = Matmul(_fold(a).mT, _fold(grad))
            else:
                grad_b = Matmul(a.mT, grad)
        return grad_a, grad_b


def _matrix_text(shape):
    return "x".join(str(s) for s in shape)


def _check_matmul_shapes(op_name, a_shape, b_shape):
    a_ndim, b_ndim = len(a_shape), len(b_shape)
    if a_ndim == 0 or b_ndim == 0:
        raise op_error(RuntimeError, op_name, f"both arguments to {op_name} need to be at least 1D, but they are "
                       f"{a_ndim}D and {b_ndim}D")
    k_a = a_shape[-1]
    k_b = b_shape[0] if b_ndim == 1 else b_shape[-2]
    if k_a != k_b:
        if a_ndim == 1 and b_ndim == 1:
            message = (f"inconsistent tensor size, expected tensor [{k_a}] and src [{k_b}] to have the same number "
                       f"of elements, but got {k_a} and {k_b} elements respectively")
        elif b_ndim == 1:
            rows = math.prod(a_shape[:-1])
            message = f"size mismatch, got input ({rows}), mat ({rows}x{k_a}), vec ({k_b})"
        else:
            left = (1, k_a) if a_ndim == 1 else a_shape[-2:]
            message = f"mat1 and mat2 shapes cannot be multiplied ({_matrix_text(left)} and {_matrix_text(b_shape[-2:])})"
        raise op_error(RuntimeError, op_name, f"{message}; the input shapes are {tuple(a_shape)} and {tuple(b_shape)}")
    if a_ndim > 2 and b_ndim > 2 and a_shape[:-2] != b_shape[:-2]:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise op_error(RuntimeError, op_name, f"batch dimensions do not broadcast: "
                           f"{broadcast_message([a_shape[:-2], b_shape[:-2]])} (input shapes {tuple(a_shape)} and "
                           f"{tuple(b_shape)})") from None


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's cases: 1-D x 1-D is a dot product, a 1-D operand is treated as a row
    (first) or column (second) vector, and leading batch dims broadcast.

    >>> ember.matmul(ember.ones(2, 3), ember.ones(3)).tolist()
    [3.0, 3.0]
    >>> ember.matmul(ember.ones(5, 1, 2, 3), ember.ones(4, 3, 2)).shape
    ember.Size([5, 4, 2, 2])
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        _require_tensor("matmul", input, "input", 1)
        _require_tensor("matmul", other, "other", 2)
    a_shape, b_shape = input._data.shape, other._data.shape
    if len(a_shape) == 2 and len(b_shape) == 2:
        if a_shape[1] != b_shape[0]:
            _check_matmul_shapes("matmul", a_shape, b_shape)
    elif not a_shape or not b_shape or a_shape[-1] != (b_shape[0] if len(b_shape) == 1 else b_shape[-2]) or (
            len(a_shape) > 2 and len(b_shape) > 2 and a_shape[:-2] != b_shape[:-2]):
        _check_matmul_shapes("matmul", a_shape, b_shape)
    if out is None:
        return Matmul(input, other)
    return _maybe_out(Matmul(input, other), out)


def _check_same_dtype(op_name, a, b, message):
    if a._dtype is not b._dtype:
        raise op_error(RuntimeError, op_name, message(a._dtype, b._dtype))


def mm(input, mat2, *, out=None):
    """Product of two matrices (no broadcasting; see :func:`matmul`).

    >>> ember.mm(ember.tensor([[1.0, 2.0]]), ember.tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    _require_tensor("mm", input, "input", 1)
    _require_tensor("mm", mat2, "mat2", 2)
    a_shape, b_shape = input._data.shape, mat2._data.shape
    if len(a_shape) != 2:
        raise op_error(RuntimeError, "mm", f"self must be a matrix, but got a {len(a_shape)}-D tensor of shape "
                       f"{tuple(a_shape)}")
    if len(b_shape) != 2:
        raise op_error(RuntimeError, "mm", f"mat2 must be a matrix, but got a {len(b_shape)}-D tensor of shape "
                       f"{tuple(b_shape)}")
    if a_shape[1] != b_shape[0]:
        _check_matmul_shapes("mm", a_shape, b_shape)
    if input._dtype is not mat2._dtype or input._dtype is _dt.bool:
        _same_dtype_rule("mm", "addmm_impl_cpu_", _mm_mismatch)((input, mat2))
    return _maybe_out(Matmul(input, mat2), out)


def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, k) and (b, k, m) tensors (no broadcasting).

    >>> ember.bmm(ember.ones(4, 2, 3), ember.ones(4, 3, 5)).shape
    ember.Size([4, 2, 5])
    """
    _require_tensor("bmm", input, "input", 1)
    _require_tensor("bmm", mat2, "mat2", 2)
    a_shape, b_shape = input._data.shape, mat2._data.shape
    if len(a_shape) != 3:
        raise op_error(RuntimeError, "bmm", f"batch1 must be a 3D tensor, but got shape {tuple(a_shape)}")
    if len(b_shape) != 3:
        raise op_error(RuntimeError, "bmm", f"batch2 must be a 3D tensor, but got shape {tuple(b_shape)}")
    if a_shape[0] != b_shape[0] or a_shape[2] != b_shape[1]:
        raise op_error(RuntimeError, "bmm", f"Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{a_shape[0]}, {a_shape[2]}] but got: [{b_shape[0]}, {b_shape[1]}]; the input shapes are "
                       f"{tuple(a_shape)} and {tuple(b_shape)}")
    if input._dtype is not mat2._dtype or input._dtype is _dt.bool:
        _same_dtype_rule("bmm", "bmm", _mm_mismatch)((input, mat2))
    return _maybe_out(Matmul(input, mat2), out)


def mv(input, vec, *, out=None):
    """Matrix-vector product.

    >>> ember.mv(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    _require_tensor("mv", input, "input", 1)
    _require_tensor("mv", vec, "vec", 2)
    a_shape, v_shape = input._data.shape, vec._data.shape
    if len(a_shape) != 2 or len(v_shape) != 1:
        raise op_error(RuntimeError, "mv", f"vector + matrix @ vector expected, got 1, {len(a_shape)}, {len(v_shape)} "
                       f"(shapes {tuple(a_shape)} and {tuple(v_shape)})")
    if a_shape[1] != v_shape[0]:
        _check_matmul_shapes("mv", a_shape, v_shape)
    if input._dtype is not vec._dtype or input._dtype is _dt.bool:
        _same_dtype_rule("mv", "addmv_impl_cpu", _mm_mismatch)((input, vec))
    return _maybe_out(Matmul(input, vec), out)


def _dot_mismatch(a, b):
    return f"dot : expected both vectors to have same dtype, but found {_torch_type_name(a)} and {_torch_type_name(b)}"


def dot(input, tensor, *, out=None):
    """Dot product of two 1-D tensors of one dtype.

    >>> ember.dot(ember.tensor([1, 2, 3]), ember.tensor([4, 5, 6]))
    tensor(32)
    """
    _require_tensor("dot", input, "input", 1)
    _require_tensor("dot", tensor, "tensor", 2)
    a_shape, b_shape = input._data.shape, tensor._data.shape
    if len(a_shape) != 1 or len(b_shape) != 1:
        raise op_error(RuntimeError, "dot", f"1D tensors expected, but got {len(a_shape)}D and {len(b_shape)}D tensors "
                       f"(shapes {tuple(a_shape)} and {tuple(b_shape)})")
    _check_same_dtype("dot", input, tensor, _dot_mismatch)
    if input._dtype is _dt.bool:
        raise op_error(NotImplementedError, "dot", "\"dot\" not implemented for 'Bool'")
    if a_shape[0] != b_shape[0]:
        _check_matmul_shapes("dot", a_shape, b_shape)
    return _maybe_out(Matmul(input, tensor), out)


def vdot(input, other, *, out=None):
    """Dot product that conjugates its first argument; for real tensors the same as :func:`dot`.

    >>> ember.vdot(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return dot(input, other, out=out)


def inner(input, other, *, out=None):
    """Sum of products over the last dim of both tensors; the result has shape
    ``input.shape[:-1] + other.shape[:-1]`` (a 0-d operand scales the other).

    >>> ember.inner(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """
    _require_tensor("inner", input, "input", 1)
    _require_tensor("inner", other, "other", 2)
    if input._dtype is not other._dtype:
        raise op_error(RuntimeError, "inner", f"both inputs should have same dtype, but got "
                       f"{_torch_type_name(input._dtype)} and {_torch_type_name(other._dtype)}")
    a_shape, b_shape = input._data.shape, other._data.shape
    if not a_shape or not b_shape:
        return _maybe_out(input * other, out)
    if a_shape[-1] != b_shape[-1]:
        raise op_error(RuntimeError, "inner", f"inner() the last dimension must match on both input tensors but got "
                       f"shapes {list(a_shape)} and {list(b_shape)}")
    if len(a_shape) == 1 and len(b_shape) == 1:
        return _maybe_out(Matmul(input, other), out)
    product = Matmul(_fold(input), _fold(other).mT)
    return _maybe_out(product.reshape(a_shape[:-1] + b_shape[:-1]), out)


def outer(input, vec2, *, out=None):
    """Outer product of two vectors: ``result[i, j] = input[i] * vec2[j]`` (dtypes promote).

    >>> ember.outer(ember.tensor([1, 2]), ember.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    _require_tensor("outer", input, "input", 1)
    _require_tensor("outer", vec2, "vec2", 2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise op_error(RuntimeError, "outer", f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D "
                           f"(shape {tuple(t._data.shape)})")
    return _maybe_out(input.reshape(-1, 1) * vec2, out)


ger = outer


# ------------------------------------------------------------------------------------------ add + product
def _addmm_mismatch(a, b):
    return f"self and mat2 must have the same dtype, but got {_torch_type_name(a)} and {_torch_type_name(b)}"


def _combine(input, product, beta, alpha):
    """``beta * input + alpha * product`` into ``product``'s buffer (beta == 0 ignores input, nan included)."""
    if alpha != 1:
        np.multiply(product, alpha, out=product, casting="unsafe")
    if beta != 0:
        np.add(product, input if beta == 1 else np.multiply(input, beta), out=product, casting="unsafe")
    return product


def _product_in(dtype, product):
    return product.astype(dtype) if product.dtype != dtype else product


def _scale(grad, factor):
    return grad if factor == 1 else grad * factor


def _add_product_op(op_name, product, grads, bool_kernel):
    """Register an add-product op from its NumPy ``product(m1, m2)`` and ``grads(grad, m1, m2) -> (g1, g2)``."""

    def forward(input, m1, m2, beta, alpha):
        dtype = m1.dtype
        if dtype in _LOW_PRECISION:
            if op_name == "addbmm":
                # PyTorch adds one batch at a time into the half-precision result: round after each, as it does.
                result = np.broadcast_to(_combine(_to_float32(input), np.zeros(m1.shape[1:2] + m2.shape[2:], np.float32),
                                                  beta, 1), m1.shape[1:2] + m2.shape[2:]).astype(dtype)
                for b in range(m1.shape[0]):
                    result = _combine(result.astype(np.float32), np.matmul(_to_float32(m1[b]), _to_float32(m2[b])),
                                      1, alpha).astype(dtype)
                return result
            result = _combine(_to_float32(input), product(_to_float32(m1), _to_float32(m2)), beta, alpha)
            return result.astype(dtype)
        return _product_in(dtype, _combine(input, product(m1, m2), beta, alpha))

    def backward(ctx, grad):
        _, m1, m2 = ctx.inputs
        beta, alpha = ctx.beta, ctx.alpha
        grad_input = _scale(grad, beta) if ctx.next_edges[0] is not None else None
        g1, g2 = grads(grad, m1, m2, ctx.next_edges[1] is not None, ctx.next_edges[2] is not None)
        return grad_input, (None if g1 is None else _scale(g1, alpha)), (None if g2 is None else _scale(g2, alpha))

    def forward_ctx(ctx, input, m1, m2, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        return forward(input, m1, m2, beta, alpha)

    cls = type(op_name.title(), (), {
        "name": op_name, "kind": "matmul", "save": ("inputs",), "forward": forward_ctx, "backward": backward,
        "promote": staticmethod(_same_dtype_rule(op_name, bool_kernel, _addmm_mismatch))})
    return register_op(cls)


def _sum_of_batch_products(b1, b2):
    batch, n, k = b1.shape
    m = b2.shape[2]
    # sum_b b1[b] @ b2[b] is one (n, batch*k) @ (batch*k, m) GEMM.
    return np.matmul(np.swapaxes(b1, 0, 1).reshape(n, batch * k), b2.reshape(batch * k, m))


Addmm = _add_product_op(
    "addmm", np.matmul,
    lambda g, m1, m2, n1, n2: (Matmul(g, m2.mT) if n1 else None, Matmul(m1.mT, g) if n2 else None),
    "addmm_impl_cpu_")
Addmv = _add_product_op(
    "addmv", np.matmul,
    lambda g, m, v, n1, n2: (g.unsqueeze(-1) * v if n1 else None, Matmul(m.mT, g) if n2 else None),
    "addmv_impl_cpu")
Addbmm = _add_product_op(
    "addbmm", _sum_of_batch_products,
    lambda g, b1, b2, n1, n2: (Matmul(g.unsqueeze(0), b2.mT) if n1 else None,
                               Matmul(b1.mT, g.unsqueeze(0)) if n2 else None),
    "addbmm")
Baddbmm = _add_product_op(
    "baddbmm", np.matmul,
    lambda g, b1, b2, n1, n2: (Matmul(g, b2.mT) if n1 else None, Matmul(b1.mT, g) if n2 else None),
    "baddbmm")
Addr = _add_product_op(
    "addr", lambda v1, v2: np.multiply.outer(v1, v2),
    lambda g, v1, v2, n1, n2: (Matmul(g, v2) if n1 else None, Matmul(v1, g) if n2 else None),
    "addr")


def _check_addable(op_name, input, out_shape):
    shape = input._data.shape
    if shape == out_shape:
        return
    try:
        ok = np.broadcast_shapes(shape, out_shape) == tuple(out_shape)
    except ValueError:
        ok = False
    if not ok:
        raise op_error(RuntimeError, op_name, f"input of shape {tuple(shape)} cannot be broadcast to the product's shape "
                       f"{tuple(out_shape)}")


def _scalars(dtype, beta, alpha):
    if dtype.category < 2:  # PyTorch converts the scalars to the integer type first
        return int(beta), int(alpha)
    return beta, alpha


def _require_operands(op_name, names, tensors):
    for i, (name, t) in enumerate(zip(names, tensors)):
        _require_tensor(op_name, t, name, i + 1)


def _addmm_shape(mat1, mat2):
    _require_operands("addmm", ("mat1", "mat2"), (mat1, mat2))
    a_shape, b_shape = mat1._data.shape, mat2._data.shape
    if len(a_shape) != 2 or len(b_shape) != 2:
        raise op_error(RuntimeError, "addmm", f"mat1 and mat2 must be matrices, got shapes {tuple(a_shape)} and "
                       f"{tuple(b_shape)}")
    if a_shape[1] != b_shape[0]:
        _check_matmul_shapes("addmm", a_shape, b_shape)
    return a_shape[0], b_shape[1]


def _addmv_shape(mat, vec):
    _require_operands("addmv", ("mat", "vec"), (mat, vec))
    a_shape, v_shape = mat._data.shape, vec._data.shape
    if len(a_shape) != 2 or len(v_shape) != 1:
        raise op_error(RuntimeError, "addmv", f"vector + matrix @ vector expected, got a {len(a_shape)}-D matrix and a "
                       f"{len(v_shape)}-D vector (shapes {tuple(a_shape)} and {tuple(v_shape)})")
    if a_shape[1] != v_shape[0]:
        _check_matmul_shapes("addmv", a_shape, v_shape)
    return (a_shape[0],)


def _batches(op_name, b1, b2):
    _require_operands(op_name, ("batch1", "batch2"), (b1, b2))
    a_shape, b_shape = b1._data.shape, b2._data.shape
    if len(a_shape) != 3 or len(b_shape) != 3:
        raise op_error(RuntimeError, op_name, f"batch1 and batch2 must be 3D tensors, got shapes {tuple(a_shape)} and "
                       f"{tuple(b_shape)}")
    if a_shape[0] != b_shape[0]:
        raise op_error(RuntimeError, op_name, f"batch1 and batch2 must have same number of batches, got {a_shape[0]} "
                       f"and {b_shape[0]}")
    if a_shape[2] != b_shape[1]:
        raise op_error(RuntimeError, op_name, f"Incompatible matrix sizes for bmm ({a_shape[1]}x{a_shape[2]} and "
                       f"{b_shape[1]}x{b_shape[2]}); the input shapes are {tuple(a_shape)} and {tuple(b_shape)}")
    return a_shape, b_shape


def _addbmm_shape(batch1, batch2):
    a_shape, b_shape = _batches("addbmm", batch1, batch2)
    return a_shape[1], b_shape[2]


def _baddbmm_shape(batch1, batch2):
    a_shape, b_shape = _batches("baddbmm", batch1, batch2)
    return a_shape[0], a_shape[1], b_shape[2]


def _addr_shape(vec1, vec2):
    _require_operands("addr", ("vec1", "vec2"), (vec1, vec2))
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise op_error(RuntimeError, "addr", f"addr: Expected 1-D argument {name}, but got {t._data.ndim}-D "
                           f"(shape {tuple(t._data.shape)})")
    return vec1._data.shape[0], vec2._data.shape[0]


def _add_product(op, op_name, product_shape, input, m1, m2, beta, alpha, out):
    _require_tensor(op_name, input, "input", 1)
    out_shape = product_shape(m1, m2)
    _check_addable(op_name, input, out_shape)
    beta, alpha = _scalars(m1._dtype, beta, alpha)
    return _maybe_out(op(input, m1, m2, beta=beta, alpha=alpha), out)


def _add_product_inplace(op, op_name, product_shape):
    def add_product_(self, *operands, beta=1, alpha=1):
        _require_tensor(op_name + "_", self, "self", 1)
        if len(operands) != 2:
            raise op_error(TypeError, op_name + "_", f"{op_name}_() takes 2 tensors besides self, got {len(operands)}")
        out_shape = product_shape(*operands)
        if tuple(out_shape) != self._data.shape:
            raise op_error(RuntimeError, op_name + "_", f"the product has shape {tuple(out_shape)}, which does not match "
                           f"the shape of self {tuple(self._data.shape)}")
        beta, alpha = _scalars(self._dtype, beta, alpha)
        return apply_inplace(op, self, *operands, beta=beta, alpha=alpha)

    add_product_.__name__ = op_name + "_"
    add_product_.__doc__ = f"In-place :func:`{op_name}` into ``self`` (which must have the product's shape)."
    return add_product_


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape (with ``beta=0`` it
    is ignored, NaNs included).

    >>> ember.addmm(ember.ones(2), ember.ones(2, 3), ember.ones(3, 2), beta=0.5, alpha=2)
    tensor([[6.5000, 6.5000],
            [6.5000, 6.5000]])
    """
    return _add_product(Addmm, "addmm", _addmm_shape, input, mat1, mat2, beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``.

    >>> ember.addmv(ember.tensor([1.0, 1.0]), ember.ones(2, 3), ember.ones(3))
    tensor([4., 4.])
    """
    return _add_product(Addmv, "addmv", _addmv_shape, input, mat, vec, beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``.

    >>> ember.addbmm(ember.zeros(2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2))
    tensor([[12., 12.],
            [12., 12.]])
    """
    return _add_product(Addbmm, "addbmm", _addbmm_shape, input, batch1, batch2, beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches.

    >>> ember.baddbmm(ember.ones(3, 2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2), alpha=0.5).shape
    ember.Size([3, 2, 2])
    """
    return _add_product(Baddbmm, "baddbmm", _baddbmm_shape, input, batch1, batch2, beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> ember.addr(ember.zeros(2, 2), ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    tensor([[3., 4.],
            [6., 8.]])
    """
    return _add_product(Addr, "addr", _addr_shape, input, vec1, vec2, beta, alpha, out)


addmm_ = _add_product_inplace(Addmm, "addmm", _addmm_shape)
addmv_ = _add_product_inplace(Addmv, "addmv", _addmv_shape)
addbmm_ = _add_product_inplace(Addbmm, "addbmm", _addbmm_shape)
baddbmm_ = _add_product_inplace(Baddbmm, "baddbmm", _baddbmm_shape)
addr_ = _add_product_inplace(Addr, "addr", _addr_shape)


# ------------------------------------------------------------------------------------------ einsum
def _einsum_error(message):
    return op_error(RuntimeError, "einsum", f"einsum(): {message}")


def _parse_term(term, position, op_index):
    letters, ellipsis = [], None
    i = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "..." or ellipsis is not None:
                raise _einsum_error(f"found '.' for operand {op_index} that is not part of any ellipsis")
            ellipsis = len(letters)
            i += 3
            continue
        if c not in _LETTERS:
            raise _einsum_error(f"invalid subscript given at index {position + i} in the equation string, subscripts "
                                f"must be in [a-zA-Z]")
        letters.append(c)
        i += 1
    return letters, ellipsis


@functools.lru_cache(maxsize=1024)
def _parse_einsum(equation, shapes):
    """Turn an equation and operand shapes into explicit subscripts: one letter per dim, fresh letters for the
    ellipsis and for size-1 dims that broadcast, so NumPy's einsum and the backward need no special cases."""
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, rhs = equation.split("->", 1)
    else:
        lhs, rhs = equation, None
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise _einsum_error("more operands were provided than specified in the equation")
    parsed = []
    position = 0
    for index, term in enumerate(terms):
        parsed.append(_parse_term(term, position, index))
        position += len(term) + 1
    used = set(lhs + (rhs or ""))
    fresh = iter(c for c in _LETTERS if c not in used)
    ellipsis_dims = 0
    for index, ((letters, ellipsis), shape) in enumerate(zip(parsed, shapes)):
        if ellipsis is None and len(letters) != len(shape):
            raise _einsum_error(f"the number of subscripts in the equation ({len(letters)}) does not match the number "
                                f"of dimensions ({len(shape)}) for operand {index} and no ellipsis was given")
        if ellipsis is not None and len(letters) > len(shape):
            raise _einsum_error(f"the number of subscripts in the equation ({len(letters)}) is more than the number of "
                                f"dimensions ({len(shape)}) for operand {index}")
        if ellipsis is not None:
            ellipsis_dims = max(ellipsis_dims, len(shape) - len(letters))
    try:
        ellipsis_letters = [next(fresh) for _ in range(ellipsis_dims)]
    except StopIteration:
        raise _einsum_error("too many dimensions: einsum supports at most 52 distinct subscripts") from None
    subscripts = []
    for (letters, ellipsis), shape in zip(parsed, shapes):
        if ellipsis is not None:
            count = len(shape) - len(letters)
            letters = letters[:ellipsis] + ellipsis_letters[ellipsis_dims - count:] + letters[ellipsis:]
        subscripts.append(letters)
    if rhs is None:
        counts = {}
        for letters, _ in parsed:
            for c in letters:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis_letters + sorted(c for c, n in counts.items() if n == 1)
    else:
        out_letters, out_ellipsis = _parse_term(rhs, len(lhs) + 2, "output")
        seen = set()
        for c in out_letters:
            if c in seen:
                raise _einsum_error(f"output subscript {c} appears more than once in the output")
            if not any(c in letters for letters, _ in parsed):
                raise _einsum_error(f"output subscript {c} does not appear in the equation for any input operand")
            seen.add(c)
        if out_ellipsis is not None:
            out_letters = out_letters[:out_ellipsis] + ellipsis_letters + out_letters[out_ellipsis:]
        output = out_letters
    sizes = {}
    for index, (letters, shape) in enumerate(zip(subscripts, shapes)):
        own = {}
        for c, size in zip(letters, shape):
            if c in own and own[c] != size:
                raise _einsum_error(f"subscript {c} is repeated for operand {index} but the sizes don't match, "
                                    f"{size} != {own[c]}")
            own[c] = size
        for c, size in own.items():
            seen_size = sizes.get(c)
            if seen_size is None or seen_size == 1:
                sizes[c] = size
            elif size != 1 and size != seen_size:
                raise _einsum_error(f"subscript {c} has size {size} for operand {index} which does not broadcast with "
                                    f"previously seen size {seen_size}")
    final = []
    for letters, shape in zip(subscripts, shapes):
        renamed = {}
        for c, size in zip(letters, shape):
            if size == 1 and sizes[c] != 1 and c not in renamed:
                try:
                    renamed[c] = next(fresh)
                except StopIteration:
                    raise _einsum_error("too many dimensions: einsum supports at most 52 distinct subscripts") from None
        final.append("".join(renamed.get(c, c) for c in letters))
    return tuple(final), "".join(output)


_EINSUM_PATHS = {}


def _np_einsum(subscripts, output, arrays):
    spec = ",".join(subscripts) + "->" + output
    if len(arrays) < 2:
        return np.einsum(spec, *arrays)
    sizes = {}
    for sub, a in zip(subscripts, arrays):
        sizes.update(zip(sub, a.shape))
    if math.prod(sizes.values()) < 32768:  # small: NumPy's C loop beats planning a contraction path
        return np.einsum(spec, *arrays)
    key = (spec, tuple(a.shape for a in arrays))
    path = _EINSUM_PATHS.get(key)
    if path is None:
        path = np.einsum_path(spec, *arrays, optimize="greedy")[0]
        if len(_EINSUM_PATHS) > 1024:
            _EINSUM_PATHS.clear()
        _EINSUM_PATHS[key] = path
    return np.einsum(spec, *arrays, optimize=path)


def _einsum_dtype_rule(args):
    first = args[0]._dtype
    for other in args[1:]:
        if other._dtype is not first:
            raise op_error(RuntimeError, "einsum", f"expected scalar type {_torch_type_name(first)} but found "
                           f"{_torch_type_name(other._dtype)}; einsum operands must share a dtype")
    if first is _dt.bool and len(args) > 1:
        raise op_error(NotImplementedError, "einsum", "\"bmm\" not implemented for 'Bool'")
    return None


@register_op
class Einsum:
    """Einstein summation over explicit subscripts (see :func:`einsum` for the equation syntax)."""

    name = "einsum"
    kind = "matmul"
    promote = staticmethod(_einsum_dtype_rule)
    save = ("inputs",)

    def forward(ctx, *arrays, subscripts, output):
        ctx.subscripts, ctx.output_subscript = subscripts, output
        dtype = arrays[0].dtype
        if dtype in _LOW_PRECISION:
            return np.asarray(_np_einsum(subscripts, output, [a.astype(np.float32) for a in arrays])).astype(dtype)
        if dtype.kind in "biu" and len(arrays) == 1 and len(set(subscripts[0])) > len(output):
            return np.asarray(np.einsum(subscripts[0] + "->" + output, arrays[0].astype(np.int64)))
        return _np_einsum(subscripts, output, arrays)

    def backward(ctx, grad):
        operands = ctx.inputs
        return tuple(_einsum_operand_grad(grad, operands, ctx.subscripts, ctx.output_subscript, i)
                     if ctx.next_edges[i] is not None else None for i in range(len(operands)))


def _einsum_operand_grad(grad, operands, subscripts, output, index):
    """d(einsum)/d(operand index): the einsum of the output gradient with the other operands, then broadcast
    over letters only that operand had and put on the diagonal for repeated letters."""
    target = subscripts[index]
    size_of = dict(zip(target, operands[index]._data.shape))
    unique = "".join(dict.fromkeys(target))
    elsewhere = set(output).union(*[set(s) for j, s in enumerate(subscripts) if j != index])
    kept = "".join(c for c in unique if c in elsewhere)
    others = [operands[j] for j in range(len(operands)) if j != index]
    other_subscripts = tuple(s for j, s in enumerate(subscripts) if j != index)
    g = Einsum(grad, *others, subscripts=(output,) + other_subscripts, output=kept)
    if len(kept) < len(unique):
        g = g.reshape(tuple(size_of[c] if c in elsewhere else 1 for c in unique)).expand(
            tuple(size_of[c] for c in unique))
    if len(unique) < len(target):
        used = set("".join(subscripts) + output)
        fresh = iter(c for c in _LETTERS if c not in used)
        full, eyes, eye_subscripts, seen = [], [], [], set()
        for c in target:
            if c in seen:
                f = next(fresh)
                full.append(f)
                eyes.append(_eye(size_of[c], g))
                eye_subscripts.append(c + f)
            else:
                seen.add(c)
                full.append(c)
        g = Einsum(g, *eyes, subscripts=(unique,) + tuple(eye_subscripts), output="".join(full))
    return g


def _sublist_to_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [output_sublist]) -> (equation, operands)."""
    def letters(sublist):
        text = []
        for s in sublist:
            if s is Ellipsis:
                text.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                text.append(_LETTERS[26 + s] if s < 26 else _LETTERS[s - 26])
            else:
                raise op_error(ValueError, "einsum", f"einsum(): subscript in subscript list is not within the valid "
                               f"range [0, 52), got {s!r}")
        return "".join(text)
    operands = list(args[0::2])
    terms = [letters(s) for s in args[1::2]]
    if len(args) % 2 == 1:
        operands = operands[:-1]
        return ",".join(terms) + "->" + letters(args[-1]), operands
    return ",".join(terms), operands


def einsum(*args):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``. Supports implicit output (letters
    appearing once, in alphabetical order), ``...`` for broadcast batch dims, repeated subscripts
    (``"ii->i"`` takes a diagonal), the operand-list form and the sublist form.

    >>> a = ember.arange(6.0).reshape(2, 3)
    >>> ember.einsum("ij,kj->ik", a, a)
    tensor([[ 5., 14.],
            [14., 50.]])
    >>> ember.einsum("ii", ember.eye(3))
    tensor(3.)
    """
    if not args:
        raise op_error(TypeError, "einsum", "einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_to_equation(args)
    if not operands:
        raise _einsum_error("must provide at least one operand")
    for i, t in enumerate(operands):
        _require_tensor("einsum", t, f"operands[{i}]", i + 2)
    subscripts, output = _parse_einsum(equation, tuple(t._data.shape for t in operands))
    return Einsum(*operands, subscripts=subscripts, output=output)


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` dims of ``a`` with ``b``: an int (the last ``dims`` of ``a`` with the first of ``b``)
    or two lists of dims.

    >>> ember.tensordot(ember.ones(2, 3, 4), ember.ones(3, 4, 5)).shape
    ember.Size([2, 5])
    >>> ember.tensordot(ember.ones(2, 3), ember.ones(3, 5), dims=([1], [0])).shape
    ember.Size([2, 5])
    """
    _require_tensor("tensordot", a, "a", 1)
    _require_tensor("tensordot", b, "b", 2)
    a_ndim, b_ndim = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise op_error(RuntimeError, "tensordot", f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a_ndim or dims > b_ndim:
            raise op_error(RuntimeError, "tensordot", f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims} "
                           f"(shapes {tuple(a._data.shape)} and {tuple(b._data.shape)})")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        if len(dims) != 2:
            raise op_error(RuntimeError, "tensordot", f"tensordot expects dims to be an int or a pair of dim lists, "
                           f"got {dims!r}")
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(dims_a) != len(dims_b):
            raise op_error(RuntimeError, "tensordot", f"both dimension lists should have same length, got {dims_a} and "
                           f"{dims_b}")
    if a._dtype is not b._dtype:
        raise op_error(RuntimeError, "tensordot", f"both inputs should have same dtype, got "
                       f"{_torch_type_name(a._dtype)} and {_torch_type_name(b._dtype)}")
    wrapped_a = [wrap_dim(d, a_ndim, "tensordot") for d in dims_a]
    wrapped_b = [wrap_dim(d, b_ndim, "tensordot") for d in dims_b]
    for da, db, ia, ib in zip(dims_a, dims_b, wrapped_a, wrapped_b):
        if a._data.shape[ia] != b._data.shape[ib]:
            raise op_error(RuntimeError, "tensordot", f"contracted dimensions need to match, but first has size "
                           f"{a._data.shape[ia]} in dim {da} and second has size {b._data.shape[ib]} in dim {db} "
                           f"(shapes {tuple(a._data.shape)} and {tuple(b._data.shape)})")
    if a_ndim + b_ndim - len(wrapped_a) > 52 or a_ndim + b_ndim > 52:
        raise op_error(RuntimeError, "tensordot", "tensordot supports at most 52 dims in total")
    a_letters = list(_LETTERS[:a_ndim])
    b_letters = list(_LETTERS[a_ndim:a_ndim + b_ndim])
    for ia, ib in zip(wrapped_a, wrapped_b):
        b_letters[ib] = a_letters[ia]
    output = [c for i, c in enumerate(a_letters) if i not in wrapped_a] + [
        c for i, c in enumerate(b_letters) if i not in wrapped_b]
    result = Einsum(a, b, subscripts=("".join(a_letters), "".join(b_letters)), output="".join(output))
    return _maybe_out(result, out)


def kron(input, other, *, out=None):
    """Kronecker product: blocks ``input[i, j] * other`` (dims are aligned from the right).

    >>> ember.kron(ember.eye(2), ember.tensor([[1.0, 2.0]]))
    tensor([[1., 2., 0., 0.],
            [0., 0., 1., 2.]])
    """
    _require_tensor("kron", input, "input", 1)
    _require_tensor("kron", other, "other", 2)
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(x for s in a_shape for x in (s, 1)))
    b = other.reshape(tuple(x for s in b_shape for x in (1, s)))
    return _maybe_out((a * b).reshape(tuple(x * y for x, y in zip(a_shape, b_shape))), out)


@register_op
class LinalgCross:
    """Cross product of 3-vectors along ``dim`` (operands broadcast)."""

    name = "linalg_cross"
    kind = "opaque"
    save = ("inputs",)
    promote = staticmethod(_same_dtype_rule("linalg.cross", "linalg_cross", lambda a, b: f"expected scalar type "
                                            f"{_torch_type_name(a)} but found {_torch_type_name(b)}"))

    def forward(ctx, a, b, dim):
        ctx.dim = dim
        return np.cross(a, b, axis=dim)

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = LinalgCross(b, grad, dim=ctx.dim) if ctx.next_edges[0] is not None else None
        grad_b = LinalgCross(grad, a, dim=ctx.dim) if ctx.next_edges[1] is not None else None
        return grad_a, grad_b


def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (default the last); other dims broadcast.

    >>> ember.linalg.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    return _cross("linalg.cross", input, other, dim, out)


def _cross(op_name, input, other, dim, out):
    _require_tensor(op_name, input, "input", 1)
    _require_tensor(op_name, other, "other", 2)
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
    return _maybe_out(LinalgCross(input, other, dim=d), out)


def cross(input, other, dim=None, *, out=None):
    """Cross product along ``dim``; without ``dim``, the first dim of size 3 (deprecated in PyTorch: pass
    ``dim`` or use :func:`ember.linalg.cross`).

    >>> ember.cross(ember.tensor([[1.0, 0.0, 0.0]]), ember.tensor([[0.0, 0.0, 1.0]]), dim=1)
    tensor([[ 0., -1.,  0.]])
    """
    if dim is None:
        _require_tensor("cross", input, "input", 1)
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the dim "
                      "explicitly or simply use torch.linalg.cross. The default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        sizes = input._data.shape
        dim = next((i for i, s in enumerate(sizes) if s == 3), None)
        if dim is None:
            raise op_error(RuntimeError, "cross", f"no dimension of size 3 in input (shape {tuple(sizes)})")
    return _cross("cross", input, other, dim, out)


def _chain_order(shapes):
    """Parenthesization minimizing multiplications (the classic O(n^3) matrix-chain dynamic program)."""
    n = len(shapes)
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(tensors, split, i, j):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return Matmul(_chain_product(tensors, split, i, k), _chain_product(tensors, split, k + 1, j))


def multi_dot(tensors, *, out=None):
    """Product of two or more matrices in the cheapest order; the first may be a row vector and the last a
    column vector (1-D).

    >>> ember.linalg.multi_dot([ember.ones(3), ember.ones(3, 4), ember.ones(4)])
    tensor(12.)
    """
    return _maybe_out(_multi_dot("multi_dot", list(tensors), allow_vectors=True), out)


def _multi_dot(op_name, tensors, allow_vectors):
    n = len(tensors)
    if n < (2 if allow_vectors else 1):
        raise op_error(RuntimeError, op_name, f"{op_name}(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        _require_tensor(op_name, t, f"tensors[{i}]", 1)
    if n == 1:
        t = tensors[0]
        if t._data.ndim != 2:
            raise op_error(RuntimeError, op_name, f"{op_name}(): tensor 0 must be 2D but got {t._data.ndim}D")
        return t.clone()
    first, last = tensors[0], tensors[-1]
    dtype = first._dtype
    for i, t in enumerate(tensors):
        ndim = t._data.ndim
        if allow_vectors and i == 0 and ndim not in (1, 2):
            raise op_error(RuntimeError, op_name, f"{op_name}(): the first tensor must be 1D or 2D but got {ndim}D")
        elif allow_vectors and i == n - 1 and ndim not in (1, 2):
            raise op_error(RuntimeError, op_name, f"{op_name}(): the last tensor must be 1D or 2D but got {ndim}D")
        elif (not allow_vectors or 0 < i < n - 1) and ndim != 2:
            raise op_error(RuntimeError, op_name, f"{op_name}(): tensor {i} must be 2D but got {ndim}D")
        if t._dtype is not dtype:
            raise op_error(RuntimeError, op_name, f"{op_name}(): all tensors must have be the same dtype but tensor 0 "
                           f"is {_torch_type_name(dtype)} and tensor {i} is {_torch_type_name(t._dtype)}")
    matrices = list(tensors)
    if first._data.ndim == 1:
        matrices[0] = first.unsqueeze(0)
    if last._data.ndim == 1:
        matrices[-1] = last.unsqueeze(-1)
    shapes = [m._data.shape for m in matrices]
    for i in range(n - 1):
        if shapes[i][1] != shapes[i + 1][0]:
            raise op_error(RuntimeError, op_name, f"{op_name}(): tensors {i} and {i + 1} with shapes "
                           f"{list(tensors[i]._data.shape)} and {list(tensors[i + 1]._data.shape)} cannot be multiplied")
    result = _chain_product(matrices, _chain_order(shapes), 0, n - 1)
    if first._data.ndim == 1 and last._data.ndim == 1:
        return result.reshape(())
    if first._data.ndim == 1:
        return result.squeeze(0)
    if last._data.ndim == 1:
        return result.squeeze(-1)
    return result


def chain_matmul(*matrices, out=None):
    """Product of 2-D matrices in the cheapest order (deprecated in PyTorch for :func:`ember.linalg.multi_dot`).

    >>> ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1)).tolist()
    [[12.0], [12.0]]
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    return _maybe_out(_multi_dot("chain_matmul", list(matrices), allow_vectors=False), out)


# ------------------------------------------------------------------------------------------ linalg: checks
def _check_matrix_input(op_name, A, square=True, arg="A"):
    _require_tensor(op_name, A, arg, 1)
    shape = A._data.shape
    if len(shape) < 2:
        raise op_error(RuntimeError, op_name, f"The input tensor {arg} must have at least 2 dimensions (got shape "
                       f"{tuple(shape)}).")
    if square and shape[-1] != shape[-2]:
        raise op_error(RuntimeError, op_name, f"{arg} must be batches of square matrices, but they are {shape[-2]} by "
                       f"{shape[-1]} matrices")
    _check_float(op_name, A)


def _check_float(op_name, A):
    dtype = A._dtype
    if dtype.category < 2:
        raise op_error(RuntimeError, op_name, f"Expected a floating point or complex tensor as input. Got "
                       f"{_torch_type_name(dtype)}")
    if dtype is _dt.float16 or dtype is _dt.bfloat16:
        raise op_error(RuntimeError, op_name, f"Low precision dtypes not supported. Got {_torch_type_name(dtype)}")


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
    """Matrix inverse; backward ``-A^{-T} grad A^{-T}``."""

    name = "linalg_inv"
    kind = "opaque"
    promote = "none"
    save = ("output",)

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


def inv(A, *, out=None):
    """Inverse of a square matrix (or a batch of them); raises :class:`LinAlgError` if one is singular.

    >>> ember.linalg.inv(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[-2.0000,  1.0000],
            [ 1.5000, -0.5000]])
    """
    _check_matrix_input("linalg.inv", A)
    return _maybe_out(LinalgInv(A), out)


def inverse(input, *, out=None):
    """Same as :func:`ember.linalg.inv`.

    >>> ember.inverse(ember.tensor([[4.0]]))
    tensor([[0.2500]])
    """
    return inv(input, out=out)


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
        return _rt.linalg_inv_ex((_maybe_out(LinalgInv(A), out), from_array(info)))
    with np.errstate(all="ignore"):
        result = np.full(data.shape, np.inf, dtype=data.dtype)
        ok = info.reshape(-1) == 0
        flat = result.reshape(matrices.shape)
        if ok.any():
            flat[ok] = np.linalg.inv(matrices[ok])
    return _rt.linalg_inv_ex((_maybe_out(from_array(result), out), from_array(info)))


@register_op
class LinalgSolve:
    """Solution X of ``A X = B`` (``vector``: B is a batch of vectors)."""

    name = "linalg_solve"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

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


def solve(A, B, *, left=True, out=None):
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``) for square ``A``; batch dims broadcast and ``B`` may
    be a (batch of) vector(s).

    >>> ember.linalg.solve(ember.tensor([[2.0, 0.0], [0.0, 4.0]]), ember.tensor([2.0, 2.0]))
    tensor([1.0000, 0.5000])
    """
    op_name = "linalg.solve"
    _check_matrix_input(op_name, A)
    _require_tensor(op_name, B, "B", 2)
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
        return _maybe_out(solve(A.mT, B.mT, left=True).mT, out)
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
    return _maybe_out(LinalgSolve(A, B, vector=vector), out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """:func:`solve` that reports a singular ``A`` in ``info`` (its first zero pivot, 0 if invertible) instead of
    raising, unless ``check_errors``.

    >>> ember.linalg.solve_ex(ember.eye(2), ember.ones(2)).info
    tensor(0, dtype=ember.int32)
    """
    try:
        result = solve(A, B, left=left)
    except LinAlgError:
        if check_errors:
            raise
        data = A._data
        info = np.array([_first_zero_pivot(m) for m in data.reshape((-1,) + data.shape[-2:])], dtype=np.int32)
        with np.errstate(all="ignore"):
            # What LAPACK leaves for a singular system is unspecified; like inv_ex, report infinities.
            shape = solve(from_array(np.broadcast_to(np.eye(data.shape[-1], dtype=data.dtype), data.shape)), B,
                          left=left)._data.shape
        return _rt.linalg_solve_ex((_maybe_out(from_array(np.full(shape, np.inf, dtype=data.dtype)), out),
                                    from_array(info.reshape(data.shape[:-2]))))
    info = np.zeros(A._data.shape[:-2], dtype=np.int32)
    return _rt.linalg_solve_ex((_maybe_out(result, out), from_array(info)))


@register_op
class LinalgSolveTriangular:
    """Solution of a triangular system; only the ``upper`` (or lower) triangle of A is read."""

    name = "linalg_solve_triangular"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

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


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve ``A X = B`` (or ``X A = B``) for triangular ``A``: only its upper (``upper=True``) or lower triangle is
    read, and with ``unitriangular`` its diagonal is taken to be ones.

    >>> A = ember.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> ember.linalg.solve_triangular(A, ember.tensor([[3.0], [4.0]]), upper=True)
    tensor([[1.],
            [1.]])
    """
    op_name = "linalg.solve_triangular"
    _check_matrix_input(op_name, A)
    _require_tensor(op_name, B, "B", 2)
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
    return _maybe_out(LinalgSolveTriangular(A, B, upper=upper, left=left, unitriangular=unitriangular), out)


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
    """Determinant; backward ``grad * det * A^{-T}`` (the cofactor matrix when A is singular)."""

    name = "linalg_det"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

    def forward(a):
        return np.linalg.det(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        det = ctx.output
        if np.all(det._data != 0):
            return (grad * det).unsqueeze(-1).unsqueeze(-1) * LinalgInv(a).mT
        # The inverse does not exist; this gradient is correct but treated as a constant by double backward.
        return grad.unsqueeze(-1).unsqueeze(-1) * from_array(_cofactor(a._data))


def det(A, *, out=None):
    """Determinant of a square matrix (or batch).

    >>> ember.linalg.det(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    _check_matrix_input("linalg.det", A)
    return _maybe_out(LinalgDet(A), out)


@register_op
class LinalgSlogdet:
    """Sign and log of the absolute determinant; backward ``grad_logabsdet * A^{-T}``."""

    name = "linalg_slogdet"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)

    def forward(a):
        sign, logabsdet = np.linalg.slogdet(a)
        return np.asarray(sign), np.asarray(logabsdet)

    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.inputs
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * LinalgInv(a).mT


def _slogdet(op_name, A, result_type):
    _check_matrix_input(op_name, A)
    return result_type(LinalgSlogdet(A))


def linalg_slogdet(A, *, out=None):
    """``(sign, logabsdet)`` with ``det(A) = sign * exp(logabsdet)``, stable for tiny or huge determinants.

    >>> ember.linalg.slogdet(ember.tensor([[-2.0, 0.0], [0.0, 3.0]]))
    ember.return_types.linalg_slogdet(
    sign=tensor(-1.),
    logabsdet=tensor(1.7918))
    """
    return _slogdet("linalg.slogdet", A, _rt.linalg_slogdet)


def slogdet(input):
    """Same as :func:`ember.linalg.slogdet` (named ``slogdet``).

    >>> ember.slogdet(ember.eye(2)).logabsdet
    tensor(0.)
    """
    return _slogdet("slogdet", input, _rt.slogdet)


def logdet(input):
    """Log of the determinant: ``nan`` when it is negative, ``-inf`` when zero.

    >>> ember.logdet(ember.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(1.7918)
    """
    sign, logabsdet = _slogdet("logdet", input, tuple)
    from ember.ops.arithmetic import Where
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
    """Cholesky factor L (lower, ``A = L L^T``) or U (``upper``, ``A = U^T U``)."""

    name = "linalg_cholesky"
    kind = "opaque"
    promote = "none"
    save = ("output",)

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


def linalg_cholesky(A, *, upper=False, out=None):
    """Cholesky factor of a symmetric positive-definite matrix: lower ``L`` with ``A = L L^T`` (only the lower
    triangle of A is read), or upper ``U`` with ``upper=True``.

    >>> ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    _check_matrix_input("linalg.cholesky", A)
    return _maybe_out(LinalgCholesky(A, upper=bool(upper)), out)


def cholesky(input, upper=False, *, out=None):
    """Cholesky factor (PyTorch's older ``torch.cholesky``; prefer :func:`ember.linalg.cholesky`).

    >>> ember.cholesky(ember.tensor([[4.0]]))
    tensor([[2.]])
    """
    return linalg_cholesky(input, upper=upper, out=out)


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
        return _rt.linalg_cholesky_ex((_maybe_out(from_array(factors.reshape(data.shape)), out),
                                       from_array(info.reshape(data.shape[:-2]))))
    info = np.zeros(A._data.shape[:-2], dtype=np.int32)
    return _rt.linalg_cholesky_ex((_maybe_out(factor, out), from_array(info)))


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
    """QR decomposition by Householder reflections (LAPACK geqrf/orgqr)."""

    name = "linalg_qr"
    kind = "opaque"
    promote = "none"
    save = ("inputs", "output")

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


def linalg_qr(A, mode="reduced", *, out=None):
    """QR decomposition ``A = Q R``: ``mode`` ``'reduced'`` (Q is m x k), ``'complete'`` (Q is m x m) or ``'r'``
    (only R; Q is empty).

    >>> Q, R = ember.linalg.qr(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> R.abs()
    tensor([[5.0000, 2.2000],
            [0.0000, 0.4000]])
    """
    op_name = "linalg.qr"
    if mode not in ("reduced", "complete", "r"):
        raise op_error(RuntimeError, op_name, f"qr received unrecognized mode '{mode}' but expected one of "
                       "'reduced' (default), 'r', or 'complete'")
    _check_matrix_input(op_name, A, square=False)
    return _rt.linalg_qr(LinalgQr(A, mode=mode))


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
    """Singular value decomposition ``A = U diag(S) Vh`` (LAPACK gesdd)."""

    name = "linalg_svd"
    kind = "opaque"
    promote = "none"
    save = ("output",)

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


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh``, singular values in descending order. The signs of
    singular vectors are not unique, so compare ``U * S @ Vh`` or ``|U|`` rather than ``U``.

    >>> U, S, Vh = ember.linalg.svd(ember.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> S
    tensor([3., 2.])
    """
    _check_matrix_input("linalg.svd", A, square=False)
    return _rt.linalg_svd(LinalgSvd(A, full_matrices=bool(full_matrices)))


def svd(input, some=True, compute_uv=True, *, out=None):
    """PyTorch's older ``torch.svd``: returns ``V`` (not ``Vh``) and reduced factors unless ``some=False``.

    >>> ember.svd(ember.tensor([[2.0, 0.0], [0.0, 1.0]])).S
    tensor([2., 1.])
    """
    _check_matrix_input("svd", input, square=False)
    if not compute_uv:
        s = svdvals(input)
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        zeros_u = from_array(np.zeros(batch + (m, m if not some else min(m, n)), dtype=input._data.dtype))
        zeros_v = from_array(np.zeros(batch + (n, n if not some else min(m, n)), dtype=input._data.dtype))
        return _rt.svd((zeros_u, s, zeros_v))
    u, s, vh = LinalgSvd(input, full_matrices=not some)
    return _rt.svd((u, s, vh.mT))


@register_op
class LinalgSvdvals:
    """Singular values; backward ``U diag(grad) Vh``."""

    name = "linalg_svdvals"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)

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


def svdvals(A, *, driver=None, out=None):
    """Singular values of A in descending order.

    >>> ember.linalg.svdvals(ember.tensor([[0.0, 2.0], [-3.0, 0.0]]))
    tensor([3., 2.])
    """
    _check_matrix_input("linalg.svdvals", A, square=False)
    return _maybe_out(LinalgSvdvals(A), out)


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise op_error(RuntimeError, "linalg.eigh", f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@register_op
class LinalgEigh:
    """Eigen-decomposition of a symmetric matrix (LAPACK syevd); only the ``UPLO`` triangle is read."""

    name = "linalg_eigh"
    kind = "opaque"
    promote = "none"
    save = ("output",)

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


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix; only the lower (``UPLO='L'``)
    or upper triangle is read. Eigenvector signs are not unique.

    >>> ember.linalg.eigh(ember.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    _check_uplo(UPLO)
    _check_matrix_input("linalg.eigh", A)
    return _rt.linalg_eigh(LinalgEigh(A, UPLO=UPLO))


@register_op
class LinalgEigvalsh:
    """Eigenvalues of a symmetric matrix; backward ``V diag(grad) V^T``."""

    name = "linalg_eigvalsh"
    kind = "opaque"
    promote = "none"
    save = ("inputs",)

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


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric matrix.

    >>> ember.linalg.eigvalsh(ember.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    _check_uplo(UPLO)
    _check_matrix_input("linalg.eigvalsh", A)
    return _maybe_out(LinalgEigvalsh(A, UPLO=UPLO), out)


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


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None):
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
        return _maybe_out(from_array(np.zeros(A._data.shape[:-2] + (n, m), dtype=A._data.dtype)), out)
    atol, rtol = _tolerances(A, atol, rtol, op_name)
    dtype = A._data.dtype
    from ember.ops.arithmetic import Where
    if hermitian:
        values, vectors = LinalgEigh(A, UPLO="L")
        magnitude = values.abs()
        largest = np.max(magnitude._data, axis=-1, keepdims=True)
        cutoff = np.maximum(_as_array(atol, dtype)[..., None], _as_array(rtol, dtype)[..., None] * largest)
        keep = magnitude._data > cutoff
        inverse_values = Where(from_array(keep), 1 / Where(from_array(keep), values, 1.0), 0.0)
        return _maybe_out(Matmul(vectors * inverse_values.unsqueeze(-2), vectors.mT), out)
    u, s, vh = LinalgSvd(A, full_matrices=False)
    largest = s._data[..., :1]
    cutoff = np.maximum(_as_array(atol, dtype)[..., None], _as_array(rtol, dtype)[..., None] * largest)
    keep = from_array(s._data > cutoff)
    inverse_s = Where(keep, 1 / Where(keep, s, 1.0), 0.0)
    return _maybe_out(Matmul(vh.mT * inverse_s.unsqueeze(-2), u.mT), out)


def pinverse(input, rcond=1e-15):
    """Pseudo-inverse with relative cutoff ``rcond`` (PyTorch's ``torch.pinverse``).

    >>> ember.pinverse(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return pinv(input, rtol=rcond, atol=0.0)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):
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
        return _maybe_out(from_array(np.zeros(data.shape[:-2], dtype=np.int64)), out)
    atol, rtol = _tolerances(A, atol, rtol, op_name)
    values = np.abs(np.linalg.eigvalsh(data)) if hermitian else np.linalg.svd(data, compute_uv=False)
    largest = np.max(values, axis=-1, keepdims=True)
    cutoff = np.maximum(_as_array(atol, data.dtype)[..., None], _as_array(rtol, data.dtype)[..., None] * largest)
    return _maybe_out(from_array(np.asarray(np.sum(values > cutoff, axis=-1), dtype=np.int64)), out)


def matrix_power(A, n, *, out=None):
    """``A`` multiplied by itself ``n`` times (by repeated squaring); ``n = 0`` gives the identity and negative
    ``n`` powers of the inverse. Integer matrices are allowed for ``n >= 0``.

    >>> ember.linalg.matrix_power(ember.tensor([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    op_name = "linalg.matrix_power"
    _require_tensor(op_name, A, "A", 1)
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
        return _maybe_out(A * 0 + identity if A._requires_grad else from_array(np.array(identity._data)), out)
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    power = A
    while n:
        if n & 1:
            result = power if result is None else Matmul(result, power)
        n >>= 1
        if n:
            power = Matmul(power, power)
    return _maybe_out(result, out)


# ------------------------------------------------------------------------------------------ lstsq
_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (the minimum-norm one when A is rank-deficient), with PyTorch's
    CPU outputs per ``driver`` (default ``'gelsy'``): ``residuals`` (squared, when m > n and A has full rank,
    except for gelsy), ``rank`` (not for gels) and ``singular_values`` (gelsd, gelss).

    >>> ember.linalg.lstsq(ember.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), ember.tensor([[1.0], [2.0], [3.0]])).solution
    tensor([[1.],
            [2.]])
    """
    op_name = "torch.linalg.lstsq"
    _require_tensor(op_name, A, "A", 1)
    _require_tensor(op_name, B, "B", 2)
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


def vecdot(x, y, *, dim=-1, out=None):
    """Dot product of vectors along ``dim`` (other dims broadcast).

    >>> ember.linalg.vecdot(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    op_name = "linalg.vecdot"
    _require_tensor(op_name, x, "x", 1)
    _require_tensor(op_name, y, "y", 2)
    if x._dtype is not y._dtype:
        raise op_error(RuntimeError, op_name, f"Expected x and y to have the same dtype, but found x of type "
                       f"{_torch_type_name(x._dtype)} and y of type {_torch_type_name(y._dtype)} instead")
    _check_float(op_name, x)
    try:
        shape = np.broadcast_shapes(x._data.shape, y._data.shape)
    except ValueError:
        raise op_error(RuntimeError, op_name, broadcast_message([x._data.shape, y._data.shape])) from None
    d = wrap_dim(dim, len(shape), op_name)
    from ember.ops.reduce import sum as reduce_sum
    return _maybe_out(reduce_sum(x * y, d), out)


def cond(A, p=None, *, out=None):
    """Condition number of A in the ``p`` norm: the ratio of the largest to the smallest singular value for
    ``p`` in (None, 2, -2), else ``norm(A, p) * norm(inv(A), p)`` ('fro', 'nuc', 1, -1, inf, -inf).

    >>> ember.linalg.cond(ember.tensor([[4.0, 0.0], [0.0, 2.0]]))
    tensor(2.)
    """
    op_name = "linalg.cond"
    _check_matrix_input(op_name, A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        singular = svdvals(A)
        largest, smallest = singular[..., 0], singular[..., -1]
        return _maybe_out(largest / smallest if p != -2 else smallest / largest, out)
    from ember.ops.reduce import matrix_norm
    return _maybe_out(matrix_norm(A, p) * matrix_norm(inv(A), p), out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix in A (``torch.linalg.diagonal``: ``ember.diagonal`` with matrix defaults).

    >>> ember.linalg.diagonal(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 4.])
    """
    from ember.ops.movement import diagonal as movement_diagonal
    return movement_diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


# ------------------------------------------------------------------------------------------ namespaces
# What ember.linalg exports from this family (see ember/linalg.py).
LINALG = {
    "matmul": matmul, "inv": inv, "inv_ex": inv_ex, "solve": solve, "solve_triangular": solve_triangular,
    "det": det, "slogdet": linalg_slogdet, "cholesky": linalg_cholesky, "cholesky_ex": cholesky_ex,
    "qr": linalg_qr, "svd": linalg_svd, "svdvals": svdvals, "eigh": eigh, "eigvalsh": eigvalsh, "pinv": pinv,
    "matrix_rank": matrix_rank, "matrix_power": matrix_power, "lstsq": lstsq, "vecdot": vecdot,
    "cross": linalg_cross, "multi_dot": multi_dot, "LinAlgError": LinAlgError, "solve_ex": solve_ex, "cond": cond,
    "diagonal": diagonal,
}

TENSOR_METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "outer": outer,
    "ger": ger, "addmm": addmm, "addmv": addmv, "addbmm": addbmm, "baddbmm": baddbmm, "addr": addr,
    "addmm_": addmm_, "addmv_": addmv_, "addbmm_": addbmm_, "baddbmm_": baddbmm_, "addr_": addr_,
    "kron": kron, "cross": cross, "det": det, "inverse": inverse, "logdet": logdet, "slogdet": slogdet,
    "cholesky": cholesky, "qr": qr, "svd": svd, "pinverse": pinverse, "matrix_power": matrix_power,
}
