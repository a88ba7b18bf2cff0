"""Matrix and tensor products: matmul, mm, bmm, mv, dot, vdot, inner, outer/ger, kron, vander, tensordot, einsum,
the fused ``beta * input + alpha * product`` forms (addmm, addmv, addr, addbmm, baddbmm), chain_matmul,
``linalg.multi_dot``, ``linalg.vecdot``, and the layers' products ``nn.functional.linear`` and ``bilinear``.

The rule for which linear-algebra file an op lives in: an op whose result is a sum of products of its operands'
entries (a matrix, batched, vector, outer, Kronecker or Einstein product, alone or added to an input; the powers of
a Vandermonde matrix are such products of one operand's entries) is here;
what ``torch.linalg`` computes by factoring, inverting or measuring a matrix (decompositions, solves, inverses,
determinants, pseudo-inverses, ranks, condition numbers, norms), and matrix powers and cross products, are in
``decompositions.py``. Each op is registered once with its function, method, in-place and ``out=`` forms (see
``registry.py``); products built from other ops (``mm``, ``dot``, ``kron``, ``tensordot`` ...) with
``register_function``.

Products keep PyTorch's rules: operands must share a dtype (no promotion), integer matrices are allowed,
float16/bfloat16 are multiplied in float32 and rounded once (``dtypes.opmath``). Backward formulas are written
with ember ops, so they can be differentiated again.

>>> import ember
>>> a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (a @ a).sum().backward(); a.grad
tensor([[ 7., 11.],
        [ 9., 13.]])
>>> import ember.nn.functional as F
>>> F.linear(ember.tensor([[1.0, 2.0]]), ember.tensor([[1.0, 1.0], [0.0, 1.0]]), ember.tensor([0.5, 0.0]))
tensor([[3.5000, 2.0000]])
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import HALF_NUMPY_DTYPES as _HALF
from ember.dtypes import opmath as _opmath
from ember.dtypes import rounded_like as _back
from ember.errors import broadcast_message, op_error
from ember.ops.arguments import require_tensor, wrap_dim
from ember.ops.movement import Cat, Flip
from ember.ops.reduce import Cumprod, Sum, sum_to_size
from ember.ops.registry import _torch_type_name, apply_inplace, register_function, register_op, write_out
from ember.tensor import Tensor, from_array

_FLOAT32 = np.dtype(np.float32)
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                 "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool"}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ------------------------------------------------------------------------------------------ helpers
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


def _check_float(op_name, A):
    """Linear algebra's inputs (``linalg.vecdot`` and the decompositions): floating point, not half precision."""
    dtype = A._dtype
    if dtype.category < 2:
        raise op_error(RuntimeError, op_name, f"Expected a floating point or complex tensor as input. Got "
                       f"{_torch_type_name(dtype)}")
    if dtype is _dt.float16 or dtype is _dt.bfloat16:
        raise op_error(RuntimeError, op_name, f"Low precision dtypes not supported. Got {_torch_type_name(dtype)}")


def _cast(array, dtype):
    """``array`` in ``dtype`` (None stays None)."""
    return array if array is None or array.dtype == dtype else array.astype(dtype)


