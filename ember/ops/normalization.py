"""Normalization ops (``torch.nn.functional``): batch, layer, group, instance, RMS and local response
normalization, and ``normalize``.

Each fused op (batch, layer, group and RMS norm; instance norm is group norm with one channel per group)
computes its statistics in NumPy (in float32 for float16/bfloat16 inputs, ``dtypes.opmath``, as PyTorch's CPU
kernels do), keeps the normalized input for backward, and has a closed-form backward. When the backward
itself is recorded (``create_graph=True``), the same formulas are written with ember ops instead, so double
backward is exact. Their functions (in ``ember.nn.functional``, and in ``ember`` where ``torch`` has them
too) come from the op definitions; ``instance_norm``, ``local_response_norm`` and ``normalize`` are
registered compositions.

>>> import ember
>>> import ember.nn.functional as F
>>> F.layer_norm(ember.tensor([[1.0, 2.0, 3.0]]), (3,))
tensor([[-1.2247,  0.0000,  1.2247]])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import HALF_NUMPY_DTYPES, opmath, rounded_like
from ember.errors import op_error
from ember.ops.activation import _BLAS_FLOATS, _ones
from ember.ops.arithmetic import Where, opmath_tensor
from ember.ops.math_functions import Sqrt
from ember.ops.registry import recording as _recording
from ember.ops.registry import register_function, register_op, write_out
from ember.tensor import Tensor, from_array


def _compute_dtype(dtype):
    """The NumPy dtype ``dtypes.opmath`` computes ``dtype`` data in (float32 for float16/bfloat16), for code that
    needs the dtype before it has the array."""
    return _dt._OPMATH_NUMPY if dtype in HALF_NUMPY_DTYPES else dtype


def _wrap(arr, dtype):
    """A gradient array as a Tensor in the input's dtype (``dtype`` is an ember dtype)."""
    return from_array(arr if arr.dtype == dtype.numpy_dtype else arr.astype(dtype.numpy_dtype))


# ------------------------------------------------------------------------------------------ NumPy kernels
def _row_sums(rows):
    """Sums of the rows of a 2-d array: one BLAS matrix-vector product for contiguous float rows."""
    width = rows.shape[1]
    if width >= 16 and rows.dtype in _BLAS_FLOATS and rows.flags.c_contiguous:
        return np.matmul(rows, _ones(width, rows.dtype))
    return rows.sum(axis=1)


def _column_sums(rows):
    """Sums of the columns of a 2-d array (the weight and bias gradients of a row normalization)."""
    if rows.shape[0] >= 16 and rows.dtype in _BLAS_FLOATS and rows.flags.c_contiguous:
        return np.matmul(_ones(rows.shape[0], rows.dtype), rows)
    return rows.sum(axis=0)


