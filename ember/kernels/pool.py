"""2-d max pooling in C (pool.c): each window scanned once, forward and backward.

``pooling``'s NumPy max pooling takes one strided pass per kernel offset for the maximum and as many again to
find which offset held it (the index backward needs), then one masked pass per offset in backward: for the
CNN benchmark's two pools that was a quarter of its training step (measured: 2x2 pools of 64x32x26x26 2.7 ->
1.0 ms, ResNet-18's 3x3/2 stem pool 3.9 -> 1.2 ms; PyTorch 7.8 and 6.4 ms with indices). These loops scan
each window once, in the order PyTorch does: the first offset holding the maximum wins a tie, a NaN wins (the last NaN of the window),
and a window that sees only ``-inf`` (padding counts as ``-inf``) reports its first element inside the input.
The forward's values are identical to the NumPy path's; the backward adds each output's gradient to its
window's maximum in output order, as PyTorch's CPU kernel does (the NumPy path, adding offset by offset,
rounds differently only where windows overlap).

Eager mode and ``ember.compile`` use them when the ``compile`` extra is installed (``EMBER_FUSED_POOL=0`` or
``EMBER_FUSED_KERNELS=0`` opt out); each function returns ``None`` when they do not apply (not float32, not
C-contiguous, not 2-d, a window of 128 or more elements), and the NumPy path runs.

>>> import numpy as np
>>> x = np.array([[[[1, 5], [3, 2]]]], np.float32)
>>> found = max_pool(x, (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), (1, 1), with_which=True)
>>> found is None or (found[0].tolist(), found[1].tolist()) == ([[[[5.0]]]], [[[[1]]]])
True
"""

from __future__ import annotations

import numpy as np

from ember import flags
from ember.kernels.loader import EagerLibrary, null_pointer, pointer

__all__ = ["max_pool", "max_pool_backward"]

_EAGER = EagerLibrary("pool", flags.FUSED_POOL)
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path
_F32 = np.dtype(np.float32)


def _fits(x, kernel, pads):
    return (x.ndim == 4 and len(kernel) == 2 and x.dtype == _F32 and x.flags.c_contiguous and x.size > 0
            and kernel[0] * kernel[1] < 128 and _EAGER.enabled())


def max_pool(x, kernel, stride, dilation, pads, out, with_which=False):
    """The (N, C, OH, OW) maxima of float32 ``x`` (and, ``with_which``, each one's kernel offset as int8, as
    ``pooling._max_pool_arrays`` gives it), or None when the kernel does not apply."""
    if not _fits(x, kernel, pads):
        return None
    n, c, h, w = x.shape
    values = np.empty((n, c) + tuple(out), _F32)
    which = np.empty((n, c) + tuple(out), np.int8) if with_which else None
    status = _STATE["lib"].ember_max_pool(pointer(x), pointer(values), pointer(which, "int8_t[]") if with_which else
                                          null_pointer(), n * c, h, w, *kernel, *stride, pads[0][0], pads[1][0],
                                          *dilation, *out)
    if status != 0:
        return None
    return (values, which) if with_which else values


def max_pool_backward(grad, which, sizes, kernel, stride, dilation, pads, out):
    """The input gradient of :func:`max_pool` (float32, (N, C, *sizes)), or None."""
    if grad.dtype != _F32 or not grad.flags.c_contiguous or not which.flags.c_contiguous or which.dtype != np.int8 \
            or not _fits(grad, kernel, pads) or len(sizes) != 2:
        return None
    n, c = grad.shape[:2]
    result = np.zeros((n, c) + tuple(sizes), _F32)
    _STATE["lib"].ember_max_pool_backward(pointer(grad), pointer(which, "int8_t[]"), pointer(result), n * c, *sizes,
                                          kernel[1], *stride, pads[0][0], pads[1][0], *dilation, *out)
    return result
