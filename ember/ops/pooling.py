"""Pooling ops (``torch.nn.functional`` semantics): max, average and power-average pooling over 1-3 spatial
dims, adaptive average and max pooling, ``max_unpool``, and the backward ops of each.

Pooling loops over kernel offsets (a handful of vectorized strided passes over the padded input, with the
convolution family's window machinery), never over output pixels. Adaptive average pooling is a separable
per-axis linear map (``_Taps``), which interpolation reuses (``resampling.py``).

>>> import ember
>>> import ember.nn.functional as F
>>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
>>> F.max_pool2d(x, 2)
tensor([[[[ 5.,  7.],
          [13., 15.]]]])
>>> F.adaptive_avg_pool2d(x, 1)
tensor([[[[7.5000]]]])
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from ember import dtypes as _dt
from ember.dtypes import HALF_NUMPY_DTYPES, opmath, rounded_like, torch_type_name
from ember.errors import op_error
from ember.ops.arguments import int_tuple
from ember.ops.convolution import _offset_slices, _pad, _scatter_windows
from ember.ops.registry import recording, register_function, register_op
from ember.tensor import Tensor


# ------------------------------------------------------------------------------------ max and average pooling
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
    kernel = int_tuple(kernel_size, d, "kernel_size", op_name)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        int_tuple(stride, d, "stride", op_name)
    padding = int_tuple(padding, d, "padding", op_name)
    dilation = int_tuple(dilation, d, "dilation", op_name)
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
    return -np.inf if dtype.kind == "f" or dtype in HALF_NUMPY_DTYPES else np.iinfo(dtype).min


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
    return rounded_like(_max_pool_windows(x, kernel, stride, dilation, pads, out)[0], x)


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
    return rounded_like(best, x), which


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
        work = opmath(grad)
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
        return rounded_like(result, grad)

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
        return rounded_like(_scatter_planes(opmath(grad), indices, size, accumulate=True), grad)

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
                       f"'{torch_type_name(x._dtype)}'")
    kernel, stride, dilation, pads, out = _pool_geometry(op_name, x._data.shape[2:], d, kernel_size, stride,
                                                         padding, dilation, ceil_mode)
    result = MaxPool(x, kernel=kernel, stride=stride, dilation=dilation, pads=pads, out=out,
                     return_indices=bool(return_indices))
    if not return_indices:
        return result.squeeze(0) if unbatched else result
    values, indices = result
    return (values.squeeze(0), indices.squeeze(0)) if unbatched else (values, indices)


@register_function(functional=True)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling of (N, C, L) or (C, L); windows are padded with -inf.

    >>> ember.max_pool1d(ember.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, ceil_mode=True)
    tensor([[[3., 5., 4.]]])
    """
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@register_function(functional=True)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling of (N, C, H, W) or (C, H, W); ``return_indices`` also gives flat indices into each plane.

    >>> values, indices = ember.max_pool2d(ember.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> indices
    tensor([[[[ 5,  7],
              [13, 15]]]])
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@register_function(functional=True)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling of (N, C, D, H, W) or (C, D, H, W).

    >>> ember.max_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([7.])
    """
    return _max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@register_function(functional=True)
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d`` returning (values, indices).

    >>> ember.max_pool1d_with_indices(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)[1]
    tensor([[[1, 2]]])
    """
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


@register_function(functional="only")
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d`` returning (values, indices).

    >>> ember.nn.functional.max_pool2d_with_indices(ember.arange(4.0).reshape(1, 1, 2, 2), 2)[1]
    tensor([[[[3]]]])
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


@register_function(functional="only")
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
        total = _window_sum(opmath(x), kernel, stride, pads, out)
        if total.dtype.kind in "iu":
            return (total / divisor).astype(x.dtype)  # PyTorch's integer kernels truncate toward zero
        return rounded_like(total / divisor if isinstance(divisor, float) else total / divisor.astype(total.dtype), x)

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
        work = opmath(grad)
        share = work / (divisor if isinstance(divisor, float) else divisor.astype(work.dtype))
        n, c = grad.shape[:2]
        gx = _scatter_windows(lambda offset: share, (n, c), size, kernel, stride, (1,) * len(kernel), pads, out,
                              share.dtype)
        return rounded_like(np.ascontiguousarray(gx), grad)

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


@register_function(functional=True)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling of (N, C, L) or (C, L).

    >>> ember.avg_pool1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    return _avg_pool_nd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@register_function(functional="only")
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


@register_function(functional="only")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling of (N, C, D, H, W) or (C, D, H, W).

    >>> ember.nn.functional.avg_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
    tensor([3.5000])
    """
    return _avg_pool_nd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


@register_function(functional="only")
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``.

    >>> ember.nn.functional.lp_pool1d(ember.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    (kernel,) = int_tuple(kernel_size, 1, "kernel_size", "lp_pool1d")
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, kernel, max_pool1d, avg_pool1d)


@register_function(functional="only")
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling; ``norm_type=inf`` is max pooling of ``|x|``.

    >>> ember.nn.functional.lp_pool2d(ember.ones(1, 1, 2, 2), 2, 2)
    tensor([[[[2.]]]])
    """
    kh, kw = int_tuple(kernel_size, 2, "kernel_size", "lp_pool2d")
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
    work = opmath(x)
    for dim, plan in enumerate(plans):
        if plan is not None:
            work = plan.adjoint(work, 2 + dim) if adjoint else plan.apply(work, 2 + dim)
    return rounded_like(np.ascontiguousarray(work), x)


def _separable_ops(op_name, doc, module):
    """Register ``op_name`` (a per-axis linear map given by ``_Taps`` plans) and its adjoint, defined in
    ``module``."""

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
                                        "forward": forward, "backward": backward, "__module__": module}))
    adjoint_op = register_op(type(op_name + "_backward", (), {
        "__doc__": f"The adjoint (gradient) of {op_name}.", "name": op_name + "_backward", "kind": "opaque",
        "promote": "none", "forward": adjoint_forward, "backward": adjoint_backward, "__module__": module}))
    return op, adjoint_op