def _row_normalize(rows, eps, center):
    """``(xhat, rstd)`` of each row of the 2-d array ``rows``; ``rstd`` has shape (M, 1)."""
    width = rows.shape[1]
    if center:
        if width:
            mean = _row_sums(rows)
            mean *= 1 / width
            xhat = np.subtract(rows, mean[:, None])
        else:
            xhat = rows.copy()
        squares = np.einsum("ij,ij->i", xhat, xhat)
    else:
        xhat = None
        squares = np.einsum("ij,ij->i", rows, rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        rstd = (1.0 / np.sqrt(squares / max(width, 1) + eps)).astype(rows.dtype, copy=False)[:, None]
    if center:
        xhat *= rstd
    else:
        xhat = rows * rstd
    return xhat, rstd


def _row_backward(g, xhat, rstd, center, owned=False):
    """Input gradient of row normalization, given ``g`` (the output gradient times the weight); with
    ``owned`` the result is written into ``g``."""
    width = g.shape[1]
    projection = np.einsum("ij,ij->i", g, xhat)[:, None]
    projection /= max(width, 1)
    mean = _row_sums(g)[:, None] / width if center and width else None
    dx = g if owned else g.copy()
    if mean is not None:
        dx -= mean
    projection = np.multiply(xhat, projection)
    dx -= projection
    dx *= rstd
    return dx


def _layer_norm_kernel(rows, weight, bias, eps):
    """ember.kernels.rowwise's layer_norm C kernel for float32 (the compile extra): ``(out, xhat, rstd)``, or None."""
    if rows.dtype != np.float32 or any(p is not None and p.dtype != np.float32 for p in (weight, bias)):
        return None
    from ember.kernels import rowwise
    return rowwise.layer_norm(rows, None if weight is None else weight.reshape(-1),
                              None if bias is None else bias.reshape(-1), eps)


def _affine_row_backward(g, xhat, rstd, weight, center, need_x, need_w, need_b):
    """``(grad_x, grad_w, grad_b)`` of ``xhat * weight + bias`` with ``xhat`` the row normalization of x.

    ``g * xhat`` is formed once: its column sums are the weight gradient and its product with ``weight``
    the per-row projection of the input gradient, so no ``g * weight`` product has to be reduced.
    """
    if center and g.dtype == np.float32 and (weight is None or weight.dtype == np.float32):
        from ember.kernels import rowwise
        fused = rowwise.layer_norm_backward(g, xhat, rstd, weight, need_x, need_w, need_b)
        if fused is not None:
            return fused
    width = g.shape[1]
    grad_w = grad_b = grad_x = None
    product = np.multiply(g, xhat) if need_w or need_x else None
    if need_w:
        grad_w = _column_sums(product)
    if need_b:
        grad_b = _column_sums(g)
    if need_x:
        scale = 1 / max(width, 1)
        if weight is None:
            projection = _row_sums(product)
            mean = _row_sums(g) if center else None
            dx = g.copy()
        else:
            projection = np.matmul(product, weight)
            mean = np.matmul(g, weight) if center else None
            dx = np.multiply(g, weight)
        if mean is not None:
            mean *= scale
            dx -= mean[:, None]
        projection *= scale
        np.multiply(xhat, projection[:, None], out=product)
        dx -= product
        dx *= rstd
        grad_x = dx
    return grad_x, grad_w, grad_b


# ------------------------------------------------------------------------------------------ ember-op formulas
def _normalize_graph(x, dims, eps, center):
    """``(xhat, rstd)`` of ``x`` over ``dims`` written with ember ops (used when backward is recorded)."""
    centered = x - x.mean(dims, keepdim=True) if center else x
    rstd = 1.0 / Sqrt((centered * centered).mean(dims, keepdim=True) + eps)
    return centered * rstd, rstd


def _input_grad_graph(g, xhat, rstd, dims, center):
    """Input gradient of normalization over ``dims`` with ember ops (differentiable again)."""
    dx = g - xhat * (g * xhat).mean(dims, keepdim=True)
    if center:
        dx = dx - g.mean(dims, keepdim=True)
    return dx * rstd


# ------------------------------------------------------------------------------------------ checks
def _normalized_shape(normalized_shape, op_name):
    if isinstance(normalized_shape, int) or hasattr(normalized_shape, "__index__") and not isinstance(normalized_shape, Tensor):
        return (int(normalized_shape),)
    try:
        return tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise op_error(TypeError, op_name, f"normalized_shape must be an int or a sequence of ints, got "
                       f"{normalized_shape!r}") from None


def _check_trailing(input, normalized_shape, weight, bias, op_name, joiner=", "):
    shape = tuple(input._data.shape)
    k = len(normalized_shape)
    if k == 0:
        raise op_error(RuntimeError, op_name, "Expected normalized_shape to be at least 1-dimensional, i.e., "
                       "containing at least one element, but got normalized_shape = []")
    if shape[len(shape) - k:] != normalized_shape or len(shape) < k:
        raise op_error(RuntimeError, op_name, f"Given normalized_shape={list(normalized_shape)}, expected input with "
                       f"shape [*{joiner}{', '.join(map(str, normalized_shape))}], but got input of size"
                       f"{list(shape)}")
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param._data.shape) != normalized_shape:
            raise op_error(RuntimeError, op_name, f"Expected {name} to be of same shape as normalized_shape, but got "
                           f"{name} of shape {list(param._data.shape)} and normalized_shape = "
                           f"{list(normalized_shape)}")


