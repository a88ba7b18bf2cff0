"""Row-wise C kernels: softmax and layer_norm over the last dim, forward and backward, one pass per row.

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

from ember.compiler.kernels import EagerKernels, null_pointer, pointer

__all__ = ["softmax", "softmax_backward", "scaled_masked_softmax", "scaled_masked_softmax_backward", "layer_norm",
           "layer_norm_backward", "enabled"]

_DECLARATIONS = """
void ember_softmax(const float* x, float* out, long rows, long n);
void ember_softmax_backward(const float* grad, const float* out, float* result, long rows, long n);
void ember_scaled_masked_softmax(const float* x, float* out, long rows, long n, int scaled, float scale,
                                 const unsigned char* mask, long mask_rows, float fill);
void ember_scaled_masked_softmax_backward(const float* grad, const float* y, float* result, long rows, long n,
                                          int scaled, float scale, const unsigned char* mask, long mask_rows);
void ember_layer_norm(const float* x, const float* w, const float* b, float* xhat, float* rstd, float* out,
                      long rows, long n, float eps);
void ember_layer_norm_backward(const float* g, const float* xhat, const float* rstd, const float* w, float* dx,
                               float* dw, float* db, long rows, long n);
"""

_SOURCE = """
/* Cephes expf: exp(x) = 2^k * e^r, |r| <= ln2/2, e^r by a degree-5 polynomial. */
static inline float ember_expf(float x) {
    float v = x > 88.3762626647949f ? 88.3762626647949f : x;
    v = v < -88.3762626647949f ? -88.3762626647949f : v;
    float k = floorf(v * 1.44269504088896341f + 0.5f);
    float r = v - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r;
    p = p + 1.0f;
    int bits = ((int)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = x < -87.3365478515625f ? 0.0f : y;       /* below FLT_MIN: 0 (and exp(-inf) = 0) */
    y = x > 88.72283935546875f ? INFINITY : y;
    return x != x ? x : y;
}

/* Row reductions in 8 independent lanes (vectorizable without reassociating: the same order on every run). */
#define EMBER_LANES 8
static inline float ember_lanes_sum(const float* acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static inline float ember_sum(const float* restrict x, long n) {
    float acc[EMBER_LANES] = {0};
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) acc[l] += x[j + l];
    for (; j < n; j++) acc[0] += x[j];
    return ember_lanes_sum(acc);
}

static inline float ember_dot(const float* restrict a, const float* restrict b, long n) {
    float acc[EMBER_LANES] = {0};
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) acc[l] += a[j + l] * b[j + l];
    for (; j < n; j++) acc[0] += a[j] * b[j];
    return ember_lanes_sum(acc);
}

/* Softmax's input gradient for one row: (g - sum(g * y)) * y. */
static inline void ember_softmax_backward_row(const float* restrict g, const float* restrict y, float* restrict r,
                                              long n) {
    float dot = ember_dot(g, y, n);
    for (long k = 0; k < n; k++) r[k] = (g[k] - dot) * y[k];
}

static float ember_row_max(const float* restrict x, long n) {
    float acc[EMBER_LANES];
    for (int l = 0; l < EMBER_LANES; l++) acc[l] = -INFINITY;
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    for (; j < n; j++) acc[0] = x[j] > acc[0] ? x[j] : acc[0];
    float m = acc[0];
    for (int l = 1; l < EMBER_LANES; l++) m = acc[l] > m ? acc[l] : m;
    return m;
}

/* Softmax of one row; src may be dst (no restrict: the compiler checks the overlap once per loop). */
static void ember_softmax_row(const float* src, float* dst, long n) {
    /* The max skips NaN; a NaN still reaches the sum, so the whole row becomes NaN, as in NumPy and torch. */
    float m = ember_row_max(src, n);
    if (m == -INFINITY) {  /* an all -inf row is NaN (-inf - -inf) */
        for (long j = 0; j < n; j++) dst[j] = NAN;
        return;
    }
    float acc[EMBER_LANES] = {0};
    long j = 0;
    for (; j + EMBER_LANES <= n; j += EMBER_LANES)
        for (int l = 0; l < EMBER_LANES; l++) {
            float e = ember_expf(src[j + l] - m);
            dst[j + l] = e;
            acc[l] += e;
        }
    for (; j < n; j++) { float e = ember_expf(src[j] - m); dst[j] = e; acc[0] += e; }
    float inv = 1.0f / ember_lanes_sum(acc);
    for (long k = 0; k < n; k++) dst[k] = dst[k] * inv;
}