AdaptiveAvgPool, AdaptiveAvgPoolBackward = _separable_ops("adaptive_avg_pool", "Adaptive average pooling.", __name__)


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
        raise op_error(NotImplementedError, op_name, f'"{op_name}" not implemented for \'{torch_type_name(x._dtype)}\'')
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


@register_function(functional=True)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, with windows floor(i*L/out) to ceil((i+1)*L/out).

    >>> ember.adaptive_avg_pool1d(ember.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _adaptive_avg_nd("adaptive_avg_pool1d", 1, input, output_size)


@register_function(functional="only")
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W); ``None`` keeps that input size.

    >>> ember.nn.functional.adaptive_avg_pool2d(ember.ones(1, 2, 5, 7), (1, None)).shape
    ember.Size([1, 2, 1, 7])
    """
    return _adaptive_avg_nd("adaptive_avg_pool2d", 2, input, output_size)


@register_function(functional="only")
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
    return rounded_like(values, x), indices


def _adaptive_max_nd(op_name, d, input, output_size, return_indices):
    x, unbatched = _adaptive_input(op_name, input, d)
    out = _adaptive_output(op_name, output_size, x._data.shape[2:], d)
    values, indices = AdaptiveMaxPool(x, out=out)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


@register_function(functional="only")
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length.

    >>> ember.nn.functional.adaptive_max_pool1d(ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]]), 2)
    tensor([[[5., 4.]]])
    """
    return _adaptive_max_nd("adaptive_max_pool1d", 1, input, output_size, return_indices)


@register_function(functional="only")
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W); ``return_indices`` gives flat indices into each input plane.

    >>> ember.nn.functional.adaptive_max_pool2d(ember.arange(9.0).reshape(1, 1, 3, 3), 2, return_indices=True)[1]
    tensor([[[[4, 5],
              [7, 8]]]])
    """
    return _adaptive_max_nd("adaptive_max_pool2d", 2, input, output_size, return_indices)


@register_function(functional="only")
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
    kernel = int_tuple(kernel_size, d, "kernel_size", op_name)
    stride = kernel if stride is None else int_tuple(stride, d, "stride", op_name)
    padding = int_tuple(padding, d, "padding", op_name)
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


@register_function(functional="only")
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Scatter pooled values back to the positions ``max_pool1d`` took them from (zeros elsewhere).

    >>> values, indices = ember.max_pool1d(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool1d(values, indices, 2)
    tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool_nd("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


@register_function(functional="only")
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: values go back to their flat indices of each plane.

    >>> values, indices = ember.max_pool2d(ember.arange(4.0).reshape(1, 1, 2, 2), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool2d(values, indices, 2)
    tensor([[[[0., 0.],
              [0., 3.]]]])
    """
    return _max_unpool_nd("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


@register_function(functional="only")
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``.

    >>> values, indices = ember.max_pool3d(ember.ones(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> ember.nn.functional.max_unpool3d(values, indices, 2).sum()
    tensor(1.)
    """
    return _max_unpool_nd("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)