def _check_floating(input, op_name, *params):
    if not input._dtype.is_floating_point:
        raise op_error(RuntimeError, op_name, f'"{op_name}" not implemented for '
                       f"'{input._dtype.name}' (expected a floating point input)")
    low = input._data.dtype in HALF_NUMPY_DTYPES
    for name, p in params:
        if p is None:
            continue
        if not isinstance(p, Tensor):
            raise op_error(TypeError, op_name, f"{name} must be a Tensor or None, got {type(p).__name__}")
        if p._dtype is input._dtype or (low and p._dtype is _dt.float32):
            continue
        raise op_error(RuntimeError, op_name, f"mixed dtype (CPU): {name} has dtype {p._dtype.name} but input has "
                       f"{input._dtype.name}; parameters must have the input's dtype (or float32 for float16/"
                       "bfloat16 inputs)")


def _check_channels(name, param, channels, op_name):
    if param is not None and param._data.size != channels:
        raise op_error(RuntimeError, op_name, f"{name} should contain {channels} elements not {param._data.size}")


def _verify_batch_size(shape):
    count = shape[0]
    for s in shape[2:]:
        count *= s
    if count == 1:
        raise op_error(ValueError, "batch_norm", f"Expected more than 1 value per channel when training, got input "
                       f"size {_size_repr(shape)}")


def _size_repr(shape):
    return f"ember.Size({list(shape)})"


