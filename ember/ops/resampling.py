"""Resampling ops (``torch.nn.functional`` semantics): ``interpolate`` and the ``upsample`` forms, sampling at
arbitrary locations (``grid_sample``, with ``affine_grid`` to build the grid), and the channel
rearrangements ``pixel_shuffle``/``pixel_unshuffle``/``channel_shuffle``.

Interpolation is a separable per-axis linear map of nearest/linear/cubic taps (the pooling family's
``_Taps``; ``mode="area"`` is adaptive average pooling); grid sampling gathers the 1 or 4 corners of each
sample with vectorized takes, never a loop over output pixels.

>>> import ember
>>> import ember.nn.functional as F
>>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="nearest")
tensor([[[1., 1., 2., 2.]]])
>>> F.pixel_shuffle(ember.arange(4.0).reshape(1, 4, 1, 1), 2).shape
ember.Size([1, 1, 2, 2])
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ember import dtypes as _dt
from ember.dtypes import opmath, rounded_like, torch_type_name
from ember.errors import op_error
from ember.ops.pooling import _adaptive_avg_nd, _separable_ops, _Taps
from ember.ops.registry import register_function, register_op
from ember.tensor import Tensor


# ------------------------------------------------------------------------------------ interpolation
Interpolate, InterpolateBackward = _separable_ops("interpolate", "Resampling by nearest/linear/cubic taps.", __name__)
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


@register_function(functional="only")
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
                       f"'{torch_type_name(input._dtype)}'")
    dtype = np.float64 if input._dtype is _dt.float64 else np.float32
    if mode in ("nearest", "nearest-exact"):
        plans = tuple(_nearest_plan(s, o, f, mode == "nearest-exact") for s, o, f in zip(spatial, out, scales))
    elif mode == "bicubic":
        plans = tuple(_cubic_plan(s, o, f, align_corners, dtype) for s, o, f in zip(spatial, out, scales))
    else:
        plans = tuple(_linear_plan(s, o, f, align_corners, dtype) for s, o, f in zip(spatial, out, scales))
    return Interpolate(input, plans=plans)


@register_function(functional="only")
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`.

    >>> ember.nn.functional.upsample(ember.ones(1, 1, 2), scale_factor=2).shape
    ember.Size([1, 1, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


@register_function(functional="only")
def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``.

    >>> ember.nn.functional.upsample_nearest(ember.ones(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


@register_function(functional="only")
def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``.

    >>> ember.nn.functional.upsample_bilinear(ember.tensor([[[[0.0, 1.0]]]]), size=(1, 3))
    tensor([[[[0.0000, 0.5000, 1.0000]]]])
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------------------ channel rearrangement
@register_function(functional=True)
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


@register_function(functional=True)
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


@register_function(functional=True)
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
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, Ho, Wo, 2) locations in [-1, 1] (x first, then y).

    ``mode`` is ``bilinear`` or ``nearest``; ``padding_mode`` is ``zeros``, ``border`` or ``reflection``.

    >>> x = ember.arange(4.0).reshape(1, 1, 2, 2)
    >>> ember.nn.functional.grid_sample(x, ember.zeros(1, 1, 1, 2), align_corners=False)
    tensor([[[[1.5000]]]])
    """

    name = "grid_sample"
    kind = "index"
    promote = "none"
    save = ("inputs",)
    functional = "only"
    out = False

    def function(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
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
            raise op_error(RuntimeError, op_name, f"expected scalar type {torch_type_name(input._dtype)} but found "
                           f"{torch_type_name(grid._dtype)} (input and grid must have the same dtype)")
        if input._dtype.category < 2:
            raise op_error(RuntimeError, op_name, f"grid_sampler(): expected input to have floating point type, got "
                           f"{input._dtype.name}")
        if any(s == 0 for s in x_shape[2:]):
            raise op_error(RuntimeError, op_name, f"grid_sampler(): expected input to have non-empty spatial dimensions, "
                           f"but input has sizes {x_shape}")
        return GridSample(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))

    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        ctx.attrs = (mode, padding_mode, align_corners)
        work, where = opmath(x), opmath(grid)
        n, c = x.shape[:2]
        planes = work.reshape(n, c, -1)
        out = np.zeros((n, c, grid.shape[1] * grid.shape[2]), dtype=work.dtype)
        for flat, weight, _, _ in _grid_corners(x.shape, where, mode, padding_mode, align_corners):
            out += np.take_along_axis(planes, flat, axis=2) * weight
        return rounded_like(out.reshape((n, c) + grid.shape[1:3]), x)

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
        work, where, g = opmath(x), opmath(grid), opmath(grad)
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
        return (None if grad_x is None else rounded_like(grad_x.astype(work.dtype).reshape(x.shape), x),
                None if grad_grid is None else rounded_like(grad_grid, grid))

    def backward(ctx, grad_x, grad_grid):
        raise op_error(NotImplementedError, "grid_sample", "double backward of grid_sample is not supported by ember")


@register_op
class AffineGrid:
    """A (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid for ``grid_sample`` from affine matrices ``theta``.

    The grid is ``base (P, k + 1) @ theta (N, k, k + 1)`` transposed, ``base`` holding the normalized
    coordinates (and a 1) of the P output points.

    >>> grid = ember.nn.functional.affine_grid(ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 1, 2),
    ...                                        align_corners=True)
    >>> grid
    tensor([[[[-1.,  0.],
              [ 1.,  0.]]]])
    """

    name = "affine_grid"
    kind = "matmul"
    promote = "none"
    functional = "only"
    out = False

    def function(theta, size, align_corners=None):
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

    def forward(ctx, theta, base, spatial):
        ctx.base, ctx.spatial = base, spatial
        work = opmath(theta)
        grid = np.matmul(base.astype(work.dtype), work.transpose(0, 2, 1))
        return rounded_like(grid.reshape((theta.shape[0],) + spatial + (theta.shape[1],)), theta)

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
        work = opmath(grad)
        n, k = grad.shape[0], grad.shape[-1]
        theta = np.matmul(work.reshape(n, -1, k).transpose(0, 2, 1), base.astype(work.dtype))
        return rounded_like(theta, grad)

    def backward(ctx, grad_grad):
        return AffineGrid(grad_grad, base=ctx.base, spatial=ctx.spatial)


def _linspace_from_neg_one(steps, align_corners):
    if steps <= 1:
        return np.zeros(1)
    points = np.linspace(-1.0, 1.0, steps)
    return points if align_corners else points * (steps - 1) / steps


