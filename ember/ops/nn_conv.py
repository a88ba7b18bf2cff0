"""Convolution, pooling and resampling ops (``torch.nn.functional`` semantics).

Convolutions unfold the (padded) input into a contiguous column buffer through a strided window view and
run one GEMM per group over the whole batch; their backward pieces (``conv_backward_input``, the
transposed convolution, and ``conv_backward_weight``) are registered ops whose own backward is defined,
so double backward works. Pooling and resampling ops loop over kernel offsets (a handful of vectorized
strided passes), never over output pixels.

>>> import ember
>>> import ember.nn.functional as F
>>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
>>> F.conv2d(x, ember.ones(1, 1, 2, 2), stride=2)
tensor([[[[10., 18.],
          [42., 50.]]]])
>>> F.max_pool2d(x, 2)
tensor([[[[ 5.,  7.],
          [13., 15.]]]])
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember import dtypes as _dt
from ember.autograd.engine import Node
from ember.errors import op_error
from ember.ops.registry import recording, register_op
from ember.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
           "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]

FUNCTIONAL = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
              "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
              "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
              "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
              "unfold", "fold", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
              "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "grid_sample", "affine_grid"]

_HALF = (np.float16, _dt.bfloat16.numpy_dtype)
# Forward column buffers up to this size are kept for the weight gradient instead of being rebuilt.
_COLS_CACHE_BYTES = 256 * 2 ** 20


# ------------------------------------------------------------------------------------ argument checks
def _int_tuple(value, n, name, op_name):
    """``value`` (an int or a sequence of 1 or ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) == 1:
            items = items * n
        if len(items) != n:
            raise op_error(RuntimeError, op_name, f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={list(value)}")
    else:
        items = [value] * n
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            if hasattr(v, "__index__") and not isinstance(v, bool):
                v = v.__index__()
            else:
                raise op_error(TypeError, op_name, f"{name} must be an int or a tuple of ints, got {value!r}")
        out.append(int(v))
    return tuple(out)


def _shape_text(sizes):
    return "(" + " x ".join(str(s) for s in sizes) + ")"


def _compute_dtype(dtype):
    """Half-precision inputs are computed in float32 and rounded, as PyTorch's CPU kernels do."""
    return np.float32 if dtype in _HALF else dtype


def _as_compute(a):
    return a.astype(np.float32) if a.dtype in _HALF else a


# ------------------------------------------------------------------------------------ NumPy kernels
def _pad(x, pads, value=0.0):
    """``x`` (N, C, *S) padded by ``pads`` ((lo, hi) per spatial dim) with ``value``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    out = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads))] = x
    return out


def _windows(xp, kernel, stride, dilation, out):
    """A read-only strided view (N, C, *kernel, *out) of the padded input's sliding windows."""
    strides = xp.strides
    shape = xp.shape[:2] + tuple(kernel) + tuple(out)
    view_strides = (strides[:2] + tuple(s * d for s, d in zip(strides[2:], dilation))
                    + tuple(s * t for s, t in zip(strides[2:], stride)))
    return as_strided(xp, shape, view_strides, writeable=False)


def _offset_slices(offset, stride, dilation, out):
    """The strided slice of the padded input that kernel offset ``offset`` reads for every output position."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, s, d, o in zip(offset, stride, dilation, out))


def _out_size(size, kernel, stride, dilation, pad):
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _conv_columns(x, kernel, stride, dilation, pads, out):
    """im2col in the GEMM layout (C * K, N * L): channel-major rows, batch-major columns."""
    if len(kernel) == 2 and x.dtype == np.float32:
        from ember.kernels import im2col  # one C pass, padding included (the compile extra), else None
        cols = im2col.columns(x, kernel, stride, dilation, pads, out)
        if cols is not None:
            return cols
    n, c = x.shape[:2]
    windows = _windows(_pad(x, pads), kernel, stride, dilation, out)
    d = len(kernel)
    order = (1,) + tuple(range(2, 2 + d)) + (0,) + tuple(range(2 + d, 2 + 2 * d))
    return windows.transpose(order).reshape(c * math.prod(kernel), n * math.prod(out))


def _unfold_columns(x, kernel, stride, dilation, pads, out):
    """im2col in ``F.unfold``'s layout (N, C * K, L)."""
    n, c = x.shape[:2]
    return _windows(_pad(x, pads), kernel, stride, dilation, out).reshape(n, c * math.prod(kernel), math.prod(out))


def _scatter_windows(piece, lead, size, kernel, stride, dilation, pads, out, dtype):
    """col2im: sum ``piece(offset)`` (lead + out shaped) over kernel offsets into a ``lead + size`` array."""
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    # Windows never reach past the last full stride; the buffer still spans the whole padded input.
    buffer = np.zeros(tuple(lead) + padded, dtype=dtype)
    keep = (slice(None),) * len(lead)
    for offset in itertools.product(*(range(k) for k in kernel)):
        buffer[keep + _offset_slices(offset, stride, dilation, out)] += piece(offset)
    if any(lo or hi for lo, hi in pads):
        buffer = buffer[keep + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, pads))]
    return buffer


def _conv_forward(x, w, bias, stride, pads, dilation, groups, out=None):
    """Convolution on arrays; returns (output, columns) with columns in ``_conv_columns``' layout.

    ``out`` limits the output size (the adjoint of a transposed convolution whose output_padding added
    positions that no window of the forward reaches).
    """
    n = x.shape[0]
    o = w.shape[0]
    kernel = w.shape[2:]
    out = out or tuple(_out_size(s, k, st, dl, p) for s, k, st, dl, p in zip(x.shape[2:], kernel, stride, dilation, pads))
    length = math.prod(out)
    cols = _conv_columns(x, kernel, stride, dilation, pads, out)
    wg = w.reshape(groups, o // groups, math.prod(w.shape[1:]))
    result = np.matmul(wg, cols.reshape(groups, wg.shape[2], n * length))
    result = result.reshape(o, n, length).transpose(1, 0, 2)
    if bias is None:
        y = np.ascontiguousarray(result)
    else:
        y = np.empty((n, o, length), dtype=result.dtype)
        np.add(result, bias.reshape(o, 1), out=y)
    return y.reshape((n, o) + out), cols


def _grad_rows(gy, groups):
    """The output gradient (N, O, *out) as GEMM rows (G, O / G, N * L)."""
    n, o = gy.shape[:2]
    length = math.prod(gy.shape[2:])
    return np.ascontiguousarray(gy.reshape(n, o, length).transpose(1, 0, 2)).reshape(groups, o // groups, n * length)


def _conv_input_grad(gy, w, size, stride, pads, dilation, groups):
    """The transposed convolution: gradient of a convolution with respect to its (N, C, *size) input."""
    n, o = gy.shape[:2]
    out = gy.shape[2:]
    c = w.shape[1] * groups
    kernel = w.shape[2:]
    d = len(kernel)
    kprod = math.prod(kernel)
    wt = w.reshape(groups, o // groups, math.prod(w.shape[1:])).transpose(0, 2, 1)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    # With unit strides every kernel offset adds one contiguous run of the flattened padded input, provided
    # the gradient is widened (with zeros) to the padded extent in all but the first spatial dim.
    pseudo = out[:1] + padded[1:]
    fits = all(st == 1 for st in stride) and all(p - dl * (k - 1) == q for p, dl, k, q in
                                                 zip(padded, dilation, kernel, out))
    if d > 1 and fits and math.prod(pseudo) <= 1.5 * math.prod(out):
        wide = np.zeros((n, o) + pseudo, dtype=gy.dtype)
        wide[(slice(None), slice(None)) + tuple(slice(0, q) for q in out)] = gy
        rows = _grad_rows(wide, groups)
        run = math.prod(pseudo)
        gcols = np.matmul(wt, rows).reshape(c, kprod, n, run)
        row_strides = [math.prod(padded[i + 1:]) for i in range(d)]
        slack = sum((k - 1) * dl * r for k, dl, r in zip(kernel[1:], dilation[1:], row_strides[1:]))
        total = math.prod(padded)
        buffer = np.zeros((c, n, total + slack), dtype=gcols.dtype)
        for index, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
            start = sum(k * dl * r for k, dl, r in zip(offset, dilation, row_strides))
            buffer[:, :, start:start + run] += gcols[:, index]
        grid = buffer[:, :, :total].reshape((c, n) + padded)
    else:
        gcols = np.matmul(wt, _grad_rows(gy, groups)).reshape((c, kprod, n) + tuple(out))
        grid = _scatter_windows(lambda offset: gcols[:, np.ravel_multi_index(offset, kernel)], (c, n), padded,
                                kernel, stride, dilation, ((0, 0),) * d, out, gcols.dtype)
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, pads))
    return np.ascontiguousarray(grid[(slice(None), slice(None)) + crop].swapaxes(0, 1))


def _conv_weight_grad(x, gy, weight_shape, stride, pads, dilation, groups, cols=None):
    if cols is None:
        cols = _conv_columns(x, weight_shape[2:], stride, dilation, pads, gy.shape[2:])
    rows = _grad_rows(gy, groups)
    gw = np.matmul(rows, cols.reshape(groups, math.prod(weight_shape[1:]), rows.shape[2]).transpose(0, 2, 1))
    return gw.reshape(weight_shape)


def _round(result, dtype):
    return result if result.dtype == dtype else result.astype(dtype)


# ------------------------------------------------------------------------------------ convolution ops
@register_op
class Convolution:
    """N-d convolution (cross-correlation) of (N, C, *S) with weight (O, C / groups, *K) plus bias."""

    name = "convolution"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)
    per_channel_weight_bias = (1, 2)  # linear in w[o] and bias[o] per output channel o (conv-batchnorm folding)

    def forward(ctx, x, w, bias, stride, pads, dilation, groups, out=None):
        ctx.attrs = (stride, pads, dilation, groups)
        y, cols = _conv_forward(_as_compute(x), _as_compute(w), None if bias is None else _as_compute(bias),
                                stride, pads, dilation, groups, out)
        if ctx.__class__ is Node and cols.nbytes <= _COLS_CACHE_BYTES:
            ctx.cols = cols
        return _round(y, x.dtype)

    def backward(ctx, grad):
        x, w, bias = ctx.inputs
        stride, pads, dilation, groups = ctx.attrs
        need_x, need_w, need_b = (e is not None for e in ctx.next_edges)
        gx = gw = gb = None
        # The weight gradient first: the cached columns are released before the input gradient's own columns
        # exist (a second backward, with retain_graph=True, rebuilds them).
        cols = ctx.__dict__.pop("cols", None)
        if need_w:
            gw = ConvBackwardWeight(x, grad, weight_shape=tuple(w.shape), stride=stride, pads=pads,
                                    dilation=dilation, groups=groups, cols=cols)
        del cols
        if need_x:
            gx = ConvBackwardInput(grad, w, size=tuple(x.shape[2:]), stride=stride, pads=pads, dilation=dilation,
                                   groups=groups)
        if need_b:
            gb = grad.sum(dim=(0,) + tuple(range(2, grad.dim())))
        return gx, gw, gb


