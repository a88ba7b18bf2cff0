"""Convolution ops (``torch.nn.functional`` semantics): ``conv1d``/``conv2d``/``conv3d``, the transposed
convolutions, and patch extraction (``unfold``, im2col, and its adjoint ``fold``, col2im).

Convolutions unfold the (padded) input into a contiguous column buffer through a strided window view and
run one GEMM per group over the whole batch; their backward pieces (``conv_backward_input``, the
transposed convolution, and ``conv_backward_weight``) are registered ops whose own backward is defined,
so double backward works. The sliding-window machinery here (padding, window views, kernel-offset slices,
col2im's scatter) is what the pooling family builds on too.

>>> import ember
>>> import ember.nn.functional as F
>>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
>>> F.conv2d(x, ember.ones(1, 1, 2, 2), stride=2)
tensor([[[[10., 18.],
          [42., 50.]]]])
>>> F.unfold(x, 2, stride=2).shape
ember.Size([1, 4, 4])
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember import dtypes as _dt
from ember.autograd.engine import Node
from ember.dtypes import opmath, rounded_like, torch_type_name
from ember.errors import op_error
from ember.ops.arguments import int_tuple
from ember.ops.registry import register_function, register_op
from ember.tensor import Tensor

# Forward column buffers up to this size are kept for the weight gradient instead of being rebuilt.
_COLS_CACHE_BYTES = 256 * 2 ** 20


def _shape_text(sizes):
    return "(" + " x ".join(str(s) for s in sizes) + ")"


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
        y, cols = _conv_forward(opmath(x), opmath(w), None if bias is None else opmath(bias),
                                stride, pads, dilation, groups, out)
        if ctx.__class__ is Node and cols.nbytes <= _COLS_CACHE_BYTES:
            ctx.cols = cols
        return rounded_like(y, x)

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
        gx = _conv_input_grad(opmath(grad), opmath(w), size, stride, pads, dilation, groups)
        return rounded_like(gx, grad)

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
        gw = _conv_weight_grad(opmath(x), opmath(grad), weight_shape, stride, pads, dilation, groups, cols)
        return rounded_like(gw, grad)

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


def _check_conv_dtypes(op_name, input, weight, bias):
    if weight._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, f"expected scalar type {torch_type_name(input._dtype)} but found "
                       f"{torch_type_name(weight._dtype)} (input dtype {input._dtype.name}, weight dtype "
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
    padding = int_tuple(padding, d, "padding", op_name)
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
    stride = int_tuple(stride, d, "stride", op_name)
    dilation = int_tuple(dilation, d, "dilation", op_name)
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


@register_function(functional=True)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution of (N, C, L) or unbatched (C, L) with weight (O, C / groups, K).

    ``padding`` is an int, a tuple, ``'valid'`` or ``'same'`` (unit stride only).

    >>> ember.conv1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0]]]), ember.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@register_function(functional=True)
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


@register_function(functional=True)
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
    stride = int_tuple(stride, d, "stride", op_name)
    dilation = int_tuple(dilation, d, "dilation", op_name)
    padding = int_tuple(padding, d, "padding", op_name)
    output_padding = int_tuple(output_padding, d, "output_padding", op_name)
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


@register_function(functional=True)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """1-d transposed convolution ("deconvolution") with weight (C_in, C_out / groups, K).

    >>> ember.conv_transpose1d(ember.tensor([[[1.0, 2.0]]]), ember.tensor([[[1.0, 1.0, 1.0]]]), stride=2)
    tensor([[[1., 1., 3., 2., 2.]]])
    """
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


@register_function(functional=True)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """2-d transposed convolution with weight (C_in, C_out / groups, kH, kW); the adjoint of ``conv2d``.

    >>> ember.conv_transpose2d(ember.ones(1, 3, 4, 4), ember.ones(3, 2, 3, 3), stride=2, output_padding=1).shape
    ember.Size([1, 2, 10, 10])
    """
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


@register_function(functional=True)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """3-d transposed convolution with weight (C_in, C_out / groups, kD, kH, kW).

    >>> ember.conv_transpose3d(ember.ones(1, 2, 2, 2, 2), ember.ones(2, 1, 2, 2, 2)).shape
    ember.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose_nd("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


# ------------------------------------------------------------------------------------ unfold / fold
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
    return int_tuple(value, 2, name, op_name)


@register_op
class Im2Col:
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L), the (N, C, kH, kW) blocks
    of the padded input as columns.

    >>> ember.nn.functional.unfold(ember.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """

    name = "im2col"
    kind = "movement"
    promote = "none"
    names = ("unfold",)
    functional = "only"
    out = False

    def function(input, kernel_size, dilation=1, padding=0, stride=1):
        if not isinstance(input, Tensor) or input._data.ndim not in (3, 4):
            shape = list(input._data.shape) if isinstance(input, Tensor) else type(input).__name__
            raise op_error(RuntimeError, "unfold", f"Expected 3D or 4D (batch mode) tensor for input, but got: {shape}")
        x, unbatched = (input.unsqueeze(0), True) if input._data.ndim == 3 else (input, False)
        kernel, stride, dilation, pads, out = _block_geometry("unfold", x._data.shape[2:], kernel_size, dilation,
                                                              padding, stride)
        y = Im2Col(x, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out)
        return y.squeeze(0) if unbatched else y

    def forward(ctx, x, kernel, stride, dilation, pads, out):
        ctx.attrs = (x.shape[2:], kernel, stride, dilation, pads, out)
        return _unfold_columns(x, kernel, stride, dilation, pads, out)

    def backward(ctx, grad):
        return Col2Im(grad, attrs=ctx.attrs)


@register_op
class Col2Im:
    """Sum sliding local blocks back into a tensor (col2im): (N, C * kH * kW, L) -> (N, C, *output_size), the
    columns added into their overlapping blocks.

    >>> ember.nn.functional.fold(ember.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """

    name = "col2im"
    kind = "movement"
    promote = "none"
    names = ("fold",)
    functional = "only"
    out = False

    def function(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
        if not isinstance(input, Tensor) or input._data.ndim not in (2, 3) or 0 in input._data.shape[-2:]:
            shape = list(input._data.shape) if isinstance(input, Tensor) else type(input).__name__
            raise op_error(RuntimeError, "fold", "Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: {shape}")
        cols, unbatched = (input.unsqueeze(0), True) if input._data.ndim == 2 else (input, False)
        size = _block_tuple("fold", output_size, "output_size")
        kernel, stride, dilation, pads, out = _block_geometry("fold", size, kernel_size, dilation, padding, stride)
        rows, length = cols._data.shape[1:]
        kprod = math.prod(kernel)
        if rows % kprod:
            raise op_error(RuntimeError, "fold", f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={rows} and kernel_size={kernel}.")
        if length != math.prod(out):
            raise op_error(RuntimeError, "fold", f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={tuple(lo for lo, _ in pads)}, stride={stride}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding blocks "
                           f"{' * '.join(str(o) for o in out)} = {math.prod(out)}, but got input.size(2)={length}.")
        y = Col2Im(cols, attrs=(size, kernel, stride, dilation, pads, out))
        return y.squeeze(0) if unbatched else y

    def forward(ctx, cols, attrs):
        ctx.attrs = attrs
        size, kernel, stride, dilation, pads, out = attrs
        work = opmath(cols)
        n = cols.shape[0]
        blocks = work.reshape((n, -1) + tuple(kernel) + tuple(out))
        channels = blocks.shape[1]
        gx = _scatter_windows(lambda offset: blocks[(slice(None), slice(None)) + offset], (n, channels), size, kernel,
                              stride, dilation, pads, out, work.dtype)
        return rounded_like(np.ascontiguousarray(gx), cols)

    def backward(ctx, grad):
        size, kernel, stride, dilation, pads, out = ctx.attrs
        return Im2Col(grad, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out)
