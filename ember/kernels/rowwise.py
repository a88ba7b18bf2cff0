"""Row-wise C kernels (rowwise.c): softmax and layer_norm over the last dim, forward and backward, one pass per row.

In NumPy a softmax over the last dim is five passes (max, subtract, exp, sum, scale) and float32 ``exp`` has no
SIMD path on AVX2; layer_norm forward and backward are six to ten passes each. These loops read a row, reduce
it in registers and write the result once. ``exp`` is Cephes' ``expf`` (range reduction and a degree-5
polynomial, within 2 float32 ulps; it vectorizes, unlike libm's), with ``exp(-inf) = 0`` exactly so masked
attention scores get probability 0, and NaN propagated. Sums run in float32 over eight fixed lanes (vectorized, the same order
every run), so results differ from NumPy's pairwise sums by float32 rounding only.

Eager mode uses them when the ``compile`` extra is installed (``EMBER_FUSED_ROWWISE=0`` or
``EMBER_FUSED_KERNELS=0`` opt out); each function returns ``None`` when no kernel applies (not float32, not
C-contiguous, no compiler) and the op runs its NumPy code.

>>> import numpy as np
>>> probabilities = softmax(np.array([[0.0, 0.0, -np.inf]], np.float32))
>>> probabilities is None or probabilities.tolist() == [[0.5, 0.5, 0.0]]
True
"""

from __future__ import annotations

import math

import numpy as np

from ember import flags
from ember.kernels.loader import EagerLibrary, null_pointer, pointer

__all__ = ["softmax", "softmax_backward", "scaled_masked_softmax", "scaled_masked_softmax_backward", "layer_norm",
           "layer_norm_backward", "enabled"]

_F32 = np.dtype(np.float32)
_EAGER = EagerLibrary("rowwise", flags.FUSED_ROWWISE)
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path

enabled = _EAGER.enabled  # whether the kernels run here (the compile extra works, not switched off)


def _fits(*arrays) -> bool:
    return all(a is None or (a.__class__ is np.ndarray and a.dtype == _F32 and a.flags.c_contiguous) for a in arrays)