/* softmax(masked_fill(x * scale, mask, fill)) over rows; mask (or NULL) has mask_rows rows, repeated. */
void ember_scaled_masked_softmax(const float* restrict x, float* restrict out, long rows, long n, int scaled,
                                 float scale, const unsigned char* restrict mask, long mask_rows, float fill) {
    for (long i = 0; i < rows; i++) {
        const float* restrict xr = x + i * n;
        float* restrict orow = out + i * n;
        if (scaled) for (long j = 0; j < n; j++) orow[j] = xr[j] * scale;
        else memcpy(orow, xr, n * sizeof(float));
        if (mask) {
            const unsigned char* restrict mr = mask + (i % mask_rows) * n;
            for (long j = 0; j < n; j++) orow[j] = mr[j] ? fill : orow[j];
        }
        ember_softmax_row(orow, orow, n);
    }
}

/* Its backward: ((grad - sum(grad * y)) * y, 0 where masked) * scale, the unfused ops' order. */
void ember_scaled_masked_softmax_backward(const float* restrict grad, const float* restrict y, float* restrict result,
                                          long rows, long n, int scaled, float scale,
                                          const unsigned char* restrict mask, long mask_rows) {
    for (long i = 0; i < rows; i++) {
        float* restrict r = result + i * n;
        ember_softmax_backward_row(grad + i * n, y + i * n, r, n);
        if (mask) {
            const unsigned char* restrict mr = mask + (i % mask_rows) * n;
            for (long k = 0; k < n; k++) r[k] = mr[k] ? 0.0f : r[k];
        }
        if (scaled) for (long k = 0; k < n; k++) r[k] = r[k] * scale;
    }
}

void ember_softmax(const float* restrict x, float* restrict out, long rows, long n) {
    for (long i = 0; i < rows; i++) ember_softmax_row(x + i * n, out + i * n, n);
}

void ember_softmax_backward(const float* restrict grad, const float* restrict out, float* restrict result,
                            long rows, long n) {
    for (long i = 0; i < rows; i++) ember_softmax_backward_row(grad + i * n, out + i * n, result + i * n, n);
}

void ember_layer_norm(const float* restrict x, const float* restrict w, const float* restrict b,
                      float* restrict xhat, float* restrict rstd, float* restrict out, long rows, long n, float eps) {
    float inv_n = 1.0f / (float)n;
    for (long i = 0; i < rows; i++) {
        const float* restrict xr = x + i * n;
        float* restrict hr = xhat + i * n;
        float* restrict orow = out + i * n;
        float mean = ember_sum(xr, n) * inv_n;
        float acc[EMBER_LANES] = {0};
        long j = 0;
        for (; j + EMBER_LANES <= n; j += EMBER_LANES)
            for (int l = 0; l < EMBER_LANES; l++) { float d = xr[j + l] - mean; hr[j + l] = d; acc[l] += d * d; }
        for (; j < n; j++) { float d = xr[j] - mean; hr[j] = d; acc[0] += d * d; }
        float r = 1.0f / sqrtf(ember_lanes_sum(acc) * inv_n + eps);
        rstd[i] = r;
        if (w && b) for (long k = 0; k < n; k++) { float h = hr[k] * r; hr[k] = h; orow[k] = h * w[k] + b[k]; }
        else if (w) for (long k = 0; k < n; k++) { float h = hr[k] * r; hr[k] = h; orow[k] = h * w[k]; }
        else if (b) for (long k = 0; k < n; k++) { float h = hr[k] * r; hr[k] = h; orow[k] = h + b[k]; }
        else for (long k = 0; k < n; k++) { float h = hr[k] * r; hr[k] = h; orow[k] = h; }
    }
}

void ember_layer_norm_backward(const float* restrict g, const float* restrict xhat, const float* restrict rstd,
                               const float* restrict w, float* restrict dx, float* restrict dw, float* restrict db,
                               long rows, long n) {
    float inv_n = 1.0f / (float)n;
    for (long i = 0; i < rows; i++) {
        const float* restrict gr = g + i * n;
        const float* restrict hr = xhat + i * n;
        if (dw) for (long j = 0; j < n; j++) dw[j] += gr[j] * hr[j];
        if (db) for (long j = 0; j < n; j++) db[j] += gr[j];
        if (!dx) continue;
        float* restrict dr = dx + i * n;
        if (w) for (long j = 0; j < n; j++) dr[j] = gr[j] * w[j];
        else for (long j = 0; j < n; j++) dr[j] = gr[j];
        float mean = ember_sum(dr, n) * inv_n;
        float projection = ember_dot(dr, hr, n) * inv_n;
        float r = rstd[i];
        for (long k = 0; k < n; k++) dr[k] = (dr[k] - mean - hr[k] * projection) * r;
    }
}
"""

_F32 = np.dtype(np.float32)
_EAGER = EagerKernels("#include <string.h>\n" + _SOURCE, _DECLARATIONS, "EMBER_FUSED_ROWWISE")
_STATE = _EAGER.state  # tests set _STATE["lib"] = None to run the NumPy path


def enabled() -> bool:
    """Whether the kernels run here (the ``compile`` extra works, not opted out).

    >>> isinstance(enabled(), bool)
    True
    """
    return _EAGER.library() is not None


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