@register_op
class ConvBackwardInput:
    """The transposed convolution: the adjoint of ``convolution`` in its input (linear in both operands)."""

    name = "conv_backward_input"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, grad, w, size, stride, pads, dilation, groups):
        ctx.attrs = (stride, pads, dilation, groups)
        gx = _conv_input_grad(_as_compute(grad), _as_compute(w), size, stride, pads, dilation, groups)
        return _round(gx, grad.dtype)

    def backward(ctx, grad_grad):
        gy, w = ctx.inputs
        stride, pads, dilation, groups = ctx.attrs
        need_gy, need_w = (e is not None for e in ctx.next_edges)
        g_gy = g_w = None
        if need_gy:
            g_gy = Convolution(grad_grad, w, None, stride=stride, pads=pads, dilation=dilation, groups=groups,
                               out=tuple(gy.shape[2:]))
        if need_w:
            g_w = ConvBackwardWeight(grad_grad, gy, weight_shape=tuple(w.shape), stride=stride, pads=pads,
                                     dilation=dilation, groups=groups, cols=None)
        return g_gy, g_w


@register_op
class ConvBackwardWeight:
    """Gradient of ``convolution`` with respect to its weight (linear in the input and the output gradient)."""

    name = "conv_backward_weight"
    kind = "matmul"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, x, grad, weight_shape, stride, pads, dilation, groups, cols):
        ctx.attrs = (stride, pads, dilation, groups)
        gw = _conv_weight_grad(_as_compute(x), _as_compute(grad), weight_shape, stride, pads, dilation, groups, cols)
        return _round(gw, grad.dtype)

    def backward(ctx, grad_grad):
        x, gy = ctx.inputs
        stride, pads, dilation, groups = ctx.attrs
        need_x, need_gy = (e is not None for e in ctx.next_edges)
        g_x = g_gy = None
        if need_x:
            g_x = ConvBackwardInput(gy, grad_grad, size=tuple(x.shape[2:]), stride=stride, pads=pads,
                                    dilation=dilation, groups=groups)
        if need_gy:
            g_gy = Convolution(x, grad_grad, None, stride=stride, pads=pads, dilation=dilation, groups=groups,
                               out=tuple(gy.shape[2:]))
        return g_x, g_gy


def _type_name(dtype):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}[dtype.name]


def _check_conv_dtypes(op_name, input, weight, bias):
    if weight._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, f"expected scalar type {_type_name(input._dtype)} but found "
                       f"{_type_name(weight._dtype)} (input dtype {input._dtype.name}, weight dtype "
                       f"{weight._dtype.name}); convert one so both match")
    if bias is not None and bias._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, f"Input type ({input._dtype.name.replace('float32', 'float')}) and "
                       f"bias type ({bias._dtype.name.replace('float32', 'float')}) should be the same")
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f'"{op_name}" not implemented for \'Bool\'')


def _batched(op_name, input, d):
    """(input as a batched tensor, whether a batch dim was added); checks the number of dims."""
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"input must be a Tensor, got {type(input).__name__}")
    ndim = input._data.ndim
    if ndim == d + 1:
        return input.unsqueeze(0), True
    if ndim == d + 2:
        return input, False
    raise op_error(RuntimeError, op_name, f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op_name}, "
                   f"but got input of size: {list(input._data.shape)}")


def _conv_padding(op_name, padding, d, kernel, stride, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise op_error(RuntimeError, op_name, f"Invalid padding string: {padding!r}; expected 'same', 'valid', "
                           "an int or a tuple of ints")
        if any(s != 1 for s in stride):
            raise op_error(RuntimeError, op_name, "padding='same' is not supported for strided convolutions")
        pads = []
        for k, dl in zip(kernel, dilation):
            total = dl * (k - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    padding = _int_tuple(padding, d, "padding", op_name)
    if any(p < 0 for p in padding):
        raise op_error(RuntimeError, op_name, f"negative padding is not supported, got padding={list(padding)}")
    return tuple((p, p) for p in padding)


def _conv_nd(op_name, d, input, weight, bias, stride, padding, dilation, groups):
    x, unbatched = _batched(op_name, input, d)
    if not isinstance(weight, Tensor):
        raise op_error(TypeError, op_name, f"weight must be a Tensor, got {type(weight).__name__}")
    if weight._data.ndim != d + 2:
        raise op_error(RuntimeError, op_name, f"weight should have {d + 2} dimensions (out_channels, in_channels / "
                       f"groups, *kernel_size), got weight of size {list(weight._data.shape)}")
    _check_conv_dtypes(op_name, x, weight, bias)
    stride = _int_tuple(stride, d, "stride", op_name)
    dilation = _int_tuple(dilation, d, "dilation", op_name)
    if any(s <= 0 for s in stride):
        raise op_error(RuntimeError, op_name, f"non-positive stride is not supported, got stride={list(stride)}")
    if any(v <= 0 for v in dilation):
        raise op_error(RuntimeError, op_name, f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise op_error(RuntimeError, op_name, f"non-positive groups is not supported, got groups={groups}")
    w_shape = tuple(weight._data.shape)
    x_shape = tuple(x._data.shape) if not unbatched else tuple(input._data.shape)
    kernel = w_shape[2:]
    pads = _conv_padding(op_name, padding, d, kernel, stride, dilation)
    if w_shape[0] % groups:
        raise op_error(RuntimeError, op_name, f"Given groups={groups}, expected weight to be divisible by {groups} at "
                       f"dimension 0, but got weight of size {list(w_shape)} instead")
    channels = x._data.shape[1]
    if channels != w_shape[1] * groups:
        raise op_error(RuntimeError, op_name, f"Given groups={groups}, weight of size {list(w_shape)}, expected "
                       f"input{list(x_shape)} to have {w_shape[1] * groups} channels, but got {channels} channels "
                       "instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != w_shape[0]):
        raise op_error(RuntimeError, op_name, f"Given weight of size {list(w_shape)}, expected bias to be "
                       f"1-dimensional with {w_shape[0]} elements, but got bias of size {list(bias._data.shape)} "
                       "instead")
    padded = [s + lo + hi for s, (lo, hi) in zip(x._data.shape[2:], pads)]
    effective = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, effective)):
        raise op_error(RuntimeError, op_name, f"Calculated padded input size per channel: {_shape_text(padded)}. "
                       f"Kernel size: {_shape_text(effective)}. Kernel size can't be greater than actual input size")
    y = Convolution(x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution of (N, C, L) or unbatched (C, L) with weight (O, C / groups, K).

    ``padding`` is an int, a tuple, ``'valid'`` or ``'same'`` (unit stride only).

    >>> ember.conv1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0]]]), ember.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d convolution of (N, C, H, W) or unbatched (C, H, W) with weight (O, C / groups, kH, kW).

    >>> x = ember.ones(1, 2, 4, 4)
    >>> ember.conv2d(x, ember.ones(3, 2, 3, 3), padding="same").shape
    ember.Size([1, 3, 4, 4])
    >>> ember.conv2d(x, ember.ones(3, 2, 3, 3), ember.zeros(3), stride=2, padding=1)[0, 0]
    tensor([[ 8., 12.],
            [12., 18.]])
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d convolution of (N, C, D, H, W) or unbatched (C, D, H, W) with weight (O, C / groups, kD, kH, kW).

    >>> ember.conv3d(ember.ones(1, 1, 3, 3, 3), ember.ones(2, 1, 2, 2, 2)).shape
    ember.Size([1, 2, 2, 2, 2])
    """
    return _conv_nd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(op_name, d, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, unbatched = _batched(op_name, input, d)
    if not isinstance(weight, Tensor) or weight._data.ndim != d + 2:
        shape = list(weight._data.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise op_error(RuntimeError, op_name, f"weight should have {d + 2} dimensions (in_channels, out_channels / "
                       f"groups, *kernel_size), got {shape}")
    _check_conv_dtypes(op_name, x, weight, bias)
    stride = _int_tuple(stride, d, "stride", op_name)
    dilation = _int_tuple(dilation, d, "dilation", op_name)
    padding = _int_tuple(padding, d, "padding", op_name)
    output_padding = _int_tuple(output_padding, d, "output_padding", op_name)
    if any(s <= 0 for s in stride):
        raise op_error(RuntimeError, op_name, f"non-positive stride is not supported, got stride={list(stride)}")
    if any(v <= 0 for v in dilation):
        raise op_error(RuntimeError, op_name, f"dilation should be greater than zero, but got {list(dilation)}")
    if any(p < 0 for p in padding) or any(p < 0 for p in output_padding):
        raise op_error(RuntimeError, op_name, f"negative padding is not supported, got padding={list(padding)}, "
                       f"output_padding={list(output_padding)}")
    if groups <= 0:
        raise op_error(RuntimeError, op_name, f"non-positive groups is not supported, got groups={groups}")
    if any(op >= s and op >= dl for op, s, dl in zip(output_padding, stride, dilation)):
        raise op_error(RuntimeError, op_name, f"output padding must be smaller than either stride or dilation, but "
                       f"got output_padding={list(output_padding)}, stride={list(stride)}, "
                       f"dilation={list(dilation)}")
    w_shape = tuple(weight._data.shape)
    x_shape = tuple(input._data.shape)
    if w_shape[0] % groups:
        raise op_error(RuntimeError, op_name, f"Given groups={groups}, expected weight to be divisible by {groups} at "
                       f"dimension 0, but got weight of size {list(w_shape)} instead")
    if x._data.shape[1] != w_shape[0]:
        raise op_error(RuntimeError, op_name, f"Given transposed=1, weight of size {list(w_shape)}, expected "
                       f"input{list(x_shape)} to have {w_shape[0]} channels, but got {x._data.shape[1]} channels "
                       "instead")
    out_channels = w_shape[1] * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_channels):
        raise op_error(RuntimeError, op_name, f"Given transposed=1, weight of size {list(w_shape)}, expected bias to "
                       f"be 1-dimensional with {out_channels} elements, but got bias of size "
                       f"{list(bias._data.shape)} instead")
    kernel = w_shape[2:]
    in_sizes = x._data.shape[2:]
    size = tuple((s - 1) * st - 2 * p + dl * (k - 1) + op + 1
                 for s, st, p, dl, k, op in zip(in_sizes, stride, padding, dilation, kernel, output_padding))
    if any(s < 1 for s in size):
        raise op_error(RuntimeError, op_name, f"Given input size per channel: {_shape_text(in_sizes)}. Calculated "
                       f"output size per channel: {_shape_text(size)}. Output size is too small")
    y = ConvBackwardInput(x, weight, size=size, stride=stride, pads=tuple((p, p) for p in padding),
                          dilation=dilation, groups=groups)
    if bias is not None:
        y = y + bias.reshape((out_channels,) + (1,) * d)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """1-d transposed convolution ("deconvolution") with weight (C_in, C_out / groups, K).

    >>> ember.conv_transpose1d(ember.tensor([[[1.0, 2.0]]]), ember.tensor([[[1.0, 1.0, 1.0]]]), stride=2)
    tensor([[[1., 1., 3., 2., 2.]]])
    """
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """2-d transposed convolution with weight (C_in, C_out / groups, kH, kW); the adjoint of ``conv2d``.

    >>> ember.conv_transpose2d(ember.ones(1, 3, 4, 4), ember.ones(3, 2, 3, 3), stride=2, output_padding=1).shape
    ember.Size([1, 2, 10, 10])
    """
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """3-d transposed convolution with weight (C_in, C_out / groups, kD, kH, kW).

    >>> ember.conv_transpose3d(ember.ones(1, 2, 2, 2, 2), ember.ones(2, 1, 2, 2, 2)).shape
    ember.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose_nd("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


# ------------------------------------------------------------------------------------ pooling
def _pool_input(op_name, input, d):
    """(input as (N, C, *S), whether a batch dim was added), with PyTorch's checks on the dims."""
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"input must be a Tensor, got {type(input).__name__}")
    shape = input._data.shape
    if input._data.ndim not in (d + 1, d + 2) or any(s == 0 for s in shape[1 if input._data.ndim == d + 2 else 0:]):
        raise op_error(RuntimeError, op_name, f"Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional 0 dim "
                       f"batch size for input, but got: {list(shape)}")
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f'"{op_name}" not implemented for \'Bool\'')
    return (input.unsqueeze(0), True) if input._data.ndim == d + 1 else (input, False)


