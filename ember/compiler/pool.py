"""2-d max pooling in C: each window scanned once, forward and backward.

``nn_conv``'s NumPy max pooling takes one strided pass per kernel offset for the maximum and as many again to
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

from ember.compiler.kernels import EagerKernels, null_pointer, pointer

__all__ = ["max_pool", "max_pool_backward"]

_DECLARATIONS = """
int ember_max_pool(const float* x, float* out, int8_t* which, long planes, long h, long w, long kh, long kw,
                   long sh, long sw, long ph, long pw, long dh, long dw, long oh, long ow);
void ember_max_pool_backward(const float* grad, const int8_t* which, float* out, long planes, long h, long w,
                             long kw, long sh, long sw, long ph, long pw, long dh, long dw, long oh, long ow);
"""

_SOURCE = """
#include <stdlib.h>

/* 0, or -1 when the row buffers cannot be allocated (the caller then takes the NumPy path) */
int ember_max_pool(const float* restrict x, float* restrict out, int8_t* restrict which, long planes, long h,
                   long w, long kh, long kw, long sh, long sw, long ph, long pw, long dh, long dw, long oh,
                   long ow) {
    /* One output row at a time, kernel offset by offset in row-major order, the output columns innermost (a
       loop the compiler vectorizes). For offset column j the outputs whose input column is inside the image
       are [lo[j], hi[j]). */
    long lo[kw], hi[kw];
    for (long j = 0; j < kw; j++) {
        long shift = j * dw - pw;  /* input column = ox * sw + shift */
        lo[j] = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
        hi[j] = w - shift > 0 ? (w - shift + sw - 1) / sw : 0;
        if (hi[j] > ow) hi[j] = ow;
        if (lo[j] > hi[j]) lo[j] = hi[j];
    }
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && ph == 0 && pw == 0
            && 2 * oh <= h && 2 * ow <= w) {  /* the common 2x2 pool: four loads, three selects per output */
        int* won = malloc(ow * sizeof(int));
        if (!won) return -1;
        for (long p = 0; p < planes; p++)
            for (long oy = 0; oy < oh; oy++) {
                const float* restrict r0 = x + (p * h + 2 * oy) * w;
                const float* restrict r1 = r0 + w;
                float* restrict orow = out + (p * oh + oy) * ow;
                int8_t* restrict wrow = which ? which + (p * oh + oy) * ow : 0;
                int nan = 0;
                for (long ox = 0; ox < ow; ox++) {
                    float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                    nan |= (a != a) | (b != b) | (c != c) | (d != d);
                    float best = a;
                    int at = 0;
                    at = b > best ? 1 : at; best = b > best ? b : best;
                    at = c > best ? 2 : at; best = c > best ? c : best;
                    at = d > best ? 3 : at; best = d > best ? d : best;
                    orow[ox] = best;
                    won[ox] = at;  /* an int row, narrowed below: a char store here keeps the loop scalar */
                }
                if (wrow)
                    for (long ox = 0; ox < ow; ox++) wrow[ox] = (int8_t)won[ox];
                if (nan)  /* PyTorch: a NaN wins, the window's last one */
                    for (long ox = 0; ox < ow; ox++) {
                        float v[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};
                        for (int k = 0; k < 4; k++)
                            if (v[k] != v[k]) { orow[ox] = v[k]; if (wrow) wrow[ox] = (int8_t)k; }
                    }
            }
        free(won);
        return 0;
    }
    float* best = malloc(ow * sizeof(float));
    int* at = malloc(ow * sizeof(int));
    if (!best || !at) { free(best); free(at); return -1; }
    for (long p = 0; p < planes; p++) {
        const float* restrict plane = x + p * h * w;
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) { best[ox] = -INFINITY; at[ox] = -1; }
            int nan = 0;
            for (long i = 0; i < kh; i++) {
                long iy = oy * sh - ph + i * dh;
                if (iy < 0 || iy >= h) continue;
                const float* restrict row = plane + iy * w;
                for (long j = 0; j < kw; j++) {
                    long shift = j * dw - pw;
                    int offset = (int)(i * kw + j);
                    for (long ox = lo[j]; ox < hi[j]; ox++) {
                        float v = row[ox * sw + shift];
                        nan |= v != v;
                        /* a strictly larger value takes over (a tie keeps the first offset); the first
                           element inside the input starts the window, whatever it holds */
                        int take = (v > best[ox]) | (at[ox] < 0);
                        best[ox] = take ? v : best[ox];
                        at[ox] = take ? offset : at[ox];
                    }
                }
            }
            if (nan)  /* PyTorch: a NaN wins, the window's last one (rare: a second, scalar pass) */
                for (long i = 0; i < kh; i++) {
                    long iy = oy * sh - ph + i * dh;
                    if (iy < 0 || iy >= h) continue;
                    for (long j = 0; j < kw; j++)
                        for (long ox = lo[j]; ox < hi[j]; ox++) {
                            float v = plane[iy * w + ox * sw + j * dw - pw];
                            if (v != v) { best[ox] = v; at[ox] = (int)(i * kw + j); }
                        }
                }
            float* restrict orow = out + (p * oh + oy) * ow;
            for (long ox = 0; ox < ow; ox++) orow[ox] = best[ox];  /* a window with nothing inside: -inf */
            if (which) {
                int8_t* restrict wrow = which + (p * oh + oy) * ow;
                for (long ox = 0; ox < ow; ox++) wrow[ox] = (int8_t)(at[ox] < 0 ? 0 : at[ox]);
            }
        }
    }
    free(best);
    free(at);
    return 0;
}

void ember_max_pool_backward(const float* restrict grad, const int8_t* restrict which, float* restrict out,
                             long planes, long h, long w, long kw, long sh, long sw, long ph, long pw, long dh,
                             long dw, long oh, long ow) {
    for (long p = 0; p < planes; p++) {
        float* restrict plane = out + p * h * w;
        for (long oy = 0; oy < oh; oy++)
            for (long ox = 0; ox < ow; ox++) {
                long o = (p * oh + oy) * ow + ox;
                long i = which[o] / kw, j = which[o] % kw;
                long iy = oy * sh - ph + i * dh, ix = ox * sw - pw + j * dw;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) plane[iy * w + ix] += grad[o];
            }
    }
}
"""

_EAGER = EagerKernels(_SOURCE, _DECLARATIONS, "EMBER_FUSED_POOL")
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path
_F32 = np.dtype(np.float32)


def _fits(x, kernel, pads):
    return (x.ndim == 4 and len(kernel) == 2 and x.dtype == _F32 and x.flags.c_contiguous and x.size > 0
            and kernel[0] * kernel[1] < 128 and _EAGER.library() is not None)


def max_pool(x, kernel, stride, dilation, pads, out, with_which=False):
    """The (N, C, OH, OW) maxima of float32 ``x`` (and, ``with_which``, each one's kernel offset as int8, as
    ``nn_conv._max_pool_arrays`` gives it), or None when the kernel does not apply."""
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
