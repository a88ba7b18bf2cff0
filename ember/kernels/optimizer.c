/* Fused optimizer updates: one pass per parameter for SGD (momentum, Nesterov, weight decay), Adam and AdamW.
   Called from ember/kernels/optimizer.py. Each line mirrors the NumPy sequence in ember/optim (sgd.py, adam.py,
   optimizer.py's _lerp_ and _mul_addcmul_), so the results equal the NumPy update's bit for bit. */
#include "ember_kernels.h"
#include "optimizer.h"

void ember_sgd(float* p, const float* g, float* buf, long n, float lr, float momentum, float damp, int use_damp,
               float wd, int nesterov, int threads) {
    EMBER_PARALLEL_FOR
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        if (wd != 0.0f) { float w = p[i] * wd; gi = w + gi; }
        float b = buf[i] * momentum;
        if (use_damp) { float d = gi * damp; b = b + d; } else { b = b + gi; }
        buf[i] = b;
        float dir = b;
        if (nesterov) { float t = b * momentum; dir = t + gi; }
        float step = dir * lr;
        p[i] = p[i] - step;
    }
}

void ember_sgd_plain(float* p, const float* g, long n, float lr, float wd, int threads) {
    EMBER_PARALLEL_FOR
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        if (wd != 0.0f) { float w = p[i] * wd; gi = w + gi; }
        float step = gi * lr;
        p[i] = p[i] - step;
    }
}

void ember_adam(float* p, const float* g, float* m, float* v, long n, float decay, int decoupled, float wd,
                int coupled, float w1, int lerp_small, float one_minus_w1, float beta2, float one_minus_beta2,
                float bc2, float eps, float neg_step, int threads) {
    EMBER_PARALLEL_FOR
    for (long i = 0; i < n; i++) {
        float pi = p[i];
        if (decoupled) pi = pi * decay;
        float gi = g[i];
        if (coupled) { float w = pi * wd; gi = w + gi; }
        float mi = m[i];
        float diff = gi - mi;
        if (lerp_small) { float t = diff * w1; mi = mi + t; } else { float t = diff * one_minus_w1; mi = gi - t; }
        m[i] = mi;
        float vi = v[i] * beta2;
        float t2 = gi * one_minus_beta2;
        t2 = t2 * gi;
        vi = vi + t2;
        v[i] = vi;
        float denom = sqrtf(vi);
        denom = denom / bc2;
        denom = denom + eps;
        float upd = mi * neg_step;
        upd = upd / denom;
        p[i] = pi + upd;
    }
}