def _pool_geometry(op_name, sizes, d, kernel_size, stride, padding, dilation, ceil_mode):
    """Kernel, stride, dilation, padding and output sizes of a pooling window, checked as PyTorch does.

    Returns ``pads`` as (lo, hi) per dim, where ``hi`` is widened so that every ``ceil_mode`` window fits.
    """
    kernel = _int_tuple(kernel_size, d, "kernel_size", op_name)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _int_tuple(stride, d, "stride", op_name)
    padding = _int_tuple(padding, d, "padding", op_name)
    dilation = _int_tuple(dilation, d, "dilation", op_name)
    if any(k <= 0 for k in kernel):
        raise op_error(RuntimeError, op_name, f"kernel_size must be greater than zero, but got {list(kernel)}")
    if any(s <= 0 for s in stride):
        raise op_error(RuntimeError, op_name, f"stride should not be zero (got stride={list(stride)})")
    if any(v <= 0 for v in dilation):
        raise op_error(RuntimeError, op_name, f"dilation should be greater than zero, but got {list(dilation)}")
    if any(p < 0 for p in padding):
        raise op_error(RuntimeError, op_name, f"pad must be non-negative, but got pad: {list(padding)}")
    for p, k, dl in zip(padding, kernel, dilation):
        if p > ((k - 1) * dl + 1) // 2:
            raise op_error(RuntimeError, op_name, f"pad should be at most half of effective kernel size, but got "
                           f"pad={p}, kernel_size={k} and dilation={dl}")
    out = []
    for size, k, s, p, dl in zip(sizes, kernel, stride, padding, dilation):
        span = size + 2 * p - dl * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= size + p:
            o -= 1
        out.append(o)
    if any(o < 1 for o in out):
        raise op_error(RuntimeError, op_name, f"Given input size: ({'x'.join(str(s) for s in sizes)}). Calculated "
                       f"output size: ({'x'.join(str(o) for o in out)}). Output size is too small")
    pads = tuple((p, max(p, (o - 1) * s + dl * (k - 1) + 1 - size - p))
                 for size, k, s, p, dl, o in zip(sizes, kernel, stride, padding, dilation, out))
    return kernel, stride, dilation, pads, tuple(out)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" or dtype in _HALF else np.iinfo(dtype).min


def _max_pool_windows(x, kernel, stride, dilation, pads, out):
    """``(best, lowest, offsets, views)``: one strided view of the padded input per kernel offset and the max of
    them, ``best`` (in float32 for bfloat16 input), with the padding value ``lowest``."""
    work = x.astype(np.float32) if x.dtype == _dt.bfloat16.numpy_dtype else x
    lowest = _lowest(work.dtype)
    xp = _pad(work, pads, lowest)
    keep = (slice(None), slice(None))
    offsets = list(itertools.product(*(range(k) for k in kernel)))
    views = [xp[keep + _offset_slices(offset, stride, dilation, out)] for offset in offsets]
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)  # propagates NaN, as PyTorch does
    return best, lowest, offsets, views


def _max_pool_values(x, kernel, stride, dilation, pads, out):
    """Max over windows only (no gradient will ask which element won)."""
    from ember.kernels import pool  # one C scan per window (the compile extra), else None
    fused = pool.max_pool(x, kernel, stride, dilation, pads, out)
    if fused is not None:
        return fused
    return _round(_max_pool_windows(x, kernel, stride, dilation, pads, out)[0], x.dtype)


def _max_pool_arrays(x, kernel, stride, dilation, pads, out):
    """Max over windows, and ``which``: the kernel offset (in row-major order) of each maximum, as PyTorch picks it."""
    from ember.kernels import pool
    fused = pool.max_pool(x, kernel, stride, dilation, pads, out, with_which=True)
    if fused is not None:
        return fused
    best, lowest, offsets, views = _max_pool_windows(x, kernel, stride, dilation, pads, out)
    # The first offset holding the maximum wins ties: count the leading offsets that don't hold it.
    index_dtype = np.int8 if len(views) < 128 else np.int32
    not_yet = views[0] != best
    which = not_yet.astype(index_dtype)
    for view in views[1:-1]:
        not_yet &= view != best
        which += not_yet
    if best.dtype.kind == "f":
        nan = np.isnan(best)
        if nan.any():  # PyTorch keeps scanning and reports the last NaN of the window
            for i, view in enumerate(views):
                np.copyto(which, i, where=nan & np.isnan(view))
    sizes = x.shape[2:]
    if any(lo or hi for lo, hi in pads):
        stuck = best == lowest
        if stuck.any():  # windows full of the lowest value report their first element inside the input
            for i in range(len(views) - 1, -1, -1):
                inside = np.ones(out, dtype=bool)
                for dim, (k, s, dl, (lo, _), size, o) in enumerate(zip(offsets[i], stride, dilation, pads, sizes, out)):
                    coord = np.arange(o) * s - lo + k * dl
                    shape = [1] * len(out)
                    shape[dim] = o
                    inside = inside & ((coord >= 0) & (coord < size)).reshape(shape)
                np.copyto(which, i, where=stuck & inside)
    return _round(best, x.dtype), which


def _max_pool_indices(which, geometry):
    """PyTorch's ``return_indices``: flat positions in each input plane from the kernel offsets ``which``."""
    sizes, kernel, stride, dilation, pads, out = geometry
    plane_strides = [math.prod(sizes[i + 1:]) for i in range(len(sizes))]
    offset_flat = np.array([sum(k * dl * r for k, dl, r in zip(offset, dilation, plane_strides))
                            for offset in itertools.product(*(range(k) for k in kernel))], dtype=np.int64)
    base = np.zeros(out, dtype=np.int64)
    for dim, (s, (lo, _), o, r) in enumerate(zip(stride, pads, out, plane_strides)):
        shape = [1] * len(out)
        shape[dim] = o
        base = base + ((np.arange(o) * s - lo) * r).reshape(shape)
    return offset_flat[which] + base


def _windows_disjoint(kernel, stride, dilation):
    return all(s >= (k - 1) * dl + 1 for k, s, dl in zip(kernel, stride, dilation))


