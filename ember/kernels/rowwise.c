/* Row-wise kernels: softmax and layer_norm over the last dim, forward and backward, one pass per row.
   Called from ember/kernels/rowwise.py, which explains when they run and how their results compare to NumPy's. */
#include "ember_kernels.h"
#include "rowwise.h"

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