# ------------------------------------------------------------------------------------------ layer norm
@register_op
class LayerNorm:
    """Normalize over the trailing ``normalized_shape`` dims to zero mean and unit (biased) variance, then
    scale by ``weight`` and shift by ``bias`` (both of shape ``normalized_shape``), in one op.

    >>> x = ember.tensor([[0.0, 2.0], [1.0, 5.0]])
    >>> ember.nn.functional.layer_norm(x, (2,), weight=ember.tensor([1.0, 2.0]), bias=ember.tensor([0.0, 1.0]))
    tensor([[-1.0000,  3.0000],
            [-1.0000,  3.0000]])
    """

    name = "layer_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    recomputable = True  # ember.compile may recompute the output in backward from the inputs it keeps
    functional = True
    out = False

    def function(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
                 eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
        normalized_shape = _normalized_shape(normalized_shape, "layer_norm")
        _check_trailing(input, normalized_shape, weight, bias, "layer_norm")
        _check_floating(input, "layer_norm", ("weight", weight), ("bias", bias))
        return LayerNorm(input, weight, bias, normalized_ndim=len(normalized_shape), eps=float(eps))

    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        shape = x.shape
        width = math.prod(shape[len(shape) - normalized_ndim:])
        rows = opmath(x.reshape(-1, width))
        dtype = rows.dtype
        fused = _layer_norm_kernel(rows, weight, bias, eps)
        if fused is not None:
            out, xhat, rstd = fused
            if _recording(ctx):
                ctx.xhat, ctx.rstd, ctx.eps = xhat, rstd, eps
            return rounded_like(out, x).reshape(shape)
        xhat, rstd = _row_normalize(rows, eps, center=True)
        if _recording(ctx):
            ctx.xhat, ctx.rstd, ctx.eps = xhat, rstd, eps
        if weight is not None:
            out = xhat * weight.astype(dtype, copy=False).reshape(-1)
        else:
            out = xhat.copy() if _recording(ctx) else xhat
        if bias is not None:
            out += bias.astype(dtype, copy=False).reshape(-1)
        return rounded_like(out, x).reshape(shape)

    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        if STATE.enabled:
            return _rowwise_backward_graph(ctx, grad, x, weight, True)
        return _rowwise_backward(ctx, grad, x, weight, bias, True)

    # Rematerialization (read by ember.compile): a compiled step drops the normalized rows between forward and
    # backward and recomputes them from the saved input (the same NumPy calls, so the same bits).
    def release_saved(ctx):
        ctx.xhat = None

    def restore_saved(ctx):
        x = ctx.inputs[0]._data
        rows = opmath(x.reshape(ctx.rstd.shape[0], -1))
        fused = _layer_norm_kernel(rows, None, None, ctx.eps)  # what the forward ran, so the same bits
        ctx.xhat, ctx.rstd = fused[1:] if fused is not None else _row_normalize(rows, ctx.eps, center=True)


def _rowwise_backward(ctx, grad, x, weight, bias, center):
    """Fast NumPy backward shared by layer_norm and rms_norm (weight per column of the rows)."""
    xhat, rstd = ctx.xhat, ctx.rstd
    g = grad._data.reshape(xhat.shape).astype(xhat.dtype, copy=False)
    edges = ctx.next_edges
    need_b = len(edges) == 3 and edges[2] is not None
    weight_row = None if weight is None else weight._data.astype(g.dtype, copy=False).reshape(-1)
    dx, grad_w, grad_b = _affine_row_backward(g, xhat, rstd, weight_row, center, edges[0] is not None,
                                              edges[1] is not None, need_b)
    grad_x = None if dx is None else _wrap(dx.reshape(x._data.shape), x._dtype)
    if grad_w is not None:
        grad_w = _wrap(grad_w.reshape(weight._data.shape), weight._dtype)
    if grad_b is not None:
        grad_b = _wrap(grad_b.reshape(bias._data.shape), bias._dtype)
    return (grad_x, grad_w, grad_b) if len(ctx.next_edges) == 3 else (grad_x, grad_w)


def _rowwise_backward_graph(ctx, grad, x, weight, center):
    width = ctx.xhat.shape[1]
    rows = opmath_tensor(x).reshape(-1, width)
    g = opmath_tensor(grad).reshape(-1, width)
    xhat, rstd = _normalize_graph(rows, (1,), ctx.eps, center)
    need_x, need_w = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
    grad_x = grad_w = grad_b = None
    if need_w:
        grad_w = (g * xhat).sum(0).reshape(weight._data.shape)
    if len(ctx.next_edges) == 3 and ctx.next_edges[2] is not None:
        grad_b = g.sum(0).reshape(ctx.inputs[2]._data.shape)
    if need_x:
        scaled = g * opmath_tensor(weight).reshape(-1) if weight is not None else g
        grad_x = _input_grad_graph(scaled, xhat, rstd, (1,), center).reshape(x._data.shape)
    return (grad_x, grad_w, grad_b) if len(ctx.next_edges) == 3 else (grad_x, grad_w)


# ------------------------------------------------------------------------------------------ RMS norm
@register_op
class RMSNorm:
    """``input / sqrt(mean(input**2) + eps) * weight`` over the trailing ``normalized_shape`` dims;
    ``eps`` defaults to the machine epsilon of the computation dtype (float32 for float16/bfloat16).

    >>> ember.nn.functional.rms_norm(ember.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """

    name = "rms_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    functional = True
    out = False

    def function(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
        normalized_shape = _normalized_shape(normalized_shape, "rms_norm")
        _check_trailing(input, normalized_shape, weight, None, "rms_norm", joiner="")
        _check_floating(input, "rms_norm", ("weight", weight))
        if eps is None:
            eps = float(np.finfo(_compute_dtype(input._data.dtype)).eps)
        return RMSNorm(input, weight, normalized_ndim=len(normalized_shape), eps=float(eps))

    def forward(ctx, x, weight, normalized_ndim, eps):
        shape = x.shape
        width = math.prod(shape[len(shape) - normalized_ndim:])
        rows = opmath(x.reshape(-1, width))
        dtype = rows.dtype
        xhat, rstd = _row_normalize(rows, eps, center=False)
        if _recording(ctx):
            ctx.xhat, ctx.rstd, ctx.eps = xhat, rstd, eps
        if weight is not None:
            out = xhat * weight.astype(dtype, copy=False).reshape(-1)
        else:
            out = xhat.copy() if _recording(ctx) else xhat
        return rounded_like(out, x).reshape(shape)

    def backward(ctx, grad):
        x, weight = ctx.inputs
        if STATE.enabled:
            return _rowwise_backward_graph(ctx, grad, x, weight, False)
        return _rowwise_backward(ctx, grad, x, weight, None, False)


# ------------------------------------------------------------------------------------------ group norm
@register_op
class GroupNorm:
    """Normalize each group of ``C // num_groups`` channels of each sample (input ``(N, C, *)``), then
    apply a per-channel ``weight`` and ``bias``. ``instance_norm`` is the case ``num_groups == C``.

    >>> x = ember.tensor([[[1.0, 3.0], [2.0, 6.0]]])
    >>> ember.nn.functional.group_norm(x, 2)
    tensor([[[-1.0000,  1.0000],
             [-1.0000,  1.0000]]])
    """

    name = "group_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    functional = True
    out = False

    def function(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
                 eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
        shape = tuple(input._data.shape)
        if len(shape) < 2:
            raise op_error(RuntimeError, "group_norm", f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
        num_groups = int(num_groups)
        channels = shape[1]
        if num_groups <= 0 or channels % num_groups:
            raise op_error(RuntimeError, "group_norm", f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(shape)} and num_groups={num_groups}")
        for name, param in (("weight", weight), ("bias", bias)):
            if param is not None and (param._data.ndim != 1 or param._data.size != channels):
                raise op_error(RuntimeError, "group_norm", f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape {list(param._data.shape)} and input of "
                               f"shape {list(shape)}")
        _verify_batch_size([shape[0] * channels // num_groups, num_groups] + list(shape[2:]))
        _check_floating(input, "group_norm", ("weight", weight), ("bias", bias))
        return GroupNorm(input, weight, bias, num_groups=num_groups, eps=float(eps))

    def forward(ctx, x, weight, bias, num_groups, eps):
        shape = x.shape
        n, c = shape[0], shape[1]
        rows = opmath(x.reshape(n * num_groups, x.size // max(n * num_groups, 1)))
        dtype = rows.dtype
        xhat, rstd = _row_normalize(rows, eps, center=True)
        if _recording(ctx):
            ctx.xhat, ctx.rstd, ctx.eps = xhat, rstd, eps
        out = xhat.reshape(n, c, x.size // max(n * c, 1))
        if weight is not None:
            out = out * weight.astype(dtype, copy=False)[:, None]
        elif _recording(ctx):
            out = out.copy()
        if bias is not None:
            out += bias.astype(dtype, copy=False)[:, None]
        return rounded_like(out, x).reshape(shape)

    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
        n, c = x._data.shape[:2]
        spatial = math.prod(x._data.shape[2:])
        grad_x = grad_w = grad_b = None
        if STATE.enabled:
            g = opmath_tensor(grad).reshape(n, c, spatial)
            xhat, rstd = _normalize_graph(opmath_tensor(x).reshape(ctx.xhat.shape), (1,), ctx.eps, True)
            xhat_channels = xhat.reshape(n, c, spatial)
            if need_w:
                grad_w = (g * xhat_channels).sum((0, 2))
            if need_b:
                grad_b = g.sum((0, 2))
            if need_x:
                scaled = g * opmath_tensor(weight).reshape(1, c, 1) if weight is not None else g
                grad_x = _input_grad_graph(scaled.reshape(ctx.xhat.shape), xhat, rstd, (1,), True).reshape(x._data.shape)
            return grad_x, grad_w, grad_b
        xhat = ctx.xhat
        g = grad._data.reshape(n, c, spatial).astype(xhat.dtype, copy=False)
        xhat_channels = xhat.reshape(n, c, spatial)
        if need_w:
            grad_w = _wrap(np.einsum("ncs,ncs->c", g, xhat_channels), weight._dtype)
        if need_b:
            grad_b = _wrap(g.sum(axis=(0, 2)), bias._dtype)
        if need_x:
            scaled = g * weight._data.astype(g.dtype, copy=False)[:, None] if weight is not None else g
            dx = _row_backward(scaled.reshape(xhat.shape), xhat, ctx.rstd, True, owned=scaled is not grad._data)
            grad_x = _wrap(dx.reshape(x._data.shape), x._dtype)
        return grad_x, grad_w, grad_b


# ------------------------------------------------------------------------------------------ batch norm
@register_op
class BatchNorm:
    """Normalize each channel (dim 1) of ``(N, C, *)`` input over the batch and spatial dims.

    With ``training=True`` the batch statistics are used and ``running_mean``/``running_var`` (if given)
    are updated in place: ``running = (1 - momentum) * running + momentum * batch_stat`` (the variance
    update uses the unbiased batch variance). Otherwise the running statistics are used. ``momentum`` must
    be a number (``nn.BatchNorm``'s cumulative average with ``momentum=None`` is computed by the layer).
    ``ember.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
    cudnn_enabled)`` (PyTorch's top-level argument order, all nine given) is accepted too.

    >>> x = ember.tensor([[1.0, 10.0], [3.0, 20.0]])
    >>> mean, var = ember.zeros(2), ember.ones(2)
    >>> ember.nn.functional.batch_norm(x, mean, var, training=True)
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]])
    >>> mean, var
    (tensor([0.2000, 1.5000]), tensor([1.1000, 5.9000]))
    """

    name = "batch_norm"
    kind = "reduce"
    promote = "none"
    save = ("inputs",)
    functional = True
    out = False

    def function(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
                 bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
                 *torch_extra) -> Tensor:
        if len(torch_extra) == 1:  # torch.batch_norm(input, weight, bias, running_mean, running_var, ...)
            running_mean, running_var, weight, bias = weight, bias, running_mean, running_var
        elif torch_extra:
            raise op_error(TypeError, "batch_norm", f"batch_norm() takes at most 9 positional arguments "
                           f"({8 + len(torch_extra)} given)")
        return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)

    # Read by ember.compile's conv-batchnorm folding: in evaluation, y = (x - center) * scale + shift per channel.
    def channel_affine(weight, bias, dtype, running_mean, running_var, training, momentum, eps):
        if training or running_mean is None or running_var is None:
            return None
        rstd = (1.0 / np.sqrt(running_var.astype(dtype) + eps)).astype(dtype, copy=False)  # as evaluation's
        return (rstd if weight is None else weight * rstd), running_mean.astype(dtype), bias

    # The running statistics reach forward as NumPy arrays (attributes), which training updates in place.
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        n, c = x.shape[0], x.shape[1]
        x3 = opmath(x.reshape(n, c, math.prod(x.shape[2:])))
        dtype = x3.dtype
        if training:
            count = x3.shape[0] * x3.shape[2]
            mean = x3.mean(axis=(0, 2))
            xhat = x3 - mean[:, None]
            var = np.einsum("ncs,ncs->c", xhat, xhat) / count
            rstd = (1.0 / np.sqrt(var + eps)).astype(dtype, copy=False)
            xhat *= rstd[:, None]
            if running_mean is not None:
                running_mean[...] = momentum * mean.astype(np.float64) + (1 - momentum) * running_mean
            if running_var is not None:
                unbiased = var.astype(np.float64) * (count / (count - 1))
                running_var[...] = momentum * unbiased + (1 - momentum) * running_var
        else:
            mean = running_mean.astype(dtype, copy=False)
            rstd = (1.0 / np.sqrt(running_var.astype(dtype, copy=False) + eps)).astype(dtype, copy=False)
            xhat = (x3 - mean[:, None]) * rstd[:, None]
        if _recording(ctx):
            ctx.xhat, ctx.rstd, ctx.eps, ctx.training = xhat, rstd, eps, training
            if not training:
                ctx.mean = np.array(mean, copy=True)
        if weight is not None:
            out = xhat * weight.astype(dtype, copy=False)[:, None]
        else:
            out = xhat.copy() if _recording(ctx) else xhat
        if bias is not None:
            out += bias.astype(dtype, copy=False)[:, None]
        return rounded_like(out, x).reshape(x.shape)

    def backward(ctx, grad):
        x, weight, bias = ctx.inputs
        if STATE.enabled:
            return _batch_norm_backward_graph(ctx, grad, x, weight)
        need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
        xhat, rstd = ctx.xhat, ctx.rstd
        n, c = x._data.shape[:2]
        g = grad._data.reshape(xhat.shape).astype(xhat.dtype, copy=False)
        grad_x = grad_w = grad_b = None
        sum_g = g.sum(axis=(0, 2)) if need_b or (need_x and ctx.training) else None
        sum_gx = np.einsum("ncs,ncs->c", g, xhat) if need_w or (need_x and ctx.training) else None
        if need_w:
            grad_w = _wrap(sum_gx, weight._dtype)
        if need_b:
            grad_b = _wrap(sum_g, bias._dtype)
        if need_x:
            scale = rstd * weight._data.astype(rstd.dtype, copy=False) if weight is not None else rstd
            if ctx.training:
                count = g.shape[0] * g.shape[2]
                dx = g - (sum_g / count)[:, None]
                dx -= xhat * (sum_gx / count)[:, None]
                dx *= scale[:, None]
            else:
                dx = g * scale[:, None]
            grad_x = _wrap(dx.reshape(x._data.shape), x._dtype)
        return grad_x, grad_w, grad_b


def _batch_norm_backward_graph(ctx, grad, x, weight):
    need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
    n, c = x._data.shape[:2]
    x3 = opmath_tensor(x).reshape(ctx.xhat.shape)
    g = opmath_tensor(grad).reshape(ctx.xhat.shape)
    if ctx.training:
        xhat, rstd = _normalize_graph(x3, (0, 2), ctx.eps, True)
    else:
        rstd = from_array(ctx.rstd.reshape(1, c, 1))
        xhat = (x3 - from_array(ctx.mean.reshape(1, c, 1))) * rstd
    grad_x = grad_w = grad_b = None
    if need_w:
        grad_w = (g * xhat).sum((0, 2))
    if need_b:
        grad_b = g.sum((0, 2))
    if need_x:
        scaled = g * opmath_tensor(weight).reshape(1, c, 1) if weight is not None else g
        if ctx.training:
            grad_x = _input_grad_graph(scaled, xhat, rstd, (0, 2), True)
        else:
            grad_x = scaled * rstd
        grad_x = grad_x.reshape(x._data.shape)
    return grad_x, grad_w, grad_b


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    shape = tuple(input._data.shape)
    if len(shape) < 2:
        raise op_error(RuntimeError, "batch_norm", f"expected an input of shape (N, C) or (N, C, *), got an input of "
                       f"shape {list(shape)}")
    if training:
        _verify_batch_size(shape)
    if training and eps <= 0.0:
        raise op_error(ValueError, "batch_norm", f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise op_error(ValueError, "batch_norm", f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise op_error(TypeError, "batch_norm", f"batch_norm(): argument 'momentum' must be float, not "
                       f"{type(momentum).__name__} (nn.BatchNorm turns momentum=None into 1 / num_batches_tracked)")
    channels = shape[1]
    if not training and (running_mean is None or running_var is None):
        raise op_error(RuntimeError, "batch_norm", "running_mean and running_var must be defined in evaluation mode")
    for name, param in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        _check_channels(name, param, channels, "batch_norm")
    _check_floating(input, "batch_norm", ("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var))
    out = BatchNorm(input, weight, bias, running_mean=None if running_mean is None else running_mean._data.reshape(-1),
                    running_var=None if running_var is None else running_var._data.reshape(-1),
                    training=bool(training), momentum=float(momentum), eps=float(eps))
    if training:
        for stat in (running_mean, running_var):
            if stat is not None:
                stat._version.value += 1
    return out


# ------------------------------------------------------------------------------------------ instance norm
@register_function(functional=True)
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5, *torch_extra) -> Tensor:
    """Normalize each channel of each sample of ``(N, C, *)`` input over its spatial dims.

    With ``use_input_stats=False`` the running statistics are used instead (as ``batch_norm`` in
    evaluation). Given running statistics and ``use_input_stats=True``, they are updated with the
    per-instance statistics averaged over the batch. PyTorch's top-level order ``ember.instance_norm(input,
    weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled)`` is accepted
    too.

    >>> ember.nn.functional.instance_norm(ember.tensor([[[1.0, 3.0], [0.0, 4.0]]]))
    tensor([[[-1.0000,  1.0000],
             [-1.0000,  1.0000]]])
    """
    if len(torch_extra) == 1:
        running_mean, running_var, weight, bias = weight, bias, running_mean, running_var
    elif torch_extra:
        raise op_error(TypeError, "instance_norm", f"instance_norm() takes at most 9 positional arguments "
                       f"({8 + len(torch_extra)} given)")
    shape = tuple(input._data.shape)
    if len(shape) < 2:
        raise op_error(RuntimeError, "instance_norm", f"expected an input of shape (N, C, *), got {list(shape)}")
    channels = shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise op_error(RuntimeError, "instance_norm", "Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
        return _batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = math.prod(shape[2:])
    if spatial == 1:
        raise op_error(ValueError, "instance_norm", f"Expected more than 1 spatial element when training, got input "
                       f"size {_size_repr(shape)}")
    for name, param in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        _check_channels(name, param, channels, "instance_norm")
    _check_floating(input, "instance_norm", ("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var))
    if running_mean is not None or running_var is not None:
        _update_instance_stats(input, running_mean, running_var, float(momentum))
    return GroupNorm(input, weight, bias, num_groups=channels, eps=float(eps))


def _update_instance_stats(input, running_mean, running_var, momentum):
    n, c = input._data.shape[:2]
    x3 = opmath(input._data.reshape(n, c, math.prod(input._data.shape[2:])))
    count = x3.shape[2]
    if running_mean is not None:
        mean = x3.mean(axis=2).astype(np.float64)
        stat = running_mean._data.reshape(-1)
        stat[...] = (momentum * mean + (1 - momentum) * stat.astype(np.float64)).mean(axis=0)
        running_mean._version.value += 1
    if running_var is not None:
        var = x3.var(axis=2).astype(np.float64) * (count / max(count - 1, 1))
        stat = running_var._data.reshape(-1)
        stat[...] = (momentum * var + (1 - momentum) * stat.astype(np.float64)).mean(axis=0)
        running_var._version.value += 1


# ------------------------------------------------------------------------------------------ local response norm
@register_op
class ChannelWindowSum:
    """``out[:, c] = sum(input[:, c - before : c + after + 1])`` with zeros outside: the sliding channel sum
    of ``local_response_norm``. Its adjoint is the same op with ``before``/``after`` swapped."""

    name = "channel_window_sum"
    kind = "reduce"
    promote = "none"

    def forward(ctx, a, before, after):
        ctx.window = (before, after)
        channels = a.shape[1]
        padded = np.zeros((a.shape[0], channels + before + after) + a.shape[2:], dtype=a.dtype)
        padded[:, before:before + channels] = a
        out = padded[:, :channels].copy()
        for shift in range(1, before + after + 1):
            out += padded[:, shift:shift + channels]
        return out

    def backward(ctx, grad):
        before, after = ctx.window
        return ChannelWindowSum(grad, before=after, after=before)


@register_function(functional="only")
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divide each element by ``(k + alpha / size * sum of squares over size neighbouring channels) ** beta``.

    >>> x = ember.tensor([[[1.0], [2.0], [3.0]]])
    >>> ember.nn.functional.local_response_norm(x, 2, alpha=1.0, beta=1.0, k=1.0)
    tensor([[[0.6667],
             [0.5714],
             [0.4000]]])
    """
    ndim = input._data.ndim
    if ndim < 3:
        raise op_error(ValueError, "local_response_norm", f"Expected 3D or higher dimensionality input (got {ndim} "
                       "dimensions)")
    if input._data.size == 0:
        return input
    size = int(size)
    window = ChannelWindowSum(input * input, before=size // 2, after=(size - 1) // 2)
    return input / (window * (alpha / size) + k) ** beta


# ------------------------------------------------------------------------------------------ normalize
def _vector_norm(x: Tensor, p, dim, keepdim: bool) -> Tensor:
    """``torch.linalg.vector_norm`` (the decompositions family's op, whose gradient is 0 at a zero vector)."""
    from ember.ops.decompositions import VectorNorm
    return VectorNorm.function(x, p, dim, keepdim)


@register_function(functional="only")
def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` with the norm taken over ``dim``.

    >>> ember.nn.functional.normalize(ember.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    norm = _vector_norm(input, p, dim, True)
    denominator = Where(norm >= eps, norm, eps).expand_as(input)
    return write_out(input / denominator, out)