@register_op
class MaxPool:
    """Max pooling over N-d windows; with ``return_indices`` also the flat index of each maximum in its plane."""

    name = "max_pool"
    kind = "opaque"
    promote = "none"

    def forward(ctx, x, kernel, stride, dilation, pads, out, return_indices):
        if not return_indices and not recording(ctx):  # nothing reads which window element won
            return _max_pool_values(x, kernel, stride, dilation, pads, out)
        values, which = _max_pool_arrays(x, kernel, stride, dilation, pads, out)
        ctx.which = which
        ctx.geometry = (x.shape[2:], kernel, stride, dilation, pads, out)
        if return_indices:
            return values, _max_pool_indices(which, ctx.geometry)
        return values

    def backward(ctx, grad, *grad_indices):
        return MaxPoolBackward(grad, which=ctx.which, geometry=ctx.geometry)


@register_op
class MaxPoolBackward:
    """Gradient of max pooling: each output gradient goes to its window's maximum (added where windows overlap)."""

    name = "max_pool_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, which, geometry):
        ctx.which, ctx.geometry = which, geometry
        sizes, kernel, stride, dilation, pads, out = geometry
        from ember.kernels import pool  # each gradient added to its window's maximum, in output order (C)
        fused = pool.max_pool_backward(grad, which, sizes, kernel, stride, dilation, pads, out)
        if fused is not None:
            return fused
        work = _as_compute(grad)
        n, c = grad.shape[:2]
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
        result = np.zeros((n, c) + padded, dtype=work.dtype)
        keep = (slice(None), slice(None))
        # Multiplying by the 0/1 mask is much faster than np.where, but would spread inf/NaN gradients.
        finite = bool(np.isfinite(work).all())
        disjoint = _windows_disjoint(kernel, stride, dilation)
        for i, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
            target = result[keep + _offset_slices(offset, stride, dilation, out)]
            hit = which == i
            if disjoint and finite:
                np.multiply(work, hit, out=target)
            elif finite:
                target += work * hit
            else:
                target += np.where(hit, work, 0)
        if any(lo or hi for lo, hi in pads):
            result = np.ascontiguousarray(result[keep + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sizes, pads))])
        return _round(result, grad.dtype)

    def backward(ctx, grad_grad):
        return MaxPoolSelect(grad_grad, which=ctx.which, geometry=ctx.geometry)


@register_op
class MaxPoolSelect:
    """Each window's element at kernel offset ``which``: the adjoint of ``max_pool_backward``."""

    name = "max_pool_select"
    kind = "index"
    promote = "none"

    def forward(ctx, x, which, geometry):
        ctx.which, ctx.geometry = which, geometry
        sizes, kernel, stride, dilation, pads, out = geometry
        xp = _pad(x, pads)
        keep = (slice(None), slice(None))
        result = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
        for i, offset in enumerate(itertools.product(*(range(k) for k in kernel))):
            np.copyto(result, xp[keep + _offset_slices(offset, stride, dilation, out)], where=which == i)
        return result

    def backward(ctx, grad):
        return MaxPoolBackward(grad, which=ctx.which, geometry=ctx.geometry)


def _scatter_planes(values, indices, size, accumulate):
    """Put (or add) ``values`` (N, C, *) at flat ``indices`` of zero (N, C, *size) planes."""
    n, c = values.shape[:2]
    plane = math.prod(size)
    rows = (np.arange(n * c, dtype=np.int64) * plane)[:, None]
    flat = (indices.reshape(n * c, math.prod(indices.shape[2:])) + rows).reshape(-1)
    if accumulate:
        summed = np.bincount(flat, weights=values.reshape(-1), minlength=n * c * plane)
        return summed.astype(values.dtype, copy=False).reshape((n, c) + tuple(size))
    out = np.zeros((n, c) + tuple(size), dtype=values.dtype)
    out.reshape(-1)[flat] = values.reshape(-1)
    return out


def _gather_planes(x, indices):
    n, c = x.shape[:2]
    flat = (indices.reshape(n * c, math.prod(indices.shape[2:]))
            + (np.arange(n * c, dtype=np.int64) * math.prod(x.shape[2:]))[:, None])
    return x.reshape(-1)[flat].reshape(indices.shape)


@register_op
class PoolScatter:
    """Add values at flat ``indices`` of zero (N, C, *size) planes (gradient of adaptive max pooling)."""

    name = "pool_scatter"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, indices, size):
        ctx.indices = indices
        return _round(_scatter_planes(_as_compute(grad), indices, size, accumulate=True), grad.dtype)

    def backward(ctx, grad_grad):
        return PoolGather(grad_grad, indices=ctx.indices)


@register_op
class PoolGather:
    """Values of each (N, C) plane at flat ``indices``: the adjoint of ``pool_scatter``."""

    name = "pool_gather"
    kind = "index"
    promote = "none"

    def forward(ctx, x, indices):
        ctx.indices = indices
        ctx.size = x.shape[2:]
        return _gather_planes(x, indices)

    def backward(ctx, grad):
        return PoolScatter(grad, indices=ctx.indices, size=ctx.size)