def _np_matmul(a, b):
    """``a @ b`` on arrays, one BLAS call where possible: a batch of matrices times one matrix is folded."""
    dtype = a.dtype
    if dtype in _HALF:  # PyTorch accumulates half-precision products in float32
        return np.asarray(_np_matmul(_opmath(a), _opmath(b))).astype(dtype)
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
def _eye_array(n, m, offset, dtype):
    eye = np.eye(n, m, offset, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _eye(n, like, m=None, offset=0):
    return from_array(_eye_array(n, n if m is None else m, offset, like._data.dtype))


def _fold(t):
    """``t`` as one matrix: its leading dims folded into the rows (explicit sizes, so empty tensors work)."""
    shape = t._data.shape
    return t.reshape(math.prod(shape[:-1]), shape[-1])


# ------------------------------------------------------------------------------------------ matmul
@register_op
class Matmul:
    """Matrix product with PyTorch's cases: 1-D x 1-D is a dot product, a 1-D operand is treated as a row
    (first) or column (second) vector, and leading batch dims broadcast.

    >>> ember.matmul(ember.ones(2, 3), ember.ones(3)).tolist()
    [3.0, 3.0]
    >>> ember.matmul(ember.ones(5, 1, 2, 3), ember.ones(4, 3, 2)).shape
    ember.Size([5, 4, 2, 2])
    """

    name = "matmul"
    kind = "matmul"
    promote = staticmethod(_same_dtype_rule("matmul", "addmm_impl_cpu_", _mm_mismatch))
    save = ("inputs",)
    plain_matmul = True  # ember.compile may recompute it in backward (attention probabilities)
    names = ("matmul", "linalg.matmul")
    method = True

    def function(input, other, *, out=None):
        if not isinstance(input, Tensor) or not isinstance(other, Tensor):
            require_tensor("matmul", input, "input", 1)
            require_tensor("matmul", other, "other", 2)
        a_shape, b_shape = input._data.shape, other._data.shape
        if len(a_shape) == 2 and len(b_shape) == 2:
            if a_shape[1] != b_shape[0]:
                _check_matmul_shapes("matmul", a_shape, b_shape)
        elif not a_shape or not b_shape or a_shape[-1] != (b_shape[0] if len(b_shape) == 1 else b_shape[-2]) or (
                len(a_shape) > 2 and len(b_shape) > 2 and a_shape[:-2] != b_shape[:-2]):
            _check_matmul_shapes("matmul", a_shape, b_shape)
        result = Matmul(input, other)
        return result if out is None else write_out(result, out)

    def forward(a, b):
        if a.ndim == 2 and b.ndim == 2 and a.dtype not in _HALF:
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


def _check_same_dtype(op_name, a, b, message):
    if a._dtype is not b._dtype:
        raise op_error(RuntimeError, op_name, message(a._dtype, b._dtype))


@register_function(method=True, out=True)
def mm(input, mat2, *, out=None):
    """Product of two matrices (no broadcasting; see :func:`matmul`).

    >>> ember.mm(ember.tensor([[1.0, 2.0]]), ember.tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    require_tensor("mm", input, "input", 1)
    require_tensor("mm", mat2, "mat2", 2)
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
    result = Matmul(input, mat2)
    return result if out is None else write_out(result, out)


@register_function(method=True, out=True)
def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, k) and (b, k, m) tensors (no broadcasting).

    >>> ember.bmm(ember.ones(4, 2, 3), ember.ones(4, 3, 5)).shape
    ember.Size([4, 2, 5])
    """
    require_tensor("bmm", input, "input", 1)
    require_tensor("bmm", mat2, "mat2", 2)
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
    result = Matmul(input, mat2)
    return result if out is None else write_out(result, out)


@register_function(method=True, out=True)
def mv(input, vec):
    """Matrix-vector product.

    >>> ember.mv(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    require_tensor("mv", input, "input", 1)
    require_tensor("mv", vec, "vec", 2)
    a_shape, v_shape = input._data.shape, vec._data.shape
    if len(a_shape) != 2 or len(v_shape) != 1:
        raise op_error(RuntimeError, "mv", f"vector + matrix @ vector expected, got 1, {len(a_shape)}, {len(v_shape)} "
                       f"(shapes {tuple(a_shape)} and {tuple(v_shape)})")
    if a_shape[1] != v_shape[0]:
        _check_matmul_shapes("mv", a_shape, v_shape)
    if input._dtype is not vec._dtype or input._dtype is _dt.bool:
        _same_dtype_rule("mv", "addmv_impl_cpu", _mm_mismatch)((input, vec))
    return Matmul(input, vec)


def _dot_mismatch(a, b):
    return f"dot : expected both vectors to have same dtype, but found {_torch_type_name(a)} and {_torch_type_name(b)}"


@register_function(method=True, out=True)
def dot(input, tensor):
    """Dot product of two 1-D tensors of one dtype.

    >>> ember.dot(ember.tensor([1, 2, 3]), ember.tensor([4, 5, 6]))
    tensor(32)
    """
    require_tensor("dot", input, "input", 1)
    require_tensor("dot", tensor, "tensor", 2)
    a_shape, b_shape = input._data.shape, tensor._data.shape
    if len(a_shape) != 1 or len(b_shape) != 1:
        raise op_error(RuntimeError, "dot", f"1D tensors expected, but got {len(a_shape)}D and {len(b_shape)}D tensors "
                       f"(shapes {tuple(a_shape)} and {tuple(b_shape)})")
    _check_same_dtype("dot", input, tensor, _dot_mismatch)
    if input._dtype is _dt.bool:
        raise op_error(NotImplementedError, "dot", "\"dot\" not implemented for 'Bool'")
    if a_shape[0] != b_shape[0]:
        _check_matmul_shapes("dot", a_shape, b_shape)
    return Matmul(input, tensor)


@register_function(method=True, out=True)
def vdot(input, other):
    """Dot product that conjugates its first argument; for real tensors the same as :func:`dot`.

    >>> ember.vdot(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return dot(input, other)


@register_function(method=True, out=True)
def inner(input, other):
    """Sum of products over the last dim of both tensors; the result has shape
    ``input.shape[:-1] + other.shape[:-1]`` (a 0-d operand scales the other).

    >>> ember.inner(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """
    require_tensor("inner", input, "input", 1)
    require_tensor("inner", other, "other", 2)
    if input._dtype is not other._dtype:
        raise op_error(RuntimeError, "inner", f"both inputs should have same dtype, but got "
                       f"{_torch_type_name(input._dtype)} and {_torch_type_name(other._dtype)}")
    a_shape, b_shape = input._data.shape, other._data.shape
    if not a_shape or not b_shape:
        return input * other
    if a_shape[-1] != b_shape[-1]:
        raise op_error(RuntimeError, "inner", f"inner() the last dimension must match on both input tensors but got "
                       f"shapes {list(a_shape)} and {list(b_shape)}")
    if len(a_shape) == 1 and len(b_shape) == 1:
        return Matmul(input, other)
    product = Matmul(_fold(input), _fold(other).mT)
    return product.reshape(a_shape[:-1] + b_shape[:-1])


@register_function(names=("outer", "ger"), method=True, out=True)
def outer(input, vec2):
    """Outer product of two vectors: ``result[i, j] = input[i] * vec2[j]`` (dtypes promote).

    >>> ember.outer(ember.tensor([1, 2]), ember.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    require_tensor("outer", input, "input", 1)
    require_tensor("outer", vec2, "vec2", 2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise op_error(RuntimeError, "outer", f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D "
                           f"(shape {tuple(t._data.shape)})")
    return input.reshape(-1, 1) * vec2


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


def _scale(grad, factor):
    return grad if factor == 1 else grad * factor


def _add_product_op(op_name, product, grads, bool_kernel, product_shape, function):
    """Register ``beta * input + alpha * product(m1, m2)`` from its NumPy ``product``, its gradients
    ``grads(grad, m1, m2, need_m1, need_m2) -> (g1, g2)`` and ``product_shape(m1, m2)`` (which checks the
    operands), with ``function`` (documented by its docstring) and its method and in-place forms."""

    def forward(ctx, input, m1, m2, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        dtype = m1.dtype
        if dtype in _HALF:
            if op_name == "addbmm":
                # PyTorch adds one batch at a time into the half-precision result: round after each, as it does.
                result = np.broadcast_to(_combine(_opmath(input), np.zeros(m1.shape[1:2] + m2.shape[2:], np.float32),
                                                  beta, 1), m1.shape[1:2] + m2.shape[2:]).astype(dtype)
                for b in range(m1.shape[0]):
                    result = _combine(result.astype(np.float32), np.matmul(_opmath(m1[b]), _opmath(m2[b])),
                                      1, alpha).astype(dtype)
                return result
            result = _combine(_opmath(input), product(_opmath(m1), _opmath(m2)), beta, alpha)
            return result.astype(dtype)
        return _cast(_combine(input, product(m1, m2), beta, alpha), dtype)

    def backward(ctx, grad):
        _, m1, m2 = ctx.inputs
        beta, alpha = ctx.beta, ctx.alpha
        grad_input = _scale(grad, beta) if ctx.next_edges[0] is not None else None
        g1, g2 = grads(grad, m1, m2, ctx.next_edges[1] is not None, ctx.next_edges[2] is not None)
        return grad_input, (None if g1 is None else _scale(g1, alpha)), (None if g2 is None else _scale(g2, alpha))

    def inplace(self, *operands, beta=1, alpha=1):
        require_tensor(op_name + "_", self, "self", 1)
        if len(operands) != 2:
            raise op_error(TypeError, op_name + "_", f"{op_name}_() takes 2 tensors besides self, got {len(operands)}")
        out_shape = product_shape(*operands)
        if tuple(out_shape) != self._data.shape:
            raise op_error(RuntimeError, op_name + "_", f"the product has shape {tuple(out_shape)}, which does not "
                           f"match the shape of self {tuple(self._data.shape)}")
        beta, alpha = _scalars(self._dtype, beta, alpha)
        return apply_inplace(op, self, *operands, beta=beta, alpha=alpha)

    inplace.__doc__ = f"In-place :func:`ember.{op_name}` into ``self`` (which must have the product's shape)."
    op = register_op(type(op_name.title(), (), {
        "name": op_name, "kind": "matmul", "save": ("inputs",), "forward": forward, "backward": backward,
        "promote": staticmethod(_same_dtype_rule(op_name, bool_kernel, _addmm_mismatch)),
        "function": function, "method": True, "inplace": inplace, "__doc__": function.__doc__,
        "__module__": __name__}))
    return op


def _sum_of_batch_products(b1, b2):
    batch, n, k = b1.shape
    m = b2.shape[2]
    # sum_b b1[b] @ b2[b] is one (n, batch*k) @ (batch*k, m) GEMM.
    return np.matmul(np.swapaxes(b1, 0, 1).reshape(n, batch * k), b2.reshape(batch * k, m))


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
        require_tensor(op_name, t, name, i + 1)


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


def _add_product(op, product_shape, input, m1, m2, beta, alpha):
    require_tensor(op.name, input, "input", 1)
    out_shape = product_shape(m1, m2)
    _check_addable(op.name, input, out_shape)
    beta, alpha = _scalars(m1._dtype, beta, alpha)
    return op(input, m1, m2, beta=beta, alpha=alpha)


def _addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape (with ``beta=0`` it
    is ignored, NaNs included).

    >>> ember.addmm(ember.ones(2), ember.ones(2, 3), ember.ones(3, 2), beta=0.5, alpha=2)
    tensor([[6.5000, 6.5000],
            [6.5000, 6.5000]])
    """
    return _add_product(Addmm, _addmm_shape, input, mat1, mat2, beta, alpha)


def _addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``.

    >>> ember.addmv(ember.tensor([1.0, 1.0]), ember.ones(2, 3), ember.ones(3))
    tensor([4., 4.])
    """
    return _add_product(Addmv, _addmv_shape, input, mat, vec, beta, alpha)


def _addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``.

    >>> ember.addbmm(ember.zeros(2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2))
    tensor([[12., 12.],
            [12., 12.]])
    """
    return _add_product(Addbmm, _addbmm_shape, input, batch1, batch2, beta, alpha)


def _baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches.

    >>> ember.baddbmm(ember.ones(3, 2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2), alpha=0.5).shape
    ember.Size([3, 2, 2])
    """
    return _add_product(Baddbmm, _baddbmm_shape, input, batch1, batch2, beta, alpha)


def _addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> ember.addr(ember.zeros(2, 2), ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    tensor([[3., 4.],
            [6., 8.]])
    """
    return _add_product(Addr, _addr_shape, input, vec1, vec2, beta, alpha)


Addmm = _add_product_op(
    "addmm", np.matmul,
    lambda g, m1, m2, n1, n2: (Matmul(g, m2.mT) if n1 else None, Matmul(m1.mT, g) if n2 else None),
    "addmm_impl_cpu_", _addmm_shape, _addmm)
Addmv = _add_product_op(
    "addmv", np.matmul,
    lambda g, m, v, n1, n2: (g.unsqueeze(-1) * v if n1 else None, Matmul(m.mT, g) if n2 else None),
    "addmv_impl_cpu", _addmv_shape, _addmv)
Addbmm = _add_product_op(
    "addbmm", _sum_of_batch_products,
    lambda g, b1, b2, n1, n2: (Matmul(g.unsqueeze(0), b2.mT) if n1 else None,
                               Matmul(b1.mT, g.unsqueeze(0)) if n2 else None),
    "addbmm", _addbmm_shape, _addbmm)
Baddbmm = _add_product_op(
    "baddbmm", np.matmul,
    lambda g, b1, b2, n1, n2: (Matmul(g, b2.mT) if n1 else None, Matmul(b1.mT, g) if n2 else None),
    "baddbmm", _baddbmm_shape, _baddbmm)
Addr = _add_product_op(
    "addr", lambda v1, v2: np.multiply.outer(v1, v2),
    lambda g, v1, v2, n1, n2: (Matmul(g, v2) if n1 else None, Matmul(v1, g) if n2 else None),
    "addr", _addr_shape, _addr)


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

    name = "einsum"
    kind = "matmul"
    promote = staticmethod(_einsum_dtype_rule)
    save = ("inputs",)
    out = False

    def function(*args):
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
            require_tensor("einsum", t, f"operands[{i}]", i + 2)
        subscripts, output = _parse_einsum(equation, tuple(t._data.shape for t in operands))
        return Einsum(*operands, subscripts=subscripts, output=output)

    def forward(ctx, *arrays, subscripts, output):
        ctx.subscripts, ctx.output_subscript = subscripts, output
        dtype = arrays[0].dtype
        if dtype in _HALF:
            return np.asarray(_np_einsum(subscripts, output, [_opmath(a) for a in arrays])).astype(dtype)
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


@register_function
def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` dims of ``a`` with ``b``: an int (the last ``dims`` of ``a`` with the first of ``b``)
    or two lists of dims.

    >>> ember.tensordot(ember.ones(2, 3, 4), ember.ones(3, 4, 5)).shape
    ember.Size([2, 5])
    >>> ember.tensordot(ember.ones(2, 3), ember.ones(3, 5), dims=([1], [0])).shape
    ember.Size([2, 5])
    """
    require_tensor("tensordot", a, "a", 1)
    require_tensor("tensordot", b, "b", 2)
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
    result = result
    return result if out is None else write_out(result, out)


@register_function(method=True, out=True)
def kron(input, other):
    """Kronecker product: blocks ``input[i, j] * other`` (dims are aligned from the right).

    >>> ember.kron(ember.eye(2), ember.tensor([[1.0, 2.0]]))
    tensor([[1., 2., 0., 0.],
            [0., 0., 1., 2.]])
    """
    require_tensor("kron", input, "input", 1)
    require_tensor("kron", other, "other", 2)
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(x for s in a_shape for x in (s, 1)))
    b = other.reshape(tuple(x for s in b_shape for x in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(a_shape, b_shape)))


@register_function
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-d ``x``: column ``j`` holds ``x ** (N - 1 - j)`` (``x ** j`` with
    ``increasing=True``), ``N`` columns (default ``len(x)``); bool and integer inputs give int64. The powers are
    running products of ``x`` (a product of its entries, hence this family), so gradients are exact at zero too.

    >>> ember.vander(ember.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [4, 2, 1],
            [9, 3, 1]])
    >>> ember.vander(ember.tensor([2.0, -1.0]), N=4, increasing=True)
    tensor([[ 1.,  2.,  4.,  8.],
            [ 1., -1.,  1., -1.]])
    """
    require_tensor("vander", x, "x")
    if x._data.ndim != 1:
        raise op_error(RuntimeError, "vander", "x must be a one-dimensional tensor.")
    rows = x._data.shape[0]
    if N is None:
        N = rows
    elif not isinstance(N, int):
        raise op_error(TypeError, "vander", f"vander(): argument 'N' must be int, not {type(N).__name__}")
    if N < 0:
        raise op_error(RuntimeError, "vander", "N must be non-negative.")
    dtype = _dt.promote_types(x._dtype, _dt.int64)
    ones = from_array(np.ones((rows, min(N, 1)), dtype.numpy_dtype))
    if N <= 1:  # no power of x but the 0th: nothing to differentiate, as in PyTorch
        return ones
    columns = x.reshape(rows, 1).expand(rows, N - 1)
    powers = Cat.function([ones, Cumprod.function(columns if x._dtype is dtype else columns.to(dtype), 1)], 1)
    return powers if increasing else Flip(powers, dims=(1,))


# ------------------------------------------------------------------------------------------ chains of products
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


@register_function(names=("linalg.multi_dot",), out=True)
def multi_dot(tensors):
    """Product of two or more matrices in the cheapest order; the first may be a row vector and the last a
    column vector (1-D).

    >>> ember.linalg.multi_dot([ember.ones(3), ember.ones(3, 4), ember.ones(4)])
    tensor(12.)
    """
    return _multi_dot("multi_dot", list(tensors), allow_vectors=True)


def _multi_dot(op_name, tensors, allow_vectors):
    n = len(tensors)
    if n < (2 if allow_vectors else 1):
        raise op_error(RuntimeError, op_name, f"{op_name}(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        require_tensor(op_name, t, f"tensors[{i}]", 1)
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


@register_function(out=True)
def chain_matmul(*matrices):
    """Product of 2-D matrices in the cheapest order (deprecated in PyTorch for :func:`ember.linalg.multi_dot`).

    >>> ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1)).tolist()
    [[12.0], [12.0]]
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    return _multi_dot("chain_matmul", list(matrices), allow_vectors=False)


@register_function(names=("linalg.vecdot",), out=True)
def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along ``dim`` (other dims broadcast).

    >>> ember.linalg.vecdot(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    op_name = "linalg.vecdot"
    require_tensor(op_name, x, "x", 1)
    require_tensor(op_name, y, "y", 2)
    if x._dtype is not y._dtype:
        raise op_error(RuntimeError, op_name, f"Expected x and y to have the same dtype, but found x of type "
                       f"{_torch_type_name(x._dtype)} and y of type {_torch_type_name(y._dtype)} instead")
    _check_float(op_name, x)
    try:
        shape = np.broadcast_shapes(x._data.shape, y._data.shape)
    except ValueError:
        raise op_error(RuntimeError, op_name, broadcast_message([x._data.shape, y._data.shape])) from None
    d = wrap_dim(dim, len(shape), op_name)
    return Sum.function(x * y, d)


# ------------------------------------------------------------------------------------------ linear, bilinear
@register_op
class Linear:
    """``input @ weight.T + bias``: ``input`` is ``(*, in_features)``, ``weight`` ``(out_features,
    in_features)``, ``bias`` ``(out_features,)``. The op takes any number of leading dims of ``input``, and a
    2-d or 1-d ``weight``; when its backward is itself recorded (``create_graph=True``) it is written with ember
    ops, so higher derivatives are exact.

    >>> ember.nn.functional.linear(ember.ones(2, 3), ember.ones(4, 3)).shape
    ember.Size([2, 4])
    """

    name = "linear"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)
    functional = "only"
    out = False

    # out= (ember.compile's arena): the GEMM written into `out`, then the bias added in place, as forward does.
    def can_forward_into(out, x, weight, bias):
        return (x.dtype == out.dtype and weight.dtype == out.dtype and weight.ndim == 2 and x.ndim > 0
                and x.shape[-1] != 0 and (bias is None or (bias.dtype == out.dtype and bias.ndim <= 1)))

    def forward_into(out, x, weight, bias):
        np.matmul(x.reshape(-1, weight.shape[1]), weight.T, out=out.reshape(-1, weight.shape[0]))
        if bias is not None:
            out += bias

    def function(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
            raise op_error(TypeError, "linear", f"linear(): input and weight must be Tensors, got "
                           f"{type(input).__name__} and {type(weight).__name__}")
        x_shape, w_shape = input._data.shape, weight._data.shape
        if not x_shape or weight._data.ndim not in (1, 2):
            raise op_error(RuntimeError, "linear", f"linear(): expected input of shape (*, in_features) and weight of shape "
                           f"(out_features, in_features), got input {list(x_shape)} and weight {list(w_shape)}")
        if x_shape[-1] != w_shape[-1]:
            rows = math.prod(x_shape[:-1])
            raise op_error(RuntimeError, "linear", f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x_shape[-1]} and "
                           f"{w_shape[-1]}x{w_shape[0] if len(w_shape) == 2 else 1}): input has shape {list(x_shape)} "
                           f"(in_features={x_shape[-1]}) but weight has shape {list(w_shape)} (in_features={w_shape[-1]})")
        if weight._dtype is not input._dtype or (bias is not None and bias._dtype is not input._dtype):
            described = f"input {input._dtype.name}, weight {weight._dtype.name}" + (
                f", bias {bias._dtype.name}" if bias is not None else "")
            raise op_error(RuntimeError, "linear", f"expected input, weight and bias to have the same dtype, but got "
                           f"{described}")
        if bias is not None and (len(w_shape) != 2 or bias._data.shape != w_shape[:1]):
            out_shape = x_shape[:-1] + w_shape[:-1]
            try:
                np.broadcast_shapes(tuple(bias._data.shape), out_shape)
            except ValueError:
                raise op_error(RuntimeError, "linear", f"bias of shape {list(bias._data.shape)} does not broadcast to the output shape "
                               f"{list(out_shape)} (expected bias of shape [{w_shape[0] if len(w_shape) == 2 else ''}])") from None
        return Linear(input, weight, bias)

    def forward(x, weight, bias):
        x_dtype = x.dtype
        low_precision = x_dtype in _HALF
        dtype = _FLOAT32 if low_precision else x_dtype  # half precision is multiplied in float32 (dtypes.opmath)
        x_shape = x.shape
        in_features = x_shape[-1]
        # explicit row counts: reshape(-1, 0) is ambiguous to NumPy when in_features == 0
        rows = x if x.ndim == 2 else x.reshape(math.prod(x_shape[:-1]), in_features)
        w = weight if weight.ndim == 2 else weight.reshape(math.prod(weight.shape[:-1]), in_features)
        if low_precision:
            rows, w = _cast(rows, dtype), _cast(w, dtype)
        # ndarray.dot: the same GEMM as `@`, without the ufunc overhead that dominates small layers
        out = rows.dot(w.T)
        out_shape = x_shape[:-1] + weight.shape[:-1]
        if bias is not None and not low_precision and bias.ndim == 1 and bias.dtype is x_dtype:
            out += bias
            return out if out.shape == out_shape else out.reshape(out_shape)
        if bias is not None:
            if bias.ndim <= 1:
                out += _cast(bias, dtype)
            else:
                out = out.reshape(out_shape) + _cast(bias, dtype)
        return _cast(out, x.dtype).reshape(out_shape)

    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
        in_features = x._data.shape[-1]
        out_features = weight._data.shape[0] if weight._data.ndim == 2 else 1
        grad_x = grad_w = grad_b = None
        if STATE.enabled:
            g2 = grad.reshape(-1, out_features)
            w2 = weight.reshape(out_features, in_features)
            if need_x:
                grad_x = Linear(g2, w2.t(), None).reshape(x._data.shape)
            if need_w:
                rows = x.reshape(math.prod(x._data.shape[:-1]), in_features)
                grad_w = Linear(g2.t(), rows.t(), None).reshape(weight._data.shape)
            if need_b:
                grad_b = g2.sum(0)
            return grad_x, grad_w, grad_b
        grad_data = _opmath(grad._data)
        dtype = grad_data.dtype
        g2 = grad_data.reshape(-1, out_features)
        if need_x:
            w2 = _cast(weight._data, dtype).reshape(out_features, in_features)
            grad_x = from_array(_back(g2.dot(w2).reshape(x._data.shape), x._data))
        if need_w:
            rows = _cast(x._data.reshape(math.prod(x._data.shape[:-1]), in_features), dtype)
            grad_w = from_array(_back(g2.T.dot(rows).reshape(weight._data.shape), weight._data))
        if need_b:
            if bias._data.shape == (out_features,):
                grad_b = from_array(_back(g2.sum(axis=0), bias._data))
            else:
                grad_b = from_array(_back(sum_to_size(from_array(grad_data), *bias._data.shape)._data, bias._data))
        return grad_x, grad_w, grad_b


@register_function(functional=True)
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``; ``weight`` is ``(out, in1, in2)``.

    >>> x1, x2 = ember.ones(2, 3), ember.ones(2, 4)
    >>> ember.nn.functional.bilinear(x1, x2, ember.ones(5, 3, 4)).shape
    ember.Size([2, 5])
    """
    s1, s2, sw = list(input1._data.shape), list(input2._data.shape), list(weight._data.shape)
    if len(sw) != 3:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): weight must be 3-dimensional (out, in1, in2), got shape {sw}")
    if len(s1) != len(s2) or s1[:-1] != s2[:-1]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input batch dimensions do not match: got {s1[:-1]} and "
                       f"{s2[:-1]} (input1 {s1}, input2 {s2})")
    if s1[-1] != sw[1]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input1 size does not match weight size: got {s1[-1]} but "
                       f"expected {sw[1]} (input1 {s1}, weight {sw})")
    if s2[-1] != sw[2]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): input2 size does not match weight size: got {s2[-1]} but "
                       f"expected {sw[2]} (input2 {s2}, weight {sw})")
    if bias is not None and list(bias._data.shape) != [sw[0]]:
        raise op_error(RuntimeError, "bilinear", f"bilinear(): bias size does not match weight size: got "
                       f"{list(bias._data.shape)} "
                       f"but expected [{sw[0]}]")
    out_features, in1, in2 = sw
    # weight_rows[o * in2 + j, i] = weight[o, i, j], so input1 @ weight_rows.T holds input1 @ weight[o] for every o.
    weight_rows = weight.permute(0, 2, 1).reshape(out_features * in2, in1)
    partial = Linear.function(input1, weight_rows).reshape(tuple(s1[:-1]) + (out_features, in2))
    out = (partial * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out