def _rows_of(x):
    n = x.shape[-1] if x.ndim else 1
    return (x.size // n if n else 0), n


def _optional(array):
    return pointer(array) if array is not None else null_pointer()


def softmax(x):
    """Softmax over the last dim of float32 C-contiguous ``x`` as a new array, or ``None``."""
    if x.ndim == 0 or x.size == 0 or not _fits(x) or not enabled():
        return None
    out = np.empty_like(x)
    rows, n = _rows_of(x)
    _STATE["lib"].ember_softmax(pointer(x), pointer(out), rows, n)
    return out


def _mask_rows(mask, shape):
    """The mask as (rows, n) uint8 rows that repeat over ``shape``'s rows, or None when it broadcasts otherwise."""
    dims = list(mask.shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    if mask.dtype != np.bool_ or not mask.flags.c_contiguous or not dims or tuple(dims) != tuple(shape[len(shape) - len(dims):]):
        return None
    rows = mask.size // shape[-1]
    if rows == 0 or (math.prod(shape[:-1]) % rows):
        return None
    return mask.reshape(rows, shape[-1]).view(np.uint8)


def _chain_arguments(shape, scale, mask):
    """The kernels' (scaled, scale, mask pointer, mask rows) for ``scale``/``mask`` (either may be None), or None
    when the mask does not repeat over the leading dims."""
    rows_of_mask = None if mask is None else _mask_rows(mask, shape)
    if mask is not None and rows_of_mask is None:
        return None
    return (int(scale is not None), 0.0 if scale is None else scale,
            null_pointer() if mask is None else pointer(rows_of_mask, "unsigned char[]"),
            1 if mask is None else rows_of_mask.shape[0])


def scaled_masked_softmax(x, scale, mask, fill):
    """``softmax(masked_fill(x * scale, mask, fill), -1)`` in one pass (``scale``/``mask`` may be None), as a new
    array, or None (see :func:`softmax`; the mask must repeat over the leading dims, like a causal mask).

    >>> import numpy as np
    >>> y = scaled_masked_softmax(np.zeros((1, 3), np.float32), 2.0, np.array([False, False, True]), -np.inf)
    >>> y is None or y.tolist() == [[0.5, 0.5, 0.0]]
    True
    """
    if x.ndim == 0 or x.size == 0 or not _fits(x) or not enabled():
        return None
    arguments = _chain_arguments(x.shape, scale, mask)
    if arguments is None:
        return None
    out = np.empty_like(x)
    rows, n = _rows_of(x)
    _STATE["lib"].ember_scaled_masked_softmax(pointer(x), pointer(out), rows, n, *arguments,
                                              0.0 if fill is None else fill)
    return out


def scaled_masked_softmax_backward(grad, y, scale, mask):
    """The input gradient of :func:`scaled_masked_softmax` given its output ``y``, or None."""
    if y.ndim == 0 or y.size == 0 or grad.shape != y.shape or not _fits(grad, y) or not enabled():
        return None
    arguments = _chain_arguments(y.shape, scale, mask)
    if arguments is None:
        return None
    result = np.empty_like(y)
    rows, n = _rows_of(y)
    _STATE["lib"].ember_scaled_masked_softmax_backward(pointer(grad), pointer(y), pointer(result), rows, n, *arguments)
    return result


def softmax_backward(grad, out):
    """``(grad - sum(grad * out)) * out`` over the last dim (softmax's input gradient), or ``None``.

    >>> g = softmax_backward(np.ones((1, 2), np.float32), np.full((1, 2), 0.5, np.float32))
    >>> g is None or g.tolist() == [[0.0, 0.0]]
    True
    """
    if out.ndim == 0 or out.size == 0 or grad.shape != out.shape or not _fits(grad, out) or not enabled():
        return None
    result = np.empty_like(out)
    rows, n = _rows_of(out)
    _STATE["lib"].ember_softmax_backward(pointer(grad), pointer(out), pointer(result), rows, n)
    return result


def layer_norm(rows, weight, bias, eps):
    """``(out, xhat, rstd)`` of layer_norm over the rows of 2-d ``rows`` (``rstd`` shaped (M, 1)), or ``None``.

    >>> result = layer_norm(np.array([[1.0, 3.0]], np.float32), None, None, 0.0)
    >>> result is None or result[0].tolist() == [[-1.0, 1.0]]
    True
    """
    if rows.ndim != 2 or rows.size == 0 or not _fits(rows, weight, bias) or not enabled():
        return None
    m, n = rows.shape
    if (weight is not None and weight.size != n) or (bias is not None and bias.size != n):
        return None
    xhat, out = np.empty_like(rows), np.empty_like(rows)
    rstd = np.empty((m, 1), np.float32)
    _STATE["lib"].ember_layer_norm(pointer(rows), _optional(weight), _optional(bias), pointer(xhat), pointer(rstd),
                                   pointer(out), m, n, eps)
    return out, xhat, rstd


def layer_norm_backward(g, xhat, rstd, weight, need_x, need_w, need_b):
    """``(grad_x, grad_w, grad_b)`` of ``xhat * weight + bias`` (each None when not needed), or ``None``."""
    if g.ndim != 2 or g.size == 0 or g.shape != xhat.shape or not _fits(g, xhat, rstd, weight) or not enabled():
        return None
    m, n = g.shape
    if weight is not None and weight.size != n:
        return None
    dx = np.empty_like(g) if need_x else None
    dw = np.zeros(n, np.float32) if need_w else None
    db = np.zeros(n, np.float32) if need_b else None
    _STATE["lib"].ember_layer_norm_backward(pointer(g), pointer(xhat), pointer(rstd), _optional(weight),
                                            _optional(dx), _optional(dw), _optional(db), m, n)
    return dx, dw, db