def _max_pool_nd(op_name, d, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _pool_input(op_name, input, d)
    if d == 1 and x._dtype.category < 2:
        raise op_error(NotImplementedError, op_name, f'"max_pool1d_impl" not implemented for '
                       f"'{_type_name(x._dtype)}'")
    kernel, stride, dilation, pads, out = _pool_geometry(op_name, x._data.shape[2:], d, kernel_size, stride,
                                                         padding, dilation, ceil_mode)
    result = MaxPool(x, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out,
                     return_indices=bool(return_indices))
    if not return_indices:
        return result.squeeze(0) if unbatched else result
    values, indices = result
    return (values.squeeze(0), indices.squeeze(0)) if unbatched else (values, indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling of (N, C, L) or (C, L); windows are padded with -inf.

    >>> ember.max_pool1d(ember.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, ceil_mode=True)
    tensor([[[3., 5., 4.]]])
    """
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling of (N, C, H, W) or (C, H, W); ``return_indices`` also gives flat indices into each plane.

    >>> values, indices = ember.max_pool2d(ember.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> indices
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling of (N, C, D, H, W) or (C, D, H, W).

    >>> ember.max_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([7.])
    """
    return _max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d`` returning (values, indices).

    >>> ember.max_pool1d_with_indices(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)[1]
    tensor([[[1, 2]]])
    """
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d`` returning (values, indices).

    >>> ember.nn.functional.max_pool2d_with_indices(ember.arange(4.0).reshape(1, 1, 2, 2), 2)[1]
    tensor([[[[3]]]])
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool3d`` returning (values, indices).

    >>> ember.nn.functional.max_pool3d_with_indices(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2)[1].flatten()
    tensor([7])
    """
    return _max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_divisor(sizes, kernel, stride, pads, padding, out, count_include_pad, divisor_override):
    """Per-output divisors (broadcastable over the output) following PyTorch's window clamping."""
    if divisor_override is not None:
        return float(divisor_override)
    divisor = np.ones((), dtype=np.float64)
    for dim, (size, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        count = end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0)
        shape = [1] * len(out)
        shape[dim] = o
        divisor = divisor * count.reshape(shape)
    divisor[divisor == 0] = 1  # windows entirely in the padding sum to zero
    return divisor


def _window_sum(x, kernel, stride, pads, out):
    xp = _pad(x, pads)
    keep = (slice(None), slice(None))
    ones = (1,) * len(kernel)
    total = None
    for offset in itertools.product(*(range(k) for k in kernel)):
        view = xp[keep + _offset_slices(offset, stride, ones, out)]
        if total is None:
            total = view.astype(np.int64 if view.dtype.kind in "iu" else view.dtype, copy=True)
        else:
            total += view
    return total


@register_op
class AvgPool:
    """Average pooling over N-d windows; ``divisor`` holds the per-output window sizes."""

    name = "avg_pool"
    kind = "opaque"
    promote = "none"

    def forward(ctx, x, kernel, stride, pads, out, divisor):
        ctx.attrs = (x.shape[2:], kernel, stride, pads, out, divisor)
        total = _window_sum(_as_compute(x), kernel, stride, pads, out)
        if total.dtype.kind in "iu":
            return (total / divisor).astype(x.dtype)  # PyTorch's integer kernels truncate toward zero
        return _round(total / divisor if isinstance(divisor, float) else total / divisor.astype(total.dtype), x.dtype)

    def backward(ctx, grad):
        return AvgPoolBackward(grad, attrs=ctx.attrs)


@register_op
class AvgPoolBackward:
    """Gradient of average pooling: each output gradient is spread evenly over its window (linear)."""

    name = "avg_pool_backward"
    kind = "opaque"
    promote = "none"

    def forward(ctx, grad, attrs):
        ctx.attrs = attrs
        size, kernel, stride, pads, out, divisor = attrs
        work = _as_compute(grad)
        share = work / (divisor if isinstance(divisor, float) else divisor.astype(work.dtype))
        n, c = grad.shape[:2]
        gx = _scatter_windows(lambda offset: share, (n, c), size, kernel, stride, (1,) * len(kernel), pads, out,
                              share.dtype)
        return _round(np.ascontiguousarray(gx), grad.dtype)

    def backward(ctx, grad_grad):
        size, kernel, stride, pads, out, divisor = ctx.attrs
        return AvgPool(grad_grad, kernel=kernel, stride=stride, pads=pads, out=out, divisor=divisor)


def _avg_pool_nd(op_name, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, unbatched = _pool_input(op_name, input, d)
    if divisor_override is not None and divisor_override == 0:
        raise op_error(RuntimeError, op_name, "divisor must be not zero")
    sizes = x._data.shape[2:]
    kernel, stride, dilation, pads, out = _pool_geometry(op_name, sizes, d, kernel_size, stride, padding, 1,
                                                         ceil_mode)
    real_padding = tuple(lo for lo, _ in pads)
    divisor = _avg_divisor(sizes, kernel, stride, pads, real_padding, out, count_include_pad, divisor_override)
    y = AvgPool(x, kernel=kernel, stride=stride, pads=pads, out=out, divisor=divisor)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling of (N, C, L) or (C, L).

    >>> ember.avg_pool1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    return _avg_pool_nd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling; ``count_include_pad=False`` divides by the number of real (unpadded) elements.

    >>> F = ember.nn.functional
    >>> F.avg_pool2d(ember.ones(1, 1, 2, 2), 2, stride=1, padding=1, count_include_pad=False)
    tensor([[[[1., 1., 1.],
              [1., 1., 1.],
              [1., 1., 1.]]]])
    """
    return _avg_pool_nd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling of (N, C, D, H, W) or (C, D, H, W).

    >>> ember.nn.functional.avg_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([3.5000])
    """
    return _avg_pool_nd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``.

    >>> ember.nn.functional.lp_pool1d(ember.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    (kernel,) = _int_tuple(kernel_size, 1, "kernel_size", "lp_pool1d")
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, kernel, max_pool1d, avg_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling; ``norm_type=inf`` is max pooling of ``|x|``.

    >>> ember.nn.functional.lp_pool2d(ember.ones(1, 1, 2, 2), 2, 2)
    tensor([[[[2.]]]])
    """
    kh, kw = _int_tuple(kernel_size, 2, "kernel_size", "lp_pool2d")
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, kh * kw, max_pool2d, avg_pool2d)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, count, max_pool, avg_pool):
    from ember.ops.arithmetic import Abs, Where
    from ember.ops.math_functions import Sign
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):
        pooled = max_pool(Abs(input) if norm_type > 0 else -Abs(input), kernel_size, stride,
                          0, 1, ceil_mode)
        return pooled if norm_type > 0 else -pooled
    out = avg_pool(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    magnitude = Abs(out)
    magnitude = Where(magnitude > 0, magnitude, magnitude * 0)  # PyTorch's relu(|out|)
    return (Sign(out) * magnitude * count) ** (1.0 / norm_type)


# ------------------------------------------------------------------------------------ adaptive pooling
def _adaptive_output(op_name, output_size, sizes, d):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != d:
            raise op_error(RuntimeError, op_name, f"output_size must be {d}, got {list(output_size)}")
        items = output_size
    else:
        items = [output_size] * d
    out = []
    for item, size in zip(items, sizes):
        if item is None:
            out.append(size)
        elif isinstance(item, bool) or not isinstance(item, numbers.Integral) and not hasattr(item, "__index__"):
            raise op_error(TypeError, op_name, f"output_size must be ints or None, got {output_size!r}")
        else:
            value = int(item.__index__() if not isinstance(item, numbers.Integral) else item)
            if value < 0:
                raise op_error(RuntimeError, op_name, f"output_size must be non-negative, got {list(items)}")
            out.append(value)
    return tuple(out)


def _adaptive_windows(size, out):
    """PyTorch's adaptive window bounds: floor(i * L / out) to ceil((i + 1) * L / out)."""
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


class _Taps:
    """A linear map along one axis: ``y[o] = sum_t weight[t, o] * x[index[t, o]]``.

    ``index[t]`` never decreases with ``o``, which lets the adjoint add runs of equal indices with
    ``np.add.reduceat`` instead of a slow scatter.
    """

    __slots__ = ("index", "weight", "size")

    def __init__(self, index, weight, size):
        self.index = np.asarray(index, dtype=np.intp)
        self.weight = None if weight is None else np.asarray(weight, dtype=np.float64)
        self.size = size

    def apply(self, x, axis):
        trailing = (1,) * (x.ndim - axis - 1)
        result = None
        for t in range(self.index.shape[0]):
            picked = np.take(x, self.index[t], axis=axis)
            if self.weight is not None:
                picked *= self.weight[t].astype(x.dtype).reshape((-1,) + trailing)
            result = picked if result is None else np.add(result, picked, out=result)
        return result

    def adjoint(self, g, axis):
        trailing = (1,) * (g.ndim - axis - 1)
        shape = list(g.shape)
        shape[axis] = self.size
        result = np.zeros(shape, dtype=g.dtype)
        lead = (slice(None),) * axis
        for t in range(self.index.shape[0]):
            index = self.index[t]
            part = g if self.weight is None else g * self.weight[t].astype(g.dtype).reshape((-1,) + trailing)
            starts = np.flatnonzero(np.diff(index)) + 1
            starts = np.concatenate(([0], starts)) if index.size else starts
            if index.size == 0:
                continue
            result[lead + (index[starts],)] += np.add.reduceat(part, starts, axis=axis)
        return result


def _apply_taps(x, plans, adjoint):
    work = _as_compute(x)
    for dim, plan in enumerate(plans):
        if plan is not None:
            work = plan.adjoint(work, 2 + dim) if adjoint else plan.apply(work, 2 + dim)
    return _round(np.ascontiguousarray(work), x.dtype)


def _separable_ops(op_name, doc):
    """Register ``op_name`` (a per-axis linear map given by ``_Taps`` plans) and its adjoint."""

    def forward(ctx, x, plans):
        ctx.plans = plans
        return _apply_taps(x, plans, adjoint=False)

    def backward(ctx, grad):
        return adjoint_op(grad, plans=ctx.plans)

    def adjoint_forward(ctx, grad, plans):
        ctx.plans = plans
        return _apply_taps(grad, plans, adjoint=True)

    def adjoint_backward(ctx, grad_grad):
        return op(grad_grad, plans=ctx.plans)

    op = register_op(type(op_name, (), {"__doc__": doc, "name": op_name, "kind": "opaque", "promote": "none",
                                        "forward": forward, "backward": backward}))
    adjoint_op = register_op(type(op_name + "_backward", (), {
        "__doc__": f"The adjoint (gradient) of {op_name}.", "name": op_name + "_backward", "kind": "opaque",
        "promote": "none", "forward": adjoint_forward, "backward": adjoint_backward}))
    return op, adjoint_op


AdaptiveAvgPool, AdaptiveAvgPoolBackward = _separable_ops("adaptive_avg_pool", "Adaptive average pooling.")
Interpolate, InterpolateBackward = _separable_ops("interpolate", "Resampling by nearest/linear/cubic taps.")


def _adaptive_avg_plan(size, out):
    if out == size:
        return None
    start, end = _adaptive_windows(size, out)
    width = int((end - start).max()) if out else 1
    taps = np.arange(width)[:, None] + start[None, :]
    valid = taps < end[None, :]
    index = np.where(valid, taps, end[None, :] - 1) if out else np.zeros((width, 0), dtype=np.intp)
    weight = valid / (end - start)[None, :] if out else np.zeros((width, 0))
    return _Taps(index, weight, size)


def _adaptive_avg_nd(op_name, d, input, output_size):
    x, unbatched = _adaptive_input(op_name, input, d)
    if x._dtype.category < 2:
        raise op_error(NotImplementedError, op_name, f'"{op_name}" not implemented for \'{_type_name(x._dtype)}\'')
    sizes = x._data.shape[2:]
    out = _adaptive_output(op_name, output_size, sizes, d)
    y = AdaptiveAvgPool(x, plans=tuple(_adaptive_avg_plan(s, o) for s, o in zip(sizes, out)))
    return y.squeeze(0) if unbatched else y


def _adaptive_input(op_name, input, d):
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"input must be a Tensor, got {type(input).__name__}")
    if input._data.ndim not in (d + 1, d + 2):
        raise op_error(RuntimeError, op_name, f"{op_name}(): Expected {d + 1}D or {d + 2}D tensor, but got "
                       f"{list(input._data.shape)}")
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f'"{op_name}" not implemented for \'Bool\'')
    return (input.unsqueeze(0), True) if input._data.ndim == d + 1 else (input, False)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, with windows floor(i*L/out) to ceil((i+1)*L/out).

    >>> ember.adaptive_avg_pool1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _adaptive_avg_nd("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W); ``None`` keeps that input size.

    >>> ember.nn.functional.adaptive_avg_pool2d(ember.ones(1, 2, 5, 7), (1, None)).shape
    ember.Size([1, 2, 1, 7])
    """
    return _adaptive_avg_nd("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W).

    >>> ember.nn.functional.adaptive_avg_pool3d(ember.ones(1, 2, 3, 4, 5), 1).shape
    ember.Size([1, 2, 1, 1, 1])
    """
    return _adaptive_avg_nd("adaptive_avg_pool3d", 3, input, output_size)


@register_op
class AdaptiveMaxPool:
    """Adaptive max pooling; returns (values, flat indices into each input plane)."""

    name = "adaptive_max_pool"
    kind = "opaque"
    promote = "none"

    def forward(ctx, x, out):
        values, indices = _adaptive_max_arrays(x, out)
        ctx.indices = indices
        ctx.size = x.shape[2:]
        return values, indices

    def backward(ctx, grad, grad_indices):
        return PoolScatter(grad, indices=ctx.indices, size=ctx.size)


def _adaptive_max_arrays(x, out):
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    d = len(sizes)
    if any(o == 0 for o in out):
        return np.zeros((n, c) + out, dtype=x.dtype), np.zeros((n, c) + out, dtype=np.int64)
    work = x.astype(np.float32) if x.dtype == _dt.bfloat16.numpy_dtype else x
    gathers, widths = [], []
    flat = np.zeros((), dtype=np.int64)
    for dim, (size, o) in enumerate(zip(sizes, out)):
        start, end = _adaptive_windows(size, o)
        width = int((end - start).max())
        index = np.minimum(start[:, None] + np.arange(width)[None, :], end[:, None] - 1)
        shape = [1] * (2 * d)
        shape[2 * dim], shape[2 * dim + 1] = o, width
        gathers.append(index.reshape(shape))
        widths.append(width)
        flat = flat + index.reshape(shape) * math.prod(sizes[dim + 1:])
    windows = work[(slice(None), slice(None)) + tuple(gathers)]
    order = tuple(range(2, 2 + 2 * d, 2)) + tuple(range(3, 3 + 2 * d, 2))
    windows = windows.transpose((0, 1) + order).reshape((n, c) + out + (-1,))
    flat = flat.transpose(tuple(o - 2 for o in order)).reshape(out + (-1,))
    best = np.argmax(windows, axis=-1)[..., None]
    values = np.take_along_axis(windows, best, axis=-1)[..., 0]
    indices = np.take_along_axis(np.broadcast_to(flat, windows.shape), best, axis=-1)[..., 0]
    return _round(values, x.dtype), indices


def _adaptive_max_nd(op_name, d, input, output_size, return_indices):
    x, unbatched = _adaptive_input(op_name, input, d)
    out = _adaptive_output(op_name, output_size, x._data.shape[2:], d)
    values, indices = AdaptiveMaxPool(x, out=out)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length.

    >>> ember.nn.functional.adaptive_max_pool1d(ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]]), 2)
    tensor([[[5., 4.]]])
    """
    return _adaptive_max_nd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W); ``return_indices`` gives flat indices into each input plane.

    >>> ember.nn.functional.adaptive_max_pool2d(ember.arange(9.0).reshape(1, 1, 3, 3), 2, return_indices=True)[1]
    tensor([[[[4, 5],
              [7, 8]]]])
    """
    return _adaptive_max_nd("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W).

    >>> ember.nn.functional.adaptive_max_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 1).flatten()
    tensor([7.])
    """
    return _adaptive_max_nd("adaptive_max_pool3d", 3, input, output_size, return_indices)


@register_op
class MaxUnpool:
    """Put each value at its flat index of a zero output plane (the partial inverse of max pooling)."""

    name = "max_unpool"
    kind = "index"
    promote = "none"

    def forward(ctx, x, indices, size):
        ctx.indices = indices
        return _scatter_planes(x, indices, size, accumulate=False)

    def backward(ctx, grad):
        return PoolGather(grad, indices=ctx.indices), None


def _max_unpool_nd(op_name, d, input, indices, kernel_size, stride, padding, output_size):
    if not isinstance(indices, Tensor) or indices._dtype is not _dt.int64:
        got = indices._dtype.name if isinstance(indices, Tensor) else type(indices).__name__
        raise op_error(RuntimeError, op_name, f"elements in indices should be type int64 but got: {got}")
    x, unbatched = _pool_input(op_name, input, d)
    if tuple(indices._data.shape) != tuple(input._data.shape):
        raise op_error(RuntimeError, op_name, f"Expected shape of indices to be same as that of the input tensor "
                       f"({list(input._data.shape)}) but got indices tensor with shape: {list(indices._data.shape)}")
    kernel = _int_tuple(kernel_size, d, "kernel_size", op_name)
    stride = kernel if stride is None else _int_tuple(stride, d, "stride", op_name)
    padding = _int_tuple(padding, d, "padding", op_name)
    sizes = x._data.shape[2:]
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(sizes, stride, padding, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == d + 2 or (len(out) == d + 1 and unbatched):
            out = out[-d:]
        if len(out) != d:
            raise op_error(ValueError, op_name, f"output_size must have {d} or {d + 2} elements, got "
                           f"{list(output_size)}")
        for dim, (o, dflt, st) in enumerate(zip(out, default, stride)):
            if not dflt - st < o < dflt + st:
                raise op_error(ValueError, op_name, f'invalid output_size "{tuple(out)}" (dim {dim} must be between '
                               f"{dflt - st} and {dflt + st})")
    idx = indices.unsqueeze(0) if unbatched else indices
    plane = math.prod(out)
    if idx._data.size and (idx._data.min() < 0 or idx._data.max() >= plane):
        bad = int(idx._data.max() if idx._data.max() >= plane else idx._data.min())
        raise op_error(RuntimeError, op_name, f"Found an invalid max index: {bad} (output volumes are of size "
                       f"{'x'.join(str(o) for o in out)})")
    y = MaxUnpool(x, idx, size=out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Scatter pooled values back to the positions ``max_pool1d`` took them from (zeros elsewhere).

    >>> values, indices = ember.max_pool1d(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool1d(values, indices, 2)
    tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool_nd("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: values go back to their flat indices of each plane.

    >>> values, indices = ember.max_pool2d(ember.arange(4.0).reshape(1, 1, 2, 2), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool2d(values, indices, 2)
    tensor([[[[0., 0.],
              [0., 3.]]]])
    """
    return _max_unpool_nd("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``.

    >>> values, indices = ember.max_pool3d(ember.ones(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool3d(values, indices, 2).sum()
    tensor(1.)
    """
    return _max_unpool_nd("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ------------------------------------------------------------------------------------ unfold / fold
@register_op
class Im2Col:
    """``F.unfold``: sliding (N, C, *K) blocks of the padded input as columns (N, C * K, L)."""

    name = "im2col"
    kind = "movement"
    promote = "none"

    def forward(ctx, x, kernel, stride, dilation, pads, out):
        ctx.attrs = (x.shape[2:], kernel, stride, dilation, pads, out)
        return _unfold_columns(x, kernel, stride, dilation, pads, out)

    def backward(ctx, grad):
        return Col2Im(grad, attrs=ctx.attrs)


@register_op
class Col2Im:
    """``F.fold``: sum columns (N, C * K, L) back into overlapping blocks of (N, C, *size)."""

    name = "col2im"
    kind = "movement"
    promote = "none"

    def forward(ctx, cols, attrs):
        ctx.attrs = attrs
        size, kernel, stride, dilation, pads, out = attrs
        work = _as_compute(cols)
        n = cols.shape[0]
        blocks = work.reshape((n, -1) + tuple(kernel) + tuple(out))
        channels = blocks.shape[1]
        gx = _scatter_windows(lambda offset: blocks[(slice(None), slice(None)) + offset], (n, channels), size, kernel,
                              stride, dilation, pads, out, work.dtype)
        return _round(np.ascontiguousarray(gx), cols.dtype)

    def backward(ctx, grad):
        size, kernel, stride, dilation, pads, out = ctx.attrs
        return Im2Col(grad, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out)


def _block_geometry(op_name, sizes, kernel_size, dilation, padding, stride):
    kernel = _block_tuple(op_name, kernel_size, "kernel_size")
    dilation = _block_tuple(op_name, dilation, "dilation")
    padding = _block_tuple(op_name, padding, "padding")
    stride = _block_tuple(op_name, stride, "stride")
    if any(k <= 0 for k in kernel):
        raise op_error(RuntimeError, op_name, f"kernel size should be greater than zero, but got kernel_size="
                       f"{list(kernel)}")
    if any(s <= 0 for s in stride):
        raise op_error(RuntimeError, op_name, f"stride should be greater than zero, but got stride={list(stride)}")
    if any(v <= 0 for v in dilation):
        raise op_error(RuntimeError, op_name, f"dilation should be greater than zero, but got dilation={list(dilation)}")
    if any(p < 0 for p in padding):
        raise op_error(RuntimeError, op_name, f"padding should be non-negative, but got padding={list(padding)}")
    pads = tuple((p, p) for p in padding)
    out = tuple(_out_size(s, k, st, dl, p) for s, k, st, dl, p in zip(sizes, kernel, stride, dilation, pads))
    if any(o < 1 for o in out):
        raise op_error(RuntimeError, op_name, f"Given input with spatial size {tuple(sizes)}, kernel_size={kernel}, "
                       f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding blocks as "
                       f"{out}, but its components must be at least one.")
    return kernel, stride, dilation, pads, out


def _block_tuple(op_name, value, name):
    if isinstance(value, (list, tuple)) and len(value) not in (1, 2):
        raise op_error(RuntimeError, op_name, f"It is expected {name} equals to 2, but got size {len(value)}")
    return _int_tuple(value, 2, name, op_name)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L).

    >>> ember.nn.functional.unfold(ember.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    if not isinstance(input, Tensor) or input._data.ndim not in (3, 4):
        shape = list(input._data.shape) if isinstance(input, Tensor) else type(input).__name__
        raise op_error(RuntimeError, "unfold", f"Expected 3D or 4D (batch mode) tensor for input, but got: {shape}")
    x, unbatched = (input.unsqueeze(0), True) if input._data.ndim == 3 else (input, False)
    kernel, stride, dilation, pads, out = _block_geometry("unfold", x._data.shape[2:], kernel_size, dilation, padding,
                                                          stride)
    y = Im2Col(x, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into a tensor (col2im): (N, C * kH * kW, L) -> (N, C, *output_size).

    >>> ember.nn.functional.fold(ember.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    if not isinstance(input, Tensor) or input._data.ndim not in (2, 3) or 0 in input._data.shape[-2:]:
        shape = list(input._data.shape) if isinstance(input, Tensor) else type(input).__name__
        raise op_error(RuntimeError, "fold", "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch "
                       f"size and non-zero dimensions for input, but got: {shape}")
    cols, unbatched = (input.unsqueeze(0), True) if input._data.ndim == 2 else (input, False)
    size = _block_tuple("fold", output_size, "output_size")
    kernel, stride, dilation, pads, out = _block_geometry("fold", size, kernel_size, dilation, padding, stride)
    rows, length = cols._data.shape[1:]
    kprod = math.prod(kernel)
    if rows % kprod:
        raise op_error(RuntimeError, "fold", f"Expected size of input's dimension 1 to be divisible by the product of "
                       f"kernel_size, but got input.size(1)={rows} and kernel_size={kernel}.")
    if length != math.prod(out):
        raise op_error(RuntimeError, "fold", f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                       f"padding={tuple(lo for lo, _ in pads)}, stride={stride}, expected size of input's dimension 2 "
                       f"to match the calculated number of sliding blocks {' * '.join(str(o) for o in out)} = "
                       f"{math.prod(out)}, but got input.size(2)={length}.")
    y = Col2Im(cols, attrs=(size, kernel, stride, dilation, pads, out))
    return y.squeeze(0) if unbatched else y


# ------------------------------------------------------------------------------------ interpolation
_INTERPOLATION_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _scale_value(size, out, scale, dtype):
    """PyTorch's ``compute_scales_value``: 1 / scale_factor when one was given, else in / out."""
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(size) / dtype(out)


def _nearest_plan(size, out, scale, exact):
    index = np.arange(out)
    if not exact and out == size:
        return None
    if not exact and out == 2 * size:
        return _Taps((index >> 1)[None], None, size)
    ratio = _scale_value(size, out, scale, np.float32)
    if exact:  # (i + 0.5) is a double in PyTorch's kernel; the product is rounded to float before floorf
        source = np.floor(((index + 0.5) * np.float64(ratio)).astype(np.float32))
    else:
        source = np.floor(index.astype(np.float32) * ratio)
    return _Taps(np.minimum(source.astype(np.int64), size - 1)[None], None, size)


def _linear_source(size, out, scale, align_corners, cubic, dtype):
    index = np.arange(out).astype(dtype)
    if align_corners:
        ratio = dtype(size - 1) / dtype(out - 1) if out > 1 else dtype(0)
        return ratio * index
    ratio = _scale_value(size, out, scale, dtype)
    source = ratio * (index + dtype(0.5)) - dtype(0.5)
    return source if cubic else np.maximum(source, dtype(0))


def _guard(source, size):
    """PyTorch's ``guard_index_and_lambda``: the floor index (clamped) and the fractional weight."""
    index = np.minimum(np.floor(source).astype(np.int64), size - 1)
    return index, np.clip(source - index, 0, 1)


def _linear_plan(size, out, scale, align_corners, dtype):
    if out == size:
        return None
    index0, lambda1 = _guard(_linear_source(size, out, scale, align_corners, False, dtype), size)
    index1 = index0 + (index0 < size - 1)
    return _Taps(np.stack([index0, index1]), np.stack([1 - lambda1, lambda1]).astype(np.float64), size)


def _cubic_plan(size, out, scale, align_corners, dtype):
    index, t = _guard(_linear_source(size, out, scale, align_corners, True, dtype), size)
    a = dtype(-0.75)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = dtype(1)
    weights = np.stack([far(t + one), near(t), near(one - t), far(2 * one - t)]).astype(np.float64)
    taps = np.stack([np.clip(index - 1 + j, 0, size - 1) for j in range(4)])
    return _Taps(taps, weights, size)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, *spatial) by ``size`` or ``scale_factor`` with PyTorch's sampling rules.

    Modes: ``nearest``, ``nearest-exact``, ``linear`` (3-D), ``bilinear``/``bicubic`` (4-D), ``trilinear``
    (5-D) and ``area`` (adaptive average pooling).

    >>> F = ember.nn.functional
    >>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    >>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), size=3, mode="nearest")
    tensor([[[1., 1., 2.]]])
    """
    op_name = "interpolate"
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"input must be a Tensor, got {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise op_error(ValueError, op_name, "align_corners option can only be set with the interpolating modes: "
                           "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    d = input._data.ndim - 2
    spatial = list(input._data.shape[2:])
    if size is not None and scale_factor is not None:
        raise op_error(ValueError, op_name, "only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != d:
                raise op_error(ValueError, op_name, f"Input and output must have the same number of spatial dimensions, "
                               f"but got input with spatial dimensions of {spatial} and output size of {size}. Please "
                               "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                               "...,oK) format.")
            if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) or isinstance(v, Tensor)
                       for v in size):
                raise op_error(TypeError, op_name, "expected size to be one of int or Tuple[int] or Tuple[int, int] "
                               f"or Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            out = tuple(int(v) for v in size)
        else:
            out = (int(size),) * d
        scales = (None,) * d
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != d:
                raise op_error(ValueError, op_name, f"Input and scale_factor must have the same number of spatial "
                               f"dimensions, but got input with spatial dimensions of {spatial} and scale_factor of "
                               f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                               "and scale_factor in (s1, s2, ...,sK) format.")
            scales = tuple(float(s) for s in scale_factor)
        else:
            scales = (float(scale_factor),) * d
        out = tuple(math.floor(s * f) for s, f in zip(spatial, scales))
    else:
        raise op_error(ValueError, op_name, "either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise op_error(ValueError, op_name, "recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor or mode == "area":
        scales = (None,) * d
    if antialias:
        raise op_error(NotImplementedError, op_name, "antialias=True is not supported by ember; use antialias=False "
                       "(or downsample with F.avg_pool2d / F.adaptive_avg_pool2d first)")
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
    if mode not in modes or d not in (1, 2, 3):
        raise op_error(NotImplementedError, op_name, f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                       f"{d + 2}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                       f"nearest-exact (got {mode})")
    needed = _INTERPOLATION_DIMS.get(mode)
    if needed is not None and needed != d:
        raise op_error(NotImplementedError, op_name, f"Got {d + 2}D input, but {mode} mode needs {needed + 2}D input")
    if any(o <= 0 for o in out) or any(s <= 0 for s in spatial):
        raise op_error(RuntimeError, op_name, f"Input and output sizes should be greater than 0, but got input "
                       f"{tuple(spatial)} output {out}")
    if mode == "area":
        return _adaptive_avg_nd("adaptive_avg_pool", d, input, out)
    if input._dtype.category < 2 and mode != "nearest" and mode != "nearest-exact" or input._dtype is _dt.bool:
        raise op_error(NotImplementedError, op_name, f'"upsample_{mode}" not implemented for '
                       f"'{_type_name(input._dtype)}'")
    dtype = np.float64 if input._dtype is _dt.float64 else np.float32
    if mode in ("nearest", "nearest-exact"):
        plans = tuple(_nearest_plan(s, o, f, mode == "nearest-exact") for s, o, f in zip(spatial, out, scales))
    elif mode == "bicubic":
        plans = tuple(_cubic_plan(s, o, f, align_corners, dtype) for s, o, f in zip(spatial, out, scales))
    else:
        plans = tuple(_linear_plan(s, o, f, align_corners, dtype) for s, o, f in zip(spatial, out, scales))
    return Interpolate(input, plans=plans)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`.

    >>> ember.nn.functional.upsample(ember.ones(1, 1, 2), scale_factor=2).shape
    ember.Size([1, 1, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``.

    >>> ember.nn.functional.upsample_nearest(ember.ones(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``.

    >>> ember.nn.functional.upsample_bilinear(ember.tensor([[[[0.0, 1.0]]]]), size=(1, 3))
    tensor([[[[0.0000, 0.5000, 1.0000]]]])
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------------------ channel rearrangement
def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C * r * r, H, W) into (*, C, H * r, W * r).

    >>> ember.pixel_shuffle(ember.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    shape = tuple(input._data.shape)
    if len(shape) < 3:
        raise op_error(RuntimeError, "pixel_shuffle", f"pixel_shuffle expects input to have at least 3 dimensions, "
                       f"but got input with {len(shape)} dimension(s)")
    r = int(upscale_factor)
    if r <= 0:
        raise op_error(RuntimeError, "pixel_shuffle", f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = shape
    if c % (r * r):
        raise op_error(RuntimeError, "pixel_shuffle", "pixel_shuffle expects its input's 'channel' dimension to be "
                       f"divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    b = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Rearrange (*, C, H * r, W * r) into (*, C * r * r, H, W); the inverse of ``pixel_shuffle``.

    >>> ember.pixel_unshuffle(ember.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
    tensor([0., 1., 2., 3.])
    """
    shape = tuple(input._data.shape)
    if len(shape) < 3:
        raise op_error(RuntimeError, "pixel_unshuffle", f"pixel_unshuffle expects input to have at least 3 dimensions,"
                       f" but got input with {len(shape)} dimension(s)")
    r = int(downscale_factor)
    if r <= 0:
        raise op_error(RuntimeError, "pixel_unshuffle", f"pixel_unshuffle expects a positive downscale_factor, but "
                       f"got {r}")
    *batch, c, h, w = shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise op_error(RuntimeError, "pixel_unshuffle", f"pixel_unshuffle expects {name} to be divisible by "
                           f"downscale_factor, but input.size({dim})={size} is not divisible by {r}")
    b = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """Interleave channels of (N, C, *) across ``groups``: (N, g, C / g, *) transposed to (N, C / g, g, *).

    >>> ember.channel_shuffle(ember.arange(4.0).reshape(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    shape = tuple(input._data.shape)
    if len(shape) <= 2:
        raise op_error(RuntimeError, "channel_shuffle", f"channel_shuffle expects input with > 2 dims, but got input "
                       f"with sizes {list(shape)}")
    groups = int(groups)
    if groups <= 0:
        raise op_error(RuntimeError, "channel_shuffle", f"Number of groups to divide channels in must be positive. "
                       f"Value of groups:{groups}")
    n, c, *rest = shape
    if c % groups:
        raise op_error(RuntimeError, "channel_shuffle", f"Number of channels must be divisible by groups. Got {c} "
                       f"channels and {groups} groups.")
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(shape)


# ------------------------------------------------------------------------------------ grid sampling
def _clip_with_grad(source, size):
    inside = (source > 0) & (source < size - 1)
    return np.clip(source, 0, size - 1), inside.astype(source.dtype)


def _reflect_with_grad(source, twice_low, twice_high):
    if twice_low == twice_high:
        return np.zeros_like(source), np.zeros_like(source)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    shifted = source - low
    sign = np.where(shifted < 0, -1, 1).astype(source.dtype)
    shifted = np.abs(shifted)
    extra = np.fmod(shifted, span)
    flips = np.floor(shifted / span)
    even = flips % 2 == 0
    return np.where(even, extra + low, span - extra + low), np.where(even, sign, -sign)


def _grid_source(coord, size, padding_mode, align_corners):
    """PyTorch's ``grid_sampler_compute_source_index`` and its derivative with respect to ``coord``."""
    if align_corners:
        source, scale = (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        source, scale = ((coord + 1) * size - 1) / 2, size / 2
    grad = np.full_like(source, scale)
    if padding_mode == "border":
        source, g = _clip_with_grad(source, size)
        grad = grad * g
    elif padding_mode == "reflection":
        if align_corners:
            source, g = _reflect_with_grad(source, 0, 2 * (size - 1))
        else:
            source, g = _reflect_with_grad(source, -1, 2 * size - 1)
        source, g2 = _clip_with_grad(source, size)
        grad = grad * g * g2
    return source, grad


def _grid_corners(x_shape, grid, mode, padding_mode, align_corners):
    """Corners (flat index into each plane, weight, d weight / d grid x, d weight / d grid y) of each sample."""
    h, w = x_shape[2:]
    ix, gix = _grid_source(grid[..., 0], w, padding_mode, align_corners)
    iy, giy = _grid_source(grid[..., 1], h, padding_mode, align_corners)
    corners = []
    if mode == "nearest":
        xs, ys = np.rint(ix), np.rint(iy)
        corners.append((xs, ys, np.ones_like(ix), np.zeros_like(ix), np.zeros_like(ix)))
    else:
        x0, y0 = np.floor(ix), np.floor(iy)
        x1, y1 = x0 + 1, y0 + 1
        corners.append((x0, y0, (x1 - ix) * (y1 - iy), -(y1 - iy), -(x1 - ix)))
        corners.append((x1, y0, (ix - x0) * (y1 - iy), (y1 - iy), -(ix - x0)))
        corners.append((x0, y1, (x1 - ix) * (iy - y0), -(iy - y0), (x1 - ix)))
        corners.append((x1, y1, (ix - x0) * (iy - y0), (iy - y0), (ix - x0)))
    result = []
    n = grid.shape[0]
    for xs, ys, weight, dwx, dwy in corners:
        valid = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
        flat = np.where(valid, ys * w + xs, 0).astype(np.int64).reshape(n, 1, -1)
        mask = valid.reshape(n, 1, -1).astype(grid.dtype)
        result.append((flat, weight.reshape(n, 1, -1) * mask, (dwx * gix).reshape(n, 1, -1) * mask,
                       (dwy * giy).reshape(n, 1, -1) * mask))
    return result


@register_op
class GridSample:
    """Sample (N, C, H, W) at the normalized (x, y) locations of grid (N, Ho, Wo, 2)."""

    name = "grid_sample"
    kind = "index"
    promote = "none"
    save = ("inputs",)

    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        ctx.attrs = (mode, padding_mode, align_corners)
        work, where = _as_compute(x), _as_compute(grid)
        n, c = x.shape[:2]
        planes = work.reshape(n, c, -1)
        out = np.zeros((n, c, grid.shape[1] * grid.shape[2]), dtype=work.dtype)
        for flat, weight, _, _ in _grid_corners(x.shape, where, mode, padding_mode, align_corners):
            out += np.take_along_axis(planes, flat, axis=2) * weight
        return _round(out.reshape((n, c) + grid.shape[1:3]), x.dtype)

    def backward(ctx, grad):
        x, grid = ctx.inputs
        needs = tuple(e is not None for e in ctx.next_edges)
        return GridSampleBackward(grad, x, grid, attrs=ctx.attrs, needs=needs)


@register_op
class GridSampleBackward:
    """Gradients of ``grid_sample`` with respect to its input and its grid."""

    name = "grid_sample_backward"
    kind = "index"
    promote = "none"

    def forward(ctx, grad, x, grid, attrs, needs):
        mode, padding_mode, align_corners = attrs
        work, where, g = _as_compute(x), _as_compute(grid), _as_compute(grad)
        n, c = x.shape[:2]
        plane = x.shape[2] * x.shape[3]
        g = g.reshape(n, c, -1)
        planes = work.reshape(n, c, -1)
        grad_x = np.zeros(n * c * plane, dtype=np.float64) if needs[0] else None
        grad_grid = np.zeros(grid.shape, dtype=work.dtype) if needs[1] else None
        rows = (np.arange(n * c, dtype=np.int64) * plane).reshape(n, c, 1)
        for flat, weight, dwx, dwy in _grid_corners(x.shape, where, mode, padding_mode, align_corners):
            if grad_x is not None:
                grad_x += np.bincount((flat + rows).reshape(-1), weights=(g * weight).reshape(-1),
                                      minlength=n * c * plane)
            if grad_grid is not None and mode != "nearest":
                values = np.take_along_axis(planes, flat, axis=2) * g
                grad_grid[..., 0] += (values * dwx).sum(axis=1).reshape(grid.shape[:3])
                grad_grid[..., 1] += (values * dwy).sum(axis=1).reshape(grid.shape[:3])
        return (None if grad_x is None else _round(grad_x.astype(work.dtype).reshape(x.shape), x.dtype),
                None if grad_grid is None else _round(grad_grid, grid.dtype))

    def backward(ctx, grad_x, grad_grid):
        raise op_error(NotImplementedError, "grid_sample", "double backward of grid_sample is not supported by ember")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, Ho, Wo, 2) locations in [-1, 1] (x first, then y).

    ``mode`` is ``bilinear`` or ``nearest``; ``padding_mode`` is ``zeros``, ``border`` or ``reflection``.

    >>> x = ember.arange(4.0).reshape(1, 1, 2, 2)
    >>> ember.nn.functional.grid_sample(x, ember.zeros(1, 1, 1, 2), align_corners=False)
    tensor([[[[1.5000]]]])
    """
    op_name = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise op_error(ValueError, op_name, f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                       f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise op_error(ValueError, op_name, f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                       f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise op_error(NotImplementedError, op_name, "mode='bicubic' is not supported by ember; use 'bilinear' or "
                       "'nearest'")
    x_shape, g_shape = list(input._data.shape), list(grid._data.shape)
    if input._data.ndim != 4 or grid._data.ndim != 4:
        if input._data.ndim == 5:
            raise op_error(NotImplementedError, op_name, "5-D (volumetric) grid_sample is not supported by ember")
        raise op_error(RuntimeError, op_name, f"grid_sampler(): expected 4D input and grid with same number of "
                       f"dimensions, but got input with sizes {x_shape} and grid with sizes {g_shape}")
    if x_shape[0] != g_shape[0]:
        raise op_error(RuntimeError, op_name, f"grid_sampler(): expected grid and input to have same batch size, but "
                       f"got input with sizes {x_shape} and grid with sizes {g_shape}")
    if g_shape[-1] != 2:
        raise op_error(RuntimeError, op_name, f"grid_sampler(): expected grid to have size 2 in last dimension, but "
                       f"got grid with sizes {g_shape}")
    if input._dtype is not grid._dtype:
        raise op_error(RuntimeError, op_name, f"expected scalar type {_type_name(input._dtype)} but found "
                       f"{_type_name(grid._dtype)} (input and grid must have the same dtype)")
    if input._dtype.category < 2:
        raise op_error(RuntimeError, op_name, f"grid_sampler(): expected input to have floating point type, got "
                       f"{input._dtype.name}")
    if any(s == 0 for s in x_shape[2:]):
        raise op_error(RuntimeError, op_name, f"grid_sampler(): expected input to have non-empty spatial dimensions, "
                       f"but input has sizes {x_shape}")
    return GridSample(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))


@register_op
class AffineGrid:
    """Sampling grid (N, *spatial, k) = base (P, k + 1) @ theta (N, k, k + 1) transposed, for ``grid_sample``."""

    name = "affine_grid"
    kind = "matmul"
    promote = "none"

    def forward(ctx, theta, base, spatial):
        ctx.base, ctx.spatial = base, spatial
        work = _as_compute(theta)
        grid = np.matmul(base.astype(work.dtype), work.transpose(0, 2, 1))
        return _round(grid.reshape((theta.shape[0],) + spatial + (theta.shape[1],)), theta.dtype)

    def backward(ctx, grad):
        return AffineGridBackward(grad, base=ctx.base, spatial=ctx.spatial)


@register_op
class AffineGridBackward:
    """Gradient of ``affine_grid`` with respect to theta (linear in the grid's gradient)."""

    name = "affine_grid_backward"
    kind = "matmul"
    promote = "none"

    def forward(ctx, grad, base, spatial):
        ctx.base, ctx.spatial = base, spatial
        work = _as_compute(grad)
        n, k = grad.shape[0], grad.shape[-1]
        theta = np.matmul(work.reshape(n, -1, k).transpose(0, 2, 1), base.astype(work.dtype))
        return _round(theta, grad.dtype)

    def backward(ctx, grad_grad):
        return AffineGrid(grad_grad, base=ctx.base, spatial=ctx.spatial)


def _linspace_from_neg_one(steps, align_corners):
    if steps <= 1:
        return np.zeros(1)
    points = np.linspace(-1.0, 1.0, steps)
    return points if align_corners else points * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """A (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid for ``grid_sample`` from affine matrices ``theta``.

    >>> grid = ember.nn.functional.affine_grid(ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 1, 2),
    ...                                        align_corners=True)
    >>> grid
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """
    op_name = "affine_grid"
    size = tuple(int(s) for s in size)
    if theta._dtype.category < 2:
        raise op_error(ValueError, op_name, f"Expected theta to have floating point type, but got "
                       f"{theta._dtype.name}")
    if len(size) not in (4, 5):
        raise op_error(NotImplementedError, op_name, f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                       f"transforms, respectively. Got size {size}.")
    k = len(size) - 2
    if theta._data.ndim != 3 or tuple(theta._data.shape[1:]) != (k, k + 1):
        raise op_error(ValueError, op_name, f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size "
                       f"{size}. Got {list(theta._data.shape)}.")
    if min(size) <= 0:
        raise op_error(ValueError, op_name, f"Expected non-zero, positive output size. Got {size}")
    if theta._data.shape[0] != size[0]:
        raise op_error(RuntimeError, op_name, f"theta has batch size {theta._data.shape[0]} but size asks for "
                       f"{size[0]} grids")
    spatial = size[2:]
    axes = [_linspace_from_neg_one(s, bool(align_corners)) for s in reversed(spatial)]  # x varies fastest
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # arrays over (D, H, W) / (H, W)
    columns = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(math.prod(spatial))]
    base = np.stack(columns, axis=1)
    return AffineGrid(theta, base=base, spatial=spatial)
