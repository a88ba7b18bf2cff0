"""im2col for 2-d convolutions in C (im2col.c): the GEMM's column matrix written in one pass, padding included.

``convolution._conv_columns`` builds the (C * kh * kw, N * OH * OW) matrix that turns a convolution into one GEMM
by copying a padded, strided NumPy view. The padded copy is one extra pass, and NumPy's strided copy pays per
run of ``OW`` elements, which are short in the deep layers (7 wide in ResNet's last stage). This loop reads the
unpadded input and writes each row of the matrix once, with zeros where a window leaves the image. It only
copies values, so the result is identical to the NumPy path.

Eager mode and ``ember.compile`` use it when the ``compile`` extra is installed (``EMBER_FUSED_CONV=0`` or
``EMBER_FUSED_KERNELS=0`` opt out); :func:`columns` returns ``None`` when it does not apply (not float32, not
C-contiguous, not 2-d), and the NumPy path runs.

>>> import numpy as np
>>> x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
>>> cols = columns(x, (2, 2), (1, 1), (1, 1), ((0, 0), (0, 0)), (2, 2))
>>> cols is None or cols.tolist()[0] == [0.0, 1.0, 3.0, 4.0]
True
"""

from __future__ import annotations

import numpy as np

from ember import flags
from ember.kernels.loader import EagerLibrary, pointer

__all__ = ["columns", "enabled"]

_F32 = np.dtype(np.float32)
_EAGER = EagerLibrary("im2col", flags.FUSED_CONV)
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path

enabled = _EAGER.enabled  # whether the kernels run here (the compile extra works, not switched off)


def columns(x, kernel, stride, dilation, pads, out):
    """The (C * kh * kw, N * OH * OW) im2col matrix of the (N, C, H, W) float32 input ``x`` (``pads`` as
    ``((top, bottom), (left, right))``), or ``None`` when the kernel does not apply."""
    if x.ndim != 4 or len(kernel) != 2 or x.dtype != _F32 or not x.flags.c_contiguous or x.size == 0 or not enabled():
        return None
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    cols = np.empty((c * kh * kw, n * oh * ow), _F32)
    _STATE["lib"].ember_im2col(pointer(x), pointer(cols), n, c, h, w, kh, kw, sh, sw, pads[0][0], pads[1][0], dh, dw,
                               oh, ow)
    return cols
