/* tanh-GELU forward and backward: one loop each instead of six to ten NumPy passes. Called from
   ember/kernels/pointwise.py. Each statement mirrors one NumPy pass of _gelu_saving / _gelu_derivative_np in
   ember/ops/activation.py (then `out *= grad`), in the same order. */
#include "ember_kernels.h"
#include "pointwise.h"

/* activation.py's constants as NumPy rounds them to float32 when it multiplies a float32 array by them:
   kappa, sqrt(2 / pi), 1.5 * kappa * sqrt(2 / pi) and 0.5 * sqrt(2 / pi) (tests/kernels/test_pointwise.py
   checks them against the Python values). */
#define EMBER_GELU_KAPPA 0.044714998453855515f
#define EMBER_GELU_SQRT_2_OVER_PI 0.7978845834732056f
#define EMBER_GELU_D_CUBIC 0.05351611226797104f
#define EMBER_GELU_D_LINEAR 0.3989422917366028f

static inline float ember_gelu_t(float xi) {
    float inner = xi * xi;
    inner = inner * EMBER_GELU_KAPPA;
    inner = inner + 1.0f;
    inner = inner * xi;
    inner = inner * EMBER_GELU_SQRT_2_OVER_PI;
    return ember_tanhf(inner);
}

static inline float ember_gelu_from_t(float xi, float ti) {
    float v = ti + 1.0f;
    v = v * xi;
    return v * 0.5f;
}

static inline float ember_gelu_slope(float xi, float ti) {
    float d = xi * xi;
    d = d * EMBER_GELU_D_CUBIC;
    d = d + EMBER_GELU_D_LINEAR;
    d = d * xi;
    float t_sq = ti * ti;
    t_sq = t_sq * d;
    d = d - t_sq;
    float half_t = ti * 0.5f;
    d = d + half_t;
    d = d + 0.5f;
    return d;
}

void ember_gelu_tanh(const float* restrict x, float* restrict out, float* restrict t, long n) {
    for (long i = 0; i < n; i++) {
        float ti = ember_gelu_t(x[i]);
        t[i] = ti;
        out[i] = ember_gelu_from_t(x[i], ti);
    }
}

/* The value alone: the compiled step saves only x and recomputes the tanh term in backward. */
void ember_gelu_tanh_value(const float* restrict x, float* restrict out, long n) {
    for (long i = 0; i < n; i++) out[i] = ember_gelu_from_t(x[i], ember_gelu_t(x[i]));
}

void ember_gelu_tanh_backward(const float* restrict grad, const float* restrict x, const float* restrict t,
                              float* restrict out, long n) {
    for (long i = 0; i < n; i++) out[i] = ember_gelu_slope(x[i], t[i]) * grad[i];
}

void ember_gelu_tanh_backward_recompute(const float* restrict grad, const float* restrict x, float* restrict out,
                                        long n) {
    for (long i = 0; i < n; i++) out[i] = ember_gelu_slope(x[i], ember_gelu_t(x[i])) * grad[i];
}

void ember_gelu_tanh_slope(const float* restrict x, float* restrict out, long n) {
    for (long i = 0; i < n; i++) out[i] = ember_gelu_slope(x[i], ember_gelu_t(x[i]));
}

/* expm1 of float32 through libm's expm1f: one function whatever the CPU, where NumPy's float32 expm1 takes
   another code path (and other last bits) on AVX-512 machines. Not vectorized: without -ffast-math GCC calls
   the scalar libm function, which is the point. */
void ember_expm1f(const float* restrict x, float* restrict out, long n) {
    for (long i = 0; i < n; i++) out[i] = expm1f(x[i]);
}
